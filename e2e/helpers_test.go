package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/server"
	"github.com/elasticache-server/elasticache-server/service"
)

const (
	defaultAccount = "000000000000"
	defaultRegion  = "us-east-1"
	// otherKey is an access key that is not an account ID, as most real
	// clients send: it acts as defaultAccount.
	otherKey = "AKIAIOSFODNN7EXAMPLE"
)

// fixedClock is the server's clock in every test: it always answers the
// same time, so that nothing depends on when the test runs.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func newFixedClock() fixedClock {
	return fixedClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
}

// syncBuffer collects a server's log; it is shown only when the test fails,
// and never written to the test after it has ended.
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

// serverOption changes the configuration startServer uses.
type serverOption func(*server.Config)

// withQuota sets the number of cache security groups per account and region.
func withQuota(n int) serverOption {
	return func(c *server.Config) { c.QuotaCacheSecurityGroups = n }
}

// withDataDir makes the server use dir instead of a fresh temp dir.
func withDataDir(dir string) serverOption {
	return func(c *server.Config) { c.DataDir = dir }
}

// withTransitionDelay sets how long EC2 security group entries stay
// authorizing or revoking.
func withTransitionDelay(d time.Duration) serverOption {
	return func(c *server.Config) { c.TransitionDelay = d }
}

// withConfigFile makes the server read the YAML config file at path.
func withConfigFile(path string) serverOption {
	return func(c *server.Config) { c.ConfigFile = path }
}

// withEventSweepInterval sets how often expired events are removed.
func withEventSweepInterval(d time.Duration) serverOption {
	return func(c *server.Config) { c.EventSweepInterval = d }
}

// testServer is a running server.Main.
type testServer struct {
	Main *server.Main
	// Addr is host:port of the bound listener.
	Addr string
	// DataDir is the server's store directory.
	DataDir string

	closeOnce sync.Once
	closeErr  error
}

// Close stops the server (draining requests, closing the store) and returns
// the error of the first call; later calls, including the cleanup's, do
// nothing.
func (s *testServer) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		s.closeErr = s.Main.Close(ctx)
	})
	return s.closeErr
}

// testConfig is the configuration of a test server before options.
func testConfig(tb testing.TB) server.Config {
	cfg := server.Config{
		Listen:                   "127.0.0.1:0",
		DataDir:                  tb.TempDir(),
		DefaultAccount:           defaultAccount,
		DefaultRegion:            defaultRegion,
		QuotaCacheSecurityGroups: 50,
		LogFormat:                "text",
		LogLevel:                 slog.LevelInfo,
		ShutdownTimeout:          10 * time.Second,
		// The flag's default; Main needs a positive interval.
		EventSweepInterval: time.Hour,
	}
	useStore(&cfg)
	return cfg
}

// startServer starts a server on a free loopback port with a fresh data
// directory and a fixed clock, as changed by opts. The server is closed at
// cleanup, and a failing Close fails the test; the server's log is shown
// when the test failed.
func startServer(tb testing.TB, opts ...serverOption) *testServer {
	tb.Helper()
	return startServerClock(tb, newFixedClock(), opts...)
}

// startServerClock is startServer with clock as the server's clock.
func startServerClock(tb testing.TB, clock service.Clock, opts ...serverOption) *testServer {
	tb.Helper()
	return startServerEngines(tb, clock, nil, opts...)
}

// startServerEngines is startServerClock with e running the cache nodes
// in place of engine processes, so that a test decides when the
// reconciler's engine calls finish; nil is the real engines (redis-server
// and memcached processes under the data directory).
func startServerEngines(tb testing.TB, clock service.Clock, e engine.Engines, opts ...serverOption) *testServer {
	tb.Helper()
	cfg := testConfig(tb)
	for _, o := range opts {
		o(&cfg)
	}
	useStore(&cfg) // again: an option may have changed the data directory
	logs := &syncBuffer{}
	m := server.NewMain(cfg, cfg.NewLogger(logs))
	m.Clock = clock
	if e != nil {
		m.Engines = func(string, *slog.Logger) engine.Engines { return e }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		tb.Fatalf("open server on %s: %v\nserver log:\n%s", cfg.DataDir, err, logs.String())
	}
	s := &testServer{Main: m, Addr: m.Addr(), DataDir: cfg.DataDir}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close server: %v", err)
		}
		if tb.Failed() {
			tb.Logf("server log (last %d lines):\n%s", logTail, tail(logs.String(), logTail))
		}
	})
	return s
}

// logTail is how many lines of a failed test's server log are shown.
const logTail = 40

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// newTransport returns an HTTP transport that never uses a proxy and whose
// idle connections are closed at cleanup.
func newTransport(tb testing.TB) *http.Transport {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     30 * time.Second,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return tr
}

