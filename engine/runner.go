package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Timings of the runner. Real time passes here (a process starts, saves,
// exits); every wait polls with a deadline.
const (
	// readyPoll is how often a starting engine is asked whether it answers.
	// Starting redis takes a few milliseconds; a connect attempt costs
	// microseconds.
	readyPoll = 2 * time.Millisecond
	// defaultWatch is how often an adopted process (not our child, so no
	// wait(2)) is checked for life.
	defaultWatch = time.Second
	// defaultStartTimeout bounds Ensure's wait for a new process to answer
	// (redis loading a large dump.rdb is the slow case).
	defaultStartTimeout = 60 * time.Second
	// defaultStopTimeout bounds a graceful stop (redis saving its dump)
	// before the process group is killed.
	defaultStopTimeout = 60 * time.Second
	// pingTimeout bounds one PING or version round trip.
	pingTimeout = 2 * time.Second
	// exitedBuffer is how many unread Exited keys are kept.
	exitedBuffer = 256
)

// Runner runs nodes as real processes, each under Dir/<Key>/ (data, pid
// file, log). It is safe for concurrent use; calls for one key are
// serialised, calls for different keys run in parallel.
type Runner struct {
	dir string
	log *slog.Logger

	// Knobs the tests turn; NewRunner sets the defaults.
	watchInterval time.Duration
	startTimeout  time.Duration
	stopTimeout   time.Duration
	lookPath      func(file string) (string, error)
	// itemsTimeout bounds saving a memcached node's items at a stop and
	// loading them at the next start; now dates their expiry.
	itemsTimeout time.Duration
	now          func() time.Time

	locks keyLocks

	mu    sync.Mutex
	nodes map[string]*node

	probeMu sync.Mutex
	probes  map[string]map[string]string // binary path -> CONFIG GET *
	// refused holds the directives (binary, name, value) an engine
	// refused at a start, so that later starts leave them out at once.
	refused map[[3]string]bool

	// secretMu serialises creating the runner's replication secret.
	secretMu sync.Mutex

	exited chan string
}

// node is one running engine process.
type node struct {
	spec  Spec
	bin   string
	dir   string
	pid   int
	start uint64 // /proc start ticks, telling a reused pid apart
	child bool   // started by this runner (reaped by cmd.Wait)
	done  chan struct{}
	// expected is set (under Runner.mu) when the runner itself ends the
	// process, and while it starts: no Exited for those.
	expected bool
	// auth is who the runner connects to a redis or valkey node as: its
	// own user, or nil for memcached and for a redis node adopted from a
	// runner that had no user of its own. Health reads it without the
	// key's lock, hence atomic.
	auth atomic.Pointer[credentials]
	// access is what the node's users and replication were last set to,
	// by its start or by Reconfigure; zero for an adopted node until
	// Ensure reconfigures it. Read and written under the key's lock only.
	access access
}

var _ Engines = (*Runner)(nil)

// NewRunner returns a Runner keeping its nodes under dir (created on first
// use). log receives start, stop, adoption and skipped-parameter records.
func NewRunner(dir string, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// redis resolves --dir from its own working directory (the node's),
	// so every path handed to an engine must be absolute.
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &Runner{
		dir:           dir,
		log:           log,
		watchInterval: defaultWatch,
		startTimeout:  defaultStartTimeout,
		stopTimeout:   defaultStopTimeout,
		lookPath:      lookPath,
		itemsTimeout:  defaultItemsTimeout,
		now:           time.Now,
		locks:         keyLocks{m: map[string]*keyLock{}},
		nodes:         map[string]*node{},
		probes:        map[string]map[string]string{},
		exited:        make(chan string, exitedBuffer),
	}
}

// lookPath finds a binary on PATH, then in /usr/bin and /usr/sbin, where
// Debian's packages put them, for a server started with a bare PATH.
func lookPath(file string) (string, error) {
	if p, err := exec.LookPath(file); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/bin", "/usr/sbin"} {
		p := filepath.Join(d, file)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH, in /usr/bin or in /usr/sbin", file)
}

// Available tells whether the engine's binary is installed and returns its
// path: redis-server for redis, valkey-server for valkey (never
// redis-server in its place: a cluster that says valkey must run valkey),
// memcached for memcached.
func (r *Runner) Available(engine string) (string, error) {
	var bin string
	switch engine {
	case "redis":
		bin = "redis-server"
	case "valkey":
		bin = "valkey-server"
	case "memcached":
		bin = "memcached"
	default:
		return "", fmt.Errorf("engine: unknown engine %q (want redis, valkey or memcached)", engine)
	}
	p, err := r.lookPath(bin)
	if err != nil {
		if engine == "valkey" {
			if rp, rerr := r.lookPath("redis-server"); rerr == nil {
				return "", fmt.Errorf("engine: valkey needs valkey-server, which is not installed (%v); redis-server at %s is not used in its place", err, rp)
			}
		}
		return "", fmt.Errorf("engine: %s needs %s, which is not installed: %w (scripts/install-engines.sh installs redis-server and memcached)", engine, bin, err)
	}
	return p, nil
}

// Exited delivers the Key of a node whose process ended without Stop,
// Remove or Restart asking (a crash, a kill), adopted processes included.
// The channel keeps the last 256 unread keys and drops (and logs) the
// rest, so a slow reader never stalls the runner; a reconciler that also
// checks Health on its passes loses nothing.
func (r *Runner) Exited() <-chan string { return r.exited }

// nodeDir is Dir/<Key>.
func (r *Runner) nodeDir(key string) string {
	return filepath.Join(r.dir, filepath.FromSlash(key))
}

func hostPort(s Spec) string { return net.JoinHostPort(s.Address, strconv.Itoa(s.Port)) }

// running returns the node for key whose process has not ended.
func (r *Runner) running(key string) *node {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodes[key]
	if n == nil {
		return nil
	}
	select {
	case <-n.done:
		// Ended and not yet noticed by its watcher; it is gone either way.
		delete(r.nodes, key)
		return nil
	default:
		return n
	}
}

// Ensure makes the node run as s says and returns once it answers (redis
// PING, memcached version). A node already running on s's engine, address
// and port is left as it is (parameter changes go through Apply and
// Restart, so static ones wait for a reboot as on AWS); one running on
// another engine, address or port is stopped, keeping its data, and
// started anew. A process that the node's pid file names and that is s's
// engine on s's address and port, in the node's directory, is adopted:
// that is how a server restarted after kill -9 takes its nodes back. A
// pid file naming any other live process, or an address held by another
// process, is an error; a pid file of a dead process is removed and the
// node started on its data. A redis or valkey node, running or adopted,
// gets s's users and replication live when they differ from what the
// runner last set (an adopted node always: the previous server's are not
// known); a node started here starts with them. Idempotent.
func (r *Runner) Ensure(ctx context.Context, s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	bin, err := r.Available(s.Engine)
	if err != nil {
		return err
	}
	unlock, err := r.locks.lock(ctx, s.Key)
	if err != nil {
		return err
	}
	defer unlock()
	return r.ensureLocked(ctx, s, bin)
}

func (r *Runner) ensureLocked(ctx context.Context, s Spec, bin string) error {
	if n := r.running(s.Key); n != nil {
		if sameListener(n, s, bin) {
			wctx, cancel := context.WithTimeout(ctx, r.startTimeout)
			defer cancel()
			err := r.waitReady(wctx, n)
			if err == nil {
				return r.ensureAccess(ctx, n, s)
			}
			if !errors.Is(err, errExited) {
				return fmt.Errorf("engine: node %q: process %d does not answer: %w", s.Key, n.pid, err)
			}
			// It died just now (its watcher will report it): start anew.
		} else {
			r.log.InfoContext(ctx, "engine: node moves to another engine or address; restarting", "node", s.Key,
				"from", n.spec.Engine+"@"+hostPort(n.spec), "to", s.Engine+"@"+hostPort(s))
			if err := r.stopLocked(ctx, n, true); err != nil {
				return err
			}
		}
	}
	n, err := r.fromPidFile(ctx, s.Key)
	if err != nil {
		return err
	}
	if n != nil {
		if sameListener(n, s, bin) {
			wctx, cancel := context.WithTimeout(ctx, r.startTimeout)
			defer cancel()
			if err := r.waitReady(wctx, n); err != nil {
				return fmt.Errorf("engine: node %q: adopted process %d does not answer: %w", s.Key, n.pid, err)
			}
			r.log.InfoContext(ctx, "engine: adopted running node", "node", s.Key, "pid", n.pid, "address", hostPort(s))
			if s.Engine == "memcached" {
				return nil
			}
			// What the previous server last set is unknown (and may be
			// older than s): s's users and replication win.
			return r.reconfigureLocked(ctx, n, s)
		}
		r.log.InfoContext(ctx, "engine: adopted node runs another engine or address; restarting", "node", s.Key, "pid", n.pid)
		if err := r.stopLocked(ctx, n, true); err != nil {
			return err
		}
	}
	return r.startLocked(ctx, s, bin)
}

// ensureAccess reconfigures the running redis or valkey node n when s's
// users or replication differ from what the runner last set.
func (r *Runner) ensureAccess(ctx context.Context, n *node, s Spec) error {
	if s.Engine == "memcached" {
		return nil
	}
	want, err := r.accessOf(s)
	if err != nil {
		return err
	}
	if n.access.equal(want) {
		return nil
	}
	return r.reconfigureLocked(ctx, n, s)
}

// sameListener tells whether n runs s's binary on s's address and port.
func sameListener(n *node, s Spec, bin string) bool {
	return n.spec.Engine == s.Engine && n.bin == bin && n.spec.Address == s.Address && n.spec.Port == s.Port
}

// fromPidFile takes over the live engine process the node's pid file
// names, if any: it is registered, watched and returned, with the spec
// its node.json records. No pid file, or one naming an ended process or
// one started after the file was written (the pid was reused), is cleaned
// up and answers nil. A live process that is not an engine running in the
// node's directory is an error: the runner never starts a second engine
// for a node, nor signals a stranger.
func (r *Runner) fromPidFile(ctx context.Context, key string) (*node, error) {
	dir := r.nodeDir(key)
	pidPath := filepath.Join(dir, pidFileName)
	pid, written, ok, err := readPidFile(pidPath)
	if err != nil || !ok {
		return nil, err
	}
	stale := func(why string) (*node, error) {
		r.log.InfoContext(ctx, "engine: removing stale pid file", "node", key, "pid", pid, "why", why)
		if err := os.Remove(pidPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, nil
	}
	if pid == 0 {
		return stale("it names no pid")
	}
	p, err := readProc(pid)
	if errors.Is(err, errNoProcess) {
		return stale("the process has ended")
	}
	if err != nil {
		return nil, fmt.Errorf("engine: node %q: reading process %d: %w", key, pid, err)
	}
	// The pid file is written after the process starts; a process that
	// started later (a second's slack for clock granularity) has reused a
	// pid that died, say across a reboot.
	if !p.started.IsZero() && p.started.After(written.Add(time.Second)) {
		return stale("the pid now names a process started after the pid file was written")
	}
	nf, nfErr := readNodeFile(dir)
	if nfErr != nil || !isNodeProcess(p, dir, nf.Binary) {
		return nil, fmt.Errorf("engine: node %q: pid file %s names live process %d (%s), which is not an engine running in %s; not starting a second engine for the node",
			key, pidPath, pid, strings.Join(p.args, " "), dir)
	}
	spec := Spec{Key: key, Engine: nf.Engine, Address: nf.Address, Port: nf.Port}
	if !namesListener(p, nf.Binary, nf.Address, nf.Port) {
		return nil, fmt.Errorf("engine: node %q: process %d (%s) runs in %s but is not %s on %s as %s records; not starting a second engine for the node",
			key, pid, strings.Join(p.args, " "), dir, filepath.Base(nf.Binary), hostPort(spec), nodeFileName)
	}
	n := &node{spec: spec, bin: nf.Binary, dir: dir, pid: pid, start: p.start, done: make(chan struct{})}
	if nf.Engine != "memcached" {
		cr, err := adoptedCredentials(dir)
		if err != nil {
			return nil, fmt.Errorf("engine: node %q: %w", key, err)
		}
		n.auth.Store(cr)
	}
	r.mu.Lock()
	r.nodes[key] = n
	r.mu.Unlock()
	go r.watchAdopted(n)
	return n, nil
}

// startLocked starts a new process for s and waits until it answers.
func (r *Runner) startLocked(ctx context.Context, s Spec, bin string) error {
	// AWS's defaults of a family include values the installed engine may
	// refuse (redis 7.0 has no "tls-dynamic" endpoint type), and a refused
	// directive stops redis at start. Such a directive is dropped, with a
	// warning, and the start tried again: the node runs with every
	// parameter the engine takes rather than not at all.
	skip := map[string]bool{}
	values := map[string]string{}
	var directives []redisDirective
	if s.Engine != "memcached" {
		known, err := r.knownConfig(ctx, bin)
		if err != nil {
			return err
		}
		directives = redisDirectives(ctx, r.log, s.Key, s.Params, s.Params, known)
		r.probeMu.Lock()
		for _, d := range directives {
			values[d.name] = d.value
			if r.refused[[3]string{bin, d.name, d.value}] {
				skip[d.name] = true
			}
		}
		r.probeMu.Unlock()
	}
	for tries := 0; ; tries++ {
		bad, err := r.startOnce(ctx, s, bin, directives, skip)
		if _, param := values[bad]; err == nil || !param || skip[bad] || tries >= maxRefusedDirectives {
			// A refused line that is no parameter's (a user's rules the
			// engine does not take) fails the start as it is.
			return err
		}
		r.log.WarnContext(ctx, "engine: parameter refused by the installed engine; starting without it",
			"node", s.Key, "directive", bad, "value", values[bad], "err", err)
		skip[bad] = true
		r.probeMu.Lock()
		if r.refused == nil {
			r.refused = map[[3]string]bool{}
		}
		r.refused[[3]string{bin, bad, values[bad]}] = true
		r.probeMu.Unlock()
	}
}

// maxRefusedDirectives bounds the starts of one node that drop a refused
// directive each.
const maxRefusedDirectives = 16

// refusedDirective finds the directive redis names in its fatal
// configuration error (">>> 'name value'"), or "".
func refusedDirective(log string) string {
	if !strings.Contains(log, "FATAL CONFIG FILE ERROR") {
		return ""
	}
	_, after, ok := strings.Cut(log, ">>> '")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(after, " ")
	return strings.TrimSuffix(strings.ToLower(name), "'")
}

// startOnce starts the node, a redis one with its directives but those in
// skip. When redis refuses a directive, it returns that directive's name
// with the error.
func (r *Runner) startOnce(ctx context.Context, s Spec, bin string, directives []redisDirective, skip map[string]bool) (refused string, err error) {
	dir := r.nodeDir(s.Key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("engine: node %q: %w", s.Key, err)
	}
	// A listener of another process on the address would make the engine
	// exit with a bind error; say who holds it instead.
	ln, err := net.Listen("tcp", hostPort(s))
	if err != nil {
		return "", fmt.Errorf("engine: node %q: %s is in use by another process; not starting the engine: %w", s.Key, hostPort(s), err)
	}
	ln.Close()

	var args []string
	var creds *credentials
	var acc access
	switch s.Engine {
	case "memcached":
		if args, err = memcachedArgs(ctx, r.log, s); err != nil {
			return "", err
		}
		r.removeLegacyMemoryFile(ctx, s.Key, dir)
	default:
		// Users and replication go in a file of the node's (0600), read
		// before the first client can connect, so the node is never open
		// when its spec says it is not and no password is in argv.
		if creds, err = nodeCredentials(dir); err != nil {
			return "", fmt.Errorf("engine: node %q: %w", s.Key, err)
		}
		if acc, err = r.accessOf(s); err != nil {
			return "", err
		}
		conf := filepath.Join(dir, configFileName)
		if err := writeFileAtomic(conf, redisConfig(s, creds, acc.replSecret)); err != nil {
			return "", fmt.Errorf("engine: node %q: %w", s.Key, err)
		}
		// redis reads a configuration file only as its first argument.
		args = append([]string{conf}, redisArgs(s, dir, directives, skip)...)
	}

	logPath := filepath.Join(dir, logFileName)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return "", fmt.Errorf("engine: node %q: %w", s.Key, err)
	}
	defer logf.Close()
	logStart, _ := logf.Seek(0, io.SeekEnd)
	fmt.Fprintf(logf, "--- %s starting %s %s\n", time.Now().UTC().Format(time.RFC3339), bin, strings.Join(quoteArgs(args), " "))

	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	// The engine writes to the file itself (no pipe through this process),
	// so it keeps running, and logging, when the server dies.
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a terminal's ^C reaches the server, which
	// stops the nodes gracefully, not the engines directly. No Pdeathsig:
	// the engines outlive a kill -9 of the server and are adopted.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("engine: node %q: starting %s: %w", s.Key, bin, err)
	}
	n := &node{spec: s, bin: bin, dir: dir, pid: cmd.Process.Pid, child: true, done: make(chan struct{}), expected: true, access: acc}
	n.auth.Store(creds)
	if p, err := readProc(n.pid); err == nil {
		n.start = p.start
	}
	r.mu.Lock()
	r.nodes[s.Key] = n
	r.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		r.ended(n)
	}()

	fail := func(err error) (string, error) {
		r.kill(n)
		<-n.done
		_ = os.Remove(filepath.Join(dir, pidFileName))
		b, _ := readFrom(logPath, logStart)
		return refusedDirective(b), fmt.Errorf("engine: node %q: %s on %s: %w; engine log: %s", s.Key, filepath.Base(bin), hostPort(s), err, tail(b))
	}
	if err := writeNodeFile(dir, nodeFile{Engine: s.Engine, Binary: bin, Address: s.Address, Port: s.Port}); err != nil {
		return fail(err)
	}
	if err := writeFileAtomic(filepath.Join(dir, pidFileName), []byte(strconv.Itoa(n.pid)+"\n")); err != nil {
		return fail(err)
	}
	sctx, cancel := context.WithTimeout(ctx, r.startTimeout)
	defer cancel()
	if err := r.waitReady(sctx, n); err != nil {
		return fail(err)
	}
	r.mu.Lock()
	n.expected = false
	r.mu.Unlock()
	r.log.InfoContext(ctx, "engine: started node", "node", s.Key, "engine", s.Engine, "pid", n.pid, "address", hostPort(s))
	if s.Engine == "memcached" {
		r.loadMemcachedItems(ctx, s, dir)
	}
	return "", nil
}

