// Package catalogue is the pinned, read-only catalogue of what ElastiCache
// offers: engine versions and their parameter group families, every family's
// parameters as AWS documents them, and the cache node types with their memory.
//
// The data lives in data/*.json, generated from AWS's ElastiCache user guide by
// internal/mkcatalogue (see SOURCES.md), and is embedded in the binary. The
// package imports only the standard library; it is safe for concurrent use and
// hands out copies, never its own state.
package catalogue
