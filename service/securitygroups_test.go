package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

func TestCreateReturnsGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	out, err := f.svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: s("My-Group"), Description: s("Ünïcode <&> description"),
	})
	mustOK(t, err)
	want := &api.CacheSecurityGroup{
		ARN:                    s("arn:aws:elasticache:us-east-1:111111111111:securitygroup:my-group"),
		CacheSecurityGroupName: s("my-group"),
		Description:            s("Ünïcode <&> description"),
		EC2SecurityGroups:      []api.EC2SecurityGroup{},
		OwnerId:                s("111111111111"),
	}
	if d := cmp.Diff(want, out.CacheSecurityGroup); d != "" {
		t.Fatalf("created group (-want +got):\n%s", d)
	}
}

func TestNamesAreCaseInsensitive(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "MixedCase")
	out, err := f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: s("MIXEDCASE")})
	mustOK(t, err)
	if got := *out.CacheSecurityGroups[0].CacheSecurityGroupName; got != "mixedcase" {
		t.Fatalf("name = %q, want lowercase", got)
	}
	_, err = f.svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s("mixedCASE"), Description: s("d")})
	wantFault(t, err, "CacheSecurityGroupAlreadyExists", 400, "CacheSecurityGroup mixedcase already exists.")
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("MixedCASE")})
	mustOK(t, err)
}

func TestDefaultGroupExistsEverywhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	for _, ctx := range []context.Context{ctxA, as("222222222222", "eu-west-1"), as("000000000000", "ap-southeast-2")} {
		c, _ := api.CallerFrom(ctx)
		out, err := f.svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: s("Default")})
		mustOK(t, err)
		want := []api.CacheSecurityGroup{{
			ARN:                    s("arn:aws:elasticache:" + c.Region + ":" + c.AccountID + ":securitygroup:default"),
			CacheSecurityGroupName: s("default"),
			Description:            s("default"),
			EC2SecurityGroups:      []api.EC2SecurityGroup{},
			OwnerId:                s(c.AccountID),
		}}
		if d := cmp.Diff(want, out.CacheSecurityGroups); d != "" {
			t.Fatalf("default group (-want +got):\n%s", d)
		}
		if got := describeAll(t, f, ctx, 100); !cmp.Equal(got, []string{"default"}) {
			t.Fatalf("list = %v, want [default]", got)
		}
	}
	// Looking at default groups stores nothing: state does not grow with
	// every account or region a client invents.
	err := f.store.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan([]byte("a/"), nil, func(k, _ []byte) (bool, error) {
			return false, fmt.Errorf("unexpected key %q", k)
		})
	})
	mustOK(t, err)
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	cases := []struct {
		name, group, desc string
		tags              []api.Tag
		code              string
		msg               string // exact, or a fragment when fragment is set
		fragment          bool
	}{
		{"empty name", "", "d", nil, "InvalidParameterValue", "CacheSecurityGroupName is required", false},
		{"name too long", long(256, "a"), "d", nil, "InvalidParameterValue", "must be at most 255 characters", true},
		{"underscore", "my_group", "d", nil, "InvalidParameterValue", "ASCII letters, digits and hyphens", true},
		{"space", "my group", "d", nil, "InvalidParameterValue", "ASCII letters, digits and hyphens", true},
		{"non-ASCII letter", "grüppe", "d", nil, "InvalidParameterValue", "ASCII letters, digits and hyphens", true},
		{"default", "default", "d", nil, "InvalidParameterValue", "reserved", true},
		{"DEFAULT", "DEFAULT", "d", nil, "InvalidParameterValue", "reserved", true},
		{"empty description", "g", "", nil, "InvalidParameterValue", "Description is required", false},
		{"description too long", "g", long(256, "é"), nil, "InvalidParameterValue", "Description: must be at most 255 characters", true},
		{"tag without key", "g", "d", []api.Tag{{Value: s("v")}}, "InvalidParameterValue", "every tag must have a Key", true},
		{"empty tag key", "g", "d", []api.Tag{{Key: s("")}}, "InvalidParameterValue", "tag keys must be 1 to 128 characters", true},
		{"tag key too long", "g", "d", []api.Tag{{Key: s(long(129, "k"))}}, "InvalidParameterValue", "tag keys must be 1 to 128 characters", true},
		{"tag value too long", "g", "d", []api.Tag{{Key: s("k"), Value: s(long(257, "v"))}}, "InvalidParameterValue", "tag values must be at most 256 characters", true},
		{"aws: prefix", "g", "d", []api.Tag{{Key: s("aws:owner")}}, "InvalidParameterValue", "must not start with aws:", true},
		{"AWS: prefix", "g", "d", []api.Tag{{Key: s("AWS:owner")}}, "InvalidParameterValue", "must not start with aws:", true},
		{"ampersand in value", "g", "d", []api.Tag{{Key: s("k"), Value: s("a&b")}}, "InvalidParameterValue", "tag values may contain only", true},
		{"star in key", "g", "d", []api.Tag{{Key: s("k*")}}, "InvalidParameterValue", "tag keys may contain only", true},
		{"51 tags", "g", "d", nTags(51), "TagQuotaPerResourceExceeded", "The maximum number of tags permitted on a resource is 50.", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{})
			_, err := f.svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: s(tc.group), Description: s(tc.desc), Tags: tc.tags,
			})
			if tc.fragment {
				wantFaultContaining(t, err, tc.code, 400, tc.msg)
			} else {
				wantFault(t, err, tc.code, 400, tc.msg)
			}
			// A request that fails changes nothing.
			if got := describeAll(t, f, ctxA, 100); !cmp.Equal(got, []string{"default"}) {
				t.Fatalf("after a failed create the groups are %v", got)
			}
		})
	}
}

