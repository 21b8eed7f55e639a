package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/awsquery"
	"github.com/google/go-cmp/cmp"
)

const deleteForm = "Action=DeleteCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=my-csg"

// panicker is a Service whose DeleteCacheSecurityGroup panics.
type panicker struct{ recorder }

func (*panicker) DeleteCacheSecurityGroup(context.Context, *DeleteCacheSecurityGroupInput) (*DeleteCacheSecurityGroupOutput, error) {
	panic("boom: the service fell over")
}

// nilAnswer is a Service whose DeleteCacheSecurityGroup and
// CreateCacheSecurityGroup return no output and no error.
type nilAnswer struct{ Unimplemented }

func (nilAnswer) DeleteCacheSecurityGroup(context.Context, *DeleteCacheSecurityGroupInput) (*DeleteCacheSecurityGroupOutput, error) {
	return nil, nil
}

func (nilAnswer) CreateCacheSecurityGroup(context.Context, *CreateCacheSecurityGroupInput) (*CreateCacheSecurityGroupOutput, error) {
	return nil, nil
}

// TestHandlerErrors checks each failure the handler answers itself, and
// that a Service's error reaches the wire as the right envelope.
func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	const oneMiB = 1 << 20
	tests := []struct {
		name    string
		req     func() *http.Request
		svcErr  error // what the recorder's operations return
		status  int
		errType string
		code    string
		message string // exact, unless contains is set
		// contains, when set, is checked instead of message: the codec
		// owns that wording.
		contains string
	}{
		{
			name:   "no Action",
			req:    func() *http.Request { return post("Version=2015-02-02") },
			status: 400, errType: "Sender", code: "MissingAction", message: "Missing Action",
		},
		{
			name:   "empty Action",
			req:    func() *http.Request { return post("Action=&Version=2015-02-02") },
			status: 400, errType: "Sender", code: "MissingAction", message: "Missing Action",
		},
		{
			name:   "unknown Action",
			req:    func() *http.Request { return post("Action=DescribeWidgets&Version=2015-02-02") },
			status: 400, errType: "Sender", code: "InvalidAction",
			message: "The action DescribeWidgets is not valid for this web service.",
		},
		{
			name:   "Action is case-sensitive",
			req:    func() *http.Request { return post("Action=deletecachesecuritygroup&Version=2015-02-02") },
			status: 400, errType: "Sender", code: "InvalidAction",
			message: "The action deletecachesecuritygroup is not valid for this web service.",
		},
		{
			name:   "Action escaped in the message",
			req:    func() *http.Request { return post("Action=%3Cx%3E%26&Version=2015-02-02") },
			status: 400, errType: "Sender", code: "InvalidAction",
			message: "The action <x>& is not valid for this web service.",
		},
		{
			name:   "not implemented",
			req:    func() *http.Request { return post("Action=CreateCacheCluster&Version=2015-02-02&CacheClusterId=c1") },
			status: 501, errType: "Receiver", code: "NotImplemented",
			message: "The action CreateCacheCluster is not implemented yet.",
		},
		{
			name:   "no Version",
			req:    func() *http.Request { return post("Action=DeleteCacheSecurityGroup&CacheSecurityGroupName=x") },
			status: 400, errType: "Sender", code: "MissingParameter",
			message: "The request must contain the parameter Version.",
		},
		{
			name:   "empty Version",
			req:    func() *http.Request { return post("Action=DeleteCacheSecurityGroup&Version=&CacheSecurityGroupName=x") },
			status: 400, errType: "Sender", code: "MissingParameter",
			message: "The request must contain the parameter Version.",
		},
		{
			name: "wrong Version",
			req: func() *http.Request {
				return post("Action=DeleteCacheSecurityGroup&Version=2014-09-30&CacheSecurityGroupName=x")
			},
			status: 400, errType: "Sender", code: "InvalidParameterValue",
			message: "Unsupported API version 2014-09-30.",
		},
		{
			name:   "Action checked before Version",
			req:    func() *http.Request { return post("Action=Nope") },
			status: 400, errType: "Sender", code: "InvalidAction",
			message: "The action Nope is not valid for this web service.",
		},
		{
			name: "malformed percent-encoding",
			req: func() *http.Request {
				return post("Action=DeleteCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=%zz")
			},
			status: 404, errType: "Sender", code: "MalformedQueryString",
			contains: "percent",
		},
		{
			name:   "parameter given twice",
			req:    func() *http.Request { return post(deleteForm + "&CacheSecurityGroupName=other") },
			status: 400, errType: "Sender", code: "InvalidParameterValue",
			contains: "CacheSecurityGroupName",
		},
		{
			name: "body over the limit",
			req: func() *http.Request {
				return post(deleteForm + "&Pad=" + strings.Repeat("x", oneMiB+1-len(deleteForm+"&Pad=")))
			},
			status: 413, errType: "Sender", code: "RequestEntityTooLarge",
			message: "Request body must not exceed 1048576 bytes.",
		},
		{
			name: "body over the limit, length unknown",
			req: func() *http.Request {
				r := post(deleteForm + "&Pad=" + strings.Repeat("x", oneMiB))
				r.ContentLength = -1 // as for a chunked body
				r.Body = io.NopCloser(r.Body)
				return r
			},
			status: 413, errType: "Sender", code: "RequestEntityTooLarge",
			message: "Request body must not exceed 1048576 bytes.",
		},
		{
			name:   "method",
			req:    func() *http.Request { return httptest.NewRequest(http.MethodPut, "/", strings.NewReader(deleteForm)) },
			status: 405, errType: "Sender", code: "MethodNotAllowed",
			message: "The HTTP method PUT is not allowed; use POST or GET.",
		},
		{
			name:   "required parameter absent",
			req:    func() *http.Request { return post("Action=DeleteCacheSecurityGroup&Version=2015-02-02") },
			status: 400, errType: "Sender", code: "MissingParameter",
			message: "The request must contain the parameter CacheSecurityGroupName.",
		},
		{
			name: "required parameter empty",
			req: func() *http.Request {
				return post("Action=DeleteCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=")
			},
			status: 400, errType: "Sender", code: "InvalidParameterValue",
			message: "CacheSecurityGroupName is required",
		},
		{
			name: "malformed integer",
			req: func() *http.Request {
				return post("Action=DescribeCacheSecurityGroups&Version=2015-02-02&MaxRecords=many")
			},
			status: 400, errType: "Sender", code: "InvalidParameterValue",
			contains: "MaxRecords",
		},
		{
			name:   "malformed timestamp",
			req:    func() *http.Request { return post("Action=DescribeEvents&Version=2015-02-02&StartTime=yesterday") },
			status: 400, errType: "Sender", code: "InvalidParameterValue",
			contains: "StartTime",
		},
		{
			name:   "modeled fault",
			req:    func() *http.Request { return post(deleteForm) },
			svcErr: &CacheSecurityGroupNotFoundFault{Message: "CacheSecurityGroup my-csg not found."},
			status: 404, errType: "Sender", code: "CacheSecurityGroupNotFound",
			message: "CacheSecurityGroup my-csg not found.",
		},
		{
			name:   "irregular modeled code",
			req:    func() *http.Request { return post(deleteForm) },
			svcErr: &CacheSecurityGroupQuotaExceededFault{Message: "Quota exceeded for cache security groups."},
			status: 400, errType: "Sender", code: "QuotaExceeded.CacheSecurityGroup",
			message: "Quota exceeded for cache security groups.",
		},
		{
			name:   "wrapped fault",
			req:    func() *http.Request { return post(deleteForm) },
			svcErr: fmt.Errorf("deleting my-csg: %w", &InvalidCacheSecurityGroupStateFault{Message: "busy"}),
			status: 400, errType: "Sender", code: "InvalidCacheSecurityGroupState", message: "busy",
		},
		{
			name:   "common error from the service",
			req:    func() *http.Request { return post(deleteForm) },
			svcErr: ServiceUnavailable(),
			status: 503, errType: "Receiver", code: "ServiceUnavailable",
			message: "Service is temporarily unavailable. Try again later.",
		},
		{
			name:   "plain Go error",
			req:    func() *http.Request { return post(deleteForm) },
			svcErr: errors.New("bolt: database file /var/lib/secret.db is corrupt"),
			status: 500, errType: "Receiver", code: "InternalFailure",
			message: "The request processing has failed because of an unknown error, exception or failure.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &recorder{err: tt.svcErr}
			res := do(t, NewHandler(svc, HandlerConfig{}), tt.req())
			got := []any{res.status, res.errType, res.code}
			if diff := cmp.Diff([]any{tt.status, tt.errType, tt.code}, got); diff != "" {
				t.Errorf("status, type, code (-want +got):\n%s\nbody: %s", diff, res.body)
			}
			if tt.contains != "" {
				if !strings.Contains(res.message, tt.contains) {
					t.Errorf("message %q does not contain %q", res.message, tt.contains)
				}
			} else if res.message != tt.message {
				t.Errorf("message = %q, want %q", res.message, tt.message)
			}
			if tt.svcErr != nil && strings.Contains(res.body, "secret.db") {
				t.Errorf("the Go error's text reached the client: %s", res.body)
			}
			if tt.status == http.StatusMethodNotAllowed && res.header.Get("Allow") != "GET, POST" {
				t.Errorf("Allow = %q", res.header.Get("Allow"))
			}
		})
	}
}

