package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/elasticache-server/elasticache-server/internal/awsquery"
)

// Namespace is the xmlns of every response, success or error.
const Namespace = "http://elasticache.amazonaws.com/doc/2015-02-02/"

// APIVersion is the only Version parameter the handler accepts.
const APIVersion = "2015-02-02"

// defaultMaxBodyBytes is SPEC's body limit, 1 MiB.
const defaultMaxBodyBytes = 1 << 20

// requestIDHeader carries the request ID on every response. Go writes it in
// canonical case (X-Amzn-Requestid); header names are case-insensitive, and
// the Go and JS SDKs, the two that read it, look it up that way.
const requestIDHeader = "x-amzn-RequestId"

// canonicalRequestIDHeader is requestIDHeader as net/http stores it.
var canonicalRequestIDHeader = http.CanonicalHeaderKey(requestIDHeader)

// HandlerConfig configures NewHandler. The zero value is usable.
type HandlerConfig struct {
	// Logger receives one Info line per request and the details of
	// internal failures. nil discards everything.
	Logger *slog.Logger
	// MaxBodyBytes limits a POST body; a longer one is answered
	// RequestEntityTooLarge (413). 0 means 1 MiB.
	MaxBodyBytes int64
	// NewRequestID returns the ID echoed in x-amzn-RequestId and
	// <RequestId>. nil means a random UUID v4.
	NewRequestID func() string
	// Authenticate resolves the caller once Action and Version are known and
	// before the input is decoded. body is the exact request body (nil for
	// GET), for signature checks; form is the decoded form, which it must
	// not modify. A returned Fault is answered as is; any other error is an
	// internal failure. nil means every request acts as account
	// 000000000000 in us-east-1.
	Authenticate func(r *http.Request, body []byte, form awsquery.Form) (Caller, error)
	// Intercept, when set, runs once the caller is known and before the
	// input is decoded, so that a rule can make a request fail or wait
	// whatever its parameters (fault injection). A returned Fault is
	// answered as is; any other error is an internal failure. It may block,
	// but must return when ctx ends.
	Intercept func(ctx context.Context, e *Exchange) error
	// Observe, when set, is called once per request when its answer is
	// complete, just before it is sent, with what is known of it: metrics
	// and the request journal read it, and a client that has its answer can
	// count on them having seen the request. It must not keep e.Form past the call without copying it:
	// the map is not shared with anything else, but may be large.
	Observe func(ctx context.Context, e *Exchange)
}

// Exchange is what the server knows about one request; the handler fills
// it in as the request gets through the checks. Fields not reached stay
// zero: a request refused for a bad Action has no Caller.
type Exchange struct {
	// RequestID is the ID sent in x-amzn-RequestId and <RequestId>.
	RequestID string
	// Caller is the authenticated account and region.
	Caller Caller
	// Action is the operation name, or the client's (shortened) Action when
	// it names no operation.
	Action string
	// Form is the decoded request parameters, including Action, Version and,
	// for presigned GETs, the X-Amz-* signing parameters. nil when the
	// request could not be parsed. The map is the handler's until it
	// returns, then reused: a hook that keeps it past its call must copy it.
	Form awsquery.Form
	// Status is the HTTP status of the answer.
	Status int
	// Code is the error code of a failed request, "" on success.
	Code string
	// Start is when the handler received the request.
	Start time.Time
	// Duration is how long the handler took, up to the answer being sent.
	Duration time.Duration
}

// exchange is the handler's Exchange and what only the handler needs of
// it, in one allocation per request. It is also the request's context: it
// embeds the one net/http gives the request and answers Value(exchangeKey{})
// with itself (caller.go), which saves context.WithValue's allocation. The
// strings the handler hands out (the request ID, the header values) point
// into it: it is never reused, so they never change.
type exchange struct {
	context.Context
	Exchange
	// authenticated says Exchange.Caller is set, for CallerFrom.
	authenticated bool
	// form is the pooled map that Exchange.Form is (also when parsing it
	// failed and Form stayed nil), returned to the pool at the end.
	form awsquery.Form
	// hdr holds the values of x-amzn-RequestId and Content-Length, which
	// the response's header map refers to.
	hdr [2]string
	// id and length hold the bytes of the default request ID and of the
	// Content-Length value.
	id     [36]byte
	length [20]byte
}

