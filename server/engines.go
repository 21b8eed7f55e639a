package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/service"
)

// The fleet: the reconciler that makes engine processes match the cluster
// records, and the engines it drives (docs/DECISIONS.md "Cache clusters:
// the fleet").

// EnginesFunc builds the engines of --engines auto in dir.
type EnginesFunc func(dir string, log *slog.Logger) engine.Engines

// defaultEngines is the engine runner of --engines auto: real processes.
func defaultEngines(dir string, log *slog.Logger) engine.Engines {
	return engine.NewRunner(dir, log)
}

// engineNames are the engines a cluster may ask for, reported at start.
var engineNames = []string{"redis", "valkey", "memcached"}

// stopEnginesTimeout bounds the graceful stop of every engine at
// shutdown when the caller's context has no deadline.
const stopEnginesTimeout = 30 * time.Second

// serverIDFile is the file in the engine directory that keeps the
// server's ID across restarts.
const serverIDFile = "server-id"

// openFleet prepares the engine directory and the server ID, builds the
// engines (none with --engines none) and starts the reconciler.
func (m *Main) openFleet(svc *service.ElastiCache) error {
	dir := m.cfg.engineDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("engine directory: %w", err)
	}
	id := m.cfg.ServerID
	if id == "" {
		var err error
		if id, err = loadServerID(dir); err != nil {
			return err
		}
	}
	var engines engine.Engines
	if m.cfg.enginesMode() == EnginesNone {
		m.Logger.Warn("--engines none: cache clusters become available with NO engine process; their endpoints do not answer")
	} else {
		newEngines := m.Engines
		if newEngines == nil {
			newEngines = defaultEngines
		}
		engines = newEngines(dir, m.Logger)
		for _, e := range engineNames {
			if path, err := engines.Available(e); err != nil {
				m.Logger.Warn("cache engine not available: clusters of it become incompatible-network", "engine", e, "err", err)
			} else {
				m.Logger.Info("cache engine available", "engine", e, "path", path)
			}
		}
	}
	cfg := service.ReconcilerConfig{
		ServerID:     id,
		Interval:     m.cfg.ReconcileInterval,
		LeaseTTL:     m.cfg.LeaseTTL,
		Logger:       m.Logger,
		FirstAddress: firstAddress(id),
		AddressInUse: addressInUse,
	}
	switch {
	case m.cfg.NodeBind != "":
		// Nodes for clients on other machines: one address, a port each,
		// the advertised host in their endpoints.
		cfg.BindAddress, cfg.SharedAddress = m.cfg.NodeBind, m.cfg.NodeBind
		if m.cfg.NodeAdvertise != "" {
			cfg.SharedAddress = m.cfg.NodeAdvertise
		}
	case runtime.GOOS != "linux":
		// Only Linux routes all of 127.0.0.0/8 to the loopback.
		cfg.SharedAddress = "127.0.0.1"
	}
	m.engines = engines
	r := svc.NewReconciler(engines, cfg)
	ctx, stop := context.WithCancel(context.Background())
	m.stopFleet, m.fleetDone = stop, make(chan struct{})
	go func() {
		defer close(m.fleetDone)
		r.Run(ctx)
	}()
	m.Logger.Info("reconciler started", "engines", m.cfg.enginesMode(), "engine_dir", dir, "server_id", id)
	return nil
}

// closeFleet stops the reconciler, then every engine gracefully, so that
// nodes keep their data for the next start.
func (m *Main) closeFleet(ctx context.Context) error {
	if m.stopFleet == nil {
		return nil
	}
	m.stopFleet()
	<-m.fleetDone
	m.stopFleet = nil
	if m.engines == nil {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, stopEnginesTimeout)
		defer cancel()
	}
	if err := m.engines.StopAll(ctx); err != nil {
		return fmt.Errorf("stop engines: %w", err)
	}
	m.Logger.Info("engines stopped")
	return nil
}

// loadServerID reads the server ID kept in dir, making one the first
// time: the ID goes with the engine directory because that is where the
// pid files are, so the server that owns the nodes is the one that can
// adopt their processes.
func loadServerID(dir string) (string, error) {
	path := filepath.Join(dir, serverIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if !validServerID(id) {
			return "", fmt.Errorf("%s holds no valid server ID", path)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("server ID: %w", err)
	}
	var raw [8]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go 1.24+)
	id := "srv-" + hex.EncodeToString(raw[:])
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("server ID: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("server ID: %w", err)
	}
	return id, nil
}

// firstAddress is where this server's search for node addresses starts:
// a point of 127.1.0.0–127.254.255.255 derived from its ID, so that
// servers on one host with stores of their own (tests, several
// developers' servers) do not hand out the same addresses. Servers that
// share a store share its reservations and never collide anyway.
func firstAddress(serverID string) string {
	h := fnv.New32a()
	h.Write([]byte(serverID))
	v := h.Sum32()
	return fmt.Sprintf("127.%d.%d.1", 1+v%254, (v>>8)%256)
}

// addressInUse reports whether a process of this host listens on ip:port
// (a bind of it fails).
func addressInUse(ip string, port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return true
	}
	ln.Close()
	return false
}
