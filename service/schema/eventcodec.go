package schema

import (
	"encoding/json"
	"fmt"
)

// Every create, modify and delete stores an event, so the event's codec is
// on the write path of every request that changes something: these write
// and read exactly json.Marshal's form of Event without reflection, as
// the generated record codecs do, and fall back to encoding/json for
// anything else.

// appendJSON appends e as json.Marshal writes it; false where json.Marshal
// would fail (a date outside years 0–9999).
func (e *Event) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"v":`...)
	b = AppendInt(b, e.V)
	b = append(b, `,"date":`...)
	b, ok := AppendTime(b, e.Date)
	if !ok {
		return nil, false
	}
	b = append(b, `,"sourceType":`...)
	b = AppendString(b, e.SourceType)
	b = append(b, `,"sourceId":`...)
	b = AppendString(b, e.SourceID)
	b = append(b, `,"message":`...)
	b = AppendString(b, e.Message)
	return append(b, '}'), true
}

// decodeJSON reads what appendJSON writes, members in its order, and
// reports false for anything else.
func (e *Event) decodeJSON(b []byte) bool {
	d := NewDecoder(b)
	more := d.Object()
	for _, want := range [...]string{"v", "date", "sourceType", "sourceId", "message"} {
		if !more || d.Key() != want {
			return false
		}
		switch want {
		case "v":
			e.V = d.Int()
		case "date":
			e.Date = d.Time()
		case "sourceType":
			e.SourceType = d.String()
		case "sourceId":
			e.SourceID = d.String()
		case "message":
			e.Message = d.String()
		}
		more = d.NextMember()
	}
	return !more && d.Done()
}

// encodeEvent is json.Marshal(e), without reflection where it can.
func encodeEvent(e *Event) ([]byte, error) {
	if b, ok := e.appendJSON(make([]byte, 0, 96+len(e.SourceID)+len(e.Message))); ok {
		return b, nil
	}
	return json.Marshal(e)
}

// decodeEvent is json.Unmarshal into a fresh Event, without reflection
// where it can.
func decodeEvent(b []byte, e *Event) error {
	if e.decodeJSON(b) {
		return nil
	}
	*e = Event{}
	if err := json.Unmarshal(b, e); err != nil {
		return fmt.Errorf("decode event: %w", err)
	}
	return nil
}