// Value answers exchangeKey{} with x and asks the parent for anything else.
func (x *exchange) Value(key any) any {
	if key == (exchangeKey{}) {
		return x
	}
	return x.Context.Value(key)
}

// handler serves the query protocol for one Service.
type handler struct {
	svc          Service
	log          *slog.Logger
	maxBody      int64
	newRequestID func() string
	authenticate func(*http.Request, []byte, awsquery.Form) (Caller, error)
	intercept    func(context.Context, *Exchange) error
	observe      func(context.Context, *Exchange)
	// ops is the operation table by pointer: LookupOperation copies its
	// answer so that no caller can change the table, an allocation per
	// request, and the handler only reads it.
	ops map[string]*Operation
	// bufs holds response buffers; most answers are a few KiB and a
	// handler serves many, so reusing them keeps allocation flat.
	bufs sync.Pool
	// forms holds emptied awsquery.Forms, for the same reason: a new map
	// is two allocations and its setup, on every request.
	forms sync.Pool
}

// maxPooledForm is the most parameters a form may have held to be reused,
// so that the pool holds no map grown for a huge request.
const maxPooledForm = 32

// maxPooledBuf is the largest buffer returned to the pool, so that one huge
// answer does not pin its memory for the life of the server.
const maxPooledBuf = 64 << 10

// NewHandler returns the http.Handler of the ElastiCache query API: it
// serves POST / (a form body) and GET /?Action=… (the form in the query),
// on any path, and answers every request, success or failure, with a
// text/xml body and an x-amzn-RequestId header equal to the body's
// RequestId.
//
// Checks run in SPEC §3's order: body, Action, Version, authentication,
// parameters; the first failure answers. A POST's URL query is ignored: all
// clients send the form in the body only, and reading one source keeps the
// signed bytes and the decoded parameters the same. The Content-Type of a
// POST is not checked: clients disagree on its charset, and the body is
// decoded the same way regardless. Methods other than POST and GET get
// MethodNotAllowed (405). A panic in the Service is logged and answered
// InternalFailure; the server keeps serving.
func NewHandler(svc Service, cfg HandlerConfig) http.Handler {
	h := &handler{
		svc:          svc,
		log:          cfg.Logger,
		maxBody:      cfg.MaxBodyBytes,
		newRequestID: cfg.NewRequestID,
		authenticate: cfg.Authenticate,
		intercept:    cfg.Intercept,
		observe:      cfg.Observe,
		ops:          make(map[string]*Operation, len(operations)),
	}
	for name := range operations {
		h.ops[name], _ = LookupOperation(name)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = defaultMaxBodyBytes
	}
	if h.authenticate == nil {
		// LocalStack's default account, in SPEC's default region.
		h.authenticate = func(*http.Request, []byte, awsquery.Form) (Caller, error) {
			return Caller{AccountID: "000000000000", Region: "us-east-1"}, nil
		}
	}
	h.bufs.New = func() any {
		b := make([]byte, 0, 4<<10)
		return &b
	}
	h.forms.New = func() any { return make(awsquery.Form, 8) }
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	xs := &exchange{Context: r.Context(), Exchange: Exchange{Start: start}}
	x := &xs.Exchange
	if h.newRequestID != nil {
		x.RequestID = h.newRequestID()
	} else {
		x.RequestID = xs.newUUID()
	}
	// First, so that even a panic's answer carries it.
	// Assigned under its canonical form: Set would canonicalize, and
	// allocate, on every request.
	xs.hdr[0] = x.RequestID
	w.Header()[canonicalRequestIDHeader] = xs.hdr[0:1:1]
	var ctx context.Context = xs
	// Runs last, once nothing reads the form any more.
	defer h.releaseForm(xs)

	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // net/http's own signal to drop the connection
			}
			h.log.LogAttrs(ctx, slog.LevelError, "panic serving request",
				slog.String("request_id", x.RequestID), slog.String("action", x.Action),
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if x.Status == 0 { // nothing written yet
				h.writeError(w, xs, InternalFailure())
			}
		}
		// Measured before the flush: once the answer has left, the client
		// may have read it before the clock is read here, and the logged
		// duration would exceed what the client saw.
		end := time.Now()
		x.Duration = end.Sub(start)
		// Observed before the answer leaves, too: a client that has its
		// answer can count on the request journal and the metrics having
		// seen the request (a test asserts what its code called right after
		// calling it). The journal costs about a microsecond, and only with
		// --admin; the metrics some 50 ns.
		if h.observe != nil {
			h.observe(ctx, x)
		}
		// The answer leaves before the log line is written: net/http would
		// otherwise hold it in its buffer until the handler returns, and
		// every request would wait for the log's lock and write(2), which
		// serialise the handlers.
		if x.Status != 0 {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		if !h.log.Enabled(ctx, slog.LevelInfo) {
			return
		}
		// The record goes to the handler directly: Logger.LogAttrs would
		// also look up its caller's program counter (runtime.Callers, a
		// tenth of the line's cost) for a source the server's logger does
		// not print, and that would always name this line. The line's
		// time is when the answer was complete, start + duration: the
		// clock was just read for that.
		rec := slog.NewRecord(end, slog.LevelInfo, "request", 0)
		rec.AddAttrs(
			slog.String("request_id", x.RequestID),
			slog.String("account", x.Caller.AccountID),
			slog.String("region", x.Caller.Region),
			slog.String("action", x.Action),
			slog.Int("status", x.Status),
		)
		if x.Code != "" {
			rec.AddAttrs(slog.String("code", x.Code))
		}
		rec.AddAttrs(slog.Duration("duration", x.Duration))
		_ = h.log.Handler().Handle(ctx, rec)
	}()

	op, out, err := h.serve(ctx, r, xs)
	if err == nil {
		err = h.writeResult(w, xs, op, out)
		if err == nil {
			return
		}
	}
	var fault Fault
	if !errors.As(err, &fault) {
		h.logInternal(ctx, r, x, err)
		fault = InternalFailure()
	}
	h.writeError(w, xs, fault)
}

