// Package e2e holds the end-to-end tests: each test starts a real server
// (server.Main on 127.0.0.1:0 over a store in a temp dir) and drives it with
// real clients — aws-sdk-go-v2 here, plain net/http for what an SDK cannot
// send. It has no code outside its tests and may import everything.
package e2e
