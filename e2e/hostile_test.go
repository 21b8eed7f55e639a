package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/server"
	"github.com/elasticache-server/elasticache-server/service"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// The hostile-input tests of issue #4: what no SDK sends, through the real
// server on loopback.

// withTimeouts sets the HTTP server's read-header, read and idle timeouts.
func withTimeouts(readHeader, read, idle time.Duration) serverOption {
	return func(c *server.Config) {
		c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout = readHeader, read, idle
	}
}

// dial opens a raw connection to addr that is closed at cleanup.
func dial(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// trickle writes prefix, then one byte of filler every interval until the
// connection fails or stop closes.
func trickle(conn net.Conn, prefix string, filler byte, interval time.Duration, stop <-chan struct{}) {
	if _, err := io.WriteString(conn, prefix); err != nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if _, err := conn.Write([]byte{filler}); err != nil {
				return
			}
		}
	}
}

// waitClosed reads conn until the server closes it and returns what was
// read and when it closed; it fails the test if that takes longer than
// within.
func waitClosed(tb testing.TB, conn net.Conn, within time.Duration) ([]byte, time.Time) {
	tb.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(within)); err != nil {
		tb.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		tb.Fatalf("the server did not close the connection within %v (read %q)", within, got)
	}
	// io.EOF (read as nil by ReadAll) or a reset: either way, closed.
	return got, time.Now()
}

// TestHostileSlowClients: clients that send too slowly are cut off by the
// configured timeouts, and the server keeps serving everyone else. Each
// timeout is checked on a server whose other timeouts are far longer than
// it plus the margin, so that only the one under test can pass the check.
func TestHostileSlowClients(t *testing.T) {
	t.Parallel()
	const (
		headerTimeout = 300 * time.Millisecond
		readTimeout   = 800 * time.Millisecond
		idleTimeout   = 500 * time.Millisecond
		long          = time.Minute
		margin        = 3 * time.Second // generous: a loaded CI machine under -race
	)
	// s: short header and idle timeouts; sb: a short read timeout (which,
	// in net/http, also bounds the headers).
	s := startServer(t, withTimeouts(headerTimeout, long, idleTimeout))
	sb := startServer(t, withTimeouts(long, readTimeout, long))
	c, cb := newRawClient(t, s.Addr), newRawClient(t, sb.Addr)

	// The group returns once its parallel subtests are done.
	t.Run("slow clients", func(t *testing.T) {
		t.Run("slow-loris headers", func(t *testing.T) {
			t.Parallel()
			start := time.Now() // the server's deadline starts at accept
			conn := dial(t, s.Addr)
			stop := make(chan struct{})
			defer close(stop)
			// A header line that never ends, a byte every 50 ms: each byte
			// arrives well within any per-read timeout, so only an absolute
			// deadline on the headers ends it.
			go trickle(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ", 'a', 50*time.Millisecond, stop)
			got, closed := waitClosed(t, conn, headerTimeout+margin)
			if d := closed.Sub(start); d < headerTimeout*9/10 {
				t.Errorf("closed after %v, before the read-header timeout of %v: not the timeout at work", d, headerTimeout)
			}
			if len(got) > 0 && !strings.HasPrefix(string(got), "HTTP/1.1 4") {
				t.Errorf("answer before closing = %q, want none or a 4xx", got)
			}
		})

		t.Run("body that never finishes", func(t *testing.T) {
			t.Parallel()
			start := time.Now() // the server's deadline starts at accept
			conn := dial(t, sb.Addr)
			stop := make(chan struct{})
			defer close(stop)
			head := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n" +
				describeForm + "&Pad="
			go trickle(conn, head, 'x', 50*time.Millisecond, stop)

			got, closed := waitClosed(t, conn, readTimeout+margin)
			if d := closed.Sub(start); d < readTimeout*9/10 {
				t.Errorf("closed after %v, before the read timeout of %v", d, readTimeout)
			}
			// The handler may still answer the body it could not read; that
			// answer is a client error, never a success or a 500.
			if len(got) > 0 && !strings.HasPrefix(string(got), "HTTP/1.1 4") {
				t.Errorf("answer before closing = %.200q, want none or a 4xx", got)
			}
		})

		t.Run("others are served while a body is pending", func(t *testing.T) {
			t.Parallel()
			// On s the read timeout is a minute: the slow body stays
			// pending throughout, whatever the machine's load.
			conn := dial(t, s.Addr)
			stop := make(chan struct{})
			defer close(stop)
			head := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n" +
				describeForm + "&Pad="
			go trickle(conn, head, 'x', 50*time.Millisecond, stop)
			for range 3 {
				wantDescribe(t, c.post(describeForm))
			}
			// The slow request is still waiting for its body, unanswered.
			if err := conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			n, err := conn.Read(make([]byte, 1))
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("the pending request: read %d bytes, %v; want it still open and unanswered", n, err)
			}
		})

		t.Run("idle keep-alive connection", func(t *testing.T) {
			t.Parallel()
			conn := dial(t, s.Addr)
			req := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
				strconv.Itoa(len(describeForm)) + "\r\n\r\n" + describeForm
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d, want 200", res.StatusCode)
			}
			// Then nothing: the idle timeout closes the connection.
			if err := conn.SetReadDeadline(time.Now().Add(idleTimeout + margin)); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(br)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("an idle connection stayed open beyond %v", idleTimeout+margin)
			}
			if len(rest) > 0 {
				t.Errorf("unexpected bytes on an idle connection: %q", rest)
			}
		})

		t.Run("a huge Content-Length is refused without waiting for the body", func(t *testing.T) {
			t.Parallel()
			conn := dial(t, sb.Addr)
			if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n"+describeForm); err != nil {
				t.Fatal(err)
			}
			// Had the server waited for the body, the read timeout would
			// have ended it: a 404 for the unreadable body, not a 413.
			if err := conn.SetReadDeadline(time.Now().Add(readTimeout + margin)); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			wantXMLError(t, rawAnswer{status: res.StatusCode, header: res.Header, body: body}, 413, "RequestEntityTooLarge", "")
		})

	})

	// After all of it, the servers still answer.
	wantDescribe(t, c.post(describeForm))
	wantDescribe(t, cb.post(describeForm))
}

