package e2e

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// event is an Event as the tests compare it.
type event struct {
	Date             time.Time
	SourceType       string
	SourceIdentifier string
	Message          string
}

func (e event) String() string {
	return fmt.Sprintf("%s %s %s %q", e.Date.Format(time.RFC3339Nano), e.SourceType, e.SourceIdentifier, e.Message)
}

// groupEvent is the event of a cache security group at date.
func groupEvent(date time.Time, group, message string) event {
	return event{Date: date, SourceType: "cache-security-group", SourceIdentifier: group, Message: message}
}

func toEvents(tb testing.TB, in []types.Event) []event {
	tb.Helper()
	out := make([]event, 0, len(in))
	for _, e := range in {
		if e.Date == nil || e.Message == nil || e.SourceIdentifier == nil {
			tb.Errorf("event with a missing member: %+v", e)
		}
		out = append(out, event{
			Date:             aws.ToTime(e.Date),
			SourceType:       string(e.SourceType),
			SourceIdentifier: aws.ToString(e.SourceIdentifier),
			Message:          aws.ToString(e.Message),
		})
	}
	return out
}

// describeEvents sends one DescribeEvents and returns its events and marker.
func describeEvents(tb testing.TB, c *elasticache.Client, in *elasticache.DescribeEventsInput) ([]event, *string, error) {
	tb.Helper()
	out, err := c.DescribeEvents(tb.Context(), in)
	if err != nil {
		return nil, nil, err
	}
	wantRequestID(tb, out.ResultMetadata)
	return toEvents(tb, out.Events), out.Marker, nil
}

// wantEvents sends in and compares the one page it answers with want.
func wantEvents(tb testing.TB, c *elasticache.Client, what string, in *elasticache.DescribeEventsInput, want ...event) {
	tb.Helper()
	got, marker, err := describeEvents(tb, c, in)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	if marker != nil {
		tb.Errorf("%s: Marker = %q, want none", what, *marker)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal), cmpopts.EquateEmpty()); diff != "" {
		tb.Errorf("%s: events (-want +got):\n%s", what, diff)
	}
}

// allEvents is a DescribeEvents input of the cache security group events
// of the last 14 days.
func allEvents() *elasticache.DescribeEventsInput {
	return &elasticache.DescribeEventsInput{Duration: aws.Int32(20160)}
}

// count is how many times e is in events.
func count(events []event, e event) int {
	n := 0
	for _, x := range events {
		if x.Date.Equal(e.Date) && x.SourceType == e.SourceType && x.SourceIdentifier == e.SourceIdentifier && x.Message == e.Message {
			n++
		}
	}
	return n
}

const (
	msgCreated = "Cache security group created"
	msgDeleted = "Cache security group deleted"
)

func msgAuthorized(ec2Name, owner string) string {
	return "Authorized EC2 security group " + ec2Name + " (owner " + owner + ")"
}

func msgRevoked(ec2Name, owner string) string {
	return "Revoked EC2 security group " + ec2Name + " (owner " + owner + ")"
}

