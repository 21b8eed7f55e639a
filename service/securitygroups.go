package service

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

const (
	opDescribeGroups = "DescribeCacheSecurityGroups"
	paramGroupName   = "CacheSecurityGroupName"
)

func groupNotFound(name string) error {
	return &api.CacheSecurityGroupNotFoundFault{Message: fmt.Sprintf("CacheSecurityGroup %s not found.", name)}
}

// securityGroupKind declares cache security groups to the schema layer.
var securityGroupKind = &kindDecl{
	Name:         "cache-security-group",
	Noun:         "group",
	Segment:      "csg",
	ARNType:      "securitygroup",
	Field:        fieldSecurityGroups,
	DefaultQuota: 50,
	NotFound:     groupNotFound,
	Virtual:      []string{defaultGroupName},
	ValidName:    func(n string) (string, error) { return stateName(groupName("name", &n)) },
	State:        schema.Section{Export: exportGroup, Parse: parseGroup},
}

// securityGroups is the table of cache security groups. The `default`
// group every account and region has is virtual: not stored until
// something changes it, so that state does not grow with every access
// key or region a client invents.
var securityGroups = schema.NewTable[groupRecord](securityGroupKind, func(sc scope, name string) *groupRecord {
	return &groupRecord{Name: defaultGroupName, Description: defaultGroupName}
})

// groupRecord is a stored cache security group.
type groupRecord struct {
	schema.Meta
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Created     time.Time   `json:"created"`
	EC2         []ec2Record `json:"ec2,omitempty"`
}

// RecordName is the group's name.
func (r *groupRecord) RecordName() string { return r.Name }

// ec2Record is one EC2 security group entry. Its status is derived from the
// timestamps and the clock when read, so transitions need no worker and
// survive restarts.
type ec2Record struct {
	Name       string     `json:"name"`
	Owner      string     `json:"owner"`
	Authorized time.Time  `json:"authorized"`
	Revoked    *time.Time `json:"revoked,omitempty"`
}

func modernAccountError() error {
	return api.InvalidParameterValue("Use of cache security groups is not permitted in this API version for your account.")
}

// classic refuses the security group family to accounts configured as
// modern, as AWS does since EC2-Classic's retirement.
func (s *ElastiCache) classic(sc scope) error {
	if s.cfg.modern(sc.Account) {
		return modernAccountError()
	}
	return nil
}

// groupARN is the ARN AWS gives a cache security group.
func groupARN(sc scope, name string) string { return arn(sc, securityGroupKind, name) }

// ec2Status derives an entry's status at now: transitional until the delay
// has passed since the last change, then final. gone reports a revoked entry
// whose revocation has completed.
func ec2Status(e ec2Record, now time.Time, delay time.Duration) (status string, gone bool) {
	if e.Revoked != nil {
		if now.Sub(*e.Revoked) >= delay {
			return "", true
		}
		return "revoking", false
	}
	if now.Sub(e.Authorized) >= delay {
		return "authorized", false
	}
	return "authorizing", false
}

// render shows a group as AWS does at now. status, when not nil, may
// name the status of an entry the request just changed: its answer shows
// the transitional state even when, with no transition delay, a read at
// the same instant would show the final one.
func (s *ElastiCache) render(sc scope, r *groupRecord, now time.Time, status func(ec2Record) string) *api.CacheSecurityGroup {
	ec2 := make([]api.EC2SecurityGroup, 0, len(r.EC2))
	for _, e := range r.EC2 {
		st, gone := ec2Status(e, now, s.cfg.TransitionDelay)
		if status != nil {
			if changed := status(e); changed != "" {
				st, gone = changed, false
			}
		}
		if gone {
			continue
		}
		ec2 = append(ec2, api.EC2SecurityGroup{
			EC2SecurityGroupName:    ptr(e.Name),
			EC2SecurityGroupOwnerId: ptr(e.Owner),
			Status:                  ptr(st),
		})
	}
	return &api.CacheSecurityGroup{
		ARN:                    ptr(groupARN(sc, r.Name)),
		CacheSecurityGroupName: ptr(r.Name),
		Description:            ptr(r.Description),
		EC2SecurityGroups:      ec2,
		OwnerId:                ptr(sc.Account),
	}
}

