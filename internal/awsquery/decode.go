package awsquery

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Decode fills dst, a non-nil pointer to a struct whose fields carry `query` tags, from f.
//
// Keys: a field named N is the parameter N; a nested struct's field F is N.F; element i of a
// list with member M is N.M.i (then N.M.i.F for struct elements). Elements are ordered by
// index and indices need not be contiguous. An index is a whole number from 1 written in at
// most 10 digits; leading zeros are allowed, so Tags.Tag.01.Key and Tags.Tag.1.Key name the
// same parameter and together are a Duplicate. Messages always name list members by their
// canonical key (Tags.Tag.1.Key). A list sent as the bare key `N=`
// decodes to an empty non-nil slice; an absent list stays nil. An element or nested struct
// exists when any key below its prefix is present, and only then are its required members
// checked. Unknown parameters are ignored, and so are keys under a list that cannot name an
// element (N.M.i.x for a list of strings) and keys nested more than maxNesting structs or
// lists deep (only a recursive type gets there). Fields whose parameters are absent are left
// as they were. Decoded pointers may share one allocation; they never alias each other.
//
// Request problems return *Error, the first one in field order (and index order within a
// list), so the same request always gets the same answer. A plain error means dst's type is
// unsupported (see docs/ARCHITECTURE.md for the tag format): a bug in the caller.
func Decode(f Form, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("awsquery: Decode needs a non-nil pointer to a struct, got %T", dst)
	}
	si, err := structInfoOf(rv.Elem().Type())
	if err != nil {
		return err
	}
	if f == nil {
		f = Form{} // a nil Form would mean "decode from entries" below
	}
	var d decoder
	return d.decodeStruct(si, f, nil, rv.Elem(), reflect.Value{})
}

// entry is one form parameter below some prefix.
type entry struct {
	key   string // the full form key, for messages about the key itself
	rest  string // the key after the prefix being decoded
	value string
	idx   int32 // scratch: compound field ordinal while bucketing, list index while grouping
}

// decoder carries the canonical key prefix of what is being decoded ("" at the top level,
// "Tags.Tag.3." inside an element) so that messages can name parameters. It is only read
// when building an error, so the success path never builds key strings.
type decoder struct {
	prefix []byte
	depth  int // nested structs and lists entered; see maxNesting
}

// maxNesting bounds how deep Decode follows keys. Generated types are a few levels deep; only a
// recursive type could go further, and there a hostile body of `Parent.Parent.…` keys would
// otherwise cost one stack frame per segment. Deeper keys are ignored like unknown parameters.
const maxNesting = 32

// param names the parameter name below the current prefix.
func (d *decoder) param(name string) string {
	if len(d.prefix) == 0 {
		return name
	}
	return string(d.prefix) + name
}

// push appends `name.` to the prefix and returns the mark for pop.
func (d *decoder) push(name string) int {
	if d.prefix == nil {
		d.prefix = make([]byte, 0, 64) // deep enough for the model's keys without regrowing
	}
	n := len(d.prefix)
	d.prefix = append(d.prefix, name...)
	d.prefix = append(d.prefix, '.')
	d.depth++
	return n
}

// pop undoes the push (or pushIndex) that returned mark.
func (d *decoder) pop(mark int) {
	d.prefix = d.prefix[:mark]
	d.depth--
}

// pushIndex appends `member.index.` to the prefix and returns the mark for pop.
func (d *decoder) pushIndex(member string, index int32) int {
	n := d.push(member)
	d.prefix = strconv.AppendInt(d.prefix, int64(index), 10)
	d.prefix = append(d.prefix, '.')
	return n
}

