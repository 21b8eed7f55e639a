package service

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// The records are JSON, written by hand here rather than by json.Marshal,
// whose reflection, and its check of every time.Time's MarshalJSON output,
// was a twentieth of a create's CPU. The bytes are exactly json.Marshal's
// (FuzzRecordJSON and TestRecordJSONMatchesMarshal compare them), so
// stored state, decodeGroupFast and exports do not change. Whatever the
// hand path does not cover exactly (a string that needs escaping, a time
// json.Marshal refuses) goes to json.Marshal.

func encodeEvent(r *eventRecord) ([]byte, error) {
	b := make([]byte, 0, 112+len(r.SourceType)+len(r.SourceID)+len(r.Message))
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(r.V), 10)
	b = append(b, `,"date":`...)
	b, ok := appendJSONTime(b, r.Date)
	if !ok {
		return json.Marshal(r)
	}
	b = append(b, `,"sourceType":`...)
	b = appendJSONString(b, r.SourceType)
	b = append(b, `,"sourceId":`...)
	b = appendJSONString(b, r.SourceID)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, r.Message)
	return append(b, '}'), nil
}

// appendGroupJSON is json.Marshal(r), or false where it may differ.
func appendGroupJSON(b []byte, r *groupRecord) ([]byte, bool) {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(r.V), 10)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, r.Name)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, r.Description)
	b = append(b, `,"created":`...)
	b, ok := appendJSONTime(b, r.Created)
	if !ok {
		return b, false
	}
	if len(r.EC2) > 0 {
		b = append(b, `,"ec2":[`...)
		for i := range r.EC2 {
			e := &r.EC2[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, e.Name)
			b = append(b, `,"owner":`...)
			b = appendJSONString(b, e.Owner)
			b = append(b, `,"authorized":`...)
			if b, ok = appendJSONTime(b, e.Authorized); !ok {
				return b, false
			}
			if e.Revoked != nil {
				b = append(b, `,"revoked":`...)
				if b, ok = appendJSONTime(b, *e.Revoked); !ok {
					return b, false
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(r.Tags) > 0 {
		// json.Marshal writes a map's entries in key order.
		keys := make([]string, 0, len(r.Tags))
		for k := range r.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, `,"tags":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, r.Tags[k])
		}
		b = append(b, '}')
	}
	return append(b, '}'), true
}

// appendJSONTime appends t as Time.MarshalJSON writes it, or reports false
// for the times MarshalJSON refuses (a year outside 0-9999, an offset of
// 24 hours or more), which json.Marshal has to be asked about.
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	if len(b)-n0 < len("2006-01-02T15:04:05Z") || b[n0+4] != '-' {
		return b, false
	}
	if b[len(b)-1] != 'Z' {
		off := b[len(b)-len("Z07:00"):]
		if c := off[0]; '0' <= c && c <= '9' {
			return b, false
		}
		if h := 10*(off[1]-'0') + (off[2] - '0'); h >= 24 {
			return b, false
		}
	}
	return append(b, '"'), true
}

// appendJSONString appends s quoted as json.Marshal quotes it. Printable
// ASCII other than the characters it escapes (" \ and, as HTML-safe
// output, < > &) is copied; anything else goes through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
