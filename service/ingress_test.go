package service

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/api"
)

func authorize(f *fixture, ctx context.Context, group, ec2, owner string) (*api.CacheSecurityGroup, error) {
	out, err := f.svc.AuthorizeCacheSecurityGroupIngress(ctx, &api.AuthorizeCacheSecurityGroupIngressInput{
		CacheSecurityGroupName: s(group), EC2SecurityGroupName: s(ec2), EC2SecurityGroupOwnerId: s(owner),
	})
	if err != nil {
		return nil, err
	}
	return out.CacheSecurityGroup, nil
}

func revoke(f *fixture, ctx context.Context, group, ec2, owner string) (*api.CacheSecurityGroup, error) {
	out, err := f.svc.RevokeCacheSecurityGroupIngress(ctx, &api.RevokeCacheSecurityGroupIngressInput{
		CacheSecurityGroupName: s(group), EC2SecurityGroupName: s(ec2), EC2SecurityGroupOwnerId: s(owner),
	})
	if err != nil {
		return nil, err
	}
	return out.CacheSecurityGroup, nil
}

type entry struct{ Name, Owner, Status string }

func entries(g *api.CacheSecurityGroup) []entry {
	out := []entry{}
	for _, e := range g.EC2SecurityGroups {
		out = append(out, entry{*e.EC2SecurityGroupName, *e.EC2SecurityGroupOwnerId, *e.Status})
	}
	return out
}

func describeOne(tb testing.TB, f *fixture, ctx context.Context, name string) *api.CacheSecurityGroup {
	tb.Helper()
	out, err := f.svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: s(name)})
	mustOK(tb, err)
	return &out.CacheSecurityGroups[0]
}

func wantEntries(tb testing.TB, g *api.CacheSecurityGroup, want ...entry) {
	tb.Helper()
	if want == nil {
		want = []entry{}
	}
	if d := cmp.Diff(want, entries(g)); d != "" {
		tb.Fatalf("EC2 security groups (-want +got):\n%s", d)
	}
}

func TestIngressLifecycleWithoutDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "web")
	g, err := authorize(f, ctxA, "WEB", "app", "123456789012")
	mustOK(t, err)
	wantEntries(t, g, entry{"app", "123456789012", "authorizing"})
	// With no delay, the next read shows the final state.
	wantEntries(t, describeOne(t, f, ctxA, "web"), entry{"app", "123456789012", "authorized"})
	_, err = authorize(f, ctxA, "web", "app", "123456789012")
	wantFault(t, err, "AuthorizationAlreadyExists", 400, "")
	g, err = authorize(f, ctxA, "web", "db", "210987654321")
	mustOK(t, err)
	// Entries keep insertion order; only the changed one is transitional.
	wantEntries(t, g, entry{"app", "123456789012", "authorized"}, entry{"db", "210987654321", "authorizing"})
	g, err = revoke(f, ctxA, "web", "app", "123456789012")
	mustOK(t, err)
	wantEntries(t, g, entry{"app", "123456789012", "revoking"}, entry{"db", "210987654321", "authorized"})
	wantEntries(t, describeOne(t, f, ctxA, "web"), entry{"db", "210987654321", "authorized"})
	_, err = revoke(f, ctxA, "web", "app", "123456789012")
	wantFault(t, err, "AuthorizationNotFound", 404, "")
	// Authorizing again after a completed revoke works.
	g, err = authorize(f, ctxA, "web", "app", "123456789012")
	mustOK(t, err)
	wantEntries(t, g, entry{"db", "210987654321", "authorized"}, entry{"app", "123456789012", "authorizing"})
}

func TestIngressTransitionsFollowTheClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{TransitionDelay: 30 * time.Second})
	create(t, f, ctxA, "web")
	_, err := authorize(f, ctxA, "web", "app", "123456789012")
	mustOK(t, err)
	wantEntries(t, describeOne(t, f, ctxA, "web"), entry{"app", "123456789012", "authorizing"})
	// Still authorizing: revoke and delete are refused, authorize again too.
	_, err = revoke(f, ctxA, "web", "app", "123456789012")
	wantFault(t, err, "InvalidCacheSecurityGroupState", 400, "")
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("web")})
	wantFault(t, err, "InvalidCacheSecurityGroupState", 400, "")
	_, err = authorize(f, ctxA, "web", "app", "123456789012")
	wantFault(t, err, "AuthorizationAlreadyExists", 400, "")
	f.clock.Advance(29 * time.Second)
	wantEntries(t, describeOne(t, f, ctxA, "web"), entry{"app", "123456789012", "authorizing"})
	f.clock.Advance(time.Second)
	wantEntries(t, describeOne(t, f, ctxA, "web"), entry{"app", "123456789012", "authorized"})
	_, err = revoke(f, ctxA, "web", "app", "123456789012")
	mustOK(t, err)
	wantEntries(t, describeOne(t, f, ctxA, "web"), entry{"app", "123456789012", "revoking"})
	// Still revoking: authorize is refused as a state error, revoke too.
	_, err = authorize(f, ctxA, "web", "app", "123456789012")
	wantFault(t, err, "InvalidCacheSecurityGroupState", 400, "")
	_, err = revoke(f, ctxA, "web", "app", "123456789012")
	wantFault(t, err, "InvalidCacheSecurityGroupState", 400, "")
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("web")})
	wantFault(t, err, "InvalidCacheSecurityGroupState", 400, "")
	f.clock.Advance(30 * time.Second)
	wantEntries(t, describeOne(t, f, ctxA, "web"))
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("web")})
	mustOK(t, err)
}

func TestIngressTransitionSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/r.db"
	st := openStore(t, path)
	clock := newFakeClock()
	svc, err := Open(context.Background(), st, clock, Config{TransitionDelay: time.Minute})
	mustOK(t, err)
	f := &fixture{svc: svc, clock: clock, store: st}
	create(t, f, ctxA, "web")
	_, err = authorize(f, ctxA, "web", "app", "123456789012")
	mustOK(t, err)
	mustOK(t, st.Close())
	st2 := openStore(t, path)
	clock.Advance(time.Minute)
	svc2, err := Open(context.Background(), st2, clock, Config{TransitionDelay: time.Minute})
	mustOK(t, err)
	wantEntries(t, describeOne(t, &fixture{svc: svc2, clock: clock, store: st2}, ctxA, "web"), entry{"app", "123456789012", "authorized"})
}

func TestIngressValidationAndNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "web")
	cases := []struct {
		name, group, ec2, owner, code string
		status                        int
		fragment                      string
	}{
		{"owner not 12 digits", "web", "app", "12345", "InvalidParameterValue", 400, "12-digit"},
		{"owner with letters", "web", "app", "12345678901a", "InvalidParameterValue", 400, "12-digit"},
		{"empty owner", "web", "app", "", "InvalidParameterValue", 400, "EC2SecurityGroupOwnerId is required"},
		{"empty ec2 name", "web", "", "123456789012", "InvalidParameterValue", 400, "EC2SecurityGroupName is required"},
		{"bad group name", "we b", "app", "123456789012", "InvalidParameterValue", 400, "CacheSecurityGroupName"},
		{"missing group", "nope", "app", "123456789012", "CacheSecurityGroupNotFound", 404, "CacheSecurityGroup nope not found."},
	}
	for _, tc := range cases {
		_, err := authorize(f, ctxA, tc.group, tc.ec2, tc.owner)
		wantFaultContaining(t, err, tc.code, tc.status, tc.fragment)
		_, err = revoke(f, ctxA, tc.group, tc.ec2, tc.owner)
		wantFaultContaining(t, err, tc.code, tc.status, tc.fragment)
	}
	// Another account's group is not found, never revealed.
	_, err := authorize(f, as("222222222222", "us-east-1"), "web", "app", "123456789012")
	wantFault(t, err, "CacheSecurityGroupNotFound", 404, "")
	wantEntries(t, describeOne(t, f, ctxA, "web"))
}

func TestIngressOnDefaultGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	g, err := authorize(f, ctxA, "default", "app", "123456789012")
	mustOK(t, err)
	wantEntries(t, g, entry{"app", "123456789012", "authorizing"})
	wantEntries(t, describeOne(t, f, ctxA, "default"), entry{"app", "123456789012", "authorized"})
	// A materialised default still is not counted against the quota and
	// appears once in listings.
	if got := describeAll(t, f, ctxA, 20); !cmp.Equal(got, []string{"default"}) {
		t.Fatalf("groups = %v", got)
	}
}

func TestModernAccountIngress(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Accounts: map[string]AccountConfig{"999999999999": {Modern: true}}})
	ctx := as("999999999999", "us-east-1")
	_, err := authorize(f, ctx, "default", "app", "123456789012")
	wantFault(t, err, "InvalidParameterValue", 400, "Use of cache security groups is not permitted in this API version for your account.")
	_, err = revoke(f, ctx, "default", "app", "123456789012")
	wantFault(t, err, "InvalidParameterValue", 400, "Use of cache security groups is not permitted in this API version for your account.")
}
