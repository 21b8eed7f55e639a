package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/server"
)

// logSink is a server's log, kept whole and parsed on demand; a write
// wakes whoever waits for a line.
type logSink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
	return s.buf.Write(p)
}

// snapshot is the log so far and a channel closed at the next write.
func (s *logSink) snapshot() ([]byte, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.buf.Bytes()), s.changed
}

// lines parses every complete line of the log as a JSON object; a line
// that is not one fails the test, since --log-format json promises them.
func (s *logSink) lines(tb testing.TB) []map[string]any {
	tb.Helper()
	b, _ := s.snapshot()
	var out []map[string]any
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 || line[len(line)-1] != '\n' {
			continue // empty, or still being written
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			tb.Fatalf("log line is not a JSON object (%v): %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// requestLine waits for the "request" line of requestID. The handler logs
// after the answer has gone out, so the client can be faster than the log.
func (s *logSink) requestLine(tb testing.TB, requestID string) map[string]any {
	tb.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		_, changed := s.snapshot()
		for _, l := range s.lines(tb) {
			if l["msg"] == "request" && l["request_id"] == requestID {
				return l
			}
		}
		select {
		case <-changed:
		case <-timeout.C:
			tb.Fatalf("no request line for %s within 10s", requestID)
		}
	}
}

// startJSONLogServer starts a sigv4-mode server that logs JSON at Debug
// (the most it ever says) into the returned sink.
func startJSONLogServer(tb testing.TB) (*testServer, *logSink) {
	tb.Helper()
	cfg := testConfig(tb)
	withSigV4(tb)(&cfg)
	cfg.LogFormat = "json"
	cfg.LogLevel = slog.LevelDebug
	useStore(&cfg)
	sink := newLogSink()
	m := server.NewMain(cfg, cfg.NewLogger(sink))
	m.Clock = wallClock{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		b, _ := sink.snapshot()
		tb.Fatalf("open server: %v\nserver log:\n%s", err, b)
	}
	s := &testServer{Main: m, Addr: m.Addr(), DataDir: cfg.DataDir}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close server: %v", err)
		}
		if tb.Failed() {
			b, _ := sink.snapshot()
			tb.Logf("server log (last %d lines):\n%s", logTail, tail(string(b), logTail))
		}
	})
	return s, sink
}

// authRecorder is a transport that keeps every Authorization header it
// sends, so that the test can look for them in the log.
type authRecorder struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (r *authRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if v := req.Header.Get("Authorization"); v != "" {
		r.mu.Lock()
		r.seen = append(r.seen, v)
		r.mu.Unlock()
	}
	return r.rt.RoundTrip(req)
}

func (r *authRecorder) headers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

var signatureRE = regexp.MustCompile(`Signature=([0-9a-f]{64})`)