func TestBodyAtTheLimit(t *testing.T) {
	t.Parallel()
	body := deleteForm + "&Pad="
	body += strings.Repeat("x", 1<<20-len(body))
	svc := &recorder{}
	res := do(t, NewHandler(svc, HandlerConfig{}), post(body))
	if res.status != http.StatusOK {
		t.Fatalf("a body of exactly 1 MiB: status %d, %s", res.status, res.body)
	}
}

func TestMaxBodyBytes(t *testing.T) {
	t.Parallel()
	h := NewHandler(&recorder{}, HandlerConfig{MaxBodyBytes: int64(len(deleteForm))})
	if res := do(t, h, post(deleteForm)); res.status != http.StatusOK {
		t.Fatalf("at the limit: status %d, %s", res.status, res.body)
	}
	res := do(t, h, post(deleteForm+"&"))
	if res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("one byte over: status %d, %s", res.status, res.body)
	}
	if want := fmt.Sprintf("Request body must not exceed %d bytes.", len(deleteForm)); res.message != want {
		t.Errorf("message = %q, want %q", res.message, want)
	}
}

func TestGetForm(t *testing.T) {
	t.Parallel()
	svc := &recorder{}
	res := do(t, NewHandler(svc, HandlerConfig{}), httptest.NewRequest(http.MethodGet, "/?"+deleteForm, nil))
	if res.status != http.StatusOK {
		t.Fatalf("status %d, %s", res.status, res.body)
	}
	want := &DeleteCacheSecurityGroupInput{CacheSecurityGroupName: ptr("my-csg")}
	if diff := cmp.Diff(want, svc.last()); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
}

