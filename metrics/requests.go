package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// UnknownAction is the action label of a request whose Action names no
// operation of the API, or that has none: the client's text never becomes
// a label, so the number of series stays bounded whatever clients send.
const UnknownAction = "unknown"

// OtherCode is the code label that stands for every error code past the
// first MaxCodesPerAction of one action. Codes come from the server, not
// the client, so this only guards against a future source of many codes
// (an injected fault, say) multiplying series.
const OtherCode = "other"

// MaxCodesPerAction bounds the distinct code labels of one action.
const MaxCodesPerAction = 64

// actionMetrics are the instruments of one action, resolved from the vecs
// on first use and then read without locks or allocation: the hot path
// does one map lookup on the action, and one on the code for a failure.
// Resolving lazily keeps the operations nobody calls (most of the model)
// out of the scrape.
type actionMetrics struct {
	name     string
	children atomic.Pointer[actionChildren]
	// codes is copied on write: readers load it and look up without a lock.
	codes atomic.Pointer[map[string]prometheus.Counter]
	// mu serialises writers of codes.
	mu sync.Mutex
}

// actionChildren are an action's series that every request touches.
type actionChildren struct {
	ok       prometheus.Counter
	duration prometheus.Observer
}

// ObserveRequest counts one answered API request: action is the operation
// (anything else is counted as UnknownAction), code its error code, ""
// for a success, and d the time it took.
func (m *Metrics) ObserveRequest(action, code string, d time.Duration) {
	a := m.actions[action]
	if a == nil {
		a = m.unknown
	}
	c := a.children.Load()
	if c == nil {
		c = m.resolve(a)
	}
	c.duration.Observe(d.Seconds())
	if code == "" {
		c.ok.Inc()
		return
	}
	if codes := a.codes.Load(); codes != nil {
		if ctr, ok := (*codes)[code]; ok {
			ctr.Inc()
			return
		}
	}
	m.addCode(a, code).Inc()
}

// resolve creates an action's children on its first request. Two first
// requests may race; WithLabelValues returns the same children to both.
func (m *Metrics) resolve(a *actionMetrics) *actionChildren {
	c := &actionChildren{
		ok:       m.requests.WithLabelValues(a.name, ""),
		duration: m.duration.WithLabelValues(a.name),
	}
	a.children.Store(c)
	return c
}

// addCode returns the counter of a code the action has not seen yet,
// adding it to the action's copy-on-write map; past MaxCodesPerAction
// codes it is OtherCode's counter.
func (m *Metrics) addCode(a *actionMetrics, code string) prometheus.Counter {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := map[string]prometheus.Counter{}
	if p := a.codes.Load(); p != nil {
		old = *p
	}
	if ctr, ok := old[code]; ok {
		return ctr // added by a request that held the lock before this one
	}
	label := code
	if len(old) >= MaxCodesPerAction {
		label = OtherCode
		if ctr, ok := old[OtherCode]; ok {
			return ctr
		}
	}
	ctr := m.requests.WithLabelValues(a.name, label)
	codes := make(map[string]prometheus.Counter, len(old)+1)
	for k, v := range old {
		codes[k] = v
	}
	codes[label] = ctr
	a.codes.Store(&codes)
	return ctr
}
