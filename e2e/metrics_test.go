package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/elasticache-server/elasticache-server/server"
)

// withMetricsToken makes GET /metrics require "Authorization: Bearer token".
func withMetricsToken(token string) serverOption {
	return func(c *server.Config) { c.MetricsToken = token }
}

// scrapeResult is one GET /metrics: its answer and, when it was a 200,
// the families parsed from it.
type scrapeResult struct {
	status int
	header http.Header
	body   []byte
	fams   map[string]*dto.MetricFamily
}

// scrapeMetrics GETs /metrics from the server at addr, with the bearer
// token when it is not empty, asking for the text format that people
// read, and parses a 200's body with expfmt.
func scrapeMetrics(tb testing.TB, addr, authorization string) scrapeResult {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	a := newRawClient(tb, addr).do(req)
	r := scrapeResult{status: a.status, header: a.header, body: a.body}
	if a.status != http.StatusOK {
		return r
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		tb.Fatalf("GET /metrics: Content-Type %q, want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	if r.fams, err = p.TextToMetricFamilies(bytes.NewReader(a.body)); err != nil {
		tb.Fatalf("GET /metrics: parse: %v\n%s", err, a.body)
	}
	return r
}

// metricKey renders a series' labels as "k=v,k=v" in name order.
func metricKey(m *dto.Metric) string {
	var parts []string
	for _, lp := range m.GetLabel() {
		parts = append(parts, lp.GetName()+"="+lp.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// values maps the label key of each series of family name to its value:
// a counter's or gauge's value, a histogram's sample count.
func (r scrapeResult) values(name string) map[string]float64 {
	out := map[string]float64{}
	mf := r.fams[name]
	for _, m := range mf.GetMetric() {
		var v float64
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			v = m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			v = m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			v = float64(m.GetHistogram().GetSampleCount())
		default:
			v = m.GetUntyped().GetValue()
		}
		out[metricKey(m)] = v
	}
	return out
}

// histogram returns the series of histogram name whose labels are key.
func (r scrapeResult) histogram(tb testing.TB, name, key string) *dto.Histogram {
	tb.Helper()
	for _, m := range r.fams[name].GetMetric() {
		if metricKey(m) == key {
			return m.GetHistogram()
		}
	}
	tb.Fatalf("%s has no series {%s}", name, key)
	return nil
}

// total sums the values of family name.
func (r scrapeResult) total(name string) float64 {
	var sum float64
	for _, v := range r.values(name) {
		sum += v
	}
	return sum
}

// scrapeUntil scrapes until ready accepts the scrape or the deadline
// passes. The handler counts a request after its answer has gone out, so
// a client can see the answer before the count changes.
func scrapeUntil(tb testing.TB, addr, authorization string, ready func(scrapeResult) bool) scrapeResult {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := scrapeMetrics(tb, addr, authorization)
		if r.status != http.StatusOK {
			tb.Fatalf("GET /metrics: HTTP %d: %s", r.status, r.body)
		}
		if ready(r) || time.Now().After(deadline) {
			return r
		}
		select {
		case <-tb.Context().Done():
			tb.Fatal("test ended while waiting for the metrics")
		case <-time.After(5 * time.Millisecond): // the next poll, not a wait for the result
		}
	}
}

// TestMetrics makes known requests with the Go SDK and by hand, scrapes
// /metrics over HTTP, parses the exposition and checks the exact counts by
// action and code, the latency histograms, the store transactions, the
// resources gauge across accounts and regions, and the build info.
func TestMetrics(t *testing.T) {
	t.Parallel()
	// The fleet's own store traffic (its lease, its full passes) is kept
	// out of the measured window: an hour between them, and the window
	// opens once the first ones are done (the lease written; then two
	// scrapes in a row whose only new transaction is the view each scrape
	// makes itself).
	s := startServer(t, func(c *server.Config) { c.ReconcileInterval, c.LeaseTTL = time.Hour, time.Hour })
	var before scrapeResult
	last := scrapeUntil(t, s.Addr, "", func(r scrapeResult) bool {
		return r.values("elasticache_store_transaction_duration_seconds")["kind=update,outcome=ok"] >= 1
	})
	for deadline := time.Now().Add(10 * time.Second); ; last = before {
		before = scrapeMetrics(t, s.Addr, "")
		tx := func(r scrapeResult, k string) float64 {
			return r.values("elasticache_store_transaction_duration_seconds")["kind="+k+",outcome=ok"]
		}
		if tx(before, "update") == tx(last, "update") && tx(before, "view") == tx(last, "view")+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the store never went quiet after the server started")
		}
	}
	if before.status != http.StatusOK {
		t.Fatalf("GET /metrics without a token configured: HTTP %d, want 200: %s", before.status, before.body)
	}
	if got := before.values("elasticache_requests_total"); len(got) != 0 {
		t.Errorf("requests counted before any request: %v", got)
	}

	c := client(t, s.Addr, defaultAccount, defaultRegion)
	other := client(t, s.Addr, "222222222222", "eu-west-1")
	for _, name := range []string{"alpha", "beta", "gamma"} {
		create(t, c, name, "metrics "+name)
	}
	create(t, other, "elsewhere", "another account and region")
	_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("alpha"), Description: aws.String("again"),
	})
	wantErr[*types.CacheSecurityGroupAlreadyExistsFault](t, err, alreadyExists("alpha"))
	_, err = c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: aws.String("missing")})
	wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("missing"))
	if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("beta")}); err != nil {
		t.Fatalf("delete beta: %v", err)
	}
	raw := newRawClient(t, s.Addr)
	// An Action that names no operation, one long and recognisable, and
	// none at all: all three are "unknown", and no client text is a label.
	clientText := "LeakMe" + strings.Repeat("Z", 200)
	for _, form := range []string{
		"Action=DescribeEverything&Version=2015-02-02",
		"Action=" + clientText + "&Version=2015-02-02",
		"Version=2015-02-02",
	} {
		if a := raw.post(form); a.status != http.StatusBadRequest {
			t.Fatalf("POST %q: HTTP %d, want 400: %s", form[:min(len(form), 40)], a.status, a.body)
		}
	}
	const requests = 10

	after := scrapeUntil(t, s.Addr, "", func(r scrapeResult) bool { return r.total("elasticache_requests_total") >= requests })
	wantRequests := map[string]float64{
		"action=CreateCacheSecurityGroup,code=":                                4,
		"action=CreateCacheSecurityGroup,code=CacheSecurityGroupAlreadyExists": 1,
		"action=DescribeCacheSecurityGroups,code=":                             0,
		"action=DescribeCacheSecurityGroups,code=CacheSecurityGroupNotFound":   1,
		"action=DeleteCacheSecurityGroup,code=":                                1,
		"action=unknown,code=":                                                 0,
		"action=unknown,code=InvalidAction":                                    2,
		"action=unknown,code=MissingAction":                                    1,
	}
	if d := cmp.Diff(wantRequests, after.values("elasticache_requests_total")); d != "" {
		t.Errorf("elasticache_requests_total (-want +got):\n%s", d)
	}
	wantDurations := map[string]float64{
		"action=CreateCacheSecurityGroup":    5,
		"action=DescribeCacheSecurityGroups": 1,
		"action=DeleteCacheSecurityGroup":    1,
		"action=unknown":                     3,
	}
	if d := cmp.Diff(wantDurations, after.values("elasticache_request_duration_seconds")); d != "" {
		t.Errorf("elasticache_request_duration_seconds sample counts (-want +got):\n%s", d)
	}
	h := after.histogram(t, "elasticache_request_duration_seconds", "action=CreateCacheSecurityGroup")
	if h.GetSampleSum() <= 0 {
		t.Errorf("CreateCacheSecurityGroup duration sum = %v, want > 0", h.GetSampleSum())
	}
	// Buckets are cumulative and the widest holds every request: no
	// request of a healthy local server takes 10 s.
	var prev uint64
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() < prev {
			t.Errorf("bucket le=%g count %d below the previous bucket's %d", b.GetUpperBound(), b.GetCumulativeCount(), prev)
		}
		prev = b.GetCumulativeCount()
	}
	if prev != 5 {
		t.Errorf("CreateCacheSecurityGroup widest bucket = %d, want 5", prev)
	}
	if bytes.Contains(after.body, []byte("LeakMe")) || bytes.Contains(after.body, []byte("DescribeEverything")) {
		t.Errorf("a client's Action became a label:\n%s", after.body)
	}

	// Groups stored: alpha and gamma here, one in the other account and
	// region; `default` is not counted.
	if d := cmp.Diff(map[string]float64{"type=cache-security-group": 3, "type=cache-subnet-group": 0, "type=cache-parameter-group": 0, "type=user": 0, "type=user-group": 0, "type=cache-cluster": 0, "type=replication-group": 0}, after.values("elasticache_resources")); d != "" {
		t.Errorf("elasticache_resources (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]float64{"goversion=" + runtime.Version() + ",version=" + server.Version(): 1},
		after.values("elasticache_build_info")); d != "" {
		t.Errorf("elasticache_build_info (-want +got):\n%s", d)
	}

	// Store transactions. Every write request is one Update, and so is a
	// create refused as a duplicate (the fault is decided inside it); reads
	// are Views. Besides the requests' reads, each scrape's resource count
	// and the event sweep at start read the store, concurrently with the
	// scrapes, so views are bounded, not exact.
	delta := func(name, key string) float64 { return after.values(name)[key] - before.values(name)[key] }
	if got := delta("elasticache_store_transaction_duration_seconds", "kind=update,outcome=ok"); got != 6 {
		t.Errorf("updates committed = %v, want 6 (4 creates, 1 duplicate, 1 delete)", got)
	}
	if got := delta("elasticache_store_transaction_duration_seconds", "kind=view,outcome=ok"); got < 1 || got > 4 {
		t.Errorf("views = %v, want 1 (the describe) plus at most 3 of scrapes and the sweep", got)
	}
	for _, key := range []string{"kind=update,outcome=conflict", "kind=update,outcome=error", "kind=view,outcome=error"} {
		if got := after.values("elasticache_store_transaction_duration_seconds")[key]; got != 0 {
			t.Errorf("transactions {%s} = %v, want 0", key, got)
		}
	}
	if d := cmp.Diff(map[string]float64{"": 0}, after.values("elasticache_store_conflicts_total")); d != "" {
		t.Errorf("elasticache_store_conflicts_total (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]float64{"kind=update": 0, "kind=view": 0}, after.values("elasticache_store_errors_total")); d != "" {
		t.Errorf("elasticache_store_errors_total (-want +got):\n%s", d)
	}

	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		if after.fams[name] == nil {
			t.Errorf("scrape has no %s", name)
		}
	}
	// A scrape is no API request: /metrics and /health are not counted.
	health := raw.get("/health", "")
	if health.status != http.StatusOK {
		t.Fatalf("GET /health: HTTP %d", health.status)
	}
	again := scrapeMetrics(t, s.Addr, "")
	if got := again.total("elasticache_requests_total"); got != requests {
		t.Errorf("requests after two scrapes and a health check = %v, want %d", got, requests)
	}
}

