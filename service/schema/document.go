package schema

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Parse checks a whole document with the API's rules and returns what to
// store, or an *InvalidStateError listing every problem found.
func (r *Registry) parse(doc []byte, rules Rules) (*document, error) {
	p := &Parser{reg: r, rules: rules}
	root, ok := p.parseJSON(doc)
	var d *document
	if ok {
		d = p.document(root)
	}
	if p.found > 0 {
		return nil, &InvalidStateError{Problems: p.problems, Omitted: p.found - len(p.problems)}
	}
	return d, nil
}

// Validate checks a state document as Import does, without a store: nil,
// or an *InvalidStateError listing the problems.
func (r *Registry) Validate(doc []byte, rules Rules) error {
	_, err := r.parse(doc, rules)
	return err
}

func (p *Parser) document(root any) *document {
	o, ok := p.Object("$", root, "format", "version", "accounts")
	if !ok {
		return nil
	}
	d := &document{}
	if f, ok := p.Str("$", o, "format", true); ok && f != StateFormat {
		p.Add("$.format", "must be %q, not %s: this is not an elasticache-server state document", StateFormat, Quote(f))
	}
	if v, ok := o.values["version"]; !ok {
		p.Add("$.version", "is required")
	} else if n, isNum := v.(json.Number); !isNum {
		p.Add("$.version", "must be a number, not %s", jsonKind(v))
	} else if version, err := strconv.Atoi(n.String()); err != nil || version < 1 {
		p.Add("$.version", "must be a positive whole number, not %s", cut(n.String()))
	} else if version > StateVersion {
		// A newer document may mean something else by every other field:
		// say only this.
		p.reset()
		p.Add("$.version", "the document has version %d, newer than the %d this server reads; upgrade elasticache-server", version, StateVersion)
		return nil
	}
	d.accounts, _ = UniqueList(d.accounts, "$", "accounts", p.List("$", o, "accounts", true), p.account,
		func(a docAccount) (string, bool) { return a.id, true },
		func(apath string, a docAccount, first string) {
			p.Add(apath+".id", "account %s is also %s", a.id, first)
		})
	slices.SortFunc(d.accounts, func(x, y docAccount) int { return strings.Compare(x.id, y.id) })
	return d
}

func (p *Parser) account(path string, v any) (a docAccount, ok, idOK bool) {
	o, ok := p.Object(path, v, "id", "regions")
	if !ok {
		return docAccount{}, false, false
	}
	n := p.found
	id, idOK := p.Str(path, o, "id", true)
	if idOK && !p.rules.IsAccountID(id) {
		p.Add(path+".id", "must be a 12-digit AWS account ID, not %s", Quote(id))
		idOK = false
	}
	a = docAccount{id: id}
	a.regions, _ = UniqueList(a.regions, path, "regions", p.List(path, o, "regions", true), p.region,
		func(r docRegion) (string, bool) { return r.region, true },
		func(rpath string, r docRegion, first string) {
			p.Add(rpath+".region", "region %s is also %s", r.region, first)
		})
	slices.SortFunc(a.regions, func(x, y docRegion) int { return strings.Compare(x.region, y.region) })
	return a, p.found == n, idOK
}

func (p *Parser) region(path string, v any) (d docRegion, ok, nameOK bool) {
	known := []string{"region"}
	for _, k := range p.reg.kinds {
		known = append(known, k.Field)
	}
	o, ok := p.Object(path, v, append(known, "events")...)
	if !ok {
		return docRegion{}, false, false
	}
	n := p.found
	name, nameOK := p.Str(path, o, "region", true)
	if nameOK && !p.rules.IsRegion(name) {
		p.Add(path+".region", "must be a region name such as us-east-1, not %s", Quote(name))
		nameOK = false
	}
	d = docRegion{region: name, items: map[string][]docItem{}}
	indexes := map[string]map[string]int{} // by Field: an item's name → its index
	for _, k := range p.reg.kinds {
		items, seen := UniqueList(nil, path, k.Field, p.List(path, o, k.Field, false),
			func(ipath string, v any) (docItem, bool, bool) {
				it, ok, nameOK := k.State.Parse(p, ipath, v)
				return docItem{Item: it}, ok, nameOK
			},
			func(it docItem) (string, bool) { return it.Name, true },
			func(ipath string, it docItem, first string) {
				p.Add(ipath+".name", "%s %s is also %s (names are matched without regard to case)", k.Noun, it.Name, first)
			})
		slices.SortFunc(items, func(a, b docItem) int { return strings.Compare(a.Name, b.Name) })
		d.items[k.Field] = items
		indexes[k.Field] = seen
	}
	// Rules across kinds, once every item of the region reads cleanly: a
	// problem in one item would otherwise be reported again by the items
	// that refer to it.
	for _, k := range p.reg.kinds {
		if k.State.Check == nil || p.found != n {
			continue
		}
		k.State.Check(p, func(field string) []Item {
			var out []Item
			for _, it := range d.items[field] {
				out = append(out, it.Item)
			}
			return out
		}, func(field, name string) string {
			return fmt.Sprintf("%s.%s[%d]", path, field, indexes[field][name])
		})
	}
	type eventKey struct {
		date int64
		id   string
	}
	var seenEv map[eventKey]int
	d.events, seenEv = UniqueList(d.events, path, "events", p.List(path, o, "events", false), p.event,
		func(e StateEvent) (eventKey, bool) { return eventKey{e.Date.UnixNano(), e.ID}, e.ID != "" },
		func(epath string, e StateEvent, first string) {
			p.Add(epath+".id", "event %s at %s is also %s", e.ID, e.Date.Format(time.RFC3339Nano), first)
		})
	for i := range d.events {
		if d.events[i].ID == "" {
			d.events[i].ID = NewEventID(func(id string) bool {
				_, taken := seenEv[eventKey{d.events[i].Date.UnixNano(), id}]
				return taken
			})
			seenEv[eventKey{d.events[i].Date.UnixNano(), d.events[i].ID}] = -1
		}
	}
	slices.SortFunc(d.events, compareEvents)
	return d, p.found == n, nameOK
}

