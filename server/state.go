package server

import (
	"context"
	"net/http"
)

// seed imports --seed when the store holds no resources.
func (m *Main) seed(ctx context.Context) error { return nil }

// stateRoutes registers /_admin/reset and /_admin/state.
func (m *Main) stateRoutes(mux *http.ServeMux) {}
