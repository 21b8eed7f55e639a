package service

import (
	"context"
	"fmt"

	"github.com/elasticache-server/elasticache-server/api"

	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// The operations every kind shares, written once over schema.Table: a
// family's file validates its input, calls these, and renders.

// record is what a kind's table holds: *R for a record struct R.
type record[R any] interface {
	*R
	schema.Record
}

// arn is the ARN AWS gives a record of kind k.
func arn(sc scope, k *kindDecl, name string) string {
	return "arn:aws:elasticache:" + sc.Region + ":" + sc.Account + ":" + k.ARNType + ":" + name
}

// createRecord stores a new record with its tags and its creation event, in one
// transaction: alreadyExists answers a taken name, quotaExceeded a full
// quota, and a request with too many tags fails as AWS does.
func createRecord[R any, P record[R]](ctx context.Context, s *ElastiCache, sc scope, t *schema.Table[R, P], rec P, tags tagSet,
	alreadyExists, quotaExceeded func() error, event string) error {
	return createChecked(ctx, s, sc, t, rec, tags, alreadyExists, quotaExceeded, nil, event)
}

// createChecked is createRecord with the kind's own rules: check, when
// not nil, reads what it needs in the same transaction, after the name and
// the quota, and answers a fault or nil before anything is written.
func createChecked[R any, P record[R]](ctx context.Context, s *ElastiCache, sc scope, t *schema.Table[R, P], rec P, tags tagSet,
	alreadyExists, quotaExceeded func() error, check func(tx storage.Tx) (fault, err error), event string) error {
	quota := s.cfg.quota(sc.Account, t.Kind)
	now := s.clock.Now()
	return s.update(ctx, func(tx storage.Tx) (error, error) {
		taken, err := t.Exists(tx, sc, rec.RecordName())
		if err != nil || taken {
			return alreadyExists(), err
		}
		n, err := t.Count(tx, sc)
		if err != nil {
			return nil, err
		}
		if n >= quota {
			return quotaExceeded(), nil
		}
		if len(tags) > maxTagsPerResource {
			return tagQuotaExceeded(), nil
		}
		if check != nil {
			if fault, err := check(tx); fault != nil || err != nil {
				return fault, err
			}
		}
		if err := t.InsertCounted(tx, sc, rec, n); err != nil {
			return nil, err
		}
		// A new record has no tags stored: only a create with tags
		// writes them (a delete of the absent key would still be a write).
		if len(tags) > 0 {
			if err := schema.PutTags(tx, sc, t.Kind, rec.RecordName(), schema.Tags(tags)); err != nil {
				return nil, err
			}
		}
		return nil, schema.AppendEvent(tx, sc, now, t.Kind, rec.RecordName(), event)
	})
}

// pageReq is a describe's position: after which name, how many.
type pageReq struct {
	op    string
	after string
	limit int
}

// pageRequest checks a describe's MaxRecords and Marker: the members the
// model's paginator of op names (every paginated operation here uses
// these two; an operation without a paginator does not page).
func (s *ElastiCache) pageRequest(op string, sc scope, marker *string, maxRecs *int32) (pageReq, error) {
	if p, ok := api.PaginatorOf(op); !ok || p.InputToken != "Marker" || p.LimitKey != "MaxRecords" {
		return pageReq{}, fmt.Errorf("service: %s does not page by Marker and MaxRecords in the model", op)
	}
	limit, err := maxRecords(maxRecs)
	if err != nil {
		return pageReq{}, err
	}
	pg := pageReq{op: op, limit: limit}
	if marker != nil {
		var ok bool
		if pg.after, ok = s.markers.Open(op, sc, *marker); !ok {
			return pageReq{}, invalid("Marker", "the marker is not valid for this request.")
		}
	}
	return pg, nil
}

// describe reads one record by name (the kind's NotFound when there is
// none), or a page of them with the marker that resumes after it.
func describe[R any, P record[R]](ctx context.Context, s *ElastiCache, sc scope, t *schema.Table[R, P], byName bool, name string, pg pageReq) ([]P, *string, error) {
	return describeWith(ctx, s, sc, t, byName, name, pg, nil)
}

// describeWith is describe that also runs also, when not nil, in the same
// read transaction: what the answer shows beside the records (the groups
// that hold a user) comes from the same state.
func describeWith[R any, P record[R]](ctx context.Context, s *ElastiCache, sc scope, t *schema.Table[R, P], byName bool, name string, pg pageReq,
	also func(tx storage.Tx) error) ([]P, *string, error) {
	var page []P
	more := false
	err := s.view(ctx, func(tx storage.Tx) error {
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		if byName {
			r, err := t.Get(tx, sc, name)
			page = nil
			if r != nil {
				page = []P{r}
			}
			return err
		}
		var err error
		page, more, err = t.Page(tx, sc, pg.after, pg.limit)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if byName && len(page) == 0 {
		return nil, nil, t.Kind.NotFound(name)
	}
	var marker *string
	if more {
		marker = ptr(s.markers.Issue(pg.op, sc, page[len(page)-1].RecordName()))
	}
	return page, marker, nil
}
