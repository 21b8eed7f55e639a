package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

const (
	opDescribeGroups = "DescribeCacheSecurityGroups"
	paramGroupName   = "CacheSecurityGroupName"
)

func groupNotFound(name string) error {
	return &api.CacheSecurityGroupNotFoundFault{Message: fmt.Sprintf("CacheSecurityGroup %s not found.", name)}
}

func modernAccountError() error {
	return api.InvalidParameterValue("Use of cache security groups is not permitted in this API version for your account.")
}

// classic refuses the security group family to accounts configured as
// modern, as AWS does since EC2-Classic's retirement.
func (s *ElastiCache) classic(sc scope) error {
	if s.cfg.modern(sc.account) {
		return modernAccountError()
	}
	return nil
}

// groupARN is the ARN AWS gives a cache security group.
func groupARN(sc scope, name string) string {
	return "arn:aws:elasticache:" + sc.region + ":" + sc.account + ":securitygroup:" + name
}

// virtualDefault is the `default` group every account and region has. It is
// not stored until something changes it, so that state does not grow with
// every access key or region a client invents.
func virtualDefault() *groupRecord {
	return &groupRecord{Name: defaultGroupName, Description: defaultGroupName}
}

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

// toAPI renders a record as AWS shows it at now.
func (s *ElastiCache) toAPI(sc scope, r *groupRecord, now time.Time) *api.CacheSecurityGroup {
	g := s.renderValue(sc, r, now, nil)
	return &g
}

// render is toAPI where status may name the status of an entry the request
// just changed: its answer shows the transitional state even when, with no
// transition delay, a read at the same instant would show the final one.
func (s *ElastiCache) render(sc scope, r *groupRecord, now time.Time, status func(ec2Record) string) *api.CacheSecurityGroup {
	g := s.renderValue(sc, r, now, status)
	return &g
}

// renderValue is render without the final allocation, for pages that hold
// groups by value.
func (s *ElastiCache) renderValue(sc scope, r *groupRecord, now time.Time, status func(ec2Record) string) api.CacheSecurityGroup {
	return s.renderInto(sc, r, now, status, &groupStrings{})
}

// groupStrings holds the strings a rendered group points to, so that a
// page allocates them for all its groups at once and a describe of one
// group together with its answer.
type groupStrings struct{ arn, name, description, owner string }

// renderInto is renderValue with the group's strings kept in v. Each EC2
// entry's strings share one allocation: a page of 100 is most of a
// describe's allocations.
func (s *ElastiCache) renderInto(sc scope, r *groupRecord, now time.Time, status func(ec2Record) string, v *groupStrings) api.CacheSecurityGroup {
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
		v := &struct{ name, owner, status string }{e.Name, e.Owner, st}
		ec2 = append(ec2, api.EC2SecurityGroup{
			EC2SecurityGroupName:    &v.name,
			EC2SecurityGroupOwnerId: &v.owner,
			Status:                  &v.status,
		})
	}
	*v = groupStrings{groupARN(sc, r.Name), r.Name, r.Description, sc.account}
	return api.CacheSecurityGroup{
		ARN:                    &v.arn,
		CacheSecurityGroupName: &v.name,
		Description:            &v.description,
		EC2SecurityGroups:      ec2,
		OwnerId:                &v.owner,
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
	if len(tags) > 0 {
		rec.Tags = tags
	}
	quota := s.cfg.groupQuota(sc.account)
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		existing, err := getGroup(tx, sc, name)
		if err != nil {
			return nil, err
		}
		if existing != nil {
			return &api.CacheSecurityGroupAlreadyExistsFault{Message: fmt.Sprintf("CacheSecurityGroup %s already exists.", name)}, nil
		}
		n, err := getCount(tx, sc.groupCountKey())
		if err != nil {
			return nil, err
		}
		if n >= quota {
			return &api.CacheSecurityGroupQuotaExceededFault{Message: "Quota exceeded for cache security groups."}, nil
		}
		if len(tags) > maxTagsPerResource {
			return tagQuotaExceeded(), nil
		}
		if err := putGroup(tx, sc, rec); err != nil {
			return nil, err
		}
		if err := s.putEvent(tx, sc, now, name, "Cache security group created"); err != nil {
			return nil, err
		}
		return nil, putCount(tx, sc.groupCountKey(), n+1)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateCacheSecurityGroupOutput{CacheSecurityGroup: s.toAPI(sc, rec, now)}, nil
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
	limit, err := maxRecords(in.MaxRecords)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.Marker != nil {
		var ok bool
		if after, ok = s.markers.open(opDescribeGroups, sc, *in.Marker); !ok {
			return nil, invalid("Marker", "the marker is not valid for this request.")
		}
	}
	if err := s.classic(sc); err != nil {
		return nil, err
	}
	if in.CacheSecurityGroupName != nil {
		return s.describeOne(ctx, sc, name)
	}
	return s.describePage(ctx, sc, after, limit)
}