// serve runs the checks and the operation. It returns the operation and its
// output, or the error to answer.
func (h *handler) serve(ctx context.Context, r *http.Request, xs *exchange) (*Operation, any, error) {
	x := &xs.Exchange
	var raw string
	var body []byte
	switch r.Method {
	case http.MethodPost:
		if r.ContentLength > h.maxBody {
			return nil, nil, RequestEntityTooLarge(h.maxBody)
		}
		b, err := h.readBody(r)
		if err != nil {
			// The client stopped sending mid-body; it rarely reads the answer.
			h.log.LogAttrs(ctx, slog.LevelDebug, "reading request body",
				slog.String("request_id", x.RequestID), slog.Any("error", err))
			return nil, nil, MalformedQueryString("The request body could not be read.")
		}
		if int64(len(b)) > h.maxBody {
			return nil, nil, RequestEntityTooLarge(h.maxBody)
		}
		// The form's strings are views of the body, not a copy of it: b is
		// this request's own allocation and nothing writes to it after
		// the read (authentication only hashes it).
		body = b
		if len(b) > 0 {
			raw = unsafe.String(&b[0], len(b))
		}
	case http.MethodGet:
		raw = r.URL.RawQuery
	default:
		return nil, nil, MethodNotAllowed(r.Method)
	}

	form := h.forms.Get().(awsquery.Form)
	xs.form = form
	if err := awsquery.ParseFormInto(form, raw); err != nil {
		return nil, nil, queryError(err)
	}
	x.Form = form

	action := form["Action"]
	if action == "" {
		return nil, nil, MissingAction()
	}
	op, ok := h.ops[action]
	if !ok {
		// Logged shortened: an unknown action is client text of any length.
		x.Action = truncate(action, maxLoggedAction)
		return nil, nil, InvalidAction(action)
	}
	x.Action = op.Name

	// An empty Version is as good as none: there is no version "" to be
	// unsupported.
	switch v := form["Version"]; {
	case v == "":
		return nil, nil, MissingParameter("Version")
	case v != APIVersion:
		return nil, nil, UnsupportedVersion(v)
	}

	caller, err := h.authenticate(r, body, form)
	if err != nil {
		return nil, nil, err
	}
	x.Caller, xs.authenticated = caller, true

	if h.intercept != nil {
		if err := h.intercept(ctx, x); err != nil {
			return nil, nil, err
		}
	}

	in := op.NewInput()
	if err := awsquery.Decode(form, in); err != nil {
		return nil, nil, queryError(err)
	}
	out, err := op.Invoke(ctx, h.svc, in)
	if err != nil {
		return nil, nil, err
	}
	return op, out, nil
}

