// Package storage holds the Store and Tx interfaces and the errors backends
// return. It imports only the standard library; backends live in
// sub-packages (bolt, etcd) and the conformance suite in storagetest.
package storage
