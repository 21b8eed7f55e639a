package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Events are stored twice over:
//
//	a/{account}/{region}/ev/{inverted time}/{id}   eventRecord
//	x/ev/{time}/{account}/{region}/{inverted time}/{id}   empty: the expiry index
//
// The inverted time (MaxUint64 − UnixNano, hex) makes a forward scan of a
// scope read newest first, which is the order DescribeEvents answers in. The
// expiry index is in time order across all scopes, so removing the events
// past retention is one scan from its start, whatever the number of scopes.

// EventRetention is how long events are kept before they are removed from
// storage, as AWS documents.
const EventRetention = 14 * 24 * time.Hour

const (
	sourceTypeGroup    = "cache-security-group"
	opDescribeEvents   = "DescribeEvents"
	defaultEventWindow = 60 * time.Minute
	maxDurationMinutes = 20160
)

var expiryPrefix = []byte("x/ev/")

type eventRecord struct {
	V          int       `json:"v"`
	Date       time.Time `json:"date"`
	SourceType string    `json:"sourceType"`
	SourceID   string    `json:"sourceId"`
	Message    string    `json:"message"`
}

func (sc scope) eventPrefix() []byte { return []byte(sc.prefix() + "ev/") }

func timeHex(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano()))
	return hex.EncodeToString(b[:])
}

func invertedHex(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.MaxUint64-uint64(t.UnixNano()))
	return hex.EncodeToString(b[:])
}

// putEvent records one event of a security group in tx: in the same
// transaction as the change it describes, never one without the other.
func (s *ElastiCache) putEvent(tx storage.Tx, sc scope, now time.Time, group, message string) error {
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return fmt.Errorf("event id: %w", err)
	}
	pos := invertedHex(now) + "/" + hex.EncodeToString(id[:])
	b, err := encodeEvent(&eventRecord{V: SchemaVersion, Date: now, SourceType: sourceTypeGroup, SourceID: group, Message: message})
	if err != nil {
		return err
	}
	if err := tx.Put(append(sc.eventPrefix(), pos...), b); err != nil {
		return err
	}
	return tx.Put([]byte(string(expiryPrefix)+timeHex(now)+"/"+sc.account+"/"+sc.region+"/"+pos), nil)
}

// ExpireEvents removes from storage the events older than EventRetention,
// at most limit of them (0: no limit), and returns how many it removed.
// The server calls it periodically; reads never show expired events either.
func (s *ElastiCache) ExpireEvents(ctx context.Context, limit int) (int, error) {
	cutoff := timeHex(s.clock.Now().Add(-EventRetention))
	// Usually nothing has expired: a read says so without a commit (on
	// bbolt, two fsyncs at every start and every sweep).
	expired := false
	err := s.store.View(ctx, func(tx storage.Tx) error {
		expired = false
		return tx.Scan(expiryPrefix, nil, func(k, _ []byte) (bool, error) {
			expired = string(k[len(expiryPrefix):])[:16] < cutoff
			return false, nil
		})
	})
	if err != nil || !expired {
		return 0, storeError(err)
	}
	removed := 0
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		removed = 0
		var doomed [][]byte
		err := tx.Scan(expiryPrefix, nil, func(k, _ []byte) (bool, error) {
			rest := string(k[len(expiryPrefix):])
			if rest[:16] >= cutoff {
				return false, nil
			}
			doomed = append(doomed, append([]byte(nil), k...))
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
			sc := scope{account: parts[1], region: parts[2]}
			if err := tx.Delete(append(sc.eventPrefix(), parts[3]...)); err != nil {
				return err
			}
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		removed = len(doomed)
		return nil
	})
	return removed, storeError(err)
}

