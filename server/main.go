package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/metrics"
	"github.com/elasticache-server/elasticache-server/network"
	"github.com/elasticache-server/elasticache-server/service"
	"github.com/elasticache-server/elasticache-server/storage"
)

// storeFileName is the bbolt file inside --data-dir.
const storeFileName = "elasticache.db"

// Main is the server as one value: Open starts it, Close stops it. The
// binary and the end-to-end tests run it the same way.
type Main struct {
	cfg Config
	// Logger is where the server logs.
	Logger *slog.Logger
	// Clock replaces the wall clock; tests set it before Open.
	Clock service.Clock
	// Engines builds the engines of --engines auto; nil is the process
	// runner. Tests set it before Open.
	Engines EnginesFunc

	store  storage.Store
	svc    *service.ElastiCache
	ln     net.Listener
	server *http.Server
	pprof  *http.Server // nil unless --pprof-listen
	done   chan error
	// stopSweep ends the event sweeper; sweepDone closes when it has.
	stopSweep context.CancelFunc
	sweepDone chan struct{}
	// engines run the cache nodes (nil with --engines none); stopFleet
	// ends the reconciler, fleetDone closes when it has (engines.go).
	engines   engine.Engines
	stopFleet context.CancelFunc
	fleetDone chan struct{}
	// tools is the request journal and the fault rules (testingtools.go).
	tools testingTools

	// metrics is the server's own Prometheus registry (server/metrics.go).
	metrics *metrics.Metrics
}

// NewMain returns a server that Open will start with cfg.
func NewMain(cfg Config, logger *slog.Logger) *Main {
	return &Main{cfg: cfg, Logger: logger, done: make(chan error, 1)}
}

// Open opens the store, prepares the service and starts serving on the
// configured address. It fails at once, without waiting, when another
// server holds the data directory.
func (m *Main) Open(ctx context.Context) error {
	var fc FileConfig
	if m.cfg.ConfigFile != "" {
		var err error
		if fc, err = LoadFileConfig(m.cfg.ConfigFile); err != nil {
			return fmt.Errorf("config file: %w", err)
		}
	}
	networks, err := network.New(fc.networkConfig())
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	store, where, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	store = m.instrumentStore(store)
	m.store = store
	svc, err := service.Open(ctx, store, m.Clock, service.Config{
		CacheSecurityGroupQuota: m.cfg.QuotaCacheSecurityGroups,
		Quotas:                  m.cfg.Quotas,
		TransitionDelay:         m.cfg.TransitionDelay,
		UserTransitionDelay:     m.cfg.UserTransitionDelay,
		Network:                 networks,
		Accounts:                fc.serviceAccounts(),
	})
	if err != nil {
		store.Close()
		return err
	}
	m.svc = svc
	authenticate, err := m.authenticator(fc)
	if err != nil {
		store.Close()
		return err
	}
	if err := m.openMetrics(); err != nil {
		store.Close()
		return err
	}
	if err := m.openTestingTools(fc); err != nil {
		store.Close()
		return err
	}
	if err := m.seed(ctx); err != nil {
		store.Close()
		return err
	}
	handler := api.NewHandler(svc, api.HandlerConfig{
		Logger:       m.Logger,
		Authenticate: authenticate,
		Intercept:    m.intercept,
		Observe:      m.observe,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", m.health)
	mux.Handle("GET /metrics", m.requireBearer(m.cfg.MetricsToken, m.metricsHandler()))
	if m.cfg.Admin {
		mux.Handle("/_admin/", m.requireBearer(m.cfg.AdminToken, m.adminHandler()))
	} else {
		// Without --admin there is no admin API: 404, not the query
		// protocol's MissingAction for something that is no API call.
		mux.HandleFunc("/_admin/", func(w http.ResponseWriter, r *http.Request) {
			writeAdminError(w, http.StatusNotFound, "NotFound", "the admin API is off; start the server with --admin")
		})
	}
	mux.Handle("/", handler)

	ln, err := net.Listen("tcp", m.cfg.Listen)
	if err != nil {
		store.Close()
		return fmt.Errorf("listen: %w", err)
	}
	m.ln = ln
	m.server = &http.Server{
		Handler:           apiFirst(mux, handler),
		ReadHeaderTimeout: orDefault(m.cfg.ReadHeaderTimeout, defaultReadHeaderTimeout),
		ReadTimeout:       orDefault(m.cfg.ReadTimeout, defaultReadTimeout),
		WriteTimeout:      orDefault(m.cfg.WriteTimeout, defaultWriteTimeout),
		IdleTimeout:       orDefault(m.cfg.IdleTimeout, defaultIdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if m.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(m.cfg.TLSCert, m.cfg.TLSKey)
		if err != nil {
			ln.Close()
			store.Close()
			return fmt.Errorf("TLS certificate: %w", err)
		}
		m.server.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, m.server.TLSConfig)
		scheme = "https"
	}
	go func() {
		if err := m.server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.done <- err
		}
	}()
	if m.cfg.PprofListen != "" {
		if err := m.servePprof(); err != nil {
			m.server.Close()
			store.Close()
			return err
		}
	}
	if err := m.openFleet(svc); err != nil {
		m.server.Close()
		if m.pprof != nil {
			m.pprof.Close()
		}
		store.Close()
		return err
	}
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	m.stopSweep, m.sweepDone = stopSweep, make(chan struct{})
	go m.sweepEvents(sweepCtx)
	m.Logger.Info("elasticache-server started",
		"addr", ln.Addr().String(), "scheme", scheme, "auth", m.cfg.authName(), "store", m.cfg.storeName(), where, "version", Version())
	return nil
}

// apiFirst serves requests for "/", the path every SDK sends API calls to,
// with api without asking mux, and everything else with mux. mux would pick
// api for "/" too (its other routes are /health, /metrics and /_admin/), but
// after cleaning the path and matching its patterns, a few hundred
// nanoseconds of every API call.
func apiFirst(mux *http.ServeMux, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Method != http.MethodConnect {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Addr is the address actually bound, also when the port was 0.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Done reports a server that stopped serving on its own.
func (m *Main) Done() <-chan error { return m.done }

// Close stops accepting requests, lets in-flight ones finish until ctx
// ends, stops the reconciler and then the engines gracefully (they keep
// their data), and closes the store cleanly.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.tools.faults != nil {
		// Requests a delay rule holds would otherwise keep the drain
		// waiting for as long as the rule says.
		m.tools.faults.Release()
	}
	if m.server != nil {
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain requests: %w", err))
		}
	}
	if m.pprof != nil {
		m.pprof.Close()
	}
	if err := m.closeFleet(ctx); err != nil {
		errs = append(errs, err)
	}
	if m.stopSweep != nil {
		m.stopSweep()
		<-m.sweepDone
	}
	if m.store != nil {
		if err := m.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		m.Logger.Info("store closed")
	}
	return errors.Join(errs...)
}

