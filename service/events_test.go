package service

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

type ev struct{ ID, Msg string }

func events(tb testing.TB, f *fixture, ctx context.Context, in *api.DescribeEventsInput) []ev {
	tb.Helper()
	out, err := f.svc.DescribeEvents(ctx, in)
	mustOK(tb, err)
	got := []ev{}
	for _, e := range out.Events {
		if *e.SourceType != "cache-security-group" {
			tb.Fatalf("source type %q", *e.SourceType)
		}
		got = append(got, ev{*e.SourceIdentifier, *e.Message})
	}
	return got
}

func TestEventsForEveryChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "Web")
	f.clock.Advance(time.Second)
	_, err := authorize(f, ctxA, "web", "app", "123456789012")
	mustOK(t, err)
	f.clock.Advance(time.Second)
	_, err = revoke(f, ctxA, "web", "app", "123456789012")
	mustOK(t, err)
	f.clock.Advance(time.Second)
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("web")})
	mustOK(t, err)
	// Failed requests record nothing.
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("web")})
	wantFault(t, err, "CacheSecurityGroupNotFound", 404, "")
	want := []ev{
		{"web", "Cache security group deleted"},
		{"web", "Revoked EC2 security group app (owner 123456789012)"},
		{"web", "Authorized EC2 security group app (owner 123456789012)"},
		{"web", "Cache security group created"},
	}
	if d := cmp.Diff(want, events(t, f, ctxA, &api.DescribeEventsInput{})); d != "" {
		t.Fatalf("events, newest first (-want +got):\n%s", d)
	}
	out, err := f.svc.DescribeEvents(ctxA, &api.DescribeEventsInput{})
	mustOK(t, err)
	if got, want := *out.Events[0].Date, f.clock.Now(); !got.Equal(want) {
		t.Fatalf("newest event date %v, want %v", got, want)
	}
	// Other accounts and regions see none of them.
	for _, ctx := range []context.Context{as("222222222222", "us-east-1"), as("111111111111", "eu-west-1")} {
		if got := events(t, f, ctx, &api.DescribeEventsInput{}); len(got) != 0 {
			t.Fatalf("another scope sees %v", got)
		}
	}
	// Filters: source identifier matches case-insensitively for groups.
	got := events(t, f, ctxA, &api.DescribeEventsInput{SourceType: s("cache-security-group"), SourceIdentifier: s("WEB")})
	if len(got) != 4 {
		t.Fatalf("filtered by WEB: %v", got)
	}
	if got := events(t, f, ctxA, &api.DescribeEventsInput{SourceType: s("cache-cluster")}); len(got) != 0 {
		t.Fatalf("cache-cluster events: %v", got)
	}
}