// TestHostileForms: forms no SDK sends get the AWS answer SPEC §2–§3 give,
// never a 500 or a hang.
func TestHostileForms(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newRawClient(t, s.Addr)
	c.hc.Timeout = 20 * time.Second // a hang fails the test instead of the run

	const (
		create = "Action=CreateCacheSecurityGroup&Version=2015-02-02"
		add    = "Action=AddTagsToResource&Version=2015-02-02&ResourceName=arn%3Aaws%3Aelasticache%3Aus-east-1%3A000000000000%3Asecuritygroup%3Adefault"
		remove = "Action=RemoveTagsFromResource&Version=2015-02-02&ResourceName=arn%3Aaws%3Aelasticache%3Aus-east-1%3A000000000000%3Asecuritygroup%3Adefault"
		list   = "Action=ListTagsForResource&Version=2015-02-02&ResourceName=arn%3Aaws%3Aelasticache%3Aus-east-1%3A000000000000%3Asecuritygroup%3A"
	)
	ipv := func(param string) func(*testing.T, rawAnswer) {
		return func(t *testing.T, a rawAnswer) {
			t.Helper()
			wantXMLError(t, a, 400, "InvalidParameterValue", "")
			if e := parseError(t, a); !strings.Contains(e.Error.Message, param) {
				t.Errorf("Message = %q, want it to name %s", e.Error.Message, param)
			}
		}
	}
	malformed := func(t *testing.T, a rawAnswer) {
		t.Helper()
		wantXMLError(t, a, 404, "MalformedQueryString", "")
	}
	ok := func(t *testing.T, a rawAnswer) {
		t.Helper()
		if a.status != http.StatusOK {
			t.Fatalf("HTTP %d, want 200:\n%.2000s", a.status, a.body)
		}
		var r struct {
			RequestID string `xml:"ResponseMetadata>RequestId"`
		}
		if err := xml.Unmarshal(a.body, &r); err != nil {
			t.Fatalf("body is not XML (%v):\n%.2000s", err, a.body)
		}
		wantXMLHeaders(t, a, r.RequestID)
	}

	many := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			b.WriteString(f(i))
		}
		return b.String()
	}

	for _, tc := range []struct {
		name  string
		form  string
		check func(*testing.T, rawAnswer)
	}{
		// Huge and sparse list indices. Memory is TestHostileIndicesMemory's.
		{"index MaxInt32", add + "&Tags.Tag.2147483647.Key=top", ok},
		{"indices 1 and 2,000,000,000", add + "&Tags.Tag.1.Key=first&Tags.Tag.2000000000.Key=second&Tags.Tag.2000000000.Value=v", ok},
		{"index MaxInt32 + 1", add + "&Tags.Tag.2147483648.Key=k", ipv("Tags.Tag.2147483648.Key")},
		{"20-digit index", add + "&Tags.Tag.99999999999999999999.Key=k", ipv("Tags.Tag.99999999999999999999.Key")},
		{"20-digit index of a string list", remove + "&TagKeys.member.18446744073709551617=k", ipv("TagKeys.member.18446744073709551617")},
		{"index of leading zeros", add + "&Tags.Tag.0000000001.Key=zeros", ok},
		{"index 0", add + "&Tags.Tag.0.Key=k", ipv("Tags.Tag.0.Key")},

		// Text XML cannot carry, percent-encoded or raw in the body.
		{"name not UTF-8", create + "&CacheSecurityGroupName=a%FFb&Description=d", ipv("CacheSecurityGroupName")},
		{"name with NUL", create + "&CacheSecurityGroupName=a%00b&Description=d", ipv("CacheSecurityGroupName")},
		{"raw NUL in the body", create + "&CacheSecurityGroupName=g&Description=a\x00b", ipv("Description")},
		{"raw invalid UTF-8 in the body", create + "&CacheSecurityGroupName=g&Description=a\xc3", ipv("Description")},
		{"truncated UTF-8 sequence", create + "&CacheSecurityGroupName=g&Description=%e2%82", ipv("Description")},
		{"tag key not UTF-8", add + "&Tags.Tag.1.Key=%C3", ipv("Tags.Tag.1.Key")},
		{"tag value with NUL", add + "&Tags.Tag.1.Key=k&Tags.Tag.7.Value=v%00", ipv("Tags.Tag.7.Value")},
		{"tag key a lone surrogate", create + "&CacheSecurityGroupName=g&Description=d&Tags.Tag.3.Key=%ED%A0%80", ipv("Tags.Tag.3.Key")},
		{"TagKeys member U+FFFE", remove + "&TagKeys.member.2=%EF%BF%BE", ipv("TagKeys.member.2")},
		{"ResourceName with NUL", "Action=ListTagsForResource&Version=2015-02-02&ResourceName=arn%00", ipv("ResourceName")},
		{"Marker not UTF-8", describeForm + "&Marker=%FF", ipv("Marker")},
		{"Action with NUL", "Action=Describe%00&Version=2015-02-02", func(t *testing.T, a rawAnswer) {
			wantXMLError(t, a, 400, "InvalidAction", "")
		}},
		{"Version not UTF-8", "Action=DescribeCacheSecurityGroups&Version=%FF%00", func(t *testing.T, a rawAnswer) {
			wantXMLError(t, a, 400, "InvalidParameterValue", "")
		}},

		// 10,000 parameters.
		{"10,000 unknown parameters", describeForm + many(10000, func(i int) string { return fmt.Sprintf("&Unknown%d=x", i) }), ok},
		{"10,000 TagKeys", remove + many(10000, func(i int) string { return fmt.Sprintf("&TagKeys.member.%d=k%d", i, i) }),
			func(t *testing.T, a rawAnswer) { wantXMLError(t, a, 404, "TagNotFound", "") }},
		{"10,000 tags", add + many(10000, func(i int) string { return fmt.Sprintf("&Tags.Tag.%d.Key=k%d", i, i) }),
			func(t *testing.T, a rawAnswer) {
				wantXMLError(t, a, 400, "TagQuotaPerResourceExceeded", "The maximum number of tags permitted on a resource is 50.")
			}},
		{"10,000 empty pairs", describeForm + strings.Repeat("&", 10000), ok},
		{"one unknown key 10,000 times", describeForm + strings.Repeat("&Unknown=1", 10000), ipv("Unknown")},

		// Repeated keys.
		{"tag key twice", add + "&Tags.Tag.1.Key=a&Tags.Tag.1.Key=b", ipv("Tags.Tag.1.Key")},
		{"same index spelled twice", add + "&Tags.Tag.1.Key=a&Tags.Tag.01.Key=b", ipv("Tags.Tag.1.Key")},
		{"TagKeys member twice", remove + "&TagKeys.member.1=a&TagKeys.member.001=a", ipv("TagKeys.member.1")},
		{"name twice, once percent-encoded", create + "&CacheSecurityGroupName=a&Cache%53ecurityGroupName=b&Description=d", ipv("CacheSecurityGroupName")},
		{"Version twice, same value", describeForm + "&Version=2015-02-02", ipv("Version")},

		// Percent-encoding that cannot be decoded.
		{"a lone %", "%", malformed},
		{"%%", describeForm + "&CacheSecurityGroupName=%%", malformed},
		{"%zz", describeForm + "&Marker=%zz", malformed},
		{"truncated escape at the end", describeForm + "&Marker=%e2%8", malformed},
		{"escape in a key", describeForm + "&%G1=1", malformed},
		{"100 KiB of %", strings.Repeat("%", 100<<10), malformed},
		{"100 KiB of % after a valid form", describeForm + "&Marker=" + strings.Repeat("%", 100<<10), malformed},
		{"malformed after a duplicate", describeForm + "&Version=2015-02-02&x=%", malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, c.post(tc.form))
		})
	}

	t.Run("the tags of huge and sparse indices were stored", func(t *testing.T) {
		var r struct {
			Tags []struct{ Key, Value string } `xml:"ListTagsForResourceResult>TagList>Tag"`
		}
		a := c.post(list + "default")
		if err := xml.Unmarshal(a.body, &r); err != nil || a.status != http.StatusOK {
			t.Fatalf("HTTP %d, %v:\n%s", a.status, err, a.body)
		}
		got := fmt.Sprint(r.Tags)
		// Added by the cases above; ListTagsForResource answers in key order.
		if want := "[{first } {second v} {top } {zeros }]"; got != want {
			t.Errorf("tags = %s, want %s", got, want)
		}
	})

	t.Run("GET with undecodable query", func(t *testing.T) {
		for _, q := range []string{describeForm + "&%zz", describeForm + "&Marker=%", "%%%"} {
			malformed(t, c.get("/", q))
		}
		ipv("CacheSecurityGroupName")(t, c.get("/", describeForm+"&CacheSecurityGroupName=%00"))
	})

	t.Run("body of 1 MiB + 1", func(t *testing.T) {
		// The limit to the byte, with the length known and chunked; the
		// length-known 1 MiB and a chunked body far over are TestProtocol's.
		prefix := describeForm + "&Pad="
		at := prefix + strings.Repeat("x", 1<<20-len(prefix))
		wantXMLError(t, c.post(at+"x"), 413, "RequestEntityTooLarge", "")
		chunked := func(form string) rawAnswer {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.base+"/", io.MultiReader(strings.NewReader(form)))
			if err != nil {
				t.Fatal(err)
			}
			return c.do(req)
		}
		wantXMLError(t, chunked(at+"x"), 413, "RequestEntityTooLarge", "")
		wantDescribe(t, chunked(at))
	})

	t.Run("headers over 64 KiB", func(t *testing.T) {
		conn := dial(t, s.Addr)
		// net/http allows MaxHeaderBytes plus 4 KiB of slack; twice the
		// limit is over by any count.
		go io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("p", 128<<10)+"\r\nContent-Length: 0\r\n\r\n")
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("HTTP %d, want 431", res.StatusCode)
		}
		wantDescribe(t, c.post(describeForm)) // and everyone else is served
	})

	t.Run("the server still serves", func(t *testing.T) {
		wantDescribe(t, c.post(describeForm))
	})
}

