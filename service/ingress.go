package service

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

const maxEC2GroupNameLen = 255

// ingressParams validates the three parameters both ingress operations take.
func ingressParams(groupP, ec2NameP, ownerP *string) (group, ec2Name, owner string, err error) {
	if group, err = groupName(paramGroupName, groupP); err != nil {
		return
	}
	if ec2NameP == nil || *ec2NameP == "" {
		err = api.InvalidParameterValue("EC2SecurityGroupName is required")
		return
	}
	ec2Name = *ec2NameP
	if utf8.RuneCountInString(ec2Name) > maxEC2GroupNameLen {
		err = invalid("EC2SecurityGroupName", fmt.Sprintf("must be at most %d characters.", maxEC2GroupNameLen))
		return
	}
	if ownerP == nil || *ownerP == "" {
		err = api.InvalidParameterValue("EC2SecurityGroupOwnerId is required")
		return
	}
	owner = *ownerP
	if !api.IsAccountID(owner) {
		err = invalid("EC2SecurityGroupOwnerId", "must be a 12-digit AWS account ID.")
	}
	return
}

// liveEntries drops entries whose revocation has completed, so a record
// never grows with revoked entries.
func (s *ElastiCache) liveEntries(rec *groupRecord, now time.Time) {
	kept := rec.EC2[:0]
	for _, e := range rec.EC2 {
		if _, gone := ec2Status(e, now, s.cfg.TransitionDelay); !gone {
			kept = append(kept, e)
		}
	}
	rec.EC2 = kept
}

// findEC2 returns the index of the entry for (name, owner), or -1.
func findEC2(rec *groupRecord, name, owner string) int {
	for i, e := range rec.EC2 {
		if e.Name == name && e.Owner == owner {
			return i
		}
	}
	return -1
}

// ingressChange is what Authorize and Revoke share: validate, load the
// group (materialising the virtual default), let change decide and edit
// the record, write it with its event, and answer with the changed entry
// in its transitional state.
func (s *ElastiCache) ingressChange(ctx context.Context, groupP, ec2NameP, ownerP *string,
	change func(rec *groupRecord, i int, now time.Time) (status string, fault error)) (*api.CacheSecurityGroup, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	group, ec2Name, owner, err := ingressParams(groupP, ec2NameP, ownerP)
	if err != nil {
		return nil, err
	}
	if err := s.classic(sc); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *api.CacheSecurityGroup
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		out = nil
		rec, err := securityGroups.Get(tx, sc, group)
		if err != nil || rec == nil {
			return groupNotFound(group), err
		}
		s.liveEntries(rec, now)
		status, fault := change(rec, findEC2(rec, ec2Name, owner), now)
		if fault != nil {
			return fault, nil
		}
		if err := securityGroups.Put(tx, sc, rec); err != nil {
			return nil, err
		}
		msg := fmt.Sprintf("Authorized EC2 security group %s (owner %s)", ec2Name, owner)
		if status == "revoking" {
			msg = fmt.Sprintf("Revoked EC2 security group %s (owner %s)", ec2Name, owner)
		}
		if err := schema.AppendEvent(tx, sc, now, securityGroupKind, group, msg); err != nil {
			return nil, err
		}
		out = s.render(sc, rec, now, func(e ec2Record) string {
			if e.Name == ec2Name && e.Owner == owner {
				return status
			}
			return ""
		})
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AuthorizeCacheSecurityGroupIngress adds an EC2 security group to a cache
// security group. The answer shows it authorizing; reads show it authorized
// once the transition delay has passed.
func (s *ElastiCache) AuthorizeCacheSecurityGroupIngress(ctx context.Context, in *api.AuthorizeCacheSecurityGroupIngressInput) (*api.AuthorizeCacheSecurityGroupIngressOutput, error) {
	g, err := s.ingressChange(ctx, in.CacheSecurityGroupName, in.EC2SecurityGroupName, in.EC2SecurityGroupOwnerId,
		func(rec *groupRecord, i int, now time.Time) (string, error) {
			if i >= 0 {
				e := rec.EC2[i]
				if st, _ := ec2Status(e, now, s.cfg.TransitionDelay); st == "revoking" {
					return "", &api.InvalidCacheSecurityGroupStateFault{Message: fmt.Sprintf("EC2 security group %s (owner %s) is being revoked from CacheSecurityGroup %s.", e.Name, e.Owner, rec.Name)}
				}
				return "", &api.AuthorizationAlreadyExistsFault{Message: fmt.Sprintf("EC2 security group %s (owner %s) is already authorized for CacheSecurityGroup %s.", e.Name, e.Owner, rec.Name)}
			}
			rec.EC2 = append(rec.EC2, ec2Record{Name: *in.EC2SecurityGroupName, Owner: *in.EC2SecurityGroupOwnerId, Authorized: now})
			return "authorizing", nil
		})
	if err != nil {
		return nil, err
	}
	return &api.AuthorizeCacheSecurityGroupIngressOutput{CacheSecurityGroup: g}, nil
}

// RevokeCacheSecurityGroupIngress removes an EC2 security group. The
// answer shows it revoking; it is gone once the transition delay has passed.
func (s *ElastiCache) RevokeCacheSecurityGroupIngress(ctx context.Context, in *api.RevokeCacheSecurityGroupIngressInput) (*api.RevokeCacheSecurityGroupIngressOutput, error) {
	g, err := s.ingressChange(ctx, in.CacheSecurityGroupName, in.EC2SecurityGroupName, in.EC2SecurityGroupOwnerId,
		func(rec *groupRecord, i int, now time.Time) (string, error) {
			if i < 0 {
				return "", &api.AuthorizationNotFoundFault{Message: fmt.Sprintf("EC2 security group %s (owner %s) is not authorized for CacheSecurityGroup %s.", *in.EC2SecurityGroupName, *in.EC2SecurityGroupOwnerId, rec.Name)}
			}
			e := &rec.EC2[i]
			if st, _ := ec2Status(*e, now, s.cfg.TransitionDelay); st != "authorized" {
				return "", &api.InvalidCacheSecurityGroupStateFault{Message: fmt.Sprintf("EC2 security group %s (owner %s) is %s in CacheSecurityGroup %s.", e.Name, e.Owner, st, rec.Name)}
			}
			e.Revoked = ptr(now)
			return "revoking", nil
		})
	if err != nil {
		return nil, err
	}
	return &api.RevokeCacheSecurityGroupIngressOutput{CacheSecurityGroup: g}, nil
}
