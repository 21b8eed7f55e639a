// Command elasticache-server-etcd is elasticache-server with the etcd
// backend as well: the same flags and commands, and --store etcd to keep
// the state in an etcd cluster that several servers share (docs/ETCD.md).
//
//	elasticache-server-etcd --store etcd --etcd-endpoints HOST:PORT,... [flags]   serve
//	elasticache-server-etcd export [flags] > FILE                                write the state document of a store
//	elasticache-server-etcd import [flags] < FILE                                replace the state of a store
//
// It is a binary of its own because the etcd client's package init (gRPC,
// protobuf descriptors, zap) costs about 3 ms before main, which the
// default, bbolt-only binary does not pay (docs/DECISIONS.md).
package main

import (
	"os"

	"github.com/elasticache-server/elasticache-server/internal/cli"
	"github.com/elasticache-server/elasticache-server/server/etcdbackend"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr, cli.Options{OpenEtcd: etcdbackend.Open}))
}