// client returns an ElastiCache client for the server at addr that signs
// with the static access key accessKey in region. It is hermetic: built from
// Options alone, it reads no environment, shared config or instance
// metadata. It never retries, so every call sees the server's first answer.
func client(tb testing.TB, addr, accessKey, region string) *elasticache.Client {
	tb.Helper()
	return clientWith(tb, addr, accessKey, region, 30*time.Second, aws.NopRetryer{})
}

// clientWith is client with the given per-attempt timeout and retryer.
func clientWith(tb testing.TB, addr, accessKey, region string, timeout time.Duration, retryer aws.Retryer) *elasticache.Client {
	tb.Helper()
	creds := aws.Credentials{
		AccessKeyID:     accessKey,
		SecretAccessKey: "e2e-secret-access-key",
		Source:          "e2e static credentials",
	}
	return elasticache.New(elasticache.Options{
		Region:       region,
		BaseEndpoint: aws.String("http://" + addr),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient: &http.Client{Transport: plainBodies{newTransport(tb)}, Timeout: timeout},
		Retryer:    retryer,
	})
}

// plainBodies sends request bodies through their Read method only.
//
// smithy-go closes a request body as soon as RoundTrip returns, and its body
// wrapper answers WriteTo after Close with io.EOF. net/http, after copying
// Content-Length bytes straight to the socket, copies the body once more to
// detect extra bytes; against a server on loopback the response (and the
// Close) can come first, that second copy fails with io.EOF, and the
// transport closes the connection under the response being read: "failed to
// decode response body … use of closed network connection". Through Read
// alone, a closed body reads as a clean EOF. The bytes on the wire are the
// same.
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

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// wantRequestID checks the request ID the SDK read from a successful answer.
func wantRequestID(tb testing.TB, md middleware.Metadata) {
	tb.Helper()
	id, ok := awsmiddleware.GetRequestIDMetadata(md)
	if !ok || !uuidRE.MatchString(id) {
		tb.Errorf("request ID of the answer = %q (found %v), want a UUID", id, ok)
	}
}

// apiErr is what a test expects of a failed call.
type apiErr struct {
	status int
	code   string
	// msg, when set, is the exact <Message>.
	msg string
	// msgHas, when set, must occur in the <Message>; when neither msg nor
	// msgHas is set, the message must merely not be empty.
	msgHas string
}

// wantErr checks that err is the answer want, surfaced by the SDK as T: a
// modeled fault type such as *types.CacheSecurityGroupNotFoundFault where
// the model lists the fault for the operation, smithy.APIError where it does
// not. It checks the HTTP status and that the request ID is a UUID, and
// returns the typed error.
func wantErr[T error](tb testing.TB, err error, want apiErr) T {
	tb.Helper()
	var typed T
	if err == nil {
		tb.Fatalf("call succeeded, want %s (HTTP %d)", want.code, want.status)
	}
	if !errors.As(err, &typed) {
		tb.Fatalf("error is not a %T: %v", typed, err)
	}
	if problem := checkAPIErr(err, want); problem != nil {
		tb.Errorf("%v\n  full error: %v", problem, err)
	}
	return typed
}

// checkAPIErr is wantErr without the type check, usable off the test
// goroutine.
func checkAPIErr(err error, want apiErr) error {
	var errs []error
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("not an API error: %v", err)
	}
	if ae.ErrorCode() != want.code {
		errs = append(errs, fmt.Errorf("code = %q, want %q", ae.ErrorCode(), want.code))
	}
	switch msg := ae.ErrorMessage(); {
	case want.msg != "" && msg != want.msg:
		errs = append(errs, fmt.Errorf("message = %q, want %q", msg, want.msg))
	case want.msgHas != "" && !strings.Contains(msg, want.msgHas):
		errs = append(errs, fmt.Errorf("message = %q, want it to contain %q", msg, want.msgHas))
	case msg == "":
		errs = append(errs, fmt.Errorf("message is empty"))
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		errs = append(errs, fmt.Errorf("no *awshttp.ResponseError in %T", err))
	} else {
		if re.HTTPStatusCode() != want.status {
			errs = append(errs, fmt.Errorf("HTTP status = %d, want %d", re.HTTPStatusCode(), want.status))
		}
		if id := re.ServiceRequestID(); !uuidRE.MatchString(id) {
			errs = append(errs, fmt.Errorf("request ID = %q, want a UUID", id))
		}
	}
	return errors.Join(errs...)
}

// Expected answers, as SPEC §3–§5 words them.
func notFound(name string) apiErr {
	return apiErr{status: 404, code: "CacheSecurityGroupNotFound", msg: "CacheSecurityGroup " + name + " not found."}
}

func alreadyExists(name string) apiErr {
	return apiErr{status: 400, code: "CacheSecurityGroupAlreadyExists", msg: "CacheSecurityGroup " + name + " already exists."}
}

var quotaExceeded = apiErr{status: 400, code: "QuotaExceeded.CacheSecurityGroup", msg: "Quota exceeded for cache security groups."}

