package catalogue

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoads(t *testing.T) {
	t.Parallel()
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
}

// Every family a version names exists, belongs to the version's engine, and
// has that version at or above its first version; every family has versions.
func TestVersionsAndFamiliesAgree(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	seen := map[[2]string]bool{}
	for _, v := range Versions("") {
		key := [2]string{v.Engine, v.EngineVersion}
		if seen[key] {
			t.Errorf("%s %s listed twice", v.Engine, v.EngineVersion)
		}
		seen[key] = true
		f, ok := Family(v.CacheParameterGroupFamily)
		if !ok {
			t.Errorf("%s %s: family %q does not exist", v.Engine, v.EngineVersion, v.CacheParameterGroupFamily)
			continue
		}
		if f.Engine != v.Engine {
			t.Errorf("%s %s: family %s is for engine %s", v.Engine, v.EngineVersion, f.Name, f.Engine)
		}
		if CompareVersions(v.EngineVersion, f.FirstEngineVersion) < 0 {
			t.Errorf("%s %s is below %s's first version %s", v.Engine, v.EngineVersion, f.Name, f.FirstEngineVersion)
		}
		if v.Source == "" {
			t.Errorf("%s %s has no source", v.Engine, v.EngineVersion)
		}
		used[f.Name] = true
	}
	for _, name := range Families() {
		if !used[name] {
			t.Errorf("family %s has no engine version", name)
		}
	}
}

func TestVersionsPerEngine(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff([]string{EngineRedis, EngineValkey, EngineMemcached}, Engines()); diff != "" {
		t.Errorf("Engines() (-want +got):\n%s", diff)
	}
	for _, engine := range Engines() {
		vs := Versions(engine)
		if len(vs) == 0 {
			t.Fatalf("no versions for %s", engine)
		}
		for i, v := range vs {
			if v.Engine != engine {
				t.Errorf("Versions(%q) returned %s %s", engine, v.Engine, v.EngineVersion)
			}
			if i > 0 && CompareVersions(vs[i-1].EngineVersion, v.EngineVersion) >= 0 {
				t.Errorf("%s versions out of order: %s before %s", engine, vs[i-1].EngineVersion, v.EngineVersion)
			}
		}
	}
	if vs := Versions("mysql"); vs != nil {
		t.Errorf("Versions(mysql) = %v, want none", vs)
	}
}

func TestFamiliesAreConsistent(t *testing.T) {
	t.Parallel()
	want := []string{
		"redis2.6", "redis2.8", "redis3.2", "redis4.0", "redis5.0", "redis6.x", "redis7",
		"valkey7", "valkey8", "valkey9",
		"memcached1.4", "memcached1.5", "memcached1.6",
	}
	if diff := cmp.Diff(want, Families()); diff != "" {
		t.Errorf("Families() (-want +got):\n%s", diff)
	}
	for _, name := range Families() {
		f, _ := Family(name)
		names := map[string]bool{}
		for i, p := range f.Parameters {
			if names[p.ParameterName] {
				t.Errorf("%s: parameter %s twice", name, p.ParameterName)
			}
			names[p.ParameterName] = true
			if i > 0 && f.Parameters[i-1].ParameterName >= p.ParameterName {
				t.Errorf("%s: parameters not sorted at %s", name, p.ParameterName)
			}
			if p.ParameterName == "" || strings.ContainsAny(p.ParameterName, " \t") {
				t.Errorf("%s: bad parameter name %q", name, p.ParameterName)
			}
			if p.Source != "system" {
				t.Errorf("%s %s: Source %q", name, p.ParameterName, p.Source)
			}
			switch p.ChangeType {
			case "", ChangeImmediate, ChangeRequiresReboot:
			default:
				t.Errorf("%s %s: ChangeType %q", name, p.ParameterName, p.ChangeType)
			}
			if CompareVersions(p.MinimumEngineVersion, f.FirstEngineVersion) < 0 {
				t.Errorf("%s %s: MinimumEngineVersion %s below the family's %s", name, p.ParameterName, p.MinimumEngineVersion, f.FirstEngineVersion)
			}
		}
		for _, np := range f.CacheNodeTypeSpecificParameters {
			if names[np.ParameterName] {
				t.Errorf("%s: %s is both a parameter and a node-type-specific one", name, np.ParameterName)
			}
			names[np.ParameterName] = true
			nodes := map[string]bool{}
			for _, v := range np.CacheNodeTypeSpecificValues {
				if nodes[v.CacheNodeType] {
					t.Errorf("%s %s: node type %s twice", name, np.ParameterName, v.CacheNodeType)
				}
				nodes[v.CacheNodeType] = true
				if _, err := strconv.ParseInt(v.Value, 10, 64); err != nil {
					t.Errorf("%s %s %s: value %q is not an integer", name, np.ParameterName, v.CacheNodeType, v.Value)
				}
			}
		}
		for _, g := range f.DefaultParameterGroups {
			if g != "default."+name && g != "default."+name+".cluster.on" {
				t.Errorf("%s: default group %q does not belong to it", name, g)
			}
		}
		for k := range f.ClusterOnParameterValues {
			if !names[k] {
				t.Errorf("%s: cluster.on value for unknown parameter %s", name, k)
			}
		}
	}
}

