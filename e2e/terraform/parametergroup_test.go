package terraform

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"
)

// parameterGroupTF is an aws_elasticache_parameter_group of family redis7
// with parameter blocks and tags.
func parameterGroupTF(params, tags map[string]string) string {
	var b strings.Builder
	b.WriteString(`resource "aws_elasticache_parameter_group" "this" {
  name        = "tf-params"
  family      = "redis7"
  description = "Terraform e2e parameter group"
`)
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  parameter {\n    name  = %q\n    value = %q\n  }\n", n, params[n])
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("  tags = {\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "    %s = %q\n", k, tags[k])
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// userParameters is what the server says the group sets
// (DescribeCacheParameters, Source=user).
func userParameters(t *testing.T, ec *elasticache.Client, name string) map[string]string {
	t.Helper()
	got := map[string]string{}
	p := elasticache.NewDescribeCacheParametersPaginator(ec, &elasticache.DescribeCacheParametersInput{
		CacheParameterGroupName: aws.String(name), Source: aws.String("user")})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("DescribeCacheParameters %s: %v", name, err)
		}
		for _, prm := range page.Parameters {
			got[aws.ToString(prm.ParameterName)] = aws.ToString(prm.ParameterValue)
		}
	}
	return got
}

// TestParameterGroup is aws_elasticache_parameter_group's life: create with
// two parameters and tags, no diff, remove one parameter (Reset) and change
// the other (Modify) and a tag, no diff, import into a fresh state with no
// diff, destroy.
func TestParameterGroup(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ec := sdkClient(t, srv)
	const (
		addr = "aws_elasticache_parameter_group.this"
		name = "tf-params"
	)
	tf := newTerraform(t, srv.URL)
	created := map[string]string{"maxmemory-policy": "allkeys-lru", "timeout": "300"}
	tf.write(parameterGroupTF(created, map[string]string{"env": "test"}))
	tf.apply()
	if diff := cmp.Diff(created, userParameters(t, ec, name)); diff != "" {
		t.Errorf("parameters after create (-want +got):\n%s", diff)
	}
	tf.planIsClean()

	updated := map[string]string{"maxmemory-policy": "volatile-ttl"}
	updatedTF := parameterGroupTF(updated, map[string]string{"env": "prod"})
	tf.write(updatedTF)
	tf.apply()
	if diff := cmp.Diff(updated, userParameters(t, ec, name)); diff != "" {
		t.Errorf("parameters after update (-want +got):\n%s", diff)
	}
	arn := "arn:aws:elasticache:" + testRegion + ":" + testAccount + ":parametergroup:" + name
	tags, err := ec.ListTagsForResource(t.Context(), &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Value) != "prod" {
		t.Errorf("tags after update: %+v, %v", tags, err)
	}
	tf.planIsClean()

	imported := newTerraform(t, srv.URL)
	imported.write(updatedTF)
	imported.importResource(addr, name)
	imported.planIsClean()
	res := imported.state().resource(t, addr)
	if res["family"] != "redis7" || res["arn"] != arn {
		t.Errorf("imported state: family %v, arn %v", res["family"], res["arn"])
	}

	tf.destroy()
	_, err = ec.DescribeCacheParameterGroups(t.Context(), &elasticache.DescribeCacheParameterGroupsInput{CacheParameterGroupName: aws.String(name)})
	var notFound *types.CacheParameterGroupNotFoundFault
	if !errors.As(err, &notFound) {
		t.Errorf("describe %s after destroy: %v, want CacheParameterGroupNotFoundFault", name, err)
	}
}
