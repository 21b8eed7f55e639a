package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// respError is an error reply of a redis-protocol server ("-ERR ...").
// It is kept apart from I/O errors because an error reply means the server
// is alive and answered: CONFIG SET refusing an immutable parameter is an
// answer, a reset connection is not.
type respError struct{ msg string }

func (e *respError) Error() string { return e.msg }

// respConn is the few commands the runner sends to redis and valkey
// (AUTH, PING, CONFIG GET/SET, SHUTDOWN, ACL, REPLICAOF) over the engine's own protocol; a client
// library would bring connection pools and retries the runner must not have
// (a retried SHUTDOWN is a second shutdown).
type respConn struct {
	c net.Conn
	r *bufio.Reader
}

// dialRESP connects to a redis-protocol server; network is "tcp" or
// "unix". The connection's deadline follows ctx.
func dialRESP(ctx context.Context, network, addr string) (*respConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := c.SetDeadline(dl); err != nil {
			c.Close()
			return nil, err
		}
	}
	return &respConn{c: c, r: bufio.NewReader(c)}, nil
}

// Close closes the connection.
func (c *respConn) Close() error { return c.c.Close() }

// do sends one command and reads its reply: a string (simple or bulk), an
// int64, nil (null bulk or array), a []any, or a *respError.
func (c *respConn) do(args ...string) (any, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		return nil, err
	}
	return readRESP(c.r, 0)
}

// maxRESPDepth bounds nested arrays; the runner's commands nest at most one
// level, so anything deeper is a broken or hostile peer.
const maxRESPDepth = 8

func readRESP(r *bufio.Reader, depth int) (any, error) {
	if depth > maxRESPDepth {
		return nil, errors.New("resp: reply nested too deeply")
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("resp: malformed reply line %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return body, nil
	case '-':
		return nil, &respError{msg: body}
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("resp: bad integer %q", body)
		}
		return n, nil
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 512<<20 {
			return nil, fmt.Errorf("resp: bad bulk length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 1<<20 {
			return nil, fmt.Errorf("resp: bad array length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			v, err := readRESP(r, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("resp: unknown reply type %q", kind)
}

// dialAs connects like dialRESP and, when cr is not nil, authenticates as
// cr's user: a node with users lets nobody else run a command. AUTH is
// one of the commands redis answers while it loads its dump, so a node
// starting up can be authenticated against and then polled with PING.
func dialAs(ctx context.Context, network, addr string, cr *credentials) (*respConn, error) {
	c, err := dialRESP(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if cr != nil {
		if _, err := c.do("AUTH", cr.user, cr.password); err != nil {
			c.Close()
			return nil, &authError{user: cr.user, err: err}
		}
	}
	return c, nil
}

// authError is a failed AUTH: the command after it was never sent, which
// a caller telling the engine's refusal of the command from a refusal of
// the runner must know.
type authError struct {
	user string
	err  error
}

func (e *authError) Error() string { return "AUTH as " + e.user + ": " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// redisDo dials, authenticates as cr (nil: as nobody), sends one command
// and closes: the runner's commands are rare (start, apply, stop,
// health), so a connection per command keeps no state that a restarted
// engine could invalidate.
func redisDo(ctx context.Context, network, addr string, cr *credentials, args ...string) (any, error) {
	c, err := dialAs(ctx, network, addr, cr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.do(args...)
}

// redisPing answers nil when the server replies PONG. A LOADING reply (the
// server is reading its dump file) is an error, so a caller polling for
// readiness keeps waiting.
func redisPing(ctx context.Context, network, addr string, cr *credentials) error {
	v, err := redisDo(ctx, network, addr, cr, "PING")
	if err != nil {
		return err
	}
	if s, ok := v.(string); !ok || s != "PONG" {
		return fmt.Errorf("PING answered %v", v)
	}
	return nil
}

// memcachedVersion asks a memcached for its version ("version" in the
// text protocol) and answers nil when it replies VERSION.
func memcachedVersion(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	if err := c.SetDeadline(dl); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "version\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "VERSION ") {
		return fmt.Errorf("version answered %q", strings.TrimSpace(line))
	}
	return nil
}