// TestEventsLifecycle walks a group through create, authorize, revoke and
// delete, with failed requests in between, and checks that each change
// recorded exactly one event at the time the server answered it.
func TestEventsLifecycle(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(clockStart)
	s := startServerClock(t, clock)
	c := client(t, s.Addr, "121212121212", "sa-east-1")

	wantEvents(t, c, "before anything", allEvents())

	// fail checks that a request failed; what it failed with is the other
	// tests' business.
	fail := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s succeeded, want it refused", what)
		}
	}

	tCreate := clock.Advance(time.Second)
	create(t, c, "Web", "d", tag("k", "v"))
	_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("WEB"), Description: aws.String("duplicate"),
	})
	fail("duplicate create", err)
	_, err = c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("bad_name"), Description: aws.String("invalid"),
	})
	fail("invalid create", err)
	_, err = c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("too-many-tags"), Description: aws.String("d"), Tags: numberedTags("k", 51),
	})
	fail("create with 51 tags", err)

	tAuthorize := clock.Advance(time.Second)
	mustAuthorize(t, c, "web", "sg-app", ownerA)
	_, err = authorizeIngress(t, c, "web", "sg-app", ownerA)
	fail("authorize twice", err)
	_, err = authorizeIngress(t, c, "web", "sg-x", "not-an-owner")
	fail("authorize with a bad owner", err)
	_, err = authorizeIngress(t, c, "missing", "sg-app", ownerA)
	fail("authorize on a missing group", err)
	// Tag operations record no events.
	mustAddTags(t, c, groupARN("sa-east-1", "121212121212", "web"), []types.Tag{tag("k2", "v")}, tag("k", "v"), tag("k2", "v"))
	mustRemoveTags(t, c, groupARN("sa-east-1", "121212121212", "web"), []string{"k2"}, tag("k", "v"))

	tRevoke := clock.Advance(time.Second)
	mustRevoke(t, c, "WEB", "sg-app", ownerA)
	_, err = revokeIngress(t, c, "web", "sg-app", ownerA)
	fail("revoke twice", err)
	_, err = revokeIngress(t, c, "web", "never", ownerA)
	fail("revoke of an absent entry", err)

	tDelete := clock.Advance(time.Second)
	if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("wEb"),
	}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for _, name := range []string{"web", "default", "missing"} {
		_, err = c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String(name)})
		fail("delete "+name, err)
	}
	clock.Advance(time.Second)

	want := []event{ // newest first; the group's events outlive it
		groupEvent(tDelete, "web", msgDeleted),
		groupEvent(tRevoke, "web", msgRevoked("sg-app", ownerA)),
		groupEvent(tAuthorize, "web", msgAuthorized("sg-app", ownerA)),
		groupEvent(tCreate, "web", msgCreated),
	}
	wantEvents(t, c, "default window", &elasticache.DescribeEventsInput{}, want...)
	wantEvents(t, c, "the group's events", &elasticache.DescribeEventsInput{
		SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String("WEB"),
	}, want...)
	wantEvents(t, c, "another group's events", &elasticache.DescribeEventsInput{
		SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String("missing"),
	})
	wantEvents(t, c, "another source type", &elasticache.DescribeEventsInput{SourceType: types.SourceTypeCacheCluster})
	wantEvents(t, c, "another source type with the name", &elasticache.DescribeEventsInput{
		SourceType: types.SourceTypeCacheCluster, SourceIdentifier: aws.String("web"),
	})

	t.Run("default gets events too", func(t *testing.T) {
		tDefault := clock.Advance(time.Second)
		mustAuthorize(t, c, "default", "sg-d", ownerB)
		wantEvents(t, c, "default's events", &elasticache.DescribeEventsInput{
			SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String("Default"),
		}, groupEvent(tDefault, "default", msgAuthorized("sg-d", ownerB)))
	})
}

