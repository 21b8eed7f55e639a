// Command elasticache-bench measures elasticache-server against the least
// any Go server can do for the same requests (cmd/elasticache-baseline),
// on this machine, in one run.
//
//	elasticache-bench run [flags]          closed-loop load generator (the default)
//	elasticache-bench startup [flags] -- CMD ARGS…   time from exec to first answered request
//	elasticache-bench etcd-txn [flags]     raw etcd transactions shaped like a create, the etcd reference
//	elasticache-bench clusters -server BIN [flags]   cache clusters on real engines: start to first PONG, describe with 10–1,000 stored, memory
//	elasticache-bench wait -addr HOST:PORT     wait until a server accepts connections
//	elasticache-bench table FILE           the figures of a scripts/bench.sh run, as ratios
//	elasticache-bench table -compare NEW/OLD FILE   two labels' runs side by side, per operation (--ab, --moto)
//
// It only ever sends to loopback addresses. See docs/PERFORMANCE.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = runCmd(ctx, args, stdout, stderr)
	case "startup":
		err = startupCmd(ctx, args, stdout, stderr)
	case "table":
		err = tableCmd(args, stdout)
	case "wait":
		err = waitCmd(ctx, args, stderr)
	case "etcd-txn":
		err = etcdTxnCmd(ctx, args, stdout, stderr)
	case "clusters":
		err = clustersCmd(ctx, args, stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q: want run, startup, table, etcd-txn, clusters or wait", cmd)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFailed):
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "elasticache-bench:", err)
		return 2
	}
	return 0
}

// errFailed is a run that worked but whose figures miss a target (table),
// or that saw errors (run): exit 1, the report says why.
var errFailed = errors.New("failed")

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, jsonOut, err := parseRunFlags(args, stderr)
	if err != nil {
		return err
	}
	res, err := runLoad(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if jsonOut {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return err
		}
	} else {
		printReport(stdout, res)
	}
	if len(res.Total.Errors) > 0 || (cfg.Duration > 0 && res.Total.OK == 0) {
		return errFailed
	}
	return nil
}

func startupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("elasticache-bench startup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 11, "number of starts")
	label := fs.String("label", "", "copied into the JSON report")
	logPath := fs.String("log", "", "append the processes' output to this file (default: discard)")
	jsonOut := fs.Bool("json", false, "print the report as one JSON object")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: elasticache-bench startup [flags] -- COMMAND ARGS… ({addr} in ARGS becomes a free loopback address)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return errors.New("-n must be at least 1")
	}
	res, err := measureStartup(ctx, fs.Args(), *n, *logPath)
	if err != nil {
		return err
	}
	res.Label = *label
	if *jsonOut {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "start-up to first answer: median %.2f ms, min %.2f, max %.2f over %d starts of %s\n",
		res.MedianMs, res.MinMs, res.MaxMs, len(res.Samples), res.Command)
	return nil
}

// waitCmd waits until addr accepts a connection: scripts start a server
// in the background and must not send load before it listens.
func waitCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("elasticache-bench wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4566", "address to wait for")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	if err := waitListening(ctx, *addr, *timeout, 10*time.Millisecond); err != nil {
		return fmt.Errorf("wait: %w", err)
	}
	return nil
}

// waitListening polls addr every poll until it accepts a connection, for
// at most timeout.
func waitListening(ctx context.Context, addr string, timeout, poll time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not accepting connections after %s: %w", addr, timeout, err)
		}
		time.Sleep(poll)
	}
}
