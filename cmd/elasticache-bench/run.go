package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/benchworkload"
)

// runConfig is the generator's settings (the flags of `run`).
type runConfig struct {
	Addr     string        `json:"addr"`
	Conns    int           `json:"conns"`
	Duration time.Duration `json:"-"`
	Warmup   time.Duration `json:"-"`
	Mix      mix           `json:"-"`
	SigV4    bool          `json:"sigv4"`
	Accounts int           `json:"accounts"`
	Groups   int           `json:"groups"`
	Subnets  []string      `json:"subnets,omitempty"`
	Seed     bool          `json:"seed"`
	Timeout  time.Duration `json:"-"`
	Label    string        `json:"label,omitempty"`
	Round    int           `json:"round,omitempty"`
	// ServerPID, when set, is the server's process: its CPU time over the
	// measured window is reported per request.
	ServerPID int `json:"server_pid,omitempty"`
}

func parseRunFlags(args []string, stderr io.Writer) (runConfig, bool, error) {
	var c runConfig
	var mixFlag, opFlag, subnetsFlag string
	var jsonOut bool
	fs := flag.NewFlagSet("elasticache-bench run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:4566", "server address (host:port); only loopback addresses are accepted")
	fs.IntVar(&c.Conns, "c", 16, "keep-alive connections, one closed-loop worker each")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "how long to measure (0: seed only)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "how long to run before measuring")
	fs.StringVar(&opFlag, "op", "describe-by-name", "operation: "+strings.Join(opNames[:], ", "))
	fs.StringVar(&mixFlag, "mix", "", `weighted mix instead of -op, e.g. "create=2,describe-by-name=5,describe-page=1,delete=1,tag-add=1,tag-list=1"`)
	fs.BoolVar(&c.SigV4, "sigv4", false, "sign every request with the SDK's SigV4 signer (the generator pays for it)")
	fs.IntVar(&c.Accounts, "accounts", 0, "spread requests over this many 12-digit access keys (accounts), worker i acting as account i mod N; 0 sends no credential: the server's default account")
	fs.IntVar(&c.Groups, "groups", 100, "groups per account that describe-by-name, tag-add, tag-list and describe-subnet-group address (seed-000000…)")
	fs.StringVar(&subnetsFlag, "subnets", strings.Join(benchworkload.SubnetIDs, ","), "comma-separated subnet ids of the cache subnet groups created and seeded")
	fs.BoolVar(&c.Seed, "seed", true, "create the -groups groups first, through the API, when the operations read them; existing ones are kept")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&jsonOut, "json", false, "print the report as one JSON object")
	fs.StringVar(&c.Label, "label", "", "copied into the JSON report (bench.sh tags runs with it)")
	fs.IntVar(&c.Round, "round", 0, "copied into the JSON report")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "the server's process ID (on this machine): report its CPU time per request in the measured window, from /proc/PID/stat")
	if err := fs.Parse(args); err != nil {
		return c, false, err
	}
	if fs.NArg() > 0 {
		return c, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	spec := opFlag
	if mixFlag != "" {
		spec = mixFlag
	}
	m, err := parseMix(spec)
	if err != nil {
		return c, false, err
	}
	c.Mix = m
	if m[opSubnetCreate]+m[opSubnetDescribe] > 0 {
		for id := range strings.SplitSeq(subnetsFlag, ",") {
			if id = strings.TrimSpace(id); id != "" {
				c.Subnets = append(c.Subnets, id)
			}
		}
		if len(c.Subnets) == 0 {
			return c, false, errors.New("the subnet-group operations need -subnets")
		}
	}
	switch {
	case c.Conns < 1:
		return c, false, errors.New("-c must be at least 1")
	case c.Duration < 0 || c.Warmup < 0:
		return c, false, errors.New("-duration and -warmup must not be negative")
	case c.Groups < 1 && m.readsSeeds():
		return c, false, errors.New("describe-by-name, tag-add, tag-list and describe-subnet-group need -groups of at least 1")
	case c.Accounts < 0:
		return c, false, errors.New("-accounts must not be negative")
	}
	if err := checkLoopback(c.Addr); err != nil {
		return c, false, err
	}
	return c, jsonOut, nil
}

// checkLoopback refuses any target but this machine: the generator is a
// load test and must never be pointed elsewhere.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed", addr)
	}
	return nil
}

// opStats is what a worker saw of one operation.
type opStats struct {
	hist   histogram
	ok     uint64
	bytes  uint64
	errors map[string]uint64
}