// TestEventsWindow places events at known ages and asks for every kind of
// window, bounds included.
func TestEventsWindow(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(clockStart)
	s := startServerClock(t, clock)
	c := client(t, s.Addr, "343434343434", defaultRegion)

	now := clockStart.Add(48 * time.Hour)
	ages := []struct {
		name string
		age  time.Duration
	}{
		{"day", 24 * time.Hour},
		{"past-hour", 60*time.Minute + time.Millisecond},
		{"hour", 60 * time.Minute},
		{"half-hour", 30 * time.Minute},
		{"now", 0},
	}
	at := map[string]event{}
	for _, a := range ages { // oldest first
		clock.Set(now.Add(-a.age))
		create(t, c, a.name, "d")
		at[a.name] = groupEvent(now.Add(-a.age), a.name, msgCreated)
	}
	clock.Set(now)
	ev := func(names ...string) []event {
		out := make([]event, 0, len(names))
		for _, n := range names {
			out = append(out, at[n])
		}
		return out
	}
	ago := func(d time.Duration) *time.Time { return aws.Time(now.Add(-d)) }

	for _, tc := range []struct {
		name string
		in   elasticache.DescribeEventsInput
		want []event
	}{
		{"default: the last 60 minutes", elasticache.DescribeEventsInput{}, ev("now", "half-hour", "hour")},
		{"Duration 30", elasticache.DescribeEventsInput{Duration: aws.Int32(30)}, ev("now", "half-hour")},
		{"Duration 61", elasticache.DescribeEventsInput{Duration: aws.Int32(61)}, ev("now", "half-hour", "hour", "past-hour")},
		{"Duration 14 days", elasticache.DescribeEventsInput{Duration: aws.Int32(20160)}, ev("now", "half-hour", "hour", "past-hour", "day")},
		{"Duration 1", elasticache.DescribeEventsInput{Duration: aws.Int32(1)}, ev("now")},
		{"StartTime and EndTime", elasticache.DescribeEventsInput{StartTime: ago(61 * time.Minute), EndTime: ago(30 * time.Minute)}, ev("half-hour", "hour", "past-hour")},
		{"StartTime equal to EndTime", elasticache.DescribeEventsInput{StartTime: ago(time.Hour), EndTime: ago(time.Hour)}, ev("hour")},
		{"StartTime and EndTime around nothing", elasticache.DescribeEventsInput{StartTime: ago(59 * time.Minute), EndTime: ago(31 * time.Minute)}, nil},
		{"StartTime and Duration", elasticache.DescribeEventsInput{StartTime: ago(61 * time.Minute), Duration: aws.Int32(1)}, ev("hour", "past-hour")},
		{"EndTime and Duration", elasticache.DescribeEventsInput{EndTime: ago(30 * time.Minute), Duration: aws.Int32(30)}, ev("half-hour", "hour")},
		{"StartTime alone: until now", elasticache.DescribeEventsInput{StartTime: ago(time.Hour)}, ev("now", "half-hour", "hour")},
		{"EndTime alone: everything kept until then", elasticache.DescribeEventsInput{EndTime: ago(time.Hour)}, ev("hour", "past-hour", "day")},
		{"a window in the future", elasticache.DescribeEventsInput{StartTime: aws.Time(now.Add(time.Millisecond)), EndTime: aws.Time(now.Add(time.Hour))}, nil},
		{"by source", elasticache.DescribeEventsInput{Duration: aws.Int32(20160), SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String("DAY")}, ev("day")},
		{"by source type", elasticache.DescribeEventsInput{SourceType: types.SourceTypeCacheSecurityGroup}, ev("now", "half-hour", "hour")},
		{"MaxRecords 20", elasticache.DescribeEventsInput{MaxRecords: aws.Int32(20)}, ev("now", "half-hour", "hour")},
		{"MaxRecords 100", elasticache.DescribeEventsInput{MaxRecords: aws.Int32(100)}, ev("now", "half-hour", "hour")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantEvents(t, c, tc.name, &tc.in, tc.want...)
		})
	}

	for _, tc := range []struct {
		name  string
		in    elasticache.DescribeEventsInput
		check func(*testing.T, error)
	}{
		{"StartTime, EndTime and Duration", elasticache.DescribeEventsInput{StartTime: ago(time.Hour), EndTime: ago(0), Duration: aws.Int32(60)},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination",
					msg: "StartTime, EndTime and Duration cannot all be specified."})
			}},
		{"SourceIdentifier without SourceType", elasticache.DescribeEventsInput{SourceIdentifier: aws.String("now")},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination",
					msg: "SourceIdentifier requires SourceType."})
			}},
		{"StartTime after EndTime", elasticache.DescribeEventsInput{StartTime: ago(time.Hour), EndTime: ago(time.Hour + time.Millisecond)},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("StartTime"))
			}},
		{"StartTime in the future after EndTime", elasticache.DescribeEventsInput{StartTime: aws.Time(now.Add(time.Hour)), EndTime: aws.Time(now)},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("StartTime"))
			}},
		{"MaxRecords 19", elasticache.DescribeEventsInput{MaxRecords: aws.Int32(19)},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("MaxRecords"))
			}},
		{"MaxRecords 101", elasticache.DescribeEventsInput{MaxRecords: aws.Int32(101)},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("MaxRecords"))
			}},
		{"Duration 0", elasticache.DescribeEventsInput{Duration: aws.Int32(0)},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("Duration"))
			}},
		{"Duration 20161", elasticache.DescribeEventsInput{Duration: aws.Int32(20161)},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("Duration"))
			}},
		{"unknown SourceType", elasticache.DescribeEventsInput{SourceType: types.SourceType("cache-widget")},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("SourceType"))
			}},
		{"bogus Marker", elasticache.DescribeEventsInput{Marker: aws.String("bogus")},
			func(t *testing.T, err error) {
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("Marker"))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := describeEvents(t, c, &tc.in)
			tc.check(t, err)
		})
	}

	// Failed DescribeEvents record nothing either.
	wantEvents(t, c, "after the failures", &elasticache.DescribeEventsInput{Duration: aws.Int32(20160)}, ev("now", "half-hour", "hour", "past-hour", "day")...)
}

