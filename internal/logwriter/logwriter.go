package logwriter

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults for the zero Config.
const (
	// DefaultFlushInterval bounds how long an Info line waits in memory: a
	// tail -f shows it promptly, and a crash loses at most this much.
	DefaultFlushInterval = 5 * time.Millisecond
	// DefaultBufferSize holds a few hundred access-log lines: large enough
	// that a busy server writes once per interval, small enough not to
	// matter in the memory budget (the Writer holds two).
	DefaultBufferSize = 64 << 10
)

// Config holds New's optional settings; the zero value is the production
// setting.
type Config struct {
	// FlushInterval is how often buffered output is written. Zero means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// BufferSize is the size of each of the two buffers. Zero means
	// DefaultBufferSize.
	BufferSize int
	// Tick, when set, replaces the flush timer: every receive flushes. Tests
	// use it to flush exactly when they want.
	Tick <-chan time.Time
}

// Writer is an io.Writer that buffers what is written to it and passes it
// on to the underlying writer in order, from its own goroutine, every
// FlushInterval or as soon as a buffer fills. It is safe for concurrent
// use, and each Write's bytes stay together: one Write is one log line.
//
// Memory is bounded: two buffers of BufferSize, one filling while the other
// is written. A Write waits only when both are full, that is when lines
// arrive faster than the underlying writer takes them; a Write larger than
// a buffer is written through, in order, by the caller. Close must be
// called: it writes what is left and stops the goroutine.
type Writer struct {
	out      io.Writer
	size     int
	tick     <-chan time.Time
	stopTick func()

	// mu guards the buffers. Of the two, one is always buf (filling); the
	// other is spare (empty, at home), full (waiting for the goroutine) or
	// out being written, when both spare and full are nil. Only one buffer
	// is ever out, so writes to out happen one at a time and in order.
	mu     sync.Mutex
	home   *sync.Cond // signalled when the other buffer comes home
	buf    []byte
	spare  []byte
	full   []byte
	err    error // the first error of out, reported by Flush and Close
	closed bool

	kick chan struct{} // buffered 1: full is set
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the goroutine has returned
}

// New returns a Writer that writes to out. Call Close when done.
func New(out io.Writer, cfg Config) *Writer {
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	w := &Writer{
		out:      out,
		size:     cfg.BufferSize,
		tick:     cfg.Tick,
		stopTick: func() {},
		buf:      make([]byte, 0, cfg.BufferSize),
		spare:    make([]byte, 0, cfg.BufferSize),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	w.home = sync.NewCond(&w.mu)
	if w.tick == nil {
		t := time.NewTicker(cfg.FlushInterval)
		w.tick, w.stopTick = t.C, t.Stop
	}
	go w.loop()
	return w
}

// Write buffers p. It does not fail: an error of the underlying writer is
// reported by Flush and Close. After Close, p is written through.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed || len(p) > w.size {
		// Through, after everything buffered: wait for the other buffer,
		// then write ours and p while holding the lock, so that nothing
		// overtakes them.
		w.waitHome()
		w.writeLocked(w.buf)
		w.buf = w.buf[:0]
		w.writeLocked(p)
		w.mu.Unlock()
		return len(p), nil
	}
	for len(w.buf)+len(p) > w.size {
		if w.spare == nil {
			w.home.Wait() // both full: wait for the goroutine's write
			continue
		}
		w.full, w.buf, w.spare = w.buf, w.spare, nil
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	w.buf = append(w.buf, p...)
	w.mu.Unlock()
	return len(p), nil
}

// Flush writes everything written so far to the underlying writer before it
// returns, and reports the first error the underlying writer returned.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waitHome()
	w.writeLocked(w.buf)
	w.buf = w.buf[:0]
	return w.err
}

// Close flushes, stops the goroutine and reports the first error of the
// underlying writer. Writes after Close go straight to the underlying
// writer; a second Close only flushes.
func (w *Writer) Close() error {
	w.mu.Lock()
	first := !w.closed
	w.closed = true
	w.mu.Unlock()
	if first {
		close(w.stop)
		<-w.done
		w.stopTick()
	}
	return w.Flush()
}

// waitHome returns, with mu held, once the other buffer is home: written
// and empty. A full buffer still waiting for the goroutine (which may have
// stopped) it writes itself.
func (w *Writer) waitHome() {
	for w.spare == nil {
		if w.full != nil {
			b := w.full
			w.full = nil
			w.writeLocked(b)
			w.spare = b[:0]
			w.home.Broadcast()
			continue
		}
		w.home.Wait()
	}
}

// writeLocked writes b to out with mu held, when no buffer is out.
func (w *Writer) writeLocked(b []byte) {
	if len(b) == 0 {
		return
	}
	if _, err := w.out.Write(b); err != nil && w.err == nil {
		w.err = err
	}
}

// loop writes the full buffer when Write hands one over, and the filling
// one at every tick, without holding mu while it writes.
func (w *Writer) loop() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		case <-w.tick:
		}
		w.mu.Lock()
		var b []byte
		switch {
		case w.full != nil:
			b, w.full = w.full, nil
		case len(w.buf) > 0 && w.spare != nil:
			b, w.buf, w.spare = w.buf, w.spare, nil
		}
		w.mu.Unlock()
		if b == nil {
			continue
		}
		_, err := w.out.Write(b)
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
		}
		w.spare = b[:0]
		w.home.Broadcast()
		w.mu.Unlock()
	}
}

// Handler wraps h, which writes to w, so that a record at level or above
// reaches w's underlying writer before Handle returns: warnings and errors
// are not left in memory for a crash to lose, and show at once.
func Handler(h slog.Handler, w *Writer, level slog.Leveler) slog.Handler {
	return &flushHandler{h: h, w: w, level: level}
}

type flushHandler struct {
	h     slog.Handler
	w     *Writer
	level slog.Leveler
}

func (f *flushHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return f.h.Enabled(ctx, l)
}

func (f *flushHandler) Handle(ctx context.Context, r slog.Record) error {
	err := f.h.Handle(ctx, r)
	if r.Level >= f.level.Level() {
		if ferr := f.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (f *flushHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &flushHandler{h: f.h.WithAttrs(attrs), w: f.w, level: f.level}
}

func (f *flushHandler) WithGroup(name string) slog.Handler {
	return &flushHandler{h: f.h.WithGroup(name), w: f.w, level: f.level}
}
