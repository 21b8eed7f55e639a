package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/elasticache-server/elasticache-server/server"
)

// withSeed makes the server import the state document at path at start,
// if its store is empty.
func withSeed(path string) serverOption {
	return func(c *server.Config) { c.Seed = path }
}

// stateScope is one account and region of the snapshot tests.
type stateScope struct{ account, region string }

var stateScopes = []stateScope{
	{"111111111111", "us-east-1"}, {"111111111111", "eu-west-1"},
	{"222222222222", "us-east-1"}, {"222222222222", "eu-west-1"},
}

// fillState gives every scope groups with tags, ingress authorized and
// revoked, a customised default group and a deleted group's events,
// through the Go SDK.
func fillState(tb testing.TB, addr string) {
	tb.Helper()
	ctx := tb.Context()
	for i, sc := range stateScopes {
		c := client(tb, addr, sc.account, sc.region)
		create(tb, c, fmt.Sprintf("Web-%d", i), "web tier <&> ✓",
			types.Tag{Key: aws.String("env"), Value: aws.String("prod")}, types.Tag{Key: aws.String("team"), Value: aws.String("cache @ " + sc.region)})
		create(tb, c, "cache", "cache tier")
		create(tb, c, "gone", "deleted below")
		for _, ec2 := range []string{"app", "old"} {
			if _, err := c.AuthorizeCacheSecurityGroupIngress(ctx, &elasticache.AuthorizeCacheSecurityGroupIngressInput{
				CacheSecurityGroupName: aws.String("cache"), EC2SecurityGroupName: aws.String(ec2), EC2SecurityGroupOwnerId: aws.String("123456789012"),
			}); err != nil {
				tb.Fatalf("authorize %s: %v", ec2, err)
			}
		}
		if _, err := c.RevokeCacheSecurityGroupIngress(ctx, &elasticache.RevokeCacheSecurityGroupIngressInput{
			CacheSecurityGroupName: aws.String("cache"), EC2SecurityGroupName: aws.String("old"), EC2SecurityGroupOwnerId: aws.String("123456789012"),
		}); err != nil {
			tb.Fatalf("revoke: %v", err)
		}
		if _, err := c.AddTagsToResource(ctx, &elasticache.AddTagsToResourceInput{
			ResourceName: aws.String(groupARN(sc.region, sc.account, "default")), Tags: []types.Tag{{Key: aws.String("touched"), Value: aws.String("")}},
		}); err != nil {
			tb.Fatalf("tag default: %v", err)
		}
		if _, err := c.DeleteCacheSecurityGroup(ctx, &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("gone")}); err != nil {
			tb.Fatalf("delete: %v", err)
		}
	}
}

// sdkState is what the SDK shows of one scope.
type sdkState struct {
	Groups []types.CacheSecurityGroup
	Tags   map[string][]types.Tag
	Events []types.Event
}

// sdkStates reads every scope through the SDK.
func sdkStates(tb testing.TB, addr string) []sdkState {
	tb.Helper()
	var out []sdkState
	for _, sc := range stateScopes {
		c := client(tb, addr, sc.account, sc.region)
		st := sdkState{Groups: listAll(tb, c, 0), Tags: map[string][]types.Tag{}}
		for _, g := range st.Groups {
			tags, err := c.ListTagsForResource(tb.Context(), &elasticache.ListTagsForResourceInput{ResourceName: g.ARN})
			if err != nil {
				tb.Fatalf("list tags of %s: %v", aws.ToString(g.ARN), err)
			}
			st.Tags[aws.ToString(g.CacheSecurityGroupName)] = tags.TagList
		}
		ev, err := c.DescribeEvents(tb.Context(), allEvents())
		if err != nil {
			tb.Fatalf("describe events: %v", err)
		}
		st.Events = ev.Events
		out = append(out, st)
	}
	return out
}

var sdkStateCmp = []cmp.Option{
	cmpopts.IgnoreUnexported(types.CacheSecurityGroup{}, types.EC2SecurityGroup{}, types.Tag{}, types.Event{}),
	cmpopts.EquateEmpty(),
}

