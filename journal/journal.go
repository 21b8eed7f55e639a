package journal

import (
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/elasticache-server/elasticache-server/api"
)

// DefaultSize is how many requests a journal keeps unless told otherwise.
const DefaultSize = 1000

// MaxSize bounds a journal's size: each entry keeps up to MaxParameters
// values of up to MaxValueBytes.
const MaxSize = 1_000_000

// What one entry keeps of a request's parameters, so that a journal of a
// thousand 1 MiB requests does not hold a gigabyte.
const (
	// MaxParameters is how many parameters an entry keeps (the first in
	// key order); Truncated marks an entry that had more.
	MaxParameters = 256
	// MaxValueBytes is how much of a value (and of a key) is kept; a
	// longer one is cut at a character boundary and ends in "…".
	MaxValueBytes = 1024
)

// Redacted replaces the value of a secret parameter: the test still sees
// that it was sent, never what it was.
const Redacted = "(redacted)"

// Entry is one answered request.
type Entry struct {
	RequestID string    `json:"requestId"`
	Time      time.Time `json:"time"`
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Action    string    `json:"action"`
	// Parameters is the request's form without Action and Version, secrets
	// replaced by Redacted.
	Parameters map[string]string `json:"parameters"`
	// Truncated is true when parameters were left out (MaxParameters).
	Truncated bool `json:"truncated,omitempty"`
	// Status is the HTTP status of the answer.
	Status int `json:"status"`
	// Code is the error code of the answer, "" for a success.
	Code string `json:"code"`
	// DurationMs is how long the server took to answer, in milliseconds.
	DurationMs float64 `json:"durationMs"`
}

// Filter selects entries; zero fields select everything.
type Filter struct {
	Action  string
	Account string
	Region  string
	// Limit, when positive, keeps only the newest Limit matching entries.
	Limit int
}

func (f Filter) matches(e *Entry) bool {
	return (f.Action == "" || f.Action == e.Action) &&
		(f.Account == "" || f.Account == e.Account) &&
		(f.Region == "" || f.Region == e.Region)
}

// Journal is a ring of the last Size answered requests. It is safe for
// concurrent use.
type Journal struct {
	mu   sync.Mutex
	ring []Entry
	// next is where the next entry goes; n how many slots are in use.
	next, n int
}

// New returns an empty journal that keeps the last size requests;
// size < 1 means DefaultSize and a size over MaxSize is MaxSize.
func New(size int) *Journal {
	if size < 1 {
		size = DefaultSize
	}
	size = min(size, MaxSize)
	return &Journal{ring: make([]Entry, size)}
}

// Size is how many requests the journal keeps.
func (j *Journal) Size() int { return len(j.ring) }

// Record adds an answered request, dropping the oldest when full.
func (j *Journal) Record(x *api.Exchange) {
	params, truncated := Parameters(x.Form)
	j.Add(Entry{
		RequestID:  x.RequestID,
		Time:       x.Start.UTC(),
		Account:    x.Caller.AccountID,
		Region:     x.Caller.Region,
		Action:     x.Action,
		Parameters: params,
		Truncated:  truncated,
		Status:     x.Status,
		Code:       x.Code,
		DurationMs: float64(x.Duration.Microseconds()) / 1000,
	})
}

// Add adds an entry as it is, dropping the oldest when full. Entries are
// kept in the order of their Time, not of their arrival here: a request is
// recorded only after its answer has been sent, and by then its client may
// have sent, and the server answered and recorded, the next one.
func (j *Journal) Add(e Entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	size := len(j.ring)
	if j.n == size && e.Time.Before(j.ring[j.next].Time) {
		return // older than everything kept: it would be dropped at once
	}
	i := j.next
	j.next = (j.next + 1) % size
	j.n = min(j.n+1, size)
	// Insertion from the newest end: the entries are nearly in order, so
	// this moves none or a few.
	for moved := 1; moved < j.n; moved++ {
		prev := (i - 1 + size) % size
		if !e.Time.Before(j.ring[prev].Time) {
			break
		}
		j.ring[i] = j.ring[prev]
		i = prev
	}
	j.ring[i] = e
}

// Entries returns the matching entries oldest first, newest last, by the
// time the server received them. The entries must not be modified.
func (j *Journal) Entries(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []Entry{}
	// Newest first, so that a limit stops the walk early; reversed below.
	for i := 1; i <= j.n && (f.Limit <= 0 || len(out) < f.Limit); i++ {
		e := &j.ring[(j.next-i+len(j.ring))%len(j.ring)]
		if f.matches(e) {
			out = append(out, *e)
		}
	}
	slices.Reverse(out)
	return out
}

// Clear empties the journal and returns how many entries it held.
func (j *Journal) Clear() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := j.n
	clear(j.ring)
	j.next, j.n = 0, 0
	return n
}

// Parameters copies a request's form for the journal: without Action and
// Version (the entry has them), with every secret parameter (IsSecret)
// replaced by Redacted, at most MaxParameters keys in key order (truncated
// reports any left out) and values cut at MaxValueBytes.
func Parameters(form map[string]string) (params map[string]string, truncated bool) {
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "Action" && k != "Version" {
			keys = append(keys, k)
		}
	}
	if len(keys) > MaxParameters {
		slices.Sort(keys)
		keys, truncated = keys[:MaxParameters], true
	}
	params = make(map[string]string, len(keys))
	for _, k := range keys {
		v := form[k]
		if IsSecret(k) {
			v = Redacted
		}
		params[cut(k)] = cut(v)
	}
	return params, truncated
}

// cut shortens s to at most MaxValueBytes, at a character boundary,
// marking the cut with "…".
func cut(s string) string {
	if len(s) <= MaxValueBytes {
		return s
	}
	i := MaxValueBytes - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// IsSecret reports whether a parameter holds a secret, by its name: one of
// its dot-separated parts (AuthenticationMode.Passwords.member.1 has four)
// is, ignoring case, one of
//
//   - the signing parameters of a presigned URL that would let a reader
//     replay or attribute the request: X-Amz-Signature, X-Amz-Credential,
//     X-Amz-Security-Token, and SigV2's Signature, AWSAccessKeyId and
//     SecurityToken;
//   - the secret members of the ElastiCache model (api/model): AuthToken
//     (Create/ModifyCacheCluster, Create/ModifyReplicationGroup) and
//     Passwords (Create/ModifyUser, AuthenticationMode.Passwords);
//   - names a future model or a client may use for the same things:
//     Password, SecretAccessKey, SessionToken.
//
// Whole parts only: NextToken, AuthTokenEnabled, AuthTokenUpdateStrategy,
// PasswordCount and NoPasswordRequired are not secrets and stay visible.
func IsSecret(name string) bool {
	for part := range strings.SplitSeq(name, ".") {
		switch strings.ToLower(part) {
		case "x-amz-signature", "x-amz-credential", "x-amz-security-token",
			"signature", "awsaccesskeyid", "securitytoken",
			"authtoken", "passwords", "password", "secretaccesskey", "sessiontoken":
			return true
		}
	}
	return false
}
