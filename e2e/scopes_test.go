package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// TestIsolationNewOperations checks the ingress, tag and event operations
// across two accounts and two regions: every (account, region) sees and
// changes only its own, and an answer about another's resource is the
// answer about a resource that does not exist.
func TestIsolationNewOperations(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(clockStart)
	s := startServerClock(t, clock)

	type scope struct {
		name, account, region string
		own                   string // a group only this scope has
		ec2Name, ec2Owner     string // the entry this scope authorizes on `shared`
		c                     *elasticache.Client
		events                []event // newest first
	}
	var scopes []*scope
	for i, ar := range [][2]string{
		{"131313131313", "us-east-1"}, {"131313131313", "eu-west-1"},
		{"242424242424", "us-east-1"}, {"242424242424", "eu-west-1"},
	} {
		scopes = append(scopes, &scope{
			name: ar[0] + " " + ar[1], account: ar[0], region: ar[1],
			own:     fmt.Sprintf("own-%d", i),
			ec2Name: fmt.Sprintf("sg-%d", i), ec2Owner: fmt.Sprintf("%012d", i+1),
			c: client(t, s.Addr, ar[0], ar[1]),
		})
	}
	// record does what f does at a time of its own and notes the event.
	record := func(sc *scope, group, message string, f func()) {
		at := clock.Advance(time.Second)
		f()
		sc.events = append([]event{groupEvent(at, group, message)}, sc.events...)
	}
	for _, sc := range scopes {
		record(sc, "shared", msgCreated, func() { create(t, sc.c, "shared", "in "+sc.name, tag("scope", sc.name)) })
		record(sc, sc.own, msgCreated, func() { create(t, sc.c, sc.own, "only in "+sc.name) })
		record(sc, "shared", msgAuthorized(sc.ec2Name, sc.ec2Owner), func() { mustAuthorize(t, sc.c, "shared", sc.ec2Name, sc.ec2Owner) })
		mustAddTags(t, sc.c, groupARN(sc.region, sc.account, "default"), []types.Tag{tag("scope", sc.name)}, tag("scope", sc.name))
	}

	// wantOwn checks that a scope's state is exactly what it made.
	wantOwn := func(t *testing.T, sc *scope) {
		t.Helper()
		wantDescribed(t, sc.c, sc.account, sc.region, "shared", "in "+sc.name, ec2(sc.ec2Name, sc.ec2Owner, "authorized"))
		wantDescribed(t, sc.c, sc.account, sc.region, "default", "default")
		wantNames(t, sc.name+" groups", listNames(t, sc.c), []string{"default", sc.own, "shared"})
		wantListed(t, sc.c, groupARN(sc.region, sc.account, "shared"), tag("scope", sc.name))
		wantListed(t, sc.c, groupARN(sc.region, sc.account, "default"), tag("scope", sc.name))
		wantListed(t, sc.c, groupARN(sc.region, sc.account, sc.own))
		wantEvents(t, sc.c, sc.name+" events", allEvents(), sc.events...)
	}

	for _, sc := range scopes {
		t.Run(sc.name, func(t *testing.T) {
			for _, other := range scopes {
				if other == sc {
					continue
				}
				// Their group by name: not found, as a missing one.
				_, err := authorizeIngress(t, sc.c, other.own, "sg-x", ownerA)
				wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(other.own))
				_, err = revokeIngress(t, sc.c, other.own, other.ec2Name, other.ec2Owner)
				wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(other.own))
				// Their entry on the shared name: not authorized here.
				_, err = revokeIngress(t, sc.c, "shared", other.ec2Name, other.ec2Owner)
				wantErr[*types.AuthorizationNotFoundFault](t, err, notAuthorized(other.ec2Name, other.ec2Owner, "shared"))

				// Their groups by ARN, existing or not: not found.
				for _, name := range []string{"shared", other.own, "default", "never-created"} {
					arn := groupARN(other.region, other.account, name)
					_, err := listTags(t, sc.c, arn)
					wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(name))
					_, err = addTags(t, sc.c, arn, tag("intruder", sc.name))
					wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(name))
					_, err = removeTags(t, sc.c, arn, "scope")
					wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(name))
				}

				// Their events: none here.
				wantEvents(t, sc.c, "events of "+other.own, &elasticache.DescribeEventsInput{
					Duration: aws.Int32(20160), SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String(other.own),
				})
			}
			// Their entries authorized here are ours, not theirs.
			other := scopes[(indexOf(scopes, sc)+1)%len(scopes)]
			record(sc, sc.own, msgAuthorized(other.ec2Name, other.ec2Owner), func() {
				mustAuthorize(t, sc.c, sc.own, other.ec2Name, other.ec2Owner)
			})
			record(sc, sc.own, msgRevoked(other.ec2Name, other.ec2Owner), func() {
				g := mustRevoke(t, sc.c, sc.own, other.ec2Name, other.ec2Owner)
				wantGroupWith(t, "revoke on "+sc.own, g, sc.account, sc.region, sc.own, "only in "+sc.name, ec2(other.ec2Name, other.ec2Owner, "revoking"))
			})
			wantDescribed(t, sc.c, sc.account, sc.region, sc.own, "only in "+sc.name)
		})
	}

	t.Run("everyone's state is intact", func(t *testing.T) {
		for _, sc := range scopes {
			wantOwn(t, sc)
		}
	})

	t.Run("changes in one scope leave the others", func(t *testing.T) {
		first := scopes[0]
		record(first, "shared", msgRevoked(first.ec2Name, first.ec2Owner), func() { mustRevoke(t, first.c, "shared", first.ec2Name, first.ec2Owner) })
		record(first, "shared", msgDeleted, func() {
			if _, err := first.c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String("shared"),
			}); err != nil {
				t.Fatalf("delete shared in %s: %v", first.name, err)
			}
		})
		mustRemoveTags(t, first.c, groupARN(first.region, first.account, "default"), []string{"scope"})
		wantNames(t, first.name+" groups", listNames(t, first.c), []string{"default", first.own})
		wantEvents(t, first.c, first.name+" events", allEvents(), first.events...)
		for _, sc := range scopes[1:] {
			wantOwn(t, sc)
		}
	})
}

func indexOf[T comparable](s []T, v T) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
