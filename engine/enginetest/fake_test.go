package enginetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/engine"
)

func TestFakeRecordsAndSimulates(t *testing.T) {
	ctx := context.Background()
	f := New()
	s := engine.Spec{Key: "123456789012/us-east-1/c/0001", Engine: "redis", Address: "127.3.0.7", Port: 6379, Params: map[string]string{"timeout": "0"}}
	if err := f.Ensure(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := f.Health(ctx, s.Key); err != nil {
		t.Fatalf("Health of a running node: %v", err)
	}
	f.SetStatic("databases")
	need, err := f.Apply(ctx, s, map[string]string{"databases": "32", "timeout": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"databases"}, need); diff != "" {
		t.Fatalf("needRestart (-want +got):\n%s", diff)
	}
	got, ok := f.Running(s.Key)
	if !ok || got.Params["timeout"] != "5" || got.Params["databases"] != "" {
		t.Fatalf("Running = %+v, %v; want timeout 5 applied and databases pending", got, ok)
	}
	if s.Params["timeout"] != "0" {
		t.Fatal("Apply changed the caller's map")
	}

	if !f.Crash(s.Key) {
		t.Fatal("Crash of a running node reported false")
	}
	select {
	case k := <-f.Exited():
		if k != s.Key {
			t.Fatalf("Exited = %q", k)
		}
	case <-time.After(time.Second):
		t.Fatal("Crash delivered nothing on Exited")
	}
	if err := f.Health(ctx, s.Key); err == nil {
		t.Fatal("Health of a crashed node succeeded")
	}
	if !f.HasData(s.Key) {
		t.Fatal("a crash deleted the data")
	}
	if f.Crash(s.Key) {
		t.Fatal("Crash of a stopped node reported true")
	}

	if err := f.Restart(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove(ctx, s.Key); err != nil {
		t.Fatal(err)
	}
	if f.HasData(s.Key) || len(f.RunningKeys()) != 0 {
		t.Fatal("Remove left the node")
	}
	if err := f.Stop(ctx, "unknown/key"); err != nil {
		t.Fatalf("Stop of an unknown key: %v", err)
	}

	var methods []string
	for _, c := range f.Calls() {
		methods = append(methods, c.Method)
	}
	want := []string{"Ensure", "Health", "Apply", "Health", "Restart", "Remove", "Stop"}
	if diff := cmp.Diff(want, methods); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
}

func TestFakeFailures(t *testing.T) {
	ctx := context.Background()
	f := New()
	s := engine.Spec{Key: "a/b", Engine: "valkey", Address: "127.0.0.1", Port: 6379}
	f.SetMissing("valkey")
	if _, err := f.Available("valkey"); err == nil {
		t.Fatal("Available of a missing engine succeeded")
	}
	if err := f.Ensure(ctx, s); err == nil {
		t.Fatal("Ensure of a missing engine succeeded")
	}
	if err := f.Ensure(ctx, engine.Spec{Key: "../x", Engine: "redis", Address: "127.0.0.1", Port: 1}); err == nil {
		t.Fatal("Ensure of an invalid spec succeeded")
	}
	s.Engine = "redis"
	boom := errors.New("boom")
	f.FailNext("Ensure", boom)
	if err := f.Ensure(ctx, s); !errors.Is(err, boom) {
		t.Fatalf("Ensure = %v, want the injected error", err)
	}
	if _, ok := f.Running(s.Key); ok {
		t.Fatal("a failed Ensure started the node")
	}
	if err := f.Ensure(ctx, s); err != nil {
		t.Fatalf("the failure was not one-shot: %v", err)
	}
	if _, err := f.Apply(ctx, engine.Spec{Key: "c/d", Engine: "redis", Address: "127.0.0.1", Port: 1}, nil); err == nil {
		t.Fatal("Apply on a node that is not running succeeded")
	}
	if err := f.StopAll(ctx); err != nil || len(f.RunningKeys()) != 0 {
		t.Fatalf("StopAll = %v, running %v", err, f.RunningKeys())
	}
	if !f.HasData(s.Key) {
		t.Fatal("StopAll deleted data")
	}
}

func TestFakeNodesListsNodesWithData(t *testing.T) {
	ctx := context.Background()
	f := New()
	a := engine.Spec{Key: "a/1", Engine: "redis", Address: "127.0.0.1", Port: 1}
	b := engine.Spec{Key: "b/1", Engine: "redis", Address: "127.0.0.1", Port: 2}
	for _, s := range []engine.Spec{b, a} {
		if err := f.Ensure(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.Nodes(ctx)
	if diff := cmp.Diff([]string{"a/1", "b/1"}, got); err != nil || diff != "" {
		t.Fatalf("Nodes after StopAll = %v (-want +got):\n%s", err, diff)
	}
	if err := f.Remove(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	got, err = f.Nodes(ctx)
	if diff := cmp.Diff([]string{"b/1"}, got); err != nil || diff != "" {
		t.Fatalf("Nodes after Remove = %v (-want +got):\n%s", err, diff)
	}
	boom := errors.New("boom")
	f.FailNext("Nodes", boom)
	if _, err := f.Nodes(ctx); !errors.Is(err, boom) {
		t.Fatalf("Nodes = %v, want the injected error", err)
	}
}