// TestMetricsToken starts a sigv4-mode server with --metrics-token:
// /metrics answers 401 without the bearer token or with a wrong one (an
// AWS signature included), 200 with it; /health and the API need no token.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-0123456789"
	s := startSigV4Server(t, 0, withMetricsToken(token))

	for _, tc := range []struct{ name, authorization string }{
		{"no token", ""},
		{"wrong token", "Bearer not-the-token"},
		{"token without Bearer", token},
		{"token as a prefix", "Bearer " + token + "x"},
		{"basic auth", "Basic " + token},
		{"an AWS signature", "AWS4-HMAC-SHA256 Credential=" + sigKey1 + "/20261123/us-east-1/elasticache/aws4_request, SignedHeaders=host, Signature=00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := scrapeMetrics(t, s.Addr, tc.authorization)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("HTTP %d, want 401: %s", r.status, r.body)
			}
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
			}
			if bytes.Contains(r.body, []byte("elasticache_")) {
				t.Errorf("a refused scrape shows metrics:\n%s", r.body)
			}
		})
	}

	// Signed API requests work as ever; the scrape then counts them.
	c := keyClient(t, s.Addr, sigKey1, sigSecret1, "us-east-1")
	create(t, c, "tokened", "metrics behind a token")
	r := scrapeUntil(t, s.Addr, "Bearer "+token, func(r scrapeResult) bool { return r.total("elasticache_requests_total") >= 1 })
	if d := cmp.Diff(map[string]float64{"action=CreateCacheSecurityGroup,code=": 1}, r.values("elasticache_requests_total")); d != "" {
		t.Errorf("elasticache_requests_total (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]float64{"type=cache-security-group": 1, "type=cache-subnet-group": 0, "type=cache-parameter-group": 0, "type=user": 0, "type=user-group": 0, "type=cache-cluster": 0, "type=replication-group": 0}, r.values("elasticache_resources")); d != "" {
		t.Errorf("elasticache_resources (-want +got):\n%s", d)
	}

	// /health stays open for load balancers.
	h := newRawClient(t, s.Addr).get("/health", "")
	if h.status != http.StatusOK {
		t.Fatalf("GET /health with a metrics token set: HTTP %d, want 200: %s", h.status, h.body)
	}
	var body map[string]string
	if err := json.Unmarshal(h.body, &body); err != nil || body["status"] != "ok" {
		t.Errorf("GET /health: %s (%v), want status ok", h.body, err)
	}
}