// TestEventsPagination pages through 45 events with the SDK's paginator,
// once with distinct times and once all at one instant.
func TestEventsPagination(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(clockStart)
	s := startServerClock(t, clock)

	for _, tc := range []struct {
		name, key string
		step      time.Duration
	}{
		{"distinct times", "565656565656", time.Second},
		{"one instant", "676767676767", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t, s.Addr, tc.key, defaultRegion)
			base := clock.Time()
			var want []event
			for i := range 45 {
				name := "g" + pad2(i)
				clock.Set(base.Add(time.Duration(i) * tc.step))
				create(t, c, name, "d")
				want = append([]event{groupEvent(base.Add(time.Duration(i)*tc.step), name, msgCreated)}, want...)
			}
			p := elasticache.NewDescribeEventsPaginator(c, &elasticache.DescribeEventsInput{MaxRecords: aws.Int32(20)})
			var got []event
			var sizes []int
			for p.HasMorePages() {
				if len(sizes) > 10 {
					t.Fatalf("still more pages after %d: %v", len(sizes), sizes)
				}
				out, err := p.NextPage(t.Context())
				if err != nil {
					t.Fatalf("page %d: %v", len(sizes)+1, err)
				}
				wantRequestID(t, out.ResultMetadata)
				sizes = append(sizes, len(out.Events))
				if last := len(got)+len(out.Events) == 45; last != (out.Marker == nil) {
					t.Errorf("page %d: Marker = %v after %d of 45 events", len(sizes), aws.ToString(out.Marker), len(got)+len(out.Events))
				}
				got = append(got, toEvents(t, out.Events)...)
			}
			if diff := cmp.Diff([]int{20, 20, 5}, sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			if tc.step == 0 {
				// One instant: the order among them is the server's; each
				// event must come exactly once.
				seen := map[string]int{}
				for _, e := range got {
					seen[e.SourceIdentifier]++
					if !e.Date.Equal(base) || e.Message != msgCreated {
						t.Errorf("event %v, want created at %v", e, base)
					}
				}
				for i := range 45 {
					if n := seen["g"+pad2(i)]; n != 1 {
						t.Errorf("event of g%s listed %d times, want once", pad2(i), n)
					}
				}
				if len(got) != 45 {
					t.Errorf("%d events over all pages, want 45", len(got))
				}
			} else if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("events over all pages (-want +got):\n%s", diff)
			}

			if tc.step != 0 {
				// Exactly MaxRecords events: one page, no Marker.
				wantEvents(t, c, "the last 20", &elasticache.DescribeEventsInput{
					MaxRecords: aws.Int32(20), StartTime: aws.Time(base.Add(25 * time.Second)),
				}, want[:20]...)
			}

			// A marker is bound to its account, region and operation.
			_, marker, err := describeEvents(t, c, &elasticache.DescribeEventsInput{MaxRecords: aws.Int32(20)})
			if err != nil || marker == nil {
				t.Fatalf("first page: marker %v, error %v; want a marker", marker, err)
			}
			for _, other := range []*elasticache.Client{
				client(t, s.Addr, "989898989898", defaultRegion),
				client(t, s.Addr, tc.key, "eu-west-1"),
			} {
				_, _, err := describeEvents(t, other, &elasticache.DescribeEventsInput{MaxRecords: aws.Int32(20), Marker: marker})
				wantErr[*types.InvalidParameterValueException](t, err, invalidValue("Marker"))
			}
			_, err = c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{MaxRecords: aws.Int32(20), Marker: marker})
			wantErr[*types.InvalidParameterValueException](t, err, invalidValue("Marker"))
			groups, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{MaxRecords: aws.Int32(20)})
			if err != nil || groups.Marker == nil {
				t.Fatalf("describe groups: marker %v, error %v; want a marker", groups.Marker, err)
			}
			_, _, err = describeEvents(t, c, &elasticache.DescribeEventsInput{MaxRecords: aws.Int32(20), Marker: groups.Marker})
			wantErr[*types.InvalidParameterValueException](t, err, invalidValue("Marker"))
			clock.Set(base.Add(time.Minute))
		})
	}

	t.Run("filtered by source", func(t *testing.T) {
		c := client(t, s.Addr, "454545454545", defaultRegion)
		var want []event // of group a, newest first
		step := func(group, message string, f func()) {
			at := clock.Advance(time.Second)
			f()
			if group == "a" {
				want = append([]event{groupEvent(at, group, message)}, want...)
			}
		}
		step("a", msgCreated, func() { create(t, c, "a", "d") })
		step("b", msgCreated, func() { create(t, c, "b", "d") })
		for i := range 48 { // 24 for each group, interleaved
			group, name := "a", "sg-"+pad2(i)
			if i%2 == 1 {
				group = "b"
			}
			step(group, msgAuthorized(name, ownerA), func() { mustAuthorize(t, c, group, name, ownerA) })
		}
		p := elasticache.NewDescribeEventsPaginator(c, &elasticache.DescribeEventsInput{
			MaxRecords: aws.Int32(20), SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String("A"),
		})
		var got []event
		var sizes []int
		for p.HasMorePages() {
			if len(sizes) > 10 {
				t.Fatalf("still more pages after %d: %v", len(sizes), sizes)
			}
			out, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatalf("page %d: %v", len(sizes)+1, err)
			}
			sizes = append(sizes, len(out.Events))
			got = append(got, toEvents(t, out.Events)...)
		}
		if diff := cmp.Diff([]int{20, 5}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("events of a over all pages (-want +got):\n%s", diff)
		}
	})
}