// TestPostIgnoresURLQuery pins the decision that a POST is read from its
// body only.
func TestPostIgnoresURLQuery(t *testing.T) {
	t.Parallel()
	svc := &recorder{}
	req := httptest.NewRequest(http.MethodPost, "/?Action=Nope&CacheSecurityGroupName=from-query", strings.NewReader(deleteForm))
	res := do(t, NewHandler(svc, HandlerConfig{}), req)
	if res.status != http.StatusOK {
		t.Fatalf("status %d, %s", res.status, res.body)
	}
	want := &DeleteCacheSecurityGroupInput{CacheSecurityGroupName: ptr("my-csg")}
	if diff := cmp.Diff(want, svc.last()); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
}

func TestPanicIsInternalFailure(t *testing.T) {
	t.Parallel()
	logs := &logCapture{}
	h := NewHandler(&panicker{}, HandlerConfig{Logger: slog.New(logs)})

	res := do(t, h, post(deleteForm))
	if res.status != 500 || res.code != "InternalFailure" || res.errType != "Receiver" {
		t.Fatalf("got %d %s %s, want 500 InternalFailure Receiver", res.status, res.code, res.errType)
	}
	if strings.Contains(res.body, "boom") {
		t.Errorf("the panic value reached the client: %s", res.body)
	}
	rec, ok := logs.find("panic serving request")
	if !ok {
		t.Fatal("the panic was not logged")
	}
	if rec.Level != slog.LevelError || rec.attrs["request_id"] != res.requestID ||
		!strings.Contains(rec.attrs["panic"], "boom") || !strings.Contains(rec.attrs["stack"], "DeleteCacheSecurityGroup") {
		t.Errorf("panic log = %v %v", rec.Level, rec.attrs)
	}

	// The handler keeps serving.
	res = do(t, h, post("Action=ListTagsForResource&Version=2015-02-02&ResourceName=arn"))
	if res.status != http.StatusOK {
		t.Fatalf("after a panic: status %d, %s", res.status, res.body)
	}
}

