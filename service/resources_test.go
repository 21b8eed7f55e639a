package service

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

// TestCountCacheSecurityGroups counts groups across accounts and regions
// (one region a prefix of another), leaves out the stored `default` group
// and deleted groups, and visits one key per scope, not one per group.
func TestCountCacheSecurityGroups(t *testing.T) {
	t.Parallel()
	st := &countingStore{Store: openStore(t, "")}
	svc, err := Open(context.Background(), st, newFakeClock(), Config{CacheSecurityGroupQuota: 1000})
	mustOK(t, err)
	f := &fixture{svc: svc, store: st}
	ctx := context.Background()

	if n, err := countGroups(ctx, svc); err != nil || n != 0 {
		t.Fatalf("empty store: count = %d, %v; want 0", n, err)
	}

	big := as("111111111111", "us-east-1")
	for i := range 300 {
		create(t, f, big, fmt.Sprintf("g%03d", i))
	}
	create(t, f, as("111111111111", "us-east-10"), "a")
	create(t, f, as("111111111111", "us-east-10"), "b")
	create(t, f, as("222222222222", "eu-west-1"), "only")
	// A stored default group: changed by a client, still not counted.
	tagged := as("333333333333", "us-west-2")
	_, err = svc.AddTagsToResource(tagged, &api.AddTagsToResourceInput{
		ResourceName: s("arn:aws:elasticache:us-west-2:333333333333:securitygroup:default"),
		Tags:         []api.Tag{{Key: s("k"), Value: s("v")}},
	})
	mustOK(t, err)
	// A scope whose only group is gone, leaving events behind.
	gone := as("444444444444", "ap-south-1")
	create(t, f, gone, "gone")
	_, err = svc.DeleteCacheSecurityGroup(gone, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("gone")})
	mustOK(t, err)
	_, err = svc.DeleteCacheSecurityGroup(big, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("g150")})
	mustOK(t, err)

	st.reset()
	n, err := countGroups(ctx, svc)
	mustOK(t, err)
	if n != 299+2+1 {
		t.Errorf("count = %d, want %d", n, 299+2+1)
	}
	// Five scopes hold state; each costs one visited key.
	if v := st.reset(); v != 5 {
		t.Errorf("counting visited %d keys, want 5 (one per scope)", v)
	}
}

// TestCountCacheSecurityGroupsCorruptStore reports a counter or a key it
// cannot read as an error, never as a wrong number.
func TestCountCacheSecurityGroupsCorruptStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"counter not a number", "a/111111111111/us-east-1/n/csg", "many", "decode counter"},
		{"key without region", "a/111111111111", "x", "has no region"},
		{"key without record", "a/111111111111/us-east-1", "x", "has no record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{})
			ctx := context.Background()
			mustOK(t, f.store.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte(tc.key), []byte(tc.value)) }))
			n, err := countGroups(ctx, f.svc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("count = %d, %v; want an error containing %q", n, err, tc.want)
			}
		})
	}
}

// TestCountCacheSecurityGroupsCanceled stops at a canceled context.
func TestCountCacheSecurityGroupsCanceled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "one")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := countGroups(ctx, f.svc); err == nil {
		t.Fatalf("count = %d with a canceled context, want an error", n)
	}
}

// countGroups is CountResources for cache security groups.
func countGroups(ctx context.Context, svc *ElastiCache) (int, error) {
	counts, err := svc.CountResources(ctx)
	return counts[securityGroupKind.Name], err
}