// TestEventsRetention checks that events older than 14 days are not
// listed, and that the server's sweep removes them from storage: moved
// back in time, the server no longer has them.
func TestEventsRetention(t *testing.T) {
	t.Parallel()
	const sweep = 20 * time.Millisecond
	clock := newFakeClock(clockStart)
	s := startServerClock(t, clock, withEventSweepInterval(sweep))
	c := client(t, s.Addr, "787878787878", "ca-central-1")

	t0 := clockStart
	create(t, c, "old", "d")
	clock.Set(t0.Add(time.Hour))
	create(t, c, "new", "d")
	old := groupEvent(t0, "old", msgCreated)
	young := groupEvent(t0.Add(time.Hour), "new", msgCreated)
	since := &elasticache.DescribeEventsInput{StartTime: aws.Time(t0.Add(-24 * time.Hour))}

	retention := 14 * 24 * time.Hour
	clock.Set(t0.Add(retention))
	wantEvents(t, c, "exactly 14 days later", allEvents(), young, old)
	wantEvents(t, c, "exactly 14 days later, by StartTime", since, young, old)

	expired := t0.Add(retention + time.Millisecond)
	clock.Set(expired)
	wantEvents(t, c, "14 days and 1 ms later", allEvents(), young)
	wantEvents(t, c, "14 days and 1 ms later, by StartTime", since, young)
	wantEvents(t, c, "14 days and 1 ms later, by source", &elasticache.DescribeEventsInput{
		StartTime: aws.Time(t0), SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String("old"),
	})

	// The sweeper reads the clock at every sweep. Wait until it has read
	// the expired time, then go back to a time when the old event would
	// be listed: once the sweep has committed, it is gone for good.
	deadline := time.Now().Add(20 * time.Second)
	back := t0.Add(2 * time.Hour)
	for {
		clock.Set(expired)
		clock.waitRead(t, deadline)
		clock.Set(back)
		got, _, err := describeEvents(t, c, since)
		if err != nil {
			t.Fatalf("describe events: %v", err)
		}
		if diff := cmp.Diff([]event{young}, got, cmp.Comparer(time.Time.Equal)); diff == "" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the expired event is still stored after the deadline (-want +got):\n%s", diff)
		}
	}
	// The young event is not touched by the sweep, and new events keep
	// coming.
	clock.Set(expired)
	clock.waitRead(t, deadline)
	clock.Set(back)
	create(t, c, "later", "d")
	wantEvents(t, c, "after the sweep", since, groupEvent(back, "later", msgCreated), young)
}

// TestEventsConcurrentCreates sends 30 creates at once against a quota of
// 10: exactly the 10 that succeeded recorded an event, in the same
// transaction as the group.
func TestEventsConcurrentCreates(t *testing.T) {
	t.Parallel()
	s := startServer(t, withQuota(10))
	c := client(t, s.Addr, "393939393939", defaultRegion)
	names := make([]string, 30)
	for i := range names {
		names[i] = "racer-" + pad2(i)
	}
	var wins []string
	for i, err := range createConcurrently(t, c, names) {
		var quota *types.CacheSecurityGroupQuotaExceededFault
		switch {
		case err == nil:
			wins = append(wins, names[i])
		case errors.As(err, &quota):
		default:
			t.Errorf("create %s: %v, want success or QuotaExceeded", names[i], err)
		}
	}
	if len(wins) != 10 {
		t.Errorf("%d creates succeeded, want 10", len(wins))
	}
	events, _, err := describeEvents(t, c, &elasticache.DescribeEventsInput{})
	if err != nil {
		t.Fatalf("describe events: %v", err)
	}
	var got []string
	for _, e := range events {
		if e.Message != msgCreated || !e.Date.Equal(newFixedClock().t) {
			t.Errorf("event %v, want a create at the server's time", e)
		}
		got = append(got, e.SourceIdentifier)
	}
	slices.Sort(got)
	wantNames(t, "groups with a create event", got, wins)
}