// TestMetricsSigV4Refusals counts a request refused by sigv4 under its
// action and AWS's code, and a presigned GET like a POST; no access key
// becomes a label.
func TestMetricsSigV4Refusals(t *testing.T) {
	t.Parallel()
	s := startSigV4Server(t, 0)
	wrong := keyClient(t, s.Addr, sigKey1, "not-the-secret", "us-east-1")
	_, err := wrong.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{})
	wantErr[error](t, err, sigMismatch)
	unknown := keyClient(t, s.Addr, "AKIAUNKNOWNKEY000000", "secret", "us-east-1")
	_, err = unknown.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{})
	wantErr[error](t, err, sigUnknownKey)
	q := url.Values{"Action": {"DescribeCacheSecurityGroups"}, "Version": {"2015-02-02"}}
	u := presignGet(t, s.Addr, q, sigKey1, sigSecret1, "us-east-1", time.Now(), time.Minute)
	if a := newRawClient(t, s.Addr).get("/", u.RawQuery); a.status != http.StatusOK {
		t.Fatalf("presigned GET: HTTP %d: %s", a.status, a.body)
	}
	r := scrapeUntil(t, s.Addr, "", func(r scrapeResult) bool { return r.total("elasticache_requests_total") >= 3 })
	want := map[string]float64{
		"action=DescribeCacheSecurityGroups,code=":                      1,
		"action=DescribeCacheSecurityGroups,code=SignatureDoesNotMatch": 1,
		"action=DescribeCacheSecurityGroups,code=InvalidClientTokenId":  1,
	}
	if d := cmp.Diff(want, r.values("elasticache_requests_total")); d != "" {
		t.Errorf("elasticache_requests_total (-want +got):\n%s", d)
	}
	if bytes.Contains(r.body, []byte(sigKey1)) || bytes.Contains(r.body, []byte("AKIAUNKNOWN")) {
		t.Errorf("an access key became a label:\n%s", r.body)
	}
}