// exportHTTP is GET /_admin/state.
func exportHTTP(tb testing.TB, a *admin) []byte {
	tb.Helper()
	status, body := a.do(http.MethodGet, "/_admin/state", "")
	if status != http.StatusOK {
		tb.Fatalf("GET /_admin/state: HTTP %d: %s", status, body)
	}
	return body
}

const emptyState = `{
  "format": "elasticache-server/state",
  "version": 1,
  "accounts": []
}
`

// export → reset → import → export is byte-identical, and the SDK sees
// what it saw before.
func TestStateRoundTripOverTheAdminAPI(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	fillState(t, s.Addr)
	before := sdkStates(t, s.Addr)
	doc := exportHTTP(t, a)
	if !bytes.Contains(doc, []byte(`"name": "web-0"`)) || !bytes.Contains(doc, []byte(`"description": "web tier <&> ✓"`)) ||
		!bytes.Contains(doc, []byte(`"revoked": "2026-11-23T12:00:00Z"`)) {
		t.Fatalf("export lacks what was created:\n%s", doc)
	}

	var reset struct {
		Reset   string
		Removed struct{ CacheSecurityGroups, Events int }
	}
	a.must(http.MethodPost, "/_admin/reset", "", http.StatusOK, &reset)
	if reset.Reset != "all" || reset.Removed.CacheSecurityGroups != 12 || reset.Removed.Events != 28 {
		t.Errorf("reset answered %+v, want all, 12 groups and 28 events", reset)
	}
	if got := exportHTTP(t, a); string(got) != emptyState {
		t.Errorf("state after reset:\n%s", got)
	}
	for i, st := range sdkStates(t, s.Addr) {
		if names := groupNames(st.Groups); len(names) != 1 || names[0] != "default" || len(st.Events) != 0 {
			t.Errorf("scope %v after reset: groups %v, %d events", stateScopes[i], names, len(st.Events))
		}
	}

	var imported struct {
		Imported struct{ Accounts, Regions, CacheSecurityGroups, Events int }
	}
	a.must(http.MethodPost, "/_admin/state", string(doc), http.StatusOK, &imported)
	if got := imported.Imported; got.Accounts != 2 || got.Regions != 4 || got.CacheSecurityGroups != 12 || got.Events != 28 {
		t.Errorf("import answered %+v", got)
	}
	if again := exportHTTP(t, a); !bytes.Equal(again, doc) {
		t.Fatalf("export → reset → import → export differs:\n%s", cmp.Diff(string(doc), string(again)))
	}
	if d := cmp.Diff(before, sdkStates(t, s.Addr), sdkStateCmp...); d != "" {
		t.Errorf("the SDK sees another state after the round trip (-before +after):\n%s", d)
	}
	// The rebuilt quota counter counts the imported groups: web-N and cache.
	c := client(t, s.Addr, "111111111111", "us-east-1")
	for i := 0; i < 48; i++ {
		create(t, c, fmt.Sprintf("more-%d", i), "up to the quota")
	}
	_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("one-too-many"), Description: aws.String("d")})
	wantErr[*types.CacheSecurityGroupQuotaExceededFault](t, err, apiErr{status: 400, code: "QuotaExceeded.CacheSecurityGroup", msg: "Quota exceeded for cache security groups."})
}