// Event dates are keys (nanoseconds since 1970 in 64 bits), so they must
// fall between these.
var (
	minEventDate = time.Unix(0, 0).UTC()
	maxEventDate = time.Unix(0, 1<<63-1).UTC()
)

func (p *Parser) event(path string, v any) (e StateEvent, ok, keyOK bool) {
	o, ok := p.Object(path, v, "date", "sourceType", "sourceId", "message", "id")
	if !ok {
		return StateEvent{}, false, false
	}
	n := p.found
	dateOK, idOK := false, false
	if d, ok := p.Time(path, o, "date", true); ok {
		if d.Before(minEventDate) || d.After(maxEventDate) {
			p.Add(path+".date", "must be between %s and %s", minEventDate.Format(time.RFC3339), maxEventDate.Format(time.RFC3339))
		} else {
			dateOK = true
		}
		e.Date = d
	}
	if st, ok := p.Str(path, o, "sourceType", true); ok {
		if !slices.Contains(p.rules.SourceTypes, st) {
			p.Add(path+".sourceType", "must be one of %s, not %s", strings.Join(p.rules.SourceTypes, ", "), Quote(st))
		}
		e.SourceType = st
	}
	if id, ok := p.Str(path, o, "sourceId", true); ok {
		if k, stored := p.reg.ByName(e.SourceType); stored {
			// DescribeEvents matches a record's events by its stored name.
			name, err := k.ValidName(id)
			if err != nil {
				p.Add(path+".sourceId", "%s", err.Error())
			}
			id = name
		} else if err := plainText(id); err != nil {
			p.Add(path+".sourceId", "%v", err)
		}
		e.SourceID = id
	}
	if msg, ok := p.Str(path, o, "message", true); ok {
		if err := plainText(msg); err != nil {
			p.Add(path+".message", "%v", err)
		}
		e.Message = msg
	}
	if id, ok := p.Str(path, o, "id", false); ok {
		if len(id) != 12 || strings.ToLower(id) != id || !isHex(id) {
			p.Add(path+".id", "must be 12 lowercase hexadecimal digits, not %s (or left out, to have one chosen)", Quote(id))
		} else {
			idOK = true
		}
		e.ID = id
	}
	return e, p.found == n, dateOK && idOK
}

// plainText refuses the empty string and control characters, which an
// answer's XML could not carry.
func plainText(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("must not contain control characters (%U)", r)
		}
	}
	return nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// ImportOptions are Import's settings; the zero value replaces the state
// in one transaction.
type ImportOptions struct {
	// OnlyIfEmpty makes Import write nothing, and report Skipped, when the
	// store holds any record or event, or an unfinished import or reset.
	// It is what --seed does at start.
	OnlyIfEmpty bool
	// Batching bounds each transaction; see Batching.
	Batching Batching
}

// ImportResult says what Import did.
type ImportResult struct {
	// Skipped is set when OnlyIfEmpty found a store that is not empty;
	// Unfinished then names an interrupted import or reset found there.
	Skipped    bool
	Unfinished string
	// Accounts, Regions, Records (per kind Field) and Events count what
	// the document holds (and the store now holds, unless Skipped).
	Accounts, Regions int
	Records           map[string]int
	Events            int
}

// records turns a checked document into the records to store, in key
// order: records, their tags and counters, events and their expiry index.
func (r *Registry) records(d *document, res *ImportResult) ([]record, error) {
	var puts []record
	res.Records = map[string]int{}
	for _, k := range r.kinds {
		res.Records[k.Field] = 0
	}
	for _, a := range d.accounts {
		res.Regions += len(a.regions)
		for _, reg := range a.regions {
			sc := Scope{Account: a.id, Region: reg.region}
			for _, k := range r.kinds {
				n := 0
				for _, it := range reg.items[k.Field] {
					puts = append(puts, record{key: []byte(sc.prefix() + k.Segment + "/" + it.Name), value: it.Record})
					if len(it.Tags) > 0 {
						b, err := json.Marshal(it.Tags)
						if err != nil {
							return nil, err
						}
						puts = append(puts, record{key: tagKey(sc, k, it.Name), value: b})
					}
					if !k.IsVirtual(it.Name) {
						n++
					}
				}
				res.Records[k.Field] += len(reg.items[k.Field])
				if n > 0 {
					puts = append(puts, record{key: countKey(sc, k), value: []byte(strconv.Itoa(n))})
				}
			}
			for _, e := range reg.events {
				b, err := json.Marshal(&Event{V: Version, Date: e.Date, SourceType: e.SourceType, SourceID: e.SourceID, Message: e.Message})
				if err != nil {
					return nil, err
				}
				pos := InvertedTime(e.Date) + "/" + e.ID
				puts = append(puts,
					record{key: append(eventPrefix(sc), pos...), value: b},
					record{key: []byte(string(expiryPrefix) + timeHex(e.Date) + "/" + sc.Account + "/" + sc.Region + "/" + pos), value: []byte{}})
			}
			res.Events += len(reg.events)
		}
	}
	slices.SortFunc(puts, func(a, b record) int { return bytes.Compare(a.key, b.key) })
	return puts, nil
}