// TestNilOutput pins that a Service may answer (nil, nil): the operation
// table turns it into an empty result.
func TestNilOutput(t *testing.T) {
	t.Parallel()
	h := NewHandler(nilAnswer{}, HandlerConfig{NewRequestID: fixedID("id-1")})
	res := do(t, h, post("Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=a&Description=b"))
	want := `<CreateCacheSecurityGroupResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">` +
		`<CreateCacheSecurityGroupResult></CreateCacheSecurityGroupResult>` +
		`<ResponseMetadata><RequestId>id-1</RequestId></ResponseMetadata></CreateCacheSecurityGroupResponse>`
	if res.status != http.StatusOK || res.body != want {
		t.Errorf("got %d %s\nwant 200 %s", res.status, res.body, want)
	}
	if res := do(t, h, post(deleteForm)); res.status != http.StatusOK {
		t.Errorf("Delete: status %d, %s", res.status, res.body)
	}
}

// TestAuthenticate checks when Authenticate runs (after Action and Version,
// before decoding), what it sees, and that its caller reaches the Service.
func TestAuthenticate(t *testing.T) {
	t.Parallel()
	type seen struct {
		body   string
		isNil  bool
		action string
	}
	var mu sync.Mutex
	var calls []seen
	authErr := SignatureDoesNotMatch("The request signature we calculated does not match the signature you provided.")
	cfg := HandlerConfig{
		Authenticate: func(r *http.Request, body []byte, form awsquery.Form) (Caller, error) {
			mu.Lock()
			calls = append(calls, seen{body: string(body), isNil: body == nil, action: form["Action"]})
			mu.Unlock()
			if r.Header.Get("Authorization") == "bad" {
				return Caller{}, authErr
			}
			return Caller{AccountID: "123456789012", Region: "eu-west-3"}, nil
		},
	}
	svc := &recorder{}
	h := NewHandler(svc, cfg)

	if res := do(t, h, post(deleteForm)); res.status != http.StatusOK {
		t.Fatalf("status %d, %s", res.status, res.body)
	}
	if diff := cmp.Diff(Caller{AccountID: "123456789012", Region: "eu-west-3"}, svc.caller); diff != "" {
		t.Errorf("caller (-want +got):\n%s", diff)
	}
	if res := do(t, h, httptest.NewRequest(http.MethodGet, "/?"+deleteForm, nil)); res.status != http.StatusOK {
		t.Fatalf("GET: status %d, %s", res.status, res.body)
	}

	// A bad signature is answered before a missing parameter…
	req := post("Action=DeleteCacheSecurityGroup&Version=2015-02-02")
	req.Header.Set("Authorization", "bad")
	res := do(t, h, req)
	if res.status != 403 || res.code != "SignatureDoesNotMatch" || res.message != authErr.Message {
		t.Errorf("bad signature: got %d %s %q", res.status, res.code, res.message)
	}
	// …but after a missing Version, which never reaches Authenticate.
	req = post("Action=DeleteCacheSecurityGroup")
	req.Header.Set("Authorization", "bad")
	if res := do(t, h, req); res.code != "MissingParameter" {
		t.Errorf("no Version and a bad signature: got %s, want MissingParameter", res.code)
	}

	want := []seen{
		{body: deleteForm, action: "DeleteCacheSecurityGroup"},
		{isNil: true, action: "DeleteCacheSecurityGroup"},
		{body: "Action=DeleteCacheSecurityGroup&Version=2015-02-02", action: "DeleteCacheSecurityGroup"},
	}
	if diff := cmp.Diff(want, calls, cmp.AllowUnexported(seen{})); diff != "" {
		t.Errorf("Authenticate calls (-want +got):\n%s", diff)
	}
	if svc.calls != 2 {
		t.Errorf("the service ran %d times, want 2", svc.calls)
	}
}

