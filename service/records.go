package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

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
	return json.Marshal(r)
}

func decodeGroup(b []byte) (*groupRecord, error) {
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

func putSchema(tx storage.Tx) error {
	b, err := json.Marshal(schemaRecord{Version: SchemaVersion})
	if err != nil {
		return err
	}
	return tx.Put(schemaKey, b)
}
