package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// The lease timing of these tests: a server is dead to the others once
// its deadline (renewal + 3 s) is more than 1 s past.
const (
	testLeaseTTL   = 3 * time.Second
	testLeaseGrace = time.Second
)

// peer is one server of several on the fixture's store: its own engines
// (its own host's processes) and its own reconciler.
type peer struct {
	id  string
	eng *fakeEngines
	r   *Reconciler
}

// newPeer is a server with ID id; a reconciler made again with the same
// engines is that server restarted.
func (f *recFixture) newPeer(id string, eng *fakeEngines) *peer {
	return &peer{id: id, eng: eng, r: f.svc.NewReconciler(eng, ReconcilerConfig{
		ServerID: id, Interval: time.Minute, LeaseTTL: testLeaseTTL, LeaseGrace: testLeaseGrace,
	})}
}

func (p *peer) renew(t *testing.T) {
	t.Helper()
	if _, err := p.r.renew(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// lease reads a server's lease.
func (f *recFixture) lease(t *testing.T, id string) (leaseRecord, bool) {
	t.Helper()
	var l leaseRecord
	var ok bool
	err := f.store.View(context.Background(), func(tx storage.Tx) error {
		var err error
		l, ok, err = readLease(tx, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, ok
}

// availableOn creates a cluster and has p's work pass make it available.
func (f *recFixture) availableOn(t *testing.T, p *peer, rec *cacheClusterRecord) *cacheClusterRecord {
	t.Helper()
	f.submit(t, rec)
	p.r.workPass(context.Background())
	got := f.cluster(t, rec.ID)
	if got.Status != clusterAvailable {
		t.Fatalf("%s: status after a pass of %s = %q, want available", rec.ID, p.id, got.Status)
	}
	for _, n := range got.Nodes {
		if n.Owner != p.id {
			t.Fatalf("%s: node %s owned by %q, want %s", rec.ID, n.ID, n.Owner, p.id)
		}
	}
	return got
}

func wantOwned(t *testing.T, rec *cacheClusterRecord, owner string, addrs ...string) {
	t.Helper()
	var got []string
	for _, n := range rec.Nodes {
		if n.Owner != owner {
			t.Fatalf("%s: node %s owned by %q, want %s", rec.ID, n.ID, n.Owner, owner)
		}
		got = append(got, fmt.Sprintf("%s:%d", n.Address, n.Port))
	}
	wantStrings(t, rec.ID+" node addresses", got, addrs)
}

// leaseFixture is a store with servers a and b, both renewed now.
func leaseFixture(t *testing.T) (*recFixture, *peer, *peer) {
	t.Helper()
	f := newRecFixture(t, nil)
	a := f.newPeer("server-a", newFakeEngines("redis", "memcached"))
	b := f.newPeer("server-b", newFakeEngines("redis", "memcached"))
	a.renew(t)
	b.renew(t)
	return f, a, b
}

func TestLeaseRenewWritesTheDeadline(t *testing.T) {
	f, a, _ := leaseFixture(t)
	l, ok := f.lease(t, "server-a")
	if !ok || !l.Deadline.Equal(f.clock.Now().Add(testLeaseTTL)) {
		t.Fatalf("lease = %+v, %v; want a deadline of now + TTL", l, ok)
	}
	f.clock.Advance(time.Second)
	prev, err := a.r.renew(context.Background())
	if err != nil || !prev.Equal(l.Deadline) {
		t.Fatalf("renew = %v, %v; want the previous deadline %v", prev, err, l.Deadline)
	}
	if l2, _ := f.lease(t, "server-a"); !l2.Deadline.Equal(f.clock.Now().Add(testLeaseTTL)) {
		t.Fatalf("renewed deadline %v, want now + TTL", l2.Deadline)
	}
}

func TestLeaseNodesOfALiveServerAreLeftToIt(t *testing.T) {
	f, a, b := leaseFixture(t)
	key := "111111111111/us-east-1/c1/0001"
	f.availableOn(t, a, newCluster("c1", "redis", 1))

	// Within the lease, b's full pass leaves a's node alone.
	f.clock.Advance(testLeaseTTL + testLeaseGrace)
	b.r.fullPass(context.Background())
	got := f.cluster(t, "c1")
	wantOwned(t, got, "server-a", "127.1.0.1:6379")
	if got.Generation != 1 {
		t.Fatalf("generation %d, want 1: nothing taken over", got.Generation)
	}
	if c := b.eng.callsLike("ensure"); len(c) != 0 {
		t.Fatalf("b ran %q for a's node", c)
	}

	// Work on a's cluster waits for a, whoever's pass sees the mark.
	a.renew(t)
	f.change(t, "c1", func(rec *cacheClusterRecord) { rec.Status = clusterRebooting })
	b.r.workPass(context.Background())
	if got := f.cluster(t, "c1"); got.Status != clusterRebooting || !f.marked(t, "c1") {
		t.Fatalf("after b's pass: status %q, marked %v; want rebooting, still marked", got.Status, f.marked(t, "c1"))
	}
	a.r.workPass(context.Background())
	if got := f.cluster(t, "c1"); got.Status != clusterAvailable {
		t.Fatalf("after a's pass: status %q, want available", got.Status)
	}
	if len(b.eng.callsLike("")) != 0 {
		t.Fatalf("b's engines were asked %q", b.eng.callsLike(""))
	}
	if _, ok := a.eng.proc(key); !ok {
		t.Fatal("a does not run its node")
	}
}

func TestLeaseConcurrentPlacementLeavesTheNodeToTheFirst(t *testing.T) {
	f, a, b := leaseFixture(t)
	f.submit(t, newCluster("c1", "redis", 1))
	// b read the record before a placed its node.
	stale := f.cluster(t, "c1")
	a.r.workPass(context.Background())
	if err := b.r.create(context.Background(), scA, stale); !errors.Is(err, errNotMine) {
		t.Fatalf("b's create after a's placement = %v, want errNotMine", err)
	}
	if c := b.eng.callsLike("ensure"); len(c) != 0 {
		t.Fatalf("b started %q", c)
	}
	wantOwned(t, f.cluster(t, "c1"), "server-a", "127.1.0.1:6379")
	if r := f.reservations(t); len(r) != 1 {
		t.Fatalf("reservations = %v, want a's one", r)
	}
}

// expireA makes a's lease expire while b keeps renewing: a is paused (its
// engines still run), past its deadline and the grace.
func expireA(t *testing.T, f *recFixture, b *peer) {
	t.Helper()
	for range 4 {
		f.clock.Advance(time.Second)
		b.renew(t)
	}
	f.clock.Advance(time.Millisecond)
	b.renew(t)
}

func TestLeaseExpiredOwnersNodesAreTakenOverFresh(t *testing.T) {
	f, a, b := leaseFixture(t)
	f.availableOn(t, a, newCluster("c1", "redis", 1))
	f.availableOn(t, a, newCluster("m1", "memcached", 2))
	keys := []string{"111111111111/us-east-1/c1/0001", "111111111111/us-east-1/m1/0001", "111111111111/us-east-1/m1/0002"}

	// At the deadline plus the grace exactly, a is still alive.
	for range 4 {
		f.clock.Advance(time.Second)
		b.renew(t)
	}
	b.r.fullPass(context.Background())
	wantOwned(t, f.cluster(t, "c1"), "server-a", "127.1.0.1:6379")

	f.clock.Advance(time.Millisecond)
	b.r.fullPass(context.Background())

	c1, m1 := f.cluster(t, "c1"), f.cluster(t, "m1")
	// New addresses: the old ones stay out of use while a's engines may
	// still hold them.
	wantOwned(t, c1, "server-b", "127.1.0.4:6379")
	wantOwned(t, m1, "server-b", "127.1.0.5:11211", "127.1.0.6:11211")
	for _, rec := range []*cacheClusterRecord{c1, m1} {
		if rec.Status != clusterAvailable || rec.Generation != 2 || f.marked(t, rec.ID) {
			t.Fatalf("%s: status %q, generation %d, marked %v; want available, 2, unmarked", rec.ID, rec.Status, rec.Generation, f.marked(t, rec.ID))
		}
	}
	want := map[string]string{"127.1.0.4:6379": keys[0], "127.1.0.5:11211": keys[1], "127.1.0.6:11211": keys[2]}
	// The old addresses stay reserved for a until it is back.
	reserved := maps.Clone(want)
	reserved["127.1.0.1:6379"] = "retired server-a " + keys[0]
	reserved["127.1.0.2:11211"] = "retired server-a " + keys[1]
	reserved["127.1.0.3:11211"] = "retired server-a " + keys[2]
	if got := f.reservations(t); !maps.Equal(got, reserved) {
		t.Fatalf("reservations = %v, want %v", got, reserved)
	}
	ev := f.events(t, "c1")
	wantStrings(t, "c1 events", ev[len(ev)-2:], []string{"Recovering cache nodes 0001", "Finished recovery for cache nodes 0001"})
	ev = f.events(t, "m1")
	wantStrings(t, "m1 events", ev[len(ev)-2:], []string{"Recovering cache nodes 0001, 0002", "Finished recovery for cache nodes 0001, 0002"})
	for i, k := range keys {
		spec, ok := b.eng.proc(k)
		if !ok {
			t.Fatalf("b does not run %s", k)
		}
		if addr := fmt.Sprintf("%s:%d", spec.Address, spec.Port); want[addr] != keys[i] {
			t.Fatalf("%s runs on %s", k, addr)
		}
		// Fresh: whatever b's host kept of the node goes first.
		wantStrings(t, k+" calls", b.eng.callsLike("remove "+k), []string{"remove " + k})
	}
	// a owns nothing any more: its lease goes; b's stays.
	if _, ok := f.lease(t, "server-a"); ok {
		t.Fatal("the dead server's lease is kept")
	}
	if _, ok := f.lease(t, "server-b"); !ok {
		t.Fatal("b's own lease went")
	}
	// The next pass changes nothing.
	b.r.fullPass(context.Background())
	if got := f.cluster(t, "c1"); got.Generation != 2 || b.eng.startsOf(keys[0]) != 1 {
		t.Fatalf("second pass: generation %d, %d starts; want 2, 1", got.Generation, b.eng.startsOf(keys[0]))
	}
}

func TestLeaseOldOwnerComingBackRemovesItsEngines(t *testing.T) {
	for _, tc := range []struct {
		name string
		// back is a once it runs again.
		back func(f *recFixture, a *peer) *peer
	}{
		// The same process, resumed: its reconciler remembers the node.
		{"paused", func(f *recFixture, a *peer) *peer { return a }},
		// Started again after a kill -9: the engine outlived it, and only
		// the engine directory knows.
		{"restarted", func(f *recFixture, a *peer) *peer { return f.newPeer("server-a", a.eng) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a, b := leaseFixture(t)
			f.availableOn(t, a, newCluster("c1", "redis", 1))
			key := "111111111111/us-east-1/c1/0001"
			expireA(t, f, b)
			b.r.fullPass(context.Background())
			wantOwned(t, f.cluster(t, "c1"), "server-b", "127.1.0.2:6379")
			if _, ok := a.eng.proc(key); !ok {
				t.Fatal("setup: a's engine should still run while a is away")
			}
			if r := f.reservations(t); r["127.1.0.1:6379"] != "retired server-a "+key {
				t.Fatalf("reservations = %v, want a's old address retired", r)
			}

			ensures := len(a.eng.callsLike("ensure"))
			a = tc.back(f, a)
			a.renew(t)
			a.r.fullPass(context.Background())
			if _, ok := a.eng.proc(key); ok {
				t.Fatal("a still runs the node b took over")
			}
			if a.eng.data[key] {
				t.Fatal("a kept the node's stale data")
			}
			if n := len(a.eng.callsLike("ensure")); n != ensures {
				t.Fatalf("a ensured the node again (%d ensures, want %d)", n, ensures)
			}
			wantOwned(t, f.cluster(t, "c1"), "server-b", "127.1.0.2:6379")
			// Its engine gone, a releases the address it held.
			if r := f.reservations(t); !maps.Equal(r, map[string]string{"127.1.0.2:6379": key}) {
				t.Fatalf("reservations = %v, want b's node's only", r)
			}
			// An exit of the removed engine is no reason to run it.
			a.r.recover(context.Background(), key)
			if _, ok := a.eng.proc(key); ok {
				t.Fatal("a's recovery started b's node")
			}
		})
	}
}

func TestLeaseConcurrentTakeoverHasOneWinner(t *testing.T) {
	f, a, b := leaseFixture(t)
	c := f.newPeer("server-c", newFakeEngines("redis", "memcached"))
	const n = 6
	for i := range n {
		f.availableOn(t, a, newCluster(fmt.Sprintf("c%d", i), "redis", 1))
	}
	for range 5 {
		f.clock.Advance(time.Second)
		b.renew(t)
		c.renew(t)
	}

	// b decided on the cluster before c committed: inside its write it
	// finds c, alive, and takes nothing.
	if rec, _, err := c.r.takeOver(context.Background(), scA, "c0"); err != nil || rec == nil {
		t.Fatalf("c's takeover = %v, %v", rec, err)
	}
	if rec, ids, err := b.r.takeOver(context.Background(), scA, "c0"); err != nil || rec != nil || ids != nil {
		t.Fatalf("b's takeover after c's = %v, %v, %v; want nothing", rec, ids, err)
	}

	// Both full passes at once, over every cluster.
	var wg sync.WaitGroup
	for _, p := range []*peer{b, c} {
		wg.Go(func() { p.r.fullPass(context.Background()) })
	}
	wg.Wait()
	addrs := map[string]bool{}
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		key := "111111111111/us-east-1/" + id + "/0001"
		rec := f.cluster(t, id)
		owner := rec.Nodes[0].Owner
		if owner != "server-b" && owner != "server-c" || rec.Generation != 2 {
			t.Fatalf("%s: owner %q, generation %d; want b or c, taken over once", id, owner, rec.Generation)
		}
		_, onB := b.eng.proc(key)
		_, onC := c.eng.proc(key)
		if onB == onC || onB != (owner == "server-b") {
			t.Fatalf("%s owned by %s: runs on b %v, on c %v; want on its owner only", id, owner, onB, onC)
		}
		recovering := 0
		for _, e := range f.events(t, id) {
			if e == "Recovering cache nodes 0001" {
				recovering++
			}
		}
		if recovering != 1 {
			t.Fatalf("%s: %d recovery events, want 1", id, recovering)
		}
		addrs[rec.Nodes[0].Address] = true
	}
	if r := f.reservations(t); len(r) != 2*n || len(addrs) != n {
		t.Fatalf("reservations %v, %d distinct addresses; want %d new and %d retired", r, len(addrs), n, n)
	}
}

func TestLeaseOwnerWithoutALeaseIsDeadAfterAWholeLease(t *testing.T) {
	f, _, b := leaseFixture(t)
	// A node placed by a server that never wrote a lease (records from
	// before leases, or imported).
	rec := newCluster("c1", "redis", 1)
	rec.Status, rec.Generation = clusterAvailable, 1
	rec.Nodes[0].Status, rec.Nodes[0].Address, rec.Nodes[0].Port, rec.Nodes[0].Owner = nodeAvailable, "127.1.0.1", 6379, "ghost"
	rec.Nodes[0].Created = f.clock.Now()
	f.write(t, func(tx storage.Tx) error {
		if err := tx.Put(addrKey("127.1.0.1", 6379), []byte("111111111111/us-east-1/c1/0001")); err != nil {
			return err
		}
		return cacheClusters.Insert(tx, scA, rec)
	})
	f.clock.Advance(testLeaseTTL + testLeaseGrace)
	b.r.fullPass(context.Background())
	wantOwned(t, f.cluster(t, "c1"), "ghost", "127.1.0.1:6379")
	f.clock.Advance(time.Millisecond)
	b.r.fullPass(context.Background())
	wantOwned(t, f.cluster(t, "c1"), "server-b", "127.1.0.2:6379")
}

func TestLeaseDeadOwnersDeleteIsFinishedByTheTaker(t *testing.T) {
	f, a, b := leaseFixture(t)
	f.availableOn(t, a, newCluster("c1", "redis", 1))
	f.change(t, "c1", func(rec *cacheClusterRecord) { rec.Status = clusterDeleting })
	expireA(t, f, b)
	b.r.fullPass(context.Background())
	if f.cluster(t, "c1") != nil {
		t.Fatal("the dead owner's deleting cluster is still there")
	}
	key := "111111111111/us-east-1/c1/0001"
	if r := f.reservations(t); !maps.Equal(r, map[string]string{"127.1.0.1:6379": "retired server-a " + key}) {
		t.Fatalf("reservations = %v, want only a's retired address", r)
	}
	if c := b.eng.callsLike("ensure"); len(c) != 0 {
		t.Fatalf("b started %q for a cluster being deleted", c)
	}
	for _, e := range f.events(t, "c1") {
		if e == "Recovering cache nodes 0001" {
			t.Fatal("a cluster being deleted was recovered")
		}
	}
}

func TestLeaseRestartWithinTheLeaseKeepsTheNodes(t *testing.T) {
	f, a, b := leaseFixture(t)
	f.availableOn(t, a, newCluster("c1", "redis", 1))
	key := "111111111111/us-east-1/c1/0001"
	// A graceful stop keeps the lease; the server is back within it.
	if err := a.eng.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(testLeaseTTL)
	b.renew(t)
	a = f.newPeer("server-a", a.eng)
	a.renew(t)
	b.r.fullPass(context.Background())
	a.r.fullPass(context.Background())
	wantOwned(t, f.cluster(t, "c1"), "server-a", "127.1.0.1:6379")
	if _, ok := a.eng.proc(key); !ok || !a.eng.data[key] {
		t.Fatal("a did not bring its node back on its data")
	}
	if len(b.eng.callsLike("")) != 0 {
		t.Fatalf("b's engines were asked %q", b.eng.callsLike(""))
	}
}

func TestLeaseRunKeepsRenewingUntilStopped(t *testing.T) {
	f := newRecFixture(t, newFakeEngines("redis"))
	var mu sync.Mutex
	tickers := map[time.Duration]chan time.Time{}
	stopped := map[time.Duration]bool{}
	r := f.svc.NewReconciler(f.eng, ReconcilerConfig{ServerID: "server-1", Interval: time.Minute, LeaseTTL: testLeaseTTL,
		NewTicker: func(d time.Duration) (<-chan time.Time, func()) {
			mu.Lock()
			defer mu.Unlock()
			ch := make(chan time.Time)
			tickers[d] = ch
			return ch, func() { mu.Lock(); stopped[d] = true; mu.Unlock() }
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	t0 := f.clock.Now()
	waitFor(t, "the first lease", func() bool {
		l, ok := f.lease(t, "server-1")
		return ok && l.Deadline.Equal(t0.Add(testLeaseTTL))
	})
	var renewTicks chan time.Time
	waitFor(t, "the renewal ticker", func() bool {
		mu.Lock()
		defer mu.Unlock()
		renewTicks = tickers[time.Second]
		return renewTicks != nil
	})
	f.clock.Advance(time.Second)
	renewTicks <- f.clock.Now()
	waitFor(t, "a renewal", func() bool {
		l, _ := f.lease(t, "server-1")
		return l.Deadline.Equal(t0.Add(time.Second + testLeaseTTL))
	})

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	mu.Lock()
	stop := stopped[time.Second]
	mu.Unlock()
	if !stop {
		t.Fatal("the renewal ticker was not stopped")
	}
	select {
	case renewTicks <- f.clock.Now():
		t.Fatal("a renewal tick was taken after Run returned")
	default:
	}
	// Run's end keeps the lease: a restart within it keeps the nodes.
	if l, ok := f.lease(t, "server-1"); !ok || !l.Deadline.Equal(t0.Add(time.Second+testLeaseTTL)) {
		t.Fatalf("lease after Run = %+v, %v; want the last renewal's", l, ok)
	}
}

// The lease is JSON with a deadline, readable by any server's version.
func TestLeaseRecordFormat(t *testing.T) {
	f, _, _ := leaseFixture(t)
	var raw []byte
	err := f.store.View(context.Background(), func(tx storage.Tx) error {
		var err error
		raw, err = tx.Get([]byte("f/lease/server-a"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]string
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(testLeaseTTL).Format(time.RFC3339Nano); doc["deadline"] != want {
		t.Fatalf("lease = %s, want deadline %s", raw, want)
	}
}