// sweepEvents removes expired events from storage once at start and then
// every EventSweepInterval, in bounded transactions so that a large backlog
// never holds the write lock for long.
func (m *Main) sweepEvents(ctx context.Context) {
	defer close(m.sweepDone)
	interval := m.cfg.EventSweepInterval
	if interval <= 0 {
		interval = time.Hour // a zero Config is usable: ParseConfig's default
	}
	t := time.NewTicker(interval)
	batch := m.cfg.sweepBatch()
	defer t.Stop()
	for {
		for {
			n, err := m.svc.ExpireEvents(ctx, batch)
			if err != nil {
				if ctx.Err() == nil {
					m.Logger.Warn("event sweep", "err", err)
				}
				break
			}
			if n > 0 {
				m.Logger.Debug("expired events removed", "count", n)
			}
			if n < batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// servePprof serves net/http/pprof on its own loopback listener, apart
// from the API, so that profiling needs no change to the API's routes.
func (m *Main) servePprof() error {
	ln, err := net.Listen("tcp", m.cfg.PprofListen)
	if err != nil {
		return fmt.Errorf("pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go m.pprof.Serve(ln)
	m.Logger.Info("pprof listening", "addr", ln.Addr().String())
	return nil
}

// health answers 200 when a read transaction on the store succeeds.
func (m *Main) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := m.store.View(ctx, func(tx storage.Tx) error {
		// A read, so that a remote store is asked: an empty View need not.
		_, err := tx.Get([]byte("health"))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	})
	w.Header().Set("Content-Type", "application/json")
	body := map[string]string{"status": "ok", "store": m.cfg.storeName(), "version": Version()}
	if err != nil {
		m.Logger.Warn("health check failed", "err", err)
		body["status"] = "unavailable"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(body)
}

// Version is the module version the binary was built from, or "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
