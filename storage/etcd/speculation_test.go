package etcd_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/etcd"
	"github.com/elasticache-server/elasticache-server/storage/storagetest"
)

// TestConformanceWithoutCache runs the storage suite once more with the
// read cache off, and once with one too small for most entries: every
// Update then starts from guesses (keys absent) or from an evicting cache,
// and must be exactly as correct.
func TestConformanceWithoutCache(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	var p prefixes
	for name, bytes := range map[string]int{"Off": -1, "Tiny": 400} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storagetest.Run(t, func(t *testing.T) storage.Store {
				return open(t, c, p.next(t), etcd.Config{CacheBytes: bytes})
			})
		})
	}
}

// kvRequests reads, from a member's Prometheus metrics, how many requests
// of each KV method (Range, Txn, Put, DeleteRange) it has answered: the
// round trips a test's stores made, when they are its only clients. The
// counters move before the answer leaves the member, so a difference taken
// after a call returned is exact.
func kvRequests(tb testing.TB, m *etcdtest.Member) map[string]int {
	tb.Helper()
	resp, err := http.Get("http://" + m.ClientAddr + "/metrics")
	if err != nil {
		tb.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	method := regexp.MustCompile(`grpc_method="(\w+)"`)
	counts := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "grpc_server_handled_total{") || !strings.Contains(line, `grpc_service="etcdserverpb.KV"`) {
			continue
		}
		mm := method.FindStringSubmatch(line)
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if mm == nil || err != nil {
			tb.Fatalf("metrics: cannot read %q", line)
		}
		counts[mm[1]] += int(v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("metrics: %v", err)
	}
	return counts
}

// roundTrips runs fn and returns the Txn and Range requests the member
// answered meanwhile.
func roundTrips(tb testing.TB, m *etcdtest.Member, fn func()) (txns, ranges int) {
	tb.Helper()
	before := kvRequests(tb, m)
	fn()
	after := kvRequests(tb, m)
	for _, method := range []string{"Put", "DeleteRange"} {
		if after[method] != before[method] {
			tb.Errorf("%d %s requests; the store writes only through Txn", after[method]-before[method], method)
		}
	}
	return after["Txn"] - before["Txn"], after["Range"] - before["Range"]
}

// errExists is the "already exists" fault of the create functions below.
var errExists = errors.New("test: name already exists")

// creator is the shape of the service's create: read the name (it must be
// absent) and the scope's counter, then write the record, an event and the
// counter. It records what each run of its function saw.
type creator struct {
	mu     sync.Mutex
	runs   int
	counts []int // the counter as each run read it
}

