package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/benchworkload"
)

// startupResult is the time from starting a server process to its first
// answered request, over several starts.
type startupResult struct {
	Kind     string    `json:"kind"` // "startup"
	Label    string    `json:"label,omitempty"`
	Command  string    `json:"command"`
	MedianMs float64   `json:"median_ms"`
	MinMs    float64   `json:"min_ms"`
	MaxMs    float64   `json:"max_ms"`
	Samples  []float64 `json:"samples_ms"`
}

// measureStartup starts argv n times, one at a time, and times each start
// until a DescribeCacheSecurityGroups of `default` is answered 200. {addr}
// in argv becomes a free loopback address, new for each start. Each
// process is stopped with SIGTERM (then killed) before the next starts.
func measureStartup(ctx context.Context, argv []string, n int, logPath string) (*startupResult, error) {
	if len(argv) == 0 {
		return nil, errors.New("startup: no command given")
	}
	res := &startupResult{Kind: "startup", Command: strings.Join(argv, " ")}
	for range n {
		d, err := startOnce(ctx, argv, logPath)
		if err != nil {
			return nil, err
		}
		res.Samples = append(res.Samples, float64(d.Microseconds())/1000)
	}
	s := slices.Clone(res.Samples)
	slices.Sort(s)
	res.MedianMs, res.MinMs, res.MaxMs = median(s), s[0], s[len(s)-1]
	return res, nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startOnce(ctx context.Context, argv []string, logPath string) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, "{addr}", addr)
	}
	cmd := exec.Command(args[0], args[1:]...)
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	req, err := (&requestSigner{}).request(nil, addr, benchworkload.DefaultAccount, describeBody("default"))
	if err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { exited <- cmd.Wait() }()
	defer stopProcess(cmd, exited)

	deadline := start.Add(10 * time.Second)
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		select {
		case err := <-exited:
			exited <- err
			return 0, fmt.Errorf("startup: %s exited before answering: %v", args[0], err)
		default:
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("startup: %s did not answer within 10s", args[0])
		}
		if c, err := dialConn(addr); err == nil {
			status, _, err := c.do(req, time.Now().Add(2*time.Second))
			c.close()
			if err == nil && status == 200 {
				return time.Since(start), nil
			}
		}
		// Polling every 100µs costs the starting server little CPU and
		// the measurement at most that much.
		time.Sleep(100 * time.Microsecond)
	}
}

func stopProcess(cmd *exec.Cmd, exited chan error) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}
