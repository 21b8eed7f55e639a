package server

import (
	"context"
	"crypto/subtle"
	"net/http"

	"github.com/elasticache-server/elasticache-server/api"
)

// adminHandler serves /_admin/: the state routes (reset, export, import)
// and the testing routes (request journal, fault rules). Unknown paths are
// 404 with a JSON body, like every admin answer.
func (m *Main) adminHandler() http.Handler {
	mux := http.NewServeMux()
	m.stateRoutes(mux)
	m.testingRoutes(mux)
	mux.HandleFunc("/_admin/", func(w http.ResponseWriter, r *http.Request) {
		writeAdminError(w, http.StatusNotFound, "NotFound", "no admin route "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// requireBearer answers 401 unless the request carries
// "Authorization: Bearer <token>"; an empty token lets every request in.
func (m *Main) requireBearer(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="elasticache-server"`)
			writeAdminError(w, http.StatusUnauthorized, "Unauthorized", "a valid bearer token is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// observe is the handler's Observe hook: metrics and the request journal
// see every request once it has been answered.
func (m *Main) observe(ctx context.Context, e *api.Exchange) {
	m.observeMetrics(ctx, e)
	m.recordRequest(ctx, e)
}
