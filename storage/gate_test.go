package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/elasticache-server/elasticache-server/storage"
)

// TestGate: Close waits for an admitted transaction, refuses new ones at
// once, and a second Close waits for Release and is told it is not first.
func TestGate(t *testing.T) {
	var g storage.Gate
	if err := g.Enter(context.Background(), "test"); err != nil {
		t.Fatalf("Enter on an open gate: %v", err)
	}
	closed := make(chan bool)
	go func() { closed <- g.Close() }()
	for {
		// Close has begun once Enter is refused.
		if err := g.Enter(context.Background(), "test"); errors.Is(err, storage.ErrClosed) {
			break
		} else if err != nil {
			t.Fatal(err)
		} else {
			g.Leave()
		}
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a transaction was still admitted")
	default:
	}
	g.Leave()
	if first := <-closed; !first {
		t.Fatal("the first Close was told it was not first")
	}
	second := make(chan bool)
	go func() { second <- g.Close() }()
	select {
	case <-second:
		t.Fatal("a second Close returned before Release")
	default:
	}
	g.Release()
	if first := <-second; first {
		t.Fatal("the second Close was told it was first")
	}
}

// TestGateRefusesADoneContext: a transaction whose context is done is not
// admitted (and so owes no Leave), with an error naming the operation.
func TestGateRefusesADoneContext(t *testing.T) {
	var g storage.Gate
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := g.Enter(ctx, "storage/x: view")
	if !errors.Is(err, context.Canceled) || err.Error() != "storage/x: view not started: context canceled" {
		t.Fatalf("Enter with a done context: %v", err)
	}
	// Nothing was admitted: Close does not wait.
	if !g.Close() {
		t.Fatal("Close was told it was not first")
	}
}
