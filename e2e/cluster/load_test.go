package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/elasticache"
)

// record is one create the load sent and what became of it.
type record struct {
	phase   string
	account string
	name    string
	server  int
	outcome outcome
	code    string
	took    time.Duration
}

// load sends creates of fresh names, from several workers at once, until
// stopped or out of its request budget. Each worker acts as an account of
// its own (so creates do not contend on one account's group count) and
// alternates between the servers. Its clients never retry: every request's
// outcome is recorded as the client saw it.
type load struct {
	t       *testing.T
	clients map[string][]*elasticache.Client // by account, one per server
	timeout time.Duration
	budget  atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	phase   string
	records []record
	ok      int
}

// newLoad prepares a load on the servers at addrs whose clients give up on
// a request after timeout, and which sends at most budget requests in all,
// probes included.
func newLoad(t *testing.T, addrs []string, timeout time.Duration, budget int64) *load {
	l := &load{t: t, clients: map[string][]*elasticache.Client{}, timeout: timeout, stop: make(chan struct{}), phase: "start"}
	l.budget.Store(budget)
	for _, account := range []string{"900000000000", "900000000001", "900000000002", "900000000003", "900000000004", "900000000005", "900000000099"} {
		for _, addr := range addrs {
			l.clients[account] = append(l.clients[account], newClient(t, addr, account, timeout))
		}
	}
	return l
}

// probeAccount is the account of requests sent one by one with send.
const probeAccount = "900000000099"

// start runs workers workers (at most 6) until stopAndWait.
func (l *load) start(workers int) {
	for w := range workers {
		account := fmt.Sprintf("9000000000%02d", w)
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				if _, ok := l.send(account, fmt.Sprintf("w%d-%05d", w, i), (w+i)%len(l.clients[account])); !ok {
					return
				}
			}
		})
	}
}

// send creates one group as account through server and records the
// outcome; ok is false when the request budget is spent and nothing was
// sent.
func (l *load) send(account, name string, server int) (rec record, ok bool) {
	if l.budget.Add(-1) < 0 {
		return rec, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout+time.Second)
	defer cancel()
	start := time.Now()
	err := create(ctx, l.clients[account][server], name)
	rec = record{account: account, name: name, server: server, took: time.Since(start)}
	rec.outcome, rec.code = classify(err)
	if rec.outcome == answeredOther {
		rec.code = errCode(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	rec.phase = l.phase
	l.records = append(l.records, rec)
	if rec.outcome == answeredOK {
		l.ok++
	}
	return rec, true
}

// setPhase labels the requests sent from now on.
func (l *load) setPhase(phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase = phase
}

func (l *load) answered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok
}

// waitAnswered waits until n more creates have been answered 200, failing
// the test after timeout or when the budget runs out.
func (l *load) waitAnswered(what string, n int, timeout time.Duration) {
	l.t.Helper()
	want := l.answered() + n
	deadline := time.Now().Add(timeout)
	for l.answered() < want {
		if time.Now().After(deadline) || l.budget.Load() <= 0 {
			l.t.Fatalf("%s: %d creates answered 200 so far, want %d within %s (budget left %d)\n%s",
				what, l.answered(), want, timeout, l.budget.Load(), l.summary())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopAndWait stops the workers and waits for their last requests.
func (l *load) stopAndWait() {
	close(l.stop)
	l.wg.Wait()
}

// summary counts outcomes per phase, with the slowest answer of each.
func (l *load) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	type counts struct {
		n       [5]int
		slowest time.Duration
	}
	var phases []string
	by := map[string]*counts{}
	for _, r := range l.records {
		c := by[r.phase]
		if c == nil {
			c = &counts{}
			by[r.phase] = c
			phases = append(phases, r.phase)
		}
		c.n[r.outcome]++
		c.slowest = max(c.slowest, r.took)
	}
	var b strings.Builder
	for _, p := range phases {
		c := by[p]
		fmt.Fprintf(&b, "  %-28s 200: %4d  503: %4d  other: %d  refused: %d  unknown: %d  slowest: %s\n",
			p, c.n[answeredOK], c.n[answeredUnavailable], c.n[answeredOther], c.n[refused], c.n[unknown], c.slowest.Round(time.Millisecond))
	}
	return b.String()
}

// tally is the check of a load against what the store holds afterwards.
type tally struct {
	sent, answered, found, lost  int
	unavailable, unavailableSeen int
	unknown, unknownFound        int
	refused                      int
}

func (c tally) String() string {
	return fmt.Sprintf("answered 200: %d, found afterwards: %d, lost: %d; unknown outcome: %d (found afterwards: %d); "+
		"answered 503: %d (found afterwards: %d); refused, never sent: %d; requests: %d",
		c.answered, c.found, c.lost, c.unknown, c.unknownFound, c.unavailable, c.unavailableSeen, c.refused, c.sent)
}

// check lists every account's groups with list and compares them with the
// records: every create answered 200 must be there (else it is lost), and
// nothing may be there that was never sent or was refused before being
// sent. Creates with an unknown outcome, or answered 503, may be either
// way; they are counted apart.
func (l *load) check(t *testing.T, list func(account string) []string) tally {
	t.Helper()
	l.mu.Lock()
	records := slices.Clone(l.records)
	l.mu.Unlock()
	found := map[string]bool{}
	for account := range l.clients {
		for _, name := range list(account) {
			found[account+"/"+name] = true
		}
	}
	var c tally
	var lost []string
	for _, r := range records {
		c.sent++
		key := r.account + "/" + r.name
		there := found[key]
		delete(found, key)
		switch r.outcome {
		case answeredOK:
			c.answered++
			if there {
				c.found++
			} else {
				c.lost++
				lost = append(lost, fmt.Sprintf("%s (phase %s, server %d)", key, r.phase, r.server))
			}
		case answeredUnavailable:
			c.unavailable++
			if there {
				c.unavailableSeen++
			}
		case unknown:
			c.unknown++
			if there {
				c.unknownFound++
			}
		case refused:
			c.refused++
			if there {
				t.Errorf("%s exists, but its request was refused before being sent", key)
			}
		case answeredOther:
			if there {
				t.Errorf("%s exists, but its create was answered %s", key, r.code)
			}
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d creates answered 200 are lost: %s", len(lost), strings.Join(lost, ", "))
	}
	for key := range found {
		t.Errorf("%s exists, but no request created it", key)
	}
	return c
}
