package storage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Gate is the part of a Store's Close that every backend needs: it admits
// transactions until Close begins, refuses them with ErrClosed after, and
// lets Close wait for the ones already admitted. The zero value is open.
//
// Every View and Update passes the gate twice, from every core at once, so
// admission is two atomic adds rather than a mutex they would contend on:
// Enter counts itself in and then looks for closing, Close marks closing
// and then looks at the count (both sequentially consistent), so one of
// the two always sees the other.
type Gate struct {
	active  atomic.Int64
	closing atomic.Bool

	mu       sync.Mutex
	idle     sync.Cond     // signalled when active drops to 0 while closing
	released chan struct{} // closed by Release, once the store is closed
}

// Enter admits a transaction, or returns ErrClosed once Close has begun
// and, if ctx is already done, an error wrapping ctx.Err() that says op
// (e.g. "storage/bolt: view") was not started: the refusals every Store's
// View and Update owe before running fn. Every Enter that returns nil
// must be matched by Leave.
func (g *Gate) Enter(ctx context.Context, op string) error {
	g.active.Add(1)
	if g.closing.Load() {
		g.Leave()
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		g.Leave()
		return fmt.Errorf("%s not started: %w", op, err)
	}
	return nil
}

// Leave ends a transaction that Enter admitted and wakes Close when it was
// the last.
func (g *Gate) Leave() {
	if g.active.Add(-1) == 0 && g.closing.Load() {
		// Under mu, so that the wake-up cannot fall between Close's look
		// at the count and its Wait.
		g.mu.Lock()
		g.idle.Broadcast()
		g.mu.Unlock()
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
	if g.closing.Load() {
		released := g.released
		g.mu.Unlock()
		<-released
		return false
	}
	if g.idle.L == nil {
		g.idle.L = &g.mu
	}
	g.closing.Store(true)
	for g.active.Load() > 0 {
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
