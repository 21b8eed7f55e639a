package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// recordSamples are group records as the service writes them, and some it
// never writes, for both decoders.
func recordSamples() []*groupRecord {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.UTC)
	t1 := t0.Add(90 * time.Second)
	return []*groupRecord{
		{Name: "web", Description: "plain", Created: t0},
		{Name: "default", Description: "default", Created: time.Time{}},
		{Name: "tags", Description: "Ünïcode description ✓", Created: t0, Tags: tagSet{"env": "prod", "empty": "", "ключ": "значение"}},
		{Name: "escapes", Description: `needs "escaping" <&> \ and a tab	here`, Created: t0, Tags: tagSet{"a<b": "x&y"}},
		{Name: "ec2", Description: "d", Created: t0, EC2: []ec2Record{
			{Name: "app", Owner: "123456789012", Authorized: t0},
			{Name: "old", Owner: "210987654321", Authorized: t0, Revoked: &t1},
		}},
		{Name: "zone", Description: "d", Created: t0.In(time.FixedZone("", 5*3600+1800))},
	}
}

// TestDecodeGroupFastAgrees checks the fast decoder against encoding/json
// on records the service writes: it must decode the common ones itself and
// give exactly encoding/json's answer.
func TestDecodeGroupFastAgrees(t *testing.T) {
	t.Parallel()
	for _, rec := range recordSamples() {
		b, err := encodeGroup(rec)
		mustOK(t, err)
		var want groupRecord
		mustOK(t, json.Unmarshal(b, &want))
		got, ok := decodeGroupFast(b, true)
		if rec.Name != "escapes" && !ok {
			t.Errorf("%s: fast decoder declined %s", rec.Name, b)
		}
		if ok && !reflect.DeepEqual(*got, want) {
			t.Errorf("%s: fast decoder = %+v, encoding/json = %+v", rec.Name, *got, want)
		}
		slow, err := decodeGroup(b)
		mustOK(t, err)
		if !reflect.DeepEqual(*slow, want) {
			t.Errorf("%s: decodeGroup = %+v, want %+v", rec.Name, *slow, want)
		}
		shown, err := decodeGroupShown(b)
		mustOK(t, err)
		if !sameShown(shown, &want) {
			t.Errorf("%s: decodeGroupShown = %+v, want %+v", rec.Name, *shown, want)
		}
	}
}

func TestDecodeGroupFastDeclines(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		``, `{`, `{"v":1`, `{"v":1}x`, `{ "v":1}`, `{"v":01}`, `{"v":-1}`, `{"v":1.5}`, `{"V":1}`,
		`{"v":1,"v":1}`, `{"name":null}`, `{"name":"a\"b"}`, `{"name":"\u0061"}`, "{\"name\":\"\xff\"}",
		`{"created":"2026-13-01T00:00:00Z"}`, `{"ec2":null}`, `{"ec2":[{"revoked":null}]}`, `{"tags":{"a":1}}`,
		`{"unknown":1}`, `{"ec2":[{"name":"a","name":"b"}]}`, `{"tags":{"a":"b"},"tags":{"c":"d"}}`,
	} {
		if r, ok := decodeGroupFast([]byte(in), true); ok {
			t.Errorf("decodeGroupFast(%q) = %+v, want it to leave the input to encoding/json", in, r)
		}
	}
}

// FuzzDecodeGroupFast: whatever the fast decoder accepts, encoding/json
// decodes to the same record.
func FuzzDecodeGroupFast(f *testing.F) {
	for _, rec := range recordSamples() {
		b, err := encodeGroup(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if shown, ok := decodeGroupFast(b, false); ok {
			var want groupRecord
			if err := json.Unmarshal(b, &want); err == nil && !sameShown(shown, &want) {
				t.Fatalf("%q: shown fields = %+v, encoding/json = %+v", b, *shown, want)
			}
		}
		got, ok := decodeGroupFast(b, true)
		if !ok {
			return
		}
		var want groupRecord
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("fast decoder accepted %q, encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("%q: fast decoder = %+v, encoding/json = %+v", b, *got, want)
		}
	})
}

// sameShown compares what a describe shows of two records.
func sameShown(a, b *groupRecord) bool {
	return a.V == b.V && a.Name == b.Name && a.Description == b.Description && reflect.DeepEqual(a.EC2, b.EC2)
}

// updateCounter is a store that counts Updates.
type updateCounter struct {
	storage.Store
	updates int
}

func (s *updateCounter) Update(ctx context.Context, fn func(storage.Tx) error) error {
	s.updates++
	return s.Store.Update(ctx, fn)
}

// TestOpenPreparedStoreOnlyReads: the first Open prepares the store, a
// later one only reads it (start-up pays no commit) and gets the same
// marker key; a store of a newer schema is refused.
func TestOpenPreparedStoreOnlyReads(t *testing.T) {
	t.Parallel()
	st := &updateCounter{Store: openStore(t, "")}
	first, err := Open(context.Background(), st, nil, Config{})
	mustOK(t, err)
	if st.updates != 1 {
		t.Fatalf("first Open ran %d Updates, want 1", st.updates)
	}
	second, err := Open(context.Background(), st, nil, Config{})
	mustOK(t, err)
	if st.updates != 1 {
		t.Fatalf("Open of a prepared store ran %d more Updates", st.updates-1)
	}
	if !bytes.Equal(first.markers.key, second.markers.key) {
		t.Fatal("the marker key changed between Opens")
	}
	mustOK(t, st.Store.Update(context.Background(), func(tx storage.Tx) error {
		return tx.Put(schemaKey, []byte(`{"version":99}`))
	}))
	if _, err := Open(context.Background(), st, nil, Config{}); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer schema: %v, want ErrNewerSchema", err)
	}
}

// TestExpireEventsWithNothingExpiredOnlyReads: the sweep at every start and
// every hour commits nothing when no event has expired.
func TestExpireEventsWithNothingExpiredOnlyReads(t *testing.T) {
	t.Parallel()
	st := &updateCounter{Store: openStore(t, "")}
	clock := newFakeClock()
	svc, err := Open(context.Background(), st, clock, Config{})
	mustOK(t, err)
	f := &fixture{svc: svc, clock: clock, store: st}
	create(t, f, ctxA, "web")
	before := st.updates
	n, err := svc.ExpireEvents(context.Background(), 0)
	mustOK(t, err)
	if n != 0 || st.updates != before {
		t.Fatalf("ExpireEvents removed %d events in %d Updates, want none in none", n, st.updates-before)
	}
	clock.Advance(EventRetention + time.Hour)
	n, err = svc.ExpireEvents(context.Background(), 0)
	mustOK(t, err)
	if n != 1 || st.updates != before+1 {
		t.Fatalf("ExpireEvents removed %d events in %d Updates, want 1 in 1", n, st.updates-before)
	}
}
