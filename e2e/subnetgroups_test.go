package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"
)

// Cache subnet groups through the Go SDK: every operation's happy path and
// every fault, on a server whose config file declares a network, a quota
// and a strict account.

const subnetConfig = `
accounts:
  - id: "111111111111"
    quotas:
      cacheSubnetGroups: 2
  - id: "333333333333"
    strictSubnets: true
networks:
  - account: "111111111111"
    region: us-east-1
    vpcs:
      - id: vpc-0a0a0a0a
        subnets:
          - id: subnet-0a000001
            availabilityZone: us-east-1a
          - id: subnet-0a000002
            availabilityZone: us-east-1b
            ipv6: true
      - id: vpc-0b0b0b0b
        subnets:
          - id: subnet-0b000001
            availabilityZone: us-east-1c
`

func startSubnetServer(tb testing.TB) *testServer {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(subnetConfig), 0o600); err != nil {
		tb.Fatal(err)
	}
	return startServer(tb, withConfigFile(path))
}

func createSubnetGroup(tb testing.TB, c *elasticache.Client, name string, ids []string, tags ...types.Tag) (*types.CacheSubnetGroup, error) {
	tb.Helper()
	out, err := c.CreateCacheSubnetGroup(tb.Context(), &elasticache.CreateCacheSubnetGroupInput{
		CacheSubnetGroupName: aws.String(name), CacheSubnetGroupDescription: aws.String("group " + name), SubnetIds: ids, Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	wantRequestID(tb, out.ResultMetadata)
	return out.CacheSubnetGroup, nil
}

func subnetNotFound(name string) apiErr {
	return apiErr{status: 400, code: "CacheSubnetGroupNotFoundFault", msg: "CacheSubnetGroup " + name + " not found."}
}

func TestSubnetGroups(t *testing.T) {
	t.Parallel()
	srv := startSubnetServer(t)
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()

	g, err := createSubnetGroup(t, c, "Web-Tier", []string{"subnet-0a000002", "subnet-0a000001"}, tag("env", "test"))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.CacheSubnetGroupName) != "web-tier" || aws.ToString(g.VpcId) != "vpc-0a0a0a0a" ||
		aws.ToString(g.ARN) != "arn:aws:elasticache:us-east-1:111111111111:subnetgroup:web-tier" ||
		len(g.Subnets) != 2 || aws.ToString(g.Subnets[1].SubnetAvailabilityZone.Name) != "us-east-1b" ||
		!slices.Equal(g.Subnets[1].SupportedNetworkTypes, []types.NetworkType{types.NetworkTypeIpv4, types.NetworkTypeDualStack}) ||
		!slices.Equal(g.SupportedNetworkTypes, []types.NetworkType{types.NetworkTypeIpv4}) {
		t.Fatalf("created group = %+v", g)
	}

	// Describe by name (any case) and by page, `default` among them.
	out, err := c.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("WEB-TIER")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CacheSubnetGroups) != 1 || aws.ToString(out.CacheSubnetGroups[0].CacheSubnetGroupDescription) != "group Web-Tier" {
		t.Fatalf("describe by name = %+v", out.CacheSubnetGroups)
	}
	var names []string
	p := elasticache.NewDescribeCacheSubnetGroupsPaginator(c, &elasticache.DescribeCacheSubnetGroupsInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.CacheSubnetGroups {
			names = append(names, aws.ToString(g.CacheSubnetGroupName))
		}
	}
	if !slices.Equal(names, []string{"default", "web-tier"}) {
		t.Fatalf("paged names = %v", names)
	}

	// Modify: subnets into the other VPC, then the description alone.
	mod, err := c.ModifyCacheSubnetGroup(ctx, &elasticache.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("web-tier"), SubnetIds: []string{"subnet-0b000001"}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(mod.CacheSubnetGroup.VpcId) != "vpc-0b0b0b0b" || aws.ToString(mod.CacheSubnetGroup.CacheSubnetGroupDescription) != "group Web-Tier" {
		t.Fatalf("modified group = %+v", mod.CacheSubnetGroup)
	}
	mod, err = c.ModifyCacheSubnetGroup(ctx, &elasticache.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("web-tier"), CacheSubnetGroupDescription: aws.String("new")})
	if err != nil {
		t.Fatal(err)
	}
	if len(mod.CacheSubnetGroup.Subnets) != 1 || aws.ToString(mod.CacheSubnetGroup.CacheSubnetGroupDescription) != "new" {
		t.Fatalf("modified group = %+v", mod.CacheSubnetGroup)
	}

	// Tags by ARN; `default` takes none.
	arn := aws.ToString(g.ARN)
	if _, err := addTags(t, c, arn, tag("team", "core")); err != nil {
		t.Fatal(err)
	}
	if tags, err := listTags(t, c, arn); err != nil || len(tags) != 2 {
		t.Fatalf("tags = %v, %v", tags, err)
	}
	_, err = addTags(t, c, "arn:aws:elasticache:us-east-1:111111111111:subnetgroup:default", tag("k", "v"))
	wantErr[smithy.APIError](t, err, invalidValueExact("The default cache subnet group cannot be tagged."))
	_, err = listTags(t, c, "arn:aws:elasticache:us-east-1:111111111111:subnetgroup:nobody")
	wantErr[*types.CacheSubnetGroupNotFoundFault](t, err, subnetNotFound("nobody"))

	// Events of the group.
	ev, err := c.DescribeEvents(ctx, &elasticache.DescribeEventsInput{SourceType: types.SourceTypeCacheSubnetGroup, SourceIdentifier: aws.String("web-tier")})
	if err != nil || len(ev.Events) != 3 {
		t.Fatalf("events = %+v, %v", ev, err)
	}

	// Delete, then every NotFound (400, as AWS answers).
	if _, err := c.DeleteCacheSubnetGroup(ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("web-tier")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("web-tier")})
	wantErr[*types.CacheSubnetGroupNotFoundFault](t, err, subnetNotFound("web-tier"))
	_, err = c.ModifyCacheSubnetGroup(ctx, &elasticache.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("web-tier"), CacheSubnetGroupDescription: aws.String("x")})
	wantErr[*types.CacheSubnetGroupNotFoundFault](t, err, subnetNotFound("web-tier"))
	_, err = c.DeleteCacheSubnetGroup(ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("web-tier")})
	wantErr[*types.CacheSubnetGroupNotFoundFault](t, err, subnetNotFound("web-tier"))
}

