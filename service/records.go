package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/elasticache-server/elasticache-server/storage"
)

// This file is the one place that knows how state is laid out in the store.
//
//	m/schema                          {"version":N}: the schema the store was written with
//	m/marker-key                      32 random bytes that sign pagination markers
//	a/{account}/{region}/csg/{name}   groupRecord (JSON), name lowercase
//	a/{account}/{region}/n/csg        number of groups stored, `default` not counted
//	a/{account}/{region}/ev/…         events, and x/ev/… their expiry index (events.go)
//
// Names, account IDs and regions never contain '/', so every prefix below is
// unambiguous and a scan of a group prefix visits groups in name order.

// SchemaVersion is the version of the record layout this server writes.
const SchemaVersion = 1

var (
	schemaKey    = []byte("m/schema")
	markerKeyKey = []byte("m/marker-key")
)

// scope is an (account, region) pair: the unit of isolation.
type scope struct {
	account, region string
}

func (s scope) prefix() string { return "a/" + s.account + "/" + s.region + "/" }

func (s scope) groupPrefix() []byte { return []byte(s.prefix() + "csg/") }

func (s scope) groupKey(name string) []byte { return []byte(s.prefix() + "csg/" + name) }

func (s scope) groupCountKey() []byte { return []byte(s.prefix() + "n/csg") }

