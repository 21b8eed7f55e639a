package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"

	"github.com/elasticache-server/elasticache-server/server"
)

// testServer is a running server.Main with its admin API on (for the
// request journal).
type testServer struct {
	// URL is http://host:port of the bound listener.
	URL  string
	logs *syncBuffer
}

// startServer starts the server in-process on a free loopback port over a
// fresh bbolt store in a temp dir, with the admin API on so that the test
// can read which requests Terraform sent. It is closed at cleanup (a
// failing Close fails the test); the requests it answered are logged, and
// its log too when the test failed.
func startServer(t testing.TB) *testServer {
	t.Helper()
	cfg := server.Config{
		Listen:                   "127.0.0.1:0",
		DataDir:                  t.TempDir(),
		DefaultAccount:           "000000000000",
		DefaultRegion:            testRegion,
		QuotaCacheSecurityGroups: 50,
		LogFormat:                "text",
		LogLevel:                 slog.LevelInfo,
		ShutdownTimeout:          10 * time.Second,
		EventSweepInterval:       time.Hour, // the flag's default; Main needs one
		Admin:                    true,
	}
	logs := &syncBuffer{}
	m := server.NewMain(cfg, cfg.NewLogger(logs))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatalf("open server on %s: %v\nserver log:\n%s", cfg.DataDir, err, logs.String())
	}
	s := &testServer{URL: "http://" + m.Addr(), logs: logs}
	t.Cleanup(func() {
		// Before Close: the journal is read over HTTP.
		s.logRequests(t)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return s
}

// journalEntry is one answered request, as GET /_admin/requests lists it.
type journalEntry struct {
	Action     string            `json:"action"`
	Account    string            `json:"account"`
	Status     int               `json:"status"`
	Code       string            `json:"code"`
	Parameters map[string]string `json:"parameters"`
}

// requests returns the requests the server answered, oldest first.
func (s *testServer) requests(t testing.TB) []journalEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_admin/requests", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: newTransport(t)}).Do(req)
	if err != nil {
		t.Fatalf("GET /_admin/requests: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_admin/requests: HTTP %d, %v\n%s", resp.StatusCode, err, body)
	}
	var answer struct {
		Requests []journalEntry `json:"requests"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("GET /_admin/requests: %v\n%s", err, body)
	}
	return answer.Requests
}

// logRequests logs each action the server answered, how often, and with
// which status and code, then every request with its parameters: what a
// resource's Terraform calls are is worth seeing in every run (go test -v).
// A request that was not an ElastiCache action (the provider calling STS or
// EC2, which providers.tf sends here) or that came from another account
// fails the test.
func (s *testServer) logRequests(t testing.TB) {
	t.Helper()
	reqs := s.requests(t)
	counts := map[string]int{}
	var detail strings.Builder
	for _, r := range reqs {
		if r.Code == "InvalidAction" {
			t.Errorf("the server was sent %s, no ElastiCache action: the provider calls another service (parameters %v)", r.Action, r.Parameters)
		}
		if r.Account != testAccount {
			t.Errorf("%s came from account %q, want %s: the provider did not sign with the test's access key", r.Action, r.Account, testAccount)
		}
		key := fmt.Sprintf("%s %d %s", r.Action, r.Status, r.Code)
		counts[strings.TrimSpace(key)]++
		names := make([]string, 0, len(r.Parameters))
		for k := range r.Parameters {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Fprintf(&detail, "\n  %s (%d %s)", r.Action, r.Status, r.Code)
		for _, k := range names {
			fmt.Fprintf(&detail, " %s=%s", k, r.Parameters[k])
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var summary strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&summary, "\n  %3d × %s", counts[k], k)
	}
	t.Logf("the server answered %d requests:%s\nin order:%s", len(reqs), summary.String(), detail.String())
}

// syncBuffer collects the server's log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTransport returns an HTTP transport that never uses a proxy and whose
// idle connections are closed at cleanup.
func newTransport(t testing.TB) *http.Transport {
	tr := &http.Transport{
		Proxy:           nil,
		DialContext:     (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		IdleConnTimeout: 30 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// sdkClient returns a Go SDK ElastiCache client for the server that signs
// as the account the provider uses. It is hermetic (built from Options
// alone: no environment, shared config or instance metadata) and never
// retries, so every call sees the server's first answer.
func sdkClient(t testing.TB, s *testServer) *elasticache.Client {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: testAccount, SecretAccessKey: "terraform-e2e-secret-key", Source: "e2e static credentials"}
	return elasticache.New(elasticache.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(s.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient: &http.Client{Transport: plainBodies{newTransport(t)}, Timeout: 30 * time.Second},
		Retryer:    aws.NopRetryer{},
	})
}

// plainBodies sends request bodies through their Read method only: smithy-go
// closes a body when RoundTrip returns, and net/http's second copy of it
// (to detect extra bytes) can then fail and close the connection under the
// response (e2e/helpers_test.go tells the whole story).
type plainBodies struct{ rt http.RoundTripper }

func (p plainBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = readOnlyBody{r.Body}
	}
	return p.rt.RoundTrip(r)
}

// readOnlyBody hides every method of a body but Read and Close.
type readOnlyBody struct{ rc io.ReadCloser }

func (b readOnlyBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readOnlyBody) Close() error               { return b.rc.Close() }
