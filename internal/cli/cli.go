// Package cli is the process of the elasticache-server binary: the
// command line (serve, export, import), signals, the buffered log and the
// GC target. cmd/elasticache-server's main only calls Run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/elasticache-server/elasticache-server/internal/logwriter"
	"github.com/elasticache-server/elasticache-server/server"
	"github.com/elasticache-server/elasticache-server/service"
)

// Run is main without the process: it returns the exit code. args are
// the arguments after the program name. The first names a command
// (export, import); any other, a flag or nothing, starts the server.
func Run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "export" || args[0] == "import") {
		return runState(args[0], args[1:], getenv, stdin, stdout, stderr)
	}
	name := server.ProgramName
	cfg, err := server.ParseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stderr, "\nCommands:\n  export  write the state document of a store to standard output\n  import  replace the state of a store with the document on standard input\n(%[1]s export --help, %[1]s import --help)\n", name)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 2
	}
	if cfg.ShowVersion {
		fmt.Fprintln(stdout, name, server.Version())
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The live heap is small (a few MB: records live in the store's mapped
	// file, not in memory), so Go's default GOGC=100 collects very often
	// under load. 400 trades about 12 MB of RSS for some 15% less CPU per
	// request (docs/PERFORMANCE.md). GOGC in the environment still decides.
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// The log is buffered: a request does not wait for the write(2) of its
	// access-log line. Warnings and errors, and Close, go out at once; an
	// Info line waits at most logwriter.DefaultFlushInterval.
	logOut := logwriter.New(stderr, logwriter.Config{})
	defer logOut.Close()
	logger := slog.New(logwriter.Handler(cfg.NewLogger(logOut).Handler(), logOut, slog.LevelWarn))
	m := server.NewMain(cfg, logger)
	if err := m.Open(ctx); err != nil {
		logOut.Flush() // what was logged before the failure comes first
		fmt.Fprintln(stderr, name+":", err)
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

// runState runs the export or import command. Exit codes: 0 done, 1
// failed (nothing written for a refused document), 2 bad flags.
func runState(command string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := server.ProgramName
	cfg, err := server.ParseStateConfig(command, args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", name, command, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if command == "export" {
		// The document is written only once it is complete: a failure
		// leaves nothing on stdout that could pass for a state.
		if err := server.ExportStore(ctx, cfg, stdout); err != nil {
			fmt.Fprintf(stderr, "%s export: %v\n", name, err)
			return 1
		}
		return 0
	}
	res, err := server.ImportStore(ctx, cfg, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "%s import: %v\n", name, err)
		return 1
	}
	fmt.Fprintf(stdout, "imported %d accounts, %d regions, ", res.Accounts, res.Regions)
	for _, k := range service.Kinds() {
		fmt.Fprintf(stdout, "%d %s, ", res.Records[k.Field], k.Plural())
	}
	fmt.Fprintf(stdout, "%d events\n", res.Events)
	return 0
}