// parseError reads an error answer's envelope.
func parseError(tb testing.TB, a rawAnswer) xmlErrorResponse {
	tb.Helper()
	var e xmlErrorResponse
	if err := xml.Unmarshal(a.body, &e); err != nil {
		tb.Fatalf("HTTP %d, body is not XML (%v):\n%.2000s", a.status, err, a.body)
	}
	return e
}

// TestHostileIndicesMemory: list indices cost nothing in proportion to
// their value. A burst of requests with indices near MaxInt32 must allocate
// far less than a single index-sized allocation would (2e9 elements of even
// one byte). Not parallel: it measures the whole process's allocation, and
// top-level tests that call t.Parallel only start once the sequential ones
// are done.
func TestHostileIndicesMemory(t *testing.T) {
	s := startServer(t)
	c := newRawClient(t, s.Addr)
	const arn = "arn%3Aaws%3Aelasticache%3Aus-east-1%3A000000000000%3Asecuritygroup%3Adefault"
	forms := []struct {
		form   string
		status int
	}{
		{"Action=AddTagsToResource&Version=2015-02-02&ResourceName=" + arn + "&Tags.Tag.2147483647.Key=a&Tags.Tag.2147483646.Value=b&Tags.Tag.2147483646.Key=b", 200},
		{"Action=AddTagsToResource&Version=2015-02-02&ResourceName=" + arn + "&Tags.Tag.1.Key=c&Tags.Tag.2000000000.Key=d", 200},
		{"Action=RemoveTagsFromResource&Version=2015-02-02&ResourceName=" + arn + "&TagKeys.member.2147483647=nope&TagKeys.member.1073741824=nope2", 404},
		{"Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=g&Description=d&Tags.Tag.99999999999999999999.Key=k", 400},
		{"Action=DescribeCacheSecurityGroups&Version=2015-02-02&Tags.Tag.2147483647.Key=unknown&MaxRecords=20", 200},
	}
	send := func() {
		for _, f := range forms {
			if a := c.post(f.form); a.status != f.status {
				t.Fatalf("HTTP %d, want %d:\n%s", a.status, f.status, a.body)
			}
		}
	}
	send() // warm up: connections, pools, lazily built tables

	const rounds = 40
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range rounds {
		send()
	}
	runtime.ReadMemStats(&after)
	n := uint64(rounds * len(forms))
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d requests with indices up to 2147483647 allocated %d KiB in all, %d KiB per request (client and server)",
		n, allocated>>10, allocated/n>>10)
	// One index-sized allocation is at least 2e9 bytes; the whole burst
	// must stay far below even that. The requests take some 15 KiB each,
	// client included (40 under -race): 256 MiB leaves room for any
	// instrumentation and still catches one bit per index.
	if limit := uint64(256 << 20); allocated > limit {
		t.Errorf("%d requests allocated %d MiB, want under %d MiB: something grows with an index", n, allocated>>20, limit>>20)
	}
}

