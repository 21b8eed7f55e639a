package server

import (
	"context"
	"net/http"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/metrics"
	"github.com/elasticache-server/elasticache-server/storage"
)

// instrumentStore creates the server's metrics and wraps the store so that
// its transactions are measured. It runs first of the metrics hooks: the
// store is opened before the service, which needs the wrapped store.
func (m *Main) instrumentStore(s storage.Store) storage.Store {
	m.metrics = metrics.New(metrics.Config{Version: Version(), Logger: m.Logger})
	return m.metrics.InstrumentStore(s)
}

// openMetrics adds what needs the service: the resources gauge, one type
// label per kind (AWS's source type name), read from the store once per
// scrape so that it is right for every server sharing it.
func (m *Main) openMetrics() error {
	return m.metrics.CountResources(m.svc.CountResources)
}

// metricsHandler serves GET /metrics from the server's own registry.
func (m *Main) metricsHandler() http.Handler { return m.metrics.Handler() }

// observeMetrics counts one answered request. It runs on every request:
// ObserveRequest neither allocates nor locks.
func (m *Main) observeMetrics(ctx context.Context, e *api.Exchange) {
	m.metrics.ObserveRequest(e.Action, e.Code, e.Duration)
}
