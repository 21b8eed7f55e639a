package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// fakeEngines is an engine.Engines of processes that are entries in a
// map: it records every call, runs what it is told, and lets a test make
// calls fail, hook into them, and make a process exit.
type fakeEngines struct {
	mu        sync.Mutex
	installed map[string]bool
	// procs are the running nodes by key; a process outlives the
	// reconciler that started it, as a real one outlives a kill -9.
	procs map[string]engine.Spec
	// starts counts the processes started per key (an adoption is none).
	starts map[string]int
	// data are the nodes with a data directory, from their first start
	// until Remove: what Nodes lists.
	data  map[string]bool
	calls []string
	// failEnsure makes Ensure fail for keys it returns an error for.
	failEnsure func(key string) error
	// onEnsure runs after a successful Ensure.
	onEnsure func(s engine.Spec)
	// applied are the parameters Apply was given, per key.
	applied map[string]map[string]string
	exited  chan string
}

func newFakeEngines(installed ...string) *fakeEngines {
	f := &fakeEngines{installed: map[string]bool{}, procs: map[string]engine.Spec{}, starts: map[string]int{}, data: map[string]bool{},
		applied: map[string]map[string]string{}, exited: make(chan string, 8)}
	for _, e := range installed {
		f.installed[e] = true
	}
	return f
}

func (f *fakeEngines) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeEngines) Available(eng string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.installed[eng] {
		return "", fmt.Errorf("%s: not installed", eng)
	}
	return "/usr/bin/" + eng, nil
}

func (f *fakeEngines) Ensure(_ context.Context, s engine.Spec) error {
	f.mu.Lock()
	f.record("ensure %s", s.Key)
	if f.failEnsure != nil {
		if err := f.failEnsure(s.Key); err != nil {
			f.mu.Unlock()
			return err
		}
	}
	if _, ok := f.procs[s.Key]; !ok {
		f.starts[s.Key]++
		f.procs[s.Key] = s
	}
	f.data[s.Key] = true
	hook := f.onEnsure
	f.mu.Unlock()
	if hook != nil {
		hook(s)
	}
	return nil
}

func (f *fakeEngines) Apply(_ context.Context, s engine.Spec, changed map[string]string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("apply %s %s", s.Key, strings.Join(slices.Sorted(maps.Keys(changed)), ","))
	if _, ok := f.procs[s.Key]; !ok {
		return nil, fmt.Errorf("%s: not running", s.Key)
	}
	if f.applied[s.Key] == nil {
		f.applied[s.Key] = map[string]string{}
	}
	maps.Copy(f.applied[s.Key], changed)
	return nil, nil
}

// Reconfigure sets a running node's replication source and users.
func (f *fakeEngines) Reconfigure(_ context.Context, s engine.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("reconfigure %s", s.Key)
	cur, ok := f.procs[s.Key]
	if !ok {
		return fmt.Errorf("%s: not running", s.Key)
	}
	cur.ReplicaOf, cur.Users = s.ReplicaOf, slices.Clone(s.Users)
	f.procs[s.Key] = cur
	return nil
}

func (f *fakeEngines) Restart(_ context.Context, s engine.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("restart %s", s.Key)
	f.starts[s.Key]++
	f.procs[s.Key] = s
	f.data[s.Key] = true
	return nil
}

func (f *fakeEngines) Stop(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("stop %s", key)
	delete(f.procs, key)
	return nil
}

func (f *fakeEngines) Remove(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("remove %s", key)
	delete(f.procs, key)
	delete(f.data, key)
	return nil
}

func (f *fakeEngines) StopAll(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("stopall")
	clear(f.procs)
	return nil
}

func (f *fakeEngines) Exited() <-chan string { return f.exited }

func (f *fakeEngines) Health(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.procs[key]; !ok {
		return errors.New("not running")
	}
	return nil
}

func (f *fakeEngines) Nodes(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.data)), nil
}

// crash ends a process unasked, as a kill of the engine would.
func (f *fakeEngines) crash(key string) {
	f.mu.Lock()
	delete(f.procs, key)
	f.mu.Unlock()
	f.exited <- key
}

func (f *fakeEngines) proc(key string) (engine.Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.procs[key]
	return s, ok
}

func (f *fakeEngines) startsOf(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts[key]
}

