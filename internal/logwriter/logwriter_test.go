package logwriter_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/logwriter"
)

// sink is an io.Writer that records what reaches it and can be made to
// block or fail.
type sink struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	fail   error
	gate   chan struct{} // when set, each Write waits for a receive
}

func (s *sink) Write(p []byte) (int, error) {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.fail != nil {
		return 0, s.fail
	}
	return s.b.Write(p)
}

func (s *sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until cond holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		runtime.Gosched()
	}
}

// newWriter returns a Writer on out flushed only by the returned tick
// channel, closed at cleanup.
func newWriter(t *testing.T, out *sink, size int) (*logwriter.Writer, chan time.Time) {
	t.Helper()
	tick := make(chan time.Time)
	w := logwriter.New(out, logwriter.Config{BufferSize: size, Tick: tick})
	t.Cleanup(func() { w.Close() })
	return w, tick
}

func write(t *testing.T, w *logwriter.Writer, s string) {
	t.Helper()
	if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

func TestBufferedUntilTick(t *testing.T) {
	t.Parallel()
	out := &sink{}
	w, tick := newWriter(t, out, 1024)
	write(t, w, "one\n")
	write(t, w, "two\n")
	if got := out.String(); got != "" {
		t.Fatalf("before any flush, out = %q, want nothing", got)
	}
	tick <- time.Now()
	waitFor(t, "lines written after a tick", func() bool { return out.String() == "one\ntwo\n" })
	write(t, w, "three\n")
	tick <- time.Now()
	waitFor(t, "the next line after the next tick", func() bool { return out.String() == "one\ntwo\nthree\n" })
}

func TestFullBufferIsWrittenWithoutTick(t *testing.T) {
	t.Parallel()
	out := &sink{}
	w, _ := newWriter(t, out, 20)
	write(t, w, "0123456789\n") // 11 bytes
	write(t, w, "abcdefgh\n")   // 20: full but fits
	if got := out.String(); got != "" {
		t.Fatalf("out = %q before the buffer overflowed", got)
	}
	write(t, w, "x\n") // does not fit: the full buffer goes out
	waitFor(t, "the full buffer written", func() bool { return out.String() == "0123456789\nabcdefgh\n" })
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "0123456789\nabcdefgh\nx\n" {
		t.Errorf("after Flush, out = %q", got)
	}
}

func TestLargeWriteGoesThroughInOrder(t *testing.T) {
	t.Parallel()
	out := &sink{}
	w, _ := newWriter(t, out, 16)
	write(t, w, "small\n")
	big := strings.Repeat("B", 40) + "\n"
	write(t, w, big)
	if got := out.String(); got != "small\n"+big {
		t.Errorf("out = %q, want the buffered line, then the large one", got)
	}
}

func TestWarnFlushesAtOnce(t *testing.T) {
	t.Parallel()
	out := &sink{}
	w, _ := newWriter(t, out, 4096)
	h := slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	log := slog.New(logwriter.Handler(h, w, slog.LevelWarn)).With("component", "test").WithGroup("g")
	log.Info("request", "n", 1)
	if got := out.String(); got != "" {
		t.Fatalf("an Info line reached out at once: %q", got)
	}
	log.Warn("slow", "n", 2)
	want := "level=INFO msg=request component=test g.n=1\nlevel=WARN msg=slow component=test g.n=2\n"
	if got := out.String(); got != want {
		t.Errorf("after Warn returned, out =\n%s\nwant\n%s", got, want)
	}
	log.Error("failed")
	if got := out.String(); !strings.HasSuffix(got, "level=ERROR msg=failed component=test\n") {
		t.Errorf("after Error returned, out ends %q", got)
	}
}

func TestCloseFlushesAndLaterWritesGoThrough(t *testing.T) {
	t.Parallel()
	out := &sink{}
	w, _ := newWriter(t, out, 1024)
	write(t, w, "before\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "before\n" {
		t.Fatalf("after Close, out = %q", got)
	}
	write(t, w, "after\n")
	if got := out.String(); got != "before\nafter\n" {
		t.Errorf("a Write after Close: out = %q", got)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestErrorsReportedByFlushAndClose(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk full")
	out := &sink{fail: boom}
	w, _ := newWriter(t, out, 1024)
	write(t, w, "line\n")
	if err := w.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush = %v, want %v", err, boom)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Errorf("Close = %v, want %v", err, boom)
	}
}

// TestBoundedWhenOutBlocks: with the underlying writer stuck, the Writer
// takes two buffers' worth and then makes the next Write wait, rather than
// grow; once the writer moves, everything arrives in order.
func TestBoundedWhenOutBlocks(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	out := &sink{gate: gate}
	const size, lineLen, lines = 40, 10, 20 // 4 lines a buffer
	w, _ := newWriter(t, out, size)
	var accepted atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range lines {
			fmt.Fprintf(w, "line %03d\n", i)
			accepted.Add(1)
		}
	}()
	// The first buffer goes out and blocks in out; the second fills; the
	// Write after that must wait inside Write.
	waitFor(t, "a Write waiting for a buffer", func() bool {
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "TestBoundedWhenOutBlocks.func") &&
				strings.Contains(g, "logwriter.(*Writer).Write") && strings.Contains(g, "sync.(*Cond).Wait") {
				return true
			}
		}
		return false
	})
	if got, want := accepted.Load(), int32(2*size/lineLen); got != want {
		t.Errorf("with out blocked, %d Writes were accepted, want %d (two buffers)", got, want)
	}
	close(gate) // unblock every write from now on
	<-done
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range lines {
		fmt.Fprintf(&want, "line %03d\n", i)
	}
	if got := out.String(); got != want.String() {
		t.Errorf("out =\n%s\nwant\n%s", got, want.String())
	}
}

