package schema

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The runtime of the record codecs that recordgen generates
// (service/records_gen.go): written once for every kind. The encoder
// writes exactly what json.Marshal writes; the decoder reads exactly that
// subset of JSON (no whitespace, no nulls but for nil slices, maps and
// pointers, integers without fraction or exponent) and refuses everything
// else, so that Decode can fall back to encoding/json for it and the two
// paths always agree.

// AppendString appends s as json.Marshal writes it: quoted, with <, > and
// & escaped, invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
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
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendInt appends v as json.Marshal writes an int.
func AppendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

// AppendBool appends v as json.Marshal writes a bool.
func AppendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// AppendTime appends t as json.Marshal writes it (Time.MarshalJSON:
// quoted RFC 3339 with nanoseconds). It returns false where MarshalJSON
// fails (a year outside 0–9999, an offset of 24 hours or more), so that
// the caller lets encoding/json report the error.
func AppendTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return nil, false
	}
	return append(b, '"'), true
}

// AppendTimePtr appends t as json.Marshal writes a *time.Time: null when
// nil.
func AppendTimePtr(b []byte, t *time.Time) ([]byte, bool) {
	if t == nil {
		return append(b, "null"...), true
	}
	return AppendTime(b, *t)
}

// AppendStrings appends s as json.Marshal writes a []string: null when
// nil.
func AppendStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, v)
	}
	return append(b, ']')
}

// AppendStringMap appends m as json.Marshal writes a map[string]string:
// null when nil, keys in sorted order.
func AppendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k)
		b = append(b, ':')
		b = AppendString(b, m[k])
	}
	return append(b, '}')
}

// AppendSlice appends s as json.Marshal writes a slice of structs (null
// when nil), each element by appendElem.
func AppendSlice[T any](b []byte, s []T, appendElem func(*T, []byte) ([]byte, bool)) ([]byte, bool) {
	if s == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendElem(&s[i], b); !ok {
			return nil, false
		}
	}
	return append(b, ']'), true
}

// Decoder reads one record as json.Marshal wrote it. A Decoder that meets
// anything else fails, and stays failed: every later read returns a zero
// value, and Done reports false.
type Decoder struct {
	b []byte
	// s is b as a string, made once: the strings decoded without escapes
	// are slices of it, so that a record costs one allocation for all of
	// them.
	s   string
	i   int
	bad bool
}

// NewDecoder returns a decoder of b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b, s: string(b)} }

// Fail marks the input as not decodable here.
func (d *Decoder) Fail() { d.bad = true }

// Done reports whether everything read so far was exactly what
// json.Marshal writes and all of the input was read.
func (d *Decoder) Done() bool { return !d.bad && d.i == len(d.b) }

// peek is the next byte, or 0 at the end or after a failure.
func (d *Decoder) peek() byte {
	if d.bad || d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// consume reads c, or fails.
func (d *Decoder) consume(c byte) bool {
	if d.peek() != c {
		d.bad = true
		return false
	}
	d.i++
	return true
}

// Object reads the '{' that opens an object and reports whether a key
// follows: false for {} (read whole) or a failure.
func (d *Decoder) Object() bool {
	if !d.consume('{') {
		return false
	}
	if d.peek() == '}' {
		d.i++
		return false
	}
	return !d.bad
}

// Array reads the '[' that opens an array and reports whether an element
// follows: false for [] (read whole) or a failure.
func (d *Decoder) Array() bool {
	if !d.consume('[') {
		return false
	}
	if d.peek() == ']' {
		d.i++
		return false
	}
	return !d.bad
}

// NextMember reads what follows an object's member: true after a ','
// (another member follows), false after the '}' that closes the object,
// or a failure.
func (d *Decoder) NextMember() bool { return d.next('}') }

// NextElem reads what follows an array's element: true after a ','
// (another element follows), false after the ']' that closes the array,
// or a failure.
func (d *Decoder) NextElem() bool { return d.next(']') }

func (d *Decoder) next(end byte) bool {
	switch d.peek() {
	case ',':
		d.i++
		return true
	case end:
		d.i++
		return false
	}
	d.bad = true
	return false
}

// Key reads a member's name and its ':'. Names json.Marshal writes for a
// struct's fields need no escapes; one with an escape fails.
func (d *Decoder) Key() string {
	if !d.consume('"') {
		return ""
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			k := d.s[start:d.i]
			d.i++
			d.consume(':')
			return k
		}
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			break
		}
		d.i++
	}
	d.bad = true
	return ""
}

