// Package bolt is the embedded storage backend: one bbolt file, one bucket,
// and a storage.Store on top that groups concurrent commits into one fsync.
// It imports storage, the standard library and go.etcd.io/bbolt, and nothing
// above storage.
package bolt