func TestAuthenticatePlainErrorIsInternal(t *testing.T) {
	t.Parallel()
	h := NewHandler(&recorder{}, HandlerConfig{
		Authenticate: func(*http.Request, []byte, awsquery.Form) (Caller, error) {
			return Caller{}, errors.New("credentials file unreadable: /etc/secret")
		},
	})
	res := do(t, h, post(deleteForm))
	if res.status != 500 || res.code != "InternalFailure" || strings.Contains(res.body, "secret") {
		t.Errorf("got %d %s: %s", res.status, res.code, res.body)
	}
}

// TestAccessLog checks the one Info line per request, and that it never
// carries the Authorization header or a signature.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	logs := &logCapture{}
	h := NewHandler(&recorder{}, HandlerConfig{Logger: slog.New(logs)})

	req := post(deleteForm)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/elasticache/aws4_request, SignedHeaders=host, Signature=deadbeefcafe")
	ok := do(t, h, req)
	bad := do(t, h, post("Action=DeleteCacheSecurityGroup&Version=2015-02-02"))

	lines := logs.all("request")
	if len(lines) != 2 {
		t.Fatalf("%d access log lines, want 2", len(lines))
	}
	for _, l := range lines {
		if l.Level != slog.LevelInfo {
			t.Errorf("access log at %v, want Info", l.Level)
		}
		if l.attrs["duration"] == "" {
			t.Errorf("no duration: %v", l.attrs)
		}
		delete(l.attrs, "duration")
	}
	want := []map[string]string{
		{"request_id": ok.requestID, "account": "000000000000", "region": "us-east-1", "action": "DeleteCacheSecurityGroup", "status": "200"},
		{"request_id": bad.requestID, "account": "000000000000", "region": "us-east-1", "action": "DeleteCacheSecurityGroup", "status": "400", "code": "MissingParameter"},
	}
	if diff := cmp.Diff(want, []map[string]string{lines[0].attrs, lines[1].attrs}); diff != "" {
		t.Errorf("access log (-want +got):\n%s", diff)
	}
	if s := logs.String(); strings.Contains(s, "deadbeefcafe") || strings.Contains(s, "AKIDEXAMPLE") {
		t.Errorf("credentials reached the log:\n%s", s)
	}
}

// TestAccessLogText pins the access line as slog's text handler prints
// it, order of fields included: the handler builds the record itself.
func TestAccessLogText(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	var mu sync.Mutex
	th := slog.NewTextHandler(&lockedWriter{w: &out, mu: &mu}, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	})
	h := NewHandler(&recorder{}, HandlerConfig{Logger: slog.New(th)})
	ok := do(t, h, post(deleteForm))
	bad := do(t, h, post("Action=DeleteCacheSecurityGroup&Version=2015-02-02"))
	want := "level=INFO msg=request request_id=" + ok.requestID +
		" account=000000000000 region=us-east-1 action=DeleteCacheSecurityGroup status=200\n" +
		"level=INFO msg=request request_id=" + bad.requestID +
		" account=000000000000 region=us-east-1 action=DeleteCacheSecurityGroup status=400 code=MissingParameter\n"
	mu.Lock()
	defer mu.Unlock()
	if got := out.String(); got != want {
		t.Errorf("access log:\n%s\nwant\n%s", got, want)
	}
}

