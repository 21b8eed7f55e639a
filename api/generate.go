package api

// The generated files (*_gen.go) are rewritten from the pinned model; CI
// checks that `go generate ./...` leaves no diff.
//go:generate go run ../internal/apigen -model model/elasticache-2015-02-02.json -out .
