// Package enginetest holds Fake, an in-memory engine.Engines for the tests
// of the engines' callers (the reconciler): it records every call, runs
// nothing, and can simulate a crash. It imports only engine and the
// standard library.
package enginetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/elasticache-server/elasticache-server/engine"
)

// Call is one call of the Engines interface, as Fake recorded it.
type Call struct {
	// Method is the interface method's name ("Ensure", "Apply", ...).
	Method string
	// Key is the node's key (Spec.Key for the methods taking a Spec);
	// empty for Available, StopAll, Exited and Nodes.
	Key string
	// Spec is the Spec passed to Ensure, Apply, Reconfigure and Restart.
	Spec engine.Spec
	// Changed is Apply's changed parameters; Engine is Available's engine.
	Changed map[string]string
	Engine  string
}

// Fake is an in-memory engine.Engines. Its zero value is not usable; call
// New. It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	calls   []Call
	running map[string]engine.Spec
	data    map[string]bool
	missing map[string]bool
	static  map[string]bool
	fail    map[string]error
	exited  chan string
}

var _ engine.Engines = (*Fake)(nil)

// New returns a Fake with every engine available, no node running and no
// static parameter.
func New() *Fake {
	return &Fake{
		running: map[string]engine.Spec{},
		data:    map[string]bool{},
		missing: map[string]bool{},
		static:  map[string]bool{},
		fail:    map[string]error{},
		exited:  make(chan string, 256),
	}
}

// SetMissing makes Available (and so Ensure and Restart) fail for engine,
// as a Runner does when the binary is not installed.
func (f *Fake) SetMissing(engineName string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.missing[engineName] = true
}

// SetStatic names parameters that Apply reports as needing a restart, as
// a Runner does for those redis refuses to change at run time.
func (f *Fake) SetStatic(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		f.static[n] = true
	}
}

// FailNext makes the next call of method (e.g. "Ensure") return err
// without doing anything (it is still recorded).
func (f *Fake) FailNext(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = err
}

// Crash simulates the node's process ending on its own: the node stops
// running (its data stays) and its key is delivered on Exited (which
// holds 256 unread keys; a further Crash waits for a reader). It reports
// whether the node was running.
func (f *Fake) Crash(key string) bool {
	f.mu.Lock()
	_, ok := f.running[key]
	delete(f.running, key)
	f.mu.Unlock()
	if ok {
		f.exited <- key
	}
	return ok
}

// Calls returns the calls recorded so far, oldest first.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Call, len(f.calls))
	copy(out, f.calls)
	return out
}

// Running returns the Spec a node runs with (Ensure's or Restart's, with
// Apply's changes), and whether it runs.
func (f *Fake) Running(key string) (engine.Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.running[key]
	if ok {
		s.Params = maps.Clone(s.Params)
	}
	return s, ok
}

// RunningKeys returns the keys of the running nodes, sorted.
func (f *Fake) RunningKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := make([]string, 0, len(f.running))
	for k := range f.running {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// HasData tells whether a node has a data directory: from its first
// Ensure until Remove.
func (f *Fake) HasData(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data[key]
}

// record appends c and returns the error FailNext set for its method.
// The caller holds f.mu.
func (f *Fake) record(c Call) error {
	f.calls = append(f.calls, c)
	err := f.fail[c.Method]
	delete(f.fail, c.Method)
	return err
}

func (f *Fake) available(engineName string) error {
	if err := (engine.Spec{Key: "k", Engine: engineName, Address: "127.0.0.1", Port: 1}).Validate(); err != nil {
		return err
	}
	if f.missing[engineName] {
		return fmt.Errorf("enginetest: engine %s is not installed", engineName)
	}
	return nil
}

// Available answers a made-up path unless SetMissing named the engine.
func (f *Fake) Available(engineName string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Available", Engine: engineName}); err != nil {
		return "", err
	}
	if err := f.available(engineName); err != nil {
		return "", err
	}
	return "/fake/bin/" + engineName, nil
}

// Ensure validates s and marks the node running with it; a node already
// running keeps its Spec unless the engine, address or port differ, as
// with a Runner.
func (f *Fake) Ensure(ctx context.Context, s engine.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Ensure", Key: s.Key, Spec: cloneSpec(s)}); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.available(s.Engine); err != nil {
		return err
	}
	if cur, ok := f.running[s.Key]; ok && cur.Engine == s.Engine && cur.Address == s.Address && cur.Port == s.Port {
		return nil
	}
	f.running[s.Key] = cloneSpec(s)
	f.data[s.Key] = true
	return nil
}

// Apply merges changed into the running node's parameters and returns the
// changed names SetStatic named, sorted.
func (f *Fake) Apply(ctx context.Context, s engine.Spec, changed map[string]string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Apply", Key: s.Key, Spec: cloneSpec(s), Changed: maps.Clone(changed)}); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cur, ok := f.running[s.Key]
	if !ok {
		return nil, fmt.Errorf("enginetest: node %q is not running", s.Key)
	}
	var static []string
	if cur.Params == nil {
		cur.Params = map[string]string{}
	}
	for name, v := range changed {
		if f.static[name] {
			static = append(static, name)
			continue
		}
		cur.Params[name] = v
	}
	f.running[s.Key] = cur
	sort.Strings(static)
	return static, nil
}

// Reconfigure sets the running node's ReplicaOf and Users to s's.
func (f *Fake) Reconfigure(ctx context.Context, s engine.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Reconfigure", Key: s.Key, Spec: cloneSpec(s)}); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cur, ok := f.running[s.Key]
	if !ok {
		return fmt.Errorf("enginetest: node %q is not running", s.Key)
	}
	cur.ReplicaOf = s.ReplicaOf
	cur.Users = slices.Clone(s.Users)
	f.running[s.Key] = cur
	return nil
}

// Restart marks the node running with s, keeping its data.
func (f *Fake) Restart(ctx context.Context, s engine.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Restart", Key: s.Key, Spec: cloneSpec(s)}); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.available(s.Engine); err != nil {
		return err
	}
	f.running[s.Key] = cloneSpec(s)
	f.data[s.Key] = true
	return nil
}

// Stop marks the node stopped, keeping its data. An unknown key is nil.
func (f *Fake) Stop(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Stop", Key: key}); err != nil {
		return err
	}
	if err := engine.ValidateKey(key); err != nil {
		return err
	}
	delete(f.running, key)
	return nil
}

// Remove marks the node stopped and its data gone. An unknown key is nil.
func (f *Fake) Remove(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Remove", Key: key}); err != nil {
		return err
	}
	if err := engine.ValidateKey(key); err != nil {
		return err
	}
	delete(f.running, key)
	delete(f.data, key)
	return nil
}

// StopAll marks every node stopped, keeping their data.
func (f *Fake) StopAll(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "StopAll"}); err != nil {
		return err
	}
	clear(f.running)
	return nil
}

// Exited delivers the keys Crash was called for.
func (f *Fake) Exited() <-chan string { return f.exited }

// Health is nil for a running node and an error otherwise.
func (f *Fake) Health(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Health", Key: key}); err != nil {
		return err
	}
	if _, ok := f.running[key]; !ok {
		return errors.New("enginetest: node " + key + " is not running")
	}
	return nil
}

// Nodes lists the keys of the nodes with data (from their first Ensure
// or Restart until Remove), sorted, as a Runner lists its directory.
func (f *Fake) Nodes(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Nodes"}); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(f.data))
	for k := range f.data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

func cloneSpec(s engine.Spec) engine.Spec {
	s.Params = maps.Clone(s.Params)
	s.Users = slices.Clone(s.Users)
	return s
}
