package storage_test

import (
	"errors"
	"testing"

	"github.com/elasticache-server/elasticache-server/storage"
)

// TestGate: Close waits for an admitted transaction, refuses new ones at
// once, and a second Close waits for Release and is told it is not first.
func TestGate(t *testing.T) {
	var g storage.Gate
	if err := g.Enter(); err != nil {
		t.Fatalf("Enter on an open gate: %v", err)
	}
	closed := make(chan bool)
	go func() { closed <- g.Close() }()
	for {
		// Close has begun once Enter is refused.
		if err := g.Enter(); errors.Is(err, storage.ErrClosed) {
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
