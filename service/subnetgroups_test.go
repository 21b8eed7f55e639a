package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/network"
)

// The rules of cache subnet groups; what every kind shares is
// TestKindConformance's.

// networkFixture declares, for account 111111111111 in us-east-1, a VPC
// with an IPv4 subnet in us-east-1a and a dual-stack one in us-east-1b,
// and a second VPC; account 333333333333 refuses undeclared subnets.
func networkFixture(tb testing.TB) *fixture {
	tb.Helper()
	m, err := network.New(network.Config{
		Networks: []network.Network{{Account: "111111111111", Region: "us-east-1", VPCs: []network.VPC{
			{ID: "vpc-0a0a0a0a", Subnets: []network.DeclaredSubnet{
				{ID: "subnet-0a000001", AvailabilityZone: "us-east-1a", IPv4: true},
				{ID: "subnet-0a000002", AvailabilityZone: "us-east-1b", IPv4: true, IPv6: true},
			}},
			{ID: "vpc-0b0b0b0b", Subnets: []network.DeclaredSubnet{
				{ID: "subnet-0b000001", AvailabilityZone: "us-east-1c", IPv4: true},
			}},
		}}},
		Strict: map[string]bool{"333333333333": true},
	})
	mustOK(tb, err)
	return newFixture(tb, Config{Network: m})
}

func createSubnetGroup(f *fixture, ctx context.Context, name string, ids ...string) (*api.CacheSubnetGroup, error) {
	out, err := f.svc.CreateCacheSubnetGroup(ctx, &api.CreateCacheSubnetGroupInput{
		CacheSubnetGroupName: s(name), CacheSubnetGroupDescription: s("group " + name), SubnetIds: ids,
	})
	if err != nil {
		return nil, err
	}
	return out.CacheSubnetGroup, nil
}

func subnetIDs(g *api.CacheSubnetGroup) []string {
	var ids []string
	for _, sn := range g.Subnets {
		ids = append(ids, *sn.SubnetIdentifier)
	}
	return ids
}

func TestCreateSubnetGroupShape(t *testing.T) {
	t.Parallel()
	f := networkFixture(t)
	g, err := createSubnetGroup(f, ctxA, "Web", "subnet-0a000002", "subnet-0a000001", "subnet-0a000002")
	mustOK(t, err)
	if *g.CacheSubnetGroupName != "web" || *g.CacheSubnetGroupDescription != "group Web" || *g.VpcId != "vpc-0a0a0a0a" ||
		*g.ARN != "arn:aws:elasticache:us-east-1:111111111111:subnetgroup:web" {
		t.Fatalf("group = %+v", g)
	}
	// Each subnet once, in id order, with its zone and network types; the
	// group supports what every subnet supports.
	if ids := subnetIDs(g); !slices.Equal(ids, []string{"subnet-0a000001", "subnet-0a000002"}) {
		t.Fatalf("subnets = %v", ids)
	}
	if az := *g.Subnets[1].SubnetAvailabilityZone.Name; az != "us-east-1b" {
		t.Fatalf("zone of the second subnet = %s", az)
	}
	if nt := g.Subnets[1].SupportedNetworkTypes; !slices.Equal(nt, []string{"ipv4", "dual_stack"}) {
		t.Fatalf("network types of the dual-stack subnet = %v", nt)
	}
	if !slices.Equal(g.SupportedNetworkTypes, []string{"ipv4"}) {
		t.Fatalf("group network types = %v, want [ipv4]", g.SupportedNetworkTypes)
	}
}

