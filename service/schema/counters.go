package schema

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/elasticache-server/elasticache-server/storage"
)

func countKey(sc Scope, k *Kind) []byte { return sc.key("n/", k.Segment) }

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

// putCount writes a counter; zero is no key at all.
func putCount(tx storage.Tx, key []byte, n int) error {
	if n <= 0 {
		return tx.Delete(key)
	}
	return tx.Put(key, []byte(strconv.Itoa(n)))
}

// CountAll returns, per kind name, how many records of each kind are
// stored across all accounts and regions, virtual ones not counted. It
// reads one counter per kind and scope, whatever the number of records,
// so a metrics scrape can call it on a store of 100,000 records.
func (r *Registry) CountAll(tx storage.Tx) (map[string]int, error) {
	out := make(map[string]int, len(r.kinds))
	for _, k := range r.kinds {
		out[k.Name] = 0
	}
	err := EachScope(tx, func(sc Scope) error {
		for _, k := range r.kinds {
			n, err := getCount(tx, countKey(sc, k))
			if err != nil {
				return err
			}
			out[k.Name] += n
		}
		return nil
	})
	return out, err
}
