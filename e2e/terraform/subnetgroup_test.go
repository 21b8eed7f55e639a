package terraform

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"
)

// subnetGroupTF is an aws_elasticache_subnet_group named with capitals,
// which Terraform lowercases before it calls the API.
func subnetGroupTF(description string, subnetIDs []string, tags map[string]string) string {
	quoted := make([]string, len(subnetIDs))
	for i, id := range subnetIDs {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var tagLines strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&tagLines, "    %s = %q\n", k, tags[k])
	}
	return fmt.Sprintf(`resource "aws_elasticache_subnet_group" "this" {
  name        = "TF-Subnets"
  description = %q
  subnet_ids  = [%s]
  tags = {
%s  }
}
`, description, strings.Join(quoted, ", "), tagLines.String())
}

// subnetGroupDataTF reads the group back through the data source, by the
// name the resource ended up with, and outputs what it found.
const subnetGroupDataTF = `
data "aws_elasticache_subnet_group" "this" {
  name = aws_elasticache_subnet_group.this.name
}

output "vpc_id" {
  value = data.aws_elasticache_subnet_group.this.vpc_id
}

output "subnet_ids" {
  value = data.aws_elasticache_subnet_group.this.subnet_ids
}

output "description" {
  value = data.aws_elasticache_subnet_group.this.description
}

output "arn" {
  value = data.aws_elasticache_subnet_group.this.arn
}

output "tags" {
  value = data.aws_elasticache_subnet_group.this.tags
}
`

// TestSubnetGroup is aws_elasticache_subnet_group's life: create, no diff,
// change description, subnets and tags in place, no diff, import into a
// fresh state with no diff, read through the data source, destroy. The Go
// SDK checks what the server holds after create and update, and that
// nothing is left after destroy.
func TestSubnetGroup(t *testing.T) {
	t.Parallel()
	start := time.Now()
	srv := startServer(t)
	ec := sdkClient(t, srv)
	const (
		addr = "aws_elasticache_subnet_group.this"
		name = "tf-subnets" // "TF-Subnets", lowercased by Terraform
	)
	arn := "arn:aws:elasticache:" + testRegion + ":" + testAccount + ":subnetgroup:" + name

	tf := newTerraform(t, srv.URL)
	created := subnetGroup{
		Description: "Terraform e2e subnet group",
		SubnetIDs:   []string{"subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"},
		Tags:        map[string]string{"env": "test", "team": "core"},
	}
	tf.write(subnetGroupTF(created.Description, created.SubnetIDs, created.Tags))
	tf.apply()
	wantSubnetGroup(t, ec, name, arn, created)
	tf.planIsClean()

	// Description, one subnet replaced and one added, one tag changed, one
	// removed, one added: all in place (ModifyCacheSubnetGroup and the tag
	// calls), none forces a new group.
	updated := subnetGroup{
		Description: "Terraform e2e subnet group, changed",
		SubnetIDs:   []string{"subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60003", "subnet-0a1b2c3d4e5f60004"},
		Tags:        map[string]string{"env": "prod", "owner": "platform"},
	}
	updatedTF := subnetGroupTF(updated.Description, updated.SubnetIDs, updated.Tags)
	tf.write(updatedTF)
	tf.apply()
	got := wantSubnetGroup(t, ec, name, arn, updated)
	tf.planIsClean()

	imported := newTerraform(t, srv.URL)
	imported.write(updatedTF)
	imported.importResource(addr, name)
	imported.planIsClean()

	tf.write(updatedTF + subnetGroupDataTF)
	tf.apply()
	state := tf.state()
	res := state.resource(t, addr)
	if res["id"] != name || res["name"] != name || res["arn"] != arn {
		t.Errorf("state: id %v, name %v, arn %v; want %s, %[4]s, %s", res["id"], res["name"], res["arn"], name, arn)
	}
	if res["vpc_id"] != aws.ToString(got.VpcId) {
		t.Errorf("state: vpc_id %v, the server says %q", res["vpc_id"], aws.ToString(got.VpcId))
	}
	for _, attr := range []string{"vpc_id", "subnet_ids", "description", "arn", "tags"} {
		if diff := cmp.Diff(res[attr], state.output(t, attr)); diff != "" {
			t.Errorf("data source %s differs from the resource's (-resource +data source):\n%s", attr, diff)
		}
	}
	wantTags := map[string]any{}
	for k, v := range updated.Tags {
		wantTags[k] = v
	}
	if diff := cmp.Diff(wantTags, state.output(t, "tags")); diff != "" {
		t.Errorf("data source tags (-want +got):\n%s", diff)
	}
	if d := state.output(t, "description"); d != updated.Description {
		t.Errorf("data source description %v, want %q", d, updated.Description)
	}

	tf.destroy()
	_, err := ec.DescribeCacheSubnetGroups(t.Context(), &elasticache.DescribeCacheSubnetGroupsInput{
		CacheSubnetGroupName: aws.String(name),
	})
	var notFound *types.CacheSubnetGroupNotFoundFault
	if !errors.As(err, &notFound) {
		t.Errorf("describe %s after destroy: %v, want CacheSubnetGroupNotFoundFault", name, err)
	}
	all, err := ec.DescribeCacheSubnetGroups(t.Context(), &elasticache.DescribeCacheSubnetGroupsInput{})
	if err != nil {
		t.Fatalf("describe all subnet groups after destroy: %v", err)
	}
	for _, g := range all.CacheSubnetGroups {
		if n := aws.ToString(g.CacheSubnetGroupName); n != "default" {
			t.Errorf("after destroy the server still holds subnet group %q; want only the reserved \"default\", if anything", n)
		}
	}
	t.Logf("TestSubnetGroup took %s", time.Since(start).Round(100*time.Millisecond))
}

