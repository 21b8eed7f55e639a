package e2e

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"
)

// authorizeIngress sends AuthorizeCacheSecurityGroupIngress.
func authorizeIngress(tb testing.TB, c *elasticache.Client, group, ec2Name, owner string) (*types.CacheSecurityGroup, error) {
	tb.Helper()
	out, err := c.AuthorizeCacheSecurityGroupIngress(tb.Context(), &elasticache.AuthorizeCacheSecurityGroupIngressInput{
		CacheSecurityGroupName:  aws.String(group),
		EC2SecurityGroupName:    aws.String(ec2Name),
		EC2SecurityGroupOwnerId: aws.String(owner),
	})
	if err != nil {
		return nil, err
	}
	wantRequestID(tb, out.ResultMetadata)
	if out.CacheSecurityGroup == nil {
		tb.Fatalf("authorize %s/%s on %s: answer has no CacheSecurityGroup", ec2Name, owner, group)
	}
	return out.CacheSecurityGroup, nil
}

// revokeIngress sends RevokeCacheSecurityGroupIngress.
func revokeIngress(tb testing.TB, c *elasticache.Client, group, ec2Name, owner string) (*types.CacheSecurityGroup, error) {
	tb.Helper()
	out, err := c.RevokeCacheSecurityGroupIngress(tb.Context(), &elasticache.RevokeCacheSecurityGroupIngressInput{
		CacheSecurityGroupName:  aws.String(group),
		EC2SecurityGroupName:    aws.String(ec2Name),
		EC2SecurityGroupOwnerId: aws.String(owner),
	})
	if err != nil {
		return nil, err
	}
	wantRequestID(tb, out.ResultMetadata)
	if out.CacheSecurityGroup == nil {
		tb.Fatalf("revoke %s/%s on %s: answer has no CacheSecurityGroup", ec2Name, owner, group)
	}
	return out.CacheSecurityGroup, nil
}

// mustAuthorize authorizes and fails the test if that fails.
func mustAuthorize(tb testing.TB, c *elasticache.Client, group, ec2Name, owner string) *types.CacheSecurityGroup {
	tb.Helper()
	g, err := authorizeIngress(tb, c, group, ec2Name, owner)
	if err != nil {
		tb.Fatalf("authorize %s/%s on %s: %v", ec2Name, owner, group, err)
	}
	return g
}

// mustRevoke revokes and fails the test if that fails.
func mustRevoke(tb testing.TB, c *elasticache.Client, group, ec2Name, owner string) *types.CacheSecurityGroup {
	tb.Helper()
	g, err := revokeIngress(tb, c, group, ec2Name, owner)
	if err != nil {
		tb.Fatalf("revoke %s/%s on %s: %v", ec2Name, owner, group, err)
	}
	return g
}

// ec2 is an EC2 security group entry as an answer shows it.
func ec2(name, owner, status string) types.EC2SecurityGroup {
	return types.EC2SecurityGroup{
		EC2SecurityGroupName:    aws.String(name),
		EC2SecurityGroupOwnerId: aws.String(owner),
		Status:                  aws.String(status),
	}
}