func (s *opStats) fail(code string) {
	if s.errors == nil {
		s.errors = map[string]uint64{}
	}
	s.errors[code]++
}

func (s *opStats) merge(o *opStats) {
	s.hist.merge(&o.hist)
	s.ok += o.ok
	s.bytes += o.bytes
	for k, v := range o.errors {
		if s.errors == nil {
			s.errors = map[string]uint64{}
		}
		s.errors[k] += v
	}
}

// worker is one closed loop on one connection.
type worker struct {
	id      int
	cfg     *runConfig
	conn    *conn
	signer  *requestSigner
	rng     *mrand.Rand
	run     string
	seq     int
	created []createdGroup // groups this worker created and has not deleted, for delete
	stats   [numOps]opStats
}

type createdGroup struct{ account, name string }

// account is the worker's account: with -accounts N, worker i always acts
// as account i mod N, so that with N ≥ -c no two workers write the same
// account's group counter (on etcd such writes conflict and retry).
func (w *worker) account() string {
	if w.cfg.Accounts == 0 {
		return benchworkload.DefaultAccount
	}
	return accountID(w.id % w.cfg.Accounts)
}

// next returns the operation to run and its body. A delete with nothing of
// this worker's left to delete creates a group instead.
func (w *worker) next() (op, string, []byte) {
	o := w.cfg.Mix.pick(w.rng.IntN(w.cfg.Mix.total()))
	if o == opDelete && len(w.created) == 0 {
		o = opCreate
	}
	switch o {
	case opCreate:
		acct := w.account()
		name := benchworkload.CreateName(w.run, w.id, w.seq)
		w.seq++
		w.created = append(w.created, createdGroup{acct, name})
		return o, acct, createBody(name)
	case opSubnetCreate:
		name := benchworkload.CreateName(w.run, w.id, w.seq)
		w.seq++
		return o, w.account(), createSubnetGroupBody(name, w.cfg.Subnets)
	case opDelete:
		g := w.created[len(w.created)-1]
		w.created = w.created[:len(w.created)-1]
		return o, g.account, deleteBody(g.name)
	case opPage:
		return o, w.account(), pageBody()
	}
	acct := w.account()
	name := benchworkload.SeedName(w.rng.IntN(w.cfg.Groups))
	switch o {
	case opTagAdd:
		return o, acct, tagAddBody(benchworkload.GroupARN(acct, name))
	case opTagList:
		return o, acct, tagListBody(benchworkload.GroupARN(acct, name))
	case opSubnetDescribe:
		return o, acct, describeSubnetGroupBody(name)
	}
	return opDescribe, acct, describeBody(name)
}

// send runs one request and returns its status, body or transport error.
func (w *worker) send(account string, body []byte) (int, []byte, error) {
	req, err := w.signer.request(w.conn.req[:0], w.cfg.Addr, account, body)
	if err != nil {
		return 0, nil, err
	}
	w.conn.req = req
	return w.conn.do(req, time.Now().Add(w.cfg.Timeout))
}

// loop runs requests until end, recording those that start at or after
// from and finish by end.
func (w *worker) loop(from, end time.Time) {
	for {
		o, acct, body := w.next()
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		status, resp, err := w.send(acct, body)
		t1 := time.Now()
		if t0.Before(from) || t1.After(end) {
			continue
		}
		st := &w.stats[o]
		st.hist.record(t1.Sub(t0))
		switch {
		case err != nil:
			st.fail(transportCode(err))
			time.Sleep(10 * time.Millisecond) // a refused connection fails at once: do not spin
		case status != 200:
			st.fail(errorCode(status, resp))
		default:
			st.ok++
			st.bytes += uint64(len(resp))
		}
	}
}

// errorCode finds the AWS error code in a query-protocol error body.
func errorCode(status int, body []byte) string {
	_, rest, ok := bytes.Cut(body, []byte("<Code>"))
	if ok {
		if code, _, ok := bytes.Cut(rest, []byte("</Code>")); ok {
			return string(code)
		}
	}
	return "HTTP" + strconv.Itoa(status)
}

func transportCode(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "transport:timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport:closed"
	case errors.Is(err, errNoLength):
		return "transport:no-length"
	}
	return "transport:" + err.Error()
}

// runID returns 6 random base-36 characters, so that names created by one
// run never collide with another's on the same store.
func runID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(36*36*36*36*36*36))
	s := strconv.FormatInt(n.Int64(), 36)
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}