func TestSubnetGroupSubnetRules(t *testing.T) {
	t.Parallel()
	f := networkFixture(t)
	_, err := createSubnetGroup(f, ctxA, "mixed", "subnet-0a000001", "subnet-0b000001")
	wantFault(t, err, "InvalidSubnet", 400, "Subnets subnet-0a000001 and subnet-0b000001 are not in the same VPC.")
	// An undeclared subnet is placed in the default VPC: not the declared one's.
	_, err = createSubnetGroup(f, ctxA, "mixed", "subnet-0a000001", "subnet-0fffffff")
	wantFault(t, err, "InvalidSubnet", 400, "")
	_, err = createSubnetGroup(f, ctxA, "none")
	wantFault(t, err, "InvalidParameterValue", 400, "The parameter SubnetIds must be provided.")
	_, err = createSubnetGroup(f, ctxA, "bad", "subnet-0a000001", "sn-1")
	wantFault(t, err, "InvalidParameterValue", 400, "Some input subnets in :[subnet-0a000001, sn-1] are invalid.")
	var many []string
	for i := range 21 {
		many = append(many, fmt.Sprintf("subnet-%08x", i+1))
	}
	_, err = createSubnetGroup(f, ctxA, "many", many...)
	wantFault(t, err, "CacheSubnetQuotaExceededFault", 400, "")
	g, err := createSubnetGroup(f, ctxA, "twenty", many[:20]...)
	mustOK(t, err)
	if len(g.Subnets) != 20 || *g.VpcId != network.DefaultVPC("111111111111", "us-east-1") {
		t.Fatalf("twenty undeclared subnets: %d in %s", len(g.Subnets), *g.VpcId)
	}

	// A strict account: only declared subnets and its default ones.
	strict := as("333333333333", "us-east-1")
	_, err = createSubnetGroup(f, strict, "g", "subnet-0fffffff")
	wantFault(t, err, "InvalidParameterValue", 400, "Some input subnets in :[subnet-0fffffff] are invalid.")
	def := network.DefaultSubnets("333333333333", "us-east-1")
	_, err = createSubnetGroup(f, strict, "g", def[0].ID, def[1].ID)
	mustOK(t, err)
	// Another account cannot use subnets declared for this one.
	_, err = createSubnetGroup(f, as("333333333333", "us-east-1"), "h", "subnet-0a000001")
	wantFault(t, err, "InvalidParameterValue", 400, "")
}

func TestSubnetGroupNamesAndDefault(t *testing.T) {
	t.Parallel()
	f := networkFixture(t)
	for _, bad := range []string{"under_score", strings.Repeat("a", 256), ""} {
		_, err := createSubnetGroup(f, ctxA, bad, "subnet-0a000001")
		wantFault(t, err, "InvalidParameterValue", 400, "")
	}
	_, err := f.svc.CreateCacheSubnetGroup(ctxA, &api.CreateCacheSubnetGroupInput{CacheSubnetGroupName: s("g"), SubnetIds: []string{"subnet-0a000001"}})
	wantFault(t, err, "InvalidParameterValue", 400, "CacheSubnetGroupDescription is required")
	_, err = createSubnetGroup(f, ctxA, "Default", "subnet-0a000001")
	wantFault(t, err, "InvalidParameterValue", 400, "Invalid value for parameter CacheSubnetGroupName: the name default is reserved for the default cache subnet group.")

	// `default` exists everywhere: the default VPC and a subnet per zone.
	out, err := f.svc.DescribeCacheSubnetGroups(ctxA, &api.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: s("default")})
	mustOK(t, err)
	g := out.CacheSubnetGroups[0]
	if *g.VpcId != network.DefaultVPC("111111111111", "us-east-1") || len(g.Subnets) != len(network.AvailabilityZones("us-east-1")) {
		t.Fatalf("default group = %+v", g)
	}
	_, err = f.svc.ModifyCacheSubnetGroup(ctxA, &api.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: s("default"), CacheSubnetGroupDescription: s("x")})
	wantFault(t, err, "InvalidParameterValue", 400, "The default cache subnet group cannot be modified.")
	_, err = f.svc.DeleteCacheSubnetGroup(ctxA, &api.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: s("default")})
	wantFault(t, err, "InvalidParameterValue", 400, "The default cache subnet group cannot be deleted.")
	_, err = f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{
		ResourceName: s("arn:aws:elasticache:us-east-1:111111111111:subnetgroup:default"), Tags: []api.Tag{{Key: s("k")}}})
	wantFault(t, err, "InvalidParameterValue", 400, "The default cache subnet group cannot be tagged.")
	tl, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s("arn:aws:elasticache:us-east-1:111111111111:subnetgroup:default")})
	mustOK(t, err)
	if len(tl.TagList) != 0 {
		t.Fatalf("tags of default = %v", tl.TagList)
	}
	_, err = f.svc.DeleteCacheSubnetGroup(ctxA, &api.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: s("nobody")})
	wantFault(t, err, "CacheSubnetGroupNotFoundFault", 400, "CacheSubnetGroup nobody not found.")
}