func TestResetOneAccountOverTheAdminAPI(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin("admin-secret"))
	a := newAdmin(t, s, "admin-secret")
	fillState(t, s.Addr)
	before := sdkStates(t, s.Addr)
	var reset struct {
		Reset   string
		Removed struct{ CacheSecurityGroups, Events int }
	}
	a.must(http.MethodPost, "/_admin/reset?account=111111111111", "", http.StatusOK, &reset)
	if reset.Reset != "111111111111" || reset.Removed.CacheSecurityGroups != 6 || reset.Removed.Events != 14 {
		t.Errorf("reset answered %+v", reset)
	}
	after := sdkStates(t, s.Addr)
	for i := 0; i < 2; i++ {
		if names := groupNames(after[i].Groups); len(names) != 1 || names[0] != "default" || len(after[i].Events) != 0 ||
			len(after[i].Tags["default"]) != 0 || len(after[i].Groups[0].EC2SecurityGroups) != 0 {
			t.Errorf("scope %v after its reset: %+v", stateScopes[i], after[i])
		}
	}
	if d := cmp.Diff(before[2:], after[2:], sdkStateCmp...); d != "" {
		t.Errorf("the other account changed (-before +after):\n%s", d)
	}
	var st struct{ Accounts []struct{ ID string } }
	if err := json.Unmarshal(exportHTTP(t, a), &st); err != nil || len(st.Accounts) != 1 || st.Accounts[0].ID != "222222222222" {
		t.Errorf("accounts left: %+v (%v)", st.Accounts, err)
	}
}

func TestAdminStateRefusesBadRequests(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	fillState(t, s.Addr)
	doc := exportHTTP(t, a)

	// A document with problems: 400 with every one of them, nothing written.
	bad := strings.Replace(strings.Replace(string(doc), `"name": "web-0"`, `"name": "web_0"`, 1), `"ownerId": "123456789012"`, `"ownerId": "me"`, 1)
	status, body := a.do(http.MethodPost, "/_admin/state", bad)
	var refused struct {
		Error struct {
			Code, Message string
			Problems      []struct{ Path, Message string }
			Omitted       int
		}
	}
	if err := json.Unmarshal(body, &refused); err != nil || status != 400 || refused.Error.Code != "InvalidStateDocument" {
		t.Fatalf("bad document: HTTP %d %s", status, body)
	}
	want := []struct{ Path, Message string }{
		{"$.accounts[0].regions[0].cacheSecurityGroups[0].ec2SecurityGroups[0].ownerId", `must be a 12-digit AWS account ID, not "me"`},
		{"$.accounts[0].regions[1].cacheSecurityGroups[2].name", "must contain only ASCII letters, digits and hyphens."},
	}
	if d := cmp.Diff(want, refused.Error.Problems); d != "" || refused.Error.Message != "the state document has 2 problem(s); nothing was written" {
		t.Errorf("problems (-want +got):\n%s\nmessage %q", d, refused.Error.Message)
	}
	if again := exportHTTP(t, a); !bytes.Equal(again, doc) {
		t.Errorf("a refused import changed the state:\n%s", cmp.Diff(string(doc), string(again)))
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/_admin/state", `{"format": "elasticache-server/state", "version": 2, "accounts": []}`, 400, "InvalidStateDocument"},
		{"POST", "/_admin/state", `not json`, 400, "InvalidStateDocument"},
		{"POST", "/_admin/reset?account=12345", "", 400, "InvalidParameter"},
		{"POST", "/_admin/reset?account=111111111111&account=222222222222", "", 400, "InvalidParameter"},
		{"POST", "/_admin/reset?region=us-east-1", "", 400, "InvalidParameter"},
		{"GET", "/_admin/reset", "", 405, "MethodNotAllowed"},
		{"DELETE", "/_admin/state", "", 405, "MethodNotAllowed"},
	} {
		status, body := a.do(tc.method, tc.path, tc.body)
		var e adminError
		if json.Unmarshal(body, &e) != nil || status != tc.status || e.Error.Code != tc.code {
			t.Errorf("%s %s: HTTP %d %s, want %d %s", tc.method, tc.path, status, body, tc.status, tc.code)
		}
	}
	if again := exportHTTP(t, a); !bytes.Equal(again, doc) {
		t.Errorf("refused requests changed the state")
	}
}

