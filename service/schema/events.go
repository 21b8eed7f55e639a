package schema

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Events are stored twice over:
//
//	a/{account}/{region}/ev/{inverted time}/{id}   Event
//	x/ev/{time}/{account}/{region}/{inverted time}/{id}   empty: the expiry index
//
// The inverted time (MaxUint64 − UnixNano, hex) makes a forward scan of a
// scope read newest first, which is the order DescribeEvents answers in. The
// expiry index is in time order across all scopes, so removing the events
// past retention is one scan from its start, whatever the number of scopes.

var expiryPrefix = []byte("x/ev/")

// fleetPrefix is where the fleet keeps what it derives from records (the
// work index of service/clusterwork.go): the state document skips it.
var fleetPrefix = []byte("f/")

// Event is one stored event.
type Event struct {
	V          int       `json:"v"`
	Date       time.Time `json:"date"`
	SourceType string    `json:"sourceType"`
	SourceID   string    `json:"sourceId"`
	Message    string    `json:"message"`
}

func eventPrefix(sc Scope) []byte { return sc.key("ev/") }

func timeHex(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano()))
	return hex.EncodeToString(b[:])
}

// InvertedTime is the position of time t among a scope's events, which
// are newest first: events at t come at or after it.
func InvertedTime(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.MaxUint64-uint64(t.UnixNano()))
	return hex.EncodeToString(b[:])
}

// NewEventID returns a random event ID (12 hex digits) that taken does
// not refuse; taken may be nil.
func NewEventID(taken func(string) bool) string {
	for {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		if id := hex.EncodeToString(b[:]); taken == nil || !taken(id) {
			return id
		}
	}
}

// AppendEvent records one event of a kind's record in tx: in the same
// transaction as the change it describes, never one without the other.
func AppendEvent(tx storage.Tx, sc Scope, now time.Time, k *Kind, sourceID, message string) error {
	return putEvent(tx, sc, &Event{Date: now, SourceType: k.Name, SourceID: sourceID, Message: message}, NewEventID(nil))
}

func putEvent(tx storage.Tx, sc Scope, e *Event, id string) error {
	e.V = Version
	pos := InvertedTime(e.Date) + "/" + id
	b, err := encodeEvent(e)
	if err != nil {
		return err
	}
	if err := tx.Put(append(eventPrefix(sc), pos...), b); err != nil {
		return err
	}
	return tx.Put([]byte(string(expiryPrefix)+timeHex(e.Date)+"/"+sc.Account+"/"+sc.Region+"/"+pos), []byte{})
}

// ScanEvents calls fn for the scope's events, newest first, from position
// from (an InvertedTime, or a position ScanEvents gave fn: the events
// after it), until fn returns false. pos is the event's position, which a
// marker can resume after.
func ScanEvents(tx storage.Tx, sc Scope, from string, fn func(pos string, e *Event) (bool, error)) error {
	prefix := eventPrefix(sc)
	return tx.Scan(prefix, append(bytes.Clone(prefix), from...), func(k, v []byte) (bool, error) {
		var e Event
		if err := decodeEvent(v, &e); err != nil {
			return false, err
		}
		return fn(string(k[len(prefix):]), &e)
	})
}

// ExpireEvents removes the events dated before cutoff, at most limit of
// them (0: no limit), and returns how many it removed.
func ExpireEvents(ctx context.Context, store storage.Store, cutoff time.Time, limit int) (int, error) {
	c := timeHex(cutoff)
	// Usually nothing has expired: a read says so without a commit (on
	// bbolt, two fsyncs at every start and every sweep).
	expired := false
	err := store.View(ctx, func(tx storage.Tx) error {
		expired = false
		return tx.Scan(expiryPrefix, nil, func(k, _ []byte) (bool, error) {
			expired = string(k[len(expiryPrefix):])[:16] < c
			return false, nil
		})
	})
	if err != nil || !expired {
		return 0, err
	}
	removed := 0
	err = store.Update(ctx, func(tx storage.Tx) error {
		removed = 0
		var doomed [][]byte
		err := tx.Scan(expiryPrefix, nil, func(k, _ []byte) (bool, error) {
			if string(k[len(expiryPrefix):])[:16] >= c {
				return false, nil
			}
			doomed = append(doomed, bytes.Clone(k))
			return limit == 0 || len(doomed) < limit, nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			// x/ev/{time}/{account}/{region}/{pos...}
			parts := strings.SplitN(string(k[len(expiryPrefix):]), "/", 4)
			if len(parts) != 4 {
				return fmt.Errorf("malformed expiry key %q", k)
			}
			sc := Scope{Account: parts[1], Region: parts[2]}
			if err := tx.Delete(append(eventPrefix(sc), parts[3]...)); err != nil {
				return err
			}
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		removed = len(doomed)
		return nil
	})
	return removed, err
}
