package service

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingStore is a real store that counts how many keys scans visit, so
// tests can assert what a page costs.
type countingStore struct {
	storage.Store
	mu      sync.Mutex
	visited int
}

type countingTx struct {
	storage.Tx
	s *countingStore
}

func (s *countingStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Store.View(ctx, func(tx storage.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *countingStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Store.Update(ctx, func(tx storage.Tx) error { return fn(countingTx{tx, s}) })
}

func (t countingTx) Scan(prefix, after []byte, fn func(k, v []byte) (bool, error)) error {
	return t.Tx.Scan(prefix, after, func(k, v []byte) (bool, error) {
		t.s.mu.Lock()
		t.s.visited++
		t.s.mu.Unlock()
		return fn(k, v)
	})
}

func (s *countingStore) reset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.visited
	s.visited = 0
	return n
}

// openStore opens a bbolt store in a temp dir, closed at cleanup.
func openStore(tb testing.TB, path string) storage.Store {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "test.db")
	}
	st, err := bolt.Open(path, bolt.Config{NoSync: true})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

type fixture struct {
	svc   *ElastiCache
	clock *fakeClock
	store storage.Store
}

func newFixture(tb testing.TB, cfg Config) *fixture {
	tb.Helper()
	st := openStore(tb, "")
	clock := newFakeClock()
	svc, err := Open(context.Background(), st, clock, cfg)
	if err != nil {
		tb.Fatalf("service.Open: %v", err)
	}
	return &fixture{svc: svc, clock: clock, store: st}
}

// as returns a context for a caller in account acct and region region.
func as(acct, region string) context.Context {
	return api.WithCaller(context.Background(), api.Caller{AccountID: acct, Region: region})
}

var ctxA = as("111111111111", "us-east-1")

// wantFault asserts that err is the AWS fault with this code and HTTP
// status; msg, when not empty, must be its exact message.
func wantFault(tb testing.TB, err error, code string, status int, msg string) {
	tb.Helper()
	var f api.Fault
	if !errors.As(err, &f) {
		tb.Fatalf("error = %v (%T), want fault %s", err, err, code)
	}
	if f.ErrorCode() != code || f.HTTPStatus() != status {
		tb.Fatalf("fault = %s %d %q, want %s %d", f.ErrorCode(), f.HTTPStatus(), f.ErrorMessage(), code, status)
	}
	if msg != "" && f.ErrorMessage() != msg {
		tb.Fatalf("message = %q, want %q", f.ErrorMessage(), msg)
	}
}

// wantFaultContaining is wantFault for messages checked by a fragment.
func wantFaultContaining(tb testing.TB, err error, code string, status int, fragment string) {
	tb.Helper()
	wantFault(tb, err, code, status, "")
	var f api.Fault
	errors.As(err, &f)
	if !strings.Contains(f.ErrorMessage(), fragment) {
		tb.Fatalf("message = %q, want it to contain %q", f.ErrorMessage(), fragment)
	}
}

func mustOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("unexpected error: %v", err)
	}
}

func s(v string) *string { return &v }

func i32(v int32) *int32 { return &v }

func create(tb testing.TB, f *fixture, ctx context.Context, name string, tags ...api.Tag) *api.CacheSecurityGroup {
	tb.Helper()
	out, err := f.svc.CreateCacheSecurityGroup(ctx, &api.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: s(name), Description: s("group " + name), Tags: tags,
	})
	mustOK(tb, err)
	return out.CacheSecurityGroup
}

func describeAll(tb testing.TB, f *fixture, ctx context.Context, pageSize int32) []string {
	tb.Helper()
	var names []string
	var marker *string
	for pages := 0; ; pages++ {
		if pages > 10000 {
			tb.Fatal("pagination does not terminate")
		}
		out, err := f.svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(pageSize), Marker: marker})
		mustOK(tb, err)
		if len(out.CacheSecurityGroups) > int(pageSize) {
			tb.Fatalf("page of %d groups, MaxRecords %d", len(out.CacheSecurityGroups), pageSize)
		}
		for _, g := range out.CacheSecurityGroups {
			names = append(names, *g.CacheSecurityGroupName)
		}
		if out.Marker == nil {
			return names
		}
		marker = out.Marker
	}
}