// CreateCacheSecurityGroup creates a group in the caller's account and
// region, with its tags, in one transaction.
func (s *ElastiCache) CreateCacheSecurityGroup(ctx context.Context, in *api.CreateCacheSecurityGroupInput) (*api.CreateCacheSecurityGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := groupName(paramGroupName, in.CacheSecurityGroupName)
	if err != nil {
		return nil, err
	}
	desc, err := description(in.Description)
	if err != nil {
		return nil, err
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	if name == defaultGroupName {
		return nil, invalid(paramGroupName, "the name default is reserved for the default cache security group.")
	}
	if err := s.classic(sc); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	rec := &groupRecord{Name: name, Description: desc, Created: now}
	err = createRecord(ctx, s, sc, securityGroups, rec, tags, func() error {
		return &api.CacheSecurityGroupAlreadyExistsFault{Message: fmt.Sprintf("CacheSecurityGroup %s already exists.", name)}
	}, func() error {
		return &api.CacheSecurityGroupQuotaExceededFault{Message: "Quota exceeded for cache security groups."}
	}, "Cache security group created")
	if err != nil {
		return nil, err
	}
	return &api.CreateCacheSecurityGroupOutput{CacheSecurityGroup: s.render(sc, rec, now, nil)}, nil
}

// DescribeCacheSecurityGroups returns one group by name, or a page of the
// caller's groups in name order with `default` among them.
func (s *ElastiCache) DescribeCacheSecurityGroups(ctx context.Context, in *api.DescribeCacheSecurityGroupsInput) (*api.DescribeCacheSecurityGroupsOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	var name string
	if in.CacheSecurityGroupName != nil {
		if name, err = groupName(paramGroupName, in.CacheSecurityGroupName); err != nil {
			return nil, err
		}
	}
	pg, err := s.pageRequest(opDescribeGroups, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	if err := s.classic(sc); err != nil {
		return nil, err
	}
	recs, marker, err := describe(ctx, s, sc, securityGroups, in.CacheSecurityGroupName != nil, name, pg)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeCacheSecurityGroupsOutput{CacheSecurityGroups: make([]api.CacheSecurityGroup, 0, len(recs)), Marker: marker}
	now := s.clock.Now()
	for _, r := range recs {
		out.CacheSecurityGroups = append(out.CacheSecurityGroups, *s.render(sc, r, now, nil))
	}
	return out, nil
}

// DeleteCacheSecurityGroup deletes a group and its tags. Its events stay
// until they expire.
func (s *ElastiCache) DeleteCacheSecurityGroup(ctx context.Context, in *api.DeleteCacheSecurityGroupInput) (*api.DeleteCacheSecurityGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := groupName(paramGroupName, in.CacheSecurityGroupName)
	if err != nil {
		return nil, err
	}
	if name == defaultGroupName {
		return nil, api.InvalidParameterValue("The default cache security group cannot be deleted.")
	}
	if err := s.classic(sc); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		rec, err := securityGroups.GetStored(tx, sc, name)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return groupNotFound(name), nil
		}
		for _, e := range rec.EC2 {
			if st, gone := ec2Status(e, now, s.cfg.TransitionDelay); !gone && st != "authorized" {
				return &api.InvalidCacheSecurityGroupStateFault{Message: fmt.Sprintf("CacheSecurityGroup %s has EC2 security groups that are %s.", name, st)}, nil
			}
		}
		user, err := clusterUsing(tx, sc, func(c *cacheClusterRecord) bool { return slices.Contains(c.CacheSecurityGroups, name) })
		if err != nil || user != "" {
			return &api.InvalidCacheSecurityGroupStateFault{Message: fmt.Sprintf("One or more cache clusters are still members of cache security group %s, so the group cannot be deleted.", name)}, err
		}
		if err := securityGroups.Delete(tx, sc, name); err != nil {
			return nil, err
		}
		return nil, schema.AppendEvent(tx, sc, now, securityGroupKind, name, "Cache security group deleted")
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteCacheSecurityGroupOutput{}, nil
}

// exportGroup is a group's item in the state document.
func exportGroup(b []byte, tags schema.Tags) (any, error) {
	r, err := schema.Decode[groupRecord](b)
	if err != nil {
		return nil, err
	}
	g := stateGroup{Name: r.Name, Description: r.Description, EC2SecurityGroups: []stateEC2{}, Tags: schema.TagList(tags)}
	if !r.Created.IsZero() {
		g.Created = ptr(r.Created.UTC())
	}
	for _, e := range r.EC2 {
		x := stateEC2{Name: e.Name, OwnerID: e.Owner, Authorized: e.Authorized.UTC()}
		if e.Revoked != nil {
			x.Revoked = ptr(e.Revoked.UTC())
		}
		g.EC2SecurityGroups = append(g.EC2SecurityGroups, x)
	}
	return g, nil
}

// stateGroup is a group in the state document. Field order is output
// order; lists are never omitted.
type stateGroup struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Created is absent for a default group that was stored when it was
	// first changed: it was never created.
	Created           *time.Time   `json:"created,omitempty"`
	EC2SecurityGroups []stateEC2   `json:"ec2SecurityGroups"`
	Tags              []schema.Tag `json:"tags"`
}