// result is the report of one run.
type result struct {
	runConfig
	Op       string              `json:"op"` // the operation, or "mix"
	MixSpec  string              `json:"mix,omitempty"`
	Seconds  float64             `json:"seconds"`
	Total    opResult            `json:"total"`
	Ops      map[string]opResult `json:"ops"`
	SeedSecs float64             `json:"seed_seconds,omitempty"`
	// ServerCPUus is the server's CPU time (user and system) in the
	// measured window per request answered in it, with -server-pid.
	ServerCPUus float64 `json:"server_cpu_us,omitempty"`
}

type opResult struct {
	Requests  uint64            `json:"requests"`
	OK        uint64            `json:"ok"`
	RPS       float64           `json:"rps"`
	P50ms     float64           `json:"p50_ms"`
	P99ms     float64           `json:"p99_ms"`
	P999ms    float64           `json:"p999_ms"`
	MaxMs     float64           `json:"max_ms"`
	MeanBytes float64           `json:"mean_bytes"`
	Errors    map[string]uint64 `json:"errors,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(s *opStats, secs float64) opResult {
	r := opResult{
		Requests: s.hist.n,
		OK:       s.ok,
		P50ms:    ms(s.hist.quantile(0.50)),
		P99ms:    ms(s.hist.quantile(0.99)),
		P999ms:   ms(s.hist.quantile(0.999)),
		MaxMs:    ms(time.Duration(s.hist.max)),
		Errors:   s.errors,
	}
	if secs > 0 {
		r.RPS = float64(r.Requests) / secs
	}
	if s.ok > 0 {
		r.MeanBytes = float64(s.bytes) / float64(s.ok)
	}
	return r
}

// runLoad seeds, warms up and measures, and returns the report.
func runLoad(ctx context.Context, cfg runConfig, progress io.Writer) (*result, error) {
	signer, err := newRequestSigner(cfg.SigV4, cfg.Accounts > 0)
	if err != nil {
		return nil, err
	}
	workers := make([]*worker, cfg.Conns)
	run := runID()
	for i := range workers {
		c, err := dialConn(cfg.Addr)
		if err != nil {
			for _, w := range workers[:i] {
				w.conn.close()
			}
			return nil, fmt.Errorf("connect to %s: %w", cfg.Addr, err)
		}
		workers[i] = &worker{
			id: i, cfg: &cfg, conn: c, signer: signer, run: run,
			rng: mrand.New(mrand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))),
		}
	}
	defer func() {
		for _, w := range workers {
			w.conn.close()
		}
	}()

	res := &result{runConfig: cfg, Op: cfg.Mix.String(), Ops: map[string]opResult{}}
	if strings.Contains(res.Op, ",") {
		res.Op, res.MixSpec = "mix", res.Op
	} else {
		res.Op, _, _ = strings.Cut(res.Op, "=")
	}
	var seeds []seedKind
	if cfg.Mix[opDescribe]+cfg.Mix[opPage]+cfg.Mix[opTagAdd]+cfg.Mix[opTagList] > 0 {
		seeds = append(seeds, securityGroupSeeds)
	}
	if cfg.Mix[opSubnetDescribe] > 0 {
		seeds = append(seeds, subnetGroupSeeds)
	}
	if cfg.Seed && len(seeds) > 0 {
		t := time.Now()
		for _, kind := range seeds {
			if err := seed(ctx, workers, kind, progress); err != nil {
				return nil, err
			}
		}
		res.SeedSecs = time.Since(t).Seconds()
	}
	if cfg.Duration == 0 {
		return res, nil
	}

	from := time.Now().Add(cfg.Warmup)
	end := from.Add(cfg.Duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(from, end) })
	}
	var cpuFrom, cpuEnd time.Duration
	var cpuErr error
	if cfg.ServerPID > 0 {
		time.Sleep(time.Until(from))
		cpuFrom, cpuErr = processCPU(cfg.ServerPID)
		time.Sleep(time.Until(end))
		if cpuErr == nil {
			cpuEnd, cpuErr = processCPU(cfg.ServerPID)
		}
	}
	wg.Wait()
	if cpuErr != nil {
		return nil, cpuErr
	}

	secs := cfg.Duration.Seconds()
	res.Seconds = secs
	var total opStats
	for o := range numOps {
		var s opStats
		for _, w := range workers {
			s.merge(&w.stats[o])
		}
		if s.hist.n == 0 {
			continue
		}
		res.Ops[op(o).String()] = summarize(&s, secs)
		total.merge(&s)
	}
	res.Total = summarize(&total, secs)
	if cfg.ServerPID > 0 && res.Total.OK > 0 {
		res.ServerCPUus = float64((cpuEnd - cpuFrom).Microseconds()) / float64(res.Total.OK)
	}
	return res, nil
}

// processCPU reads a process's user and system CPU time from
// /proc/PID/stat, in clock ticks of 10 ms (USER_HZ is 100 on Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("-server-pid: %w", err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("-server-pid: /proc/%d/stat: %q", pid, b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("-server-pid: /proc/%d/stat: %q", pid, b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// seedKind is what seed creates: a kind of group, and the code of the
// fault that says it exists already.
type seedKind struct {
	noun   string
	body   func(cfg *runConfig, name string) []byte
	exists string
	hint   string
}

var (
	securityGroupSeeds = seedKind{
		noun:   "groups",
		body:   func(_ *runConfig, name string) []byte { return seedBody(name) },
		exists: "CacheSecurityGroupAlreadyExists",
		hint:   " (raise --quota-cache-security-groups)",
	}
	subnetGroupSeeds = seedKind{
		noun:   "subnet groups",
		body:   func(cfg *runConfig, name string) []byte { return seedSubnetGroupBody(name, cfg.Subnets) },
		exists: "CacheSubnetGroupAlreadyExists",
		hint:   " (raise --quota cacheSubnetGroups=N)",
	}
)

// seed makes sure groups seed-000000… of a kind exist in every account the
// run uses, sharing the work among the workers' connections. A group that
// exists already counts as seeded, so a store seeded once serves many runs.
func seed(ctx context.Context, workers []*worker, kind seedKind, progress io.Writer) error {
	cfg := workers[0].cfg
	accounts := max(cfg.Accounts, 1)
	total := int64(cfg.Groups) * int64(accounts)
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	stop := make(chan struct{})
	fail := func(err error) {
		once.Do(func() { firstErr = err; close(stop) })
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= total || ctx.Err() != nil {
					return
				}
				select {
				case <-stop:
					return
				default:
				}
				acct := benchworkload.DefaultAccount
				if cfg.Accounts > 0 {
					acct = accountID(int(i) % accounts)
				}
				name := benchworkload.SeedName(int(i) / accounts)
				status, body, err := w.send(acct, kind.body(cfg, name))
				switch {
				case err != nil:
					fail(fmt.Errorf("seeding %s: %w", name, err))
					return
				case status != 200 && errorCode(status, body) != kind.exists:
					fail(fmt.Errorf("seeding %s: HTTP %d %s%s", name, status, errorCode(status, body), kind.hint))
					return
				}
				if n := done.Add(1); n%20000 == 0 && progress != nil {
					fmt.Fprintf(progress, "seeded %d of %d %s\n", n, total, kind.noun)
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func printReport(w io.Writer, r *result) {
	fmt.Fprintf(w, "%s: %d connections, %.0fs, %s", r.Addr, r.Conns, r.Seconds, cmp.Or(r.MixSpec, r.Op))
	if r.Accounts > 0 {
		fmt.Fprintf(w, ", %d accounts", r.Accounts)
	}
	if r.SigV4 {
		fmt.Fprint(w, ", SigV4")
	}
	fmt.Fprintln(w)
	if r.SeedSecs > 0 {
		fmt.Fprintf(w, "seeded %d groups per account in %.1fs\n", r.Groups, r.SeedSecs)
	}
	fmt.Fprintf(w, "%-18s %10s %10s %9s %9s %9s %9s %8s\n", "op", "requests", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "bytes")
	row := func(name string, o opResult) {
		fmt.Fprintf(w, "%-18s %10d %10.0f %9.3f %9.3f %9.3f %9.3f %8.0f\n", name, o.Requests, o.RPS, o.P50ms, o.P99ms, o.P999ms, o.MaxMs, o.MeanBytes)
	}
	for o := range numOps {
		if s, ok := r.Ops[op(o).String()]; ok {
			row(op(o).String(), s)
		}
	}
	if len(r.Ops) > 1 {
		row("total", r.Total)
	}
	for o := range numOps {
		for code, n := range r.Ops[op(o).String()].Errors {
			fmt.Fprintf(w, "errors: %s %s: %d\n", op(o), code, n)
		}
	}
}