// readBody reads a POST body of at most maxBody+1 bytes. A body of known
// length is read into one allocation of that size (net/http stops it there);
// io.ReadAll would grow its buffer from 512 bytes by copying, on every
// request.
func (h *handler) readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= h.maxBody {
		b := make([]byte, n)
		_, err := io.ReadFull(r.Body, b)
		if err == nil {
			// Read to its end (net/http's body reports EOF with the last
			// bytes), so closing is free, and it spares net/http looking
			// for more with an io.CopyN before it writes the answer's
			// header, 1 % of a describe.
			r.Body.Close()
		}
		return b, err
	}
	// One byte past the limit tells a body at the limit from a longer one.
	return io.ReadAll(io.LimitReader(r.Body, h.maxBody+1))
}

// queryError turns a codec error into the fault that answers it. An error
// that is not an *awsquery.Error is a bug in a generated shape or the
// codec, and stays internal.
func queryError(err error) error {
	var qe *awsquery.Error
	if !errors.As(err, &qe) {
		return err
	}
	switch qe.Kind {
	case awsquery.Malformed:
		return MalformedQueryString(qe.Message)
	case awsquery.Missing:
		return MissingParameter(qe.Param)
	default: // Duplicate, Empty, Invalid
		return InvalidParameterValue(qe.Message)
	}
}

// logInternal records an error the client will only see as InternalFailure.
// A request whose client went away is not a server failure: Debug only.
func (h *handler) logInternal(ctx context.Context, r *http.Request, x *Exchange, err error) {
	level, msg := slog.LevelError, "internal failure"
	if cerr := r.Context().Err(); cerr != nil && errors.Is(err, cerr) {
		level, msg = slog.LevelDebug, "request canceled by the client"
	}
	h.log.LogAttrs(ctx, level, msg,
		slog.String("request_id", x.RequestID), slog.String("action", x.Action), slog.Any("error", err))
}

func (h *handler) writeResult(w http.ResponseWriter, x *exchange, op *Operation, out any) error {
	bp := h.bufs.Get().(*[]byte)
	defer h.putBuf(bp)
	b, err := awsquery.AppendResponse((*bp)[:0], Namespace, op.Name, op.ResultWrapper, out, x.RequestID)
	if err != nil {
		// Nothing is written yet, so the caller can still answer the error.
		return fmt.Errorf("encoding %s output: %w", op.Name, err)
	}
	*bp = b
	h.write(w, x, http.StatusOK, b)
	return nil
}

func (h *handler) writeError(w http.ResponseWriter, x *exchange, f Fault) {
	bp := h.bufs.Get().(*[]byte)
	defer h.putBuf(bp)
	b := awsquery.AppendError((*bp)[:0], Namespace, f.SenderFault(), f.ErrorCode(), f.ErrorMessage(), x.RequestID)
	*bp = b
	x.Code = f.ErrorCode()
	h.write(w, x, f.HTTPStatus(), b)
}

func (h *handler) write(w http.ResponseWriter, x *exchange, status int, body []byte) {
	x.Status = status
	hdr := w.Header()
	hdr["Content-Type"] = textXML
	// Written once per request (x.Status was 0), so the string stays as it is.
	n := len(strconv.AppendInt(x.length[:0], int64(len(body)), 10))
	x.hdr[1] = unsafe.String(&x.length[0], n)
	hdr["Content-Length"] = x.hdr[1:2:2]
	if status == http.StatusMethodNotAllowed {
		hdr.Set("Allow", "GET, POST")
	}
	w.WriteHeader(status)
	// A write error means the client is gone; there is no one to tell.
	_, _ = w.Write(body)
}

// releaseForm empties the request's form and returns it to the pool.
func (h *handler) releaseForm(x *exchange) {
	f := x.form
	if f == nil {
		return
	}
	x.form, x.Form = nil, nil
	if len(f) > maxPooledForm {
		return
	}
	clear(f)
	h.forms.Put(f)
}

func (h *handler) putBuf(bp *[]byte) {
	if cap(*bp) > maxPooledBuf {
		return
	}
	h.bufs.Put(bp)
}

// textXML is every answer's Content-Type; net/http only reads it.
var textXML = []string{"text/xml"}

// maxLoggedAction bounds the length of an unknown Action in the log.
const maxLoggedAction = 128

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// newUUID returns a random (version 4) UUID, the form of AWS request IDs,
// written into x.id.
func (x *exchange) newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails: crypto/rand aborts the program instead
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	s := &x.id
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return unsafe.String(&s[0], len(s))
}