// A modifiable parameter whose allowed values are a list or a range has its
// default among them.
func TestDefaultsWithinAllowedValues(t *testing.T) {
	t.Parallel()
	for _, name := range Families() {
		ps, _ := Parameters(name)
		for _, p := range ps {
			if !p.IsModifiable || p.AllowedValues == "" || p.ParameterValue == "" {
				continue
			}
			ok, parseable := allows(p.AllowedValues, p.ParameterValue)
			if parseable && !ok {
				t.Errorf("%s %s: default %q not in allowed values %q", name, p.ParameterName, p.ParameterValue, p.AllowedValues)
			}
		}
	}
}

// allows reports whether value is within the AllowedValues syntax the API
// uses: "a,b,c", "lo-hi", "lo-", "-".
func allows(allowed, value string) (ok, parseable bool) {
	if strings.Contains(allowed, ",") || !strings.Contains(allowed, "-") || strings.ContainsAny(allowed, "abcdefghijklmnopqrstuvwxyz") {
		return slices.Contains(strings.Split(allowed, ","), value), true
	}
	lo, hi, _ := strings.Cut(allowed, "-")
	v, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return false, true
	}
	if lo != "" {
		n, err := strconv.ParseInt(lo, 10, 64)
		if err != nil {
			return false, false
		}
		if v < n {
			return false, true
		}
	}
	if hi != "" {
		n, err := strconv.ParseInt(hi, 10, 64)
		if err != nil {
			return false, false
		}
		if v > n {
			return false, true
		}
	}
	return true, true
}

