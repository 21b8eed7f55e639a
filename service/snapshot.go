package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

// A state document is every account and region the service stores, as one
// versioned JSON value (docs/STATE.md describes each field). ExportState
// writes it; ImportState checks all of it and then replaces the stored
// state with it. Derived records (the per-scope group counters, the event
// expiry index) are not in it: import rebuilds them. Neither is the marker
// key, which is not state but a secret of the store: markers issued before
// an import keep working when they name a position that still makes sense,
// and simply resume from there.

// StateFormat is the "format" of every state document.
const StateFormat = "elasticache-server/state"

// StateVersion is the document version this server writes and the newest
// it reads. A newer document is refused rather than read in part.
const StateVersion = 1

// maxStateDepth bounds the nesting of a document: a valid one has 6
// levels, and a deeper one is refused before it can exhaust the stack.
const maxStateDepth = 16

// ErrUnfinished is wrapped by ExportState when an import or reset written in
// several transactions (etcd) did not finish: the state is part old, part
// new, and exporting it would pass that on. Running the import or reset
// again completes it.
var ErrUnfinished = errors.New("an import or reset did not finish")

// The document's shapes. Field order is output order; lists are never
// omitted, so every document has the same skeleton.
type stateDoc struct {
	Format   string         `json:"format"`
	Version  int            `json:"version"`
	Accounts []stateAccount `json:"accounts"`
}

type stateAccount struct {
	ID      string        `json:"id"`
	Regions []stateRegion `json:"regions"`
}

type stateRegion struct {
	Region              string       `json:"region"`
	CacheSecurityGroups []stateGroup `json:"cacheSecurityGroups"`
	Events              []stateEvent `json:"events"`
}

type stateGroup struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Created is absent for a default group that was stored when it was
	// first changed: it was never created.
	Created           *time.Time `json:"created,omitempty"`
	EC2SecurityGroups []stateEC2 `json:"ec2SecurityGroups"`
	Tags              []stateTag `json:"tags"`
}

type stateEC2 struct {
	Name       string     `json:"name"`
	OwnerID    string     `json:"ownerId"`
	Authorized time.Time  `json:"authorized"`
	Revoked    *time.Time `json:"revoked,omitempty"`
}

type stateTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type stateEvent struct {
	Date       time.Time `json:"date"`
	SourceType string    `json:"sourceType"`
	SourceID   string    `json:"sourceId"`
	Message    string    `json:"message"`
	// ID tells events of the same instant apart and fixes their order.
	ID string `json:"id"`
}

// ExportState returns the state document of the whole store, read in one
// consistent transaction: accounts, regions and groups in name order,
// events newest first, tags in key order, indented JSON ending in a
// newline. The same state always gives the same bytes. It fails wrapping
// ErrUnfinished while an interrupted import or reset is pending, and
// refuses a store holding a key it does not know rather than leave it out.
func (s *ElastiCache) ExportState(ctx context.Context) ([]byte, error) {
	var doc *stateDoc
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		doc, err = readState(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return encodeState(doc)
}

func encodeState(doc *stateDoc) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // descriptions and tags stay readable: <&> as they are
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return buf.Bytes(), nil
}

