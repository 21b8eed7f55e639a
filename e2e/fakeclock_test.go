package e2e

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a server clock the test moves by hand: transition delays,
// event windows and event retention become exact instead of racing real
// time. It is safe for the server's goroutines (requests, the event
// sweeper) and the test's at once.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
	// read is closed and replaced at every call of Now, so that a test
	// can tell when a background reader (the event sweeper) has seen the
	// time.
	read chan struct{}
}

// newFakeClock returns a clock that stands at t until moved. Times in the
// tests are whole milliseconds, the precision of timestamps on the wire.
func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{t: t, read: make(chan struct{})}
}

// Now returns the clock's current time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.read)
	c.read = make(chan struct{})
	return c.t
}

// Set moves the clock to t, forward or back.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d and returns the new time.
func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Time is the clock's current time, without counting as a read.
func (c *fakeClock) Time() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// nextRead returns a channel that is closed at the next call of Now.
func (c *fakeClock) nextRead() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read
}

// waitRead blocks until Now is called at least once after the call of
// waitRead, and fails the test when that has not happened by deadline.
func (c *fakeClock) waitRead(tb testing.TB, deadline time.Time) {
	tb.Helper()
	next := c.nextRead()
	select {
	case <-next:
	case <-time.After(time.Until(deadline)):
		tb.Fatalf("nobody read the clock before the deadline")
	}
}

// clockStart is where fake clocks start: a whole second, so that every
// time derived from it by whole milliseconds survives the wire exactly.
var clockStart = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
