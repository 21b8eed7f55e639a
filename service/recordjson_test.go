package service

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// recordJSONCase builds a group and an event from fuzzable values.
func recordJSONCase(name, desc, tagKey, tagValue string, nanos int64, offset int, revoked bool) (*groupRecord, *eventRecord) {
	at := time.Unix(0, nanos).In(time.FixedZone("z", offset))
	g := &groupRecord{V: SchemaVersion, Name: name, Description: desc, Created: at}
	if tagKey != "" || tagValue != "" {
		g.Tags = tagSet{tagKey: tagValue, "b-" + tagKey: desc, "a": name}
	}
	if revoked {
		later := at.Add(time.Minute)
		g.EC2 = []ec2Record{{Name: desc, Owner: "123456789012", Authorized: at}, {Name: name, Owner: tagValue, Authorized: at.UTC(), Revoked: &later}}
	}
	return g, &eventRecord{V: SchemaVersion, Date: at, SourceType: sourceTypeGroup, SourceID: name, Message: desc}
}

// checkRecordJSON fails unless the hand-written encoders write exactly
// json.Marshal's bytes, and fail where it fails.
func checkRecordJSON(t *testing.T, g *groupRecord, e *eventRecord) {
	t.Helper()
	want, wantErr := json.Marshal(g)
	got, err := encodeGroup(g)
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("encodeGroup(%+v)\n got %s (%v)\nwant %s (%v)", g, got, err, want, wantErr)
	}
	want, wantErr = json.Marshal(e)
	got, err = encodeEvent(e)
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("encodeEvent(%+v)\n got %s (%v)\nwant %s (%v)", e, got, err, want, wantErr)
	}
}

var recordJSONSeeds = []struct {
	name, desc, tagKey, tagValue string
	nanos                        int64
	offset                       int
	revoked                      bool
}{
	{"my-group", "plain description", "", "", 1_790_000_000_123_456_789, 0, false},
	{"g", "", "env", "prod", 1_790_000_000_000_000_000, 0, true},
	{"quotes", `a "quoted" \ back`, "k<>&", "v\u2028\u2029", 0, 3600, true},
	{"ctl", "tab\tnew\nline\r\x00\x1f\x7f", "\b\f", "é ü 日本", -1, -5 * 3600, false},
	{"bad-utf8", "\xff\xfe", "\xc3", "ok", 1, 19800, true},
	{"max-nanos", "x", "", "", 1<<63 - 1, 0, false},
	{"offset-24h", "x", "", "", 1_790_000_000_000_000_000, 24 * 3600, false},   // refused by MarshalJSON
	{"offset-secs", "x", "k", "v", 1_790_000_000_000_000_000, 3600 + 30, true}, // seconds are not printed
	{"negative-offset", "x", "k", "v", 1_790_000_000_000_000_000, -(23*3600 + 59*60), true},
}

func TestRecordJSONMatchesMarshal(t *testing.T) {
	for _, c := range recordJSONSeeds {
		g, e := recordJSONCase(c.name, c.desc, c.tagKey, c.tagValue, c.nanos, c.offset, c.revoked)
		checkRecordJSON(t, g, e)
	}
	// Times json.Marshal refuses: far years, both signs.
	for _, year := range []int{-1, 0, 9999, 10000, 12345} {
		at := time.Date(year, 6, 1, 2, 3, 4, 5, time.UTC)
		checkRecordJSON(t, &groupRecord{V: 1, Name: "n", Created: at}, &eventRecord{V: 1, Date: at})
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aZ09-_ .\"\\<>&\t\n\x00\x7féü日\u2028\ufffd")
	str := func() string {
		n := r.IntN(12)
		out := make([]rune, n)
		for i := range out {
			out[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(out)
	}
	for range 2000 {
		g, e := recordJSONCase(str(), str(), str(), str(), r.Int64(), (r.IntN(49)-24)*1800+r.IntN(2)*17, r.IntN(2) == 0)
		checkRecordJSON(t, g, e)
	}
}

// FuzzRecordJSON compares the hand-written record encoders with
// json.Marshal on any strings, instants and offsets.
func FuzzRecordJSON(f *testing.F) {
	for _, c := range recordJSONSeeds {
		f.Add(c.name, c.desc, c.tagKey, c.tagValue, c.nanos, c.offset, c.revoked)
	}
	f.Fuzz(func(t *testing.T, name, desc, tagKey, tagValue string, nanos int64, offset int, revoked bool) {
		g, e := recordJSONCase(name, desc, tagKey, tagValue, nanos, offset%(48*3600), revoked)
		checkRecordJSON(t, g, e)
	})
}

// BenchmarkEncodeRecords is a create's two records, written by hand and,
// for comparison, by json.Marshal.
func BenchmarkEncodeRecords(b *testing.B) {
	at := time.Date(2026, 11, 23, 19, 4, 5, 123456789, time.UTC)
	g := &groupRecord{V: SchemaVersion, Name: "bench-000000001", Description: "bench group", Created: at}
	e := &eventRecord{V: SchemaVersion, Date: at, SourceType: sourceTypeGroup, SourceID: g.Name, Message: "Cache security group bench-000000001 created"}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeGroup(g); err != nil {
				b.Fatal(err)
			}
			if _, err := encodeEvent(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(g); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
