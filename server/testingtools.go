package server

import (
	"context"
	"net/http"

	"github.com/elasticache-server/elasticache-server/api"
)

// openTestingTools prepares the request journal and the fault rules of the
// config file.
func (m *Main) openTestingTools(fc FileConfig) error { return nil }

// intercept is the handler's Intercept hook: fault injection.
func (m *Main) intercept(ctx context.Context, e *api.Exchange) error { return nil }

// recordRequest adds an answered request to the journal.
func (m *Main) recordRequest(ctx context.Context, e *api.Exchange) {}

// testingRoutes registers /_admin/requests and /_admin/faults.
func (m *Main) testingRoutes(mux *http.ServeMux) {}
