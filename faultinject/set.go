package faultinject

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MaxRules bounds the rules of one set, so that a runaway test script
// cannot make every request scan an ever longer list.
const MaxRules = 1000

// Request is what a rule matches on.
type Request struct {
	Action  string
	Account string
	Region  string
}

// Status is a rule of a set as the admin API shows it.
type Status struct {
	// ID names the rule for removal; IDs are never reused within a process.
	ID string `json:"id"`
	Rule
	// Remaining is how many more requests a counted rule will hit; absent
	// for rules without a count.
	Remaining *int `json:"remaining,omitempty"`
	// Fired is how many requests the rule has hit.
	Fired int `json:"fired"`
	// Active is false once a counted rule is used up.
	Active bool `json:"active"`
}

// Set is the ordered list of rules of one server process. It is safe for
// concurrent use. Requests are checked against the rules in the order they
// were added; the first rule that matches and fires decides. A rule with a
// probability that draws "no" lets the next rules be tried.
type Set struct {
	seed uint64

	mu     sync.Mutex
	lastID int
	rules  []*entry
	// active counts the rules that can still fire, so that a request costs
	// one atomic load when there are none: the common case by far.
	active atomic.Int64
	// released closes when Release is called: delays end at once.
	released    chan struct{}
	releaseOnce sync.Once
}

// ErrReleased is what Apply returns for a request whose delay Release cut
// short: the server is stopping, and its answer should say so.
var ErrReleased = errors.New("faultinject: delay cut short: the server is stopping")

type entry struct {
	id        string
	rule      Rule
	remaining int // of a counted rule
	fired     int
	// rnd draws a probability rule's outcomes; its own source, so that a
	// rule's outcomes depend only on the requests that match it.
	rnd *rand.Rand
}

func (e *entry) usable() bool { return e.rule.Count == 0 || e.remaining > 0 }

func (e *entry) matches(r Request) bool {
	return (e.rule.Action == AnyAction || e.rule.Action == r.Action) &&
		(e.rule.Account == "" || e.rule.Account == r.Account) &&
		(e.rule.Region == "" || e.rule.Region == r.Region)
}

func (e *entry) status() Status {
	s := Status{ID: e.id, Rule: e.rule, Fired: e.fired, Active: e.usable()}
	if e.rule.Count > 0 {
		n := e.remaining
		s.Remaining = &n
	}
	return s
}

// NewSet returns an empty set whose probability rules draw from sources
// seeded with seed, unless a rule brings its own.
func NewSet(seed uint64) *Set { return &Set{seed: seed, released: make(chan struct{})} }

// Release ends every delay under way, and every later one at once, with
// ErrReleased: a server that is shutting down must not wait minutes for
// requests a rule holds. Calling it again does nothing.
func (s *Set) Release() { s.releaseOnce.Do(func() { close(s.released) }) }

// Seed is the set's seed.
func (s *Set) Seed() uint64 { return s.seed }

// Add validates rules and appends them all, or none when one is invalid
// (a *FieldError naming it by position when there are several) or the set
// would hold more than MaxRules. It returns the added rules with their IDs.
func (s *Set) Add(rules ...Rule) ([]Status, error) {
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			if fe, ok := err.(*FieldError); ok && len(rules) > 1 {
				return nil, fe.in(i)
			}
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rules)+len(rules) > MaxRules {
		return nil, &FieldError{"", "a server holds at most " + strconv.Itoa(MaxRules) + " rules; delete some first"}
	}
	out := make([]Status, 0, len(rules))
	for _, r := range rules {
		if r.Action == "" {
			r.Action = AnyAction
		}
		// The set owns its rules: the caller's pointers are not shared.
		if r.Probability != nil {
			p := *r.Probability
			r.Probability = &p
		}
		if r.Seed != nil {
			v := *r.Seed
			r.Seed = &v
		}
		s.lastID++
		e := &entry{id: "f" + strconv.Itoa(s.lastID), rule: r, remaining: r.Count}
		if r.Probability != nil {
			seed := s.seed
			if r.Seed != nil {
				seed = *r.Seed
			}
			e.rnd = rand.New(rand.NewPCG(seed, pcgStream))
		}
		s.rules = append(s.rules, e)
		s.active.Add(1)
		out = append(out, e.status())
	}
	return out, nil
}

// pcgStream is the second word of every rule's PCG seed; any constant
// would do, one is needed so that the seed alone decides. It spells the
// package's former name, and stays: a seed gives the draws it always gave.
const pcgStream = 0x6661756c7473 // "faults"

// List returns the rules in the order they are checked.
func (s *Set) List() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.rules))
	for _, e := range s.rules {
		out = append(out, e.status())
	}
	return out
}

// Remove deletes the rule with this ID and reports whether there was one.
func (s *Set) Remove(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.rules {
		if e.id == id {
			if e.usable() {
				s.active.Add(-1)
			}
			s.rules = append(s.rules[:i], s.rules[i+1:]...)
			return true
		}
	}
	return false
}

// Clear deletes every rule and returns how many there were.
func (s *Set) Clear() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.rules)
	s.rules = nil
	s.active.Store(0)
	return n
}

// Apply runs the rules for one request. When a rule fires it waits the
// rule's delay, returning ctx's error if ctx ends first, and then returns
// the rule's fault (an api.Fault), or nil for a delay-only rule. id is the
// rule that fired, "" when none did.
func (s *Set) Apply(ctx context.Context, r Request) (id string, err error) {
	if s.active.Load() == 0 {
		return "", nil
	}
	hit, ok := s.pick(r)
	if !ok {
		return "", nil
	}
	if d := time.Duration(hit.Delay); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return hit.id, ctx.Err()
		case <-s.released:
			return hit.id, ErrReleased
		case <-t.C:
		}
	}
	return hit.id, hit.fault()
}

// hit is a rule that fired, copied out of the lock.
type hit struct {
	id string
	Rule
}

// pick finds the first rule that matches r and fires, and counts it.
func (s *Set) pick(r Request) (hit, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.rules {
		if !e.usable() || !e.matches(r) {
			continue
		}
		if e.rnd != nil && e.rnd.Float64() >= *e.rule.Probability {
			continue
		}
		e.fired++
		if e.rule.Count > 0 {
			e.remaining--
			if e.remaining == 0 {
				s.active.Add(-1)
			}
		}
		return hit{e.id, e.rule}, true
	}
	return hit{}, false
}
