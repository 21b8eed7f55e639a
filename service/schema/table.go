package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Meta is the part every stored record shares: the layout version it was
// written with. Record structs embed it.
type Meta struct {
	V int `json:"v"`
}

func (m *Meta) meta() *Meta { return m }

// Record is what a Table stores: a struct that embeds Meta and says its
// name.
type Record interface {
	RecordName() string
	meta() *Meta
}

// Table is the records of one kind, read and written inside a
// transaction. R is the record struct; P is *R.
type Table[R any, P interface {
	*R
	Record
}] struct {
	Kind *Kind
	// virtual builds the record of a virtual name, in a scope.
	virtual func(sc Scope, name string) P
}

// NewTable returns the table of kind's records. virtual builds the record
// of each of kind's virtual names; nil when the kind has none.
func NewTable[R any, P interface {
	*R
	Record
}](kind *Kind, virtual func(sc Scope, name string) P) *Table[R, P] {
	t := &Table[R, P]{Kind: kind, virtual: virtual}
	kind.table = t
	return t
}

// materialize stores a virtual record that is not stored yet, so that
// what changes it has a record to change.
func (t *Table[R, P]) materialize(tx storage.Tx, sc Scope, name string) error {
	r, err := t.GetStored(tx, sc, name)
	if err != nil || r != nil {
		return err
	}
	return t.Put(tx, sc, t.virtual(sc, name))
}

func (t *Table[R, P]) prefix(sc Scope) []byte { return sc.key(t.Kind.Segment, "/") }

func (t *Table[R, P]) key(sc Scope, name string) []byte {
	return sc.key(t.Kind.Segment, "/", name)
}

func (t *Table[R, P]) generatedCodec() bool {
	var r any = P(new(R))
	_, enc := r.(jsonAppender)
	_, dec := r.(jsonDecoder)
	return enc && dec
}

// Encode is a record's stored form, stamped with the current layout.
func (t *Table[R, P]) Encode(r P) ([]byte, error) { return Encode(r) }

// Decode reads a stored record, refusing one of a newer layout.
func (t *Table[R, P]) Decode(b []byte) (P, error) { return Decode[R, P](b) }

// jsonAppender is a record with a generated encoder (recordgen): it
// appends what json.Marshal writes, and reports false where json.Marshal
// would fail.
type jsonAppender interface {
	AppendJSON(b []byte) ([]byte, bool)
}

// jsonDecoder is a record with a generated decoder (recordgen): it reads
// exactly what json.Marshal writes, and reports false for anything else.
type jsonDecoder interface {
	DecodeJSON(b []byte) bool
}

// Encode is a record's stored form, stamped with the current layout. It
// is json.Marshal's output; a record with a generated encoder writes it
// without reflection.
func Encode(r Record) ([]byte, error) {
	r.meta().V = Version
	if a, ok := r.(jsonAppender); ok {
		// As json.Marshal does: a pooled buffer to write in, and an
		// exact-size copy to keep.
		buf := encodeBuffers.Get().(*[]byte)
		b, ok := a.AppendJSON((*buf)[:0])
		if ok {
			out := bytes.Clone(b)
			*buf = b
			encodeBuffers.Put(buf)
			return out, nil
		}
		encodeBuffers.Put(buf)
	}
	return json.Marshal(r)
}

var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Decode reads a stored record of type R, refusing one of a newer layout.
func Decode[R any, P interface {
	*R
	Record
}](b []byte) (P, error) {
	r := P(new(R))
	// A generated decoder reads what json.Marshal wrote and refuses the
	// rest (an older layout's unknown member, an escape it does not
	// decode), which encoding/json then reads into a fresh record.
	if d, fast := any(r).(jsonDecoder); !fast || !d.DecodeJSON(b) {
		if fast {
			r = P(new(R))
		}
		if err := json.Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("decode %T: %w", r, err)
		}
	}
	if v := r.meta().V; v > Version {
		return nil, fmt.Errorf("%T has schema version %d, newer than this server's %d", r, v, Version)
	}
	return r, nil
}

