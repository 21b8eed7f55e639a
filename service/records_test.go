package service

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/elasticache-server/elasticache-server/service/schema"
)

// The generated record codecs (records_gen.go) against encoding/json, the
// format they stand in for: on seeded random records, AppendJSON writes
// json.Marshal's bytes and DecodeJSON reads them back to what
// json.Unmarshal reads; on any bytes, what DecodeJSON accepts
// json.Unmarshal reads to the same value.

// codec is what recordgen generates for each type.
type codec interface {
	AppendJSON(b []byte) ([]byte, bool)
	DecodeJSON(b []byte) bool
}

// newCodec returns a new zero value of the pointer type of typ.
func newCodec(typ any) codec {
	return reflect.New(reflect.TypeOf(typ).Elem()).Interface().(codec)
}

// exactTime compares times by instant and zone, where time.Time.Equal
// would let a decoder that lost the zone pass.
var exactTime = cmp.Comparer(func(a, b time.Time) bool {
	an, ao := a.Zone()
	bn, bo := b.Zone()
	return a.Equal(b) && an == bn && ao == bo
})

// exact compares decoded values: nil and empty differ, times by zone too.
var exact = cmp.Options{exactTime}

// awkwardStrings need escapes or are otherwise where encoders differ.
var awkwardStrings = []string{
	"", "plain-name", "<script>&amp;</script>", `quote " and back\slash`, "/slash/",
	"\n\t\r\b\f\x00\x01\x1f\x7f", "héllo wörld", "日本語のグループ", "emoji 🎉👍🏽", "\u2028\u2029",
	"\xff\xfe", "cut\xc3", "\xed\xa0\x80 surrogate", "\ufffd", "a\u00a0b", strings.Repeat("long ", 60),
}

func randString(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return awkwardStrings[rng.IntN(len(awkwardStrings))]
	}
	const alphabet = "abcXYZ019-_. <>&\"\\/\n\té日🎉\u2028"
	runes := []rune(alphabet)
	var b strings.Builder
	for n := rng.IntN(20); n > 0; n-- {
		if rng.IntN(25) == 0 {
			b.WriteByte(byte(0x80 + rng.IntN(0x80))) // invalid UTF-8
			continue
		}
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

func randTime(rng *rand.Rand) time.Time {
	switch rng.IntN(8) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	case 2:
		return time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	case 3:
		return time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)
	}
	t := time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9)*int64(rng.IntN(2)))
	if rng.IntN(2) == 0 {
		// Whole minutes: RFC 3339 cannot write an offset's seconds.
		return t.In(time.FixedZone("", (rng.IntN(48*60)-24*60+1)*60))
	}
	return t.UTC()
}

// fill sets v, of a record or a type it holds, to random values of every
// field kind recordgen supports: empty and nil slices and maps included.
func fill(t testing.TB, rng *rand.Rand, v reflect.Value) {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(randTime(rng)))
		return
	case v.Type() == reflect.TypeFor[*time.Time]():
		if rng.IntN(3) > 0 {
			tm := randTime(rng)
			v.Set(reflect.ValueOf(&tm))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, rng, v.Field(i))
		}
	case reflect.String:
		v.SetString(randString(rng))
	case reflect.Int:
		v.SetInt([]int64{0, 1, 2, -1, math.MaxInt64, math.MinInt64, rng.Int64()}[rng.IntN(7)])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Slice:
		switch n := rng.IntN(5); n {
		case 0: // nil
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1) // 0: empty, not nil
			for i := range n - 1 {
				fill(t, rng, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Map:
		switch n := rng.IntN(5); n {
		case 0: // nil
		default:
			m := reflect.MakeMap(v.Type())
			for range n - 1 {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				fill(t, rng, k)
				fill(t, rng, e)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	default:
		t.Fatalf("fill: %s is not a kind recordgen supports", v.Type())
	}
}

// validUTF8 is s as encoding/json writes it: each byte of invalid UTF-8
// becomes U+FFFD.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// jsonKeeps sets v to what JSON keeps of it: its strings, map keys
// included, as valid UTF-8. It reports whether two keys of a map became
// one (json.Marshal then writes the key twice).
func jsonKeeps(v reflect.Value) (merged bool) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(validUTF8(v.String()))
	case reflect.Struct:
		if v.Type() != reflect.TypeFor[time.Time]() {
			for i := range v.NumField() {
				merged = jsonKeeps(v.Field(i)) || merged
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			merged = jsonKeeps(v.Index(i)) || merged
		}
	case reflect.Map:
		if v.IsNil() {
			return false
		}
		m := reflect.MakeMap(v.Type())
		for it := v.MapRange(); it.Next(); {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			k.Set(it.Key())
			e.Set(it.Value())
			jsonKeeps(k)
			jsonKeeps(e)
			m.SetMapIndex(k, e)
		}
		merged = m.Len() < v.Len()
		v.Set(m)
	}
	return merged
}

func typeName(typ any) string { return reflect.TypeOf(typ).Elem().Name() }

// TestEveryKindHasGeneratedCodecs: a kind whose record struct was added
// without `go generate` would silently fall back to encoding/json.
func TestEveryKindHasGeneratedCodecs(t *testing.T) {
	t.Parallel()
	for _, k := range registeredKinds() {
		if !k.GeneratedCodec() {
			t.Errorf("kind %s: its record type has no generated codec; run go generate ./service", k.Name)
		}
	}
}

func TestRecordCodecsMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, typ := range recordCodecTypes {
		t.Run(typeName(typ), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range 3000 {
				r := newCodec(typ)
				fill(t, rng, reflect.ValueOf(r).Elem())
				want, err := json.Marshal(r)
				got, ok := r.AppendJSON([]byte("prefix"))
				if ok != (err == nil) {
					t.Fatalf("#%d: AppendJSON ok=%v, json.Marshal err=%v\n%#v", i, ok, err, r)
				}
				if !ok {
					continue // a time json.Marshal cannot write either
				}
				if string(got) != "prefix"+string(want) {
					t.Fatalf("#%d: AppendJSON differs from json.Marshal:\n got %s\nwant prefix%s", i, got, want)
				}

				viaJSON, fast := newCodec(typ), newCodec(typ)
				if err := json.Unmarshal(want, viaJSON); err != nil {
					t.Fatal(err)
				}
				merged := jsonKeeps(reflect.ValueOf(r).Elem())
				if !fast.DecodeJSON(want) {
					if merged {
						continue // a key written twice: encoding/json's to decode
					}
					t.Fatalf("#%d: DecodeJSON refused json.Marshal's %s", i, want)
				}
				if diff := cmp.Diff(viaJSON, fast, exact); diff != "" {
					t.Fatalf("#%d: DecodeJSON differs from json.Unmarshal (-json +DecodeJSON):\n%s", i, diff)
				}
				// And the record itself comes back, but for what JSON
				// cannot keep: invalid UTF-8, empty against nil under
				// omitempty.
				if diff := cmp.Diff(r, fast, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("#%d: DecodeJSON(json.Marshal(r)) != r (-r +decoded):\n%s", i, diff)
				}
			}
		})
	}
}

