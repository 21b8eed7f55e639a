package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

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
// rewrite applies op in one transaction, or in several when b says so.
func rewrite(ctx context.Context, store storage.Store, now time.Time, op rewriteOp, b Batching) (rewriteResult, error) {
	if b.split() {
		return rewriteBatched(ctx, store, now, op, b)
	}
	var res rewriteResult
	err := store.Update(ctx, func(tx storage.Tx) error {
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
func rewriteBatched(ctx context.Context, store storage.Store, now time.Time, op rewriteOp, b Batching) (rewriteResult, error) {
	var (
		existing   [][]byte
		empty      bool
		unfinished *unfinishedRecord
	)
	err := store.View(ctx, func(tx storage.Tx) error {
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
		m, err := json.Marshal(unfinishedRecord{Operation: op.name, Account: op.account, Started: now.UTC()})
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
		err := store.Update(ctx, func(tx storage.Tx) error {
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

// ResetResult counts what Reset removed: records per kind Field
// (customised virtual records among them) and events.
type ResetResult struct {
	Records map[string]int
	Events  int
}

// Reset removes every record, tag and event of one account in every
// region, or of all accounts when account is "", with the derived records
// that go with them. The schema version and the marker key stay. One
// transaction unless b splits it; see Batching.
func (r *Registry) Reset(ctx context.Context, store storage.Store, now time.Time, account string, b Batching) (ResetResult, error) {
	res, err := rewrite(ctx, store, now, rewriteOp{name: "reset", account: account, prefix: AccountPrefix(account)}, b)
	if err != nil {
		return ResetResult{}, err
	}
	out := ResetResult{Records: map[string]int{}}
	for _, k := range r.kinds {
		out.Records[k.Field] = 0
	}
	for _, k := range res.deleted {
		if !bytes.HasPrefix(k, scopesPrefix) {
			continue
		}
		_, rest, err := splitScopeKey(k)
		if err != nil {
			continue
		}
		seg, _, _ := strings.Cut(string(rest), "/")
		if seg == "ev" {
			out.Events++
		} else if kind, ok := r.bySegment(seg); ok {
			out.Records[kind.Field]++
		}
	}
	return out, nil
}

// Import checks a state document completely, with the API's rules, and
// then replaces all stored state with it: what the document does not hold
// is removed. A document with any problem is refused with an
// *InvalidStateError listing all of them, before anything is written; so
// is a document of a newer version. Quotas are not checked: they are
// settings of the server, not of the state. Derived records are rebuilt.
// Written in one transaction unless opts.Batching splits it; see Batching
// for what an interruption leaves.
func (r *Registry) Import(ctx context.Context, store storage.Store, now time.Time, doc []byte, rules Rules, opts ImportOptions) (ImportResult, error) {
	d, err := r.parse(doc, rules)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Accounts: len(d.accounts)}
	puts, err := r.records(d, &res)
	if err != nil {
		return ImportResult{}, err
	}
	out, err := rewrite(ctx, store, now, rewriteOp{
		name:        "import",
		prefix:      bytes.Clone(scopesPrefix),
		onlyIfEmpty: opts.OnlyIfEmpty,
		puts:        puts,
	}, opts.Batching)
	if err != nil {
		return ImportResult{}, err
	}
	res.Skipped, res.Unfinished = out.skipped, out.unfinished
	return res, nil
}
