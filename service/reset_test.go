package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Resetting one account removes its groups, events, counters and expiry
// index entries in every region, and nothing of any other account.
func TestResetOneAccount(t *testing.T) {
	t.Parallel()
	for _, b := range []Batching{{}, {MaxWrites: 3}} {
		f := newFixture(t, Config{})
		populate(t, f)
		before := viewAll(t, f)
		keysBefore := dumpStore(t, f.store)

		res, err := f.svc.Reset(context.Background(), "111111111111", b)
		mustOK(t, err)
		if want := (ResetResult{Records: map[string]int{"cacheSecurityGroups": 6, "cacheSubnetGroups": 0, "cacheParameterGroups": 0, "users": 0, "userGroups": 0, "cacheClusters": 0, "replicationGroups": 0}, Events: 16}); !reflect.DeepEqual(res, want) {
			t.Errorf("batching %+v: reset = %+v, want %+v", b, res, want)
		}
		after := viewAll(t, f)
		// Scopes 0 and 1 are the reset account's: only the virtual default
		// group is left, and no events; scopes 2 and 3 are untouched.
		for i := 0; i < 2; i++ {
			if len(after.Groups[i]) != 1 || *after.Groups[i][0].CacheSecurityGroupName != "default" ||
				len(after.Groups[i][0].EC2SecurityGroups) != 0 || len(after.Events[i]) != 0 {
				t.Errorf("batching %+v: scope %d after reset: %+v, %+v", b, i, after.Groups[i], after.Events[i])
			}
		}
		if d := cmp.Diff(before.Groups[2:], after.Groups[2:]); d != "" {
			t.Errorf("batching %+v: the other account's groups changed:\n%s", b, d)
		}
		if d := cmp.Diff(before.Events[2:], after.Events[2:]); d != "" {
			t.Errorf("batching %+v: the other account's events changed:\n%s", b, d)
		}
		keysAfter := dumpStore(t, f.store)
		for k, v := range keysBefore {
			mine := strings.HasPrefix(k, "a/111111111111/") || strings.HasPrefix(k, "x/ev/") && strings.Contains(k, "/111111111111/")
			got, kept := keysAfter[k]
			switch {
			case mine && kept:
				t.Errorf("batching %+v: reset left %q", b, k)
			case !mine && (!kept || got != v):
				t.Errorf("batching %+v: reset changed %q", b, k)
			}
		}
		// 6 groups, a counter, 16 events with their expiry index and two
		// tag sets (Web-i and default) in each of the account's two scopes.
		if len(keysAfter) != len(keysBefore)-6-1*2-16*2-2*2 {
			t.Errorf("batching %+v: %d keys before, %d after", b, len(keysBefore), len(keysAfter))
		}
		// The account starts afresh: its quota counter is back at zero.
		f2 := &fixture{store: f.store, clock: f.clock}
		f2.svc, err = Open(context.Background(), f.store, f.clock, Config{CacheSecurityGroupQuota: 1})
		mustOK(t, err)
		create(t, f2, as("111111111111", "us-east-1"), "first")
	}
}

func TestResetKeepsSchemaAndMarkerKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	for i := 0; i < 25; i++ {
		create(t, f, ctxA, "g"+strings.Repeat("x", i))
	}
	page, err := f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(20)})
	mustOK(t, err)
	keys := dumpStore(t, f.store)
	_, err = f.svc.Reset(context.Background(), "", Batching{})
	mustOK(t, err)
	left := dumpStore(t, f.store)
	if d := cmp.Diff(map[string]string{"m/schema": keys["m/schema"], "m/marker-key": keys["m/marker-key"]}, left); d != "" {
		t.Errorf("after reset (-want +got):\n%s", d)
	}
	// A marker issued before the reset is still one of this store's: it
	// resumes after its position, where nothing is left.
	out, err := f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(20), Marker: page.Marker})
	mustOK(t, err)
	if len(out.CacheSecurityGroups) != 0 {
		t.Errorf("page after the reset = %d groups", len(out.CacheSecurityGroups))
	}
}

func TestResetRefusesABadAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "kept")
	before := dumpStore(t, f.store)
	for _, acct := range []string{"1234", "11111111111a", "111111111111/", "a/"} {
		_, err := f.svc.Reset(context.Background(), acct, Batching{})
		if !errors.Is(err, ErrInvalidAccount) {
			t.Errorf("Reset(%q) = %v, want ErrInvalidAccount", acct, err)
		}
	}
	if d := cmp.Diff(before, dumpStore(t, f.store)); d != "" {
		t.Errorf("refused resets changed the store:\n%s", d)
	}
}

