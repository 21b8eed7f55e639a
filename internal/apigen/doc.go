// Command apigen reads the pinned botocore model of ElastiCache
// (api/model/*.json) and writes the declarative half of package api: the
// shapes, the fault types, the Service interface and the operation table.
// It imports only the standard library; the logic that reads the generated
// tags lives in internal/awsquery, written by hand.
//
// Usage (see api/generate.go):
//
//	go run ../internal/apigen -model model/elasticache-2015-02-02.json -out .
package main