// The admin API is not there without --admin, and wants its token when
// one is set.
func TestAdminStateAccess(t *testing.T) {
	t.Parallel()
	off := startServer(t)
	routes := []struct{ method, path, body string }{
		{"GET", "/_admin/state", ""}, {"POST", "/_admin/state", emptyState}, {"POST", "/_admin/reset", ""},
		{"POST", "/_admin/reset?account=000000000000", ""},
	}
	create(t, client(t, off.Addr, otherKey, defaultRegion), "kept", "survives")
	for _, r := range routes {
		status, body := newAdmin(t, off, "").do(r.method, r.path, r.body)
		var e adminError
		if json.Unmarshal(body, &e) != nil || status != 404 || e.Error.Code != "NotFound" {
			t.Errorf("without --admin: %s %s: HTTP %d %s, want 404", r.method, r.path, status, body)
		}
	}
	describe(t, client(t, off.Addr, otherKey, defaultRegion), "kept")

	const token = "state-admin-token"
	on := startServer(t, withAdmin(token))
	create(t, client(t, on.Addr, otherKey, defaultRegion), "kept", "survives")
	for _, tok := range []string{"", "wrong"} {
		for _, r := range routes {
			status, body := newAdmin(t, on, tok).do(r.method, r.path, r.body)
			var e adminError
			if json.Unmarshal(body, &e) != nil || status != 401 || e.Error.Code != "Unauthorized" {
				t.Errorf("token %q: %s %s: HTTP %d %s, want 401", tok, r.method, r.path, status, body)
			}
		}
	}
	describe(t, client(t, on.Addr, otherKey, defaultRegion), "kept")
	if doc := exportHTTP(t, newAdmin(t, on, token)); !bytes.Contains(doc, []byte(`"name": "kept"`)) {
		t.Errorf("with the token: %s", doc)
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	src := startServer(t, withAdmin(""))
	fillState(t, src.Addr)
	doc := exportHTTP(t, newAdmin(t, src, ""))
	want := sdkStates(t, src.Addr)
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, doc, 0o600); err != nil {
		t.Fatal(err)
	}

	// An empty store is seeded.
	s := startServer(t, withAdmin(""), withSeed(seed))
	if got := exportHTTP(t, newAdmin(t, s, "")); !bytes.Equal(got, doc) {
		t.Fatalf("seeded state:\n%s", cmp.Diff(string(doc), string(got)))
	}
	if d := cmp.Diff(want, sdkStates(t, s.Addr), sdkStateCmp...); d != "" {
		t.Errorf("the SDK sees another state after seeding (-want +got):\n%s", d)
	}

	// A store with anything in it is left alone, also across a restart
	// after the seeded state was changed.
	c := client(t, s.Addr, "111111111111", "us-east-1")
	if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("web-0")}); err != nil {
		t.Fatal(err)
	}
	changed := exportHTTP(t, newAdmin(t, s, ""))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, withAdmin(""), withSeed(seed), withDataDir(s.DataDir))
	if got := exportHTTP(t, newAdmin(t, s2, "")); !bytes.Equal(got, changed) {
		t.Errorf("a non-empty store was seeded again:\n%s", cmp.Diff(string(changed), string(got)))
	}
	if names := listNames(t, client(t, s2.Addr, "111111111111", "us-east-1")); strings.Contains(strings.Join(names, ","), "web-0") {
		t.Errorf("groups after restart: %v", names)
	}
}