// TestRecordCodecsRefuse: what json.Marshal never writes is refused, so
// that encoding/json decodes it (and reports its errors).
func TestRecordCodecsRefuse(t *testing.T) {
	t.Parallel()
	ok := `{"v":2,"name":"g","description":"d","created":"2024-01-02T03:04:05Z"}`
	if !new(groupRecord).DecodeJSON([]byte(ok)) {
		t.Fatalf("DecodeJSON refused %s", ok)
	}
	for name, in := range map[string]string{
		"space":           `{"v":2, "name":"g"}`,
		"newline at end":  ok + "\n",
		"trailing":        ok + "{}",
		"unknown key":     `{"v":2,"tags":{}}`,
		"folded key":      `{"V":2}`,
		"escaped key":     `{"n\u0061me":"g"}`,
		"duplicate":       `{"name":"a","name":"b"}`,
		"null string":     `{"name":null}`,
		"null time":       `{"created":null}`,
		"float":           `{"v":2.0}`,
		"exponent":        `{"v":2e0}`,
		"minus zero":      `{"v":-0}`,
		"leading zero":    `{"v":02}`,
		"overflow":        `{"v":99999999999999999999}`,
		"string int":      `{"v":"2"}`,
		"lone surrogate":  `{"name":"\ud800"}`,
		"bad escape":      `{"name":"\x"}`,
		"raw control":     "{\"name\":\"a\tb\"}",
		"invalid utf-8":   "{\"name\":\"\xff\"}",
		"escaped time":    `{"created":"2024-01-02T03:04:05\u005a"}`,
		"bad time":        `{"created":"yesterday"}`,
		"unterminated":    `{"name":"g`,
		"empty":           ``,
		"array":           `[]`,
		"ec2 dup in elem": `{"ec2":[{"name":"a","name":"b"}]}`,
		"ec2 not array":   `{"ec2":{}}`,
		"wrong closer":    `{"ec2":[{}}}`,
	} {
		if new(groupRecord).DecodeJSON([]byte(in)) {
			t.Errorf("%s: DecodeJSON accepted %s", name, in)
		}
	}
}

// FuzzRecordCodecs: whatever bytes DecodeJSON accepts, json.Unmarshal
// reads without error to the same value, for every generated type.
func FuzzRecordCodecs(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, typ := range recordCodecTypes {
		for range 20 {
			r := newCodec(typ)
			fill(f, rng, reflect.ValueOf(r).Elem())
			if b, err := json.Marshal(r); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range []string{
		`{}`, `{"v":2}`, `{"name":"\u00e9\ud83c\udf89\"\\\/\b\f\n\r\t"}`, `{"values":{"a":"1","a":"2"}}`,
		`{"values":{}}`, `{"values":null}`, `{"ec2":[]}`, `{"ec2":null}`, `{"subnets":[{"networkTypes":[]}]}`,
		`{"created":"2024-01-02T03:04:05.123+05:30"}`, `{"v":-9223372036854775808}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range recordCodecTypes {
			fast := newCodec(typ)
			if !fast.DecodeJSON(b) {
				continue
			}
			viaJSON := newCodec(typ)
			if err := json.Unmarshal(b, viaJSON); err != nil {
				t.Fatalf("%s: DecodeJSON accepted %q, json.Unmarshal: %v", typeName(typ), b, err)
			}
			if diff := cmp.Diff(viaJSON, fast, exact); diff != "" {
				t.Fatalf("%s: %q: DecodeJSON differs from json.Unmarshal (-json +DecodeJSON):\n%s", typeName(typ), b, diff)
			}
		}
	})
}

// BenchmarkRecordCodec: one security group record with an EC2 entry
// through schema.Encode and schema.Decode (the generated codec) and
// through encoding/json, the fallback.
func BenchmarkRecordCodec(b *testing.B) {
	now := time.Date(2026, 12, 7, 20, 0, 0, 123456789, time.UTC)
	rec := &groupRecord{Name: "web-frontend", Description: "the web tier's caches", Created: now,
		EC2: []ec2Record{{Name: "sg-web", Owner: "123456789012", Authorized: now}}}
	enc, err := schema.Encode(rec)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode/generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := schema.Encode(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := schema.Decode[groupRecord](enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r groupRecord
			if err := json.Unmarshal(enc, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
