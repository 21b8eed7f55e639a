package logwriter

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// NewTextHandler returns a slog.Handler whose output is byte for byte that
// of slog.NewTextHandler(w, opts). Records of the access log's kind, whose
// attributes are all strings, integers, booleans and durations, it formats
// itself; everything else it hands to slog's own handler. Why: slog's
// general path (attribute resolution, group bookkeeping, deferred panic
// recovery, a time format per line) cost about 1.5 µs of a 30 µs request,
// the largest single cost of the server's own. With opts.ReplaceAttr or
// opts.AddSource set, nothing is formatted here: it is slog's handler.
func NewTextHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return newHandler(w, opts, false)
}

// NewJSONHandler is NewTextHandler for slog.NewJSONHandler's format.
func NewJSONHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return newHandler(w, opts, true)
}

func newHandler(w io.Writer, opts *slog.HandlerOptions, json bool) slog.Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	// slog's handler serialises its writes with its own lock. Writes from
	// here must be serialised with those, so both go through one lock,
	// unless w is a Writer, which keeps each Write whole by itself.
	if _, ok := w.(*Writer); !ok {
		w = &lockedWriter{w: w}
	}
	var slow slog.Handler
	if json {
		slow = slog.NewJSONHandler(w, opts)
	} else {
		slow = slog.NewTextHandler(w, opts)
	}
	if opts.ReplaceAttr != nil || opts.AddSource {
		return slow
	}
	level := opts.Level
	if level == nil {
		level = slog.LevelInfo
	}
	return &fastHandler{w: w, json: json, level: level, slow: slow}
}

// fastHandler formats simple records itself and the others through slow.
type fastHandler struct {
	w     io.Writer
	json  bool
	level slog.Leveler
	slow  slog.Handler
	// clock is the formatted second of the last record's time: a busy
	// server logs many lines per second, and formatting a date costs more
	// than the rest of the line.
	clock atomic.Pointer[formattedSecond]
}

// formattedSecond is one second of one location, formatted.
type formattedSecond struct {
	unix int64
	loc  *time.Location
	date []byte // "2006-01-02T15:04:05"
	zone []byte // "Z" or "-07:00"
}

// linePool holds line buffers: a line is built whole before one Write.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledLine bounds the buffers returned to linePool.
const maxPooledLine = 16 << 10

func (h *fastHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *fastHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	// Derived loggers (none on the request path) are slog's.
	return h.slow.WithAttrs(attrs)
}

func (h *fastHandler) WithGroup(name string) slog.Handler {
	return h.slow.WithGroup(name)
}

// maxFastAttrs is the most attributes a record may have for the fast
// path, which gathers them in an array on the stack.
const maxFastAttrs = 16

func (h *fastHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.NumAttrs() > maxFastAttrs {
		return h.slow.Handle(ctx, r)
	}
	var buf [maxFastAttrs]slog.Attr
	attrs := buf[:0]
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	if !simple(r.Time, r.Level, attrs) {
		return h.slow.Handle(ctx, r)
	}
	return h.write(r.Time, r.Level, r.Message, attrs)
}

// HandleAttrs handles the record slog.NewRecord(t, level, msg, 0) with
// attrs added, without building it: building a slog.Record copies the
// attributes, allocates past its fifth, and Handle copies them out again.
// api's handler writes its request lines this way when the logger's handler
// has this method. attrs is not kept.
func (h *fastHandler) HandleAttrs(ctx context.Context, t time.Time, level slog.Level, msg string, attrs []slog.Attr) error {
	if !simple(t, level, attrs) {
		return h.slow.Handle(ctx, newRecord(t, level, msg, attrs))
	}
	return h.write(t, level, msg, attrs)
}

