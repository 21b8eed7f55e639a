package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/elasticache-server/elasticache-server/api"
)

// Namespace starts the name of every metric of the server's own.
const Namespace = "elasticache"

// durationBuckets are the upper bounds, in seconds, of the request and
// transaction histograms: from half a millisecond (a read on a warm bbolt
// file) to ten seconds (etcd under a failing quorum, a client's timeout).
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// resourceTimeout bounds the store reads of one scrape, below Prometheus's
// default scrape timeout of 10 s, so that a stuck store costs a gauge, not
// the whole scrape.
const resourceTimeout = 5 * time.Second

// Config configures New. The zero value is usable.
type Config struct {
	// Version is the version label of elasticache_build_info; "" is
	// exported as "devel".
	Version string
	// Logger receives what goes wrong while serving a scrape (a resource
	// count the store could not answer). nil discards it.
	Logger *slog.Logger
	// Now times store transactions; nil means time.Now. Tests set it to
	// make durations exact.
	Now func() time.Time
}

// Metrics is the server's registry and the instruments it updates. It is
// safe for concurrent use. Create it with New.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger
	now func() time.Time
	// since is how long ago a time from now was: time.Since when now is
	// time.Now, which reads only the monotonic clock where now().Sub would
	// read the wall clock too (one clock read fewer per transaction).
	since   func(time.Time) time.Duration
	handler http.Handler

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// actions holds one entry per operation of the API, built by New and
	// only read afterwards, so the hot path needs no lock to find one.
	actions map[string]*actionMetrics
	// unknown stands for every Action that names no operation (or none).
	unknown *actionMetrics

	store storeMetrics

	resources *prometheus.Desc
	// mu guards counter.
	mu      sync.Mutex
	counter ResourceCounter
}

// ResourceCounter returns how many resources of each type are stored,
// across all accounts and regions, by type. A scrape calls it once, so it
// must be cheap whatever the number of resources.
type ResourceCounter func(ctx context.Context) (map[string]int, error)

// New returns the server's metrics on a registry of their own, with the
// Go runtime and process collectors and elasticache_build_info registered.
func New(cfg Config) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: cfg.Logger,
		now: cfg.Now,
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now, m.since = time.Now, time.Since
	} else {
		m.since = func(t time.Time) time.Duration { return m.now().Sub(t) }
	}
	version := cfg.Version
	if version == "" {
		version = "devel"
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   Namespace,
		Name:        "build_info",
		Help:        "Always 1; the labels tell which build of elasticache-server is running.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "requests_total",
		Help: "API requests answered, by action and error code. code is empty for a success; " +
			"action is \"unknown\" when the request named no operation of the API.",
	}, []string{"action", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "request_duration_seconds",
		Help:      "Time from receiving an API request to having sent its answer, by action.",
		Buckets:   durationBuckets,
	}, []string{"action"})
	m.resources = prometheus.NewDesc(Namespace+"_resources",
		"Resources stored, across all accounts and regions, by type; read from the store at each scrape.",
		[]string{"type"}, nil)
	m.store = newStoreMetrics()

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo, m.requests, m.duration, resourceCollector{m},
	)
	m.store.register(m.reg)

	ops := api.Operations()
	m.actions = make(map[string]*actionMetrics, len(ops))
	for _, op := range ops {
		m.actions[op] = &actionMetrics{name: op}
	}
	m.unknown = &actionMetrics{name: UnknownAction}

	m.handler = promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: scrapeLog{m.log},
		// A store that cannot count its resources must not hide the
		// request metrics, which matter most exactly then; the failure
		// shows in promhttp_metric_handler_errors_total and the log.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	}))
	return m
}

// Registry is the registry the metrics are registered on, for gathering
// them without HTTP or adding collectors of other packages.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format (text,
// or protobuf when the scraper asks for it).
func (m *Metrics) Handler() http.Handler { return m.handler }

// CountResources makes elasticache_resources{type=…} report count's
// answer at every scrape, one series per type it names. One function
// counts every type: it is set once.
func (m *Metrics) CountResources(count ResourceCounter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counter != nil {
		return fmt.Errorf("metrics: resources are already counted")
	}
	m.counter = count
	return nil
}

// resourceCollector reads elasticache_resources from the store when
// scraped, so that the gauge is right across restarts and across servers
// sharing one etcd, which an in-memory count would not be.
type resourceCollector struct{ m *Metrics }

func (c resourceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.resources }

func (c resourceCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	count := c.m.counter
	c.m.mu.Unlock()
	if count == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), resourceTimeout)
	defer cancel()
	counts, err := count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.m.resources, fmt.Errorf("count resources: %w", err))
		return
	}
	for typ, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.m.resources, prometheus.GaugeValue, float64(n), typ)
	}
}

// scrapeLog is promhttp's error log, sent to slog.
type scrapeLog struct{ log *slog.Logger }

func (l scrapeLog) Println(v ...any) {
	l.log.Warn("serving metrics", "err", fmt.Sprint(v...))
}