// panicky is the real service, except that deleting the group "panic"
// panics, as a bug would.
type panicky struct{ *service.ElastiCache }

func (p panicky) DeleteCacheSecurityGroup(ctx context.Context, in *api.DeleteCacheSecurityGroupInput) (*api.DeleteCacheSecurityGroupOutput, error) {
	if in.CacheSecurityGroupName != nil && *in.CacheSecurityGroupName == "panic" {
		var m map[string]int
		m["boom"]++ // a nil map write: a runtime panic, not a deliberate one
	}
	return p.ElastiCache.DeleteCacheSecurityGroup(ctx, in)
}

// TestHostilePanic: a panic in an operation is answered InternalFailure 500
// with a request ID, logged at error level with that ID, and the server
// keeps serving. server.Main builds its own service, so the handler is
// served here by a net/http server over the real service and store.
func TestHostilePanic(t *testing.T) {
	t.Parallel()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "elasticache.db"), bolt.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := service.Open(t.Context(), store, newFixedClock(), service.Config{CacheSecurityGroupQuota: 50})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		Handler:           api.NewHandler(panicky{svc}, api.HandlerConfig{Logger: logger}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go hs.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	c := newRawClient(t, ln.Addr().String())

	create := "Action=CreateCacheSecurityGroup&Version=2015-02-02&Description=d&CacheSecurityGroupName="
	if a := c.post(create + "panic"); a.status != http.StatusOK {
		t.Fatalf("create: HTTP %d:\n%s", a.status, a.body)
	}
	a := c.post("Action=DeleteCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=panic")
	wantXMLError(t, a, 500, "InternalFailure", "")
	if strings.Contains(string(a.body), "nil map") || strings.Contains(string(a.body), "goroutine") {
		t.Errorf("the panic's details reached the client:\n%s", a.body)
	}
	id := a.header.Get("x-amzn-RequestId")

	var logged bool
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["msg"] == "panic serving request" && rec["level"] == "ERROR" && rec["request_id"] == id {
			logged = true
			if s, _ := rec["stack"].(string); !strings.Contains(s, "DeleteCacheSecurityGroup") {
				t.Errorf("the logged stack does not show the panicking operation:\n%s", s)
			}
		}
	}
	if !logged {
		t.Errorf("no error-level log of the panic with request_id %s", id)
	}

	// The server keeps serving, on the same connection and new ones; the
	// panicking request changed nothing.
	d := wantDescribe(t, c.post(describeForm+"&CacheSecurityGroupName=panic"))
	if len(d.Groups) != 1 {
		t.Errorf("groups = %+v, want panic, still there", d.Groups)
	}
	c2 := newRawClient(t, ln.Addr().String())
	if a := c2.post(create + "after"); a.status != http.StatusOK {
		t.Fatalf("create after the panic: HTTP %d:\n%s", a.status, a.body)
	}
}
