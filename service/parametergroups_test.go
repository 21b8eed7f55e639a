package service

import (
	"fmt"
	"slices"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/catalogue"
)

// The rules of cache parameter groups and the engine catalogue's reads;
// what every kind shares is TestKindConformance's.

func createParameterGroup(t *testing.T, f *fixture, name, family string) {
	t.Helper()
	_, err := f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{
		CacheParameterGroupName: s(name), CacheParameterGroupFamily: s(family), Description: s("d " + name)})
	mustOK(t, err)
}

func nv(name, value string) api.ParameterNameValue {
	return api.ParameterNameValue{ParameterName: s(name), ParameterValue: s(value)}
}

// userParameters is DescribeCacheParameters(Source=user) as name=value.
func userParameters(t *testing.T, f *fixture, group string) map[string]string {
	t.Helper()
	out, err := f.svc.DescribeCacheParameters(ctxA, &api.DescribeCacheParametersInput{CacheParameterGroupName: s(group), Source: s("user")})
	mustOK(t, err)
	got := map[string]string{}
	for _, p := range out.Parameters {
		if *p.Source != "user" {
			t.Fatalf("Source=user answered %s with source %s", *p.ParameterName, *p.Source)
		}
		got[*p.ParameterName] = *p.ParameterValue
	}
	if len(out.CacheNodeTypeSpecificParameters) != 0 {
		t.Fatalf("Source=user answered node-type parameters %v", out.CacheNodeTypeSpecificParameters)
	}
	return got
}

func TestParameterGroupCreateRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	out, err := f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{
		CacheParameterGroupName: s("My-Params"), CacheParameterGroupFamily: s("redis7"), Description: s("mine")})
	mustOK(t, err)
	if g := out.CacheParameterGroup; *g.CacheParameterGroupName != "my-params" || *g.CacheParameterGroupFamily != "redis7" ||
		*g.ARN != "arn:aws:elasticache:us-east-1:111111111111:parametergroup:my-params" || *g.IsGlobal {
		t.Fatalf("created = %+v", g)
	}
	_, err = f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{
		CacheParameterGroupName: s("MY-PARAMS"), CacheParameterGroupFamily: s("redis7"), Description: s("d")})
	wantFault(t, err, "CacheParameterGroupAlreadyExists", 400, "Parameter group my-params already exists.")
	_, err = f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{
		CacheParameterGroupName: s("p"), CacheParameterGroupFamily: s("redis9"), Description: s("d")})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "redis9 is not a cache parameter group family")
	_, err = f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{
		CacheParameterGroupName: s("default.mine"), CacheParameterGroupFamily: s("redis7"), Description: s("d")})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "reserved")
}

func TestDefaultParameterGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	for _, fam := range catalogue.Families() {
		out, err := f.svc.DescribeCacheParameterGroups(ctxA, &api.DescribeCacheParameterGroupsInput{CacheParameterGroupName: s("default." + fam)})
		mustOK(t, err)
		if g := out.CacheParameterGroups[0]; *g.CacheParameterGroupFamily != fam || *g.Description != "Default parameter group for "+fam {
			t.Fatalf("default.%s = %+v", fam, g)
		}
	}
	out, err := f.svc.DescribeCacheParameterGroups(ctxA, &api.DescribeCacheParameterGroupsInput{CacheParameterGroupName: s("default.redis7.cluster.on")})
	mustOK(t, err)
	if g := out.CacheParameterGroups[0]; *g.Description != "Customized default parameter group for redis7 with cluster mode on" {
		t.Fatalf("default.redis7.cluster.on = %+v", g)
	}
	_, err = f.svc.DescribeCacheParameterGroups(ctxA, &api.DescribeCacheParameterGroupsInput{CacheParameterGroupName: s("default.redis3.3")})
	wantFault(t, err, "CacheParameterGroupNotFound", 404, "CacheParameterGroup default.redis3.3 not found.")
	_, err = f.svc.ModifyCacheParameterGroup(ctxA, &api.ModifyCacheParameterGroupInput{CacheParameterGroupName: s("default.redis7"), ParameterNameValues: []api.ParameterNameValue{nv("maxmemory-policy", "allkeys-lru")}})
	wantFault(t, err, "InvalidParameterValue", 400, "Cannot modify a default parameter group.")
	_, err = f.svc.ResetCacheParameterGroup(ctxA, &api.ResetCacheParameterGroupInput{CacheParameterGroupName: s("default.redis7"), ResetAllParameters: ptr(true)})
	wantFault(t, err, "InvalidParameterValue", 400, "Cannot modify a default parameter group.")
	_, err = f.svc.DeleteCacheParameterGroup(ctxA, &api.DeleteCacheParameterGroupInput{CacheParameterGroupName: s("default.redis7")})
	wantFault(t, err, "InvalidParameterValue", 400, "Cannot delete a default parameter group.")
	_, err = f.svc.DeleteCacheParameterGroup(ctxA, &api.DeleteCacheParameterGroupInput{CacheParameterGroupName: s("nobody")})
	wantFault(t, err, "CacheParameterGroupNotFound", 404, "CacheParameterGroupnot found: nobody")
	// The cluster-mode default shows its one difference as set.
	if got := userParameters(t, f, "default.redis7.cluster.on"); got["cluster-enabled"] != "yes" {
		t.Fatalf("default.redis7.cluster.on user values = %v", got)
	}
}