// TestConcurrentWritersKeepLinesWhole runs many writers against a real
// timer and small buffers: every line arrives once, whole, and each
// writer's lines in its order.
func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	t.Parallel()
	out := &sink{}
	w := logwriter.New(out, logwriter.Config{BufferSize: 256, FlushInterval: time.Millisecond})
	const writers, each = 16, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				w.Write([]byte(line(g, i)))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, l := range lines {
		var g int
		if _, err := fmt.Sscanf(l, "writer=%02d ", &g); err != nil || g < 0 || g >= writers {
			t.Fatalf("torn line %q", l)
		}
		if want := line(g, next[g]); l+"\n" != want {
			t.Fatalf("line %q, want %q: out of order or torn", l, want)
		}
		next[g]++
	}
	if len(lines) != writers*each {
		t.Errorf("%d lines, want %d", len(lines), writers*each)
	}
}

// line is writer g's line i, of varying length.
func line(g, i int) string {
	return fmt.Sprintf("writer=%02d seq=%04d %s\n", g, i, strings.Repeat("x", i%50))
}

// BenchmarkSlogText compares slog's text handler writing straight to a
// file, a write(2) per line, with the same handler over a Writer. Run with
// -cpu 2: SetParallelism(8) gives 16 goroutines, the benchmark's
// connection count.
func BenchmarkSlogText(b *testing.B) {
	for _, buffered := range []bool{false, true} {
		name := "Unbuffered"
		if buffered {
			name = "Buffered"
		}
		b.Run(name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var out interface {
				Write([]byte) (int, error)
			} = f
			if buffered {
				w := logwriter.New(f, logwriter.Config{})
				defer w.Close()
				out = w
			}
			log := slog.New(slog.NewTextHandler(out, nil))
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					log.Info("request", "action", "DescribeCacheSecurityGroups", "status", 200,
						"request_id", "6f0e2a7c-3b1d-4e8a-9c55-2d7f10b4a9e1", "duration_ms", 0.412)
				}
			})
		})
	}
}