// TestRequestLog runs a sigv4-mode server with JSON logs, makes a success,
// a modeled failure, a refused signature and a presigned GET, and checks
// the one line each request gets — request ID, account, region, action,
// HTTP status, error code, duration, and nothing else — and that no
// secret key, Authorization header or signature appears anywhere in the
// log.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	s, sink := startJSONLogServer(t)
	rec := &authRecorder{rt: plainBodies{newTransport(t)}}
	hc := &http.Client{Transport: rec, Timeout: 30 * time.Second}
	endpoint := "http://" + s.Addr
	const wrongSecret = "wrong/secret+of-a-key-that-exists"
	c1 := sigClient(t, endpoint, aws.Credentials{AccessKeyID: sigKey1, SecretAccessKey: sigSecret1}, "us-east-1", hc)
	c2 := sigClient(t, endpoint, aws.Credentials{AccessKeyID: sigKey2, SecretAccessKey: sigSecret2}, "eu-west-1", hc)
	bad := sigClient(t, endpoint, aws.Credentials{AccessKeyID: sigKey1b, SecretAccessKey: wrongSecret}, "us-east-1", hc)

	type want struct {
		fields  map[string]any // every field but time and duration
		elapsed time.Duration  // as the client measured the call
	}
	var wants []want
	failedID := func(err error) string {
		t.Helper()
		var re *awshttp.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("no response error in %v", err)
		}
		return re.ServiceRequestID()
	}

	start := time.Now()
	out, err := c1.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("logged"), Description: aws.String("a group in the log"),
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	wants = append(wants, want{map[string]any{
		"level": "INFO", "msg": "request", "request_id": id,
		"account": sigAccount1, "region": "us-east-1", "action": "CreateCacheSecurityGroup", "status": float64(200),
	}, time.Since(start)})

	start = time.Now()
	_, err = c2.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: aws.String("missing")})
	wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("missing"))
	wants = append(wants, want{map[string]any{
		"level": "INFO", "msg": "request", "request_id": failedID(err),
		"account": sigAccount2, "region": "eu-west-1", "action": "DescribeCacheSecurityGroups", "status": float64(404),
		"code": "CacheSecurityGroupNotFound",
	}, time.Since(start)})

	// Refused before the caller is known: account and region stay empty.
	start = time.Now()
	_, err = bad.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("logged")})
	wantErr[error](t, err, sigMismatch)
	wants = append(wants, want{map[string]any{
		"level": "INFO", "msg": "request", "request_id": failedID(err),
		"account": "", "region": "", "action": "DeleteCacheSecurityGroup", "status": float64(403),
		"code": "SignatureDoesNotMatch",
	}, time.Since(start)})

	// A presigned GET carries its signature in the URL, not a header.
	q := url.Values{"Action": {"DescribeCacheSecurityGroups"}, "Version": {"2015-02-02"}, "CacheSecurityGroupName": {"logged"}}
	u := presignGet(t, s.Addr, q, sigKey1, sigSecret1, "us-east-1", time.Now(), time.Minute)
	presignedSig := u.Query().Get("X-Amz-Signature")
	if len(presignedSig) != 64 {
		t.Fatalf("presigned URL has no signature: %s", u)
	}
	start = time.Now()
	a := newRawClient(t, s.Addr).get("/", u.RawQuery)
	if a.status != http.StatusOK {
		t.Fatalf("presigned GET: HTTP %d: %s", a.status, a.body)
	}
	wants = append(wants, want{map[string]any{
		"level": "INFO", "msg": "request", "request_id": a.header.Get("x-amzn-RequestId"),
		"account": sigAccount1, "region": "us-east-1", "action": "DescribeCacheSecurityGroups", "status": float64(200),
	}, time.Since(start)})

	for _, w := range wants {
		id := w.fields["request_id"].(string)
		if !uuidRE.MatchString(id) {
			t.Fatalf("request ID %q is not a UUID", id)
		}
		line := sink.requestLine(t, id)
		var keys []string
		for k := range line {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		wantKeys := []string{"account", "action", "duration", "level", "msg", "region", "request_id", "status", "time"}
		if _, ok := w.fields["code"]; ok {
			wantKeys = append(wantKeys, "code")
			sort.Strings(wantKeys)
		}
		if d := cmp.Diff(wantKeys, keys); d != "" {
			t.Errorf("%s: fields of the line (-want +got):\n%s", w.fields["action"], d)
		}
		got := map[string]any{}
		for k, v := range line {
			if k != "time" && k != "duration" {
				got[k] = v
			}
		}
		if d := cmp.Diff(w.fields, got); d != "" {
			t.Errorf("%s line (-want +got):\n%s", w.fields["action"], d)
		}
		// slog's JSON writes a duration as integer nanoseconds.
		ns, ok := line["duration"].(float64)
		if !ok || ns <= 0 || time.Duration(ns) > w.elapsed {
			t.Errorf("%s: duration = %v, want nanoseconds in (0, %d] (the client's elapsed time)", w.fields["action"], line["duration"], w.elapsed)
		}
		ts, ok := line["time"].(string)
		if _, err := time.Parse(time.RFC3339Nano, ts); !ok || err != nil {
			t.Errorf("%s: time = %v, want RFC 3339", w.fields["action"], line["time"])
		}
	}
	if n := len(sink.lines(t)); n == 0 {
		t.Fatal("empty log")
	}

	// Nothing secret anywhere in the log, in any spelling a logger might use.
	auths := rec.headers()
	if len(auths) != 3 {
		t.Fatalf("recorded %d Authorization headers, want 3", len(auths))
	}
	secrets := map[string]string{
		"secret key 1": sigSecret1, "secret key 1b": sigSecret1b, "secret key 2": sigSecret2, "wrong secret": wrongSecret,
		"presigned signature": presignedSig,
	}
	for i, h := range auths {
		secrets["Authorization header "+string(rune('A'+i))] = h
		m := signatureRE.FindStringSubmatch(h)
		if m == nil {
			t.Fatalf("Authorization header without a signature: %s", h)
		}
		secrets["signature "+string(rune('A'+i))] = m[1]
	}
	log, _ := sink.snapshot()
	for what, v := range secrets {
		for _, spelling := range []string{v, url.QueryEscape(v), strings.ReplaceAll(v, "/", `\/`)} {
			if bytes.Contains(log, []byte(spelling)) {
				t.Errorf("the log contains the %s (%q)", what, spelling)
			}
		}
	}
	for _, marker := range []string{"AWS4-HMAC-SHA256", "X-Amz-Signature", "Signature="} {
		if bytes.Contains(log, []byte(marker)) {
			t.Errorf("the log contains %q", marker)
		}
	}
}
