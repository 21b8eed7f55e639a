// Package storagetest is the conformance suite every storage.Store backend
// must pass: one body of tests, run by each backend's own test file on a
// fresh store per subtest. It imports storage, the standard library
// (testing among it) and go-cmp, and assumes nothing about any backend.
package storagetest