// decodeStruct decodes the fields of si into v from either form (the top level: exact-key
// lookups) or src (below a prefix: keys relative to it, scanned linearly; an element or nested
// struct has few of them). arena is an addressable si.arena for the pointer fields to point
// into, or the zero Value to allocate one when the first is needed.
func (d *decoder) decodeStruct(si *structInfo, form Form, src []entry, v, arena reflect.Value) error {
	var buckets []entry
	if len(si.compound) > 0 {
		buckets = collect(si, form, src)
	}
	for _, i := range si.decode {
		fi := &si.fields[i]
		if !fi.list && fi.kind != kindStruct {
			val, ok := lookup(form, src, fi.qName)
			if !ok {
				if fi.required {
					return missingError(d.param(fi.qName))
				}
				continue
			}
			if val == "" && fi.required {
				return emptyError(d.param(fi.qName))
			}
			if !arena.IsValid() {
				arena = reflect.New(si.arena).Elem()
			}
			slot := arena.Field(fi.slot)
			if why := setScalar(fi.kind, val, slot); why != "" {
				return invalidError(d.param(fi.qName), why)
			}
			v.Field(fi.index).Set(slot.Addr())
			continue
		}

		// A list or nested struct: its keys are the bucket entries with this field's ordinal.
		// collect sorted them by ordinal, and fields are visited in ordinal order.
		n := 0
		for n < len(buckets) && int(buckets[n].idx) == fi.compoundOrd {
			n++
		}
		sub := buckets[:n]
		buckets = buckets[n:]
		if d.depth >= maxNesting {
			continue
		}

		if fi.list {
			bare, hasBare := lookup(form, src, fi.qName)
			if hasBare && bare != "" {
				p := d.param(fi.qName)
				return invalidError(p, whyListPrefix+p+"."+fi.qMember+listIndexShape)
			}
			mark := d.push(fi.qName)
			if err := d.decodeList(fi, sub, hasBare, v.Field(fi.index)); err != nil {
				return err
			}
			d.pop(mark)
			continue
		}
		if len(sub) == 0 {
			if fi.required {
				return missingError(d.param(fi.qName))
			}
			continue
		}
		if !arena.IsValid() {
			arena = reflect.New(si.arena).Elem()
		}
		slot := arena.Field(fi.slot)
		mark := d.push(fi.qName)
		if err := d.decodeStruct(fi.sub, nil, sub, slot, reflect.Value{}); err != nil {
			return err
		}
		d.pop(mark)
		v.Field(fi.index).Set(slot.Addr())
	}
	return nil
}

func lookup(form Form, src []entry, name string) (string, bool) {
	if form != nil {
		v, ok := form[name]
		return v, ok
	}
	for i := range src {
		if src[i].rest == name {
			return src[i].value, true
		}
	}
	return "", false
}

// collect gathers, in one pass, the keys of si's compound fields: those whose first segment is
// a list or nested struct field name. Each entry's rest drops that segment and its idx holds
// the field's ordinal; the result is sorted by ordinal.
func collect(si *structInfo, form Form, src []entry) []entry {
	var out []entry
	if form != nil {
		for k, v := range form {
			i := strings.IndexByte(k, '.')
			if i < 0 {
				continue
			}
			ord := si.compoundOrdinal(k[:i])
			if ord < 0 {
				continue
			}
			if out == nil {
				out = make([]entry, 0, min(len(form), 32))
			}
			out = append(out, entry{key: k, rest: k[i+1:], value: v, idx: int32(ord)})
		}
	} else {
		for _, e := range src {
			i := strings.IndexByte(e.rest, '.')
			if i < 0 {
				continue
			}
			ord := si.compoundOrdinal(e.rest[:i])
			if ord < 0 {
				continue
			}
			out = append(out, entry{key: e.key, rest: e.rest[i+1:], value: e.value, idx: int32(ord)})
		}
	}
	if len(si.compound) > 1 {
		slices.SortFunc(out, func(a, b entry) int { return cmp.Compare(a.idx, b.idx) })
	}
	return out
}

// decodeList decodes a list field from items, the keys below `Name.` (so their rest is
// `M.i[.F…]`); the prefix ends in `Name.`. items is scratch space owned by the caller and is
// reordered in place. Memory and time depend on the number of keys, never on an index's value.
func (d *decoder) decodeList(fi *fieldInfo, items []entry, hasBare bool, dst reflect.Value) error {
	m := fi.qMember
	isStruct := fi.kind == kindStruct
	n := 0
	var badKey string // the smallest offending key, so the answer does not depend on map order
	for _, e := range items {
		rest, ok := strings.CutPrefix(e.rest, m)
		if !ok || (rest != "" && rest[0] != '.') {
			continue // another member name (Tags.member.1, Tags.Tagx.1): an unknown parameter
		}
		var idxStr, sub string
		var hasSub bool
		if rest != "" {
			idxStr, sub, hasSub = strings.Cut(rest[1:], ".")
		}
		idx, ok := parseIndex(idxStr)
		if !ok {
			if badKey == "" || e.key < badKey {
				badKey = e.key
			}
			continue
		}
		if hasSub != isStruct {
			continue // Tags.Tag.1 for a struct list, TagKeys.member.1.x for a string list
		}
		items[n] = entry{key: e.key, rest: sub, value: e.value, idx: idx}
		n++
	}
	if badKey != "" {
		return invalidError(badKey, whyListIndex)
	}
	items = items[:n]
	if n == 0 {
		name := string(d.prefix[:len(d.prefix)-1]) // only built on the error paths
		switch {
		case !hasBare && fi.required:
			return missingError(name)
		case !hasBare:
			return nil
		case fi.required:
			return emptyError(name)
		}
		dst.Set(reflect.MakeSlice(fi.typ, 0, 0))
		return nil
	}

	slices.SortFunc(items, func(a, b entry) int {
		if c := cmp.Compare(a.idx, b.idx); c != 0 {
			return c
		}
		return strings.Compare(a.rest, b.rest)
	})
	count := 1
	for i := 1; i < len(items); i++ {
		if items[i].idx != items[i-1].idx {
			count++
		}
	}
	// Grow on the (zeroed) field allocates the backing array only; MakeSlice would also
	// allocate a slice header.
	dst.SetZero()
	dst.Grow(count)
	dst.SetLen(count)
	s := dst
	var arenas reflect.Value
	if isStruct && fi.sub.arena != nil {
		arenas = reflect.MakeSlice(fi.sub.arenaSlice, count, count)
	}
	for i, start := 0, 0; start < len(items); i++ {
		end := start + 1
		for end < len(items) && items[end].idx == items[start].idx {
			end++
		}
		group := items[start:end]
		if !isStruct {
			if len(group) > 1 {
				return duplicateError(d.elemParam(m, group[0].idx))
			}
			if why := setScalar(fi.kind, group[0].value, s.Index(i)); why != "" {
				return invalidError(d.elemParam(m, group[0].idx), why)
			}
		} else {
			mark := d.pushIndex(m, group[0].idx)
			for j := 1; j < len(group); j++ {
				if group[j].rest == group[j-1].rest {
					return duplicateError(d.param(group[j].rest))
				}
			}
			var arena reflect.Value
			if arenas.IsValid() {
				arena = arenas.Index(i)
			}
			if err := d.decodeStruct(fi.sub, nil, group, s.Index(i), arena); err != nil {
				return err
			}
			d.pop(mark)
		}
		start = end
	}
	return nil
}