// TestAccessLogJSON pins the access line as slog's JSON handler prints it,
// for an answer and a failure; only time and duration vary.
func TestAccessLogJSON(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	var mu sync.Mutex
	lh := slog.NewJSONHandler(&lockedWriter{w: &out, mu: &mu}, nil)
	h := NewHandler(&recorder{}, HandlerConfig{Logger: slog.New(lh), NewRequestID: fixedID("rid-1")})
	do(t, h, post(deleteForm))
	do(t, h, post("Action=DeleteCacheSecurityGroup&Version=2015-02-02"))
	varying := regexp.MustCompile(`("time":)"[^"]+"|("duration":)[0-9]+`)
	want := `{"time":,"level":"INFO","msg":"request","request_id":"rid-1","account":"000000000000","region":"us-east-1","action":"DeleteCacheSecurityGroup","status":200,"duration":}` + "\n" +
		`{"time":,"level":"INFO","msg":"request","request_id":"rid-1","account":"000000000000","region":"us-east-1","action":"DeleteCacheSecurityGroup","status":400,"code":"MissingParameter","duration":}` + "\n"
	mu.Lock()
	defer mu.Unlock()
	if got := varying.ReplaceAllString(out.String(), "$1$2"); got != want {
		t.Errorf("access log:\n%s\nwant\n%s", got, want)
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestInternalErrorLogging checks that an internal error is logged with its
// detail at Error, and a client that went away only at Debug.
func TestInternalErrorLogging(t *testing.T) {
	t.Parallel()
	t.Run("internal", func(t *testing.T) {
		t.Parallel()
		logs := &logCapture{}
		h := NewHandler(&recorder{err: errors.New("disk on fire")}, HandlerConfig{Logger: slog.New(logs)})
		res := do(t, h, post(deleteForm))
		rec, ok := logs.find("internal failure")
		if !ok || rec.Level != slog.LevelError || rec.attrs["error"] != "disk on fire" ||
			rec.attrs["request_id"] != res.requestID || rec.attrs["action"] != "DeleteCacheSecurityGroup" {
			t.Errorf("internal failure log = %v %v", rec.Level, rec.attrs)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		logs := &logCapture{}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h := NewHandler(&recorder{err: fmt.Errorf("reading store: %w", context.Canceled)}, HandlerConfig{Logger: slog.New(logs)})
		do(t, h, post(deleteForm).WithContext(ctx))
		if _, ok := logs.find("internal failure"); ok {
			t.Error("a canceled request was logged as an internal failure")
		}
		rec, ok := logs.find("request canceled by the client")
		if !ok || rec.Level != slog.LevelDebug {
			t.Errorf("canceled log = %v %v (found %t)", rec.Level, rec.attrs, ok)
		}
	})
}

// TestRequestIDsDiffer guards the default NewRequestID against returning a
// constant.
func TestRequestIDsDiffer(t *testing.T) {
	t.Parallel()
	h := NewHandler(&recorder{}, HandlerConfig{})
	seen := map[string]bool{}
	for range 100 {
		id := do(t, h, post(deleteForm)).requestID
		if !uuidV4.MatchString(id) || seen[id] {
			t.Fatalf("request ID %q: not a UUID v4, or repeated", id)
		}
		seen[id] = true
	}
}

// TestConcurrentRequests runs requests in parallel through one handler, for
// the race detector's sake (the buffer pool, the operation table).
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	h := NewHandler(&recorder{}, HandlerConfig{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 20 {
				form := deleteForm
				if i%2 == 1 {
					form = "Action=DescribeCacheSecurityGroups&Version=2015-02-02"
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, post(form))
				if rec.Code != http.StatusOK {
					t.Errorf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
	wg.Wait()
}

// logCapture is a slog.Handler that keeps records, their attributes
// rendered as strings, and a text rendering of everything.
type logCapture struct {
	mu      sync.Mutex
	records []logRecord
	text    bytes.Buffer
}

type logRecord struct {
	Level slog.Level
	Msg   string
	attrs map[string]string
}

func (*logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec := logRecord{Level: r.Level, Msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	c.records = append(c.records, rec)
	fmt.Fprintf(&c.text, "%v %s %v\n", r.Level, r.Message, rec.attrs)
	return nil
}

func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCapture) WithGroup(string) slog.Handler      { return c }

func (c *logCapture) find(msg string) (logRecord, bool) {
	for _, r := range c.all(msg) {
		return r, true
	}
	return logRecord{}, false
}

func (c *logCapture) all(msg string) []logRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []logRecord
	for _, r := range c.records {
		if r.Msg == msg {
			out = append(out, r)
		}
	}
	return out
}

func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.text.String()
}

// TestInterceptAndObserve checks where the two hooks run: Intercept after
// authentication and before decoding (its fault answers even a request
// with a missing parameter, and the service never runs), Observe once per
// request after the answer, with what was reached.
func TestInterceptAndObserve(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []Exchange
	var intercepted []string
	svc := &recorder{}
	h := NewHandler(svc, HandlerConfig{
		Authenticate: func(*http.Request, []byte, awsquery.Form) (Caller, error) {
			return Caller{AccountID: "123456789012", Region: "eu-west-3"}, nil
		},
		Intercept: func(ctx context.Context, e *Exchange) error {
			mu.Lock()
			intercepted = append(intercepted, e.Action+"/"+e.Caller.AccountID)
			mu.Unlock()
			if e.Form["CacheSecurityGroupName"] == "throttle-me" || e.Form["CacheSecurityGroupName"] == "" {
				return Throttling()
			}
			return nil
		},
		Observe: func(_ context.Context, e *Exchange) {
			mu.Lock()
			c := *e
			c.Form = nil
			seen = append(seen, c)
			mu.Unlock()
		},
	})

	ok := do(t, h, post(deleteForm))
	thr := do(t, h, post("Action=DeleteCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=throttle-me"))
	missing := do(t, h, post("Action=DeleteCacheSecurityGroup&Version=2015-02-02"))
	bad := do(t, h, post("Action=Nope&Version=2015-02-02"))

	if ok.status != 200 || thr.status != 400 || thr.code != "Throttling" || missing.code != "Throttling" || bad.code != "InvalidAction" {
		t.Fatalf("answers: %d; %d %s; %s; %s", ok.status, thr.status, thr.code, missing.code, bad.code)
	}
	if svc.calls != 1 {
		t.Errorf("the service ran %d times, want 1", svc.calls)
	}
	if want := []string{"DeleteCacheSecurityGroup/123456789012", "DeleteCacheSecurityGroup/123456789012", "DeleteCacheSecurityGroup/123456789012"}; !cmp.Equal(want, intercepted) {
		t.Errorf("intercepted %v, want %v", intercepted, want)
	}
	if len(seen) != 4 {
		t.Fatalf("observed %d requests, want 4", len(seen))
	}
	caller := Caller{AccountID: "123456789012", Region: "eu-west-3"}
	want := []Exchange{
		{RequestID: ok.requestID, Caller: caller, Action: "DeleteCacheSecurityGroup", Status: 200},
		{RequestID: thr.requestID, Caller: caller, Action: "DeleteCacheSecurityGroup", Status: 400, Code: "Throttling"},
		{RequestID: missing.requestID, Caller: caller, Action: "DeleteCacheSecurityGroup", Status: 400, Code: "Throttling"},
		{RequestID: bad.requestID, Action: "Nope", Status: 400, Code: "InvalidAction"},
	}
	for i := range seen {
		if seen[i].Start.IsZero() || seen[i].Duration <= 0 {
			t.Errorf("request %d: start %v, duration %v", i, seen[i].Start, seen[i].Duration)
		}
		seen[i].Start, seen[i].Duration = time.Time{}, 0
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

// flushSpy is a ResponseWriter that notes, at each Flush (when net/http
// sends what the handler wrote), whether Observe had run.
type flushSpy struct {
	*httptest.ResponseRecorder
	observed      *atomic.Bool
	flushes       int
	observedFirst bool
}

func (f *flushSpy) Flush() {
	if f.flushes == 0 {
		f.observedFirst = f.observed.Load()
	}
	f.flushes++
	f.ResponseRecorder.Flush()
}

// TestObserveBeforeTheAnswerLeaves checks that Observe runs before the
// answer is flushed to the client, success or failure: a client that has
// its answer can count on the journal and the metrics having seen it.
func TestObserveBeforeTheAnswerLeaves(t *testing.T) {
	t.Parallel()
	var observed atomic.Bool
	h := NewHandler(&recorder{}, HandlerConfig{Observe: func(context.Context, *Exchange) { observed.Store(true) }})
	for _, body := range []string{deleteForm, "Action=DeleteCacheSecurityGroup&Version=2015-02-02"} {
		observed.Store(false)
		w := &flushSpy{ResponseRecorder: httptest.NewRecorder(), observed: &observed}
		h.ServeHTTP(w, post(body))
		if w.flushes == 0 || !w.observedFirst {
			t.Errorf("%s: %d flushes, observed before the first: %v", body, w.flushes, w.observedFirst)
		}
	}
}
