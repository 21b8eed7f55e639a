package schema

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The event codec against encoding/json, the format it stands in for.

var eventStrings = []string{
	"", "cache-security-group", "<script>&amp;</script>", `quote " and back\slash`,
	"\n\t\r\b\f\x00\x1f\x7f", "日本語 🎉", "\u2028\u2029", "\xff\xfe", "cut\xc3", "\xed\xa0\x80",
	strings.Repeat("long ", 40),
}

func randomEvent(rng *rand.Rand) Event {
	pick := func() string { return eventStrings[rng.IntN(len(eventStrings))] }
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("X", -7*3600)}
	date := time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
	return Event{V: rng.IntN(5) - 1, Date: date, SourceType: pick(), SourceID: pick(), Message: pick()}
}

func TestEventCodecMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 5000 {
		e := randomEvent(rng)
		want, werr := json.Marshal(&e)
		got, gerr := encodeEvent(&e)
		if (werr == nil) != (gerr == nil) || string(got) != string(want) {
			t.Fatalf("#%d: encodeEvent = %s, %v; json.Marshal = %s, %v", i, got, gerr, want, werr)
		}
		if werr != nil {
			continue
		}
		if _, fast := e.appendJSON(nil); !fast {
			t.Fatalf("#%d: appendJSON refused %+v, which json.Marshal writes", i, e)
		}
		var viaJSON, fast Event
		if err := json.Unmarshal(want, &viaJSON); err != nil {
			t.Fatal(err)
		}
		if !fast.decodeJSON(want) {
			t.Fatalf("#%d: decodeJSON refused json.Marshal's %s", i, want)
		}
		if !fast.Date.Equal(viaJSON.Date) || fast.V != viaJSON.V || fast.SourceType != viaJSON.SourceType ||
			fast.SourceID != viaJSON.SourceID || fast.Message != viaJSON.Message {
			t.Fatalf("#%d: decodeJSON = %+v, json.Unmarshal = %+v", i, fast, viaJSON)
		}
	}
}

// What json.Marshal never writes is refused by the fast decoder and read
// by encoding/json (or refused with its error).
func TestEventCodecFallsBack(t *testing.T) {
	ok := `{"v":2,"date":"2024-01-02T03:04:05Z","sourceType":"cache-cluster","sourceId":"c","message":"m"}`
	var e Event
	if !e.decodeJSON([]byte(ok)) {
		t.Fatalf("decodeJSON refused %s", ok)
	}
	for name, in := range map[string]string{
		"reordered":   `{"date":"2024-01-02T03:04:05Z","v":2,"sourceType":"t","sourceId":"c","message":"m"}`,
		"missing":     `{"v":2,"date":"2024-01-02T03:04:05Z","sourceType":"t","sourceId":"c"}`,
		"extra":       `{"v":2,"date":"2024-01-02T03:04:05Z","sourceType":"t","sourceId":"c","message":"m","x":1}`,
		"space":       `{"v":2, "date":"2024-01-02T03:04:05Z","sourceType":"t","sourceId":"c","message":"m"}`,
		"escaped key": `{"\u0076":2,"date":"2024-01-02T03:04:05Z","sourceType":"t","sourceId":"c","message":"m"}`,
	} {
		var fast, viaJSON Event
		if fast.decodeJSON([]byte(in)) {
			t.Errorf("%s: decodeJSON accepted %s", name, in)
		}
		werr := json.Unmarshal([]byte(in), &viaJSON)
		gerr := decodeEvent([]byte(in), &fast)
		if (werr == nil) != (gerr == nil) || fast != viaJSON {
			t.Errorf("%s: decodeEvent = %+v, %v; json.Unmarshal = %+v, %v", name, fast, gerr, viaJSON, werr)
		}
	}
}