func nTags(n int) []api.Tag {
	tags := make([]api.Tag, n)
	for i := range tags {
		tags[i] = api.Tag{Key: s(fmt.Sprintf("key-%02d", i)), Value: s("v")}
	}
	return tags
}

func TestCreateAcceptsLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	name := strings.Repeat("a", 254) + "-"
	tags := append(nTags(50), api.Tag{Key: s("key-00"), Value: s("last wins")}) // 50 distinct keys
	tags = append(tags, api.Tag{Key: s("Ünï cödé _.:/=+-@"), Value: nil})
	tags = tags[:len(tags)-1] // keep 50 distinct: checked separately below
	_, err := f.svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: s(name), Description: s(strings.Repeat("é", 255)), Tags: tags,
	})
	mustOK(t, err)
	ts := storedTags(t, f, ctxA, name)
	if len(ts) != 50 || ts["key-00"] != "last wins" {
		t.Fatalf("stored tags: %d keys, key-00=%q; want 50 and the last value", len(ts), ts["key-00"])
	}
	_, err = f.svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: s("unicode-tags"), Description: s("d"),
		Tags: []api.Tag{{Key: s("Ünï cödé _.:/=+-@"), Value: nil}, {Key: s(strings.Repeat("k", 128)), Value: s(strings.Repeat("v", 256))}},
	})
	mustOK(t, err)
	if v, ok := storedTags(t, f, ctxA, "unicode-tags")["Ünï cödé _.:/=+-@"]; !ok || v != "" {
		t.Fatalf("a null value must be stored as \"\", got %q (present %v)", v, ok)
	}
}

// storedTags reads the tags stored for a group.
func storedTags(tb testing.TB, f *fixture, ctx context.Context, name string) schema.Tags {
	tb.Helper()
	sc, err := scopeOf(ctx)
	mustOK(tb, err)
	var ts schema.Tags
	mustOK(tb, f.store.View(context.Background(), func(tx storage.Tx) error {
		var err error
		ts, err = schema.GetTags(tx, sc, securityGroupKind, name)
		return err
	}))
	return ts
}

func storedGroup(tb testing.TB, f *fixture, ctx context.Context, name string) *groupRecord {
	tb.Helper()
	sc, err := scopeOf(ctx)
	mustOK(tb, err)
	var rec *groupRecord
	mustOK(tb, f.store.View(context.Background(), func(tx storage.Tx) error {
		var err error
		rec, err = securityGroups.GetStored(tx, sc, name)
		return err
	}))
	if rec == nil {
		tb.Fatalf("group %s not stored", name)
	}
	return rec
}

