package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The default binary must not link the etcd client: its package init
// alone (gRPC, protobuf descriptors, zap) would more than double the
// start-up (docs/DECISIONS.md). An import of storage/etcd that creeps
// back into server, cli or anything else they use fails here.
func TestNoEtcdClient(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !slices.Contains(deps, "go.etcd.io/bbolt") {
		t.Fatalf("go list -deps listed %d packages, not bbolt among them:\n%s", len(deps), out)
	}
	for _, dep := range deps {
		for _, banned := range []string{"go.etcd.io/etcd/", "google.golang.org/grpc", "go.uber.org/zap", "/storage/etcd"} {
			if strings.Contains(dep, banned) {
				t.Errorf("elasticache-server links %s", dep)
			}
		}
	}
}
