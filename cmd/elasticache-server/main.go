// Command elasticache-server serves the Amazon ElastiCache API (query
// protocol, 2015-02-02) on an embedded bbolt store, so that boto3, the AWS
// CLI and the AWS SDKs work against it unchanged.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/elasticache-server/elasticache-server/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := server.ParseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "elasticache-server:", err)
		return 2
	}
	if cfg.ShowVersion {
		fmt.Fprintln(stdout, "elasticache-server", server.Version())
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	m := server.NewMain(cfg, cfg.NewLogger(stderr))
	if err := m.Open(ctx); err != nil {
		fmt.Fprintln(stderr, "elasticache-server:", err)
		return 1
	}
	var serveErr error
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down", "reason", "signal")
	case serveErr = <-m.Done():
		m.Logger.Error("server stopped", "err", serveErr)
	}
	stop()
	closeCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := m.Close(closeCtx); err != nil {
		m.Logger.Error("shutdown", "err", err)
		return 1
	}
	if serveErr != nil {
		return 1
	}
	return 0
}
