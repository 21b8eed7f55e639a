package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Tags are a resource's tags, key → value; a null value is stored as "".
// They are stored apart from the record, so a tag change writes only
// them.
type Tags map[string]string

// SortedKeys returns the keys in order, the order every answer uses.
func (ts Tags) SortedKeys() []string {
	keys := make([]string, 0, len(ts))
	for k := range ts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func tagKey(sc Scope, k *Kind, name string) []byte {
	return sc.key("t/", k.Segment, "/", name)
}

// GetTags returns the tags of a kind's record; none is an empty set.
func GetTags(tx storage.Tx, sc Scope, k *Kind, name string) (Tags, error) {
	b, err := tx.Get(tagKey(sc, k, name))
	if errors.Is(err, storage.ErrNotFound) {
		return Tags{}, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeTags(b)
}

func decodeTags(b []byte) (Tags, error) {
	ts := Tags{}
	if err := json.Unmarshal(b, &ts); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	return ts, nil
}

// PutTags replaces the tags of a kind's record; an empty set removes the
// key.
func PutTags(tx storage.Tx, sc Scope, k *Kind, name string, ts Tags) error {
	if len(ts) == 0 {
		return tx.Delete(tagKey(sc, k, name))
	}
	b, err := json.Marshal(ts)
	if err != nil {
		return err
	}
	return tx.Put(tagKey(sc, k, name), b)
}

// Exists reports whether name names a record of kind k in sc, stored or
// virtual.
func (k *Kind) Exists(tx storage.Tx, sc Scope, name string) (bool, error) {
	return k.table.Exists(tx, sc, name)
}

// SetTags replaces the tags of an existing record of kind k. A virtual
// record is stored first, so that its tags have a record; a kind that
// refuses tags on virtual records answers its fault, before any write.
func SetTags(tx storage.Tx, sc Scope, k *Kind, name string, ts Tags) error {
	if k.IsVirtual(name) {
		if k.RefuseVirtualTags != nil {
			return k.RefuseVirtualTags(name)
		}
		if err := k.table.materialize(tx, sc, name); err != nil {
			return err
		}
	}
	return PutTags(tx, sc, k, name, ts)
}
