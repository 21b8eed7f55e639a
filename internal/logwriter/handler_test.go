package logwriter_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/logwriter"
)

// formats are the two handler pairs: ours and slog's, which ours must
// match byte for byte.
var formats = []struct {
	name string
	fast func(io.Writer, *slog.HandlerOptions) slog.Handler
	slog func(io.Writer, *slog.HandlerOptions) slog.Handler
}{
	{"text", logwriter.NewTextHandler, func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewTextHandler(w, o) }},
	{"json", logwriter.NewJSONHandler, func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewJSONHandler(w, o) }},
}

// sameOutput handles r with both handlers of each format and fails on any
// difference.
func sameOutput(t *testing.T, opts *slog.HandlerOptions, r slog.Record) {
	t.Helper()
	for _, f := range formats {
		var got, want bytes.Buffer
		gotErr := f.fast(&got, opts).Handle(context.Background(), r.Clone())
		wantErr := f.slog(&want, opts).Handle(context.Background(), r.Clone())
		if got.String() != want.String() || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%s:\n got %q (%v)\nwant %q (%v)", f.name, got.String(), gotErr, want.String(), wantErr)
		}
		// The same record as its parts, straight and through the
		// flushing wrapper, as api's handler passes its request lines.
		var attrs []slog.Attr
		r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a); return true })
		w := logwriter.New(io.Discard, logwriter.Config{})
		defer w.Close()
		for _, h := range []slog.Handler{f.fast(&got, opts), logwriter.Handler(f.fast(&got, opts), w, slog.LevelWarn)} {
			got.Reset()
			gotErr = h.(attrsHandler).HandleAttrs(context.Background(), r.Time, r.Level, r.Message, attrs)
			if got.String() != want.String() || (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%s HandleAttrs (%T):\n got %q (%v)\nwant %q (%v)", f.name, h, got.String(), gotErr, want.String(), wantErr)
			}
		}
	}
}

// attrsHandler is the method api's handler looks for.
type attrsHandler interface {
	HandleAttrs(ctx context.Context, t time.Time, level slog.Level, msg string, attrs []slog.Attr) error
}

// strs are strings that exercise quoting and escaping.
var strs = []string{
	"", "request", "DescribeCacheSecurityGroups", "3bb8b765-ea88-4cd0-a1b9-fefc3b8172df", "000000000000",
	"a b", "a=b", `a"b`, `a\b`, "tab\there", "new\nline", "cr\r", "\x00\x01\x1f", "\x7f", "µs", "héllo",
	"\u2028\u2029", "\u00a0nbsp", "\u200bzero-width", "\xff\xfe", "ok\xc3", "日本語", "<html>&amp;", "emoji 🎉", "}{", ",",
}

func TestHandlerMatchesSlog(t *testing.T) {
	t.Parallel()
	locs := []*time.Location{time.UTC, time.FixedZone("", -7*3600-30*60), time.FixedZone("X", 5*3600+45*60)}
	if l, err := time.LoadLocation("Europe/Berlin"); err == nil {
		locs = append(locs, l)
	}
	times := []time.Time{
		{}, time.Date(2026, 11, 23, 14, 54, 22, 853402533, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 1000000, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 5, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Now(), time.Unix(0, 0),
	}
	durations := []time.Duration{0, 1, 999, time.Microsecond, 1500, 6693643, 734951, 118877, time.Millisecond,
		999999999, time.Second, 90 * time.Minute, -5 * time.Millisecond, math.MaxInt64, math.MinInt64}
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2, slog.LevelDebug - 1}

	for _, tm := range times {
		for _, loc := range locs {
			for _, lvl := range levels {
				r := slog.NewRecord(tm.In(loc), lvl, "request", 0)
				r.AddAttrs(slog.String("request_id", "id"), slog.Int("status", 200))
				sameOutput(t, &slog.HandlerOptions{Level: slog.LevelDebug - 4}, r)
			}
		}
	}
	for _, s := range strs {
		for _, d := range durations {
			r := slog.NewRecord(times[1], slog.LevelInfo, s, 0)
			r.AddAttrs(slog.String(s+"k", s), slog.Duration("duration", d), slog.Int64("n", math.MinInt64),
				slog.Uint64("u", math.MaxUint64), slog.Bool("b", true), slog.Bool("f", false))
			sameOutput(t, nil, r)
		}
	}
	// Records the fast path passes to slog: empty keys, other kinds,
	// groups, a LogValuer.
	other := []slog.Attr{
		slog.String("", "empty key"), slog.Float64("f", 0.412), slog.Time("t", times[1]), slog.Any("err", io.EOF),
		slog.Group("g", slog.Int("a", 1)), slog.Any("v", lazy{}), slog.Any("nil", nil), {},
	}
	for _, a := range other {
		r := slog.NewRecord(times[1], slog.LevelInfo, "m", 0)
		r.AddAttrs(slog.String("k", "v"), a)
		sameOutput(t, nil, r)
	}
}

