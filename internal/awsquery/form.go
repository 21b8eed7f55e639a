package awsquery

import "strings"

// Form is a parsed query-protocol request: each parameter name once, its value percent-decoded
// but otherwise untouched (Decode validates text; the handler reads Action and Version from it).
type Form map[string]string

// maxFormHint caps the map size ParseForm preallocates, so a body of a million `&` costs
// nothing up front; real requests have a few dozen parameters.
const maxFormHint = 64

// ParseForm parses an application/x-www-form-urlencoded body or URL query string. `+` and `%20`
// are both spaces. Empty pairs (`a=1&&b=2`) are skipped, a key without `=` has the value "", and
// a pair whose key decodes to "" is skipped because no parameter can have that name.
//
// Bad percent-encoding anywhere returns *Error{Kind: Malformed}, even after a duplicate, because
// the caller checks the body before anything else; otherwise the first parameter (in body order)
// given twice returns *Error{Kind: Duplicate}. `;` is an ordinary character, not a separator.
// Work and memory are linear in len(raw), which the caller has already limited.
func ParseForm(raw string) (Form, error) {
	hint := strings.Count(raw, "&") + 1
	if hint > maxFormHint {
		hint = maxFormHint
	}
	f := make(Form, hint)
	if err := ParseFormInto(f, raw); err != nil {
		return nil, err
	}
	return f, nil
}

// ParseFormInto is ParseForm into f, which must be empty, so that a caller can reuse a map
// (clear keeps its storage). After an error f holds some of the parameters.
func ParseFormInto(f Form, raw string) error {
	var dup string
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, ok := unescape(k)
		if !ok {
			return malformedError()
		}
		val, ok := unescape(v)
		if !ok {
			return malformedError()
		}
		if key == "" {
			continue
		}
		n := len(f)
		f[key] = val
		if len(f) == n && dup == "" {
			dup = key
		}
	}
	if dup != "" {
		return duplicateError(dup)
	}
	return nil
}

// unescape decodes one form component. Most components need no decoding and are returned
// without copying; the others cost one allocation.
func unescape(s string) (string, bool) {
	// A loop, not strings.IndexAny, which prepares a character set on
	// every call: the components are short, and most have neither.
	i := 0
	for i < len(s) && s[i] != '%' && s[i] != '+' {
		i++
	}
	if i == len(s) {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b.WriteByte(' ')
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