// groupRecord is a stored cache security group.
type groupRecord struct {
	V           int         `json:"v"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Created     time.Time   `json:"created"`
	EC2         []ec2Record `json:"ec2,omitempty"`
	Tags        tagSet      `json:"tags,omitempty"`
}

// ec2Record is one EC2 security group entry. Its status is derived from the
// timestamps and the clock when read, so transitions need no worker and
// survive restarts.
type ec2Record struct {
	Name       string     `json:"name"`
	Owner      string     `json:"owner"`
	Authorized time.Time  `json:"authorized"`
	Revoked    *time.Time `json:"revoked,omitempty"`
}

func encodeGroup(r *groupRecord) ([]byte, error) {
	r.V = SchemaVersion
	if b, ok := appendGroupJSON(make([]byte, 0, 96+len(r.Name)+len(r.Description)), r); ok {
		return b, nil
	}
	return json.Marshal(r)
}

func decodeGroup(b []byte) (*groupRecord, error) {
	return decodeGroupFields(b, true)
}

// decodeGroupShown decodes what describing a group shows: its tags and
// creation time are left out (read past, not kept), which saves a map and
// a time parse per group of a page.
func decodeGroupShown(b []byte) (*groupRecord, error) {
	return decodeGroupFields(b, false)
}

func decodeGroupFields(b []byte, full bool) (*groupRecord, error) {
	if r, ok := decodeGroupFast(b, full); ok {
		if r.V > SchemaVersion {
			return nil, fmt.Errorf("group record has schema version %d, newer than this server's %d", r.V, SchemaVersion)
		}
		return r, nil
	}
	var r groupRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode group record: %w", err)
	}
	if r.V > SchemaVersion {
		return nil, fmt.Errorf("group record has schema version %d, newer than this server's %d", r.V, SchemaVersion)
	}
	return &r, nil
}

// getGroup reads a stored group; (nil, nil) when it is not stored.
func getGroup(tx storage.Tx, sc scope, name string) (*groupRecord, error) {
	b, err := tx.Get(sc.groupKey(name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeGroup(b)
}

func putGroup(tx storage.Tx, sc scope, r *groupRecord) error {
	b, err := encodeGroup(r)
	if err != nil {
		return err
	}
	return tx.Put(sc.groupKey(r.Name), b)
}

// getCount reads a counter; a missing counter is zero.
func getCount(tx storage.Tx, key []byte) (int, error) {
	b, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return 0, fmt.Errorf("decode counter %q: %w", key, err)
	}
	return n, nil
}

func putCount(tx storage.Tx, key []byte, n int) error {
	if n <= 0 {
		return tx.Delete(key)
	}
	return tx.Put(key, []byte(strconv.Itoa(n)))
}

type schemaRecord struct {
	Version int `json:"version"`
}

// ErrNewerSchema is returned by Open when the store was written by a newer
// server: reading it could lose what this server does not understand.
var ErrNewerSchema = errors.New("store was written by a newer schema")

// migrate checks the store's schema version, stamps a new store with the
// current one and upgrades older stores in place.
func migrate(tx storage.Tx) error {
	b, err := tx.Get(schemaKey)
	if errors.Is(err, storage.ErrNotFound) {
		return putSchema(tx)
	}
	if err != nil {
		return err
	}
	var s schemaRecord
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode schema record: %w", err)
	}
	switch {
	case s.Version > SchemaVersion:
		return fmt.Errorf("%w: the store has schema version %d, this server supports up to %d; upgrade elasticache-server", ErrNewerSchema, s.Version, SchemaVersion)
	case s.Version < SchemaVersion:
		// Version 1 is the first layout: there is nothing older to upgrade.
		// Later versions add their upgrade steps here, in order.
		return putSchema(tx)
	}
	return nil
}

// preparedMarkerKey returns the marker key of a store that is at the
// current schema and has one, or nil when Open must write.
func preparedMarkerKey(tx storage.Tx) ([]byte, error) {
	b, err := tx.Get(schemaKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s schemaRecord
	if err := json.Unmarshal(b, &s); err != nil || s.Version != SchemaVersion {
		return nil, nil // migrate decides, and reports
	}
	k, err := tx.Get(markerKeyKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), k...), nil
}

func putSchema(tx storage.Tx) error {
	b, err := json.Marshal(schemaRecord{Version: SchemaVersion})
	if err != nil {
		return err
	}
	return tx.Put(schemaKey, b)
}

// decodeGroupFast decodes a group record written by encodeGroup without
// encoding/json's reflection, which was most of the cost of a page of 100
// groups. It accepts only what json.Marshal writes for a groupRecord whose
// strings need no escaping: no whitespace, known keys each once, no nulls,
// escape-free valid UTF-8 strings. Anything else returns ok=false and
// decodeGroup hands the record to encoding/json, so the two always agree
// (FuzzDecodeGroupFast checks it). All strings share one allocation.
// Unless full, Tags and Created are read past but not kept.
func decodeGroupFast(b []byte, full bool) (r *groupRecord, ok bool) {
	d := recordScanner{s: string(b)}
	r = &groupRecord{}
	var seen uint8
	ok = d.object(func(key string) bool {
		var bit uint8
		switch key {
		case "v":
			bit, r.V = 1, d.int()
		case "name":
			bit, r.Name = 2, d.str()
		case "description":
			bit, r.Description = 4, d.str()
		case "created":
			bit = 8
			if full {
				r.Created = d.time()
			} else {
				d.str()
			}
		case "ec2":
			bit = 16
			r.EC2 = []ec2Record{}
			d.array(func() bool {
				var e ec2Record
				var eseen uint8
				ok := d.object(func(key string) bool {
					var bit uint8
					switch key {
					case "name":
						bit, e.Name = 1, d.str()
					case "owner":
						bit, e.Owner = 2, d.str()
					case "authorized":
						bit, e.Authorized = 4, d.time()
					case "revoked":
						t := d.time()
						bit, e.Revoked = 8, &t
					default:
						return false
					}
					if eseen&bit != 0 {
						return false
					}
					eseen |= bit
					return true
				})
				r.EC2 = append(r.EC2, e)
				return ok
			})
		case "tags":
			bit = 32
			if full {
				r.Tags = tagSet{}
			}
			d.object(func(key string) bool {
				v := d.str()
				if full {
					r.Tags[key] = v
				}
				return true
			})
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	if !ok || d.bad || d.i != len(d.s) {
		return nil, false
	}
	return r, true
}

// recordScanner reads the subset of JSON decodeGroupFast accepts. A
// mismatch sets bad; later reads then return zero values.
type recordScanner struct {
	s   string
	i   int
	bad bool
}

func (d *recordScanner) expect(c byte) bool {
	if d.bad || d.i >= len(d.s) || d.s[d.i] != c {
		d.bad = true
		return false
	}
	d.i++
	return true
}

func (d *recordScanner) peek(c byte) bool { return !d.bad && d.i < len(d.s) && d.s[d.i] == c }

// object reads {"key":value,…}, calling member with d positioned on each
// value; member reads the value and reports whether the key is known.
func (d *recordScanner) object(member func(key string) bool) bool {
	if !d.expect('{') {
		return false
	}
	if d.peek('}') {
		d.i++
		return true
	}
	for {
		key := d.str()
		if !d.expect(':') || !member(key) {
			d.bad = true
			return false
		}
		if d.peek(',') {
			d.i++
			continue
		}
		return d.expect('}')
	}
}

// array reads [elem,…], calling elem with d positioned on each element.
func (d *recordScanner) array(elem func() bool) {
	if !d.expect('[') {
		return
	}
	if d.peek(']') {
		d.i++
		return
	}
	for {
		if !elem() {
			d.bad = true
			return
		}
		if d.peek(',') {
			d.i++
			continue
		}
		d.expect(']')
		return
	}
}

// str reads a string without escapes or control characters, in valid
// UTF-8: the strings json.Marshal writes as they are.
func (d *recordScanner) str() string {
	if !d.expect('"') {
		return ""
	}
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			v := d.s[start:d.i]
			d.i++
			if !utf8.ValidString(v) {
				d.bad = true
				return ""
			}
			return v
		case c == '\\' || c < 0x20:
			d.bad = true
			return ""
		}
		d.i++
	}
	d.bad = true
	return ""
}

// int reads a small non-negative integer.
func (d *recordScanner) int() int {
	start, n := d.i, 0
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' && d.i-start < 9 {
		n = n*10 + int(d.s[d.i]-'0')
		d.i++
	}
	if d.i == start || (d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9') || (d.s[start] == '0' && d.i > start+1) {
		d.bad = true
	}
	return n
}

// time reads a timestamp the way encoding/json does: time.Time's own
// UnmarshalJSON on the quoted string.
func (d *recordScanner) time() time.Time {
	start := d.i
	d.str()
	if d.bad {
		return time.Time{}
	}
	var t time.Time
	if err := t.UnmarshalJSON([]byte(d.s[start:d.i])); err != nil {
		d.bad = true
	}
	return t
}