// describeOne answers a describe by name. Its answer, the group's
// strings and the record read are one allocation, which the read
// transaction's function fills in.
func (s *ElastiCache) describeOne(ctx context.Context, sc scope, name string) (*api.DescribeCacheSecurityGroupsOutput, error) {
	res := &struct {
		out    api.DescribeCacheSecurityGroupsOutput
		groups [1]api.CacheSecurityGroup
		strs   groupStrings
		rec    *groupRecord
	}{}
	err := s.view(ctx, func(tx storage.Tx) error {
		res.rec = nil
		b, err := tx.Get(sc.groupKey(name))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		res.rec, err = decodeGroupShown(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	rec := res.rec
	if rec == nil && name == defaultGroupName {
		rec = virtualDefault()
	}
	if rec == nil {
		return nil, groupNotFound(name)
	}
	res.groups[0] = s.renderInto(sc, rec, s.clock.Now(), nil, &res.strs)
	res.out.CacheSecurityGroups = res.groups[:]
	return &res.out, nil
}

// describePage reads at most limit+1 groups after the marker's position:
// the extra one only tells whether another page follows, so a page costs
// the same whatever the number of groups stored.
func (s *ElastiCache) describePage(ctx context.Context, sc scope, after string, limit int) (*api.DescribeCacheSecurityGroupsOutput, error) {
	var page []*groupRecord
	err := s.view(ctx, func(tx storage.Tx) error {
		page = page[:0]
		// The virtual default takes its place in name order unless it is stored.
		pendingDefault := after < defaultGroupName
		if pendingDefault {
			if _, err := tx.Get(sc.groupKey(defaultGroupName)); err == nil {
				pendingDefault = false
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		var afterKey []byte
		if after != "" {
			afterKey = sc.groupKey(after)
		}
		err := tx.Scan(sc.groupPrefix(), afterKey, func(k, v []byte) (bool, error) {
			rec, err := decodeGroupShown(v)
			if err != nil {
				return false, err
			}
			if pendingDefault && defaultGroupName < rec.Name {
				page = append(page, virtualDefault())
				pendingDefault = false
				if len(page) > limit {
					return false, nil
				}
			}
			page = append(page, rec)
			return len(page) <= limit, nil
		})
		if err != nil {
			return err
		}
		if pendingDefault && len(page) <= limit {
			page = append(page, virtualDefault())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeCacheSecurityGroupsOutput{CacheSecurityGroups: make([]api.CacheSecurityGroup, 0, min(len(page), limit))}
	if len(page) > limit {
		page = page[:limit]
		out.Marker = ptr(s.markers.issue(opDescribeGroups, sc, page[limit-1].Name))
	}
	now := s.clock.Now()
	strs := make([]groupStrings, len(page))
	for i, r := range page {
		out.CacheSecurityGroups = append(out.CacheSecurityGroups, s.renderInto(sc, r, now, nil, &strs[i]))
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
		rec, err := getGroup(tx, sc, name)
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
		if err := tx.Delete(sc.groupKey(name)); err != nil {
			return nil, err
		}
		n, err := getCount(tx, sc.groupCountKey())
		if err != nil {
			return nil, err
		}
		if err := s.putEvent(tx, sc, now, name, "Cache security group deleted"); err != nil {
			return nil, err
		}
		return nil, putCount(tx, sc.groupCountKey(), n-1)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteCacheSecurityGroupOutput{}, nil
}
