package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"
)

// Cache parameter groups and the engine catalogue through the Go SDK:
// every operation's happy path and every fault.

func pgNotFound(name string) apiErr {
	return apiErr{status: 404, code: "CacheParameterGroupNotFound", msg: "CacheParameterGroup " + name + " not found."}
}

func TestParameterGroups(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()

	created, err := c.CreateCacheParameterGroup(ctx, &elasticache.CreateCacheParameterGroupInput{
		CacheParameterGroupName: aws.String("App-Params"), CacheParameterGroupFamily: aws.String("redis7"),
		Description: aws.String("app"), Tags: []types.Tag{tag("env", "test")}})
	if err != nil {
		t.Fatal(err)
	}
	if g := created.CacheParameterGroup; aws.ToString(g.CacheParameterGroupName) != "app-params" || aws.ToBool(g.IsGlobal) ||
		aws.ToString(g.ARN) != "arn:aws:elasticache:us-east-1:111111111111:parametergroup:app-params" {
		t.Fatalf("created = %+v", g)
	}
	_, err = c.CreateCacheParameterGroup(ctx, &elasticache.CreateCacheParameterGroupInput{
		CacheParameterGroupName: aws.String("app-params"), CacheParameterGroupFamily: aws.String("redis7"), Description: aws.String("again")})
	wantErr[*types.CacheParameterGroupAlreadyExistsFault](t, err, apiErr{status: 400, code: "CacheParameterGroupAlreadyExists", msg: "Parameter group app-params already exists."})
	_, err = c.CreateCacheParameterGroup(ctx, &elasticache.CreateCacheParameterGroupInput{
		CacheParameterGroupName: aws.String("p"), CacheParameterGroupFamily: aws.String("redis99"), Description: aws.String("d")})
	wantErr[smithy.APIError](t, err, invalidValue("redis99 is not a cache parameter group family"))

	// The default groups list among the account's.
	var names []string
	p := elasticache.NewDescribeCacheParameterGroupsPaginator(c, &elasticache.DescribeCacheParameterGroupsInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.CacheParameterGroups {
			names = append(names, aws.ToString(g.CacheParameterGroupName))
		}
	}
	if !contains(names, "app-params") || !contains(names, "default.redis7") || !contains(names, "default.memcached1.6") {
		t.Fatalf("listed groups: %v", names)
	}

	// Modify, read back with Source=user, reset.
	mod, err := c.ModifyCacheParameterGroup(ctx, &elasticache.ModifyCacheParameterGroupInput{CacheParameterGroupName: aws.String("app-params"),
		ParameterNameValues: []types.ParameterNameValue{{ParameterName: aws.String("maxmemory-policy"), ParameterValue: aws.String("allkeys-lru")}}})
	if err != nil || aws.ToString(mod.CacheParameterGroupName) != "app-params" {
		t.Fatalf("modify: %+v, %v", mod, err)
	}
	params, err := c.DescribeCacheParameters(ctx, &elasticache.DescribeCacheParametersInput{CacheParameterGroupName: aws.String("app-params"), Source: aws.String("user")})
	if err != nil || len(params.Parameters) != 1 || aws.ToString(params.Parameters[0].ParameterValue) != "allkeys-lru" ||
		aws.ToString(params.Parameters[0].Source) != "user" || params.Parameters[0].ChangeType != types.ChangeTypeImmediate {
		t.Fatalf("user parameters: %+v, %v", params, err)
	}
	_, err = c.ModifyCacheParameterGroup(ctx, &elasticache.ModifyCacheParameterGroupInput{CacheParameterGroupName: aws.String("app-params"),
		ParameterNameValues: []types.ParameterNameValue{{ParameterName: aws.String("cluster-enabled"), ParameterValue: aws.String("yes")}}})
	wantErr[smithy.APIError](t, err, invalidValueExact("The parameter cluster-enabled cannot be modified."))
	_, err = c.ModifyCacheParameterGroup(ctx, &elasticache.ModifyCacheParameterGroupInput{CacheParameterGroupName: aws.String("default.redis7"),
		ParameterNameValues: []types.ParameterNameValue{{ParameterName: aws.String("timeout"), ParameterValue: aws.String("30")}}})
	wantErr[smithy.APIError](t, err, invalidValueExact("Cannot modify a default parameter group."))
	_, err = c.ModifyCacheParameterGroup(ctx, &elasticache.ModifyCacheParameterGroupInput{CacheParameterGroupName: aws.String("nobody"),
		ParameterNameValues: []types.ParameterNameValue{{ParameterName: aws.String("timeout"), ParameterValue: aws.String("30")}}})
	wantErr[*types.CacheParameterGroupNotFoundFault](t, err, pgNotFound("nobody"))
	if _, err := c.ResetCacheParameterGroup(ctx, &elasticache.ResetCacheParameterGroupInput{CacheParameterGroupName: aws.String("app-params"), ResetAllParameters: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	params, err = c.DescribeCacheParameters(ctx, &elasticache.DescribeCacheParametersInput{CacheParameterGroupName: aws.String("app-params"), Source: aws.String("user")})
	if err != nil || len(params.Parameters) != 0 {
		t.Fatalf("user parameters after reset: %+v, %v", params, err)
	}
	_, err = c.DescribeCacheParameters(ctx, &elasticache.DescribeCacheParametersInput{CacheParameterGroupName: aws.String("nobody")})
	wantErr[*types.CacheParameterGroupNotFoundFault](t, err, pgNotFound("nobody"))

	// Tags by ARN; a default group takes none.
	if _, err := addTags(t, c, aws.ToString(created.CacheParameterGroup.ARN), tag("team", "core")); err != nil {
		t.Fatal(err)
	}
	_, err = addTags(t, c, "arn:aws:elasticache:us-east-1:111111111111:parametergroup:default.redis7", tag("k", "v"))
	wantErr[smithy.APIError](t, err, invalidValueExact("Default parameter groups cannot be tagged."))

	// Engine defaults and versions.
	def, err := c.DescribeEngineDefaultParameters(ctx, &elasticache.DescribeEngineDefaultParametersInput{CacheParameterGroupFamily: aws.String("memcached1.6")})
	if err != nil || aws.ToString(def.EngineDefaults.CacheParameterGroupFamily) != "memcached1.6" || len(def.EngineDefaults.Parameters) == 0 {
		t.Fatalf("engine defaults: %+v, %v", def, err)
	}
	vers, err := c.DescribeCacheEngineVersions(ctx, &elasticache.DescribeCacheEngineVersionsInput{Engine: aws.String("valkey"), DefaultOnly: aws.Bool(true)})
	if err != nil || len(vers.CacheEngineVersions) != 1 || aws.ToString(vers.CacheEngineVersions[0].Engine) != "valkey" {
		t.Fatalf("valkey default version: %+v, %v", vers, err)
	}

	// Delete; a second delete and a default one fail as AWS answers.
	if _, err := c.DeleteCacheParameterGroup(ctx, &elasticache.DeleteCacheParameterGroupInput{CacheParameterGroupName: aws.String("app-params")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteCacheParameterGroup(ctx, &elasticache.DeleteCacheParameterGroupInput{CacheParameterGroupName: aws.String("app-params")})
	wantErr[*types.CacheParameterGroupNotFoundFault](t, err, apiErr{status: 404, code: "CacheParameterGroupNotFound", msg: "CacheParameterGroupnot found: app-params"})
	_, err = c.DeleteCacheParameterGroup(ctx, &elasticache.DeleteCacheParameterGroupInput{CacheParameterGroupName: aws.String("default.redis7")})
	wantErr[smithy.APIError](t, err, invalidValueExact("Cannot delete a default parameter group."))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