// callsLike returns the calls that start with prefix.
func (f *fakeEngines) callsLike(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

var scA = scope{Account: "111111111111", Region: "us-east-1"}

// newCluster is a cluster record as the request path writes it for
// CreateCacheCluster: creating, its nodes unplaced, generation 1.
func newCluster(id, eng string, nodes int) *cacheClusterRecord {
	rec := &cacheClusterRecord{
		ID: id, Engine: eng, NodeType: "cache.t3.micro", NumNodes: nodes, Status: clusterCreating, Generation: 1,
		PreferredAZ: "us-east-1a", ParamStatus: paramsInSync,
	}
	switch eng {
	case "memcached":
		rec.EngineVersion, rec.Family, rec.Port = "1.6.22", "memcached1.6", 11211
	default:
		rec.EngineVersion, rec.Family, rec.Port = "7.1.0", "redis7", 6379
	}
	rec.ParameterGroup = "default." + rec.Family
	for i := 1; i <= nodes; i++ {
		rec.Nodes = append(rec.Nodes, cacheNodeRecord{ID: fmt.Sprintf("%04d", i), Status: nodeCreating, AZ: "us-east-1a", ParamStatus: paramsInSync})
	}
	return rec
}

// recFixture is a service, a fake engine set and a reconciler of both.
type recFixture struct {
	*fixture
	eng *fakeEngines
	r   *Reconciler
}

func newRecFixture(t *testing.T, eng *fakeEngines) *recFixture {
	t.Helper()
	f := &recFixture{fixture: newFixture(t, Config{}), eng: eng}
	f.r = f.newReconciler(eng)
	return f
}

// newReconciler is a fresh reconciler on the fixture's store, as a
// server started again has: nothing in memory.
func (f *recFixture) newReconciler(eng *fakeEngines) *Reconciler {
	var e engine.Engines
	if eng != nil {
		e = eng
	}
	return f.svc.NewReconciler(e, ReconcilerConfig{ServerID: "server-1", Interval: time.Minute})
}

// write runs fn in an Update of the fixture's store.
func (f *recFixture) write(t *testing.T, fn func(tx storage.Tx) error) {
	t.Helper()
	if err := f.store.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// submit stores rec as the request path would: the record (inserted or
// replaced) and its work mark at its generation.
func (f *recFixture) submit(t *testing.T, rec *cacheClusterRecord) {
	t.Helper()
	f.write(t, func(tx storage.Tx) error {
		old, err := cacheClusters.GetStored(tx, scA, rec.ID)
		if err != nil {
			return err
		}
		if old == nil {
			err = cacheClusters.Insert(tx, scA, rec)
		} else {
			err = cacheClusters.Put(tx, scA, rec)
		}
		if err != nil {
			return err
		}
		return markWork(tx, scA, rec.ID, rec.Generation)
	})
}

// change reads a stored cluster, lets fn change it as a request would,
// bumps its generation and marks it, a second after what came before (so
// that the events of each step sort after the last step's).
func (f *recFixture) change(t *testing.T, id string, fn func(rec *cacheClusterRecord)) {
	t.Helper()
	f.clock.Advance(time.Second)
	rec := f.cluster(t, id)
	fn(rec)
	rec.Generation++
	f.submit(t, rec)
}

func (f *recFixture) cluster(t *testing.T, id string) *cacheClusterRecord {
	t.Helper()
	var rec *cacheClusterRecord
	err := f.store.View(context.Background(), func(tx storage.Tx) error {
		var err error
		rec, err = cacheClusters.GetStored(tx, scA, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// marked reports whether the cluster is in the work index.
func (f *recFixture) marked(t *testing.T, id string) bool {
	t.Helper()
	found := false
	err := f.store.View(context.Background(), func(tx storage.Tx) error {
		_, err := tx.Get(workKey(scA, id))
		found = err == nil
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// reservations returns the address index: ip:port → node key.
func (f *recFixture) reservations(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := f.store.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(addrPrefix, nil, func(k, v []byte) (bool, error) {
			out[string(k[len(addrPrefix):])] = string(v)
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// events returns the messages of a cluster's events, oldest first.
func (f *recFixture) events(t *testing.T, id string) []string {
	t.Helper()
	var out []string
	err := f.store.View(context.Background(), func(tx storage.Tx) error {
		return schema.ScanEvents(tx, scA, "", func(_ string, e *schema.Event) (bool, error) {
			if e.SourceID == id {
				if e.SourceType != "cache-cluster" {
					t.Errorf("event %q has SourceType %q", e.Message, e.SourceType)
				}
				out = append(out, e.Message)
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(out)
	return out
}

func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// available creates a cluster and runs a pass that makes it available.
func (f *recFixture) available(t *testing.T, rec *cacheClusterRecord) *cacheClusterRecord {
	t.Helper()
	f.submit(t, rec)
	f.r.workPass(context.Background())
	got := f.cluster(t, rec.ID)
	if got.Status != clusterAvailable {
		t.Fatalf("status after a pass = %q, want available", got.Status)
	}
	return got
}

func TestReconcileCreatePlacesStartsAndCompletes(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.write(t, func(tx storage.Tx) error {
		return parameterGroups.Insert(tx, scA, &parameterGroupRecord{Name: "mine", Family: "redis7",
			Values: map[string]string{"maxmemory-policy": "allkeys-lru"}})
	})
	rec := newCluster("c1", "redis", 1)
	rec.ParameterGroup = "mine"
	f.submit(t, rec)
	f.r.workPass(context.Background())

	got := f.cluster(t, "c1")
	if got.Status != clusterAvailable || got.ParamStatus != paramsInSync {
		t.Fatalf("status %q, params %q; want available, in-sync", got.Status, got.ParamStatus)
	}
	n := got.Nodes[0]
	if n.Status != nodeAvailable || n.Address != "127.1.0.1" || n.Port != 6379 || n.Owner != "server-1" || !n.Created.Equal(f.clock.Now()) {
		t.Fatalf("node = %+v; want available on 127.1.0.1:6379, owned by server-1, created now", n)
	}
	if got.AppliedParams["maxmemory-policy"] != "allkeys-lru" {
		t.Fatalf("AppliedParams = %v, want the group's values", got.AppliedParams)
	}
	if f.marked(t, "c1") {
		t.Fatal("work mark still set after the transition")
	}
	key := "111111111111/us-east-1/c1/0001"
	spec, ok := f.eng.proc(key)
	if !ok {
		t.Fatalf("no engine runs for %s", key)
	}
	if spec.Engine != "redis" || spec.Address != "127.1.0.1" || spec.Port != 6379 {
		t.Fatalf("spec = %+v", spec)
	}
	// cache.t3.micro: 536870912 bytes, 25 % reserved (redis7's default).
	if spec.MaxMemory != 402653184 {
		t.Fatalf("MaxMemory = %d, want 402653184 (75 %% of cache.t3.micro)", spec.MaxMemory)
	}
	if spec.Params["maxmemory-policy"] != "allkeys-lru" || spec.Params["databases"] != "16" {
		t.Fatalf("params: maxmemory-policy %q (want the group's allkeys-lru), databases %q (want the default 16)",
			spec.Params["maxmemory-policy"], spec.Params["databases"])
	}
	if r := f.reservations(t); len(r) != 1 || r["127.1.0.1:6379"] != key {
		t.Fatalf("reservations = %v", r)
	}
	wantStrings(t, "events", f.events(t, "c1"), []string{"Added cache node 0001 in availability zone us-east-1a", "Cache cluster created"})
}

func TestReconcileAddressesAreUniqueAcrossScopes(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis", "memcached"))
	f.available(t, newCluster("c1", "redis", 1))
	f.available(t, newCluster("m1", "memcached", 2))
	scB := scope{Account: "222222222222", Region: "eu-west-1"}
	f.write(t, func(tx storage.Tx) error {
		rec := newCluster("c1", "redis", 1)
		if err := cacheClusters.Insert(tx, scB, rec); err != nil {
			return err
		}
		return markWork(tx, scB, "c1", 1)
	})
	f.r.workPass(context.Background())
	want := map[string]string{
		"127.1.0.1:6379":  "111111111111/us-east-1/c1/0001",
		"127.1.0.2:11211": "111111111111/us-east-1/m1/0001",
		"127.1.0.3:11211": "111111111111/us-east-1/m1/0002",
		"127.1.0.4:6379":  "222222222222/eu-west-1/c1/0001",
	}
	if got := f.reservations(t); !maps.Equal(got, want) {
		t.Fatalf("reservations = %v, want %v", got, want)
	}
}

func TestReconcileSharedAddressUsesPorts(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.r = f.svc.NewReconciler(f.eng, ReconcilerConfig{ServerID: "server-1", SharedAddress: "127.0.0.1"})
	f.available(t, newCluster("c1", "redis", 1))
	got := f.available(t, newCluster("c2", "redis", 1))
	if n := got.Nodes[0]; n.Address != "127.0.0.1" || n.Port != 6380 {
		t.Fatalf("second node at %s:%d, want 127.0.0.1:6380", n.Address, n.Port)
	}
}

// killedStore fails every Update while armed: a server that dies after
// starting an engine and before writing the status looks like this to
// the store.
type killedStore struct {
	storage.Store
	mu    sync.Mutex
	armed bool
}

func (s *killedStore) arm(on bool) { s.mu.Lock(); s.armed = on; s.mu.Unlock() }

func (s *killedStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	s.mu.Lock()
	armed := s.armed
	s.mu.Unlock()
	if armed {
		return errors.New("server killed")
	}
	return s.Store.Update(ctx, fn)
}

func TestReconcileCrashAfterStartIsAdoptedNotDuplicated(t *testing.T) {
	eng := newFakeEngines("redis")
	st := &killedStore{Store: openStore(t, "")}
	svc, err := Open(context.Background(), st, newFakeClock(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &recFixture{fixture: &fixture{svc: svc, clock: svc.clock.(*fakeClock), store: st}, eng: eng}
	f.r = f.newReconciler(eng)
	f.submit(t, newCluster("c1", "redis", 1))
	eng.onEnsure = func(engine.Spec) { st.arm(true) }
	f.r.workPass(context.Background())
	st.arm(false)
	eng.onEnsure = nil

	placed := f.cluster(t, "c1")
	if placed.Status != clusterCreating || placed.Nodes[0].Address != "127.1.0.1" {
		t.Fatalf("after the crash: status %q, address %q; want creating, placed on 127.1.0.1", placed.Status, placed.Nodes[0].Address)
	}
	// The server starts again: a new reconciler, the process still runs.
	f.r = f.newReconciler(eng)
	f.r.fullPass(context.Background())

	got := f.cluster(t, "c1")
	if got.Status != clusterAvailable || got.Nodes[0].Address != "127.1.0.1" {
		t.Fatalf("after the next pass: status %q, address %q; want available on the same address", got.Status, got.Nodes[0].Address)
	}
	key := "111111111111/us-east-1/c1/0001"
	if n := len(eng.callsLike("ensure " + key)); n != 2 {
		t.Fatalf("Ensure called %d times, want 2 (start, then adoption)", n)
	}
	if n := eng.startsOf(key); n != 1 {
		t.Fatalf("%d processes started, want 1", n)
	}
	if r := f.reservations(t); len(r) != 1 {
		t.Fatalf("reservations = %v, want the one address", r)
	}
}

func TestReconcileGenerationMovedLeavesWorkMarked(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.submit(t, newCluster("c1", "redis", 1))
	// A request changes the cluster while its engine starts.
	f.eng.onEnsure = func(engine.Spec) {
		f.eng.onEnsure = nil
		f.change(t, "c1", func(rec *cacheClusterRecord) { rec.SnapshotRetention = 3 })
	}
	f.r.workPass(context.Background())
	if got := f.cluster(t, "c1"); got.Status != clusterCreating || got.Generation != 2 {
		t.Fatalf("status %q, generation %d; want creating, 2 (not completed for generation 1)", got.Status, got.Generation)
	}
	if !f.marked(t, "c1") {
		t.Fatal("mark cleared for a generation not made true")
	}
	f.r.workPass(context.Background())
	if got := f.cluster(t, "c1"); got.Status != clusterAvailable || got.SnapshotRetention != 3 {
		t.Fatalf("second pass: status %q, retention %d; want available, 3", got.Status, got.SnapshotRetention)
	}
	if f.marked(t, "c1") {
		t.Fatal("mark still set after completing generation 2")
	}
}

func TestReconcileParameterChangesDynamicStaticAndReboot(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.write(t, func(tx storage.Tx) error {
		return parameterGroups.Insert(tx, scA, &parameterGroupRecord{Name: "g", Family: "redis7"})
	})
	rec := newCluster("c1", "redis", 1)
	rec.ParameterGroup = "g"
	f.available(t, rec)
	key := "111111111111/us-east-1/c1/0001"

	// A dynamic change: applied at once, in-sync.
	f.write(t, func(tx storage.Tx) error {
		return parameterGroups.Put(tx, scA, &parameterGroupRecord{Name: "g", Family: "redis7",
			Values: map[string]string{"maxmemory-policy": "allkeys-lru"}})
	})
	f.change(t, "c1", func(rec *cacheClusterRecord) { rec.Status = clusterModifying })
	f.r.workPass(context.Background())
	got := f.cluster(t, "c1")
	if got.Status != clusterAvailable || got.ParamStatus != paramsInSync {
		t.Fatalf("after a dynamic change: %q, %q; want available, in-sync", got.Status, got.ParamStatus)
	}
	wantStrings(t, "Apply calls", f.eng.callsLike("apply"), []string{"apply " + key + " maxmemory-policy"})

	// A static change: not sent to the engine, pending-reboot.
	f.write(t, func(tx storage.Tx) error {
		return parameterGroups.Put(tx, scA, &parameterGroupRecord{Name: "g", Family: "redis7",
			Values: map[string]string{"maxmemory-policy": "allkeys-lru", "databases": "32"}})
	})
	f.change(t, "c1", func(rec *cacheClusterRecord) { rec.Status = clusterModifying })
	f.r.workPass(context.Background())
	got = f.cluster(t, "c1")
	if got.ParamStatus != paramsPendingReboot || !slices.Equal(got.NodesToReboot, []string{"0001"}) ||
		got.Nodes[0].ParamStatus != paramsPendingReboot {
		t.Fatalf("after a static change: %q, to reboot %v, node %q; want pending-reboot, [0001]", got.ParamStatus, got.NodesToReboot, got.Nodes[0].ParamStatus)
	}
	if n := len(f.eng.callsLike("apply")); n != 1 {
		t.Fatalf("%d Apply calls, want still 1: a static parameter waits for the reboot", n)
	}

	// The reboot restarts the node with the new value: in-sync.
	f.change(t, "c1", func(rec *cacheClusterRecord) {
		rec.Status, rec.Nodes[0].Status = clusterRebooting, nodeRebooting
	})
	f.r.workPass(context.Background())
	got = f.cluster(t, "c1")
	if got.Status != clusterAvailable || got.ParamStatus != paramsInSync || got.NodesToReboot != nil ||
		got.Nodes[0].Status != nodeAvailable || got.Nodes[0].ParamStatus != paramsInSync {
		t.Fatalf("after the reboot: %+v", got)
	}
	if spec, _ := f.eng.proc(key); spec.Params["databases"] != "32" {
		t.Fatalf("restarted with databases=%q, want 32", spec.Params["databases"])
	}
	wantStrings(t, "restarts", f.eng.callsLike("restart"), []string{"restart " + key})
	wantStrings(t, "events", f.events(t, "c1")[2:], []string{
		"Updated parameter maxmemory-policy to allkeys-lru",
		"Updated parameter databases to 32",
		"Cache node 0001 restarted",
	})
}

func TestReconcileMemcachedNodesUpAndDown(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("memcached"))
	f.available(t, newCluster("m1", "memcached", 2))

	f.change(t, "m1", func(rec *cacheClusterRecord) {
		// As ModifyCacheCluster with ApplyImmediately writes it: the
		// count, and the new nodes' zones (which the request path would
		// have turned into creating nodes already; the reconciler adds
		// what is missing the same way).
		rec.Status, rec.NumNodes, rec.NewAZs = clusterModifying, 4, []string{"us-east-1b", "us-east-1c"}
	})
	f.r.workPass(context.Background())
	got := f.cluster(t, "m1")
	if got.Status != clusterAvailable || got.NumNodes != 4 || len(got.Nodes) != 4 {
		t.Fatalf("after scaling out: status %q, NumNodes %d, %d nodes", got.Status, got.NumNodes, len(got.Nodes))
	}
	if n := got.Nodes[3]; n.ID != "0004" || n.AZ != "us-east-1c" || n.Status != nodeAvailable || n.Address != "127.1.0.4" {
		t.Fatalf("node 4 = %+v", n)
	}
	for _, id := range []string{"0003", "0004"} {
		if _, ok := f.eng.proc("111111111111/us-east-1/m1/" + id); !ok {
			t.Fatalf("no engine for node %s", id)
		}
	}

	f.change(t, "m1", func(rec *cacheClusterRecord) {
		rec.Status, rec.NumNodes = clusterModifying, 2
		rec.Nodes[1].Status, rec.Nodes[3].Status = nodeDeleting, nodeDeleting
	})
	f.r.workPass(context.Background())
	got = f.cluster(t, "m1")
	var ids []string
	for _, n := range got.Nodes {
		ids = append(ids, n.ID)
	}
	wantStrings(t, "nodes after scaling in", ids, []string{"0001", "0003"})
	if got.NumNodes != 2 {
		t.Fatalf("NumNodes %d", got.NumNodes)
	}
	for id, running := range map[string]bool{"0001": true, "0002": false, "0003": true, "0004": false} {
		if _, ok := f.eng.proc("111111111111/us-east-1/m1/" + id); ok != running {
			t.Fatalf("node %s running = %v, want %v", id, ok, running)
		}
	}
	if r := f.reservations(t); len(r) != 2 || r["127.1.0.2:11211"] != "" || r["127.1.0.4:11211"] != "" {
		t.Fatalf("reservations = %v, want those of 0001 and 0003 only", r)
	}
	wantStrings(t, "events", f.events(t, "m1")[3:], []string{
		"Added cache node 0003 in availability zone us-east-1b",
		"Added cache node 0004 in availability zone us-east-1c",
		"Finished modifying number of nodes from 2 to 4",
		"Removed cache nodes 0002, 0004",
	})
}

func TestReconcileMemcachedReboot(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("memcached"))
	f.available(t, newCluster("m1", "memcached", 2))
	f.change(t, "m1", func(rec *cacheClusterRecord) {
		rec.Status, rec.Nodes[1].Status = clusterRebooting, nodeRebooting
	})
	f.r.workPass(context.Background())
	got := f.cluster(t, "m1")
	if got.Status != clusterAvailable || got.Nodes[1].Status != nodeAvailable {
		t.Fatalf("after reboot: %q, node 2 %q", got.Status, got.Nodes[1].Status)
	}
	// AWS flushes a memcached node it reboots: the node's engine and data
	// are removed and it starts empty, where a redis node is restarted
	// on what it saved.
	if n := len(f.eng.callsLike("restart")); n != 0 {
		t.Fatalf("%d restarts of a memcached node, want none: it starts empty", n)
	}
	wantStrings(t, "removals", f.eng.callsLike("remove"), []string{"remove 111111111111/us-east-1/m1/0002"})
	if ensures := f.eng.callsLike("ensure 111111111111/us-east-1/m1/0002"); len(ensures) != 2 {
		t.Fatalf("ensures of node 0002 = %q, want the create's and the reboot's", ensures)
	}
	ev := f.events(t, "m1")
	wantStrings(t, "events", ev[len(ev)-2:], []string{"Cache node 0002 shutdown", "Cache node 0002 restarted"})
}

func TestReconcileNodeTypeChangeRestarts(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.available(t, newCluster("c1", "redis", 1))
	f.change(t, "c1", func(rec *cacheClusterRecord) {
		rec.Status, rec.NodeType = clusterModifying, "cache.t3.small"
	})
	f.r.workPass(context.Background())
	got := f.cluster(t, "c1")
	if got.Status != clusterAvailable || got.RunningNodeType != "cache.t3.small" {
		t.Fatalf("status %q, running type %q", got.Status, got.RunningNodeType)
	}
	spec, _ := f.eng.proc("111111111111/us-east-1/c1/0001")
	if want := int64(1471026299 - 367756574); spec.MaxMemory != want { // 75 %, rounded up
		t.Fatalf("MaxMemory after the change = %d, want %d", spec.MaxMemory, want)
	}
	ev := f.events(t, "c1")
	wantStrings(t, "last event", ev[len(ev)-1:], []string{"Succeeded applying modification to cache node type to cache.t3.small."})
}

func TestReconcileDeleteRemovesEnginesRecordTagsAndAddresses(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.available(t, newCluster("c1", "redis", 1))
	f.write(t, func(tx storage.Tx) error {
		return schema.SetTags(tx, scA, cacheClusterKind, "c1", schema.Tags{"team": "cache"})
	})
	f.change(t, "c1", func(rec *cacheClusterRecord) { rec.Status = clusterDeleting })
	f.r.workPass(context.Background())
	if got := f.cluster(t, "c1"); got != nil {
		t.Fatalf("record still stored: %+v", got)
	}
	if _, ok := f.eng.proc("111111111111/us-east-1/c1/0001"); ok {
		t.Fatal("engine still runs")
	}
	if r := f.reservations(t); len(r) != 0 {
		t.Fatalf("reservations = %v, want none", r)
	}
	if f.marked(t, "c1") {
		t.Fatal("mark still set")
	}
	err := f.store.View(context.Background(), func(tx storage.Tx) error {
		tags, err := schema.GetTags(tx, scA, cacheClusterKind, "c1")
		if len(tags) != 0 {
			t.Errorf("tags = %v, want none", tags)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ev := f.events(t, "c1")
	wantStrings(t, "last event", ev[len(ev)-1:], []string{"Cache cluster deleted"})
	// The address is free again.
	if got := f.available(t, newCluster("c2", "redis", 1)); got.Nodes[0].Address != "127.1.0.1" {
		t.Fatalf("next node at %s, want the released 127.1.0.1", got.Nodes[0].Address)
	}
}

func TestReconcileEngineExitRecovers(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.available(t, newCluster("c1", "redis", 1))
	key := "111111111111/us-east-1/c1/0001"
	f.clock.Advance(time.Second)
	f.eng.crash(key)
	f.eng.onEnsure = func(engine.Spec) { f.clock.Advance(time.Second) } // a start takes time
	f.r.recover(context.Background(), <-f.eng.Exited())
	if _, ok := f.eng.proc(key); !ok {
		t.Fatal("engine not started again")
	}
	if n := f.eng.startsOf(key); n != 2 {
		t.Fatalf("%d starts, want 2", n)
	}
	ev := f.events(t, "c1")
	wantStrings(t, "events", ev[len(ev)-2:], []string{"Recovering cache nodes 0001", "Finished recovery for cache nodes 0001"})
}

func TestReconcileOrphanAfterResetIsRemoved(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.available(t, newCluster("c1", "redis", 1))
	key := "111111111111/us-east-1/c1/0001"
	// A reset erases the account's keys; the indexes outside it stay.
	if _, err := f.svc.kinds.Reset(context.Background(), f.store, f.clock.Now(), "", schema.Batching{}); err != nil {
		t.Fatal(err)
	}
	if f.cluster(t, "c1") != nil {
		t.Fatal("the reset left the cluster")
	}
	f.r.fullPass(context.Background())
	if _, ok := f.eng.proc(key); ok {
		t.Fatal("orphaned engine still runs")
	}
	wantStrings(t, "removes", f.eng.callsLike("remove"), []string{"remove " + key})
	if r := f.reservations(t); len(r) != 0 {
		t.Fatalf("reservations = %v, want none", r)
	}
}

func TestReconcileWorkOfVanishedCluster(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.available(t, newCluster("c1", "redis", 1))
	f.change(t, "c1", func(rec *cacheClusterRecord) { rec.Status = clusterModifying })
	f.write(t, func(tx storage.Tx) error { return cacheClusters.Delete(tx, scA, "c1") })
	f.r.workPass(context.Background())
	if f.marked(t, "c1") {
		t.Fatal("mark of a vanished cluster kept")
	}
	if _, ok := f.eng.proc("111111111111/us-east-1/c1/0001"); ok {
		t.Fatal("engine of a vanished cluster still runs")
	}
	if r := f.reservations(t); len(r) != 0 {
		t.Fatalf("reservations = %v, want none", r)
	}
}

func TestReconcileNoEnginesMode(t *testing.T) {
	f := newRecFixture(t, nil)
	f.r = f.newReconciler(nil)
	got := f.available(t, newCluster("c1", "redis", 1))
	if got.Nodes[0].Address != "127.1.0.1" || got.Nodes[0].Status != nodeAvailable {
		t.Fatalf("node = %+v; want placed and available", got.Nodes[0])
	}
	wantStrings(t, "events", f.events(t, "c1"), []string{
		"Added cache node 0001 in availability zone us-east-1a", "Cache cluster created", noEngineEvent,
	})
	f.change(t, "c1", func(rec *cacheClusterRecord) { rec.Status = clusterDeleting })
	f.r.workPass(context.Background())
	if f.cluster(t, "c1") != nil {
		t.Fatal("not deleted")
	}
}

func TestReconcileMissingEngineIsIncompatibleNetwork(t *testing.T) {
	f := newRecFixture(t, newFakeEngines())
	f.submit(t, newCluster("c1", "redis", 1))
	f.r.workPass(context.Background())
	got := f.cluster(t, "c1")
	if got.Status != clusterIncompatibleNetwork {
		t.Fatalf("status %q, want incompatible-network", got.Status)
	}
	if f.marked(t, "c1") {
		t.Fatal("mark kept for a cluster given up on")
	}
	wantStrings(t, "events", f.events(t, "c1"), []string{
		"Failed to create the cache cluster due to incompatible network state",
		"The redis engine is not installed on this server",
	})
}

func TestReconcileEnsureFailuresBackOffThenGiveUp(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.eng.failEnsure = func(string) error { return errors.New("port in use") }
	f.submit(t, newCluster("c1", "redis", 1))
	ctx := context.Background()
	f.r.workPass(ctx)
	f.r.workPass(ctx) // not due yet: no second attempt
	if n := len(f.eng.callsLike("ensure")); n != 1 {
		t.Fatalf("%d attempts before the retry delay passed, want 1", n)
	}
	for i := 2; i <= defaultMaxAttempts; i++ {
		f.clock.Advance(time.Minute)
		f.r.workPass(ctx)
		if n := len(f.eng.callsLike("ensure")); n != i {
			t.Fatalf("%d attempts, want %d", n, i)
		}
	}
	got := f.cluster(t, "c1")
	if got.Status != clusterIncompatibleNetwork || f.marked(t, "c1") {
		t.Fatalf("status %q, marked %v; want incompatible-network, unmarked", got.Status, f.marked(t, "c1"))
	}
}

func TestReconcilerRunAdoptsPokesAndStops(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.available(t, newCluster("c1", "redis", 1))
	key := "111111111111/us-east-1/c1/0001"

	// A server started again: its reconciler's first pass adopts the
	// running engine of the available cluster.
	ticks := make(chan time.Time)
	r := f.svc.NewReconciler(f.eng, ReconcilerConfig{ServerID: "server-1",
		NewTicker: func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	waitFor(t, "adoption", func() bool { return len(f.eng.callsLike("ensure "+key)) == 2 })
	if n := f.eng.startsOf(key); n != 1 {
		t.Fatalf("%d starts, want 1: the running process is adopted", n)
	}
	// A write of the request path: workMarked starts the work at once.
	f.submit(t, newCluster("c2", "redis", 1))
	f.svc.workMarked()
	waitFor(t, "c2 available", func() bool { return f.cluster(t, "c2").Status == clusterAvailable })

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReconcileParameterGroupChangeReachesAvailableClusters(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	f.write(t, func(tx storage.Tx) error {
		return parameterGroups.Insert(tx, scA, &parameterGroupRecord{Name: "g", Family: "redis7"})
	})
	rec := newCluster("c1", "redis", 1)
	rec.ParameterGroup = "g"
	f.available(t, rec)
	f.clock.Advance(time.Second)
	// ModifyCacheParameterGroup on the group the cluster uses.
	f.write(t, func(tx storage.Tx) error {
		return parameterGroups.Put(tx, scA, &parameterGroupRecord{Name: "g", Family: "redis7",
			Values: map[string]string{"maxmemory-policy": "allkeys-lru", "databases": "32"}})
	})
	f.r.fullPass(context.Background())
	got := f.cluster(t, "c1")
	if got.Status != clusterAvailable || got.ParamStatus != paramsPendingReboot || got.AppliedParams["databases"] != "32" {
		t.Fatalf("status %q, params %q, applied %v; want available, pending-reboot, the group's values", got.Status, got.ParamStatus, got.AppliedParams)
	}
	wantStrings(t, "Apply calls", f.eng.callsLike("apply"), []string{"apply 111111111111/us-east-1/c1/0001 maxmemory-policy"})
	wantStrings(t, "events", f.events(t, "c1")[2:], []string{
		"Updated parameter databases to 32", "Updated parameter maxmemory-policy to allkeys-lru",
	})
	f.r.fullPass(context.Background())
	if n := len(f.eng.callsLike("apply")); n != 1 {
		t.Fatalf("%d Apply calls after a second pass, want 1: nothing changed since", n)
	}
}

func TestReconcileCreateAddsNodesTheRecordLacks(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("memcached"))
	rec := newCluster("m1", "memcached", 2)
	rec.Nodes, rec.PreferredAZ, rec.NewAZs = nil, "Multiple", []string{"us-east-1b"}
	got := f.available(t, rec)
	if len(got.Nodes) != 2 || got.Nodes[0].ID != "0001" || got.Nodes[0].AZ != "us-east-1b" ||
		got.Nodes[1].ID != "0002" || got.Nodes[1].AZ != "us-east-1b" || got.NewAZs != nil {
		t.Fatalf("nodes = %+v, NewAZs %v", got.Nodes, got.NewAZs)
	}
}

// Changes a Modify without ApplyImmediately left pending wait for a later
// Modify that applies them: a modification under way for something else
// does not carry them out.
func TestReconcileLeavesPendingChangesPending(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("memcached"))
	f.available(t, newCluster("m1", "memcached", 2))
	f.change(t, "m1", func(rec *cacheClusterRecord) {
		rec.Status, rec.PendingNumNodes, rec.PendingNodesToRemove = clusterModifying, 1, []string{"0002"}
		rec.PendingNodeType = "cache.t3.small"
	})
	f.r.workPass(context.Background())
	got := f.cluster(t, "m1")
	if got.Status != clusterAvailable || len(got.Nodes) != 2 || got.NumNodes != 2 || got.PendingNumNodes != 1 ||
		got.PendingNodeType != "cache.t3.small" || got.RunningNodeType != "cache.t3.micro" {
		t.Fatalf("after the pass: %+v", got)
	}
	if n := len(f.eng.callsLike("restart")) + len(f.eng.callsLike("remove")); n != 0 {
		t.Fatalf("%d restarts and removals for pending changes", n)
	}
}

// ModifyCacheParameterGroup hands every available cluster of the group to
// the fleet in its own transaction: applying, then in-sync once the
// reconciler's next pass over the work index has applied it.
func TestModifyParameterGroupMarksItsClusters(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	_, err := f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{CacheParameterGroupName: s("g"),
		CacheParameterGroupFamily: s("redis7"), Description: s("d")})
	mustOK(t, err)
	rec := newCluster("c1", "redis", 1)
	rec.ParameterGroup = "g"
	f.available(t, rec)
	other := newCluster("c2", "redis", 1)
	f.available(t, other)

	_, err = f.svc.ModifyCacheParameterGroup(ctxA, &api.ModifyCacheParameterGroupInput{CacheParameterGroupName: s("g"),
		ParameterNameValues: []api.ParameterNameValue{{ParameterName: s("maxmemory-policy"), ParameterValue: s("allkeys-lru")}}})
	mustOK(t, err)
	if got := f.cluster(t, "c1"); got.ParamStatus != paramsApplying || !f.marked(t, "c1") {
		t.Fatalf("c1 after the group's change: %q, marked %v", got.ParamStatus, f.marked(t, "c1"))
	}
	if f.marked(t, "c2") {
		t.Fatal("c2, of another group, is marked")
	}
	f.r.workPass(context.Background())
	got := f.cluster(t, "c1")
	if got.Status != clusterAvailable || got.ParamStatus != paramsInSync || got.AppliedParams["maxmemory-policy"] != "allkeys-lru" || f.marked(t, "c1") {
		t.Fatalf("c1 after the pass: %q %q %v, marked %v", got.Status, got.ParamStatus, got.AppliedParams, f.marked(t, "c1"))
	}
	wantStrings(t, "Apply calls", f.eng.callsLike("apply"), []string{"apply 111111111111/us-east-1/c1/0001 maxmemory-policy"})
}

// The search for an address starts at FirstAddress, skips what the host
// already listens on, and wraps from the end of 127.0.0.0/8 to 127.1.0.1.
func TestReconcileAddressSearch(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	busy := map[string]bool{"127.255.255.254:6379": true, "127.1.0.1:6379": true}
	f.r = f.svc.NewReconciler(f.eng, ReconcilerConfig{ServerID: "server-1", Interval: time.Minute,
		FirstAddress: "127.255.255.253", AddressInUse: func(ip string, port int) bool { return busy[fmt.Sprintf("%s:%d", ip, port)] }})
	for _, id := range []string{"c1", "c2", "c3"} {
		f.available(t, newCluster(id, "redis", 1))
	}
	want := map[string]string{
		"127.255.255.253:6379": "111111111111/us-east-1/c1/0001",
		"127.1.0.2:6379":       "111111111111/us-east-1/c2/0001", // .254 busy, .255 a broadcast, 127.1.0.1 busy
		"127.1.0.3:6379":       "111111111111/us-east-1/c3/0001",
	}
	if got := f.reservations(t); !maps.Equal(got, want) {
		t.Fatalf("reservations = %v, want %v", got, want)
	}
}

// With a bind address, every engine listens there on a port of its own,
// and the nodes' endpoints give clients the advertised host.
func TestReconcileBindAndAdvertise(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis", "memcached"))
	f.r = f.svc.NewReconciler(f.eng, ReconcilerConfig{ServerID: "server-1", Interval: time.Minute,
		BindAddress: "0.0.0.0", SharedAddress: "cache.example.internal"})
	f.available(t, newCluster("c1", "redis", 1))
	f.available(t, newCluster("c2", "redis", 1))
	m := f.available(t, newCluster("m1", "memcached", 2))
	want := map[string]string{
		"cache.example.internal:6379":  "111111111111/us-east-1/c1/0001",
		"cache.example.internal:6380":  "111111111111/us-east-1/c2/0001",
		"cache.example.internal:11211": "111111111111/us-east-1/m1/0001",
		"cache.example.internal:11212": "111111111111/us-east-1/m1/0002",
	}
	if got := f.reservations(t); !maps.Equal(got, want) {
		t.Fatalf("reservations = %v, want %v", got, want)
	}
	if n := m.Nodes[1]; n.Address != "cache.example.internal" || n.Port != 11212 {
		t.Fatalf("node 0002 = %+v", n)
	}
	spec, ok := f.eng.proc("111111111111/us-east-1/c2/0001")
	if !ok || spec.Address != "0.0.0.0" || spec.Port != 6380 {
		t.Fatalf("engine of c2 = %+v (running %v), want 0.0.0.0:6380", spec, ok)
	}
}
