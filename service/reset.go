package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

// ErrInvalidAccount is wrapped by Reset when the account is not a 12-digit
// AWS account ID.
var ErrInvalidAccount = errors.New("not a 12-digit AWS account ID")

// unfinishedKey marks an import or reset written in several transactions
// until its last one: while it is there, the state is part old, part new.
//
//	m/unfinished   {"operation":"import"|"reset","account":…,"started":…}
var unfinishedKey = []byte("m/unfinished")

type unfinishedRecord struct {
	Operation string    `json:"operation"`
	Account   string    `json:"account,omitempty"`
	Started   time.Time `json:"started"`
}

func (u *unfinishedRecord) String() string {
	what := u.Operation
	if u.Account != "" {
		what += " of account " + u.Account
	}
	return fmt.Sprintf("the %s started at %s did not finish; run it again", what, u.Started.Format(time.RFC3339))
}

// readUnfinished returns the marker of an interrupted import or reset, or
// nil when there is none.
func readUnfinished(tx storage.Tx) (*unfinishedRecord, error) {
	b, err := tx.Get(unfinishedKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var u unfinishedRecord
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("decode %s: %w", unfinishedKey, err)
	}
	return &u, nil
}

// Batching bounds the transactions that ImportState and Reset write in.
// The zero value writes everything in one transaction, which is what bbolt
// should get: the change is then all or nothing. etcd refuses transactions
// of more than --max-txn-ops operations (128 by default) or
// --max-request-bytes (1.5 MiB), so there the change is split; an
// interruption (etcd unreachable, the process killed) then leaves some
// transactions applied and a marker saying so, which makes ExportState
// refuse and seeding skip until the same import or reset is run again.
// Running it again is always safe: it computes its writes afresh from
// what it finds.
type Batching struct {
	// MaxWrites is the most puts and deletes one transaction carries; 0
	// means no limit.
	MaxWrites int
	// MaxBytes is the most key and value bytes one transaction carries; 0
	// means no limit. A single larger record still goes, alone.
	MaxBytes int
}

func (b Batching) split() bool { return b.MaxWrites > 0 || b.MaxBytes > 0 }

// record is one key and its value. Among the writes of a batched rewrite
// a nil value means delete; puts may carry nil for an empty value.
type record struct {
	key, value []byte
}

// rewriteOp describes a replacement of part of the state: every key of
// the part that puts does not hold is deleted, and puts are written.
type rewriteOp struct {
	name string
	// account, when set, limits the part to one account; prefix is the
	// part's group and event keys (a/ or a/{account}/). The expiry index
	// entries of the part's events go with them.
	account string
	prefix  []byte
	// onlyIfEmpty skips the rewrite when the store holds any key under
	// a/ or an unfinished marker.
	onlyIfEmpty bool
	puts        []record // sorted by key
}

// rewriteResult says what rewrite did: the keys it deleted (the part's
// old state, less what puts replaced), and whether it skipped.
type rewriteResult struct {
	deleted    [][]byte
	skipped    bool
	unfinished string
}

// inPart reports whether a key of the expiry index belongs to op's part.
func (op *rewriteOp) inPart(k []byte) bool {
	if op.account == "" {
		return true
	}
	// x/ev/{time}/{account}/…
	rest := k[len(expiryPrefix):]
	i := bytes.IndexByte(rest, '/')
	return i >= 0 && bytes.HasPrefix(rest[i+1:], []byte(op.account+"/"))
}

// existing lists the part's keys in tx, and says whether the store holds
// anything under a/ and which unfinished marker it has.
func (op *rewriteOp) existing(tx storage.Tx) (keys [][]byte, empty bool, unfinished *unfinishedRecord, err error) {
	unfinished, err = readUnfinished(tx)
	if err != nil {
		return nil, false, nil, err
	}
	empty = true
	if op.onlyIfEmpty {
		err = tx.Scan([]byte("a/"), nil, func(k, _ []byte) (bool, error) {
			empty = false
			return false, nil
		})
		if err != nil || !empty || unfinished != nil {
			return nil, empty, unfinished, err
		}
	}
	err = tx.Scan(op.prefix, nil, func(k, _ []byte) (bool, error) {
		keys = append(keys, bytes.Clone(k))
		return true, nil
	})
	if err != nil {
		return nil, false, nil, err
	}
	err = tx.Scan(expiryPrefix, nil, func(k, _ []byte) (bool, error) {
		if op.inPart(k) {
			keys = append(keys, bytes.Clone(k))
		}
		return true, nil
	})
	return keys, empty, unfinished, err
}

// deletions are the existing keys that puts does not overwrite.
func (op *rewriteOp) deletions(existing [][]byte) [][]byte {
	kept := make(map[string]bool, len(op.puts))
	for _, r := range op.puts {
		kept[string(r.key)] = true
	}
	var out [][]byte
	for _, k := range existing {
		if !kept[string(k)] {
			out = append(out, k)
		}
	}
	return out
}