// wantGroupWith compares a whole group, EC2 entries in order included.
func wantGroupWith(tb testing.TB, what string, got *types.CacheSecurityGroup, account, region, name, description string, entries ...types.EC2SecurityGroup) {
	tb.Helper()
	if got == nil {
		tb.Fatalf("%s: no group", what)
	}
	want := types.CacheSecurityGroup{
		ARN:                    aws.String(groupARN(region, account, name)),
		CacheSecurityGroupName: aws.String(name),
		Description:            aws.String(description),
		OwnerId:                aws.String(account),
		EC2SecurityGroups:      entries,
	}
	if diff := cmp.Diff(want, *got, groupCmp...); diff != "" {
		tb.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// wantDescribed describes name and compares it as wantGroupWith does; the
// group is also compared as a listing (no name given) shows it.
func wantDescribed(tb testing.TB, c *elasticache.Client, account, region, name, description string, entries ...types.EC2SecurityGroup) {
	tb.Helper()
	g := describe(tb, c, name)
	wantGroupWith(tb, "describe "+name, &g, account, region, name, description, entries...)
	found := 0
	for _, g := range listAll(tb, c, 0) {
		if aws.ToString(g.CacheSecurityGroupName) == name {
			found++
			wantGroupWith(tb, "list "+name, &g, account, region, name, description, entries...)
		}
	}
	if found != 1 {
		tb.Errorf("listing shows %s %d times, want once", name, found)
	}
}

// Expected ingress answers, as service/ingress.go words them.
func alreadyAuthorized(ec2Name, owner, group string) apiErr {
	return apiErr{status: 400, code: "AuthorizationAlreadyExists",
		msg: "EC2 security group " + ec2Name + " (owner " + owner + ") is already authorized for CacheSecurityGroup " + group + "."}
}

func notAuthorized(ec2Name, owner, group string) apiErr {
	return apiErr{status: 404, code: "AuthorizationNotFound",
		msg: "EC2 security group " + ec2Name + " (owner " + owner + ") is not authorized for CacheSecurityGroup " + group + "."}
}

func beingRevoked(ec2Name, owner, group string) apiErr {
	return apiErr{status: 400, code: "InvalidCacheSecurityGroupState",
		msg: "EC2 security group " + ec2Name + " (owner " + owner + ") is being revoked from CacheSecurityGroup " + group + "."}
}

func inTransition(ec2Name, owner, status, group string) apiErr {
	return apiErr{status: 400, code: "InvalidCacheSecurityGroupState",
		msg: "EC2 security group " + ec2Name + " (owner " + owner + ") is " + status + " in CacheSecurityGroup " + group + "."}
}

func deleteInTransition(group, status string) apiErr {
	return apiErr{status: 400, code: "InvalidCacheSecurityGroupState",
		msg: "CacheSecurityGroup " + group + " has EC2 security groups that are " + status + "."}
}

const (
	ownerA = "123456789012"
	ownerB = "210987654321"
)

// TestIngress authorizes and revokes with no transition delay: each answer
// shows the transitional state, the next read the final one.
func TestIngress(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const account, region = "123123123123", "eu-west-1"
	c := client(t, s.Addr, account, region)
	create(t, c, "Web", "web tier")

	t.Run("authorize answers authorizing, then reads show authorized", func(t *testing.T) {
		g := mustAuthorize(t, c, "WEB", "sg-app", ownerA)
		wantGroupWith(t, "authorize answer", g, account, region, "web", "web tier", ec2("sg-app", ownerA, "authorizing"))
		wantDescribed(t, c, account, region, "web", "web tier", ec2("sg-app", ownerA, "authorized"))
	})

	t.Run("entries keep insertion order", func(t *testing.T) {
		g := mustAuthorize(t, c, "web", "zeta", ownerB)
		wantGroupWith(t, "authorize zeta", g, account, region, "web", "web tier",
			ec2("sg-app", ownerA, "authorized"), ec2("zeta", ownerB, "authorizing"))
		mustAuthorize(t, c, "web", "alpha", ownerA)
		// The same EC2 name with another owner is another entry.
		g = mustAuthorize(t, c, "web", "sg-app", ownerB)
		wantGroupWith(t, "authorize sg-app of the other owner", g, account, region, "web", "web tier",
			ec2("sg-app", ownerA, "authorized"), ec2("zeta", ownerB, "authorized"),
			ec2("alpha", ownerA, "authorized"), ec2("sg-app", ownerB, "authorizing"))
		wantDescribed(t, c, account, region, "web", "web tier",
			ec2("sg-app", ownerA, "authorized"), ec2("zeta", ownerB, "authorized"),
			ec2("alpha", ownerA, "authorized"), ec2("sg-app", ownerB, "authorized"))
	})

	all := []types.EC2SecurityGroup{
		ec2("sg-app", ownerA, "authorized"), ec2("zeta", ownerB, "authorized"),
		ec2("alpha", ownerA, "authorized"), ec2("sg-app", ownerB, "authorized"),
	}

	t.Run("authorize twice is AuthorizationAlreadyExists", func(t *testing.T) {
		for _, group := range []string{"web", "WEB"} {
			_, err := authorizeIngress(t, c, group, "zeta", ownerB)
			wantErr[*types.AuthorizationAlreadyExistsFault](t, err, alreadyAuthorized("zeta", ownerB, "web"))
		}
		wantDescribed(t, c, account, region, "web", "web tier", all...)
	})

	t.Run("revoke answers revoking, then the entry is gone", func(t *testing.T) {
		g := mustRevoke(t, c, "Web", "zeta", ownerB)
		wantGroupWith(t, "revoke answer", g, account, region, "web", "web tier",
			ec2("sg-app", ownerA, "authorized"), ec2("zeta", ownerB, "revoking"),
			ec2("alpha", ownerA, "authorized"), ec2("sg-app", ownerB, "authorized"))
		wantDescribed(t, c, account, region, "web", "web tier",
			ec2("sg-app", ownerA, "authorized"), ec2("alpha", ownerA, "authorized"), ec2("sg-app", ownerB, "authorized"))
	})

	t.Run("revoke of an absent entry is AuthorizationNotFound", func(t *testing.T) {
		for _, tc := range []struct{ name, owner string }{
			{"zeta", ownerB},          // just revoked
			{"never", ownerA},         // never authorized
			{"SG-APP", ownerA},        // names match exactly
			{"alpha", "999999999999"}, // the name with another owner
		} {
			_, err := revokeIngress(t, c, "web", tc.name, tc.owner)
			wantErr[*types.AuthorizationNotFoundFault](t, err, notAuthorized(tc.name, tc.owner, "web"))
		}
		wantDescribed(t, c, account, region, "web", "web tier",
			ec2("sg-app", ownerA, "authorized"), ec2("alpha", ownerA, "authorized"), ec2("sg-app", ownerB, "authorized"))
	})

	t.Run("authorizing a revoked entry again appends it", func(t *testing.T) {
		g := mustAuthorize(t, c, "web", "zeta", ownerB)
		wantGroupWith(t, "authorize zeta again", g, account, region, "web", "web tier",
			ec2("sg-app", ownerA, "authorized"), ec2("alpha", ownerA, "authorized"),
			ec2("sg-app", ownerB, "authorized"), ec2("zeta", ownerB, "authorizing"))
	})

	after := []types.EC2SecurityGroup{
		ec2("sg-app", ownerA, "authorized"), ec2("alpha", ownerA, "authorized"),
		ec2("sg-app", ownerB, "authorized"), ec2("zeta", ownerB, "authorized"),
	}

	t.Run("invalid parameters", func(t *testing.T) {
		for _, tc := range []struct {
			name, ec2Name, owner string
			want                 apiErr
		}{
			{"owner of 11 digits", "sg", "12345678901", invalidValue("EC2SecurityGroupOwnerId")},
			{"owner of 13 digits", "sg", "1234567890123", invalidValue("EC2SecurityGroupOwnerId")},
			{"owner with a letter", "sg", "12345678901a", invalidValue("EC2SecurityGroupOwnerId")},
			{"owner with spaces", "sg", " 123456789012", invalidValue("EC2SecurityGroupOwnerId")},
			{"empty owner", "sg", "", invalidValueExact("EC2SecurityGroupOwnerId is required")},
			{"empty EC2 name", "", ownerA, invalidValueExact("EC2SecurityGroupName is required")},
			{"EC2 name of 256 characters", strings.Repeat("n", 256), ownerA, invalidValue("EC2SecurityGroupName")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := authorizeIngress(t, c, "web", tc.ec2Name, tc.owner)
				wantErr[*types.InvalidParameterValueException](t, err, tc.want)
				_, err = revokeIngress(t, c, "web", tc.ec2Name, tc.owner)
				wantErr[*types.InvalidParameterValueException](t, err, tc.want)
			})
		}
		for _, group := range []string{"bad_name", strings.Repeat("g", 256)} {
			_, err := authorizeIngress(t, c, group, "sg", ownerA)
			wantErr[*types.InvalidParameterValueException](t, err, invalidValue("CacheSecurityGroupName"))
			_, err = revokeIngress(t, c, group, "sg", ownerA)
			wantErr[*types.InvalidParameterValueException](t, err, invalidValue("CacheSecurityGroupName"))
		}
		// A bad owner wins over a missing group: values come before existence.
		_, err := authorizeIngress(t, c, "missing", "sg", "1")
		wantErr[*types.InvalidParameterValueException](t, err, invalidValue("EC2SecurityGroupOwnerId"))
		wantDescribed(t, c, account, region, "web", "web tier", after...)
	})

	t.Run("limits are accepted", func(t *testing.T) {
		long := strings.Repeat("日", 255)
		g := mustAuthorize(t, c, "web", long, "000000000000")
		wantGroupWith(t, "authorize a 255-character name", g, account, region, "web", "web tier",
			append(after[:4:4], ec2(long, "000000000000", "authorizing"))...)
		mustRevoke(t, c, "web", long, "000000000000")
		wantDescribed(t, c, account, region, "web", "web tier", after...)
	})

	t.Run("text round-trips", func(t *testing.T) {
		name := `<&> "quoted" ]]> é 日本 🚀`
		g := mustAuthorize(t, c, "web", name, ownerB)
		wantGroupWith(t, "authorize answer", g, account, region, "web", "web tier", append(after[:4:4], ec2(name, ownerB, "authorizing"))...)
		wantDescribed(t, c, account, region, "web", "web tier", append(after[:4:4], ec2(name, ownerB, "authorized"))...)
		// Every event of this test has the same time: look for this one.
		got, _, err := describeEvents(t, c, &elasticache.DescribeEventsInput{})
		if err != nil {
			t.Fatalf("describe events: %v", err)
		}
		want := groupEvent(newFixedClock().t, "web", msgAuthorized(name, ownerB))
		if n := count(got, want); n != 1 {
			t.Errorf("event %v listed %d times, want once; events:\n%v", want, n, got)
		}
		mustRevoke(t, c, "web", name, ownerB)
		wantDescribed(t, c, account, region, "web", "web tier", after...)
	})

	t.Run("a missing group is CacheSecurityGroupNotFound", func(t *testing.T) {
		for _, name := range []string{"missing", "Missing"} {
			_, err := authorizeIngress(t, c, name, "sg", ownerA)
			wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("missing"))
			_, err = revokeIngress(t, c, name, "sg", ownerA)
			wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("missing"))
		}
		wantNames(t, "groups", listNames(t, c), []string{"default", "web"})
	})

	t.Run("on default", func(t *testing.T) {
		g := mustAuthorize(t, c, "DEFAULT", "sg-default", ownerA)
		wantGroupWith(t, "authorize on default", g, account, region, "default", "default", ec2("sg-default", ownerA, "authorizing"))
		wantDescribed(t, c, account, region, "default", "default", ec2("sg-default", ownerA, "authorized"))
		wantNames(t, "groups", listNames(t, c), []string{"default", "web"})
		_, err := authorizeIngress(t, c, "default", "sg-default", ownerA)
		wantErr[*types.AuthorizationAlreadyExistsFault](t, err, alreadyAuthorized("sg-default", ownerA, "default"))

		g = mustRevoke(t, c, "default", "sg-default", ownerA)
		wantGroupWith(t, "revoke on default", g, account, region, "default", "default", ec2("sg-default", ownerA, "revoking"))
		wantDescribed(t, c, account, region, "default", "default")
		_, err = revokeIngress(t, c, "default", "sg-default", ownerA)
		wantErr[*types.AuthorizationNotFoundFault](t, err, notAuthorized("sg-default", ownerA, "default"))
		wantNames(t, "groups", listNames(t, c), []string{"default", "web"})

		// Stored now, but still the default group.
		_, err = c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("default")})
		wantErr[*types.InvalidParameterValueException](t, err, invalidValueExact("The default cache security group cannot be deleted."))
	})

	t.Run("a group with authorized entries can be deleted", func(t *testing.T) {
		if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("web"),
		}); err != nil {
			t.Fatalf("delete web with 4 authorized entries: %v", err)
		}
		_, err := authorizeIngress(t, c, "web", "sg-app", ownerA)
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("web"))
		// A new group of the same name starts without entries.
		create(t, c, "web", "second life")
		wantDescribed(t, c, account, region, "web", "second life")
		_, err = revokeIngress(t, c, "web", "sg-app", ownerA)
		wantErr[*types.AuthorizationNotFoundFault](t, err, notAuthorized("sg-app", ownerA, "web"))
	})
}