// Spot checks: each value below was read in the source named in SOURCES.md.
func TestSpotChecks(t *testing.T) {
	t.Parallel()
	get := func(t *testing.T, family, name string) EngineDefaultParameter {
		t.Helper()
		p, ok := Parameter(family, name)
		if !ok {
			t.Fatalf("%s has no parameter %s", family, name)
		}
		return p
	}
	t.Run("redis7 maxmemory-policy", func(t *testing.T) {
		p := get(t, "redis7", "maxmemory-policy")
		if p.ParameterValue != "volatile-lru" || !p.IsModifiable || p.ChangeType != ChangeImmediate || p.DataType != "string" {
			t.Errorf("got %+v", p)
		}
		for _, v := range []string{"allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl", "noeviction"} {
			if !slices.Contains(strings.Split(p.AllowedValues, ","), v) {
				t.Errorf("AllowedValues %q lacks %s", p.AllowedValues, v)
			}
		}
	})
	t.Run("redis2.6 maxmemory-policy has no lfu", func(t *testing.T) {
		p := get(t, "redis2.6", "maxmemory-policy")
		if diff := cmp.Diff("volatile-lru,allkeys-lru,volatile-random,allkeys-random,volatile-ttl,noeviction", p.AllowedValues); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("memcached1.6 chunk_size", func(t *testing.T) {
		p := get(t, "memcached1.6", "chunk_size")
		want := EngineDefaultParameter{
			ParameterName: "chunk_size", ParameterValue: "48",
			Description: "The minimum amount, in bytes, of space to allocate for the smallest item's key, value, and flags.",
			Source:      "system", DataType: "integer", IsModifiable: true,
			MinimumEngineVersion: "1.6.6", ChangeType: ChangeRequiresReboot,
		}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("memcached1.5 drops modern, adds no_modern", func(t *testing.T) {
		if _, ok := Parameter("memcached1.5", "modern"); ok {
			t.Error("memcached1.5 still has modern")
		}
		if p := get(t, "memcached1.5", "no_modern"); p.ParameterValue != "1" || p.AllowedValues != "0,1" || p.MinimumEngineVersion != "1.5.10" {
			t.Errorf("got %+v", p)
		}
		if p := get(t, "memcached1.4", "modern"); p.MinimumEngineVersion != "1.4.33" {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("redis2.8 close-on-slave-write from 2.8.23", func(t *testing.T) {
		// botocore's DescribeEngineDefaultParameters example reports
		// MinimumEngineVersion 2.8.23 here and 2.8.6 for inherited ones.
		if p := get(t, "redis2.8", "close-on-slave-write"); p.MinimumEngineVersion != "2.8.23" || p.ParameterValue != "yes" {
			t.Errorf("got %+v", p)
		}
		if p := get(t, "redis2.8", "activerehashing"); p.MinimumEngineVersion != "2.8.6" || p.ChangeType != ChangeRequiresReboot {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("redis3.2 changes", func(t *testing.T) {
		if p := get(t, "redis3.2", "tcp-keepalive"); p.ParameterValue != "300" {
			t.Errorf("tcp-keepalive default %q, want 300", p.ParameterValue)
		}
		if _, ok := Parameter("redis3.2", "list-max-ziplist-entries"); ok {
			t.Error("redis3.2 still has list-max-ziplist-entries")
		}
		f, _ := Family("redis3.2")
		if diff := cmp.Diff([]string{"default.redis3.2", "default.redis3.2.cluster.on"}, f.DefaultParameterGroups); diff != "" {
			t.Error(diff)
		}
		if f.ClusterOnParameterValues["cluster-enabled"] != "yes" || get(t, "redis3.2", "cluster-enabled").ParameterValue != "no" {
			t.Errorf("cluster-enabled: %v", f.ClusterOnParameterValues)
		}
	})
	t.Run("redis5.0 renames", func(t *testing.T) {
		for _, gone := range []string{"slave-allow-chaining", "min-slaves-to-write", "close-on-slave-write", "repl-timeout"} {
			if _, ok := Parameter("redis5.0", gone); ok {
				t.Errorf("redis5.0 still has %s", gone)
			}
		}
		if p := get(t, "redis5.0", "min-replicas-max-lag"); p.ParameterValue != "10" || p.MinimumEngineVersion != "5.0.0" {
			t.Errorf("got %+v", p)
		}
		if p := get(t, "redis5.0", "rename-commands"); p.MinimumEngineVersion != "5.0.3" {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("redis6.x added in 6.2", func(t *testing.T) {
		if p := get(t, "redis6.x", "acl-pubsub-default"); p.MinimumEngineVersion != "6.2" || p.ParameterValue != "allchannels" || p.AllowedValues != "resetchannels,allchannels" {
			t.Errorf("got %+v", p)
		}
		if p := get(t, "redis6.x", "tracking-table-max-keys"); p.ParameterValue != "1000000" || p.MinimumEngineVersion != "6.0" {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("redis7 and valkey7", func(t *testing.T) {
		if p := get(t, "redis7", "activerehashing"); p.IsModifiable {
			t.Error("redis7 activerehashing is modifiable")
		}
		if _, ok := Parameter("redis7", "hash-max-ziplist-entries"); ok {
			t.Error("redis7 still has hash-max-ziplist-entries")
		}
		if p := get(t, "redis7", "hash-max-listpack-entries"); p.ParameterValue != "512" || p.AllowedValues != "0-" {
			t.Errorf("got %+v", p)
		}
		// "Valkey 7.2 parameters are the same as Redis OSS 7 parameters."
		r, _ := Parameters("redis7")
		v, _ := Parameters("valkey7")
		strip := func(ps []EngineDefaultParameter) []EngineDefaultParameter {
			for i := range ps {
				ps[i].MinimumEngineVersion = ""
			}
			return ps
		}
		if diff := cmp.Diff(strip(r), strip(v)); diff != "" {
			t.Errorf("redis7 and valkey7 differ (-redis7 +valkey7):\n%s", diff)
		}
	})
	t.Run("valkey8", func(t *testing.T) {
		if p := get(t, "valkey8", "repl-backlog-size"); p.ParameterValue != "10485760" {
			t.Errorf("repl-backlog-size %q", p.ParameterValue)
		}
		if p := get(t, "valkey8", "commandlog-large-request-max-len"); p.AllowedValues != "0-1024" || p.MinimumEngineVersion != "8.1" {
			t.Errorf("got %+v", p)
		}
		if p := get(t, "valkey8", "search-default-timeout-ms"); p.ParameterValue != "50000" || p.AllowedValues != "1-60000" || p.MinimumEngineVersion != "8.2" {
			t.Errorf("got %+v", p)
		}
		for _, gone := range []string{"lazyfree-lazy-eviction", "lazyfree-lazy-user-del", "replica-lazy-flush"} {
			if _, ok := Parameter("valkey8", gone); ok {
				t.Errorf("valkey8 still has %s", gone)
			}
		}
	})
	t.Run("valkey9 cluster-databases", func(t *testing.T) {
		if p := get(t, "valkey9", "cluster-databases"); p.ParameterValue != "0" || p.AllowedValues != "1-10000" || p.IsModifiable {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("maxclients per node type", func(t *testing.T) {
		p := get(t, "redis6.x", "maxclients")
		if p.ParameterValue != "65000" || !slices.Contains(p.CacheNodeTypeSpecificValues, CacheNodeTypeSpecificValue{CacheNodeType: "cache.t3.small", Value: "46000"}) {
			t.Errorf("got %+v", p)
		}
	})
}

func TestNodeTypeSpecificParameters(t *testing.T) {
	t.Parallel()
	value := func(t *testing.T, family, param, node string) string {
		t.Helper()
		ps, ok := CacheNodeTypeSpecificParameters(family)
		if !ok {
			t.Fatalf("no family %s", family)
		}
		for _, p := range ps {
			if p.ParameterName != param {
				continue
			}
			for _, v := range p.CacheNodeTypeSpecificValues {
				if v.CacheNodeType == node {
					return v.Value
				}
			}
			t.Fatalf("%s %s has no value for %s", family, param, node)
		}
		t.Fatalf("%s has no node-type-specific %s", family, param)
		return ""
	}
	for _, tc := range []struct{ family, param, node, want string }{
		{"redis7", "maxmemory", "cache.t3.micro", "536870912"},
		{"redis2.8", "maxmemory", "cache.m1.small", "943718400"},
		{"valkey8", "maxmemory", "cache.r7g.large", "14037181030"},
		{"valkey8", "maxmemory", "cache.c8gn.large", "3330020474"},
		{"redis2.8", "client-output-buffer-limit-slave-hard-limit", "cache.t2.micro", "58195968"},
		{"redis5.0", "client-output-buffer-limit-replica-soft-limit", "cache.m5.large", "685454275"},
		{"memcached1.6", "max_cache_memory", "cache.m5.large", "6537"},
		{"memcached1.4", "num_threads", "cache.r6g.16xlarge", "64"},
	} {
		if got := value(t, tc.family, tc.param, tc.node); got != tc.want {
			t.Errorf("%s %s %s = %s, want %s", tc.family, tc.param, tc.node, got, tc.want)
		}
	}
}

func TestNodeTypes(t *testing.T) {
	t.Parallel()
	n, ok := NodeType("cache.t3.micro")
	if !ok {
		t.Fatal("no cache.t3.micro")
	}
	// 0.5 GiB.
	if n.MaxMemory != 512<<20 || n.MemcachedMaxCacheMemoryMB != 512 || n.MemcachedNumThreads != 2 {
		t.Errorf("cache.t3.micro = %+v", n)
	}
	if diff := cmp.Diff([]string{"redis", "valkey", "memcached"}, n.Engines); diff != "" {
		t.Error(diff)
	}
	if _, ok := NodeType("cache.x9.huge"); ok {
		t.Error("unknown node type found")
	}
	all := NodeTypes()
	if len(all) == 0 {
		t.Fatal("no node types")
	}
	for _, n := range all {
		if !strings.HasPrefix(n.Name, "cache.") || len(n.Engines) == 0 {
			t.Errorf("bad node type %+v", n)
		}
		if slices.Contains(n.Engines, "redis") || slices.Contains(n.Engines, "valkey") {
			if n.MaxMemory <= 0 {
				t.Errorf("%s: no maxmemory", n.Name)
			}
		}
	}
}

// Callers get copies: changing a result does not change the catalogue.
func TestResultsAreCopies(t *testing.T) {
	t.Parallel()
	f, _ := Family("redis6.x")
	f.Parameters[0].ParameterValue = "changed"
	f.DefaultParameterGroups[0] = "changed"
	f.ClusterOnParameterValues["cluster-enabled"] = "changed"
	f.CacheNodeTypeSpecificParameters[0].CacheNodeTypeSpecificValues[0].Value = "changed"
	ps, _ := Parameters("redis6.x")
	ps[0].ParameterName = "changed"
	p, _ := Parameter("redis6.x", "maxclients")
	p.CacheNodeTypeSpecificValues[0].Value = "changed"
	n, _ := NodeType("cache.t3.micro")
	n.Engines[0] = "changed"
	fams := Families()
	fams[0] = "changed"

	g, _ := Family("redis6.x")
	for _, s := range []string{g.Parameters[0].ParameterValue, g.DefaultParameterGroups[0], g.ClusterOnParameterValues["cluster-enabled"],
		g.CacheNodeTypeSpecificParameters[0].CacheNodeTypeSpecificValues[0].Value, Families()[0]} {
		if s == "changed" {
			t.Fatal("a caller's change reached the catalogue")
		}
	}
	if q, _ := Parameter("redis6.x", "maxclients"); q.CacheNodeTypeSpecificValues[0].Value == "changed" {
		t.Fatal("a caller's change reached the catalogue")
	}
	if m, _ := NodeType("cache.t3.micro"); m.Engines[0] == "changed" {
		t.Fatal("a caller's change reached the catalogue")
	}
}

func TestUnknownNames(t *testing.T) {
	t.Parallel()
	if _, ok := Family("redis9.9"); ok {
		t.Error("Family(redis9.9) found")
	}
	if _, ok := Parameters("redis9.9"); ok {
		t.Error("Parameters(redis9.9) found")
	}
	if _, ok := Parameter("redis7", "no-such-parameter"); ok {
		t.Error("Parameter(redis7, no-such-parameter) found")
	}
	if _, ok := Parameter("redis9.9", "maxclients"); ok {
		t.Error("Parameter(redis9.9, maxclients) found")
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"6.2", "7.0", -1}, {"7.0", "6.2", 1}, {"1.4.5", "1.4.24", -1}, {"7.1", "7.1", 0},
		{"7.0", "7.0.0", -1}, {"6.x", "6.2", -1}, {"10.0", "9.1", 1},
	} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
