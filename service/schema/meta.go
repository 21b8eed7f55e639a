package schema

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Version is the layout this server writes. 1 kept tags inside the
// records; 2 keeps them under t/ (upgradeTags moves them).
const Version = 2

var (
	schemaKey    = []byte("m/schema")
	markerKeyKey = []byte("m/marker-key")
)

type schemaRecord struct {
	Version int `json:"version"`
}

// ErrNewerSchema is returned by Prepare when the store was written by a
// newer server: reading it could lose what this server does not
// understand.
var ErrNewerSchema = errors.New("store was written by a newer schema")

// Prepare readies a store for this server: it checks the layout version,
// upgrades an older store in place (in bounded transactions, so etcd's
// limits hold, and idempotently, so an interrupted upgrade is finished by
// the next start), stamps a new one, and returns the key that signs
// pagination markers, creating it on first use.
func Prepare(ctx context.Context, store storage.Store) ([]byte, error) {
	// A store already prepared needs no write: a read is enough, and
	// saves start-up a commit and its two fsyncs.
	var version int
	var key []byte
	err := store.View(ctx, func(tx storage.Tx) error {
		var err error
		if version, err = readVersion(tx); err != nil {
			return err
		}
		key, err = get(tx, markerKeyKey)
		return err
	})
	if err != nil {
		return nil, err
	}
	if version > Version {
		return nil, fmt.Errorf("%w: the store has schema version %d, this server supports up to %d; upgrade elasticache-server", ErrNewerSchema, version, Version)
	}
	if version == Version && key != nil {
		return key, nil
	}
	if version == 1 {
		if err := upgradeTags(ctx, store); err != nil {
			return nil, fmt.Errorf("upgrade the store from schema version 1: %w", err)
		}
	}
	err = store.Update(ctx, func(tx storage.Tx) error {
		key = nil
		b, err := json.Marshal(schemaRecord{Version: Version})
		if err != nil {
			return err
		}
		if err := tx.Put(schemaKey, b); err != nil {
			return err
		}
		if key, err = get(tx, markerKeyKey); err != nil || key != nil {
			return err
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("marker key: %w", err)
		}
		return tx.Put(markerKeyKey, key)
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

// readVersion is the store's layout version, 0 for a new store.
func readVersion(tx storage.Tx) (int, error) {
	b, err := get(tx, schemaKey)
	if err != nil || b == nil {
		return 0, err
	}
	var s schemaRecord
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, fmt.Errorf("decode schema record: %w", err)
	}
	return s.Version, nil
}

// get is tx.Get with a copy, and nil for a missing key.
func get(tx storage.Tx, key []byte) ([]byte, error) {
	b, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// upgradeBatch is how many records one upgrade transaction rewrites:
// etcd's --max-txn-ops is 128 by default, and each costs two writes.
const upgradeBatch = 50

// upgradeTags moves the tags of version-1 cache security group records
// (the only kind version 1 had) out of the records, under t/.
func upgradeTags(ctx context.Context, store storage.Store) error {
	for {
		moved := 0
		err := store.Update(ctx, func(tx storage.Tx) error {
			moved = 0
			type change struct{ key, record, tagKey, tags []byte }
			var changes []change
			err := tx.Scan(scopesPrefix, nil, func(k, v []byte) (bool, error) {
				sc, rest, err := splitScopeKey(k)
				if err != nil || !bytes.HasPrefix(rest, []byte("csg/")) {
					return err == nil, err
				}
				var fields map[string]json.RawMessage
				if err := json.Unmarshal(v, &fields); err != nil {
					return false, fmt.Errorf("decode %s: %w", k, err)
				}
				tags, ok := fields["tags"]
				if !ok {
					return true, nil
				}
				delete(fields, "tags")
				rec, err := json.Marshal(fields)
				if err != nil {
					return false, err
				}
				name := string(rest[len("csg/"):])
				changes = append(changes, change{bytes.Clone(k), rec, []byte(sc.prefix() + "t/csg/" + name), bytes.Clone(tags)})
				return len(changes) < upgradeBatch, nil
			})
			if err != nil {
				return err
			}
			for _, c := range changes {
				if err := tx.Put(c.key, c.record); err != nil {
					return err
				}
				if string(c.tags) == "null" || string(c.tags) == "{}" {
					continue
				}
				if err := tx.Put(c.tagKey, c.tags); err != nil {
					return err
				}
			}
			moved = len(changes)
			return nil
		})
		if err != nil || moved == 0 {
			return err
		}
	}
}

// unfinishedKey marks an import or reset written in several transactions
// until its last one: while it is there, the state is part old, part new.
var unfinishedKey = []byte("m/unfinished")

type unfinishedRecord struct {
	Operation string    `json:"operation"`
	Account   string    `json:"account,omitempty"`
	Started   time.Time `json:"started"`
}

func (u *unfinishedRecord) String() string {
	what := u.Operation
	if u.Account != "" {
		what += " of account " + u.Account
	}
	return fmt.Sprintf("the %s started at %s did not finish; run it again", what, u.Started.Format(time.RFC3339))
}

// readUnfinished returns the marker of an interrupted import or reset, or
// nil when there is none.
func readUnfinished(tx storage.Tx) (*unfinishedRecord, error) {
	b, err := get(tx, unfinishedKey)
	if err != nil || b == nil {
		return nil, err
	}
	var u unfinishedRecord
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("decode %s: %w", unfinishedKey, err)
	}
	return &u, nil
}