// TestIngressTransitions uses a transition delay of 30 s and moves the
// server's clock by hand: entries stay authorizing or revoking for exactly
// the delay, the transitional states refuse conflicting changes, and the
// state survives a restart because it is derived from stored timestamps.
func TestIngressTransitions(t *testing.T) {
	t.Parallel()
	const delay = 30 * time.Second
	const account, region = "456456456456", "ap-southeast-2"
	clock := newFakeClock(clockStart)
	s := startServerClock(t, clock, withTransitionDelay(delay))
	c := client(t, s.Addr, account, region)
	create(t, c, "app", "app tier")
	t0 := clock.Time()

	t.Run("authorizing until the delay has passed", func(t *testing.T) {
		g := mustAuthorize(t, c, "app", "sg-1", ownerA)
		wantGroupWith(t, "authorize answer", g, account, region, "app", "app tier", ec2("sg-1", ownerA, "authorizing"))
		wantDescribed(t, c, account, region, "app", "app tier", ec2("sg-1", ownerA, "authorizing"))
		clock.Set(t0.Add(delay - time.Millisecond))
		wantDescribed(t, c, account, region, "app", "app tier", ec2("sg-1", ownerA, "authorizing"))
	})

	t.Run("while authorizing", func(t *testing.T) {
		_, err := revokeIngress(t, c, "app", "sg-1", ownerA)
		wantErr[*types.InvalidCacheSecurityGroupStateFault](t, err, inTransition("sg-1", ownerA, "authorizing", "app"))
		_, err = authorizeIngress(t, c, "app", "sg-1", ownerA)
		wantErr[*types.AuthorizationAlreadyExistsFault](t, err, alreadyAuthorized("sg-1", ownerA, "app"))
		_, err = c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("APP")})
		wantErr[*types.InvalidCacheSecurityGroupStateFault](t, err, deleteInTransition("app", "authorizing"))
		wantDescribed(t, c, account, region, "app", "app tier", ec2("sg-1", ownerA, "authorizing"))
	})

	t.Run("authorized once the delay has passed", func(t *testing.T) {
		clock.Set(t0.Add(delay))
		wantDescribed(t, c, account, region, "app", "app tier", ec2("sg-1", ownerA, "authorized"))
	})

	var t1 time.Time
	t.Run("revoking until the delay has passed", func(t *testing.T) {
		t1 = clock.Advance(5 * time.Second)
		g := mustRevoke(t, c, "app", "sg-1", ownerA)
		wantGroupWith(t, "revoke answer", g, account, region, "app", "app tier", ec2("sg-1", ownerA, "revoking"))
		// A second entry starts authorizing at the same instant.
		g = mustAuthorize(t, c, "app", "sg-2", ownerB)
		wantGroupWith(t, "authorize answer", g, account, region, "app", "app tier",
			ec2("sg-1", ownerA, "revoking"), ec2("sg-2", ownerB, "authorizing"))
		clock.Set(t1.Add(delay - 10*time.Millisecond))
		wantDescribed(t, c, account, region, "app", "app tier",
			ec2("sg-1", ownerA, "revoking"), ec2("sg-2", ownerB, "authorizing"))
	})

	t.Run("while revoking", func(t *testing.T) {
		_, err := authorizeIngress(t, c, "app", "sg-1", ownerA)
		wantErr[*types.InvalidCacheSecurityGroupStateFault](t, err, beingRevoked("sg-1", ownerA, "app"))
		_, err = revokeIngress(t, c, "app", "sg-1", ownerA)
		wantErr[*types.InvalidCacheSecurityGroupStateFault](t, err, inTransition("sg-1", ownerA, "revoking", "app"))
		// The first entry in transition names the state.
		_, err = c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("app")})
		wantErr[*types.InvalidCacheSecurityGroupStateFault](t, err, deleteInTransition("app", "revoking"))
		wantDescribed(t, c, account, region, "app", "app tier",
			ec2("sg-1", ownerA, "revoking"), ec2("sg-2", ownerB, "authorizing"))
	})

	t.Run("transitions survive a restart", func(t *testing.T) {
		arn := groupARN(region, account, "app")
		mustAddTags(t, c, arn, []types.Tag{tag("kept", "yes")}, tag("kept", "yes"))
		events, _, err := describeEvents(t, c, allEvents())
		if err != nil || len(events) != 4 {
			t.Fatalf("events before the restart: %v, %v; want 4", events, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		// Reopened later, but still within the delay of both changes.
		clock.Set(t1.Add(delay - time.Millisecond))
		s2 := startServerClock(t, clock, withDataDir(s.DataDir), withTransitionDelay(delay))
		c2 := client(t, s2.Addr, account, region)
		wantDescribed(t, c2, account, region, "app", "app tier",
			ec2("sg-1", ownerA, "revoking"), ec2("sg-2", ownerB, "authorizing"))
		wantListed(t, c2, arn, tag("kept", "yes"))
		wantEvents(t, c2, "events after the restart", allEvents(), events...)
		_, err = revokeIngress(t, c2, "app", "sg-2", ownerB)
		wantErr[*types.InvalidCacheSecurityGroupStateFault](t, err, inTransition("sg-2", ownerB, "authorizing", "app"))

		// Then past the delay: sg-1 is gone, sg-2 authorized.
		clock.Set(t1.Add(delay))
		wantDescribed(t, c2, account, region, "app", "app tier", ec2("sg-2", ownerB, "authorized"))
		_, err = revokeIngress(t, c2, "app", "sg-1", ownerA)
		wantErr[*types.AuthorizationNotFoundFault](t, err, notAuthorized("sg-1", ownerA, "app"))

		// A revoking entry alone blocks a delete until it is gone.
		mustRevoke(t, c2, "app", "sg-2", ownerB)
		_, err = c2.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("app")})
		wantErr[*types.InvalidCacheSecurityGroupStateFault](t, err, deleteInTransition("app", "revoking"))
		clock.Advance(delay)
		wantDescribed(t, c2, account, region, "app", "app tier")
		if _, err := c2.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("app"),
		}); err != nil {
			t.Fatalf("delete app once every transition is over: %v", err)
		}
		wantNames(t, "groups", listNames(t, c2), []string{"default"})
	})
}