// runBinary runs the server binary with args and stdin, under a deadline
// that only catches a hang, in an environment without ELASTICACHE_*
// settings.
func runBinary(t *testing.T, bin string, stdin []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ELASTICACHE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within 60s\nstderr:\n%s", bin, args, errb.String())
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// storeArgs are the binary's flags for the store a test server on dataDir
// uses: the bbolt file in it, or on an etcd run its key prefix.
func storeArgs(dataDir string) []string {
	cfg := server.Config{DataDir: dataDir}
	useStore(&cfg)
	if cfg.Store != server.StoreEtcd {
		return []string{"--data-dir", dataDir}
	}
	return []string{"--store", "etcd", "--etcd-endpoints", cfg.EtcdEndpoints, "--etcd-prefix", cfg.EtcdPrefix}
}

// The export and import commands of the real binary: on bbolt refused
// while a server holds the data directory, on etcd served alongside it;
// byte for byte the admin API's document; a bad --seed stops the process.
func TestStateCommands(t *testing.T) {
	t.Parallel()
	bin := clientsBuildServer(t)
	s := startServer(t, withAdmin(""))
	fillState(t, s.Addr)
	doc := exportHTTP(t, newAdmin(t, s, ""))
	want := sdkStates(t, s.Addr)
	run := func(stdin []byte, command string, store []string) (string, string, int) {
		return runBinary(t, bin, stdin, append([]string{command}, store...)...)
	}

	if etcdEndpoints == "" {
		// The server holds the bbolt file: a clear error naming the directory.
		for _, command := range []string{"export", "import"} {
			stdout, stderr, code := run(doc, command, storeArgs(s.DataDir))
			if code != 1 || stdout != "" || !strings.Contains(stderr, "data directory "+s.DataDir+" is in use by another elasticache-server") {
				t.Errorf("%s while a server holds the directory: exit %d, stdout %q, stderr:\n%s", command, code, stdout, stderr)
			}
		}
		if got := exportHTTP(t, newAdmin(t, s, "")); !bytes.Equal(got, doc) {
			t.Fatal("a refused import changed the state")
		}
	} else {
		// etcd is shared: the command reads what the running server wrote.
		if stdout, stderr, code := run(nil, "export", storeArgs(s.DataDir)); code != 0 || stdout != string(doc) {
			t.Fatalf("export beside a server on etcd: exit %d, stderr:\n%s\n%s", code, stderr, cmp.Diff(string(doc), stdout))
		}
	}

	// Free: the command writes what the admin API answered.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(nil, "export", storeArgs(s.DataDir))
	if code != 0 || stdout != string(doc) {
		t.Fatalf("export: exit %d, stderr:\n%s\ndiff (-admin API +command):\n%s", code, stderr, cmp.Diff(string(doc), stdout))
	}

	// Import into a new store, export it again, and serve it.
	dir := filepath.Join(t.TempDir(), "imported")
	stdout, stderr, code = run(doc, "import", storeArgs(dir))
	if code != 0 || stdout != "imported 2 accounts, 4 regions, 12 cache security groups, 0 cache subnet groups, 0 cache parameter groups, 0 users, 0 user groups, 0 cache clusters, 0 replication groups, 28 events\n" {
		t.Fatalf("import: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	stdout, _, code = run(nil, "export", storeArgs(dir))
	if code != 0 || stdout != string(doc) {
		t.Fatalf("export of the import: exit %d:\n%s", code, cmp.Diff(string(doc), stdout))
	}
	s2 := startServer(t, withDataDir(dir))
	if d := cmp.Diff(want, sdkStates(t, s2.Addr), sdkStateCmp...); d != "" {
		t.Errorf("the SDK sees another state after export and import (-want +got):\n%s", d)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}

	// A refused document: every problem on stderr, nothing written.
	_, stderr, code = run([]byte(strings.Replace(string(doc), `"region": "us-east-1"`, `"region": "moon"`, 1)), "import", storeArgs(dir))
	if code != 1 || !strings.Contains(stderr, "invalid state document (1 problem; nothing was written)\n  $.accounts[0].regions[1].region: must be a region name such as us-east-1, not \"moon\"") {
		t.Errorf("bad import: exit %d, stderr:\n%s", code, stderr)
	}
	if stdout, _, _ := run(nil, "export", storeArgs(dir)); stdout != string(doc) {
		t.Error("a refused import changed the store")
	}

	// A bad seed file stops the server before it listens.
	badSeed := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(badSeed, []byte(`{"format": "elasticache-server/state", "version": 9, "accounts": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runBinary(t, bin, nil, append([]string{"--listen", "127.0.0.1:0", "--seed", badSeed}, storeArgs(t.TempDir())...)...)
	if code != 1 || !strings.Contains(stderr, "--seed "+badSeed+": invalid state document (1 problem; nothing was written)\n  $.version: the document has version 9, newer than the 1 this server reads; upgrade elasticache-server") {
		t.Errorf("bad seed: exit %d, stderr:\n%s", code, stderr)
	}
}
