package metrics

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestObserveRequest counts requests by action and code and times them by
// action; an Action that names no operation is counted as "unknown",
// never under the client's text.
func TestObserveRequest(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	for range 3 {
		m.ObserveRequest("CreateCacheSecurityGroup", "", 3*time.Millisecond)
	}
	m.ObserveRequest("CreateCacheSecurityGroup", "CacheSecurityGroupAlreadyExists", 20*time.Millisecond)
	m.ObserveRequest("CreateCacheSecurityGroup", "CacheSecurityGroupAlreadyExists", 20*time.Millisecond)
	m.ObserveRequest("DescribeCacheSecurityGroups", "CacheSecurityGroupNotFound", time.Millisecond)
	m.ObserveRequest("CreateCacheCluster", "NotImplemented", time.Millisecond)
	m.ObserveRequest("DescribeEverything", "InvalidAction", time.Millisecond)
	m.ObserveRequest(strings.Repeat("x", 128)+"…", "InvalidAction", time.Millisecond)
	m.ObserveRequest("", "MissingAction", time.Millisecond)

	fams := gather(t, m)
	wantReq := map[string]float64{
		"action=CreateCacheSecurityGroup,code=":                                3,
		"action=CreateCacheSecurityGroup,code=CacheSecurityGroupAlreadyExists": 2,
		// A first request that fails still creates its action's success
		// series, at zero: "no success yet" is visible.
		"action=DescribeCacheSecurityGroups,code=":                           0,
		"action=DescribeCacheSecurityGroups,code=CacheSecurityGroupNotFound": 1,
		"action=CreateCacheCluster,code=":                                    0,
		"action=CreateCacheCluster,code=NotImplemented":                      1,
		"action=unknown,code=":                                               0,
		"action=unknown,code=InvalidAction":                                  2,
		"action=unknown,code=MissingAction":                                  1,
	}
	if d := cmp.Diff(wantReq, counterValues(fams, "elasticache_requests_total")); d != "" {
		t.Errorf("elasticache_requests_total (-want +got):\n%s", d)
	}
	wantDur := map[string]uint64{
		"action=CreateCacheSecurityGroup":    5,
		"action=DescribeCacheSecurityGroups": 1,
		"action=CreateCacheCluster":          1,
		"action=unknown":                     3,
	}
	if d := cmp.Diff(wantDur, histCounts(fams, "elasticache_request_duration_seconds")); d != "" {
		t.Errorf("elasticache_request_duration_seconds counts (-want +got):\n%s", d)
	}
	h := series(fams, "elasticache_request_duration_seconds")["action=CreateCacheSecurityGroup"].GetHistogram()
	if got, want := h.GetSampleSum(), 3*0.003+2*0.020; fmt.Sprintf("%.6f", got) != fmt.Sprintf("%.6f", want) {
		t.Errorf("duration sum = %v, want %v", got, want)
	}
	for _, b := range []struct {
		le   float64
		want uint64
	}{{0.0025, 0}, {0.005, 3}, {0.01, 3}, {0.025, 5}, {10, 5}} {
		if got := bucketCount(t, h, b.le); got != b.want {
			t.Errorf("bucket le=%g: %d, want %d", b.le, got, b.want)
		}
	}
}

// TestCodesPerActionAreBounded counts codes past MaxCodesPerAction as
// "other", so that no source of codes can multiply series without end.
func TestCodesPerActionAreBounded(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	const n = MaxCodesPerAction + 36
	for i := range n {
		m.ObserveRequest("DeleteCacheSecurityGroup", fmt.Sprintf("Code%03d", i), time.Millisecond)
	}
	// A code seen before the bound keeps its own series.
	m.ObserveRequest("DeleteCacheSecurityGroup", "Code000", time.Millisecond)
	got := counterValues(gather(t, m), "elasticache_requests_total")
	if len(got) != MaxCodesPerAction+2 { // the codes, "other" and success
		t.Fatalf("%d series, want %d: %v", len(got), MaxCodesPerAction+2, got)
	}
	if v := got["action=DeleteCacheSecurityGroup,code=other"]; v != 36 {
		t.Errorf("other = %v, want 36", v)
	}
	if v := got["action=DeleteCacheSecurityGroup,code=Code000"]; v != 2 {
		t.Errorf("Code000 = %v, want 2", v)
	}
	if _, ok := got[fmt.Sprintf("action=DeleteCacheSecurityGroup,code=Code%03d", MaxCodesPerAction)]; ok {
		t.Errorf("code past the bound has its own series")
	}
}

// TestObserveRequestDoesNotAllocate holds the hot path to no allocation
// once an action and code have been seen.
func TestObserveRequestDoesNotAllocate(t *testing.T) {
	m := New(Config{})
	for _, c := range []struct{ action, code string }{
		{"CreateCacheSecurityGroup", ""},
		{"CreateCacheSecurityGroup", "CacheSecurityGroupAlreadyExists"},
		{"NoSuchAction", "InvalidAction"},
	} {
		m.ObserveRequest(c.action, c.code, time.Millisecond) // first use resolves
		if n := testing.AllocsPerRun(1000, func() { m.ObserveRequest(c.action, c.code, time.Millisecond) }); n != 0 {
			t.Errorf("ObserveRequest(%q, %q) allocates %v times per call, want 0", c.action, c.code, n)
		}
	}
}

// TestObserveRequestConcurrentFirstUse loses no request when many
// goroutines meet an action and a code for the first time together.
func TestObserveRequestConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				code := ""
				if i%2 == 1 {
					code = fmt.Sprintf("Code%d", (w+i)%5)
				}
				m.ObserveRequest("AddTagsToResource", code, time.Millisecond)
			}
		}()
	}
	wg.Wait()
	fams := gather(t, m)
	var total float64
	for _, v := range counterValues(fams, "elasticache_requests_total") {
		total += v
	}
	if total != workers*each {
		t.Errorf("requests_total sums to %v, want %d", total, workers*each)
	}
	if got := counterValues(fams, "elasticache_requests_total")["action=AddTagsToResource,code="]; got != workers*each/2 {
		t.Errorf("successes = %v, want %d", got, workers*each/2)
	}
	if got := histCounts(fams, "elasticache_request_duration_seconds")["action=AddTagsToResource"]; got != workers*each {
		t.Errorf("duration count = %d, want %d", got, workers*each)
	}
}

// BenchmarkObserveRequest is the per-request cost of the metrics: a
// success, a failure whose code was seen, an unknown action; serial and
// from all cores at once.
func BenchmarkObserveRequest(b *testing.B) {
	for _, c := range []struct{ name, action, code string }{
		{"success", "DescribeCacheSecurityGroups", ""},
		{"failure", "CreateCacheSecurityGroup", "CacheSecurityGroupAlreadyExists"},
		{"unknown", "NoSuchAction", "InvalidAction"},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := New(Config{})
			b.ReportAllocs()
			for b.Loop() {
				m.ObserveRequest(c.action, c.code, 1500*time.Microsecond)
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			m := New(Config{})
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m.ObserveRequest(c.action, c.code, 1500*time.Microsecond)
				}
			})
		})
	}
}