func TestModifySubnetGroup(t *testing.T) {
	t.Parallel()
	f := networkFixture(t)
	_, err := createSubnetGroup(f, ctxA, "web", "subnet-0a000001")
	mustOK(t, err)
	f.clock.Advance(time.Second) // events newest first: apart in time
	// Description only: the subnets stay.
	out, err := f.svc.ModifyCacheSubnetGroup(ctxA, &api.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: s("WEB"), CacheSubnetGroupDescription: s("new")})
	mustOK(t, err)
	if g := out.CacheSubnetGroup; *g.CacheSubnetGroupDescription != "new" || !slices.Equal(subnetIDs(g), []string{"subnet-0a000001"}) {
		t.Fatalf("after a description change: %+v", g)
	}
	f.clock.Advance(time.Second)
	// Subnets only: the description stays; the VPC follows the subnets.
	out, err = f.svc.ModifyCacheSubnetGroup(ctxA, &api.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: s("web"), SubnetIds: []string{"subnet-0b000001"}})
	mustOK(t, err)
	if g := out.CacheSubnetGroup; *g.CacheSubnetGroupDescription != "new" || *g.VpcId != "vpc-0b0b0b0b" {
		t.Fatalf("after a subnet change: %+v", g)
	}
	got, err := f.svc.DescribeCacheSubnetGroups(ctxA, &api.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: s("web")})
	mustOK(t, err)
	if g := got.CacheSubnetGroups[0]; !slices.Equal(subnetIDs(&g), []string{"subnet-0b000001"}) {
		t.Fatalf("stored subnets = %v", subnetIDs(&g))
	}
	// A bad modification changes nothing.
	_, err = f.svc.ModifyCacheSubnetGroup(ctxA, &api.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: s("web"), SubnetIds: []string{"subnet-0a000001", "subnet-0b000001"}})
	wantFault(t, err, "InvalidSubnet", 400, "")
	_, err = f.svc.ModifyCacheSubnetGroup(ctxA, &api.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: s("web"), SubnetIds: []string{}})
	wantFault(t, err, "InvalidParameterValue", 400, "The parameter SubnetIds must be provided.")
	_, err = f.svc.ModifyCacheSubnetGroup(ctxA, &api.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: s("nobody"), CacheSubnetGroupDescription: s("x")})
	wantFault(t, err, "CacheSubnetGroupNotFoundFault", 400, "CacheSubnetGroup nobody not found.")
	evs, err := f.svc.DescribeEvents(ctxA, &api.DescribeEventsInput{SourceType: s("cache-subnet-group"), SourceIdentifier: s("web")})
	mustOK(t, err)
	var msgs []string
	for _, e := range evs.Events {
		msgs = append(msgs, *e.Message)
	}
	if !slices.Equal(msgs, []string{"Cache subnet group modified", "Cache subnet group modified", "Cache subnet group created"}) {
		t.Fatalf("events = %v", msgs)
	}
}

// A group keeps the zones and types the network model gave it when it was
// made, whatever the model says later.
func TestSubnetGroupKeepsItsPlacement(t *testing.T) {
	t.Parallel()
	f := networkFixture(t)
	_, err := createSubnetGroup(f, ctxA, "web", "subnet-0a000002")
	mustOK(t, err)
	f.svc.cfg.Network = nil // the subnet is no longer declared: it would be placed elsewhere
	out, err := f.svc.DescribeCacheSubnetGroups(ctxA, &api.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: s("web")})
	mustOK(t, err)
	if g := out.CacheSubnetGroups[0]; *g.VpcId != "vpc-0a0a0a0a" || *g.Subnets[0].SubnetAvailabilityZone.Name != "us-east-1b" {
		t.Fatalf("group moved: %+v", g)
	}
}