func TestEventWindows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{CacheSecurityGroupQuota: 100})
	t0 := f.clock.Now()
	for i := 0; i < 5; i++ { // one group every 30 minutes: t0, t0+30m, …, t0+2h
		create(t, f, ctxA, fmt.Sprintf("g%d", i))
		f.clock.Advance(30 * time.Minute)
	}
	names := func(in *api.DescribeEventsInput) []string {
		var out []string
		for _, e := range events(t, f, ctxA, in) {
			out = append(out, e.ID)
		}
		return out
	}
	ts := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	cases := []struct {
		name string
		in   *api.DescribeEventsInput
		want []string
	}{
		{"default: the last 60 minutes", &api.DescribeEventsInput{}, []string{"g4", "g3"}},
		{"duration alone", &api.DescribeEventsInput{Duration: i32(90)}, []string{"g4", "g3", "g2"}},
		{"start and end, inclusive", &api.DescribeEventsInput{StartTime: ts(30 * time.Minute), EndTime: ts(90 * time.Minute)}, []string{"g3", "g2", "g1"}},
		{"start and duration", &api.DescribeEventsInput{StartTime: ts(0), Duration: i32(30)}, []string{"g1", "g0"}},
		{"end and duration", &api.DescribeEventsInput{EndTime: ts(60 * time.Minute), Duration: i32(29)}, []string{"g2"}},
		{"start alone: until now", &api.DescribeEventsInput{StartTime: ts(61 * time.Minute)}, []string{"g4", "g3"}},
		{"end alone: all kept until end", &api.DescribeEventsInput{EndTime: ts(30 * time.Minute)}, []string{"g1", "g0"}},
	}
	for _, tc := range cases {
		if got := names(tc.in); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDescribeEventsValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	now := f.clock.Now()
	later := now.Add(time.Hour)
	cases := []struct {
		name string
		in   *api.DescribeEventsInput
		code string
	}{
		{"all three", &api.DescribeEventsInput{StartTime: &now, EndTime: &later, Duration: i32(5)}, "InvalidParameterCombination"},
		{"start after end", &api.DescribeEventsInput{StartTime: &later, EndTime: &now}, "InvalidParameterValue"},
		{"identifier without type", &api.DescribeEventsInput{SourceIdentifier: s("web")}, "InvalidParameterCombination"},
		{"unknown type", &api.DescribeEventsInput{SourceType: s("cache-widget")}, "InvalidParameterValue"},
		{"duration 0", &api.DescribeEventsInput{Duration: i32(0)}, "InvalidParameterValue"},
		{"duration too long", &api.DescribeEventsInput{Duration: i32(20161)}, "InvalidParameterValue"},
		{"MaxRecords 19", &api.DescribeEventsInput{MaxRecords: i32(19)}, "InvalidParameterValue"},
		{"MaxRecords 101", &api.DescribeEventsInput{MaxRecords: i32(101)}, "InvalidParameterValue"},
		{"forged marker", &api.DescribeEventsInput{Marker: s("forged")}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		_, err := f.svc.DescribeEvents(ctxA, tc.in)
		wantFault(t, err, tc.code, 400, "")
	}
	for _, d := range []int32{1, 20160} {
		_, err := f.svc.DescribeEvents(ctxA, &api.DescribeEventsInput{Duration: i32(d)})
		mustOK(t, err)
	}
}

func TestEventPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{CacheSecurityGroupQuota: 100})
	for i := 0; i < 45; i++ {
		create(t, f, ctxA, fmt.Sprintf("g%02d", i))
		if i%2 == 0 {
			f.clock.Advance(time.Second) // some share a timestamp, some do not
		}
	}
	var got []string
	var marker *string
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		out, err := f.svc.DescribeEvents(ctxA, &api.DescribeEventsInput{MaxRecords: i32(20), Marker: marker})
		mustOK(t, err)
		for _, e := range out.Events {
			got = append(got, *e.SourceIdentifier)
		}
		if out.Marker == nil {
			break
		}
		marker = out.Marker
	}
	if len(got) != 45 {
		t.Fatalf("%d events over all pages, want 45: %v", len(got), got)
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Fatalf("%s twice", g)
		}
		seen[g] = true
	}
	// A marker of another operation is refused.
	out, err := f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(20)})
	mustOK(t, err)
	_, err = f.svc.DescribeEvents(ctxA, &api.DescribeEventsInput{Marker: out.Marker})
	wantFault(t, err, "InvalidParameterValue", 400, "")
}

func TestEventsExpireFromStorage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "old")
	create(t, f, as("222222222222", "eu-west-1"), "old")
	f.clock.Advance(EventRetention - time.Minute)
	create(t, f, ctxA, "young")
	n, err := f.svc.ExpireEvents(context.Background(), 0)
	mustOK(t, err)
	if n != 0 {
		t.Fatalf("expired %d events before their time", n)
	}
	f.clock.Advance(2 * time.Minute)
	// Past retention they are never shown, even before removal …
	if got := events(t, f, ctxA, &api.DescribeEventsInput{Duration: i32(20160)}); !cmp.Equal(got, []ev{{"young", "Cache security group created"}}) {
		t.Fatalf("events past retention shown: %v", got)
	}
	// … and removal deletes them from storage, in every scope.
	n, err = f.svc.ExpireEvents(context.Background(), 0)
	mustOK(t, err)
	if n != 2 {
		t.Fatalf("expired %d, want 2", n)
	}
	count := 0
	mustOK(t, f.store.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(nil, nil, func(k, _ []byte) (bool, error) {
			if strings.Contains(string(k), "/ev/") || strings.HasPrefix(string(k), "x/ev/") {
				count++
			}
			return true, nil
		})
	}))
	if count != 2 { // the young event and its expiry index entry
		t.Fatalf("%d event keys left in storage, want 2", count)
	}
	// A limit bounds one sweep.
	for i := 0; i < 5; i++ {
		create(t, f, ctxA, fmt.Sprintf("batch%d", i))
	}
	f.clock.Advance(EventRetention + time.Minute)
	n, err = f.svc.ExpireEvents(context.Background(), 4)
	mustOK(t, err)
	if n != 4 {
		t.Fatalf("limited sweep expired %d, want 4", n)
	}
	n, err = f.svc.ExpireEvents(context.Background(), 0)
	mustOK(t, err)
	if n != 2 {
		t.Fatalf("second sweep expired %d, want 2", n)
	}
}

func TestEventWindowInTheFuture(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "web")
	future := f.clock.Now().Add(time.Hour)
	if got := events(t, f, ctxA, &api.DescribeEventsInput{StartTime: &future}); len(got) != 0 {
		t.Fatalf("events after a future StartTime: %v", got)
	}
}