// elemParam names element index of a scalar list whose `Name.` is the prefix.
func (d *decoder) elemParam(member string, index int32) string {
	d.pushIndex(member, index)
	return string(d.prefix[:len(d.prefix)-1])
}

// parseIndex accepts a list index: 1 to 10 decimal digits (MaxInt32 has 10) with a value from
// 1 to MaxInt32. Leading zeros are allowed within those 10 digits (some encoders pad); a sign,
// an empty index and anything longer or larger are not.
func parseIndex(s string) (int32, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if v == 0 || v > math.MaxInt32 {
		return 0, false
	}
	return int32(v), true
}

// setScalar parses val into dst, an addressable value of kind k, and returns "" or the reason
// val is invalid.
func setScalar(k kind, val string, dst reflect.Value) string {
	switch k {
	case kindString:
		if why := checkText(val); why != "" {
			return why
		}
		dst.SetString(val)
	case kindInt32:
		n, err := strconv.ParseInt(val, 10, 32)
		if err != nil {
			if err.(*strconv.NumError).Err == strconv.ErrRange {
				return whyOutOfRange
			}
			return whyNotInteger
		}
		dst.SetInt(n)
	case kindBool:
		// Every client sends exactly these two spellings.
		switch val {
		case "true":
			dst.SetBool(true)
		case "false":
			dst.SetBool(false)
		default:
			return whyNotBoolean
		}
	case kindFloat64:
		f, ok := parseDouble(val)
		if !ok {
			return whyNotNumber
		}
		dst.SetFloat(f)
	case kindTime:
		t, err := ParseTimestamp(val)
		if err != nil {
			return whyNotTime
		}
		*dst.Addr().Interface().(*time.Time) = t
	default:
		panic("awsquery: setScalar on a non-scalar kind") // structInfoOf rules this out
	}
	return ""
}

// parseDouble accepts finite decimal numbers only: strconv.ParseFloat would also take "NaN",
// "Inf" and hex floats, which no client sends and xsd:double spells differently.
func parseDouble(s string) (float64, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c), c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// checkText returns why s cannot be stored and later sent back in XML 1.0 text, or "" when it
// can. XML 1.0 allows tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and U+10000–U+10FFFF.
func checkText(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return whyXMLChar
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			if isEncodedSurrogate(s[i:]) {
				return whyXMLChar
			}
			return whyNotUTF8
		}
		if r == 0xFFFE || r == 0xFFFF {
			return whyXMLChar
		}
		i += size
	}
	return ""
}

// isEncodedSurrogate reports whether s starts with a UTF-16 surrogate (U+D800–U+DFFF) written
// as three UTF-8 bytes, as CESU-8 and WTF-8 do. Go's decoder calls it invalid UTF-8; we say
// which character is the problem.
func isEncodedSurrogate(s string) bool {
	return len(s) >= 3 && s[0] == 0xED && s[1]&0xE0 == 0xA0 && s[2]&0xC0 == 0x80
}
