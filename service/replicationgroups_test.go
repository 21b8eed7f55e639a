package service

import "context"

// reconcile runs one pass of a control-plane-only reconciler over the
// work index: the members of replication groups become available, or
// go, as the fleet would make them.
func (f *fixture) reconcile() {
	f.svc.NewReconciler(nil, ReconcilerConfig{ServerID: "test"}).workPass(context.Background())
}
