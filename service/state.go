package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// The state document (docs/STATE.md): every account and region the service
// stores, as one versioned JSON value. The machinery is the schema
// layer's; each kind declares its section beside its operations. These
// are the service's entry points, with the API's rules.

// StateFormat is the "format" of every state document.
const StateFormat = schema.StateFormat

// StateVersion is the document version this server writes and the newest
// it reads.
const StateVersion = schema.StateVersion

// ErrUnfinished is wrapped by ExportState when an import or reset written in
// several transactions (etcd) did not finish; see schema.ErrUnfinished.
var ErrUnfinished = schema.ErrUnfinished

// ErrInvalidAccount is wrapped by Reset when the account is not a 12-digit
// AWS account ID.
var ErrInvalidAccount = errors.New("not a 12-digit AWS account ID")

type (
	// InvalidStateError is ImportState's answer to a document it refuses.
	InvalidStateError = schema.InvalidStateError
	// Problem is one thing wrong with a state document.
	Problem = schema.Problem
	// ImportOptions are ImportState's settings.
	ImportOptions = schema.ImportOptions
	// ImportResult says what ImportState did.
	ImportResult = schema.ImportResult
	// ResetResult counts what Reset removed.
	ResetResult = schema.ResetResult
	// Batching bounds the transactions ImportState and Reset write in.
	Batching = schema.Batching
)

// stateRules are the API's checks, applied to a document's values too.
var stateRules = schema.Rules{
	Tag: func(key, value string) error {
		if _, err := requestTags("tag", []api.Tag{{Key: &key, Value: &value}}); err != nil {
			return errors.New(rule(err))
		}
		return nil
	},
	MaxTags:     maxTagsPerResource,
	TooManyTags: tagQuotaExceeded().(api.Fault).ErrorMessage(),
	SourceTypes: sourceTypes,
	IsAccountID: api.IsAccountID,
	IsRegion:    isRegion,
}

// ExportState returns the state document of the whole store, read in one
// consistent transaction. The same state always gives the same bytes. It
// fails wrapping ErrUnfinished while an interrupted import or reset is
// pending, and refuses a store holding a key it does not know rather
// than leave it out.
func (s *ElastiCache) ExportState(ctx context.Context) ([]byte, error) {
	var doc []byte
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		doc, err = s.kinds.Export(tx)
		return err
	})
	return doc, err
}

// ImportState checks a state document completely, with the rules the API
// applies to the same values, and then replaces all stored state with it.
// A document with any problem is refused with an *InvalidStateError
// listing all of them, before anything is written.
func (s *ElastiCache) ImportState(ctx context.Context, doc []byte, opts ImportOptions) (ImportResult, error) {
	return s.kinds.Import(ctx, s.store, s.clock.Now(), doc, stateRules, opts)
}

// ValidateState checks a state document as ImportState does, without a
// store: nil, or an *InvalidStateError listing the problems.
func ValidateState(doc []byte) error {
	kinds, err := newRegistry()
	if err != nil {
		return err
	}
	return kinds.Validate(doc, stateRules)
}

// Reset removes every record, tag and event of one account in every
// region, or of all accounts when account is "". An invalid account fails
// wrapping ErrInvalidAccount before anything is read. One transaction
// unless b splits it; see Batching.
func (s *ElastiCache) Reset(ctx context.Context, account string, b Batching) (ResetResult, error) {
	if account != "" && !api.IsAccountID(account) {
		return ResetResult{}, fmt.Errorf("reset: %q: %w", account, ErrInvalidAccount)
	}
	return s.kinds.Reset(ctx, s.store, s.clock.Now(), account, b)
}

// rule is the message of a validation fault from the API's own checks,
// without the parameter it names: a document's path says where.
func rule(err error) string {
	var f api.Fault
	msg := err.Error()
	if errors.As(err, &f) {
		msg = f.ErrorMessage()
	}
	if _, after, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "Invalid value for parameter ") {
		return after
	}
	return msg
}

// itemHead is what every kind's item in a state document begins with.
type itemHead struct {
	name, description string
	created           time.Time
	nameOK            bool
}

// parseItemHead reads an item's name with the kind's API rule (which
// returns its stored form), its description and its creation time, when
// present.
func parseItemHead(p *schema.Parser, path string, o schema.Object, validName func(*string) (string, error)) (h itemHead) {
	if raw, ok := p.Str(path, o, "name", true); ok {
		name, err := validName(&raw)
		if err != nil {
			p.Add(path+".name", "%s", rule(err))
		}
		h.name, h.nameOK = name, err == nil
	}
	if raw, ok := p.Str(path, o, "description", true); ok {
		d, err := description(&raw)
		if err != nil {
			p.Add(path+".description", "%s", rule(err))
		}
		h.description = d
	}
	if t, ok := p.Time(path, o, "created", false); ok {
		h.created = t
	}
	return h
}

// groupNameRule is the name rule of security and subnet groups in a
// state document: letters, digits, hyphens; stored lowercase.
func groupNameRule(raw *string) (string, error) { return groupName("name", raw) }

// stateName is a name validator's answer with the error as a document's
// problem says it.
func stateName(name string, err error) (string, error) {
	if err != nil {
		return "", errors.New(rule(err))
	}
	return name, nil
}

// isRegion is sigv4.IsRegion, which service may not import: lowercase
// letter groups joined by hyphens, ending in a number (us-east-1,
// us-gov-west-1). It also keeps '/' out of the keys a region is part of.
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(s) > 32 || len(parts) < 3 {
		return false
	}
	for i, part := range parts {
		if part == "" {
			return false
		}
		last := i == len(parts)-1
		for j := 0; j < len(part); j++ {
			c := part[j]
			if last && !(c >= '0' && c <= '9') || !last && !(c >= 'a' && c <= 'z') {
				return false
			}
		}
	}
	return true
}
