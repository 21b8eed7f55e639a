package service

// records_gen.go holds the JSON codecs of the record structs (the structs
// that embed schema.Meta), generated from their declarations; CI checks
// that `go generate ./...` leaves no diff.
//go:generate go run ../internal/recordgen
