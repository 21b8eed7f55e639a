// Package metrics is the server's Prometheus instrumentation: a registry of
// its own (never the process-wide default), request counters and latency
// histograms by operation, store transaction timing, resource gauges read
// from the store at scrape time, and build information. It imports api (the
// operation list), storage (the Store it wraps) and client_golang; nothing
// below server imports it.
package metrics
