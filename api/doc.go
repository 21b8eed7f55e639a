// Package api is the wire contract of the ElastiCache query API
// (2015-02-02): the shapes, faults, Service interface and operation table
// generated from model/ by internal/apigen, and the handwritten http.Handler
// that decodes a request, calls the Service and encodes the answer. It
// imports the standard library and internal/awsquery only; it never sees
// storage.
package api
