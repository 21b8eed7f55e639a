package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// EventRetention is how long events are kept before they are removed from
// storage, as AWS documents.
const EventRetention = 14 * 24 * time.Hour

const (
	opDescribeEvents   = "DescribeEvents"
	defaultEventWindow = 60 * time.Minute
	maxDurationMinutes = 20160
)

// ExpireEvents removes from storage the events older than EventRetention,
// at most limit of them (0: no limit), and returns how many it removed.
// The server calls it periodically; reads never show expired events either.
func (s *ElastiCache) ExpireEvents(ctx context.Context, limit int) (int, error) {
	n, err := schema.ExpireEvents(ctx, s.store, s.clock.Now().Add(-EventRetention), limit)
	return n, storeError(err)
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
	pg, err := s.pageRequest(opDescribeEvents, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	var sourceID string
	if in.SourceIdentifier != nil {
		sourceID = *in.SourceIdentifier
		if k, ok := s.kinds.ByName(*in.SourceType); ok {
			// Records are matched by their stored name, as their own
			// describe matches them (lowercase where AWS lowercases).
			if name, err := k.ValidName(sourceID); err == nil {
				sourceID = name
			}
		}
	}
	if oldest := now.Add(-EventRetention); start.Before(oldest) {
		start = oldest // expired events are never shown, removed or not
	}
	// Newest first: begin at the inverted end time (or after the marker)
	// and stop once events are older than start.
	from := schema.InvertedTime(end.Add(time.Nanosecond))
	if pg.after != "" && pg.after > from {
		from = pg.after
	}
	var page []api.Event
	var last string
	more := false
	err = s.view(ctx, func(tx storage.Tx) error {
		page, last, more = page[:0], "", false
		return schema.ScanEvents(tx, sc, from, func(pos string, r *schema.Event) (bool, error) {
			if r.Date.Before(start) {
				return false, nil
			}
			if r.Date.After(end) {
				return true, nil
			}
			if in.SourceType != nil && r.SourceType != *in.SourceType || in.SourceIdentifier != nil && r.SourceID != sourceID {
				return true, nil
			}
			if len(page) == pg.limit {
				more = true
				return false, nil
			}
			page = append(page, api.Event{Date: ptr(r.Date), Message: ptr(r.Message), SourceIdentifier: ptr(r.SourceID), SourceType: ptr(r.SourceType)})
			last = pos
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
		out.Marker = ptr(s.markers.Issue(opDescribeEvents, sc, last))
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
