package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// A state document is every account and region the service stores, as one
// versioned JSON value (docs/STATE.md describes each field). Each kind has
// its list in every region, declared by its Section; events follow. Derived
// records (the counters, the event expiry index) are not in it: import
// rebuilds them. Neither is the marker key, which is not state but a
// secret of the store.

// StateFormat is the "format" of every state document.
const StateFormat = "elasticache-server/state"

// StateVersion is the document version this server writes and the newest
// it reads. A newer document is refused rather than read in part.
const StateVersion = 1

// ErrUnfinished is wrapped by Export when an import or reset written in
// several transactions (etcd) did not finish: the state is part old, part
// new, and exporting it would pass that on. Running the import or reset
// again completes it.
var ErrUnfinished = errors.New("an import or reset did not finish")

// Section is a kind's list in the state document.
type Section struct {
	// Export turns a stored record and its tags into the document's item:
	// a value json encodes with its fields in document order.
	Export func(record []byte, tags Tags) (any, error)
	// Parse checks the item at path with p, reporting every problem to p,
	// and returns what to store. ok is false when it found a problem;
	// nameOK says the name is valid, so duplicates of it can be told
	// whatever else is wrong.
	Parse func(p *Parser, path string, v any) (item Item, ok, nameOK bool)
	// Check, when not nil, applies the rules that tie the kind's items to
	// other items of their region (a user group's members are users of
	// it), once every item of the region has parsed cleanly. items returns
	// a kind's items by Field; itemPath is the path of an item by Field
	// and name.
	Check func(p *Parser, items func(field string) []Item, itemPath func(field, name string) string)
}

// Item is one record of a document, ready to store.
type Item struct {
	// Name is the record's stored name.
	Name string
	// Record is its stored encoding (Table.Encode).
	Record []byte
	Tags   Tags
}

// Tag is a tag in a state document.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TagList is ts in key order, as a document lists them: never nil.
func TagList(ts Tags) []Tag {
	out := []Tag{}
	for _, k := range ts.SortedKeys() {
		out = append(out, Tag{Key: k, Value: ts[k]})
	}
	return out
}

// StateEvent is an event in a state document.
type StateEvent struct {
	Date       time.Time `json:"date"`
	SourceType string    `json:"sourceType"`
	SourceID   string    `json:"sourceId"`
	Message    string    `json:"message"`
	// ID tells events of the same instant apart and fixes their order.
	ID string `json:"id"`
}