// readState reads every key of the store into a document.
func readState(tx storage.Tx) (*stateDoc, error) {
	if m, err := readUnfinished(tx); err != nil {
		return nil, err
	} else if m != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnfinished, m)
	}
	scopes := map[scope]*stateRegion{}
	region := func(sc scope) *stateRegion {
		r := scopes[sc]
		if r == nil {
			r = &stateRegion{Region: sc.region, CacheSecurityGroups: []stateGroup{}, Events: []stateEvent{}}
			scopes[sc] = r
		}
		return r
	}
	err := tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
		key := string(k)
		switch {
		case key == string(schemaKey), key == string(markerKeyKey), strings.HasPrefix(key, string(expiryPrefix)):
			return true, nil // not state, or derived
		case !strings.HasPrefix(key, "a/"):
			return false, fmt.Errorf("export: unknown key %q: this server does not know what it holds", key)
		}
		parts := strings.SplitN(key[len("a/"):], "/", 4)
		if len(parts) != 4 {
			return false, fmt.Errorf("export: malformed key %q", key)
		}
		sc := scope{account: parts[0], region: parts[1]}
		switch parts[2] {
		case "csg":
			rec, err := decodeGroup(v)
			if err != nil {
				return false, fmt.Errorf("export: %s: %w", key, err)
			}
			if rec.Name != parts[3] {
				return false, fmt.Errorf("export: %s holds group %q", key, rec.Name)
			}
			r := region(sc)
			r.CacheSecurityGroups = append(r.CacheSecurityGroups, groupToState(rec))
		case "n":
			// The group counter: rebuilt by import.
		case "ev":
			_, id, ok := strings.Cut(parts[3], "/")
			if !ok {
				return false, fmt.Errorf("export: malformed event key %q", key)
			}
			var e eventRecord
			if err := json.Unmarshal(v, &e); err != nil {
				return false, fmt.Errorf("export: %s: decode event: %w", key, err)
			}
			if e.V > SchemaVersion {
				return false, fmt.Errorf("export: %s: event has schema version %d, newer than this server's %d", key, e.V, SchemaVersion)
			}
			r := region(sc)
			r.Events = append(r.Events, stateEvent{Date: e.Date.UTC(), SourceType: e.SourceType, SourceID: e.SourceID, Message: e.Message, ID: id})
		default:
			return false, fmt.Errorf("export: unknown key %q: this server does not know what it holds", key)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	accounts := map[string]*stateAccount{}
	for sc, r := range scopes {
		slices.SortFunc(r.CacheSecurityGroups, func(a, b stateGroup) int { return strings.Compare(a.Name, b.Name) })
		slices.SortFunc(r.Events, compareEvents)
		a := accounts[sc.account]
		if a == nil {
			a = &stateAccount{ID: sc.account}
			accounts[sc.account] = a
		}
		a.Regions = append(a.Regions, *r)
	}
	doc := &stateDoc{Format: StateFormat, Version: StateVersion, Accounts: []stateAccount{}}
	for _, a := range accounts {
		slices.SortFunc(a.Regions, func(x, y stateRegion) int { return strings.Compare(x.Region, y.Region) })
		doc.Accounts = append(doc.Accounts, *a)
	}
	slices.SortFunc(doc.Accounts, func(x, y stateAccount) int { return strings.Compare(x.ID, y.ID) })
	return doc, nil
}

// compareEvents orders events as their keys do: newest first, then by ID.
func compareEvents(a, b stateEvent) int {
	if c := b.Date.Compare(a.Date); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func groupToState(r *groupRecord) stateGroup {
	g := stateGroup{Name: r.Name, Description: r.Description, EC2SecurityGroups: []stateEC2{}, Tags: []stateTag{}}
	if !r.Created.IsZero() {
		g.Created = ptr(r.Created.UTC())
	}
	for _, e := range r.EC2 {
		x := stateEC2{Name: e.Name, OwnerID: e.Owner, Authorized: e.Authorized.UTC()}
		if e.Revoked != nil {
			x.Revoked = ptr(e.Revoked.UTC())
		}
		g.EC2SecurityGroups = append(g.EC2SecurityGroups, x)
	}
	for _, t := range r.Tags.sorted() {
		g.Tags = append(g.Tags, stateTag{Key: *t.Key, Value: *t.Value})
	}
	return g
}

// Problem is one thing wrong with a state document: where, as a JSON path
// from the document's root ($.accounts[0].regions[1].region), and what.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// InvalidStateError is ImportState's answer to a document it refuses: the
// problems it found, in document order, the first 100 of them listed and
// the rest counted in Omitted. Nothing was written.
type InvalidStateError struct {
	Problems []Problem
	Omitted  int
}

// Error lists the problems, one per line after the first.
func (e *InvalidStateError) Error() string {
	var b strings.Builder
	n := len(e.Problems) + e.Omitted
	fmt.Fprintf(&b, "invalid state document (%d problem", n)
	if n != 1 {
		b.WriteString("s")
	}
	b.WriteString("; nothing was written)")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Path, p.Message)
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.Omitted)
	}
	return b.String()
}

