// Package storage defines the small transactional key-value contract that
// every backend (bbolt embedded, etcd distributed) implements. Keys are
// ordered byte strings; meaning lives in the service layer above.
package storage

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Tx.Get when the key does not exist.
var ErrNotFound = errors.New("storage: key not found")

// ErrConflict is returned by Store.Update when a concurrent writer changed
// what the transaction read and retrying did not succeed.
var ErrConflict = errors.New("storage: transaction conflict")

// ErrUnavailable wraps failures that a client may retry: the backend could
// not be reached or did not answer in time, or (bbolt) its disk is full, in
// which case the transaction was not written and the store takes writes
// again once there is space.
var ErrUnavailable = errors.New("storage: store unavailable")

// ErrClosed is returned by any operation on a Store after Close.
var ErrClosed = errors.New("storage: store closed")

// ErrReadOnly is returned by Tx.Put and Tx.Delete inside View.
var ErrReadOnly = errors.New("storage: write in read-only transaction")

// Store is a transactional, ordered key-value store.
//
// The function given to Update may run more than once (optimistic retry on
// etcd, batch re-run on bbolt), so it must not leak effects other than
// through the Tx: reset any captured result at the top of the function.
// An error returned by fn aborts the transaction and is returned unchanged
// (wrapping allowed); no write of an aborted transaction is visible.
// Update returns only after the transaction is durable.
//
// If ctx is already done, View and Update do nothing and return an error
// wrapping ctx.Err(); Update also gives up, writing nothing, if ctx is done
// by the time fn returns. Do not call View, Update or Close from inside fn:
// a backend may serialise writers (bbolt does) and would deadlock.
//
// The conformance suite in storagetest checks all of this.
type Store interface {
	// View runs fn in a read-only, consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a serialisable read-write transaction and commits it
	// durably when fn returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store. It waits for running transactions; new ones
	// fail with ErrClosed from the moment Close is called.
	Close() error
}

// Tx is one transaction. It must not be used after its function returns
// (backends answer such calls with an error rather than crash) and is not
// safe for concurrent use.
type Tx interface {
	// Get returns the value of key, or ErrNotFound. The returned slice is
	// only valid until the transaction ends; copy it to keep it. It must not
	// be modified: a backend may hand out read-only mapped memory (bbolt).
	Get(key []byte) ([]byte, error)
	// Put sets key to value. Keys must be non-empty. The store copies both.
	Put(key, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key []byte) error
	// Scan calls fn for each key that starts with prefix and is strictly
	// greater than after (after == nil means from the start of the prefix),
	// in ascending byte order, until fn returns false or an error, or the
	// keys run out. The slices passed to fn are only valid during the call
	// and must not be modified. An error from fn is returned unchanged
	// (wrapping allowed). fn may Put and Delete through the same Tx, for
	// example to delete each key it visits; the scan then carries on with
	// the keys after the one just visited.
	// A Scan that stops early must cost in proportion to what it visited,
	// not to the number of keys under prefix.
	Scan(prefix, after []byte, fn func(key, value []byte) (more bool, err error)) error
}