type stateEC2 struct {
	Name       string     `json:"name"`
	OwnerID    string     `json:"ownerId"`
	Authorized time.Time  `json:"authorized"`
	Revoked    *time.Time `json:"revoked,omitempty"`
}

// parseGroup reads a group of a state document with the API's rules.
func parseGroup(p *schema.Parser, path string, v any) (item schema.Item, ok, nameOK bool) {
	o, ok := p.Object(path, v, "name", "description", "created", "ec2SecurityGroups", "tags")
	if !ok {
		return schema.Item{}, false, false
	}
	n := p.Found()
	h := parseItemHead(p, path, o, groupNameRule)
	rec := &groupRecord{Name: h.name, Description: h.description, Created: h.created}
	nameOK = h.nameOK
	if rec.Name == defaultGroupName && rec.Description != "" && rec.Description != defaultGroupName {
		p.Add(path+".description", "the default group's description is always %q", defaultGroupName)
	}
	type entryKey struct{ name, owner string }
	rec.EC2, _ = schema.UniqueList(rec.EC2, path, "ec2SecurityGroups", p.List(path, o, "ec2SecurityGroups", false),
		func(path string, v any) (ec2Record, bool, bool) { return parseEC2(p, path, v) },
		func(e ec2Record) (entryKey, bool) { return entryKey{e.Name, e.Owner}, true },
		func(epath string, e ec2Record, first string) {
			p.Add(epath, "EC2 security group %s (owner %s) is also %s", e.Name, e.Owner, first)
		})
	tags := p.Tags(path, o)
	b, err := schema.Encode(rec)
	if err != nil {
		p.Add(path, "%v", err)
	}
	return schema.Item{Name: rec.Name, Record: b, Tags: tags}, p.Found() == n, nameOK
}

func parseEC2(p *schema.Parser, path string, v any) (e ec2Record, ok, idOK bool) {
	o, ok := p.Object(path, v, "name", "ownerId", "authorized", "revoked")
	if !ok {
		return ec2Record{}, false, false
	}
	n := p.Found()
	nameOK, ownerOK := false, false
	if name, ok := p.Str(path, o, "name", true); ok {
		switch {
		case name == "":
			p.Add(path+".name", "must not be empty")
		case utf8.RuneCountInString(name) > maxEC2GroupNameLen:
			p.Add(path+".name", "must be at most %d characters", maxEC2GroupNameLen)
		default:
			nameOK = true
		}
		e.Name = name
	}
	if owner, ok := p.Str(path, o, "ownerId", true); ok {
		if !api.IsAccountID(owner) {
			p.Add(path+".ownerId", "must be a 12-digit AWS account ID, not %s", schema.Quote(owner))
		}
		e.Owner, ownerOK = owner, api.IsAccountID(owner)
	}
	e.Authorized, _ = p.Time(path, o, "authorized", true)
	if t, ok := p.Time(path, o, "revoked", false); ok {
		if t.Before(e.Authorized) {
			p.Add(path+".revoked", "must not be before authorized")
		}
		e.Revoked = &t
	}
	return e, p.Found() == n, nameOK && ownerOK
}