// lazy is a LogValuer.
type lazy struct{}

func (lazy) LogValue() slog.Value { return slog.StringValue("resolved") }

func TestHandlerMatchesSlogRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			switch rng.IntN(4) {
			case 0:
				b.WriteByte(byte(rng.IntN(256)))
			case 1:
				b.WriteRune(rune(rng.IntN(0x3000)))
			default:
				b.WriteByte(byte(' ' + rng.IntN(95)))
			}
		}
		return b.String()
	}
	for range 20000 {
		tm := time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9)).In(time.FixedZone("", (rng.IntN(48)-24)*1800))
		r := slog.NewRecord(tm, slog.LevelInfo, str(), 0)
		for range rng.IntN(8) {
			switch rng.IntN(3) {
			case 0:
				r.AddAttrs(slog.String(str(), str()))
			case 1:
				r.AddAttrs(slog.Duration(str(), time.Duration(rng.Int64N(1<<40))*time.Duration(1-2*rng.IntN(2))))
			default:
				r.AddAttrs(slog.Int(str(), rng.IntN(1000)))
			}
		}
		sameOutput(t, nil, r)
	}
}

// TestHandlerDerived checks that WithAttrs and WithGroup, and options the
// fast path does not handle, give slog's output.
func TestHandlerDerived(t *testing.T) {
	t.Parallel()
	tm := time.Date(2026, 11, 23, 14, 54, 22, 853402533, time.UTC)
	for _, f := range formats {
		var got, want bytes.Buffer
		slog.New(f.fast(&got, nil)).With("component", "x").WithGroup("g").Info("hello", "a", 1)
		slog.New(f.slog(&want, nil)).With("component", "x").WithGroup("g").Info("hello", "a", 1)
		if strip(got.String()) != strip(want.String()) {
			t.Errorf("%s derived: got %q, want %q", f.name, got.String(), want.String())
		}
		opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == "secret" {
				return slog.Attr{}
			}
			return a
		}}
		got.Reset()
		want.Reset()
		r := slog.NewRecord(tm, slog.LevelInfo, "m", 0)
		r.AddAttrs(slog.String("secret", "s"), slog.String("k", "v"))
		_ = f.fast(&got, opts).Handle(context.Background(), r)
		_ = f.slog(&want, opts).Handle(context.Background(), r)
		if got.String() != want.String() {
			t.Errorf("%s ReplaceAttr: got %q, want %q", f.name, got.String(), want.String())
		}
		if h := f.fast(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}); h.Enabled(context.Background(), slog.LevelInfo) ||
			!h.Enabled(context.Background(), slog.LevelWarn) {
			t.Errorf("%s: Enabled does not follow the level", f.name)
		}
	}
}

// strip drops the time, which Logger methods take from the clock.
func strip(s string) string {
	if i := strings.Index(s, "level"); i >= 0 {
		return s[i:]
	}
	return s
}

// BenchmarkAccessLine formats the server's access line, as api's handler
// builds it, with slog's handlers and ours, into a Writer. Run with -cpu 2:
// 16 goroutines, the benchmark's connection count.
func BenchmarkAccessLine(b *testing.B) {
	for _, f := range formats {
		for _, impl := range []string{"slog", "fast", "attrs"} {
			b.Run(f.name+"/"+impl, func(b *testing.B) {
				w := logwriter.New(io.Discard, logwriter.Config{})
				defer w.Close()
				h := f.slog(w, nil)
				if impl != "slog" {
					h = f.fast(w, nil)
				}
				b.SetParallelism(8)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					// HandleAttrs, as api's handler calls it, with the
					// attributes in memory of the request's.
					attrs := new([7]slog.Attr)
					for impl == "attrs" && pb.Next() {
						a := append(attrs[:0],
							slog.String("request_id", "3bb8b765-ea88-4cd0-a1b9-fefc3b8172df"),
							slog.String("account", "000000000000"),
							slog.String("region", "us-east-1"),
							slog.String("action", "DescribeCacheSecurityGroups"),
							slog.Int("status", 200),
							slog.Duration("duration", 412345*time.Nanosecond),
						)
						_ = h.(attrsHandler).HandleAttrs(context.Background(), time.Now(), slog.LevelInfo, "request", a)
					}
					for pb.Next() {
						rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
						rec.AddAttrs(
							slog.String("request_id", "3bb8b765-ea88-4cd0-a1b9-fefc3b8172df"),
							slog.String("account", "000000000000"),
							slog.String("region", "us-east-1"),
							slog.String("action", "DescribeCacheSecurityGroups"),
							slog.Int("status", 200),
						)
						rec.AddAttrs(slog.Duration("duration", 412345*time.Nanosecond))
						_ = h.Handle(context.Background(), rec)
					}
				})
			})
		}
	}
}