// Null reads a null and reports whether there was one.
func (d *Decoder) Null() bool {
	if d.peek() == 'n' && len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// String reads a string. Escapes are decoded as encoding/json decodes
// them; a lone surrogate escape, invalid UTF-8 or a raw control character
// fails (encoding/json replaces or refuses them).
func (d *Decoder) String() string {
	if !d.consume('"') {
		return ""
	}
	start := d.i
	ascii := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(s) {
				d.bad = true
				return ""
			}
			return s
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			d.bad = true
			return ""
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	d.bad = true
	return ""
}

// escaped finishes reading a string that started at start and has an
// escape at d.i.
func (d *Decoder) escaped(start int) string {
	out := make([]byte, 0, d.i-start+16)
	out = append(out, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(out) {
				d.bad = true
				return ""
			}
			return string(out)
		case c < 0x20:
			d.bad = true
			return ""
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		switch e := d.b[d.i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4(d.i + 2)
			if !ok {
				d.bad = true
				return ""
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one
				// is decoded; encoding/json makes U+FFFD of the rest.
				lo, ok := rune(0), false
				if d.i+12 <= len(d.b) && d.b[d.i+6] == '\\' && d.b[d.i+7] == 'u' {
					lo, ok = d.hex4(d.i + 8)
				}
				r = utf16.DecodeRune(r, lo)
				if !ok || r == utf8.RuneError {
					d.bad = true
					return ""
				}
				d.i += 6
			}
			out = utf8.AppendRune(out, r)
			d.i += 4
		default:
			d.bad = true
			return ""
		}
		d.i += 2
	}
	d.bad = true
	return ""
}

// hex4 reads the four hex digits at i.
func (d *Decoder) hex4(i int) (rune, bool) {
	if i+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// Int reads an integer written as json.Marshal writes an int: no '+', no
// leading zero, no fraction or exponent, "-0" refused, in range.
func (d *Decoder) Int() int {
	if d.bad {
		return 0
	}
	i, neg := d.i, false
	if i < len(d.b) && d.b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var u uint64
	for i < len(d.b) && '0' <= d.b[i] && d.b[i] <= '9' {
		if i-start >= 19 { // 19 digits always fit in a uint64
			d.bad = true
			return 0
		}
		u = u*10 + uint64(d.b[i]-'0')
		i++
	}
	n := i - start
	if n == 0 || (n > 1 && d.b[start] == '0') || (neg && u == 0) {
		d.bad = true
		return 0
	}
	if i < len(d.b) && (d.b[i] == '.' || d.b[i] == 'e' || d.b[i] == 'E') {
		d.bad = true
		return 0
	}
	d.i = i
	if neg {
		if u > 1<<(strconv.IntSize-1) {
			d.bad = true
			return 0
		}
		return int(-u)
	}
	if u > 1<<(strconv.IntSize-1)-1 {
		d.bad = true
		return 0
	}
	return int(u)
}

// Bool reads true or false.
func (d *Decoder) Bool() bool {
	if d.bad {
		return false
	}
	rest := d.b[d.i:]
	if len(rest) >= 4 && string(rest[:4]) == "true" {
		d.i += 4
		return true
	}
	if len(rest) >= 5 && string(rest[:5]) == "false" {
		d.i += 5
		return false
	}
	d.bad = true
	return false
}

// Time reads a time as encoding/json does, with Time.UnmarshalJSON; a
// string with an escape fails (json.Marshal never writes one in a time).
func (d *Decoder) Time() time.Time {
	var t time.Time
	if d.peek() != '"' {
		d.bad = true
		return t
	}
	end := d.i + 1
	for end < len(d.b) && d.b[end] != '"' {
		if d.b[end] == '\\' {
			d.bad = true
			return t
		}
		end++
	}
	if end >= len(d.b) {
		d.bad = true
		return t
	}
	if err := t.UnmarshalJSON(d.b[d.i : end+1]); err != nil {
		d.bad = true
		return time.Time{}
	}
	d.i = end + 1
	return t
}

// TimePtr reads a *time.Time: nil for null.
func (d *Decoder) TimePtr() *time.Time {
	if d.Null() {
		return nil
	}
	t := d.Time()
	if d.bad {
		return nil
	}
	return &t
}

// Strings reads a []string: nil for null, empty (not nil) for [], as
// encoding/json does.
func (d *Decoder) Strings() []string {
	if d.Null() {
		return nil
	}
	s := []string{}
	for more := d.Array(); more; more = d.NextElem() {
		s = append(s, d.String())
	}
	if d.bad {
		return nil
	}
	return s
}

// StringMap reads a map[string]string: nil for null, empty (not nil) for
// {}. A key given twice fails (encoding/json keeps the last).
func (d *Decoder) StringMap() map[string]string {
	if d.Null() {
		return nil
	}
	m := map[string]string{}
	for more := d.Object(); more; more = d.NextMember() {
		k := d.String()
		d.consume(':')
		if _, dup := m[k]; dup {
			d.bad = true
		}
		m[k] = d.String()
	}
	if d.bad {
		return nil
	}
	return m
}

// DecodeSlice reads a slice of structs, each element by decodeElem: nil
// for null, empty (not nil) for [].
func DecodeSlice[T any](d *Decoder, decodeElem func(*T, *Decoder)) []T {
	if d.Null() {
		return nil
	}
	s := []T{}
	for more := d.Array(); more; more = d.NextElem() {
		s = append(s, *new(T))
		decodeElem(&s[len(s)-1], d)
	}
	if d.bad {
		return nil
	}
	return s
}

// CloseObject finishes an object begun at start whose members were each
// appended after a ',': the first ',' becomes the '{' (or the object is
// {} when no member was written), and the '}' is appended. Generated
// encoders write members this way so that omitempty needs no "first"
// bookkeeping.
func CloseObject(b []byte, start int) []byte {
	if len(b) == start {
		return append(b, '{', '}')
	}
	b[start] = '{'
	return append(b, '}')
}