// rewrite applies op in one transaction, or in several when b says so.
func (s *ElastiCache) rewrite(ctx context.Context, op rewriteOp, b Batching) (rewriteResult, error) {
	if b.split() {
		return s.rewriteBatched(ctx, op, b)
	}
	var res rewriteResult
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		res = rewriteResult{}
		existing, empty, unfinished, err := op.existing(tx)
		if err != nil {
			return err
		}
		if op.onlyIfEmpty && (!empty || unfinished != nil) {
			res.skipped = true
			if unfinished != nil {
				res.unfinished = unfinished.String()
			}
			return nil
		}
		res.deleted = op.deletions(existing)
		for _, k := range res.deleted {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		for _, r := range op.puts {
			if err := tx.Put(r.key, r.value); err != nil {
				return err
			}
		}
		if op.account == "" {
			// The whole state is replaced: whatever an interrupted
			// operation left is gone with it.
			return tx.Delete(unfinishedKey)
		}
		return nil
	})
	if err != nil {
		return rewriteResult{}, err
	}
	return res, nil
}

// rewriteBatched lists the part in one read, then writes the marker, the
// deletions, the puts and the marker's removal, in order, in transactions
// of blind writes within b's bounds. Blind writes need no compares, so
// each transaction costs only its writes against etcd's limits.
func (s *ElastiCache) rewriteBatched(ctx context.Context, op rewriteOp, b Batching) (rewriteResult, error) {
	var (
		existing   [][]byte
		empty      bool
		unfinished *unfinishedRecord
	)
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		existing, empty, unfinished, err = op.existing(tx)
		return err
	})
	if err != nil {
		return rewriteResult{}, err
	}
	if op.onlyIfEmpty && (!empty || unfinished != nil) {
		res := rewriteResult{skipped: true}
		if unfinished != nil {
			res.unfinished = unfinished.String()
		}
		return res, nil
	}
	res := rewriteResult{deleted: op.deletions(existing)}
	// One account's reset leaves another operation's marker alone: only
	// that operation, run again, clears what it left elsewhere.
	ownMarker := op.account == "" || unfinished == nil
	var writes []record
	if ownMarker {
		m, err := json.Marshal(unfinishedRecord{Operation: op.name, Account: op.account, Started: s.clock.Now().UTC()})
		if err != nil {
			return rewriteResult{}, err
		}
		writes = append(writes, record{key: unfinishedKey, value: m})
	}
	for _, k := range res.deleted {
		writes = append(writes, record{key: k})
	}
	for _, r := range op.puts {
		v := r.value
		if v == nil {
			v = []byte{} // a put of an empty value, not a delete
		}
		writes = append(writes, record{key: r.key, value: v})
	}
	if ownMarker {
		writes = append(writes, record{key: unfinishedKey})
	}
	for len(writes) > 0 {
		n, size := 0, 0
		for n < len(writes) {
			w := len(writes[n].key) + len(writes[n].value)
			if n > 0 && (b.MaxWrites > 0 && n >= b.MaxWrites || b.MaxBytes > 0 && size+w > b.MaxBytes) {
				break
			}
			n, size = n+1, size+w
		}
		batch := writes[:n]
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			for _, w := range batch {
				var err error
				if w.value == nil {
					err = tx.Delete(w.key)
				} else {
					err = tx.Put(w.key, w.value)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return rewriteResult{}, fmt.Errorf("%s interrupted, run it again: %w", op.name, err)
		}
		writes = writes[n:]
	}
	return res, nil
}

// ResetResult counts what Reset removed.
type ResetResult struct {
	// CacheSecurityGroups counts stored groups, customised default groups
	// among them; Events counts events.
	CacheSecurityGroups, Events int
}

// Reset removes every group and event of one account in every region, or
// of all accounts when account is "", with the derived records that go
// with them. The schema version and the marker key stay. An invalid
// account fails wrapping ErrInvalidAccount before anything is read. One
// transaction unless b splits it; see Batching.
func (s *ElastiCache) Reset(ctx context.Context, account string, b Batching) (ResetResult, error) {
	prefix := []byte("a/")
	if account != "" {
		if !api.IsAccountID(account) {
			return ResetResult{}, fmt.Errorf("reset: %q: %w", account, ErrInvalidAccount)
		}
		prefix = []byte("a/" + account + "/")
	}
	res, err := s.rewrite(ctx, rewriteOp{name: "reset", account: account, prefix: prefix}, b)
	if err != nil {
		return ResetResult{}, err
	}
	var out ResetResult
	for _, k := range res.deleted {
		// a/{account}/{region}/{kind}/…
		parts := strings.SplitN(string(k), "/", 5)
		if len(parts) < 5 || parts[0] != "a" {
			continue
		}
		switch parts[3] {
		case "csg":
			out.CacheSecurityGroups++
		case "ev":
			out.Events++
		}
	}
	return out, nil
}
