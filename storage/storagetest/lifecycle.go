package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

func testCanceledBeforeStart(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := s.Update(ctx, func(tx storage.Tx) error {
		called = true
		return tx.Put([]byte("k"), []byte("v"))
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context = %v, want an error wrapping context.Canceled", err)
	}
	if called {
		t.Error("Update ran fn with a canceled context")
	}
	err = s.View(ctx, func(tx storage.Tx) error {
		called = true
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("View with a canceled context = %v, want an error wrapping context.Canceled", err)
	}
	if called {
		t.Error("View ran fn with a canceled context")
	}
	wantMissing(t, s, "k")
}

// testCanceledBeforeCommit cancels while fn runs: the caller has given up,
// so nothing may be committed behind its back.
func testCanceledBeforeCommit(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := s.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update canceled during fn = %v, want an error wrapping context.Canceled", err)
	}
	wantMissing(t, s, "k")
}

func testClosed(t *testing.T, s storage.Store) {
	put(t, s, "k", "v")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	called := false
	fn := func(storage.Tx) error { called = true; return nil }
	if err := s.View(t.Context(), fn); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
	if err := s.Update(t.Context(), fn); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if called {
		t.Error("fn ran on a closed store")
	}
	if err := s.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
		t.Errorf("second Close = %v, want nil or ErrClosed", err)
	}
}

// testCloseWaitsForTransactions closes the store while a View is open: the
// View must finish normally, new work must be refused, and Close must not
// return before the View does.
func testCloseWaitsForTransactions(t *testing.T, s storage.Store) {
	put(t, s, "k", "v")
	inView, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	releaseView := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseView() // on failure too, or the store's cleanup would wait forever
	viewErr := make(chan error, 1)
	go func() {
		viewErr <- s.View(t.Context(), func(tx storage.Tx) error {
			close(inView)
			<-release
			v, err := tx.Get([]byte("k"))
			if err != nil {
				return err
			}
			if string(v) != "v" {
				t.Errorf("Get in a View outliving Close = %q, want v", v)
			}
			return nil
		})
	}()
	wait(t, inView, "View start")

	closeErr := make(chan error, 1)
	go func() { closeErr <- s.Close() }()
	// Close has begun once new work is refused. Each probe runs in its own
	// goroutine: on a backend that lets new work queue behind the pending
	// Close, it blocks, and that must fail the test, not hang it.
	deadline := time.Now().Add(waitLimit)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("View still succeeds %s after Close was called", waitLimit)
		}
		probe := make(chan error, 1)
		go func() { probe <- s.View(t.Context(), func(storage.Tx) error { return nil }) }()
		err := wait(t, probe, "View while Close waits for another View")
		if errors.Is(err, storage.ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("View while closing = %v, want nil or ErrClosed", err)
		}
		select {
		case err := <-closeErr:
			t.Fatalf("Close returned %v while a View was still running", err)
		default:
		}
	}
	select {
	case err := <-closeErr:
		t.Fatalf("Close returned %v while a View was still running", err)
	default:
	}
	releaseView()
	if err := wait(t, viewErr, "View"); err != nil {
		t.Errorf("View that was open during Close: %v", err)
	}
	if err := wait(t, closeErr, "Close"); err != nil {
		t.Errorf("Close: %v", err)
	}
}
