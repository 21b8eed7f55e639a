package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/engine/enginetest"
	"github.com/elasticache-server/elasticache-server/storage"
)

// recordingEngines is an engine.Engines that only says what was asked of
// it: enough to check how Main drives the fleet.
type recordingEngines struct {
	*enginetest.Fake
	mu    sync.Mutex
	calls []string
	dir   string
}

func (e *recordingEngines) Available(name string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "available "+name)
	return "/usr/bin/" + name, nil
}

func (e *recordingEngines) StopAll(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "stopall")
	return nil
}

func (e *recordingEngines) called() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

// openMain starts a Main on cfg with engines built by newEngines (nil:
// the default), its log in buf; it is closed when the test ends.
func openMain(t *testing.T, cfg Config, newEngines EnginesFunc, buf *bytes.Buffer) *Main {
	t.Helper()
	m := NewMain(cfg, slog.New(slog.NewTextHandler(buf, nil)))
	m.Engines = newEngines
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func closeMain(t *testing.T, m *Main) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMainDrivesEnginesAndStopsThemAtClose(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	rec := &recordingEngines{Fake: enginetest.New()}
	var buf bytes.Buffer
	m := openMain(t, Config{Listen: "127.0.0.1:0", DataDir: dataDir}, func(dir string, _ *slog.Logger) engine.Engines {
		rec.dir = dir
		return rec
	}, &buf)
	if want := filepath.Join(dataDir, "engines"); rec.dir != want {
		t.Fatalf("engines built in %q, want %q", rec.dir, want)
	}
	for _, e := range engineNames {
		if !strings.Contains(buf.String(), "engine="+e) {
			t.Fatalf("start-up log does not report engine %s:\n%s", e, buf.String())
		}
	}
	closeMain(t, m)
	calls := rec.called()
	if len(calls) == 0 || calls[len(calls)-1] != "stopall" {
		t.Fatalf("calls = %q, want StopAll last", calls)
	}
	if m.engines != nil && m.stopFleet != nil {
		t.Fatal("the reconciler still runs after Close")
	}
}

func TestMainServerIDIsKeptInTheEngineDir(t *testing.T) {
	t.Parallel()
	engineDir := filepath.Join(t.TempDir(), "eng")
	cfg := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), EngineDir: engineDir, Engines: EnginesNone}
	var buf bytes.Buffer
	closeMain(t, openMain(t, cfg, nil, &buf))
	b, err := os.ReadFile(filepath.Join(engineDir, serverIDFile))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(string(b))
	if !validServerID(id) {
		t.Fatalf("server ID %q is not valid", id)
	}
	buf.Reset()
	closeMain(t, openMain(t, cfg, nil, &buf))
	if !strings.Contains(buf.String(), "server_id="+id) {
		t.Fatalf("second start does not use the kept ID %s:\n%s", id, buf.String())
	}
	buf.Reset()
	cfg.ServerID = "explicit-1"
	closeMain(t, openMain(t, cfg, nil, &buf))
	if !strings.Contains(buf.String(), "server_id=explicit-1") {
		t.Fatalf("--server-id not used:\n%s", buf.String())
	}
}

func TestMainEnginesNoneWarnsAndBuildsNoEngines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	built := false
	m := openMain(t, Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Engines: EnginesNone},
		func(string, *slog.Logger) engine.Engines {
			built = true
			return &recordingEngines{Fake: enginetest.New()}
		}, &buf)
	closeMain(t, m)
	if built {
		t.Fatal("engines built with --engines none")
	}
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "NO engine process") {
		t.Fatalf("no start-up warning for --engines none:\n%s", buf.String())
	}
}

// Each server ID starts its address search somewhere of its own in
// 127.1–254.x.x, the same every time.
func TestFirstAddress(t *testing.T) {
	t.Parallel()
	a, b := firstAddress("srv-aaaa"), firstAddress("srv-bbbb")
	if a == b || a != firstAddress("srv-aaaa") {
		t.Fatalf("firstAddress = %s and %s", a, b)
	}
	for _, ip := range []string{a, b} {
		p := net.ParseIP(ip).To4()
		if p == nil || p[0] != 127 || p[1] < 1 || p[1] > 254 || p[3] != 1 {
			t.Fatalf("firstAddress = %s, want 127.[1-254].x.1", ip)
		}
	}
}

// fixedClock is a service.Clock that never moves.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func TestMainKeepsALeaseWithTheLeaseTTL(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cfg := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Engines: EnginesNone, ServerID: "lease-1", LeaseTTL: 7 * time.Second}
	var buf bytes.Buffer
	m := NewMain(cfg, slog.New(slog.NewTextHandler(&buf, nil)))
	m.Clock = fixedClock{now}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	var raw []byte
	deadline := time.Now().Add(10 * time.Second)
	for raw == nil {
		if time.Now().After(deadline) {
			t.Fatal("no lease written by the reconciler")
		}
		_ = m.store.View(context.Background(), func(tx storage.Tx) error {
			raw, _ = tx.Get([]byte("f/lease/lease-1"))
			return nil
		})
		time.Sleep(5 * time.Millisecond)
	}
	var l struct {
		Deadline time.Time `json:"deadline"`
	}
	if err := json.Unmarshal(raw, &l); err != nil || !l.Deadline.Equal(now.Add(7*time.Second)) {
		t.Fatalf("lease %s (%v), want a deadline of now + --lease-ttl", raw, err)
	}
}
