// Package terraform holds the Terraform end-to-end tests: each test starts
// the real server in-process (server.Main on 127.0.0.1:0 over a temp bbolt
// store) and drives it with Terraform 1.11.4 and the hashicorp/aws provider
// 5.100.0 from a local filesystem mirror, never from a registry; it has no
// code outside its tests and may import everything.
//
// scripts/find-terraform.sh finds both (ELASTICACHE_TF_BIN and
// ELASTICACHE_TF_MIRROR override it); a missing or wrong one fails the
// tests, they never skip. The harness (harness_test.go) gives each test
// working directories with a hermetic environment: a CLI config that
// installs only from the mirror (linked, no shared plugin cache), static
// credentials for account 123456789012, no instance metadata, empty AWS
// config files, and a proxy that refuses everything but loopback.
//
// To test a resource, write a TestXxx that calls t.Parallel, starts its own
// server (startServer) and a working directory (newTerraform), then walks
// the resource's life: write(config) and apply; planIsClean; a changed
// config, apply, planIsClean; importResource in a second working directory
// whose config matches, planIsClean there; its data source, if it has one,
// checked through state().output against state().resource; destroy. Check
// what the server holds with the Go SDK (sdkClient) between the steps. The
// server's request journal (every action, its answer and parameters) is
// logged at the end of each test.
package terraform
