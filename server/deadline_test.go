package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// lazyPair returns a lazyDeadlineConn and the plain other end of a TCP
// loopback connection.
func lazyPair(t *testing.T, step time.Duration) (*lazyDeadlineConn, net.Conn) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &lazyDeadlineListener{Listener: raw, step: step}
	t.Cleanup(func() { ln.Close() })
	peer, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*lazyDeadlineConn), peer
}

// readTimeout reads from c and returns when the read ended and with what.
func readTimeout(c net.Conn) (time.Time, error) {
	var b [1]byte
	_, err := c.Read(b[:])
	return time.Now(), err
}

func TestLazyDeadlineFiresWhenAsked(t *testing.T) {
	t.Parallel()
	const slack = 500 * time.Millisecond // a loaded machine wakes late, never early
	t.Run("later deadline replaces an earlier one", func(t *testing.T) {
		t.Parallel()
		c, _ := lazyPair(t, 20*time.Millisecond)
		start := time.Now()
		c.SetReadDeadline(start.Add(30 * time.Millisecond))
		c.SetReadDeadline(start.Add(200 * time.Millisecond)) // the 30 ms one stays set, and fires early
		end, err := readTimeout(c)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a timeout", err)
		}
		if d := end.Sub(start); d < 200*time.Millisecond || d > 200*time.Millisecond+slack {
			t.Fatalf("timed out after %v, want 200ms", d)
		}
	})
	t.Run("earlier deadline replaces a later one", func(t *testing.T) {
		t.Parallel()
		c, _ := lazyPair(t, time.Hour)
		start := time.Now()
		c.SetReadDeadline(start.Add(time.Hour))
		c.SetReadDeadline(start.Add(50 * time.Millisecond))
		end, err := readTimeout(c)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a timeout", err)
		}
		if d := end.Sub(start); d < 50*time.Millisecond || d > 50*time.Millisecond+slack {
			t.Fatalf("timed out after %v, want 50ms", d)
		}
	})
	t.Run("no deadline after one", func(t *testing.T) {
		t.Parallel()
		c, peer := lazyPair(t, 10*time.Millisecond)
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		c.SetReadDeadline(time.Time{})
		go func() {
			time.Sleep(150 * time.Millisecond)
			peer.Write([]byte("x"))
		}()
		var b [1]byte
		if n, err := c.Read(b[:]); n != 1 || err != nil {
			t.Fatalf("read = %d, %v; want the byte sent after the removed deadline", n, err)
		}
	})
	t.Run("a past deadline interrupts a waiting read", func(t *testing.T) {
		t.Parallel()
		c, _ := lazyPair(t, 10*time.Millisecond)
		c.SetReadDeadline(time.Time{})
		done := make(chan error, 1)
		go func() { _, err := readTimeout(c); done <- err }()
		time.Sleep(50 * time.Millisecond)
		c.SetReadDeadline(time.Unix(1, 0)) // net/http's abortPendingRead
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read: %v, want a timeout", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the read was not interrupted")
		}
		// And the next read waits again once the deadline is removed.
		c.SetReadDeadline(time.Time{})
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		start := time.Now()
		end, err := readTimeout(c)
		if d := end.Sub(start); !errors.Is(err, os.ErrDeadlineExceeded) || d < 90*time.Millisecond {
			t.Fatalf("read after the abort: %v after %v, want a timeout after 100ms", err, d)
		}
	})
}

func TestLazyDeadlineWrite(t *testing.T) {
	t.Parallel()
	big := make([]byte, 32<<20) // more than the socket buffers hold
	t.Run("an early firing does not cut a write short", func(t *testing.T) {
		t.Parallel()
		c, peer := lazyPair(t, 20*time.Millisecond)
		start := time.Now()
		c.SetWriteDeadline(start.Add(30 * time.Millisecond))
		c.SetWriteDeadline(start.Add(time.Minute))
		got := make(chan int64, 1)
		go func() {
			time.Sleep(200 * time.Millisecond) // the 30 ms deadline fires while the write waits
			n, _ := io.Copy(io.Discard, peer)
			got <- n
		}()
		n, err := c.Write(big)
		if n != len(big) || err != nil {
			t.Fatalf("write = %d, %v; want all %d bytes", n, err, len(big))
		}
		c.Close()
		if r := <-got; r != int64(len(big)) {
			t.Fatalf("the peer read %d bytes, want %d", r, len(big))
		}
	})
	t.Run("a deadline that passes ends a write", func(t *testing.T) {
		t.Parallel()
		c, _ := lazyPair(t, 20*time.Millisecond)
		start := time.Now()
		c.SetWriteDeadline(start.Add(100 * time.Millisecond))
		n, err := c.Write(big)
		if !errors.Is(err, os.ErrDeadlineExceeded) || n == len(big) {
			t.Fatalf("write = %d, %v; want part of it and a timeout", n, err)
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Fatalf("timed out after %v, before the deadline", d)
		}
	})
}

// TestIsDeadlineError: only a deadline is retried, not every timeout; a
// connection that timed out in the kernel (ETIMEDOUT) is dead.
func TestIsDeadlineError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, true},
		{os.ErrDeadlineExceeded, true},
		{fmt.Errorf("wrapped: %w", os.ErrDeadlineExceeded), true},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ETIMEDOUT)}, false},
		{io.EOF, false},
	} {
		if got := isDeadlineError(c.err); got != c.want {
			t.Errorf("isDeadlineError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// BenchmarkDeadlines replays the deadline calls net/http makes for one
// request on a keep-alive connection (Go 1.26, all four timeouts set), with
// the read of the next request between the idle and the header timeouts, on
// a plain TCP connection and on a lazyDeadlineConn; "none" is the read
// alone.
func BenchmarkDeadlines(b *testing.B) {
	for _, mode := range []string{"none", "plain", "lazy"} {
		b.Run(mode, func(b *testing.B) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			var ln net.Listener = raw
			if mode == "lazy" {
				ln = &lazyDeadlineListener{Listener: raw, step: 10 * time.Second}
			}
			peer, err := net.Dial("tcp", raw.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer peer.Close()
			c, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			// The next requests are there when read.
			go io.Copy(peer, zeros{})
			buf := make([]byte, 64)
			for b.Loop() {
				if mode != "none" {
					now := time.Now()
					c.SetWriteDeadline(now.Add(60 * time.Second)) // readRequest
					c.SetReadDeadline(now.Add(30 * time.Second))
					c.SetReadDeadline(time.Time{})     // startBackgroundRead
					c.SetReadDeadline(time.Unix(1, 0)) // abortPendingRead
					c.SetReadDeadline(time.Time{})
					c.SetWriteDeadline(time.Time{})                      // after finishRequest
					c.SetReadDeadline(time.Now().Add(120 * time.Second)) // idle
				}
				if _, err := c.Read(buf); err != nil { // the next request
					b.Fatal(err)
				}
				if mode != "none" {
					c.SetReadDeadline(time.Now().Add(10 * time.Second)) // header
				}
			}
		})
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
