package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxStateDepth bounds the nesting of a document: a valid one has 6
// levels, and a deeper one is refused before it can exhaust the stack.
const maxStateDepth = 16

// maxProblems is how many problems an InvalidStateError lists; the rest
// are only counted, so that the answer to a huge bad document stays small.
const maxProblems = 100

// Problem is one thing wrong with a state document: where, as a JSON path
// from the document's root ($.accounts[0].regions[1].region), and what.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// InvalidStateError is the answer to a document that is refused: the
// problems found, in document order, the first 100 of them listed and the
// rest counted in Omitted. Nothing was written.
type InvalidStateError struct {
	Problems []Problem
	Omitted  int
}

// Error lists the problems, one per line after the first.
func (e *InvalidStateError) Error() string {
	var b strings.Builder
	n := len(e.Problems) + e.Omitted
	fmt.Fprintf(&b, "invalid state document (%d problem", n)
	if n != 1 {
		b.WriteString("s")
	}
	b.WriteString("; nothing was written)")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Path, p.Message)
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.Omitted)
	}
	return b.String()
}

// Rules are the API's checks that a document's values must pass too.
type Rules struct {
	// Tag checks one tag (key and value); its message says what is wrong.
	Tag func(key, value string) error
	// MaxTags is the most tags a record may have, and TooManyTags the
	// message when it has more.
	MaxTags     int
	TooManyTags string
	// SourceTypes are the event source types the API knows.
	SourceTypes []string
	// IsAccountID and IsRegion check the document's accounts and regions.
	IsAccountID func(string) bool
	IsRegion    func(string) bool
}

// Parser collects problems while it reads a document. Kinds' sections use
// it to read their items.
type Parser struct {
	reg      *Registry
	rules    Rules
	problems []Problem
	found    int
}

