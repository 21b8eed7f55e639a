package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/etcd"
	"github.com/elasticache-server/elasticache-server/storage/storagetest"
)

// prefixes hands out a fresh key prefix per store, so that one member
// serves every test as if each had a cluster of its own.
type prefixes struct{ n atomic.Int64 }

func (p *prefixes) next(t testing.TB) string {
	return fmt.Sprintf("/test/%s/%d/", t.Name(), p.n.Add(1))
}

// open opens a store on the cluster under prefix and closes it when tb
// ends.
func open(tb testing.TB, c *etcdtest.Cluster, prefix string, cfg etcd.Config) *etcd.Store {
	tb.Helper()
	cfg.Endpoints = c.Endpoints()
	cfg.Prefix = prefix
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = etcdtest.MaxRequestBytes
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := etcd.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestConformance runs the storage suite on one member, each subtest under
// a prefix of its own. The member allows large transactions (see
// etcdtest.MaxTxnOps): the suite commits 10,000 keys at once.
func TestConformance(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	var p prefixes
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return open(t, c, p.next(t), etcd.Config{})
	})
}

func TestEtcd(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	var p prefixes

	// 64 goroutines increment one counter through their own stores (as 64
	// servers would): optimistic retries must lose none.
	t.Run("ContendedIncrements", func(t *testing.T) {
		t.Parallel()
		prefix := p.next(t)
		const n = 64
		stores := make([]*etcd.Store, 4)
		for i := range stores {
			stores[i] = open(t, c, prefix, etcd.Config{})
		}
		var runs atomic.Int64
		perUpdate := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = stores[i%len(stores)].Update(t.Context(), func(tx storage.Tx) error {
					runs.Add(1)
					perUpdate[i]++
					v, err := tx.Get([]byte("counter"))
					count := 0
					if err == nil {
						count, err = strconv.Atoi(string(v))
						if err != nil {
							return err
						}
					} else if !errors.Is(err, storage.ErrNotFound) {
						return err
					}
					return tx.Put([]byte("counter"), []byte(strconv.Itoa(count+1)))
				})
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
		}
		var got string
		err := stores[0].View(t.Context(), func(tx storage.Tx) error {
			v, err := tx.Get([]byte("counter"))
			got = string(v)
			return err
		})
		if err != nil || got != strconv.Itoa(n) {
			t.Errorf("counter = %q, %v; want %d", got, err, n)
		}
		t.Logf("%d increments took %d runs of fn, at most %d for one Update (the limit is 100 that lost to another writer)", n, runs.Load(), slices.Max(perUpdate))
	})

	// A Scan inside Update is validated: a key inserted into the scanned
	// range, or deleted from it, by a concurrent writer makes the first
	// run conflict, and the second run sees it.
	t.Run("ScanConflicts", func(t *testing.T) {
		t.Parallel()
		prefix := p.next(t)
		s, other := open(t, c, prefix, etcd.Config{}), open(t, c, prefix, etcd.Config{})
		mustPut(t, s, "r/1", "x", "r/3", "x")
		for _, change := range []func(tx storage.Tx) error{
			func(tx storage.Tx) error { return tx.Put([]byte("r/2"), []byte("inserted")) },
			func(tx storage.Tx) error { return tx.Delete([]byte("r/1")) },
			func(tx storage.Tx) error { return tx.Put([]byte("r/3"), []byte("changed")) },
		} {
			var counts []int
			err := s.Update(t.Context(), func(tx storage.Tx) error {
				n := 0
				err := tx.Scan([]byte("r/"), nil, func(k, v []byte) (bool, error) {
					n++
					return true, nil
				})
				if err != nil {
					return err
				}
				counts = append(counts, n)
				if len(counts) == 1 {
					// Another server commits between this run's reads and
					// its commit.
					if err := other.Update(t.Context(), change); err != nil {
						return err
					}
				}
				return tx.Put([]byte("count"), []byte(strconv.Itoa(n)))
			})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if len(counts) != 2 {
				t.Errorf("fn ran %d times (counts %v), want 2: the concurrent change must conflict", len(counts), counts)
			}
			var stored string
			_ = s.View(t.Context(), func(tx storage.Tx) error {
				n := 0
				_ = tx.Scan([]byte("r/"), nil, func(k, v []byte) (bool, error) { n++; return true, nil })
				v, err := tx.Get([]byte("count"))
				stored = string(v)
				if stored != strconv.Itoa(n) {
					t.Errorf("count = %q (%v), but the range holds %d keys", stored, err, n)
				}
				return nil
			})
		}
	})

	// A write outside the scanned range does not conflict.
	t.Run("NoFalseConflict", func(t *testing.T) {
		t.Parallel()
		prefix := p.next(t)
		s, other := open(t, c, prefix, etcd.Config{}), open(t, c, prefix, etcd.Config{})
		mustPut(t, s, "a/1", "x", "a/2", "x", "b/1", "x")
		runs := 0
		err := s.Update(t.Context(), func(tx storage.Tx) error {
			runs++
			err := tx.Scan([]byte("a/"), nil, func(k, v []byte) (bool, error) { return false, nil })
			if err != nil {
				return err
			}
			if runs == 1 {
				// After the visited a/1: not read, so not a conflict.
				if err := other.Update(t.Context(), func(tx storage.Tx) error {
					if err := tx.Put([]byte("a/2"), []byte("changed")); err != nil {
						return err
					}
					return tx.Put([]byte("b/2"), []byte("new"))
				}); err != nil {
					return err
				}
			}
			return tx.Put([]byte("seen"), []byte("a/1"))
		})
		if err != nil {
			t.Fatal(err)
		}
		if runs != 1 {
			t.Errorf("fn ran %d times, want 1", runs)
		}
	})

	// Two stores under different prefixes of one cluster see nothing of
	// each other.
	t.Run("PrefixIsolation", func(t *testing.T) {
		t.Parallel()
		base := p.next(t)
		a := open(t, c, base+"a/", etcd.Config{})
		b := open(t, c, base+"b/", etcd.Config{})
		mustPut(t, a, "k", "from a", "shared/1", "a")
		mustPut(t, b, "k", "from b")
		for name, tc := range map[string]struct {
			s    *etcd.Store
			want []string
		}{
			"a": {a, []string{"k=from a", "shared/1=a"}},
			"b": {b, []string{"k=from b"}},
		} {
			var got []string
			err := tc.s.View(t.Context(), func(tx storage.Tx) error {
				return tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
					got = append(got, string(k)+"="+string(v))
					return true, nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("store %s sees %q, want %q", name, got, tc.want)
			}
		}
	})

	// A transaction larger than etcd allows fails with ErrTooLarge, not
	// as a retryable error.
	t.Run("TooLarge", func(t *testing.T) {
		t.Parallel()
		s := open(t, c, p.next(t), etcd.Config{MaxRequestBytes: 1 << 20})
		big := make([]byte, 600<<10)
		err := s.Update(t.Context(), func(tx storage.Tx) error {
			if err := tx.Put([]byte("a"), big); err != nil {
				return err
			}
			return tx.Put([]byte("b"), big)
		})
		if !errors.Is(err, etcd.ErrTooLarge) || errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("Update of 1.2 MiB with a 1 MiB limit = %v, want ErrTooLarge", err)
		}
	})
}