func TestQuota(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{CacheSecurityGroupQuota: 3, Accounts: map[string]AccountConfig{"222222222222": {CacheSecurityGroupQuota: 1}}})
	for i := 0; i < 3; i++ {
		create(t, f, ctxA, fmt.Sprintf("g%d", i))
	}
	_, err := f.svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s("g3"), Description: s("d")})
	wantFault(t, err, "QuotaExceeded.CacheSecurityGroup", 400, "Quota exceeded for cache security groups.")
	// A duplicate is AlreadyExists even when the quota is full.
	_, err = f.svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s("G0"), Description: s("d")})
	wantFault(t, err, "CacheSecurityGroupAlreadyExists", 400, "")
	// The quota is per region: another region has its own.
	create(t, f, as("111111111111", "eu-west-1"), "g3")
	// Deleting frees a slot.
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("g1")})
	mustOK(t, err)
	create(t, f, ctxA, "g4")
	// A per-account value overrides the global one.
	ctxB := as("222222222222", "us-east-1")
	create(t, f, ctxB, "only")
	_, err = f.svc.CreateCacheSecurityGroup(ctxB, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s("second"), Description: s("d")})
	wantFault(t, err, "QuotaExceeded.CacheSecurityGroup", 400, "")
	if got := describeAll(t, f, ctxA, 20); !cmp.Equal(got, []string{"default", "g0", "g2", "g4"}) {
		t.Fatalf("groups = %v", got)
	}
}

func TestIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "shared-name")
	create(t, f, ctxA, "only-a")
	others := []context.Context{as("222222222222", "us-east-1"), as("111111111111", "eu-west-1")}
	for _, ctx := range others {
		_, err := f.svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: s("only-a")})
		wantFault(t, err, "CacheSecurityGroupNotFound", 404, "CacheSecurityGroup only-a not found.")
		_, err = f.svc.DeleteCacheSecurityGroup(ctx, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("only-a")})
		wantFault(t, err, "CacheSecurityGroupNotFound", 404, "")
		create(t, f, ctx, "shared-name")
		if got := describeAll(t, f, ctx, 100); !cmp.Equal(got, []string{"default", "shared-name"}) {
			t.Fatalf("other scope sees %v", got)
		}
	}
	if got := describeAll(t, f, ctxA, 100); !cmp.Equal(got, []string{"default", "only-a", "shared-name"}) {
		t.Fatalf("first scope sees %v", got)
	}
}

func TestDescribeNotFoundAndMaxRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: s("Nope")})
	wantFault(t, err, "CacheSecurityGroupNotFound", 404, "CacheSecurityGroup nope not found.")
	_, err = f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: s("bad name")})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "CacheSecurityGroupName")
	for _, n := range []int32{-1, 0, 19, 101, 1 << 30} {
		_, err = f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(n)})
		wantFault(t, err, "InvalidParameterValue", 400, "Invalid value for parameter MaxRecords: must be between 20 and 100.")
	}
	for _, n := range []int32{20, 100} {
		_, err = f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(n)})
		mustOK(t, err)
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{CacheSecurityGroupQuota: 1000})
	want := []string{"default"}
	// Names on both sides of "default", so the virtual group lands mid-page.
	for i := 0; i < 45; i++ {
		n := fmt.Sprintf("%c-%02d", "bdf"[i%3], i)
		create(t, f, ctxA, n)
		want = append(want, n)
	}
	sort.Strings(want)
	for _, size := range []int32{20, 23, 46, 100} {
		if got := describeAll(t, f, ctxA, size); !cmp.Equal(got, want) {
			t.Fatalf("pages of %d: %s", size, cmp.Diff(want, got))
		}
	}
	// Exactly one full page: no marker on it.
	g := newFixture(t, Config{})
	for i := 0; i < 19; i++ {
		create(t, g, ctxA, fmt.Sprintf("g%02d", i))
	}
	out, err := g.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(20)})
	mustOK(t, err)
	if len(out.CacheSecurityGroups) != 20 || out.Marker != nil {
		t.Fatalf("20 groups, page 20: got %d groups, marker %v", len(out.CacheSecurityGroups), out.Marker)
	}
}

