package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A Config with only the essentials set must be usable: zero values take
// their defaults instead of crashing a goroutine (EventSweepInterval 0 once
// panicked in time.NewTicker).
func TestMainWithZeroValues(t *testing.T) {
	t.Parallel()
	m := NewMain(Config{Listen: "127.0.0.1:0", DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + m.Addr() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/health = %d", res.StatusCode)
	}
	// Zero timeouts would mean none at all to net/http: they take the defaults.
	if s := m.server; s.ReadHeaderTimeout != defaultReadHeaderTimeout || s.ReadTimeout != defaultReadTimeout ||
		s.WriteTimeout != defaultWriteTimeout || s.IdleTimeout != defaultIdleTimeout {
		t.Fatalf("timeouts = %v %v %v %v, want the defaults", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAPIFirst checks that apiFirst routes as the mux alone would: "/" and
// any path the mux has no route for to the API, the others to their routes.
func TestAPIFirst(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })
	}
	mux.Handle("GET /health", named("health"))
	mux.Handle("/_admin/", named("admin"))
	mux.Handle("/", named("api"))
	h := apiFirst(mux, named("api"))
	for _, c := range []struct{ method, target, want string }{
		{"POST", "/", "api"},
		{"GET", "/?Action=DescribeCacheSecurityGroups", "api"},
		{"POST", "/other/path", "api"},
		{"GET", "/health", "health"},
		{"GET", "/_admin/requests", "admin"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))
		if got := rec.Body.String(); got != c.want {
			t.Errorf("%s %s went to %q, want %q", c.method, c.target, got, c.want)
		}
	}
}
