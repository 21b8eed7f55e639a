package server

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// lazyDeadlineListener wraps each accepted connection in a lazyDeadlineConn.
//
// Why: net/http sets a connection's deadlines about eight times per request
// (the write timeout, the whole-request read timeout, the background read's
// none, the abort of that read and its none again, no write timeout, the
// idle timeout, the header timeout), and with timeouts configured each is a
// runtime timer added, moved or removed: 3 % of the CPU of a describe. A
// lazyDeadlineConn keeps what was asked and changes the real deadline only
// when the one in force would fire too late; a deadline that fires too
// early is noticed by the Read or Write it interrupts, which sets the right
// one and carries on. Timeouts still fire exactly when asked: no later than
// the real deadline that was asked for, and not before it either, since an
// early one is retried.
type lazyDeadlineListener struct {
	net.Listener
	// step bounds how far ahead a deadline is set after an early one fired:
	// the server's shortest timeout, so that the header timeout set after
	// an idle wait usually finds an earlier deadline already in force.
	step time.Duration
}

func (l *lazyDeadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &lazyDeadlineConn{Conn: c}
	lc.read.step, lc.write.step = l.step, l.step
	return lc, nil
}

// lazyDeadlineConn is a net.Conn whose deadline calls are cheap; see
// lazyDeadlineListener.
type lazyDeadlineConn struct {
	net.Conn
	read, write lazyDeadline
}

// lazyDeadline is one direction's deadlines. net/http sets the read
// deadline from one goroutine while its background read waits in Read on
// another (that is how it aborts that read), hence the lock.
type lazyDeadline struct {
	mu   sync.Mutex
	step time.Duration
	// want is the deadline asked for; armed is the one set on the
	// connection. Zero means none. armed is never later than want when
	// want is set: at worst it fires early, and the I/O retries.
	want, armed time.Time
	// armedPast says armed had passed when it was set (net/http's abort of
	// its background read): every I/O fails until it is moved.
	armedPast bool
}

// set records t and moves the real deadline only when the one in force
// would fire after t (or there is none), or has passed and t has not.
// Removing a deadline (zero t) changes nothing at once: an early firing is
// retried.
func (d *lazyDeadline) set(t time.Time, apply func(time.Time) error) error {
	d.mu.Lock()
	d.want = t
	var err error
	switch {
	case t.IsZero():
	case t.Unix() < longAgo:
		// net/http's abort of its background read (time.Unix(1, 0)),
		// set as it is, without reading the clock: it is past.
		d.armed, d.armedPast = t, true
		err = apply(t)
	case d.armed.IsZero() || d.armed.After(t):
		err = d.armLocked(time.Now(), apply)
	case d.armedPast:
		// Moved here rather than by the I/O that would fail first: after
		// each request's abort, net/http sets the idle timeout and reads.
		if now := time.Now(); t.After(now) {
			err = d.armLocked(now, apply)
		}
	}
	d.mu.Unlock()
	return err
}

// armLocked sets the real deadline for want: want itself when it is near
// or past (a past one interrupts the I/O under way), else step ahead, so
// that the next, nearer deadline net/http asks for (the header timeout after
// the idle one) usually finds it in force already.
func (d *lazyDeadline) armLocked(now time.Time, apply func(time.Time) error) error {
	next := d.want
	if !next.IsZero() && d.step > 0 {
		if limit := now.Add(d.step); limit.Before(next) {
			next = limit
		}
	}
	d.armed, d.armedPast = next, !next.IsZero() && !next.After(now)
	return apply(next)
}

// expired reports whether an I/O that returned err should return it: err is
// not a deadline's, or the deadline asked for has passed. Otherwise it sets
// the real deadline again (or removes it) so that the I/O can be retried.
func (d *lazyDeadline) expired(err error, apply func(time.Time) error) bool {
	if !isDeadlineError(err) {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.armedPast && !d.want.IsZero() && !d.want.After(d.armed) {
		return true // what was asked has passed: the abort, every request
	}
	now := time.Now()
	if !d.want.IsZero() && !now.Before(d.want) {
		return true
	}
	return d.armLocked(now, apply) != nil
}

// longAgo is a time, in Unix seconds, every deadline before which has
// passed: 2000-01-01T00:00:00Z.
const longAgo = 946684800

// isDeadlineError is errors.Is(err, os.ErrDeadlineExceeded) for what a
// TCP connection returns (the error itself in a *net.OpError), without
// errors.Is's reflect-based check, on every request: the read after
// net/http's abort gets here. Not any timeout: ETIMEDOUT is one too.
func isDeadlineError(err error) bool {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err
	}
	return err == os.ErrDeadlineExceeded || errors.Is(err, os.ErrDeadlineExceeded)
}

func (c *lazyDeadlineConn) Read(p []byte) (int, error) {
	for {
		n, err := c.Conn.Read(p)
		if err == nil || n > 0 || c.read.expired(err, c.Conn.SetReadDeadline) {
			return n, err
		}
	}
}

func (c *lazyDeadlineConn) Write(p []byte) (int, error) {
	written := 0
	for {
		n, err := c.Conn.Write(p[written:])
		written += n
		if err == nil || c.write.expired(err, c.Conn.SetWriteDeadline) {
			return written, err
		}
	}
}

func (c *lazyDeadlineConn) SetReadDeadline(t time.Time) error {
	return c.read.set(t, c.Conn.SetReadDeadline)
}

func (c *lazyDeadlineConn) SetWriteDeadline(t time.Time) error {
	return c.write.set(t, c.Conn.SetWriteDeadline)
}

func (c *lazyDeadlineConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

// CloseWrite passes on the TCP half-close net/http uses after refusing a
// request whose body it did not read.
func (c *lazyDeadlineConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