// GetStored returns the stored record of name, or nil when none is stored.
func (t *Table[R, P]) GetStored(tx storage.Tx, sc Scope, name string) (P, error) {
	b, err := tx.Get(t.key(sc, name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return t.Decode(b)
}

// record is GetStored for the kind-generic machinery.
func (t *Table[R, P]) record(tx storage.Tx, sc Scope, name string) (Record, error) {
	r, err := t.GetStored(tx, sc, name)
	if r == nil {
		return nil, err
	}
	return r, err
}

// Get returns the record of name: stored, or virtual, or nil when there
// is none.
func (t *Table[R, P]) Get(tx storage.Tx, sc Scope, name string) (P, error) {
	r, err := t.GetStored(tx, sc, name)
	if r == nil && err == nil && t.Kind.IsVirtual(name) {
		r = t.virtual(sc, name)
	}
	return r, err
}

// Exists reports whether name names a record, stored or virtual.
func (t *Table[R, P]) Exists(tx storage.Tx, sc Scope, name string) (bool, error) {
	if t.Kind.IsVirtual(name) {
		return true, nil
	}
	_, err := tx.Get(t.key(sc, name))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Count is how many records of the kind the scope stores, virtual ones
// not counted: what the quota limits.
func (t *Table[R, P]) Count(tx storage.Tx, sc Scope) (int, error) {
	return getCount(tx, countKey(sc, t.Kind))
}

// Insert stores a new record and counts it. The caller has checked, in
// the same transaction, that the name is free and the quota allows it.
func (t *Table[R, P]) Insert(tx storage.Tx, sc Scope, r P) error {
	if t.Kind.IsVirtual(r.RecordName()) {
		return t.Put(tx, sc, r)
	}
	n, err := t.Count(tx, sc)
	if err != nil {
		return err
	}
	return t.InsertCounted(tx, sc, r, n)
}

// InsertCounted is Insert for a caller that has read the scope's Count, n,
// in the same transaction (to check the quota): it saves reading it again.
func (t *Table[R, P]) InsertCounted(tx storage.Tx, sc Scope, r P, n int) error {
	if err := t.Put(tx, sc, r); err != nil {
		return err
	}
	if t.Kind.IsVirtual(r.RecordName()) {
		return nil
	}
	return putCount(tx, countKey(sc, t.Kind), n+1)
}

// Put stores a record over the one of its name.
func (t *Table[R, P]) Put(tx storage.Tx, sc Scope, r P) error {
	b, err := t.Encode(r)
	if err != nil {
		return err
	}
	return tx.Put(t.key(sc, r.RecordName()), b)
}

// Delete removes a stored record and its tags, and uncounts it.
func (t *Table[R, P]) Delete(tx storage.Tx, sc Scope, name string) error {
	if err := tx.Delete(t.key(sc, name)); err != nil {
		return err
	}
	if err := tx.Delete(tagKey(sc, t.Kind, name)); err != nil {
		return err
	}
	if t.Kind.IsVirtual(name) {
		return nil
	}
	n, err := t.Count(tx, sc)
	if err != nil {
		return err
	}
	return putCount(tx, countKey(sc, t.Kind), n-1)
}

// Page returns at most limit records after the name after ("": from the
// first), in name order, virtual records in their places unless stored,
// and whether more follow. It reads limit+1 records, so a page costs the
// same whatever the number stored.
func (t *Table[R, P]) Page(tx storage.Tx, sc Scope, after string, limit int) (page []P, more bool, err error) {
	// The virtual records still to place, in order.
	var pending []string
	for _, v := range t.Kind.Virtual {
		if v <= after {
			continue
		}
		_, err := tx.Get(t.key(sc, v))
		if errors.Is(err, storage.ErrNotFound) {
			pending = append(pending, v)
		} else if err != nil {
			return nil, false, err
		}
	}
	var afterKey []byte
	if after != "" {
		afterKey = t.key(sc, after)
	}
	prefix := t.prefix(sc)
	err = tx.Scan(prefix, afterKey, func(k, v []byte) (bool, error) {
		name := string(k[len(prefix):])
		for len(pending) > 0 && pending[0] < name && len(page) <= limit {
			page = append(page, t.virtual(sc, pending[0]))
			pending = pending[1:]
		}
		if len(page) > limit {
			return false, nil
		}
		r, err := t.Decode(v)
		if err != nil {
			return false, err
		}
		page = append(page, r)
		return len(page) <= limit, nil
	})
	if err != nil {
		return nil, false, err
	}
	for len(pending) > 0 && len(page) <= limit {
		page = append(page, t.virtual(sc, pending[0]))
		pending = pending[1:]
	}
	if len(page) > limit {
		return page[:limit], true, nil
	}
	return page, false, nil
}

// All returns every record of the scope, stored and virtual, in name
// order. It reads them all: for kinds whose quota keeps them few (user
// groups), where one answer needs every record.
func (t *Table[R, P]) All(tx storage.Tx, sc Scope) ([]P, error) {
	page, _, err := t.Page(tx, sc, "", math.MaxInt32)
	return page, err
}