func (c *creator) fn(name string) func(storage.Tx) error {
	return func(tx storage.Tx) error {
		c.mu.Lock()
		c.runs++
		c.mu.Unlock()
		if _, err := tx.Get([]byte("csg/" + name)); err == nil {
			return fmt.Errorf("%s: %w", name, errExists)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		n := 0
		if v, err := tx.Get([]byte("n")); err == nil {
			if n, err = strconv.Atoi(string(v)); err != nil {
				return err
			}
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		c.mu.Lock()
		c.counts = append(c.counts, n)
		c.mu.Unlock()
		for _, kv := range [][2]string{{"csg/" + name, "record"}, {"ev/" + name, "created"}, {"n", strconv.Itoa(n + 1)}} {
			if err := tx.Put([]byte(kv[0]), []byte(kv[1])); err != nil {
				return err
			}
		}
		return nil
	}
}

func (c *creator) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs, c.counts = 0, nil
}

// TestRoundTrips counts the requests etcd answers (on a member of its own,
// so nobody else's show) for the cases the read cache is about.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	m := c.Members[0]
	var p prefixes
	prefix := p.next(t)
	s, other := open(t, c, prefix, etcd.Config{}), open(t, c, prefix, etcd.Config{})
	var cr creator

	// A create is one transaction: the new name is guessed absent, the
	// counter comes from the previous commit; nothing is read first.
	txns, ranges := roundTrips(t, m, func() {
		for i := range 20 {
			if err := s.Update(t.Context(), cr.fn(fmt.Sprintf("g%02d", i))); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
	})
	if txns != 20 || ranges != 0 || cr.runs != 20 {
		t.Errorf("20 creates: %d transactions, %d reads, %d runs of fn; want 20, 0, 20", txns, ranges, cr.runs)
	}
	wantValue(t, s, "n", "20")

	// Another store creates through its own cache: its first run guesses
	// the counter absent (it exists: a miss, the Else branch brings it),
	// the second commits. Two transactions, no read.
	cr.reset()
	txns, ranges = roundTrips(t, m, func() {
		if err := other.Update(t.Context(), cr.fn("from-other")); err != nil {
			t.Fatalf("create through the other store: %v", err)
		}
	})
	if txns != 2 || ranges != 0 || fmt.Sprint(cr.counts) != "[0 20]" {
		t.Errorf("create with the counter unknown: %d transactions, %d reads, counter seen as %v; want 2, 0, [0 20]", txns, ranges, cr.counts)
	}

	// Now s's cached counter is stale: its first run reads 20, the commit
	// fails and its Else branch returns 21, on which the second run
	// commits. Two transactions, no read.
	cr.reset()
	txns, ranges = roundTrips(t, m, func() {
		if err := s.Update(t.Context(), cr.fn("after-other")); err != nil {
			t.Fatalf("create on a stale cache: %v", err)
		}
	})
	if txns != 2 || ranges != 0 || fmt.Sprint(cr.counts) != "[20 21]" {
		t.Errorf("create on a stale counter: %d transactions, %d reads, counter seen as %v; want 2, 0, [20 21]", txns, ranges, cr.counts)
	}
	wantValue(t, s, "n", "22")

	// A name another store created is guessed absent by s: the run that
	// creates it fails to commit, and the run on what the Else branch
	// brought answers the fault. That answer rests on one snapshot taken
	// by this Update, so it needs no second transaction.
	if err := other.Update(t.Context(), cr.fn("taken")); err != nil {
		t.Fatalf("create through the other store: %v", err)
	}
	cr.reset()
	var err error
	txns, ranges = roundTrips(t, m, func() { err = s.Update(t.Context(), cr.fn("taken")) })
	if !errors.Is(err, errExists) {
		t.Errorf("create of a name the other store created = %v, want errExists", err)
	}
	if txns != 1 || ranges != 0 || cr.runs != 2 {
		t.Errorf("create of an existing name: %d transactions, %d reads, %d runs; want 1, 0, 2", txns, ranges, cr.runs)
	}
	wantValue(t, s, "n", "23")

	// The same fault again: now s knows the name exists, and the fault is
	// trusted only after one transaction without writes confirms it.
	cr.reset()
	txns, ranges = roundTrips(t, m, func() { err = s.Update(t.Context(), cr.fn("taken")) })
	if !errors.Is(err, errExists) || txns != 1 || ranges != 0 || cr.runs != 1 {
		t.Errorf("create of a known name: %v after %d transactions, %d reads, %d runs; want errExists, 1, 0, 1", err, txns, ranges, cr.runs)
	}

	// A read-only Update on current cache entries: one validation.
	var got string
	txns, ranges = roundTrips(t, m, func() {
		err = s.Update(t.Context(), func(tx storage.Tx) error {
			v, err := tx.Get([]byte("n"))
			got = string(v)
			return err
		})
	})
	if err != nil || got != "23" || txns != 1 || ranges != 0 {
		t.Errorf("read-only Update: %q, %v after %d transactions, %d reads; want 23, nil, 1, 0", got, err, txns, ranges)
	}

	// View is unchanged: a linearizable read, no transaction.
	txns, ranges = roundTrips(t, m, func() { wantValue(t, s, "n", "23") })
	if txns != 0 || ranges != 1 {
		t.Errorf("View of one key: %d transactions, %d reads; want 0, 1", txns, ranges)
	}
}

// TestSpeculation checks what each run of fn sees when the store's
// knowledge is wrong, and that only a run on current data decides.
func TestSpeculation(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	var p prefixes

	// A key s knows nothing of is guessed absent; it exists, so the guess
	// fails at commit and the next run sees its value.
	t.Run("GuessOnExistingKey", func(t *testing.T) {
		t.Parallel()
		prefix := p.next(t)
		s, other := open(t, c, prefix, etcd.Config{}), open(t, c, prefix, etcd.Config{})
		mustPut(t, other, "k", "41")
		var seen []string
		err := s.Update(t.Context(), func(tx storage.Tx) error {
			v, err := tx.Get([]byte("k"))
			switch {
			case errors.Is(err, storage.ErrNotFound):
				seen = append(seen, "absent")
				return tx.Put([]byte("k"), []byte("created"))
			case err != nil:
				return err
			}
			seen = append(seen, string(v))
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return err
			}
			return tx.Put([]byte("k"), []byte(strconv.Itoa(n+1)))
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(seen) != "[absent 41]" {
			t.Errorf("runs saw %v, want [absent 41]", seen)
		}
		wantValue(t, s, "k", "42")
	})

	// A cached value another store changed: the first run sees the old
	// value; the Else branch corrects it for the second.
	t.Run("StaleCacheCorrected", func(t *testing.T) {
		t.Parallel()
		prefix := p.next(t)
		s, other := open(t, c, prefix, etcd.Config{}), open(t, c, prefix, etcd.Config{})
		appendTo := func(st *etcd.Store, what string, seen *[]string) {
			t.Helper()
			err := st.Update(t.Context(), func(tx storage.Tx) error {
				v, err := tx.Get([]byte("log"))
				if err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				if seen != nil {
					*seen = append(*seen, string(v))
				}
				return tx.Put([]byte("log"), []byte(string(v)+what))
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		appendTo(s, "a", nil) // s now knows log = "a"
		appendTo(other, "b", nil)
		var seen []string
		appendTo(s, "c", &seen)
		if fmt.Sprint(seen) != "[a ab]" {
			t.Errorf("runs saw %q, want [a ab]", seen)
		}
		wantValue(t, s, "log", "abc")
	})

	// A fault decided on a stale entry must not be answered: s knows the
	// name as taken, another store deleted it, and the fault's run is
	// validated, fails, and runs again on current data, which creates it.
	t.Run("FaultOnStaleReadRunsAgain", func(t *testing.T) {
		t.Parallel()
		prefix := p.next(t)
		s, other := open(t, c, prefix, etcd.Config{}), open(t, c, prefix, etcd.Config{})
		var cr creator
		if err := s.Update(t.Context(), cr.fn("x")); err != nil {
			t.Fatal(err)
		}
		if err := other.Update(t.Context(), func(tx storage.Tx) error { return tx.Delete([]byte("csg/x")) }); err != nil {
			t.Fatal(err)
		}
		cr.reset()
		if err := s.Update(t.Context(), cr.fn("x")); err != nil {
			t.Errorf("create after the other store's delete = %v, want success: the fault came from a stale read", err)
		}
		if cr.runs != 2 {
			t.Errorf("fn ran %d times, want 2 (the stale fault, then the create)", cr.runs)
		}
		wantValue(t, s, "csg/x", "record")
		wantValue(t, s, "n", "2")
	})

	// The same for a run that writes nothing: what it returns is answered
	// only once its reads are confirmed.
	t.Run("ReadOnlyOnStaleReadRunsAgain", func(t *testing.T) {
		t.Parallel()
		prefix := p.next(t)
		s, other := open(t, c, prefix, etcd.Config{}), open(t, c, prefix, etcd.Config{})
		read := func() (string, int) {
			var got string
			runs := 0
			err := s.Update(t.Context(), func(tx storage.Tx) error {
				runs++
				v, err := tx.Get([]byte("k"))
				got = string(v)
				if errors.Is(err, storage.ErrNotFound) {
					got = "absent"
					err = nil
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return got, runs
		}
		if got, _ := read(); got != "absent" {
			t.Fatalf("k = %q before any write", got)
		}
		mustPut(t, other, "k", "v1") // s's cache says absent
		if got, runs := read(); got != "v1" || runs != 2 {
			t.Errorf("read after the other store's put = %q in %d runs, want v1 in 2", got, runs)
		}
		mustPut(t, other, "k", "v2") // s's cache says v1
		if got, runs := read(); got != "v2" || runs != 2 {
			t.Errorf("read after the other store's change = %q in %d runs, want v2 in 2", got, runs)
		}
	})

	// A caller that gives up while fn runs gets its context's error, also
	// from a run that wrote nothing (even one whose reads need no
	// validation), or that failed on reads not yet validated: neither
	// outcome may be taken for the other.
	t.Run("CanceledBeforeValidation", func(t *testing.T) {
		t.Parallel()
		s := open(t, c, p.next(t), etcd.Config{})
		mustPut(t, s, "read-only", "v", "fault", "v") // unknown to s's cache
		for _, key := range []string{"read-only", "fault"} {
			ctx, cancel := context.WithCancel(t.Context())
			runs := 0
			err := s.Update(ctx, func(tx storage.Tx) error {
				runs++
				_, err := tx.Get([]byte(key))
				if key == "fault" {
					// Decided on the guess that the key is absent.
					cancel()
					return err
				}
				if runs == 2 {
					// On what the failed validation brought back: one
					// snapshot, which needs no second validation.
					cancel()
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s Update canceled during run %d = %v, want an error wrapping context.Canceled", key, runs, err)
			}
		}
	})

	// Two stores on one etcd race creates on one counter, and on names
	// that both try to create: no update is lost, no name created twice,
	// and no Update gives up with a conflict.
	t.Run("TwoStoresRace", func(t *testing.T) {
		t.Parallel()
		prefix := p.next(t)
		stores := []*etcd.Store{open(t, c, prefix, etcd.Config{}), open(t, c, prefix, etcd.Config{})}
		const workers, each = 8, 10
		var mu sync.Mutex
		created, exists := 0, 0
		var errs []error
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				s := stores[w%len(stores)]
				var cr creator
				for i := range each {
					// Pairs of workers, one per store, race for each name.
					err := s.Update(t.Context(), cr.fn(fmt.Sprintf("w%d-%d", w/2, i)))
					mu.Lock()
					switch {
					case err == nil:
						created++
					case errors.Is(err, errExists):
						exists++
					default:
						errs = append(errs, err)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d Updates failed, first: %v", len(errs), errs[0])
		}
		if created != workers/2*each || exists != workers/2*each {
			t.Errorf("%d created, %d already existed; want %d each", created, exists, workers/2*each)
		}
		names := 0
		err := stores[0].View(t.Context(), func(tx storage.Tx) error {
			return tx.Scan([]byte("csg/"), nil, func(k, v []byte) (bool, error) { names++; return true, nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		if names != created {
			t.Errorf("%d names stored, %d creates succeeded", names, created)
		}
		wantValue(t, stores[1], "n", strconv.Itoa(created))
	})
}

func wantValue(tb testing.TB, s storage.Store, key, want string) {
	tb.Helper()
	var got string
	err := s.View(tb.Context(), func(tx storage.Tx) error {
		v, err := tx.Get([]byte(key))
		got = string(v)
		return err
	})
	if err != nil || got != want {
		tb.Errorf("%s = %q, %v; want %q", key, got, err, want)
	}
}
