package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs the handler's exposition in the text format and parses it.
func scrape(tb testing.TB, h http.Handler) map[string]*dto.MetricFamily {
	tb.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("scrape: HTTP %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		tb.Fatalf("scrape: Content-Type %q, want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		tb.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// TestHandlerServesOwnRegistry scrapes the handler: the runtime, process
// and build metrics are there, and none of them leaked into the
// process-wide default registry.
func TestHandlerServesOwnRegistry(t *testing.T) {
	t.Parallel()
	m := New(Config{Version: "v1.2.3"})
	m.ObserveRequest("CreateCacheSecurityGroup", "", time.Millisecond)
	fams := scrape(t, m.Handler())
	for _, name := range []string{
		"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes",
		"elasticache_build_info", "elasticache_requests_total", "elasticache_request_duration_seconds",
		"elasticache_store_transaction_duration_seconds", "elasticache_store_conflicts_total", "elasticache_store_errors_total",
	} {
		if fams[name] == nil {
			t.Errorf("scrape has no %s", name)
		}
	}
	want := map[string]float64{"goversion=" + runtime.Version() + ",version=v1.2.3": 1}
	got := map[string]float64{}
	for k, s := range series(fams, "elasticache_build_info") {
		got[k] = s.GetGauge().GetValue()
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("elasticache_build_info (-want +got):\n%s", d)
	}
	if fams["elasticache_build_info"].GetType() != dto.MetricType_GAUGE {
		t.Errorf("elasticache_build_info is a %v, want a gauge", fams["elasticache_build_info"].GetType())
	}

	global, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gather default registry: %v", err)
	}
	for _, mf := range global {
		if strings.HasPrefix(mf.GetName(), Namespace+"_") {
			t.Errorf("%s is registered on the default registry", mf.GetName())
		}
	}
}

// TestTwoInstancesDoNotShare keeps each Metrics apart: two servers in one
// process (the e2e tests) count their own requests.
func TestTwoInstancesDoNotShare(t *testing.T) {
	t.Parallel()
	a, b := New(Config{}), New(Config{})
	a.ObserveRequest("DescribeEvents", "", time.Millisecond)
	if got := counterValues(gather(t, b), "elasticache_requests_total"); len(got) != 0 {
		t.Errorf("second instance counted %v", got)
	}
	if got := counterValues(gather(t, a), "elasticache_requests_total")["action=DescribeEvents,code="]; got != 1 {
		t.Errorf("first instance counted %v, want 1", got)
	}
}

// TestBuildInfoDevel names an unset version "devel", as the server does.
func TestBuildInfoDevel(t *testing.T) {
	t.Parallel()
	for k := range series(gather(t, New(Config{})), "elasticache_build_info") {
		if !strings.Contains(k, "version=devel") {
			t.Errorf("build info labels %q, want version=devel", k)
		}
	}
}

// TestResources reads the resource gauge from its counter at each scrape.
func TestResources(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	n := 0
	calls := 0
	if err := m.CountResources(func(ctx context.Context) (map[string]int, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("resource count called without a deadline")
		}
		calls++
		n += 100_000
		return map[string]int{"cache-security-group": n, "user": 7}, nil
	}); err != nil {
		t.Fatalf("CountResources: %v", err)
	}
	if err := m.CountResources(func(context.Context) (map[string]int, error) { return nil, nil }); err == nil {
		t.Errorf("a second counter was accepted")
	}
	for i, want := range []float64{100_000, 200_000} {
		got := series(scrape(t, m.Handler()), "elasticache_resources")
		if v := got["type=cache-security-group"].GetGauge().GetValue(); v != want {
			t.Errorf("elasticache_resources{cache-security-group} = %v, want %v", v, want)
		}
		if v := got["type=user"].GetGauge().GetValue(); v != 7 {
			t.Errorf("elasticache_resources{user} = %v, want 7", v)
		}
		if calls != i+1 {
			t.Errorf("%d scrapes counted %d times, want once each", i+1, calls)
		}
	}
}

// TestResourcesFailingCount keeps serving every other metric when the
// store cannot count, and says so in the log and in promhttp's own
// error counter.
func TestResourcesFailingCount(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	m := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	m.ObserveRequest("DescribeEvents", "", time.Millisecond)
	if err := m.CountResources(func(context.Context) (map[string]int, error) {
		return nil, errors.New("store unavailable")
	}); err != nil {
		t.Fatalf("CountResources: %v", err)
	}
	fams := scrape(t, m.Handler())
	if fams["elasticache_resources"] != nil {
		t.Errorf("elasticache_resources served despite the failed count")
	}
	if got := counterValues(fams, "elasticache_requests_total")["action=DescribeEvents,code="]; got != 1 {
		t.Errorf("requests_total = %v, want 1 despite the failed count", got)
	}
	// The error counter is incremented after the answer is written, so the
	// next scrape shows it.
	fams = scrape(t, m.Handler())
	if got := counterValues(fams, "promhttp_metric_handler_errors_total")["cause=gathering"]; got != 1 {
		t.Errorf("promhttp_metric_handler_errors_total{cause=gathering} = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), "store unavailable") {
		t.Errorf("log does not name the failure:\n%s", logs.String())
	}
}

// TestScrapeProtobuf serves the protobuf format Prometheus prefers, and
// it decodes to the same families.
func TestScrapeProtobuf(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	m.ObserveRequest("DescribeEvents", "", time.Millisecond)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	found := false
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if mf.GetName() == "elasticache_requests_total" {
			found = true
		}
	}
	if !found {
		t.Errorf("protobuf scrape has no elasticache_requests_total")
	}
}