// Add reports a problem at path.
func (p *Parser) Add(path, format string, args ...any) {
	p.found++
	if len(p.problems) < maxProblems {
		p.problems = append(p.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
}

// Found is how many problems have been reported so far: a section
// compares it before and after reading an item to tell whether the item
// was clean.
func (p *Parser) Found() int { return p.found }

// reset forgets the problems found so far.
func (p *Parser) reset() { p.problems, p.found = nil, 0 }

// jsonObject is a decoded JSON object that remembers its key order, so
// problems come in document order.
type jsonObject struct {
	keys   []string
	values map[string]any
}

// Object is a JSON object of a document.
type Object = *jsonObject

// parseJSON decodes doc into a tree of *jsonObject, []any, string,
// json.Number, bool and nil, refusing duplicate keys, nesting deeper than
// maxStateDepth and anything after the value.
func (p *Parser) parseJSON(doc []byte) (any, bool) {
	if len(bytes.TrimSpace(doc)) == 0 {
		p.Add("$", "the document is empty; expected a JSON object")
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := p.value(dec, "$", 0)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the document ends too early")
		}
		p.reset()
		p.Add("$", "not valid JSON: %v", err)
		return nil, false
	}
	if p.found > 0 {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		p.Add("$", "unexpected data after the document, at byte %d", dec.InputOffset())
		return nil, false
	}
	return v, true
}

func (p *Parser) value(dec *json.Decoder, path string, depth int) (any, error) {
	if depth > maxStateDepth {
		return nil, fmt.Errorf("nested more than %d levels deep at %s", maxStateDepth, path)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		o := &jsonObject{values: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok { // the decoder yields only strings as keys; never trust it blindly
				return nil, fmt.Errorf("object key %v at %s", kt, path)
			}
			v, err := p.value(dec, FieldPath(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := o.values[k]; dup {
				p.Add(FieldPath(path, k), "the key appears more than once")
				continue
			}
			o.keys = append(o.keys, k)
			o.values[k] = v
		}
		_, err := dec.Token() // '}'
		return o, err
	case '[':
		list := []any{}
		for dec.More() {
			v, err := p.value(dec, fmt.Sprintf("%s[%d]", path, len(list)), depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ']'
		return list, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// Object checks that v is an object with only the known keys.
func (p *Parser) Object(path string, v any, known ...string) (Object, bool) {
	o, ok := v.(*jsonObject)
	if !ok {
		p.Add(path, "must be an object, not %s", jsonKind(v))
		return nil, false
	}
	for _, k := range o.keys {
		if !slices.Contains(known, k) {
			p.Add(FieldPath(path, k), "unknown field (known: %s)", strings.Join(known, ", "))
		}
	}
	return o, true
}

// List returns o[key] as a list; a missing key is an empty list unless
// required.
func (p *Parser) List(path string, o Object, key string, required bool) []any {
	v, ok := o.values[key]
	if !ok {
		if required {
			p.Add(path+"."+key, "is required")
		}
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		p.Add(path+"."+key, "must be a list, not %s", jsonKind(v))
	}
	return l
}

// Str returns o[key] as a string; present reports whether it was there.
func (p *Parser) Str(path string, o Object, key string, required bool) (s string, present bool) {
	v, ok := o.values[key]
	if !ok {
		if required {
			p.Add(path+"."+key, "is required")
		}
		return "", false
	}
	s, ok = v.(string)
	if !ok {
		p.Add(path+"."+key, "must be a string, not %s", jsonKind(v))
		return "", false
	}
	return s, true
}

// Int returns o[key] as a whole number; present reports whether it was
// there and is one.
func (p *Parser) Int(path string, o Object, key string, required bool) (n int, present bool) {
	v, ok := o.values[key]
	if !ok {
		if required {
			p.Add(path+"."+key, "is required")
		}
		return 0, false
	}
	num, ok := v.(json.Number)
	if !ok {
		p.Add(path+"."+key, "must be a number, not %s", jsonKind(v))
		return 0, false
	}
	i, err := strconv.ParseInt(string(num), 10, 32)
	if err != nil {
		p.Add(path+"."+key, "must be a whole number, not %s", num)
		return 0, false
	}
	return int(i), true
}

// Bool returns o[key] as a boolean; present reports whether it was there
// and is one.
func (p *Parser) Bool(path string, o Object, key string, required bool) (b, present bool) {
	v, ok := o.values[key]
	if !ok {
		if required {
			p.Add(path+"."+key, "is required")
		}
		return false, false
	}
	b, ok = v.(bool)
	if !ok {
		p.Add(path+"."+key, "must be a boolean, not %s", jsonKind(v))
		return false, false
	}
	return b, true
}

// StringMap returns o[key], an object whose values are strings, as a map;
// present reports whether it was there and is one.
func (p *Parser) StringMap(path string, o Object, key string, required bool) (m map[string]string, present bool) {
	v, ok := o.values[key]
	if !ok {
		if required {
			p.Add(path+"."+key, "is required")
		}
		return nil, false
	}
	obj, ok := v.(*jsonObject)
	if !ok {
		p.Add(path+"."+key, "must be an object, not %s", jsonKind(v))
		return nil, false
	}
	m = make(map[string]string, len(obj.keys))
	for _, k := range obj.keys {
		s, ok := obj.values[k].(string)
		if !ok {
			p.Add(FieldPath(path+"."+key, k), "must be a string, not %s", jsonKind(obj.values[k]))
			continue
		}
		m[k] = s
	}
	return m, true
}

// Time returns o[key] as an RFC 3339 timestamp, in UTC.
func (p *Parser) Time(path string, o Object, key string, required bool) (t time.Time, present bool) {
	s, ok := p.Str(path, o, key, required)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.Add(path+"."+key, "must be an RFC 3339 timestamp such as 2026-11-23T12:00:00Z, not %s", Quote(s))
		return time.Time{}, false
	}
	return t.UTC(), true
}

// maxQuoted is how much of a value a problem shows: enough to find it,
// and a huge bad value does not make a huge answer.
const maxQuoted = 64

// cut is s, cut after maxQuoted characters.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return s
	}
	return string([]rune(s)[:maxQuoted]) + "…"
}

// Quote is %q of s, cut after 64 characters.
func Quote(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:maxQuoted])) + "…"
}

// FieldPath is the path of key k in the object at path.
func FieldPath(path, k string) string { return path + "." + cut(k) }

func jsonKind(v any) string {
	switch v.(type) {
	case *jsonObject:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// UniqueList parses the elements of the list field at path (items) with
// parse, appends to dst those that parse, and refuses, with dup, an
// element whose key an earlier element has: dup gets the element's path,
// the element, and the earlier one's path. key says whether an element has
// a key to compare; so does parse's third result (the key's fields were
// valid). It returns dst and the keys seen, each with its first index.
func UniqueList[T any, K comparable](dst []T, path, field string, items []any,
	parse func(path string, v any) (item T, ok, keyOK bool), key func(T) (K, bool),
	dup func(itemPath string, item T, first string)) ([]T, map[K]int) {
	seen := map[K]int{}
	for i, v := range items {
		ipath := fmt.Sprintf("%s.%s[%d]", path, field, i)
		item, ok, keyOK := parse(ipath, v)
		if k, hasKey := key(item); keyOK && hasKey {
			if j, taken := seen[k]; taken {
				dup(ipath, item, fmt.Sprintf("%s.%s[%d]", path, field, j))
				continue
			}
			seen[k] = i
		}
		if ok {
			dst = append(dst, item)
		}
	}
	return dst, seen
}

// Tags reads the "tags" list of the item at path: every tag checked with
// the API's rules, keys unique, at most Rules.MaxTags.
func (p *Parser) Tags(path string, o Object) Tags {
	list := p.List(path, o, "tags", false)
	if len(list) > p.rules.MaxTags {
		p.Add(path+".tags", "%s", p.rules.TooManyTags)
	}
	tags, _ := UniqueList(nil, path, "tags", list, p.tag,
		func(t Tag) (string, bool) { return t.Key, true },
		func(tpath string, t Tag, first string) {
			p.Add(tpath+".key", "tag %s is also %s", t.Key, first)
		})
	ts := Tags{}
	for _, t := range tags {
		ts[t.Key] = t.Value
	}
	return ts
}

func (p *Parser) tag(path string, v any) (t Tag, ok, keyOK bool) {
	o, ok := p.Object(path, v, "key", "value")
	if !ok {
		return Tag{}, false, false
	}
	n := p.found
	key, keyOK := p.Str(path, o, "key", true)
	if keyOK {
		if err := p.rules.Tag(key, ""); err != nil {
			p.Add(path+".key", "%s", err.Error())
			keyOK = false
		}
	}
	value, valueOK := p.Str(path, o, "value", false) // absent is "", as the API stores it
	if valueOK {
		if err := p.rules.Tag("k", value); err != nil {
			p.Add(path+".value", "%s", err.Error())
		}
	}
	return Tag{Key: key, Value: value}, p.found == n, keyOK
}