// compareEvents orders events as their keys do: newest first, then by ID.
func compareEvents(a, b StateEvent) int {
	if c := b.Date.Compare(a.Date); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// document is a parsed or read state: accounts, their regions, each
// region's items per kind (by Field) and events, all in document order.
type document struct {
	accounts []docAccount
}

type docAccount struct {
	id      string
	regions []docRegion
}

type docRegion struct {
	region string
	items  map[string][]docItem // by kind Field
	events []StateEvent
}

type docItem struct {
	Item
	exported any // the item as exported; nil when parsed
}

// Export returns the state document of the whole store, read in tx:
// accounts, regions and records in name order, events newest first, tags
// in key order, indented JSON ending in a newline. The same state always
// gives the same bytes. It fails wrapping ErrUnfinished while an
// interrupted import or reset is pending, and refuses a store holding a
// key it does not know rather than leave it out.
func (r *Registry) Export(tx storage.Tx) ([]byte, error) {
	doc, err := r.readState(tx)
	if err != nil {
		return nil, err
	}
	return r.encodeState(doc)
}

func (r *Registry) readState(tx storage.Tx) (*document, error) {
	if m, err := readUnfinished(tx); err != nil {
		return nil, err
	} else if m != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnfinished, m)
	}
	type recKey struct {
		sc   Scope
		kind *Kind
		name string
	}
	records := map[recKey][]byte{}
	tags := map[recKey]Tags{}
	regions := map[Scope]*docRegion{}
	region := func(sc Scope) *docRegion {
		d := regions[sc]
		if d == nil {
			d = &docRegion{region: sc.Region, items: map[string][]docItem{}}
			regions[sc] = d
		}
		return d
	}
	err := tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
		key := string(k)
		switch {
		case key == string(schemaKey), key == string(markerKeyKey), strings.HasPrefix(key, string(expiryPrefix)), strings.HasPrefix(key, string(fleetPrefix)):
			return true, nil // not state, or derived
		case !strings.HasPrefix(key, "a/"):
			return false, fmt.Errorf("export: unknown key %q: this server does not know what it holds", key)
		}
		sc, rest, err := splitScopeKey(k)
		if err != nil {
			return false, fmt.Errorf("export: %w", err)
		}
		seg, name, ok := strings.Cut(string(rest), "/")
		if !ok {
			return false, fmt.Errorf("export: malformed key %q", key)
		}
		switch seg {
		case "n":
			// A counter: rebuilt by import.
		case "t":
			kseg, rname, ok := strings.Cut(name, "/")
			kind, known := r.bySegment(kseg)
			if !ok || !known {
				return false, fmt.Errorf("export: unknown key %q: this server does not know what it holds", key)
			}
			ts, err := decodeTags(v)
			if err != nil {
				return false, fmt.Errorf("export: %s: %w", key, err)
			}
			tags[recKey{sc, kind, rname}] = ts
		case "ev":
			_, id, ok := strings.Cut(name, "/")
			if !ok {
				return false, fmt.Errorf("export: malformed event key %q", key)
			}
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return false, fmt.Errorf("export: %s: decode event: %w", key, err)
			}
			if e.V > Version {
				return false, fmt.Errorf("export: %s: event has schema version %d, newer than this server's %d", key, e.V, Version)
			}
			d := region(sc)
			d.events = append(d.events, StateEvent{Date: e.Date.UTC(), SourceType: e.SourceType, SourceID: e.SourceID, Message: e.Message, ID: id})
		default:
			kind, known := r.bySegment(seg)
			if !known {
				return false, fmt.Errorf("export: unknown key %q: this server does not know what it holds", key)
			}
			region(sc)
			records[recKey{sc, kind, name}] = bytes.Clone(v)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for rk := range tags {
		if _, ok := records[rk]; !ok {
			return nil, fmt.Errorf("export: tags of %s %q in %s/%s, which is not stored", rk.kind.Name, rk.name, rk.sc.Account, rk.sc.Region)
		}
	}
	for rk, rec := range records {
		item, err := rk.kind.State.Export(rec, tags[rk])
		if err != nil {
			return nil, fmt.Errorf("export: %s %q in %s/%s: %w", rk.kind.Name, rk.name, rk.sc.Account, rk.sc.Region, err)
		}
		d := regions[rk.sc]
		d.items[rk.kind.Field] = append(d.items[rk.kind.Field], docItem{Item: Item{Name: rk.name}, exported: item})
	}
	accounts := map[string]*docAccount{}
	for sc, d := range regions {
		for _, items := range d.items {
			slices.SortFunc(items, func(a, b docItem) int { return strings.Compare(a.Name, b.Name) })
		}
		slices.SortFunc(d.events, compareEvents)
		a := accounts[sc.Account]
		if a == nil {
			a = &docAccount{id: sc.Account}
			accounts[sc.Account] = a
		}
		a.regions = append(a.regions, *d)
	}
	doc := &document{}
	for _, a := range accounts {
		slices.SortFunc(a.regions, func(x, y docRegion) int { return strings.Compare(x.region, y.region) })
		doc.accounts = append(doc.accounts, *a)
	}
	slices.SortFunc(doc.accounts, func(x, y docAccount) int { return strings.Compare(x.id, y.id) })
	return doc, nil
}

// field is one member of an object whose members come in a fixed order.
type field struct {
	name  string
	value any
}

// object encodes its fields in order. Strings stay readable: <&> as they
// are, as the document's encoder writes them.
type object []field

// MarshalJSON writes {"name":value,…} in order.
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(f.name); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(f.value); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (r *Registry) encodeState(doc *document) ([]byte, error) {
	accounts := []object{}
	for _, a := range doc.accounts {
		regions := []object{}
		for _, d := range a.regions {
			o := object{{"region", d.region}}
			for _, k := range r.kinds {
				items := []any{}
				for _, it := range d.items[k.Field] {
					items = append(items, it.exported)
				}
				o = append(o, field{k.Field, items})
			}
			events := d.events
			if events == nil {
				events = []StateEvent{}
			}
			regions = append(regions, append(o, field{"events", events}))
		}
		accounts = append(accounts, object{{"id", a.id}, {"regions", regions}})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // descriptions and tags stay readable: <&> as they are
	enc.SetIndent("", "  ")
	if err := enc.Encode(object{{"format", StateFormat}, {"version", StateVersion}, {"accounts", accounts}}); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return buf.Bytes(), nil
}