// An interrupted reset of everything is flagged like an import and cleared
// by running it again.
func TestInterruptedResetIsFlagged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	populate(t, f)
	failing := &failingStore{Store: f.store, failAt: 2}
	svc, err := Open(context.Background(), failing, f.clock, Config{})
	mustOK(t, err)
	_, err = svc.Reset(context.Background(), "", Batching{MaxWrites: 5})
	if err == nil || !strings.Contains(err.Error(), "reset interrupted, run it again") {
		t.Fatalf("interrupted reset = %v", err)
	}
	_, err = svc.ExportState(context.Background())
	if !errors.Is(err, ErrUnfinished) || !strings.Contains(err.Error(), "the reset started at") {
		t.Fatalf("export = %v, want ErrUnfinished", err)
	}
	var u struct {
		Operation, Account string
		Started            time.Time
	}
	mustOK(t, json.Unmarshal([]byte(dumpStore(t, f.store)["m/unfinished"]), &u))
	if u.Operation != "reset" || u.Account != "" || !u.Started.Equal(f.clock.Now()) {
		t.Errorf("marker = %+v", u)
	}
	_, err = svc.Reset(context.Background(), "", Batching{MaxWrites: 5})
	mustOK(t, err)
	if got := string(mustExport(t, f)); !strings.Contains(got, `"accounts": []`) {
		t.Errorf("export after the rerun:\n%s", got)
	}
}

// recordingStore notes the writes and bytes of every Update.
type recordingStore struct {
	storage.Store
	mu      sync.Mutex
	batches [][2]int // writes, bytes
}

type recordingTx struct {
	storage.Tx
	writes, bytes int
}

func (t *recordingTx) Put(k, v []byte) error {
	t.writes, t.bytes = t.writes+1, t.bytes+len(k)+len(v)
	return t.Tx.Put(k, v)
}

func (t *recordingTx) Delete(k []byte) error {
	t.writes, t.bytes = t.writes+1, t.bytes+len(k)
	return t.Tx.Delete(k)
}

func (s *recordingStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Store.Update(ctx, func(tx storage.Tx) error {
		rt := &recordingTx{Tx: tx}
		err := fn(rt)
		s.mu.Lock()
		s.batches = append(s.batches, [2]int{rt.writes, rt.bytes})
		s.mu.Unlock()
		return err
	})
}

// Batches respect both bounds: many small records fill batches by count,
// large ones by bytes, and a record larger than the byte bound goes alone.
func TestBatchingBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	var groups []string
	for i := 0; i < 150; i++ {
		groups = append(groups, fmt.Sprintf(`{"name": "small-%d", "description": "d"}`, i))
	}
	var tags []string
	for i := 0; i < 50; i++ {
		tags = append(tags, fmt.Sprintf(`{"key": "k%03d%s", "value": "%s"}`, i, strings.Repeat("ключ", 30), strings.Repeat("значение", 32)))
	}
	for i := 0; i < 30; i++ {
		groups = append(groups, fmt.Sprintf(`{"name": "large-%d", "description": "d", "tags": [%s]}`, i, strings.Join(tags, ",")))
	}
	doc := `{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [
	  {"region": "us-east-1", "cacheSecurityGroups": [` + strings.Join(groups, ",") + `]}]}]}`
	rec := &recordingStore{Store: f.store}
	svc, err := Open(context.Background(), rec, f.clock, Config{})
	mustOK(t, err)
	const maxWrites, maxBytes = 100, 64 << 10
	res, err := svc.ImportState(context.Background(), []byte(doc), ImportOptions{Batching: Batching{MaxWrites: maxWrites, MaxBytes: maxBytes}})
	mustOK(t, err)
	if res.Records["cacheSecurityGroups"] != 180 {
		t.Fatalf("import = %+v", res)
	}
	total, alone := 0, 0
	for _, b := range rec.batches {
		total += b[0]
		if b[0] > maxWrites || b[1] > maxBytes && b[0] != 1 {
			t.Errorf("batch of %d writes, %d bytes: over %d writes or %d bytes", b[0], b[1], maxWrites, maxBytes)
		}
		if b[1] > maxBytes {
			alone++
		}
	}
	// 180 groups, the tags of the 30 large ones, the counter, and the
	// unfinished marker put and deleted.
	if total != 213 {
		t.Errorf("%d writes in %d batches, want 213", total, len(rec.batches))
	}
	if alone != 0 {
		t.Errorf("%d records over %d bytes went alone; the large groups are about 40 KiB", alone, maxBytes)
	}
	if len(rec.batches) < 2+30*40/64 {
		t.Errorf("only %d batches: %v", len(rec.batches), rec.batches)
	}
	// The same document with a byte bound below one large group: each
	// of them goes alone.
	rec.batches = nil
	_, err = svc.ImportState(context.Background(), []byte(doc), ImportOptions{Batching: Batching{MaxWrites: maxWrites, MaxBytes: 16 << 10}})
	mustOK(t, err)
	alone = 0
	for _, b := range rec.batches {
		if b[1] > 16<<10 {
			if b[0] != 1 {
				t.Errorf("batch of %d writes, %d bytes", b[0], b[1])
			}
			alone++
		}
	}
	if alone != 30 {
		t.Errorf("%d large groups went alone, want 30", alone)
	}
	if names := describeAll(t, &fixture{svc: svc, store: rec, clock: f.clock}, ctxA, 100); len(names) != 181 {
		t.Errorf("%d groups described, want 180 and default", len(names))
	}
}
