package schema

import (
	"fmt"
	"slices"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Kind declares one resource type: everything the machinery needs to
// store it, tag it, count it, describe its events and move it in and out
// of a state document. A service file declares its kind once and builds
// its Table from it; the Registry holds every kind the service stores.
type Kind struct {
	// Name is AWS's source type (cache-security-group): the SourceType of
	// the kind's events and the label of its metrics.
	Name string
	// Noun is what problems of a state document call one record
	// ("group", "subnet group").
	Noun string
	// Segment is the key segment of its records (csg).
	Segment string
	// ARNType is the resource type of its ARNs (securitygroup).
	ARNType string
	// Field is its list in the state document (cacheSecurityGroups), and
	// the name of its quota in --quota and the config file, and of its
	// count in import and reset answers.
	Field string
	// DefaultQuota is AWS's default number per account and region;
	// virtual records do not count.
	DefaultQuota int
	// NotFound is the kind's fault for a name that names nothing.
	NotFound func(name string) error
	// Virtual names records that exist in every scope without being
	// stored (the `default` security group), until something changes
	// them. Sorted.
	Virtual []string
	// RefuseVirtualTags, when set, is the fault for a tag change on a
	// virtual record. When nil, virtual records take tags: the record is
	// stored, with its tags, at the first change.
	RefuseVirtualTags func(name string) error
	// ValidName checks a name as the API does and returns its stored
	// form (lowercase where AWS lowercases). Events and state documents
	// use it too.
	ValidName func(name string) (string, error)
	// State is the kind's section of the state document.
	State Section
	// Gone, when set, tells whether a stored record has stopped existing
	// by now without being removed yet (a deletion that completes over
	// time); Live then answers false for it, so that the kind-generic
	// operations (tags) answer NotFound as the kind's own operations do.
	Gone func(r Record, now time.Time) bool

	// table is the kind's Table, set by NewTable.
	table tableOps
}

// tableOps is what the kind-generic machinery needs of a Table.
type tableOps interface {
	Exists(tx storage.Tx, sc Scope, name string) (bool, error)
	materialize(tx storage.Tx, sc Scope, name string) error
	generatedCodec() bool
	record(tx storage.Tx, sc Scope, name string) (Record, error)
}

// Live reports whether name names a record that exists at now: stored or
// virtual, and not Gone.
func (k *Kind) Live(tx storage.Tx, sc Scope, name string, now time.Time) (bool, error) {
	ok, err := k.table.Exists(tx, sc, name)
	if err != nil || !ok || k.Gone == nil || k.IsVirtual(name) {
		return ok, err
	}
	r, err := k.table.record(tx, sc, name)
	if err != nil || r == nil {
		return false, err
	}
	return !k.Gone(r, now), nil
}

// GeneratedCodec reports whether the kind's record type has the codecs
// internal/recordgen generates (else its records go through encoding/json
// alone: correct, but slower; a test holds every kind to it).
func (k *Kind) GeneratedCodec() bool { return k.table != nil && k.table.generatedCodec() }

// IsVirtual reports whether name is one of the kind's virtual records.
func (k *Kind) IsVirtual(name string) bool {
	_, ok := slices.BinarySearch(k.Virtual, name)
	return ok
}

// Registry is the set of kinds a service stores, looked up by ARN type,
// segment and name. It is built once and never changes.
type Registry struct {
	kinds   []*Kind
	byARN   map[string]*Kind
	bySeg   map[string]*Kind
	byName  map[string]*Kind
	byField map[string]*Kind
}

// reservedSegments are the scope's own key segments.
var reservedSegments = []string{"n", "t", "ev"}

// NewRegistry checks the declarations and returns their registry. A
// declaration that clashes with another is a programming error, reported
// at start-up.
func NewRegistry(kinds ...*Kind) (*Registry, error) {
	r := &Registry{byARN: map[string]*Kind{}, bySeg: map[string]*Kind{}, byName: map[string]*Kind{}, byField: map[string]*Kind{}}
	for _, k := range kinds {
		switch {
		case k.Name == "" || k.Segment == "" || k.ARNType == "" || k.Field == "":
			return nil, fmt.Errorf("schema: kind %q is missing a name, segment, ARN type or field", k.Name)
		case k.NotFound == nil || k.ValidName == nil:
			return nil, fmt.Errorf("schema: kind %q has no NotFound or ValidName", k.Name)
		case k.table == nil:
			return nil, fmt.Errorf("schema: kind %q has no table", k.Name)
		case k.State.Export == nil || k.State.Parse == nil:
			return nil, fmt.Errorf("schema: kind %q has no state section", k.Name)
		case slices.Contains(reservedSegments, k.Segment):
			return nil, fmt.Errorf("schema: kind %q uses the reserved segment %q", k.Name, k.Segment)
		case !slices.IsSorted(k.Virtual):
			return nil, fmt.Errorf("schema: kind %q: Virtual is not sorted", k.Name)
		}
		for _, seg := range k.Segment {
			if seg < 'a' || seg > 'z' {
				return nil, fmt.Errorf("schema: kind %q: segment %q is not lowercase letters", k.Name, k.Segment)
			}
		}
		for _, idx := range []struct {
			m   map[string]*Kind
			key string
		}{{r.byARN, k.ARNType}, {r.bySeg, k.Segment}, {r.byName, k.Name}, {r.byField, k.Field}} {
			if other, dup := idx.m[idx.key]; dup {
				return nil, fmt.Errorf("schema: kinds %q and %q share %q", other.Name, k.Name, idx.key)
			}
			idx.m[idx.key] = k
		}
		r.kinds = append(r.kinds, k)
	}
	return r, nil
}

// Kinds returns the kinds in declaration order.
func (r *Registry) Kinds() []*Kind { return r.kinds }

// ByARNType returns the kind whose ARNs have this resource type.
func (r *Registry) ByARNType(t string) (*Kind, bool) { k, ok := r.byARN[t]; return k, ok }

// ByName returns the kind of this source type.
func (r *Registry) ByName(name string) (*Kind, bool) { k, ok := r.byName[name]; return k, ok }

// bySegment returns the kind stored under this segment.
func (r *Registry) bySegment(seg string) (*Kind, bool) { k, ok := r.bySeg[seg]; return k, ok }
