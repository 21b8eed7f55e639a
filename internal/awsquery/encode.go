package awsquery

import (
	"fmt"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendResponse appends the success envelope
//
//	<{action}Response xmlns="{xmlns}"><{resultWrapper}>…</{resultWrapper}><ResponseMetadata><RequestId>{requestID}</RequestId></ResponseMetadata></{action}Response>
//
// to buf. The result element holds the fields of result, a pointer to a struct with `xml` tags,
// in declaration order: nil pointers and nil slices are omitted, a non-nil empty slice is
// written as <Name></Name> (clients read that as an empty list, absence as no list). A nil
// result writes an empty result element. When resultWrapper is "" (an operation without
// output) the result element is omitted entirely and result is not looked at.
//
// Text is escaped; characters XML 1.0 cannot carry become U+FFFD, so the output is always
// well-formed even if something unvalidated reaches it. Element names (action, wrapper, tags)
// are trusted: they come from the model. The only error is a result type the codec does not
// support, a bug in the caller; buf is then returned unchanged.
func AppendResponse(buf []byte, xmlns, action, resultWrapper string, result any, requestID string) ([]byte, error) {
	var si *structInfo
	var rv reflect.Value
	if resultWrapper != "" && result != nil {
		rv = reflect.ValueOf(result)
		if rv.Kind() != reflect.Pointer || rv.Type().Elem().Kind() != reflect.Struct {
			return buf, fmt.Errorf("awsquery: AppendResponse needs a pointer to a struct, got %T", result)
		}
		if !rv.IsNil() {
			var err error
			if si, err = structInfoOf(rv.Type().Elem()); err != nil {
				return buf, err
			}
			rv = rv.Elem()
		}
	}
	buf = append(buf, '<')
	buf = append(buf, action...)
	buf = append(buf, `Response xmlns="`...)
	buf = appendEscaped(buf, xmlns)
	buf = append(buf, `">`...)
	if resultWrapper != "" {
		buf = appendOpen(buf, resultWrapper)
		if si != nil {
			buf = encodeStruct(buf, si, rv)
		}
		buf = appendClose(buf, resultWrapper)
	}
	buf = append(buf, "<ResponseMetadata><RequestId>"...)
	buf = appendEscaped(buf, requestID)
	buf = append(buf, "</RequestId></ResponseMetadata></"...)
	buf = append(buf, action...)
	buf = append(buf, "Response>"...)
	return buf, nil
}

// AppendError appends the query protocol's error envelope
//
//	<ErrorResponse xmlns="{xmlns}"><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
//
// to buf. sender selects Sender (the client's fault, 4xx) or Receiver (ours, 5xx). Text is
// escaped as in AppendResponse.
func AppendError(buf []byte, xmlns string, sender bool, code, message, requestID string) []byte {
	buf = append(buf, `<ErrorResponse xmlns="`...)
	buf = appendEscaped(buf, xmlns)
	buf = append(buf, `"><Error><Type>`...)
	if sender {
		buf = append(buf, "Sender"...)
	} else {
		buf = append(buf, "Receiver"...)
	}
	buf = append(buf, "</Type><Code>"...)
	buf = appendEscaped(buf, code)
	buf = append(buf, "</Code><Message>"...)
	buf = appendEscaped(buf, message)
	buf = append(buf, "</Message></Error><RequestId>"...)
	buf = appendEscaped(buf, requestID)
	buf = append(buf, "</RequestId></ErrorResponse>"...)
	return buf
}

func encodeStruct(buf []byte, si *structInfo, v reflect.Value) []byte {
	for _, i := range si.encode {
		fi := &si.fields[i]
		fv := v.Field(fi.index)
		if fv.IsNil() {
			continue
		}
		buf = appendOpen(buf, fi.xName)
		if fi.list {
			for j, n := 0, fv.Len(); j < n; j++ {
				buf = appendOpen(buf, fi.xMember)
				buf = encodeValue(buf, fi, fv.Index(j))
				buf = appendClose(buf, fi.xMember)
			}
		} else {
			buf = encodeValue(buf, fi, fv.Elem())
		}
		buf = appendClose(buf, fi.xName)
	}
	return buf
}

// encodeValue writes the content of one value of fi's kind; v is addressable (a pointee or a
// slice element), which lets time.Time be read without boxing it.
func encodeValue(buf []byte, fi *fieldInfo, v reflect.Value) []byte {
	switch fi.kind {
	case kindString:
		return appendEscaped(buf, v.String())
	case kindInt32:
		return strconv.AppendInt(buf, v.Int(), 10)
	case kindBool:
		return strconv.AppendBool(buf, v.Bool())
	case kindFloat64:
		return strconv.AppendFloat(buf, v.Float(), 'g', -1, 64)
	case kindTime:
		return appendTimestamp(buf, *v.Addr().Interface().(*time.Time))
	case kindStruct:
		return encodeStruct(buf, fi.sub, v)
	}
	panic("awsquery: encodeValue on an unknown kind") // structInfoOf rules this out
}

func appendOpen(buf []byte, name string) []byte {
	buf = append(buf, '<')
	buf = append(buf, name...)
	return append(buf, '>')
}

func appendClose(buf []byte, name string) []byte {
	buf = append(buf, "</"...)
	buf = append(buf, name...)
	return append(buf, '>')
}

// replacementChar stands in for what XML 1.0 cannot carry.
const replacementChar = "\uFFFD"

// plainASCII has bit c set for each byte c below 0x40 that text may hold as it is: space, tab,
// LF, digits and punctuation other than " & ' < >. Every byte from 0x40 to 0x7F is plain.
const plainASCII uint64 = (1<<0x40-1)&^(1<<0x20-1)&^
	(1<<'"'|1<<'&'|1<<'\''|1<<'<'|1<<'>') | 1<<'\t' | 1<<'\n'

// plainByte is plainASCII as a table over all bytes, false from 0x80 up (appendEscaped decodes
// those): one load per byte, where testing the range first mispredicted on text that mixes
// digits and punctuation with letters, as names, IDs and ARNs do.
var plainByte = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c >= 0x40 || plainASCII>>c&1 != 0
	}
	return t
}()

// appendEscaped writes s as XML character data (also safe inside a double-quoted attribute).
// CR is written as a character reference because XML readers turn a literal CR into LF; tab
// and LF are written as they are. Runs of plain text are copied in one append.
func appendEscaped(buf []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		var esc string
		size := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;" // so "]]>" never appears in text
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\r':
			esc = "&#xD;"
		default:
			if c < utf8.RuneSelf { // a C0 control other than tab, LF, CR
				esc = replacementChar
				break
			}
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
				esc = replacementChar
			}
		}
		if esc != "" {
			buf = append(buf, s[last:i]...)
			buf = append(buf, esc...)
			last = i + size
		}
		i += size
	}
	return append(buf, s[last:]...)
}
