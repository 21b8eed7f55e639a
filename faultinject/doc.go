// Package faultinject holds the fault injection rules of one server process:
// which requests (action, account, region) answer Throttling,
// ServiceUnavailable or InternalFailure, or wait first, and when (the next N
// matching requests, or with a probability drawn from a seeded source).
// It imports the standard library, api (the faults it answers) and sigv4
// (what a region name looks like).
package faultinject