func TestSubnetGroupFaults(t *testing.T) {
	t.Parallel()
	srv := startSubnetServer(t)
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()

	if _, err := createSubnetGroup(t, c, "one", []string{"subnet-0a000001"}); err != nil {
		t.Fatal(err)
	}
	_, err := createSubnetGroup(t, c, "ONE", []string{"subnet-0a000001"})
	wantErr[*types.CacheSubnetGroupAlreadyExistsFault](t, err, apiErr{status: 400, code: "CacheSubnetGroupAlreadyExists", msg: "Cache subnet group one already exists."})
	_, err = createSubnetGroup(t, c, "mixed", []string{"subnet-0a000001", "subnet-0b000001"})
	wantErr[*types.InvalidSubnet](t, err, apiErr{status: 400, code: "InvalidSubnet", msg: "Subnets subnet-0a000001 and subnet-0b000001 are not in the same VPC."})
	var many []string
	for i := range 21 {
		many = append(many, fmt.Sprintf("subnet-%08x", i+1))
	}
	_, err = createSubnetGroup(t, c, "many", many)
	wantErr[*types.CacheSubnetQuotaExceededFault](t, err, apiErr{status: 400, code: "CacheSubnetQuotaExceededFault"})
	_, err = createSubnetGroup(t, c, "default", []string{"subnet-0a000001"})
	wantErr[smithy.APIError](t, err, invalidValue("reserved"))
	_, err = createSubnetGroup(t, c, "bad_name", []string{"subnet-0a000001"})
	wantErr[smithy.APIError](t, err, invalidValue("ASCII letters"))
	_, err = createSubnetGroup(t, c, "bad-id", []string{"subnet-0a000001", "nope"})
	wantErr[smithy.APIError](t, err, invalidValueExact("Some input subnets in :[subnet-0a000001, nope] are invalid."))
	_, err = c.ModifyCacheSubnetGroup(ctx, &elasticache.ModifyCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("one"), SubnetIds: []string{"subnet-0a000001", "subnet-0b000001"}})
	wantErr[*types.InvalidSubnet](t, err, apiErr{status: 400, code: "InvalidSubnet"})
	_, err = c.DeleteCacheSubnetGroup(ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("default")})
	wantErr[smithy.APIError](t, err, invalidValueExact("The default cache subnet group cannot be deleted."))

	// The quota from the config file: 2 for this account.
	if _, err := createSubnetGroup(t, c, "two", []string{"subnet-0a000001"}); err != nil {
		t.Fatal(err)
	}
	_, err = createSubnetGroup(t, c, "three", []string{"subnet-0a000001"})
	wantErr[*types.CacheSubnetGroupQuotaExceededFault](t, err, apiErr{status: 400, code: "CacheSubnetGroupQuotaExceeded", msg: "Quota exceeded for cache subnet groups."})

	// A strict account refuses subnets nobody declared; another region is
	// another world.
	strict := client(t, srv.Addr, "333333333333", "us-east-1")
	_, err = createSubnetGroup(t, strict, "g", []string{"subnet-0fffffff"})
	wantErr[smithy.APIError](t, err, invalidValueExact("Some input subnets in :[subnet-0fffffff] are invalid."))
	west := client(t, srv.Addr, "111111111111", "us-west-2")
	_, err = west.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("one")})
	wantErr[*types.CacheSubnetGroupNotFoundFault](t, err, subnetNotFound("one"))
}
