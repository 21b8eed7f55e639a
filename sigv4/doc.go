// Package sigv4 decides who a request acts as. In the non-verifying mode it
// only reads the access key and region from the Authorization header or a
// presigned query; it imports api for the Caller type and the standard
// library.
package sigv4