// TestUnavailable stops the only member: reads and commits must fail with
// storage.ErrUnavailable within the request timeout, and work again once
// the member is back.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	const timeout = time.Second
	s := open(t, c, "/unavailable/", etcd.Config{RequestTimeout: timeout})
	mustPut(t, s, "k", "v")

	c.Members[0].Kill(t)
	check := func(what string, op func() error) {
		t.Helper()
		start := time.Now()
		err := op()
		took := time.Since(start)
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s with the member down = %v, want ErrUnavailable", what, err)
		}
		// Each request is bounded by the timeout; an Update makes one per
		// run (its commit, or the validation of its reads).
		if took > 3*timeout {
			t.Errorf("%s took %s to fail, want at most about %s", what, took, 2*timeout)
		}
		t.Logf("%s: %v after %s", what, err, took.Round(time.Millisecond))
	}
	check("View", func() error {
		return s.View(t.Context(), func(tx storage.Tx) error {
			_, err := tx.Get([]byte("k"))
			return err
		})
	})
	check("Update", func() error {
		return s.Update(t.Context(), func(tx storage.Tx) error {
			return tx.Put([]byte("k"), []byte("blind"))
		})
	})
	check("Update with a read", func() error {
		return s.Update(t.Context(), func(tx storage.Tx) error {
			if _, err := tx.Get([]byte("k")); err != nil {
				return err
			}
			return tx.Put([]byte("k"), []byte("read first"))
		})
	})

	c.Members[0].Restart(t)
	c.WaitHealthy(t, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.Update(t.Context(), func(tx storage.Tx) error {
			return tx.Put([]byte("k"), []byte("after"))
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Update after the member's restart still fails: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := s.View(t.Context(), func(tx storage.Tx) error {
		v, err := tx.Get([]byte("k"))
		if err == nil && string(v) != "after" {
			err = fmt.Errorf("k = %q, want after (the blind write's outcome was unknown, but a later write wins)", v)
		}
		return err
	}); err != nil {
		t.Error(err)
	}
}

// TestOpenUnreachable: Open fails, within the dial timeout, when no member
// answers.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := etcd.Open(t.Context(), etcd.Config{Endpoints: []string{"127.0.0.1:1"}, DialTimeout: time.Second})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Open of an unreachable cluster = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Open took %s to fail", took)
	}
	if _, err := etcd.Open(t.Context(), etcd.Config{}); err == nil {
		t.Error("Open without endpoints succeeded")
	}
}

func mustPut(tb testing.TB, s storage.Store, kv ...string) {
	tb.Helper()
	err := s.Update(tb.Context(), func(tx storage.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("Update: %v", err)
	}
}
