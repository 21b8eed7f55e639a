// Command elasticache-server serves the Amazon ElastiCache API (query
// protocol, 2015-02-02) on an embedded bbolt store (--store bolt, the
// default) or on an etcd cluster that several servers share (--store etcd,
// docs/ETCD.md), so that boto3, the AWS CLI and the AWS SDKs work against
// it unchanged.
//
//	elasticache-server [flags]                 serve
//	elasticache-server export [flags] > FILE   write the state document of a store
//	elasticache-server import [flags] < FILE   replace the state of a store
package main

import (
	"os"

	"github.com/elasticache-server/elasticache-server/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