func TestMarkers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	st, err := bolt.Open(path, bolt.Config{NoSync: true})
	mustOK(t, err)
	svc, err := Open(context.Background(), st, newFakeClock(), Config{})
	mustOK(t, err)
	for i := 0; i < 30; i++ {
		_, err := svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s(fmt.Sprintf("g%02d", i)), Description: s("d")})
		mustOK(t, err)
	}
	out, err := svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(20)})
	mustOK(t, err)
	if out.Marker == nil {
		t.Fatal("no marker on a first page of 31 groups")
	}
	marker := *out.Marker
	if strings.Contains(marker, "g") && strings.Contains(marker, "default") {
		t.Fatalf("marker %q shows its position in clear", marker)
	}
	bad := map[string]context.Context{
		"other account": as("222222222222", "us-east-1"),
		"other region":  as("111111111111", "us-west-2"),
	}
	for name, ctx := range bad {
		_, err := svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{Marker: &marker})
		wantFault(t, err, "InvalidParameterValue", 400, "Invalid value for parameter Marker: the marker is not valid for this request.")
		_ = name
	}
	tampered := []byte(marker)
	tampered[len(tampered)-1] ^= 1
	for _, m := range []string{"", "garbage", "!!!", string(tampered), marker + "A"} {
		_, err := svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{Marker: s(m)})
		wantFault(t, err, "InvalidParameterValue", 400, "")
	}
	// A marker outlives the server: reopen the store and resume with it.
	mustOK(t, st.Close())
	st2, err := bolt.Open(path, bolt.Config{NoSync: true})
	mustOK(t, err)
	defer st2.Close()
	svc2, err := Open(context.Background(), st2, newFakeClock(), Config{})
	mustOK(t, err)
	out2, err := svc2.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(20), Marker: &marker})
	mustOK(t, err)
	if len(out2.CacheSecurityGroups) != 11 || out2.Marker != nil {
		t.Fatalf("second page after restart: %d groups, marker %v; want 11 and none", len(out2.CacheSecurityGroups), out2.Marker)
	}
}

func TestPageCostDoesNotGrowWithGroups(t *testing.T) {
	t.Parallel()
	base := openStore(t, "")
	cs := &countingStore{Store: base}
	svc, err := Open(context.Background(), cs, newFakeClock(), Config{CacheSecurityGroupQuota: 5000})
	mustOK(t, err)
	// Insert directly in one transaction: 2,000 groups through the API
	// would only slow the test down.
	sc := scope{Account: "111111111111", Region: "us-east-1"}
	mustOK(t, base.Update(context.Background(), func(tx storage.Tx) error {
		for i := 0; i < 2000; i++ {
			if err := securityGroups.Insert(tx, sc, &groupRecord{Name: fmt.Sprintf("g%05d", i), Description: "d"}); err != nil {
				return err
			}
		}
		return nil
	}))
	cs.reset()
	out, err := svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(20)})
	mustOK(t, err)
	if v := cs.reset(); v > 21 {
		t.Fatalf("first page visited %d keys, want at most 21", v)
	}
	out, err = svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(20), Marker: out.Marker})
	mustOK(t, err)
	if v := cs.reset(); v > 21 {
		t.Fatalf("second page visited %d keys, want at most 21", v)
	}
	if got := *out.CacheSecurityGroups[0].CacheSecurityGroupName; got != "g00019" {
		t.Fatalf("second page starts at %s, want g00019", got)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "doomed", api.Tag{Key: s("k"), Value: s("v")})
	out, err := f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("DOOMED")})
	mustOK(t, err)
	if out == nil {
		t.Fatal("nil output")
	}
	_, err = f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: s("doomed")})
	wantFault(t, err, "CacheSecurityGroupNotFound", 404, "")
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("doomed")})
	wantFault(t, err, "CacheSecurityGroupNotFound", 404, "CacheSecurityGroup doomed not found.")
	for _, n := range []string{"default", "Default"} {
		_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s(n)})
		wantFault(t, err, "InvalidParameterValue", 400, "The default cache security group cannot be deleted.")
	}
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("")})
	wantFault(t, err, "InvalidParameterValue", 400, "CacheSecurityGroupName is required")
	// Re-creating starts afresh: the old tags are gone with the group.
	create(t, f, ctxA, "doomed")
	storedGroup(t, f, ctxA, "doomed")
	if ts := storedTags(t, f, ctxA, "doomed"); len(ts) != 0 {
		t.Fatalf("tags survived delete: %v", ts)
	}
}

func TestDeleteRefusedWhileEntriesChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{TransitionDelay: 0})
	f.svc.cfg.TransitionDelay = 0
	create(t, f, ctxA, "busy")
	sc, _ := scopeOf(ctxA)
	now := f.clock.Now()
	// An entry whose authorization is still under way (a delay configured).
	f.svc.cfg.TransitionDelay = 60e9
	rec := storedGroup(t, f, ctxA, "busy")
	rec.EC2 = []ec2Record{{Name: "web", Owner: "123456789012", Authorized: now}}
	mustOK(t, f.store.Update(context.Background(), func(tx storage.Tx) error { return securityGroups.Put(tx, sc, rec) }))
	_, err := f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("busy")})
	wantFault(t, err, "InvalidCacheSecurityGroupState", 400, "")
	f.clock.Advance(60e9)
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("busy")})
	mustOK(t, err)
}

func TestModernAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Accounts: map[string]AccountConfig{"999999999999": {Modern: true}}})
	ctx := as("999999999999", "us-east-1")
	const msg = "Use of cache security groups is not permitted in this API version for your account."
	_, err := f.svc.CreateCacheSecurityGroup(ctx, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s("g"), Description: s("d")})
	wantFault(t, err, "InvalidParameterValue", 400, msg)
	_, err = f.svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{})
	wantFault(t, err, "InvalidParameterValue", 400, msg)
	_, err = f.svc.DeleteCacheSecurityGroup(ctx, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("g")})
	wantFault(t, err, "InvalidParameterValue", 400, msg)
	// Parameter values are checked before the era.
	_, err = f.svc.CreateCacheSecurityGroup(ctx, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s("bad_name"), Description: s("d")})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "ASCII letters")
}

func TestSchemaVersion(t *testing.T) {
	t.Parallel()
	st := openStore(t, "")
	_, err := Open(context.Background(), st, nil, Config{})
	mustOK(t, err)
	mustOK(t, st.Update(context.Background(), func(tx storage.Tx) error {
		return tx.Put([]byte("m/schema"), []byte(fmt.Sprintf(`{"version":%d}`, schema.Version+1)))
	}))
	_, err = Open(context.Background(), st, nil, Config{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open on a newer schema: %v, want a refusal", err)
	}
	// An older stamp is upgraded in place.
	mustOK(t, st.Update(context.Background(), func(tx storage.Tx) error {
		return tx.Put([]byte("m/schema"), []byte(`{"version":0}`))
	}))
	_, err = Open(context.Background(), st, nil, Config{})
	mustOK(t, err)
	mustOK(t, st.View(context.Background(), func(tx storage.Tx) error {
		b, err := tx.Get([]byte("m/schema"))
		if err == nil && string(b) != fmt.Sprintf(`{"version":%d}`, schema.Version) {
			return fmt.Errorf("schema stamp %s after upgrade", b)
		}
		return err
	}))
}

func TestRequestWithoutCaller(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := f.svc.DescribeCacheSecurityGroups(context.Background(), &api.DescribeCacheSecurityGroupsInput{})
	var fault api.Fault
	if err == nil || errors.As(err, &fault) {
		t.Fatalf("err = %v; want an internal error, not an AWS fault", err)
	}
}

func TestFaultAfterWriteAborts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	err := f.svc.update(context.Background(), func(tx storage.Tx) (error, error) {
		if err := tx.Put([]byte("a/half"), []byte("x")); err != nil {
			return nil, err
		}
		return groupNotFound("g"), nil
	})
	var fault api.Fault
	if err == nil || errors.As(err, &fault) {
		t.Fatalf("update = %v, want an internal error", err)
	}
	mustOK(t, f.store.View(context.Background(), func(tx storage.Tx) error {
		if _, err := tx.Get([]byte("a/half")); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("the write before the fault was committed (%v)", err)
		}
		return nil
	}))
}

// Found by FuzzMarkerOpen (testdata/fuzz/FuzzMarkerOpen/d0634be600324bf3):
// base64 decoding skips line breaks, so a valid marker with a newline added
// opened as well. A marker has one spelling.
func TestMarkerWithLineBreakIsRefused(t *testing.T) {
	t.Parallel()
	m := schema.NewMarkers([]byte("0123456789abcdef0123456789abcdef"))
	sc := scope{Account: "111111111111", Region: "us-east-1"}
	issued := m.Issue(opDescribeGroups, sc, "g-00019")
	if _, ok := m.Open(opDescribeGroups, sc, issued); !ok {
		t.Fatal("the issued marker does not open")
	}
	for _, bent := range []string{issued[:5] + "\n" + issued[5:], issued + "\r\n", "\n" + issued} {
		if _, ok := m.Open(opDescribeGroups, sc, bent); ok {
			t.Fatalf("marker %q with a line break opened", bent)
		}
	}
}