// newRecord builds the slog.Record HandleAttrs stands for.
func newRecord(t time.Time, level slog.Level, msg string, attrs []slog.Attr) slog.Record {
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

// write formats a simple record into a pooled buffer and writes it whole.
func (h *fastHandler) write(t time.Time, level slog.Level, msg string, attrs []slog.Attr) error {
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	if h.json {
		b = h.appendJSON(b, t, level, msg, attrs)
	} else {
		b = h.appendText(b, t, level, msg, attrs)
	}
	_, err := h.w.Write(b)
	if cap(b) <= maxPooledLine {
		*bp = b
		linePool.Put(bp)
	}
	return err
}

// simple reports whether a record is one that the fast path formats
// exactly as slog does: a standard level, a time in years 0-9999 (or none),
// and only attributes with a non-empty key and a value of a kind slog
// formats without calling out (no groups, no LogValuers, no arbitrary
// values).
func simple(t time.Time, level slog.Level, attrs []slog.Attr) bool {
	switch level {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
	default:
		return false
	}
	if !t.IsZero() {
		if y := t.Year(); y < 0 || y > 9999 {
			return false
		}
	}
	for _, a := range attrs {
		switch a.Value.Kind() {
		case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindBool, slog.KindDuration:
			if a.Key == "" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (h *fastHandler) appendText(b []byte, t time.Time, level slog.Level, msg string, attrs []slog.Attr) []byte {
	if !t.IsZero() {
		b = append(b, "time="...)
		b = h.appendTime(b, t, false)
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b = append(b, level.String()...)
	b = append(b, " msg="...)
	b = appendTextString(b, msg)
	for _, a := range attrs {
		b = append(b, ' ')
		b = appendTextString(b, a.Key)
		b = append(b, '=')
		v := a.Value
		switch v.Kind() {
		case slog.KindString:
			b = appendTextString(b, v.String())
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindUint64:
			b = strconv.AppendUint(b, v.Uint64(), 10)
		case slog.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		case slog.KindDuration:
			// Unquoted, as slog writes it: a duration's text never needs it.
			b = appendDuration(b, v.Duration())
		}
	}
	return append(b, '\n')
}

func (h *fastHandler) appendJSON(b []byte, t time.Time, level slog.Level, msg string, attrs []slog.Attr) []byte {
	b = append(b, '{')
	if !t.IsZero() {
		b = append(b, `"time":"`...)
		b = h.appendTime(b, t, true)
		b = append(b, `",`...)
	}
	b = append(b, `"level":"`...)
	b = append(b, level.String()...)
	b = append(b, `","msg":"`...)
	b = appendJSONString(b, msg)
	b = append(b, '"')
	for _, a := range attrs {
		b = append(b, `,"`...)
		b = appendJSONString(b, a.Key)
		b = append(b, `":`...)
		v := a.Value
		switch v.Kind() {
		case slog.KindString:
			b = append(b, '"')
			b = appendJSONString(b, v.String())
			b = append(b, '"')
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindUint64:
			b = strconv.AppendUint(b, v.Uint64(), 10)
		case slog.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		case slog.KindDuration:
			// Nanoseconds, as json.Marshal and slog write a duration.
			b = strconv.AppendInt(b, int64(v.Duration()), 10)
		}
	}
	return append(b, "}\n"...)
}

// appendTime appends t as slog writes it: RFC 3339 with milliseconds in
// text, with nanoseconds, trailing zeros trimmed, in JSON. The date and
// zone of t's second come from the cache when it holds that second.
func (h *fastHandler) appendTime(b []byte, t time.Time, nanos bool) []byte {
	unix, loc := t.Unix(), t.Location()
	s := h.clock.Load()
	if s == nil || s.unix != unix || s.loc != loc {
		f := t.AppendFormat(nil, "2006-01-02T15:04:05Z07:00")
		s = &formattedSecond{unix: unix, loc: loc, date: f[:19], zone: f[19:]}
		h.clock.Store(s)
	}
	b = append(b, s.date...)
	ns := t.Nanosecond()
	switch {
	case !nanos:
		ms := ns / 1e6
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	case ns != 0:
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, s.zone...)
}

// appendDuration appends d.String(), which is inlined so that its string
// stays on the stack.
func appendDuration(b []byte, d time.Duration) []byte {
	return append(b, d.String()...)
}

// appendTextString appends s as slog's text handler does: bare when it
// can, else Go-quoted.
func appendTextString(b []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// needsQuoting is slog's own rule: empty, or a space, '=', a character
// that JSON would escape (a backslash excepted), invalid UTF-8, or a
// non-printing or space rune. The ASCII prefix, all of an access line's
// strings, is checked a table lookup per byte.
func needsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	i := 0
	for i < len(s) && textBare[s[i]] {
		i++
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !textBare[c] {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// textBare holds true for the ASCII characters slog's text handler writes
// unquoted: the JSON-safe ones and '\\', but not ' ' or '='. Bytes from
// 0x80 up are false: needsQuoting decodes those.
var textBare = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c != ' ' && c != '=' && (jsonSafe[c] || c == '\\')
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s escaped as slog's JSON handler escapes it
// (no HTML escaping; U+2028 and U+2029 escaped; invalid UTF-8 as U+FFFD),
// without the quotes.
func appendJSONString(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, '\\')
			switch c {
			case '\\', '"':
				b = append(b, c)
			case '\n':
				b = append(b, 'n')
			case '\r':
				b = append(b, 'r')
			case '\t':
				b = append(b, 't')
			default:
				b = append(b, 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// jsonSafe holds true for the ASCII characters a JSON string may hold
// unescaped: all but the control characters below 0x20, '"' and '\\'
// (slog's safeSet, DEL included).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// lockedWriter serialises the writes of the fast path and slog's handler
// to a writer that does not do so itself.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