// TestConcurrentIngress authorizes distinct entries and one contested entry
// of one group at once: every distinct entry is kept, the contested one is
// authorized exactly once, and each success recorded exactly one event.
func TestConcurrentIngress(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const account = "828282828282"
	c := client(t, s.Addr, account, defaultRegion)
	create(t, c, "busy", "d")

	const n = 16
	errs := make([]error, 2*n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = c.AuthorizeCacheSecurityGroupIngress(t.Context(), &elasticache.AuthorizeCacheSecurityGroupIngressInput{
				CacheSecurityGroupName: aws.String("busy"), EC2SecurityGroupName: aws.String("sg-" + pad2(i)), EC2SecurityGroupOwnerId: aws.String(ownerA),
			})
		})
		wg.Go(func() {
			<-start
			_, errs[n+i] = c.AuthorizeCacheSecurityGroupIngress(t.Context(), &elasticache.AuthorizeCacheSecurityGroupIngressInput{
				CacheSecurityGroupName: aws.String("busy"), EC2SecurityGroupName: aws.String("contested"), EC2SecurityGroupOwnerId: aws.String(ownerB),
			})
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs[:n]...); err != nil {
		t.Errorf("authorize distinct entries: %v", err)
	}
	wins := 0
	for i, err := range errs[n:] {
		var exists *types.AuthorizationAlreadyExistsFault
		switch {
		case err == nil:
			wins++
		case errors.As(err, &exists):
			if p := checkAPIErr(err, alreadyAuthorized("contested", ownerB, "busy")); p != nil {
				t.Errorf("authorize contested %d: %v", i, p)
			}
		default:
			t.Errorf("authorize contested %d: %v, want success or AuthorizationAlreadyExists", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d authorizations of the contested entry succeeded, want 1", wins)
	}

	g := describe(t, c, "busy")
	got := map[string]string{}
	for _, e := range g.EC2SecurityGroups {
		key := aws.ToString(e.EC2SecurityGroupName) + "/" + aws.ToString(e.EC2SecurityGroupOwnerId)
		if _, dup := got[key]; dup {
			t.Errorf("entry %s listed twice", key)
		}
		got[key] = aws.ToString(e.Status)
	}
	want := map[string]string{"contested/" + ownerB: "authorized"}
	for i := range n {
		want["sg-"+pad2(i)+"/"+ownerA] = "authorized"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}

	events, _, err := describeEvents(t, c, &elasticache.DescribeEventsInput{})
	if err != nil {
		t.Fatalf("describe events: %v", err)
	}
	at := newFixedClock().t
	if len(events) != n+2 { // the create, n distinct, 1 contested
		t.Errorf("%d events, want %d: %v", len(events), n+2, events)
	}
	for i := range n {
		if k := count(events, groupEvent(at, "busy", msgAuthorized("sg-"+pad2(i), ownerA))); k != 1 {
			t.Errorf("authorize event of sg-%s listed %d times, want once", pad2(i), k)
		}
	}
	if k := count(events, groupEvent(at, "busy", msgAuthorized("contested", ownerB))); k != 1 {
		t.Errorf("authorize event of the contested entry listed %d times, want once", k)
	}
}
