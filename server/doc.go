// Package server assembles elasticache-server from its parts: it turns
// flags and environment variables into a Config, and Main opens the store,
// the service and the HTTP listener. Both binaries (through internal/cli)
// and the e2e tests run it; it may import every other package of the
// module but storage/etcd, which only server/etcdbackend imports, so that
// the default binary does not link the etcd client (see EtcdOpener).
package server