// eventWindow resolves StartTime, EndTime and Duration into [start, end].
func eventWindow(in *api.DescribeEventsInput, now time.Time) (start, end time.Time, err error) {
	if in.StartTime != nil && in.EndTime != nil && in.Duration != nil {
		return start, end, api.InvalidParameterCombination("StartTime, EndTime and Duration cannot all be specified.")
	}
	var d time.Duration
	if in.Duration != nil {
		if *in.Duration < 1 || *in.Duration > maxDurationMinutes {
			return start, end, invalid("Duration", fmt.Sprintf("must be between 1 and %d minutes.", maxDurationMinutes))
		}
		d = time.Duration(*in.Duration) * time.Minute
	}
	switch {
	case in.StartTime != nil && in.EndTime != nil:
		start, end = *in.StartTime, *in.EndTime
	case in.StartTime != nil && d > 0:
		start, end = *in.StartTime, in.StartTime.Add(d)
	case in.EndTime != nil && d > 0:
		start, end = in.EndTime.Add(-d), *in.EndTime
	case in.StartTime != nil:
		start, end = *in.StartTime, now
	case in.EndTime != nil:
		start, end = now.Add(-EventRetention), *in.EndTime
	case d > 0:
		start, end = now.Add(-d), now
	default:
		start, end = now.Add(-defaultEventWindow), now
	}
	if in.StartTime != nil && in.EndTime != nil && start.After(end) {
		return start, end, invalid("StartTime", "must not be after EndTime.")
	}
	// A window that a lone StartTime puts in the future is empty, not an
	// error: the caller named no EndTime to contradict.
	return start, end, nil
}

// sourceTypes are the model's SourceType values.
var sourceTypes = []string{"cache-cluster", "cache-parameter-group", "cache-security-group", "cache-subnet-group",
	"replication-group", "serverless-cache", "serverless-cache-snapshot", "user", "user-group"}

// DescribeEvents returns the caller's events in a time window, newest first.
func (s *ElastiCache) DescribeEvents(ctx context.Context, in *api.DescribeEventsInput) (*api.DescribeEventsOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if in.SourceType != nil && !contains(sourceTypes, *in.SourceType) {
		return nil, invalid("SourceType", "must be one of "+strings.Join(sourceTypes, ", ")+".")
	}
	if in.SourceIdentifier != nil && in.SourceType == nil {
		return nil, api.InvalidParameterCombination("SourceIdentifier requires SourceType.")
	}
	start, end, err := eventWindow(in, now)
	if err != nil {
		return nil, err
	}
	limit, err := maxRecords(in.MaxRecords)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.Marker != nil {
		var ok bool
		if after, ok = s.markers.open(opDescribeEvents, sc, *in.Marker); !ok {
			return nil, invalid("Marker", "the marker is not valid for this request.")
		}
	}
	var sourceID string
	if in.SourceIdentifier != nil {
		sourceID = *in.SourceIdentifier
		if *in.SourceType == sourceTypeGroup {
			sourceID = strings.ToLower(sourceID) // group names match case-insensitively
		}
	}
	if oldest := now.Add(-EventRetention); start.Before(oldest) {
		start = oldest // expired events are never shown, removed or not
	}
	// Newest first: begin at the inverted end time (or after the marker)
	// and stop once events are older than start.
	from := []byte(invertedHex(end.Add(time.Nanosecond)))
	if after != "" && after > string(from) {
		from = []byte(after)
	}
	prefix := sc.eventPrefix()
	var page []api.Event
	var last string
	more := false
	err = s.view(ctx, func(tx storage.Tx) error {
		page, last, more = page[:0], "", false
		return tx.Scan(prefix, append(append([]byte(nil), prefix...), from...), func(k, v []byte) (bool, error) {
			var r eventRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return false, fmt.Errorf("decode event: %w", err)
			}
			if r.Date.Before(start) {
				return false, nil
			}
			if r.Date.After(end) {
				return true, nil
			}
			if in.SourceType != nil && r.SourceType != *in.SourceType || in.SourceIdentifier != nil && r.SourceID != sourceID {
				return true, nil
			}
			if len(page) == limit {
				more = true
				return false, nil
			}
			page = append(page, api.Event{Date: ptr(r.Date), Message: ptr(r.Message), SourceIdentifier: ptr(r.SourceID), SourceType: ptr(r.SourceType)})
			last = string(bytes.TrimPrefix(k, prefix))
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeEventsOutput{Events: page}
	if out.Events == nil {
		out.Events = []api.Event{}
	}
	if more {
		out.Marker = ptr(s.markers.issue(opDescribeEvents, sc, last))
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