func TestModifyAndResetParameters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	createParameterGroup(t, f, "p", "redis7")
	if got := userParameters(t, f, "p"); len(got) != 0 {
		t.Fatalf("a new group has user values %v", got)
	}
	out, err := f.svc.ModifyCacheParameterGroup(ctxA, &api.ModifyCacheParameterGroupInput{CacheParameterGroupName: s("P"),
		ParameterNameValues: []api.ParameterNameValue{nv("maxmemory-policy", "allkeys-lru"), nv("timeout", "300")}})
	mustOK(t, err)
	if *out.CacheParameterGroupName != "p" {
		t.Fatalf("modify answered %s", *out.CacheParameterGroupName)
	}
	want := map[string]string{"maxmemory-policy": "allkeys-lru", "timeout": "300"}
	if got := userParameters(t, f, "p"); !mapsEqual(got, want) {
		t.Fatalf("user values = %v, want %v", got, want)
	}
	// One bad entry and nothing changes.
	for _, c := range []struct {
		nv   api.ParameterNameValue
		want string
	}{
		{nv("no-such-parameter", "1"), "Parameter no-such-parameter doesn't exist for family redis7."},
		{nv("cluster-enabled", "yes"), "The parameter cluster-enabled cannot be modified."},
		{nv("maxmemory-policy", "sometimes"), "Value sometimes for parameter maxmemory-policy is invalid. Allowed values: allkeys-lru,volatile-lru,allkeys-lfu,volatile-lfu,allkeys-random,volatile-random,volatile-ttl,noeviction."},
		{nv("timeout", "ten"), "Value ten for parameter timeout is invalid: it must be of type integer."},
	} {
		_, err := f.svc.ModifyCacheParameterGroup(ctxA, &api.ModifyCacheParameterGroupInput{CacheParameterGroupName: s("p"),
			ParameterNameValues: []api.ParameterNameValue{nv("maxmemory-policy", "noeviction"), c.nv}})
		wantFault(t, err, "InvalidParameterValue", 400, c.want)
	}
	if got := userParameters(t, f, "p"); !mapsEqual(got, want) {
		t.Fatalf("a refused modify changed the group: %v", got)
	}
	var many []api.ParameterNameValue
	for i := range 21 {
		many = append(many, nv("timeout", fmt.Sprint(300+i)))
	}
	_, err = f.svc.ModifyCacheParameterGroup(ctxA, &api.ModifyCacheParameterGroupInput{CacheParameterGroupName: s("p"), ParameterNameValues: many})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "at most 20")
	_, err = f.svc.ModifyCacheParameterGroup(ctxA, &api.ModifyCacheParameterGroupInput{CacheParameterGroupName: s("nobody"), ParameterNameValues: []api.ParameterNameValue{nv("timeout", "30")}})
	wantFault(t, err, "CacheParameterGroupNotFound", 404, "CacheParameterGroup nobody not found.")

	// Reset one, then all.
	_, err = f.svc.ResetCacheParameterGroup(ctxA, &api.ResetCacheParameterGroupInput{CacheParameterGroupName: s("p"), ParameterNameValues: []api.ParameterNameValue{{ParameterName: s("timeout")}}})
	mustOK(t, err)
	if got := userParameters(t, f, "p"); !mapsEqual(got, map[string]string{"maxmemory-policy": "allkeys-lru"}) {
		t.Fatalf("after resetting timeout: %v", got)
	}
	_, err = f.svc.ResetCacheParameterGroup(ctxA, &api.ResetCacheParameterGroupInput{CacheParameterGroupName: s("p"), ParameterNameValues: []api.ParameterNameValue{{ParameterName: s("no-such-parameter")}}})
	wantFault(t, err, "InvalidParameterValue", 400, "Parameter no-such-parameter doesn't exist for family redis7.")
	_, err = f.svc.ResetCacheParameterGroup(ctxA, &api.ResetCacheParameterGroupInput{CacheParameterGroupName: s("p"), ResetAllParameters: ptr(true),
		ParameterNameValues: []api.ParameterNameValue{{ParameterName: s("timeout")}}})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
	_, err = f.svc.ResetCacheParameterGroup(ctxA, &api.ResetCacheParameterGroupInput{CacheParameterGroupName: s("p"), ResetAllParameters: ptr(true)})
	mustOK(t, err)
	if got := userParameters(t, f, "p"); len(got) != 0 {
		t.Fatalf("after reset all: %v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A family's parameters come a page at a time, in name order, with the
// node-type-specific ones on the last page; the engine defaults are the
// same list.
func TestDescribeParametersPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	params, _ := catalogue.Parameters("redis7")
	nodeParams, _ := catalogue.CacheNodeTypeSpecificParameters("redis7")
	var names []string
	var marker *string
	for pages := 0; ; pages++ {
		out, err := f.svc.DescribeCacheParameters(ctxA, &api.DescribeCacheParametersInput{CacheParameterGroupName: s("default.redis7"), MaxRecords: i32(20), Marker: marker})
		mustOK(t, err)
		for _, p := range out.Parameters {
			names = append(names, *p.ParameterName)
		}
		if out.Marker == nil {
			if len(out.CacheNodeTypeSpecificParameters) != len(nodeParams) {
				t.Fatalf("last page has %d node-type parameters, want %d", len(out.CacheNodeTypeSpecificParameters), len(nodeParams))
			}
			break
		}
		if len(out.CacheNodeTypeSpecificParameters) != 0 || pages > 10 {
			t.Fatalf("page %d: node-type parameters before the last page", pages)
		}
		marker = out.Marker
	}
	if len(names) != len(params) || !slices.IsSorted(names) {
		t.Fatalf("%d parameters in %v order, want %d sorted", len(names), names, len(params))
	}
	def, err := f.svc.DescribeEngineDefaultParameters(ctxA, &api.DescribeEngineDefaultParametersInput{CacheParameterGroupFamily: s("redis7")})
	mustOK(t, err)
	if d := def.EngineDefaults; *d.CacheParameterGroupFamily != "redis7" || len(d.Parameters) != min(100, len(params)) {
		t.Fatalf("engine defaults: %s, %d parameters", *d.CacheParameterGroupFamily, len(d.Parameters))
	}
	_, err = f.svc.DescribeEngineDefaultParameters(ctxA, &api.DescribeEngineDefaultParametersInput{CacheParameterGroupFamily: s("redis1")})
	wantFault(t, err, "InvalidParameterValue", 400, "")
	_, err = f.svc.DescribeCacheParameters(ctxA, &api.DescribeCacheParametersInput{CacheParameterGroupName: s("default.redis7"), Source: s("mine")})
	wantFault(t, err, "InvalidParameterValue", 400, "")
}

func TestDescribeCacheEngineVersions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	all := func(in *api.DescribeCacheEngineVersionsInput) []string {
		t.Helper()
		var got []string
		for pages := 0; ; pages++ {
			out, err := f.svc.DescribeCacheEngineVersions(ctxA, in)
			mustOK(t, err)
			for _, v := range out.CacheEngineVersions {
				got = append(got, *v.Engine+" "+*v.EngineVersion+" "+*v.CacheParameterGroupFamily)
			}
			if out.Marker == nil || pages > 20 {
				return got
			}
			in.Marker = out.Marker
		}
	}
	if got := all(&api.DescribeCacheEngineVersionsInput{MaxRecords: i32(20)}); len(got) != len(catalogue.Versions("")) {
		t.Fatalf("%d versions, want the catalogue's %d", len(got), len(catalogue.Versions("")))
	}
	for _, v := range all(&api.DescribeCacheEngineVersionsInput{Engine: s("memcached")}) {
		if v[:10] != "memcached " {
			t.Fatalf("Engine=memcached answered %s", v)
		}
	}
	if got := all(&api.DescribeCacheEngineVersionsInput{CacheParameterGroupFamily: s("redis7")}); !slices.Equal(got, []string{"redis 7.0 redis7", "redis 7.1 redis7"}) {
		t.Fatalf("family redis7: %v", got)
	}
	if got := all(&api.DescribeCacheEngineVersionsInput{Engine: s("redis"), EngineVersion: s("6.x")}); !slices.Equal(got, []string{"redis 6.0 redis6.x", "redis 6.2 redis6.x"}) {
		t.Fatalf("redis 6.x: %v", got)
	}
	got := all(&api.DescribeCacheEngineVersionsInput{DefaultOnly: ptr(true)})
	if len(got) != len(catalogue.Engines()) {
		t.Fatalf("DefaultOnly: %v, want one per engine", got)
	}
	_, err := f.svc.DescribeCacheEngineVersions(ctxA, &api.DescribeCacheEngineVersionsInput{Engine: s("mongodb")})
	wantFault(t, err, "InvalidParameterValue", 400, "")
}