// subnetGroup is what a test expects the server to hold.
type subnetGroup struct {
	Description string
	SubnetIDs   []string
	Tags        map[string]string
}

// wantSubnetGroup checks, through the Go SDK, the group the server holds
// under name and its tags, and returns the group.
func wantSubnetGroup(t testing.TB, ec *elasticache.Client, name, arn string, want subnetGroup) types.CacheSubnetGroup {
	t.Helper()
	out, err := ec.DescribeCacheSubnetGroups(t.Context(), &elasticache.DescribeCacheSubnetGroupsInput{
		CacheSubnetGroupName: aws.String(name),
	})
	if err != nil {
		t.Fatalf("describe subnet group %s: %v", name, err)
	}
	if len(out.CacheSubnetGroups) != 1 {
		t.Fatalf("describe subnet group %s: %d groups, want 1", name, len(out.CacheSubnetGroups))
	}
	g := out.CacheSubnetGroups[0]
	got := subnetGroup{Description: aws.ToString(g.CacheSubnetGroupDescription), Tags: map[string]string{}}
	for _, s := range g.Subnets {
		got.SubnetIDs = append(got.SubnetIDs, aws.ToString(s.SubnetIdentifier))
	}
	sort.Strings(got.SubnetIDs)
	tags, err := ec.ListTagsForResource(t.Context(), &elasticache.ListTagsForResourceInput{ResourceName: g.ARN})
	if err != nil {
		t.Fatalf("list tags of %s: %v", aws.ToString(g.ARN), err)
	}
	for _, tag := range tags.TagList {
		got.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	want.SubnetIDs = append([]string(nil), want.SubnetIDs...)
	sort.Strings(want.SubnetIDs)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subnet group %s on the server (-want +got):\n%s", name, diff)
	}
	if n := aws.ToString(g.CacheSubnetGroupName); n != name {
		t.Errorf("subnet group name %q, want %q", n, name)
	}
	if a := aws.ToString(g.ARN); a != arn {
		t.Errorf("subnet group ARN %q, want %q", a, arn)
	}
	return g
}
