// Package server assembles elasticache-server from its parts: it turns
// flags and environment variables into a Config, and Main opens the store,
// the service and the HTTP listener on either backend, bbolt or etcd. The
// binary (through internal/cli) and the e2e tests run it; it may import
// every other package of the module.
package server
