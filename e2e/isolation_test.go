package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// TestIsolation checks that every (account, region) sees only its own
// groups: the account from a 12-digit access key, the region from the
// signature's scope.
func TestIsolation(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	type scope struct {
		name, key, account, region, own string
		c                               *elasticache.Client
	}
	scopes := []*scope{
		{name: "account 1 us-east-1", key: "111111111111", account: "111111111111", region: "us-east-1", own: "only-a1-use1"},
		{name: "account 1 eu-west-1", key: "111111111111", account: "111111111111", region: "eu-west-1", own: "only-a1-euw1"},
		{name: "account 2 us-east-1", key: "222222222222", account: "222222222222", region: "us-east-1", own: "only-a2-use1"},
		{name: "account 2 eu-west-1", key: "222222222222", account: "222222222222", region: "eu-west-1", own: "only-a2-euw1"},
		{name: "default account us-east-1", key: otherKey, account: defaultAccount, region: "us-east-1", own: "only-a0-use1"},
	}
	for _, sc := range scopes {
		sc.c = client(t, s.Addr, sc.key, sc.region)
		g := create(t, sc.c, "shared", "in "+sc.name)
		wantGroup(t, g, sc.account, sc.region, "shared", "in "+sc.name)
		g = create(t, sc.c, sc.own, "only in "+sc.name)
		wantGroup(t, g, sc.account, sc.region, sc.own, "only in "+sc.name)
	}

	for _, sc := range scopes {
		t.Run(sc.name, func(t *testing.T) {
			wantNames(t, "groups", listNames(t, sc.c), []string{"default", sc.own, "shared"})
			shared := describe(t, sc.c, "shared")
			wantGroup(t, &shared, sc.account, sc.region, "shared", "in "+sc.name)
			def := describe(t, sc.c, "default")
			wantGroup(t, &def, sc.account, sc.region, "default", "default")

			for _, other := range scopes {
				if other == sc {
					continue
				}
				_, err := sc.c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
					CacheSecurityGroupName: aws.String(other.own),
				})
				wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(other.own))
				_, err = sc.c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
					CacheSecurityGroupName: aws.String(other.own),
				})
				wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(other.own))
			}
		})
	}

	t.Run("the others' groups survive", func(t *testing.T) {
		for _, sc := range scopes {
			g := describe(t, sc.c, sc.own)
			wantGroup(t, &g, sc.account, sc.region, sc.own, "only in "+sc.name)
		}
	})

	t.Run("keys that are not account IDs act as the default account", func(t *testing.T) {
		for _, key := range []string{"AKIDEXAMPLE", "test", "1111111111111", "11111111111", "11111111111a", defaultAccount} {
			c := client(t, s.Addr, key, "us-east-1")
			g := describe(t, c, "only-a0-use1")
			wantGroup(t, &g, defaultAccount, "us-east-1", "only-a0-use1", "only in default account us-east-1")
		}
	})

	t.Run("deleting in one scope leaves the others", func(t *testing.T) {
		first := scopes[0]
		if _, err := first.c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("shared"),
		}); err != nil {
			t.Fatalf("delete shared in %s: %v", first.name, err)
		}
		wantNames(t, "groups of "+first.name, listNames(t, first.c), []string{"default", first.own})
		for _, sc := range scopes[1:] {
			g := describe(t, sc.c, "shared")
			wantGroup(t, &g, sc.account, sc.region, "shared", "in "+sc.name)
		}
	})
}
