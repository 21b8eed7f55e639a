// Command recordgen reads the Go source of package service and writes
// service/records_gen.go: for every record struct (a struct that embeds
// schema.Meta) and every struct those reference, an encoder that writes
// exactly what json.Marshal writes and a decoder of exactly that, which
// schema.Encode and schema.Decode use in place of encoding/json. It parses
// the source (go/parser, go/ast) and imports only the standard library; the
// JSON runtime the generated code calls is written by hand, once, in
// service/schema/jsonfast.go.
//
// A field of a kind the runtime does not support fails the generator, so a
// new record type that needs one breaks `go generate`, not production.
//
// Usage (see service/generate.go):
//
//	go run ../internal/recordgen
package main
