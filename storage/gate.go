package storage

import (
	"context"
	"fmt"
	"sync"
)

// Gate is the part of a Store's Close that every backend needs: it admits
// transactions until Close begins, refuses them with ErrClosed after, and
// lets Close wait for the ones already admitted. The zero value is open.
type Gate struct {
	mu       sync.Mutex
	idle     sync.Cond // signalled when active drops to 0 while closing
	closing  bool
	active   int
	released chan struct{} // closed by Release, once the store is closed
}

// Enter admits a transaction, or returns ErrClosed once Close has begun
// and, if ctx is already done, an error wrapping ctx.Err() that says op
// (e.g. "storage/bolt: view") was not started: the refusals every Store's
// View and Update owe before running fn. Every Enter that returns nil
// must be matched by Leave.
func (g *Gate) Enter(ctx context.Context, op string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s not started: %w", op, err)
	}
	g.active++
	return nil
}

// Leave ends a transaction that Enter admitted and wakes Close when it was
// the last.
func (g *Gate) Leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if g.active == 0 && g.closing {
		g.idle.Broadcast()
	}
}

// Close refuses transactions from now on and waits for the admitted ones
// to leave. It reports whether this call is the first: the caller then
// closes the store and calls Release. A later call waits for Release and
// reports false; the caller returns ErrClosed.
func (g *Gate) Close() (first bool) {
	g.mu.Lock()
	if g.released == nil {
		g.released = make(chan struct{})
	}
	if g.closing {
		released := g.released
		g.mu.Unlock()
		<-released
		return false
	}
	g.closing = true
	if g.idle.L == nil {
		g.idle.L = &g.mu
	}
	for g.active > 0 {
		g.idle.Wait()
	}
	g.mu.Unlock()
	return true
}

// Release tells waiting Close calls that the store is closed.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.released)
}