// errExited says a node's process ended while the runner waited for it.
var errExited = errors.New("the process exited")

// waitReady polls n until it answers, it ends, or ctx ends.
func (r *Runner) waitReady(ctx context.Context, n *node) error {
	for {
		err := ping(ctx, n)
		if err == nil {
			return nil
		}
		// An adopted process's watcher polls slowly; look now.
		if !n.child && !alive(n.pid, n.start) {
			return errExited
		}
		t := time.NewTimer(readyPoll)
		select {
		case <-n.done:
			t.Stop()
			return errExited
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("no answer: %w (last: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// ping asks the node's engine once whether it answers.
func ping(ctx context.Context, n *node) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if n.spec.Engine == "memcached" {
		return memcachedVersion(ctx, hostPort(n.spec))
	}
	return redisPing(ctx, "tcp", hostPort(n.spec), n.auth.Load())
}

// watchAdopted polls an adopted process, which is not our child and so
// cannot be waited for, until it ends.
func (r *Runner) watchAdopted(n *node) {
	t := time.NewTicker(r.watchInterval)
	defer t.Stop()
	for range t.C {
		if !alive(n.pid, n.start) {
			r.ended(n)
			return
		}
	}
}

// ended records that n's process is gone and, unless the runner ended it,
// delivers its key on Exited.
func (r *Runner) ended(n *node) {
	close(n.done)
	r.mu.Lock()
	unexpected := !n.expected && r.nodes[n.spec.Key] == n
	if r.nodes[n.spec.Key] == n {
		delete(r.nodes, n.spec.Key)
	}
	r.mu.Unlock()
	if !unexpected {
		return
	}
	r.log.Warn("engine: node process exited unexpectedly", "node", n.spec.Key, "pid", n.pid)
	select {
	case r.exited <- n.spec.Key:
	default:
		r.log.Error("engine: Exited is full; dropping an exit", "node", n.spec.Key)
	}
}

// kill sends SIGKILL to n's process group (its own, from Setpgid).
func (r *Runner) kill(n *node) { r.signal(n, syscall.SIGKILL) }

// signal sends sig to n's process group, unless the process has ended:
// an adopted pid is checked against its start time first, so a reused pid
// is never signalled.
func (r *Runner) signal(n *node, sig syscall.Signal) {
	select {
	case <-n.done:
		return
	default:
	}
	if !n.child && !alive(n.pid, n.start) {
		return
	}
	target := n.pid
	if pgid, err := syscall.Getpgid(n.pid); err == nil && pgid == n.pid {
		target = -n.pid
	}
	if err := syscall.Kill(target, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		r.log.Warn("engine: signalling node process", "node", n.spec.Key, "pid", n.pid, "signal", sig.String(), "err", err)
	}
}

// stopLocked ends n's process and waits for it. keep says the data must
// survive (redis SHUTDOWN SAVE; memcached's items are dumped to its
// directory before SIGTERM); otherwise the data is about to be deleted and the engine is told
// not to bother. A graceful stop that overruns the stop timeout or ctx
// ends with SIGKILL of the process group.
func (r *Runner) stopLocked(ctx context.Context, n *node, keep bool) error {
	r.mu.Lock()
	n.expected = true
	r.mu.Unlock()
	sctx, cancel := context.WithTimeout(ctx, r.stopTimeout)
	defer cancel()

	switch n.spec.Engine {
	case "memcached":
		if keep {
			r.saveMemcachedItems(sctx, n)
		}
		r.signal(n, syscall.SIGTERM)
		go wakeMemcached(sctx, n)
	default:
		mode := "NOSAVE"
		if keep {
			mode = "SAVE"
		}
		_, err := redisDo(sctx, "tcp", hostPort(n.spec), n.auth.Load(), "SHUTDOWN", mode)
		var refused *respError
		var authFailed *authError
		switch {
		case err == nil || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
			// Shutting down: redis closes the connection instead of replying.
		case errors.As(err, &refused) && keep && !errors.As(err, &authFailed):
			r.mu.Lock()
			n.expected = false
			r.mu.Unlock()
			return fmt.Errorf("engine: node %q: SHUTDOWN SAVE refused, the node keeps running: %s", n.spec.Key, refused.msg)
		default:
			r.log.WarnContext(ctx, "engine: SHUTDOWN failed; sending SIGTERM (redis saves nothing then)", "node", n.spec.Key, "err", err)
			r.signal(n, syscall.SIGTERM)
		}
	}

	var err error
	select {
	case <-n.done:
	case <-sctx.Done():
		err = fmt.Errorf("engine: node %q: did not stop in time (%w); killed process group %d", n.spec.Key, sctx.Err(), n.pid)
		r.kill(n)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("engine: node %q: process %d survives SIGKILL", n.spec.Key, n.pid)
		}
	}
	if rerr := os.Remove(filepath.Join(n.dir, pidFileName)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	r.mu.Lock()
	if r.nodes[n.spec.Key] == n {
		delete(r.nodes, n.spec.Key)
	}
	r.mu.Unlock()
	r.log.InfoContext(ctx, "engine: stopped node", "node", n.spec.Key, "pid", n.pid, "kept_data", keep)
	return err
}

// lookup returns the running node for key, or the live process of a
// previous server that its pid file names (to stop it), or nil.
func (r *Runner) lookup(ctx context.Context, key string) (*node, error) {
	if n := r.running(key); n != nil {
		return n, nil
	}
	return r.fromPidFile(ctx, key)
}

// Reconfigure brings the running node's users and replication to s's
// live, without a restart and keeping its data (reconfigureLocked says
// how); the node's configuration file follows, so its next start is the
// same. A memcached node has neither (Validate refused any): nil.
func (r *Runner) Reconfigure(ctx context.Context, s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	unlock, err := r.locks.lock(ctx, s.Key)
	if err != nil {
		return err
	}
	defer unlock()
	n := r.running(s.Key)
	if n == nil {
		return fmt.Errorf("engine: node %q is not running", s.Key)
	}
	if n.spec.Engine != s.Engine {
		return fmt.Errorf("engine: node %q runs %s, not %s", s.Key, n.spec.Engine, s.Engine)
	}
	if s.Engine == "memcached" {
		return nil
	}
	return r.reconfigureLocked(ctx, n, s)
}

// Restart stops the node, keeping its data (redis SHUTDOWN SAVE, memcached
// items dumped and loaded back), and starts it again as s says. A node not running is
// just started.
func (r *Runner) Restart(ctx context.Context, s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	bin, err := r.Available(s.Engine)
	if err != nil {
		return err
	}
	unlock, err := r.locks.lock(ctx, s.Key)
	if err != nil {
		return err
	}
	defer unlock()
	n, err := r.lookup(ctx, s.Key)
	if err != nil {
		return err
	}
	if n != nil {
		if err := r.stopLocked(ctx, n, true); err != nil {
			return err
		}
	}
	return r.startLocked(ctx, s, bin)
}

// Stop stops a node gracefully, keeping its data directory, so the next
// Ensure brings the data back. An unknown key is nil.
func (r *Runner) Stop(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	unlock, err := r.locks.lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	n, err := r.lookup(ctx, key)
	if err != nil || n == nil {
		return err
	}
	return r.stopLocked(ctx, n, true)
}

// Remove stops the node and deletes its directory (the cluster or node was
// deleted), and the parent directories that leaves empty, up to the
// runner's. An unknown key is nil. A directory holding another node's
// (a key below this one) is refused.
func (r *Runner) Remove(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	unlock, err := r.locks.lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	dir := r.nodeDir(key)
	if nested, err := nestedNode(dir); err != nil {
		return fmt.Errorf("engine: node %q: %w", key, err)
	} else if nested != "" {
		return fmt.Errorf("engine: node %q: %s holds another node's directory (%s); not removing it", key, dir, nested)
	}
	n, err := r.lookup(ctx, key)
	if err != nil {
		return err
	}
	if n != nil {
		if err := r.stopLocked(ctx, n, false); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("engine: node %q: %w", key, err)
	}
	// Prune the key's empty parents (account, region, cluster) up to the
	// runner's directory; a parent that still holds something stays.
	root := filepath.Clean(r.dir)
	for p := filepath.Dir(dir); len(p) > len(root) && strings.HasPrefix(p, root); p = filepath.Dir(p) {
		if os.Remove(p) != nil {
			break
		}
	}
	r.log.InfoContext(ctx, "engine: removed node", "node", key)
	return nil
}

// nestedNode finds a node directory (one with a node file) below dir.
func nestedNode(dir string) (string, error) {
	var found string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() && p != dir {
			if _, err := os.Stat(filepath.Join(p, nodeFileName)); err == nil {
				found = p
				return filepath.SkipAll
			}
		}
		return nil
	})
	return found, err
}

// StopAll stops every node this runner runs, gracefully and in parallel
// (server shutdown), and reports every failure.
func (r *Runner) StopAll(ctx context.Context) error {
	r.mu.Lock()
	keys := make([]string, 0, len(r.nodes))
	for k := range r.nodes {
		keys = append(keys, k)
	}
	r.mu.Unlock()
	sort.Strings(keys)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.Stop(ctx, k)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Health checks that the node's process runs and answers (redis PING,
// memcached version).
func (r *Runner) Health(ctx context.Context, key string) error {
	n := r.running(key)
	if n == nil {
		return fmt.Errorf("engine: node %q is not running", key)
	}
	if err := ping(ctx, n); err != nil {
		return fmt.Errorf("engine: node %q (pid %d) does not answer: %w", key, n.pid, err)
	}
	return nil
}

// Nodes lists, sorted, the keys of the nodes under the runner's
// directory: every directory holding a node file or a pid file (a node
// started by this runner or by an earlier one, running or stopped), and
// every node this runner runs. A directory whose node never started (no
// node file yet) is listed too when it has a pid file, so that nothing a
// start left behind escapes the caller.
func (r *Runner) Nodes(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	r.mu.Lock()
	for k := range r.nodes {
		set[k] = true
	}
	r.mu.Unlock()
	root := filepath.Clean(r.dir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while listed
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() || p == root {
			return nil
		}
		for _, f := range []string{nodeFileName, pidFileName} {
			if _, err := os.Stat(filepath.Join(p, f)); err == nil {
				rel, err := filepath.Rel(root, p)
				if err != nil {
					return err
				}
				if key := filepath.ToSlash(rel); ValidateKey(key) == nil {
					set[key] = true
				}
				// A node's directory holds no other node's.
				return filepath.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engine: listing nodes under %s: %w", root, err)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// Apply changes parameters of the running node where the engine allows it
// at once (redis CONFIG SET) and returns, sorted, the ElastiCache names
// that need a restart: those CONFIG SET refuses as immutable, and every
// memcached parameter the runner maps (memcached reads flags only at
// start). s is the node's whole new spec; changed the parameters that
// changed. Parameters the engine does not know are skipped. A value the
// engine refuses is an error naming it; the other parameters are applied
// all the same.
func (r *Runner) Apply(ctx context.Context, s Spec, changed map[string]string) ([]string, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	unlock, err := r.locks.lock(ctx, s.Key)
	if err != nil {
		return nil, err
	}
	defer unlock()
	n := r.running(s.Key)
	if n == nil {
		return nil, fmt.Errorf("engine: node %q is not running", s.Key)
	}
	var needRestart []string
	if n.spec.Engine == "memcached" {
		for _, name := range sortedKeys(changed) {
			if _, ok := memcachedFlags[strings.ToLower(name)]; ok {
				needRestart = append(needRestart, name)
			} else {
				r.log.DebugContext(ctx, "engine: parameter skipped: memcached has no flag for it", "node", s.Key, "parameter", name)
			}
		}
		return needRestart, nil
	}
	known, err := r.knownConfig(ctx, n.bin)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, d := range redisDirectives(ctx, r.log, s.Key, changed, s.Params, known) {
		_, err := redisDo(ctx, "tcp", hostPort(n.spec), n.auth.Load(), "CONFIG", "SET", d.name, d.value)
		var refused *respError
		var authFailed *authError
		switch {
		case errors.As(err, &authFailed):
			return nil, fmt.Errorf("engine: node %q: %w", s.Key, err)
		case err == nil:
			r.log.InfoContext(ctx, "engine: parameter applied", "node", s.Key, "parameter", d.name, "value", d.value)
		case errors.As(err, &refused) && strings.Contains(refused.msg, "immutable"):
			needRestart = append(needRestart, d.params...)
		case errors.As(err, &refused):
			errs = append(errs, fmt.Errorf("engine: node %q: %s %q refused: %s", s.Key, strings.Join(d.params, ", "), d.value, refused.msg))
		default:
			return nil, fmt.Errorf("engine: node %q: CONFIG SET %s: %w", s.Key, d.name, err)
		}
	}
	sort.Strings(needRestart)
	return needRestart, errors.Join(errs...)
}

// knownConfig is CONFIG GET * of bin, probed once per binary and kept.
func (r *Runner) knownConfig(ctx context.Context, bin string) (map[string]string, error) {
	r.probeMu.Lock()
	defer r.probeMu.Unlock()
	if k, ok := r.probes[bin]; ok {
		return k, nil
	}
	k, err := probeRedis(ctx, bin)
	if err != nil {
		return nil, err
	}
	r.probes[bin] = k
	return k, nil
}

// readFrom reads a file from offset off.
func readFrom(path string, off int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return "", err
	}
	b, err := io.ReadAll(f)
	return string(b), err
}

// quoteArgs quotes empty and spaced arguments for the log line.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return out
}

// keyLocks serialises calls per node key and honours ctx while waiting.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while locked
	refs int
}

func (l *keyLocks) lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	k := l.m[key]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		l.m[key] = k
	}
	k.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		k.refs--
		if k.refs == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case k.ch <- struct{}{}:
		return func() { <-k.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