// ImportOptions are ImportState's settings; the zero value replaces the
// state in one transaction.
type ImportOptions struct {
	// OnlyIfEmpty makes ImportState write nothing, and report Skipped,
	// when the store holds any group or event, or an unfinished import or
	// reset. It is what --seed does at start.
	OnlyIfEmpty bool
	// Batching bounds each transaction; see Batching.
	Batching Batching
}

// ImportResult says what ImportState did.
type ImportResult struct {
	// Skipped is set when OnlyIfEmpty found a store that is not empty;
	// Unfinished then names an interrupted import or reset found there.
	Skipped    bool
	Unfinished string
	// Accounts, Regions, CacheSecurityGroups and Events count what the
	// document holds (and the store now holds, unless Skipped).
	Accounts, Regions, CacheSecurityGroups, Events int
}

// ImportState checks a state document completely, with the rules the API
// applies to the same values, and then replaces all stored state with it:
// what the document does not hold is removed. A document with any problem
// is refused with an *InvalidStateError listing all of them, before
// anything is written; so is a document of a newer version. Group quotas
// are not checked: they are settings of the server, not of the state.
// Derived records are rebuilt. Written in one transaction unless
// opts.Batching splits it; see Batching for what an interruption leaves.
func (s *ElastiCache) ImportState(ctx context.Context, doc []byte, opts ImportOptions) (ImportResult, error) {
	st, invalid := parseState(doc)
	if invalid != nil {
		return ImportResult{}, invalid
	}
	res := ImportResult{Accounts: len(st.Accounts)}
	puts, err := stateRecords(st, &res)
	if err != nil {
		return ImportResult{}, err
	}
	out, err := s.rewrite(ctx, rewriteOp{
		name:        "import",
		prefix:      []byte("a/"),
		onlyIfEmpty: opts.OnlyIfEmpty,
		puts:        puts,
	}, opts.Batching)
	if err != nil {
		return ImportResult{}, err
	}
	res.Skipped, res.Unfinished = out.skipped, out.unfinished
	return res, nil
}

// ValidateState checks a state document as ImportState does, without a
// store: nil, or an *InvalidStateError listing the problems.
func ValidateState(doc []byte) error {
	if _, invalid := parseState(doc); invalid != nil {
		return invalid
	}
	return nil
}

// stateRecords turns a checked document into the records to store, in
// key order: groups, their counters, events and their expiry index.
func stateRecords(st *stateDoc, res *ImportResult) ([]record, error) {
	var puts []record
	for _, a := range st.Accounts {
		res.Regions += len(a.Regions)
		for _, r := range a.Regions {
			sc := scope{account: a.ID, region: r.Region}
			n := 0
			for _, g := range r.CacheSecurityGroups {
				rec := &groupRecord{Name: g.Name, Description: g.Description}
				if g.Created != nil {
					rec.Created = *g.Created
				}
				for _, e := range g.EC2SecurityGroups {
					rec.EC2 = append(rec.EC2, ec2Record{Name: e.Name, Owner: e.OwnerID, Authorized: e.Authorized, Revoked: e.Revoked})
				}
				if len(g.Tags) > 0 {
					rec.Tags = make(tagSet, len(g.Tags))
					for _, t := range g.Tags {
						rec.Tags[t.Key] = t.Value
					}
				}
				b, err := encodeGroup(rec)
				if err != nil {
					return nil, err
				}
				puts = append(puts, record{key: sc.groupKey(g.Name), value: b})
				if g.Name != defaultGroupName {
					n++
				}
			}
			res.CacheSecurityGroups += len(r.CacheSecurityGroups)
			if n > 0 {
				puts = append(puts, record{key: sc.groupCountKey(), value: []byte(strconv.Itoa(n))})
			}
			for _, e := range r.Events {
				b, err := encodeEvent(&eventRecord{V: SchemaVersion, Date: e.Date, SourceType: e.SourceType, SourceID: e.SourceID, Message: e.Message})
				if err != nil {
					return nil, err
				}
				pos := invertedHex(e.Date) + "/" + e.ID
				puts = append(puts,
					record{key: append(sc.eventPrefix(), pos...), value: b},
					record{key: []byte(string(expiryPrefix) + timeHex(e.Date) + "/" + sc.account + "/" + sc.region + "/" + pos), value: nil})
			}
			res.Events += len(r.Events)
		}
	}
	slices.SortFunc(puts, func(a, b record) int { return bytes.Compare(a.key, b.key) })
	return puts, nil
}

