// Package bolt is the embedded storage backend: one bbolt file with a
// write-ahead log of two files beside it. An Update is durable once its log
// record is fdatasynced, concurrent Updates sharing one fdatasync; the
// writes reach bbolt in the background, thousands of keys per commit, and
// are read meanwhile from in-memory layers over bbolt. Open replays into
// bbolt whatever the log holds beyond it. A full disk fails the writes it
// stops with storage.ErrUnavailable and leaves the store working; any other
// write error stops it until a restart. docs/STORAGE.md gathers the
// invariants. It imports storage, the standard library, go.etcd.io/bbolt
// and github.com/google/btree, and nothing above storage.
package bolt
