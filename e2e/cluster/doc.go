// Package cluster holds the end-to-end tests of several servers on one
// state and of faults: two server.Main on one etcd cluster behaving as one,
// racing creates on both backends, kill -9 of the real binary on bbolt, and
// etcd members killed and restarted under load. etcd members come from
// internal/etcdtest. It has no code outside its tests and may import
// everything.
package cluster