// parseState decodes and checks a document. It reports every problem it
// can find; when there are none, the document is normalised (names
// lowercase, times UTC, missing lists empty, missing event IDs filled in).
func parseState(doc []byte) (*stateDoc, *InvalidStateError) {
	p := &stateParser{}
	root, ok := p.parseJSON(doc)
	var st *stateDoc
	if ok {
		st = p.document(root)
	}
	if p.found > 0 {
		return nil, &InvalidStateError{Problems: p.problems, Omitted: p.found - len(p.problems)}
	}
	return st, nil
}

// maxProblems is how many problems an InvalidStateError lists; the rest
// are only counted, so that the answer to a huge bad document stays small.
const maxProblems = 100

// stateParser collects problems while it reads a document. found counts
// them all; problems keeps the first maxProblems.
type stateParser struct {
	problems []Problem
	found    int
}

func (p *stateParser) add(path, format string, args ...any) {
	p.found++
	if len(p.problems) < maxProblems {
		p.problems = append(p.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
}

// reset forgets the problems found so far.
func (p *stateParser) reset() { p.problems, p.found = nil, 0 }

// jsonObject is a decoded JSON object that remembers its key order, so
// problems come in document order.
type jsonObject struct {
	keys   []string
	values map[string]any
}

// parseJSON decodes doc into a tree of *jsonObject, []any, string,
// json.Number, bool and nil, refusing duplicate keys, nesting deeper than
// maxStateDepth and anything after the value.
func (p *stateParser) parseJSON(doc []byte) (any, bool) {
	if len(bytes.TrimSpace(doc)) == 0 {
		p.add("$", "the document is empty; expected a JSON object")
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := p.value(dec, "$", 0)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the document ends too early")
		}
		p.reset()
		p.add("$", "not valid JSON: %v", err)
		return nil, false
	}
	if p.found > 0 {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		p.add("$", "unexpected data after the document, at byte %d", dec.InputOffset())
		return nil, false
	}
	return v, true
}

func (p *stateParser) value(dec *json.Decoder, path string, depth int) (any, error) {
	if depth > maxStateDepth {
		return nil, fmt.Errorf("nested more than %d levels deep at %s", maxStateDepth, path)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		o := &jsonObject{values: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok { // the decoder yields only strings as keys; never trust it blindly
				return nil, fmt.Errorf("object key %v at %s", kt, path)
			}
			v, err := p.value(dec, fieldPath(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := o.values[k]; dup {
				p.add(fieldPath(path, k), "the key appears more than once")
				continue
			}
			o.keys = append(o.keys, k)
			o.values[k] = v
		}
		_, err := dec.Token() // '}'
		return o, err
	case '[':
		list := []any{}
		for dec.More() {
			v, err := p.value(dec, fmt.Sprintf("%s[%d]", path, len(list)), depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ']'
		return list, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// object checks that v is an object with only the known keys.
func (p *stateParser) object(path string, v any, known ...string) (*jsonObject, bool) {
	o, ok := v.(*jsonObject)
	if !ok {
		p.add(path, "must be an object, not %s", jsonKind(v))
		return nil, false
	}
	for _, k := range o.keys {
		if !slices.Contains(known, k) {
			p.add(fieldPath(path, k), "unknown field (known: %s)", strings.Join(known, ", "))
		}
	}
	return o, true
}

// list returns o[key] as a list; a missing key is an empty list unless
// required.
func (p *stateParser) list(path string, o *jsonObject, key string, required bool) []any {
	v, ok := o.values[key]
	if !ok {
		if required {
			p.add(path+"."+key, "is required")
		}
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		p.add(path+"."+key, "must be a list, not %s", jsonKind(v))
	}
	return l
}

// str returns o[key] as a string; present reports whether it was there.
func (p *stateParser) str(path string, o *jsonObject, key string, required bool) (s string, present bool) {
	v, ok := o.values[key]
	if !ok {
		if required {
			p.add(path+"."+key, "is required")
		}
		return "", false
	}
	s, ok = v.(string)
	if !ok {
		p.add(path+"."+key, "must be a string, not %s", jsonKind(v))
		return "", false
	}
	return s, true
}

// time returns o[key] as an RFC 3339 timestamp, in UTC.
func (p *stateParser) time(path string, o *jsonObject, key string, required bool) (t time.Time, present bool) {
	s, ok := p.str(path, o, key, required)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.add(path+"."+key, "must be an RFC 3339 timestamp such as 2026-11-23T12:00:00Z, not %s", quote(s))
		return time.Time{}, false
	}
	return t.UTC(), true
}

// maxQuoted is how much of a value a problem shows: enough to find it,
// and a huge bad value does not make a huge answer.
const maxQuoted = 64

// cut is s, cut after maxQuoted characters.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return s
	}
	return string([]rune(s)[:maxQuoted]) + "…"
}

// quote is %q of s, cut after maxQuoted characters.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:maxQuoted])) + "…"
}

// fieldPath is the path of key k in the object at path.
func fieldPath(path, k string) string { return path + "." + cut(k) }

func jsonKind(v any) string {
	switch v.(type) {
	case *jsonObject:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// rule is the message of a validation fault from the API's own checks,
// without the parameter it names: the path says where.
func rule(err error) string {
	var f api.Fault
	msg := err.Error()
	if errors.As(err, &f) {
		msg = f.ErrorMessage()
	}
	if _, after, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "Invalid value for parameter ") {
		return after
	}
	return msg
}

func (p *stateParser) document(root any) *stateDoc {
	o, ok := p.object("$", root, "format", "version", "accounts")
	if !ok {
		return nil
	}
	st := &stateDoc{Accounts: []stateAccount{}}
	if f, ok := p.str("$", o, "format", true); ok && f != StateFormat {
		p.add("$.format", "must be %q, not %s: this is not an elasticache-server state document", StateFormat, quote(f))
	}
	if v, ok := o.values["version"]; !ok {
		p.add("$.version", "is required")
	} else if n, isNum := v.(json.Number); !isNum {
		p.add("$.version", "must be a number, not %s", jsonKind(v))
	} else if version, err := strconv.Atoi(n.String()); err != nil || version < 1 {
		p.add("$.version", "must be a positive whole number, not %s", cut(n.String()))
	} else if version > StateVersion {
		// A newer document may mean something else by every other field:
		// say only this.
		p.reset()
		p.add("$.version", "the document has version %d, newer than the %d this server reads; upgrade elasticache-server", version, StateVersion)
		return nil
	} else {
		st.Version = version
	}
	st.Accounts, _ = uniqueList(p, st.Accounts, "$", "accounts", p.list("$", o, "accounts", true), p.account,
		func(a stateAccount) (string, bool) { return a.ID, true },
		func(apath string, a stateAccount, first string) {
			p.add(apath+".id", "account %s is also %s", a.ID, first)
		})
	st.Format = StateFormat
	slices.SortFunc(st.Accounts, func(x, y stateAccount) int { return strings.Compare(x.ID, y.ID) })
	return st
}

// account reads one account; idOK says its ID is valid, so duplicates of
// it can be told, whatever else is wrong with it. The functions below
// answer the same way.
func (p *stateParser) account(path string, v any) (a stateAccount, ok, idOK bool) {
	o, ok := p.object(path, v, "id", "regions")
	if !ok {
		return stateAccount{}, false, false
	}
	n := p.found
	id, idOK := p.str(path, o, "id", true)
	if idOK && !api.IsAccountID(id) {
		p.add(path+".id", "must be a 12-digit AWS account ID, not %s", quote(id))
		idOK = false
	}
	a = stateAccount{ID: id, Regions: []stateRegion{}}
	a.Regions, _ = uniqueList(p, a.Regions, path, "regions", p.list(path, o, "regions", true), p.region,
		func(r stateRegion) (string, bool) { return r.Region, true },
		func(rpath string, r stateRegion, first string) {
			p.add(rpath+".region", "region %s is also %s", r.Region, first)
		})
	slices.SortFunc(a.Regions, func(x, y stateRegion) int { return strings.Compare(x.Region, y.Region) })
	return a, p.found == n, idOK
}

// uniqueList parses the elements of the list field at path (items) with
// parse, appends to dst those that parse, and refuses, with dup, an
// element whose key an earlier element has: dup gets the element's path,
// the element, and the earlier one's path. key says whether an element has
// a key to compare; so does parse's third result (the key's fields were
// valid). It returns dst and the keys seen, each with its first index.
func uniqueList[T any, K comparable](p *stateParser, dst []T, path, field string, items []any,
	parse func(path string, v any) (item T, ok, keyOK bool), key func(T) (K, bool),
	dup func(itemPath string, item T, first string)) ([]T, map[K]int) {
	seen := map[K]int{}
	for i, v := range items {
		ipath := fmt.Sprintf("%s.%s[%d]", path, field, i)
		item, ok, keyOK := parse(ipath, v)
		if k, hasKey := key(item); keyOK && hasKey {
			if j, taken := seen[k]; taken {
				dup(ipath, item, fmt.Sprintf("%s.%s[%d]", path, field, j))
				continue
			}
			seen[k] = i
		}
		if ok {
			dst = append(dst, item)
		}
	}
	return dst, seen
}

func (p *stateParser) region(path string, v any) (r stateRegion, ok, nameOK bool) {
	o, ok := p.object(path, v, "region", "cacheSecurityGroups", "events")
	if !ok {
		return stateRegion{}, false, false
	}
	n := p.found
	name, nameOK := p.str(path, o, "region", true)
	if nameOK && !isRegion(name) {
		p.add(path+".region", "must be a region name such as us-east-1, not %s", quote(name))
		nameOK = false
	}
	r = stateRegion{Region: name, CacheSecurityGroups: []stateGroup{}, Events: []stateEvent{}}
	r.CacheSecurityGroups, _ = uniqueList(p, r.CacheSecurityGroups, path, "cacheSecurityGroups", p.list(path, o, "cacheSecurityGroups", false), p.group,
		func(g stateGroup) (string, bool) { return g.Name, true },
		func(gpath string, g stateGroup, first string) {
			p.add(gpath+".name", "group %s is also %s (names are matched without regard to case)", g.Name, first)
		})
	slices.SortFunc(r.CacheSecurityGroups, func(a, b stateGroup) int { return strings.Compare(a.Name, b.Name) })
	type eventKey struct {
		date int64
		id   string
	}
	var seenEv map[eventKey]int
	r.Events, seenEv = uniqueList(p, r.Events, path, "events", p.list(path, o, "events", false), p.event,
		func(e stateEvent) (eventKey, bool) { return eventKey{e.Date.UnixNano(), e.ID}, e.ID != "" },
		func(epath string, e stateEvent, first string) {
			p.add(epath+".id", "event %s at %s is also %s", e.ID, e.Date.Format(time.RFC3339Nano), first)
		})
	for i := range r.Events {
		if r.Events[i].ID == "" {
			r.Events[i].ID = newEventID(func(id string) bool {
				_, taken := seenEv[eventKey{r.Events[i].Date.UnixNano(), id}]
				return taken
			})
			seenEv[eventKey{r.Events[i].Date.UnixNano(), r.Events[i].ID}] = -1
		}
	}
	slices.SortFunc(r.Events, compareEvents)
	return r, p.found == n, nameOK
}

// newEventID returns a random event ID that taken does not refuse.
func newEventID(taken func(string) bool) string {
	for {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		if id := hex.EncodeToString(b[:]); !taken(id) {
			return id
		}
	}
}

func (p *stateParser) group(path string, v any) (g stateGroup, ok, nameOK bool) {
	o, ok := p.object(path, v, "name", "description", "created", "ec2SecurityGroups", "tags")
	if !ok {
		return stateGroup{}, false, false
	}
	n := p.found
	g = stateGroup{EC2SecurityGroups: []stateEC2{}, Tags: []stateTag{}}
	if raw, ok := p.str(path, o, "name", true); ok {
		name, err := groupName("name", &raw)
		if err != nil {
			p.add(path+".name", "%s", rule(err))
		}
		g.Name, nameOK = name, err == nil
	}
	if raw, ok := p.str(path, o, "description", true); ok {
		d, err := description(&raw)
		if err != nil {
			p.add(path+".description", "%s", rule(err))
		}
		g.Description = d
	}
	if g.Name == defaultGroupName && g.Description != "" && g.Description != defaultGroupName {
		p.add(path+".description", "the default group's description is always %q", defaultGroupName)
	}
	if t, ok := p.time(path, o, "created", false); ok {
		g.Created = &t
	}
	type entryKey struct{ name, owner string }
	g.EC2SecurityGroups, _ = uniqueList(p, g.EC2SecurityGroups, path, "ec2SecurityGroups", p.list(path, o, "ec2SecurityGroups", false), p.ec2,
		func(e stateEC2) (entryKey, bool) { return entryKey{e.Name, e.OwnerID}, true },
		func(epath string, e stateEC2, first string) {
			p.add(epath, "EC2 security group %s (owner %s) is also %s", e.Name, e.OwnerID, first)
		})
	tags := p.list(path, o, "tags", false)
	if len(tags) > maxTagsPerResource {
		p.add(path+".tags", "%s", tagQuotaExceeded().(api.Fault).ErrorMessage())
	}
	g.Tags, _ = uniqueList(p, g.Tags, path, "tags", tags, p.tag,
		func(t stateTag) (string, bool) { return t.Key, true },
		func(tpath string, t stateTag, first string) {
			p.add(tpath+".key", "tag %s is also %s", t.Key, first)
		})
	slices.SortFunc(g.Tags, func(a, b stateTag) int { return strings.Compare(a.Key, b.Key) })
	return g, p.found == n, nameOK
}

func (p *stateParser) ec2(path string, v any) (e stateEC2, ok, idOK bool) {
	o, ok := p.object(path, v, "name", "ownerId", "authorized", "revoked")
	if !ok {
		return stateEC2{}, false, false
	}
	n := p.found
	nameOK, ownerOK := false, false
	if name, ok := p.str(path, o, "name", true); ok {
		switch {
		case name == "":
			p.add(path+".name", "must not be empty")
		case utf8.RuneCountInString(name) > maxEC2GroupNameLen:
			p.add(path+".name", "must be at most %d characters", maxEC2GroupNameLen)
		default:
			nameOK = true
		}
		e.Name = name
	}
	if owner, ok := p.str(path, o, "ownerId", true); ok {
		if !api.IsAccountID(owner) {
			p.add(path+".ownerId", "must be a 12-digit AWS account ID, not %s", quote(owner))
		}
		e.OwnerID, ownerOK = owner, api.IsAccountID(owner)
	}
	e.Authorized, _ = p.time(path, o, "authorized", true)
	if t, ok := p.time(path, o, "revoked", false); ok {
		if t.Before(e.Authorized) {
			p.add(path+".revoked", "must not be before authorized")
		}
		e.Revoked = &t
	}
	return e, p.found == n, nameOK && ownerOK
}

func (p *stateParser) tag(path string, v any) (t stateTag, ok, keyOK bool) {
	o, ok := p.object(path, v, "key", "value")
	if !ok {
		return stateTag{}, false, false
	}
	n := p.found
	key, keyOK := p.str(path, o, "key", true)
	if keyOK {
		if err := tagKey("key", key); err != nil {
			p.add(path+".key", "%s", rule(err))
			keyOK = false
		}
	}
	value, valueOK := p.str(path, o, "value", false) // absent is "", as the API stores it
	if valueOK {
		if _, err := requestTags("value", []api.Tag{{Key: ptr("k"), Value: &value}}); err != nil {
			p.add(path+".value", "%s", rule(err))
		}
	}
	return stateTag{Key: key, Value: value}, p.found == n, keyOK
}

// Event dates are keys (nanoseconds since 1970 in 64 bits), so they must
// fall between these.
var (
	minEventDate = time.Unix(0, 0).UTC()
	maxEventDate = time.Unix(0, 1<<63-1).UTC()
)

func (p *stateParser) event(path string, v any) (e stateEvent, ok, keyOK bool) {
	o, ok := p.object(path, v, "date", "sourceType", "sourceId", "message", "id")
	if !ok {
		return stateEvent{}, false, false
	}
	n := p.found
	dateOK, idOK := false, false
	if d, ok := p.time(path, o, "date", true); ok {
		if d.Before(minEventDate) || d.After(maxEventDate) {
			p.add(path+".date", "must be between %s and %s", minEventDate.Format(time.RFC3339), maxEventDate.Format(time.RFC3339))
		} else {
			dateOK = true
		}
		e.Date = d
	}
	if st, ok := p.str(path, o, "sourceType", true); ok {
		if !contains(sourceTypes, st) {
			p.add(path+".sourceType", "must be one of %s, not %s", strings.Join(sourceTypes, ", "), quote(st))
		}
		e.SourceType = st
	}
	if id, ok := p.str(path, o, "sourceId", true); ok {
		if e.SourceType == sourceTypeGroup {
			// DescribeEvents matches a group's events by its lowercase name.
			name, err := groupName("sourceId", &id)
			if err != nil {
				p.add(path+".sourceId", "%s", rule(err))
			}
			id = name
		} else if err := plainText(id); err != nil {
			p.add(path+".sourceId", "%v", err)
		}
		e.SourceID = id
	}
	if msg, ok := p.str(path, o, "message", true); ok {
		if err := plainText(msg); err != nil {
			p.add(path+".message", "%v", err)
		}
		e.Message = msg
	}
	if id, ok := p.str(path, o, "id", false); ok {
		if len(id) != 12 || strings.ToLower(id) != id || !isHex(id) {
			p.add(path+".id", "must be 12 lowercase hexadecimal digits, not %s (or left out, to have one chosen)", quote(id))
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

// isRegion is sigv4.IsRegion, which service may not import: lowercase
// letter groups joined by hyphens, ending in a number (us-east-1,
// us-gov-west-1). It also keeps '/' out of the keys a region is part of.
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(s) > 32 || len(parts) < 3 {
		return false
	}
	for i, part := range parts {
		if part == "" {
			return false
		}
		last := i == len(parts)-1
		for j := 0; j < len(part); j++ {
			c := part[j]
			if last && !(c >= '0' && c <= '9') || !last && !(c >= 'a' && c <= 'z') {
				return false
			}
		}
	}
	return true
}
