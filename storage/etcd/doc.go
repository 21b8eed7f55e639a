// Package etcd is the distributed storage backend: a storage.Store on an
// etcd v3 cluster, so that several elasticache-server processes share one
// state. Update is an optimistic transaction that etcd commits only if
// nothing it read has changed, retried on conflict. It imports storage, the
// standard library and the official etcd client (go.etcd.io/etcd/client/v3),
// and nothing above storage.
package etcd
