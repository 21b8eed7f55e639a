// Package server assembles elasticache-server from its parts: it turns
// flags and environment variables into a Config, and Main opens the store,
// the service and the HTTP listener. cmd/elasticache-server and the e2e
// tests both run it; it may import every other package of the module.
package server