func invalidValue(msgHas string) apiErr {
	return apiErr{status: 400, code: "InvalidParameterValue", msgHas: msgHas}
}

func invalidValueExact(msg string) apiErr {
	return apiErr{status: 400, code: "InvalidParameterValue", msg: msg}
}

// groupARN is the ARN SPEC §1 gives a group.
func groupARN(region, account, name string) string {
	return "arn:aws:elasticache:" + region + ":" + account + ":securitygroup:" + name
}

// wantGroup compares a returned group with the one expected for a fresh
// group (no EC2 security groups).
func wantGroup(tb testing.TB, got *types.CacheSecurityGroup, account, region, name, description string) {
	tb.Helper()
	if got == nil {
		tb.Fatalf("group %s: answer has no CacheSecurityGroup", name)
	}
	want := types.CacheSecurityGroup{
		ARN:                    aws.String(groupARN(region, account, name)),
		CacheSecurityGroupName: aws.String(name),
		Description:            aws.String(description),
		OwnerId:                aws.String(account),
	}
	if diff := cmp.Diff(want, *got, groupCmp...); diff != "" {
		tb.Errorf("group %s (-want +got):\n%s", name, diff)
	}
}

// groupCmp compares SDK shapes, treating a nil and an empty list alike.
var groupCmp = []cmp.Option{
	cmpopts.IgnoreUnexported(types.CacheSecurityGroup{}, types.EC2SecurityGroup{}),
	cmpopts.EquateEmpty(),
}

// create creates a group and fails the test if that fails.
func create(tb testing.TB, c *elasticache.Client, name, description string, tags ...types.Tag) *types.CacheSecurityGroup {
	tb.Helper()
	out, err := c.CreateCacheSecurityGroup(tb.Context(), &elasticache.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String(name),
		Description:            aws.String(description),
		Tags:                   tags,
	})
	if err != nil {
		tb.Fatalf("create %s: %v", name, err)
	}
	wantRequestID(tb, out.ResultMetadata)
	return out.CacheSecurityGroup
}

// createAll creates the named groups, a few at a time.
func createAll(tb testing.TB, c *elasticache.Client, names []string) {
	tb.Helper()
	ctx := tb.Context()
	sem := make(chan struct{}, 8)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, errs[i] = c.CreateCacheSecurityGroup(ctx, &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String(name),
				Description:            aws.String("group " + name),
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("create groups: %v", err)
	}
}

// describe describes one group and fails the test if that fails.
func describe(tb testing.TB, c *elasticache.Client, name string) types.CacheSecurityGroup {
	tb.Helper()
	out, err := c.DescribeCacheSecurityGroups(tb.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
		CacheSecurityGroupName: aws.String(name),
	})
	if err != nil {
		tb.Fatalf("describe %s: %v", name, err)
	}
	wantRequestID(tb, out.ResultMetadata)
	if len(out.CacheSecurityGroups) != 1 {
		tb.Fatalf("describe %s: %d groups, want 1: %v", name, len(out.CacheSecurityGroups), groupNames(out.CacheSecurityGroups))
	}
	if out.Marker != nil {
		tb.Errorf("describe %s: Marker = %q, want none", name, *out.Marker)
	}
	return out.CacheSecurityGroups[0]
}

// listAll returns every group the client sees, following markers with the
// SDK's paginator at MaxRecords maxRecords (0: the server's default).
func listAll(tb testing.TB, c *elasticache.Client, maxRecords int32) []types.CacheSecurityGroup {
	tb.Helper()
	in := &elasticache.DescribeCacheSecurityGroupsInput{}
	if maxRecords != 0 {
		in.MaxRecords = aws.Int32(maxRecords)
	}
	p := elasticache.NewDescribeCacheSecurityGroupsPaginator(c, in)
	var all []types.CacheSecurityGroup
	for pages := 0; p.HasMorePages(); pages++ {
		if pages > 100 {
			tb.Fatalf("paginator still has pages after %d pages: markers never end", pages)
		}
		out, err := p.NextPage(tb.Context())
		if err != nil {
			tb.Fatalf("describe page %d: %v", pages+1, err)
		}
		wantRequestID(tb, out.ResultMetadata)
		all = append(all, out.CacheSecurityGroups...)
	}
	return all
}

// listNames is the names of listAll.
func listNames(tb testing.TB, c *elasticache.Client) []string {
	tb.Helper()
	return groupNames(listAll(tb, c, 0))
}

func groupNames(gs []types.CacheSecurityGroup) []string {
	names := make([]string, 0, len(gs))
	for _, g := range gs {
		names = append(names, aws.ToString(g.CacheSecurityGroupName))
	}
	return names
}

// wantNames compares name lists in order.
func wantNames(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		tb.Errorf("%s (-want +got):\n%s", what, diff)
	}
}
