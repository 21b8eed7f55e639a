// Package awsquery is the model-agnostic codec of the AWS query protocol: it parses form bodies,
// decodes them into structs tagged `query:"…"` and writes success and error envelopes from
// structs tagged `xml:"…"`, validating as it goes so that only text XML can carry gets through.
// It imports the standard library only; the generated api package is its one user.
package awsquery
