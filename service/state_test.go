package service

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/etcd"
)

// The scopes the snapshot tests fill: two accounts in two regions.
var snapshotScopes = []context.Context{
	as("111111111111", "us-east-1"), as("111111111111", "eu-west-1"),
	as("222222222222", "us-east-1"), as("222222222222", "eu-west-1"),
}

// populate stores a bit of everything in each scope through the API:
// groups with tags, ingress authorized and revoked, a customised default
// group, a deleted group's events, events at several times.
func populate(tb testing.TB, f *fixture) {
	tb.Helper()
	for i, ctx := range snapshotScopes {
		create(tb, f, ctx, fmt.Sprintf("Web-%d", i), api.Tag{Key: s("env"), Value: s("prod @ 1.0")}, api.Tag{Key: s("ключ"), Value: s("значение")})
		create(tb, f, ctx, "cache")
		create(tb, f, ctx, "gone")
		f.clock.Advance(1500 * time.Millisecond)
		_, err := authorize(f, ctx, "cache", "app", "123456789012")
		mustOK(tb, err)
		_, err = authorize(f, ctx, "cache", "old", "210987654321")
		mustOK(tb, err)
		_, err = authorize(f, ctx, "default", "sg-default", "123456789012")
		mustOK(tb, err)
		f.clock.Advance(time.Second)
		_, err = revoke(f, ctx, "cache", "old", "210987654321")
		mustOK(tb, err)
		_, err = f.svc.AddTagsToResource(ctx, &api.AddTagsToResourceInput{
			ResourceName: s(fmt.Sprintf("arn:aws:elasticache:%s:%s:securitygroup:default", region(ctx), account(ctx))),
			Tags:         []api.Tag{{Key: s("empty")}},
		})
		mustOK(tb, err)
		_, err = f.svc.DeleteCacheSecurityGroup(ctx, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("gone")})
		mustOK(tb, err)
		f.clock.Advance(time.Nanosecond)
	}
}

func account(ctx context.Context) string { c, _ := api.CallerFrom(ctx); return c.AccountID }
func region(ctx context.Context) string  { c, _ := api.CallerFrom(ctx); return c.Region }

// apiView is everything the API shows of the snapshot scopes.
type apiView struct {
	Groups [][]api.CacheSecurityGroup
	Tags   [][]api.Tag
	Events [][]api.Event
}

func viewAll(tb testing.TB, f *fixture) apiView {
	tb.Helper()
	var v apiView
	for _, ctx := range snapshotScopes {
		out, err := f.svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{})
		mustOK(tb, err)
		v.Groups = append(v.Groups, out.CacheSecurityGroups)
		for _, g := range out.CacheSecurityGroups {
			tags, err := f.svc.ListTagsForResource(ctx, &api.ListTagsForResourceInput{ResourceName: g.ARN})
			mustOK(tb, err)
			v.Tags = append(v.Tags, tags.TagList)
		}
		ev, err := f.svc.DescribeEvents(ctx, &api.DescribeEventsInput{Duration: i32(maxDurationMinutes)})
		mustOK(tb, err)
		v.Events = append(v.Events, ev.Events)
	}
	return v
}

func mustExport(tb testing.TB, f *fixture) []byte {
	tb.Helper()
	doc, err := f.svc.ExportState(context.Background())
	mustOK(tb, err)
	return doc
}

// dumpStore is every key and value of the store, for comparisons that
// must see derived records too.
func dumpStore(tb testing.TB, st storage.Store) map[string]string {
	tb.Helper()
	out := map[string]string{}
	err := st.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
			out[string(k)] = string(v)
			return true, nil
		})
	})
	mustOK(tb, err)
	return out
}

// testRoundTrip exports, resets and imports on f's store, with b.
func testRoundTrip(t *testing.T, f *fixture, b Batching) {
	populate(t, f)
	before := viewAll(t, f)
	keysBefore := dumpStore(t, f.store)
	doc := mustExport(t, f)

	res, err := f.svc.Reset(context.Background(), "", b)
	mustOK(t, err)
	if res.Records["cacheSecurityGroups"] != 12 || res.Events != 4*8 {
		t.Errorf("reset removed %+v, want 12 groups (3 per scope, default included) and 32 events", res)
	}
	empty := `{
  "format": "elasticache-server/state",
  "version": 1,
  "accounts": []
}
`
	if got := string(mustExport(t, f)); got != empty {
		t.Fatalf("export after reset:\n%s", got)
	}
	for k := range dumpStore(t, f.store) {
		if k != "m/schema" && k != "m/marker-key" {
			t.Errorf("reset left %q", k)
		}
	}

	imp, err := f.svc.ImportState(context.Background(), doc, ImportOptions{Batching: b})
	mustOK(t, err)
	if want := (ImportResult{Accounts: 2, Regions: 4, Records: map[string]int{"cacheSecurityGroups": 12, "cacheSubnetGroups": 0, "cacheParameterGroups": 0, "users": 0, "userGroups": 0, "cacheClusters": 0, "replicationGroups": 0}, Events: 32}); !reflect.DeepEqual(imp, want) {
		t.Errorf("import = %+v, want %+v", imp, want)
	}
	if again := mustExport(t, f); !bytes.Equal(again, doc) {
		t.Fatalf("export → reset → import → export differs:\n%s", cmp.Diff(string(doc), string(again)))
	}
	if d := cmp.Diff(before, viewAll(t, f)); d != "" {
		t.Errorf("the API shows another state after the round trip (-before +after):\n%s", d)
	}
	// Derived records come back exactly: counters and the expiry index.
	if d := cmp.Diff(keysBefore, dumpStore(t, f.store)); d != "" {
		t.Errorf("stored keys differ after the round trip (-before +after):\n%s", d)
	}
}

func TestStateRoundTripBolt(t *testing.T) {
	t.Parallel()
	testRoundTrip(t, newFixture(t, Config{}), Batching{})
}

func TestStateRoundTripEtcd(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := etcd.Open(ctx, etcd.Config{Endpoints: c.Endpoints(), Prefix: "/snapshot/", MaxRequestBytes: etcdtest.MaxRequestBytes})
	mustOK(t, err)
	t.Cleanup(func() { st.Close() })
	// The member allows huge transactions; the wrapper holds the import
	// and reset to the batches they were given, as a default cluster would.
	limited := &limitStore{Store: st, tb: t, maxWrites: 7}
	clock := newFakeClock()
	svc, err := Open(ctx, limited, clock, Config{})
	mustOK(t, err)
	testRoundTrip(t, &fixture{svc: svc, clock: clock, store: limited}, Batching{MaxWrites: 7, MaxBytes: 2048})
	if limited.most() != 7 {
		t.Errorf("largest transaction had %d writes, want batches filled to 7", limited.most())
	}
}

// limitStore fails the test when an Update writes more than maxWrites keys.
type limitStore struct {
	storage.Store
	tb        testing.TB
	maxWrites int
	mu        sync.Mutex
	largest   int
}

func (s *limitStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Store.Update(ctx, func(tx storage.Tx) error {
		c := &writeCountingTx{Tx: tx}
		err := fn(c)
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.writes > s.maxWrites {
			s.tb.Errorf("transaction of %d writes, limit %d", c.writes, s.maxWrites)
		}
		s.largest = max(s.largest, c.writes)
		return err
	})
}

func (s *limitStore) most() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.largest
}

// A hand-written document is normalised as the API would store it, and
// exported in the canonical form.
func TestImportNormalises(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	doc := `{"version": 1, "format": "elasticache-server/state", "accounts": [
	  {"id": "222222222222", "regions": [{"region": "us-west-2", "cacheSecurityGroups": [
	    {"name": "Zeta", "description": "z", "tags": [{"key": "b", "value": "2"}, {"key": "a"}]},
	    {"name": "Alpha", "description": "a <&>", "created": "2026-01-02T03:04:05.5+02:00",
	     "ec2SecurityGroups": [{"name": "x", "ownerId": "123456789012", "authorized": "2026-01-02T01:04:06Z"}]}]}]},
	  {"id": "111111111111", "regions": [{"region": "eu-west-1", "events": [
	    {"date": "2026-11-20T00:00:00Z", "sourceType": "cache-security-group", "sourceId": "Old", "message": "first", "id": "00000000000a"},
	    {"date": "2026-11-21T00:00:00Z", "sourceType": "cache-security-group", "sourceId": "old", "message": "second", "id": "00000000000b"}]}]}]}`
	_, err := f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{})
	mustOK(t, err)
	want := `{
  "format": "elasticache-server/state",
  "version": 1,
  "accounts": [
    {
      "id": "111111111111",
      "regions": [
        {
          "region": "eu-west-1",
          "cacheSecurityGroups": [],
          "cacheSubnetGroups": [],
          "cacheParameterGroups": [],
          "users": [],
          "userGroups": [],
          "cacheClusters": [],
          "replicationGroups": [],
          "events": [
            {
              "date": "2026-11-21T00:00:00Z",
              "sourceType": "cache-security-group",
              "sourceId": "old",
              "message": "second",
              "id": "00000000000b"
            },
            {
              "date": "2026-11-20T00:00:00Z",
              "sourceType": "cache-security-group",
              "sourceId": "old",
              "message": "first",
              "id": "00000000000a"
            }
          ]
        }
      ]
    },
    {
      "id": "222222222222",
      "regions": [
        {
          "region": "us-west-2",
          "cacheSecurityGroups": [
            {
              "name": "alpha",
              "description": "a <&>",
              "created": "2026-01-02T01:04:05.5Z",
              "ec2SecurityGroups": [
                {
                  "name": "x",
                  "ownerId": "123456789012",
                  "authorized": "2026-01-02T01:04:06Z"
                }
              ],
              "tags": []
            },
            {
              "name": "zeta",
              "description": "z",
              "ec2SecurityGroups": [],
              "tags": [
                {
                  "key": "a",
                  "value": ""
                },
                {
                  "key": "b",
                  "value": "2"
                }
              ]
            }
          ],
          "cacheSubnetGroups": [],
          "cacheParameterGroups": [],
          "users": [],
          "userGroups": [],
          "cacheClusters": [],
          "replicationGroups": [],
          "events": []
        }
      ]
    }
  ]
}
`
	if got := string(mustExport(t, f)); got != want {
		t.Fatalf("export (-want +got):\n%s", cmp.Diff(want, got))
	}
	// The counter was rebuilt: with a quota of 3, one more group fits.
	f2 := &fixture{store: f.store, clock: f.clock}
	f2.svc, err = Open(context.Background(), f.store, f.clock, Config{CacheSecurityGroupQuota: 3})
	mustOK(t, err)
	ctx := as("222222222222", "us-west-2")
	create(t, f2, ctx, "third")
	_, err = f2.svc.CreateCacheSecurityGroup(ctx, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s("fourth"), Description: s("d")})
	wantFault(t, err, "QuotaExceeded.CacheSecurityGroup", 400, "")
	// Events are found by their lowercase group name.
	evs := events(t, f2, as("111111111111", "eu-west-1"), &api.DescribeEventsInput{
		SourceType: s("cache-security-group"), SourceIdentifier: s("OLD"), Duration: i32(maxDurationMinutes),
	})
	if len(evs) != 2 {
		t.Errorf("events of old = %v, want 2", evs)
	}
}

// Events without an ID get one; equal instants keep apart.
func TestImportChoosesEventIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	ev := `{"date": "2026-11-23T11:30:00Z", "sourceType": "cache-security-group", "sourceId": "g", "message": "m"}`
	doc := `{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [
	  {"region": "us-east-1", "events": [` + ev + `,` + ev + `,` + ev + `]}]}]}`
	_, err := f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{})
	mustOK(t, err)
	var st struct {
		Accounts []struct {
			Regions []struct{ Events []schema.StateEvent }
		}
	}
	mustOK(t, json.Unmarshal(mustExport(t, f), &st))
	ids := map[string]bool{}
	for _, e := range st.Accounts[0].Regions[0].Events {
		if _, err := hex.DecodeString(e.ID); len(e.ID) != 12 || err != nil {
			t.Errorf("chosen ID %q", e.ID)
		}
		ids[e.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("IDs = %v, want 3 different ones", ids)
	}
	if got := events(t, f, ctxA, &api.DescribeEventsInput{}); len(got) != 3 {
		t.Errorf("DescribeEvents = %v, want the 3 imported events", got)
	}
}

func TestImportRefusesWithEveryProblem(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	populate(t, f)
	before := dumpStore(t, f.store)
	long := strings.Repeat("x", 256)
	doc := `{"format": "elasticache-server/state", "version": 1, "extra": true, "accounts": [
	  {"id": "12345", "regions": [{"region": "Mars-1"}]},
	  {"id": "111111111111", "regions": [
	    {"region": "us-east-1", "cacheSecurityGroups": [
	      {"name": "bad_name", "description": ""},
	      {"name": "ok", "description": "` + long + `", "created": "yesterday"},
	      {"name": "OK", "description": "duplicate of ok"},
	      {"name": "default", "description": "not default"},
	      {"name": "tagged", "description": "d", "tags": [{"key": "aws:x", "value": "v"}, {"key": "k", "value": "bad\u0001"}, {"key": "k", "value": "v"}, {"value": "no key"}]},
	      {"name": "ingress", "description": "d", "ec2SecurityGroups": [
	        {"name": "", "ownerId": "me", "authorized": "2026-01-01T00:00:00Z"},
	        {"name": "a", "ownerId": "123456789012", "authorized": "2026-01-02T00:00:00Z", "revoked": "2026-01-01T00:00:00Z"},
	        {"name": "b", "ownerId": "123456789012", "authorized": "2026-01-01T00:00:00Z"},
	        {"name": "b", "ownerId": "123456789012", "authorized": "2026-01-01T00:00:00Z"},
	        {"name": "c", "ownerId": "123456789012"}]},
	      "not an object"],
	     "events": [
	      {"date": "1969-12-31T23:59:59Z", "sourceType": "cache-security-group", "sourceId": "g", "message": "m"},
	      {"date": "2026-01-01T00:00:00Z", "sourceType": "volcano", "sourceId": "g", "message": ""},
	      {"date": "2026-01-01T00:00:00Z", "sourceType": "cache-security-group", "sourceId": "a/b", "message": "m", "id": "XYZ"},
	      {"date": "2026-01-01T00:00:00Z", "sourceType": "user", "sourceId": "u", "message": "m", "id": "0000000000aa"},
	      {"date": "2026-01-01T00:00:00Z", "sourceType": "user", "sourceId": "u", "message": "m", "id": "0000000000aa"}]},
	    {"region": "us-east-1", "cacheSecurityGroups": 7}]},
	  {"id": "111111111111", "regions": []}]}`
	_, err := f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{})
	var invalid *InvalidStateError
	if !errors.As(err, &invalid) {
		t.Fatalf("error = %v, want *InvalidStateError", err)
	}
	want := []Problem{
		{Path: "$.extra", Message: "unknown field (known: format, version, accounts)"},
		{Path: "$.accounts[0].id", Message: `must be a 12-digit AWS account ID, not "12345"`},
		{Path: "$.accounts[0].regions[0].region", Message: `must be a region name such as us-east-1, not "Mars-1"`},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[0].name", Message: "must contain only ASCII letters, digits and hyphens."},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[0].description", Message: "Description is required"},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[1].description", Message: "must be at most 255 characters."},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[1].created", Message: `must be an RFC 3339 timestamp such as 2026-11-23T12:00:00Z, not "yesterday"`},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[2].name", Message: "group ok is also $.accounts[1].regions[0].cacheSecurityGroups[1] (names are matched without regard to case)"},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[3].description", Message: `the default group's description is always "default"`},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[4].tags[0].key", Message: "tag keys must not start with aws:."},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[4].tags[1].value", Message: "tag values may contain only Unicode letters, digits, spaces and _ . : / = + - @."},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[4].tags[2].key", Message: "tag k is also $.accounts[1].regions[0].cacheSecurityGroups[4].tags[1]"},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[4].tags[3].key", Message: "is required"},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[5].ec2SecurityGroups[0].name", Message: "must not be empty"},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[5].ec2SecurityGroups[0].ownerId", Message: `must be a 12-digit AWS account ID, not "me"`},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[5].ec2SecurityGroups[1].revoked", Message: "must not be before authorized"},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[5].ec2SecurityGroups[3]", Message: "EC2 security group b (owner 123456789012) is also $.accounts[1].regions[0].cacheSecurityGroups[5].ec2SecurityGroups[2]"},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[5].ec2SecurityGroups[4].authorized", Message: "is required"},
		{Path: "$.accounts[1].regions[0].cacheSecurityGroups[6]", Message: "must be an object, not a string"},
		{Path: "$.accounts[1].regions[0].events[0].date", Message: "must be between 1970-01-01T00:00:00Z and 2262-04-11T23:47:16Z"},
		{Path: "$.accounts[1].regions[0].events[1].sourceType", Message: `must be one of cache-cluster, cache-parameter-group, cache-security-group, cache-subnet-group, replication-group, serverless-cache, serverless-cache-snapshot, user, user-group, not "volcano"`},
		{Path: "$.accounts[1].regions[0].events[1].message", Message: "must not be empty"},
		{Path: "$.accounts[1].regions[0].events[2].sourceId", Message: "must contain only ASCII letters, digits and hyphens."},
		{Path: "$.accounts[1].regions[0].events[2].id", Message: `must be 12 lowercase hexadecimal digits, not "XYZ" (or left out, to have one chosen)`},
		{Path: "$.accounts[1].regions[0].events[4].id", Message: "event 0000000000aa at 2026-01-01T00:00:00Z is also $.accounts[1].regions[0].events[3]"},
		{Path: "$.accounts[1].regions[1].cacheSecurityGroups", Message: "must be a list, not a number"},
		{Path: "$.accounts[1].regions[1].region", Message: "region us-east-1 is also $.accounts[1].regions[0]"},
		{Path: "$.accounts[2].id", Message: "account 111111111111 is also $.accounts[1]"},
	}
	if d := cmp.Diff(want, invalid.Problems); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	if !strings.Contains(err.Error(), "nothing was written") || !strings.Contains(err.Error(), "$.accounts[2].id: account 111111111111") {
		t.Errorf("message = %s", err)
	}
	if d := cmp.Diff(before, dumpStore(t, f.store)); d != "" {
		t.Errorf("a refused import changed the store:\n%s", d)
	}
}

func TestImportRefusesBadDocuments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	populate(t, f)
	before := dumpStore(t, f.store)
	deep := `{"format": "elasticache-server/state", "version": 1, "accounts": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	manyProblems := `{"format": "elasticache-server/state", "version": 1, "accounts": [` + strings.Repeat(`{"id": "x", "regions": []},`, 1000) + `{"id": "x", "regions": []}]}`
	cases := []struct {
		name, doc string
		want      []Problem
	}{
		{"empty", "", []Problem{{Path: "$", Message: "the document is empty; expected a JSON object"}}},
		{"not JSON", "{format:", []Problem{{Path: "$", Message: "not valid JSON: invalid character 'f'"}}},
		{"truncated", `{"format": "elasticache-server/state", "version": 1, "accounts": [`, []Problem{{Path: "$", Message: "not valid JSON: the document ends too early"}}},
		{"trailing data", `{"format": "elasticache-server/state", "version": 1, "accounts": []} {}`, []Problem{{Path: "$", Message: "unexpected data after the document, at byte 70"}}},
		{"a list", `[]`, []Problem{{Path: "$", Message: "must be an object, not a list"}}},
		{"nothing", `{}`, []Problem{{Path: "$.format", Message: "is required"}, {Path: "$.version", Message: "is required"}, {Path: "$.accounts", Message: "is required"}}},
		{"other format", `{"format": "other", "version": 1, "accounts": []}`, []Problem{{Path: "$.format", Message: `must be "elasticache-server/state", not "other": this is not an elasticache-server state document`}}},
		{"version zero", `{"format": "elasticache-server/state", "version": 0, "accounts": []}`, []Problem{{Path: "$.version", Message: "must be a positive whole number, not 0"}}},
		{"version text", `{"format": "elasticache-server/state", "version": "1", "accounts": []}`, []Problem{{Path: "$.version", Message: "must be a number, not a string"}}},
		{"version fraction", `{"format": "elasticache-server/state", "version": 1.5, "accounts": []}`, []Problem{{Path: "$.version", Message: "must be a positive whole number, not 1.5"}}},
		{"newer version", `{"format": "elasticache-server/state", "version": 2, "accounts": [{"id": "x"}], "newField": 1}`,
			[]Problem{{Path: "$.version", Message: "the document has version 2, newer than the 1 this server reads; upgrade elasticache-server"}}},
		{"duplicate key", `{"format": "elasticache-server/state", "version": 1, "accounts": [], "accounts": []}`, []Problem{{Path: "$.accounts", Message: "the key appears more than once"}}},
		{"too deep", deep, []Problem{{Path: "$", Message: "not valid JSON: nested more than 16 levels deep at $.accounts[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"}}},
		{"huge values are cut", `{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [{"region": "` + strings.Repeat("x", 10000) + `", "` + strings.Repeat("k", 10000) + `": 1}]}]}`,
			[]Problem{
				{Path: "$.accounts[0].regions[0]." + strings.Repeat("k", 64) + "…", Message: "unknown field (known: region, cacheSecurityGroups, cacheSubnetGroups, cacheParameterGroups, users, userGroups, cacheClusters, replicationGroups, events)"},
				{Path: "$.accounts[0].regions[0].region", Message: `must be a region name such as us-east-1, not "` + strings.Repeat("x", 64) + `"…`},
			}},
		{"null accounts", `{"format": "elasticache-server/state", "version": 1, "accounts": null}`, []Problem{{Path: "$.accounts", Message: "must be a list, not null"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.ImportState(context.Background(), []byte(tc.doc), ImportOptions{})
			var invalid *InvalidStateError
			if !errors.As(err, &invalid) {
				t.Fatalf("error = %v, want *InvalidStateError", err)
			}
			if d := cmp.Diff(tc.want, invalid.Problems); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
	_, err := f.svc.ImportState(context.Background(), []byte(manyProblems), ImportOptions{})
	var invalid *InvalidStateError
	if !errors.As(err, &invalid) || len(invalid.Problems) != 100 || invalid.Omitted != 1001-100 {
		t.Fatalf("1001 bad IDs: %d listed, %d omitted (%v)", len(invalid.Problems), invalid.Omitted, err)
	}
	if !strings.Contains(err.Error(), "(1001 problems; nothing was written)") || !strings.HasSuffix(err.Error(), "… and 901 more") {
		t.Errorf("message = …%s", err.Error()[len(err.Error())-60:])
	}
	if d := cmp.Diff(before, dumpStore(t, f.store)); d != "" {
		t.Errorf("refused imports changed the store:\n%s", d)
	}
}

func TestSeedOnlyIntoAnEmptyStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	doc := `{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [
	  {"region": "us-east-1", "cacheSecurityGroups": [{"name": "seeded", "description": "d"}]}]}]}`
	res, err := f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{OnlyIfEmpty: true})
	mustOK(t, err)
	if res.Skipped || res.Records["cacheSecurityGroups"] != 1 {
		t.Fatalf("seed into an empty store = %+v", res)
	}
	create(t, f, ctxA, "mine")
	seeded := mustExport(t, f)
	// A store with anything in it is not seeded again, even with a
	// document that would replace it.
	res, err = f.svc.ImportState(context.Background(), []byte(strings.Replace(doc, "seeded", "other", 1)), ImportOptions{OnlyIfEmpty: true})
	mustOK(t, err)
	if !res.Skipped || res.Unfinished != "" {
		t.Fatalf("seed into a full store = %+v", res)
	}
	if !bytes.Equal(seeded, mustExport(t, f)) {
		t.Fatal("a skipped seed changed the state")
	}
	// A bad document is refused even when the store would be skipped.
	_, err = f.svc.ImportState(context.Background(), []byte(`{}`), ImportOptions{OnlyIfEmpty: true})
	var invalid *InvalidStateError
	if !errors.As(err, &invalid) {
		t.Fatalf("bad seed = %v", err)
	}
}

// failingStore fails the Update number failAt (1-based) without running it.
type failingStore struct {
	storage.Store
	mu      sync.Mutex
	updates int
	failAt  int
}

func (s *failingStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	s.mu.Lock()
	s.updates++
	fail := s.updates == s.failAt
	s.mu.Unlock()
	if fail {
		return fmt.Errorf("injected: %w", storage.ErrUnavailable)
	}
	return s.Store.Update(ctx, fn)
}

// An import in several transactions that is cut off leaves a marker:
// export refuses, a seed skips, and running the import again completes it.
func TestInterruptedImportIsFlaggedAndRerunnable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	populate(t, f)
	doc := mustExport(t, f)
	create(t, f, ctxA, "extra")
	failing := &failingStore{Store: f.store, failAt: 3}
	svc, err := Open(context.Background(), failing, f.clock, Config{})
	mustOK(t, err)
	b := Batching{MaxWrites: 10}
	_, err = svc.ImportState(context.Background(), doc, ImportOptions{Batching: b})
	if !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "import interrupted, run it again") {
		t.Fatalf("interrupted import = %v", err)
	}
	_, err = svc.ExportState(context.Background())
	if !errors.Is(err, ErrUnfinished) || !strings.Contains(err.Error(), "the import started at 2026-11-23T") {
		t.Fatalf("export of a half-imported store = %v, want ErrUnfinished", err)
	}
	res, err := svc.ImportState(context.Background(), doc, ImportOptions{OnlyIfEmpty: true, Batching: b})
	mustOK(t, err)
	if !res.Skipped || !strings.Contains(res.Unfinished, "the import started at") {
		t.Fatalf("seed over an unfinished import = %+v", res)
	}
	// One account's reset leaves the import's marker: other accounts may
	// still be half done.
	_, err = svc.Reset(context.Background(), "222222222222", b)
	mustOK(t, err)
	if _, err := svc.ExportState(context.Background()); !errors.Is(err, ErrUnfinished) {
		t.Fatalf("export after one account's reset = %v, want ErrUnfinished", err)
	}
	_, err = svc.ImportState(context.Background(), doc, ImportOptions{Batching: b})
	mustOK(t, err)
	if again := mustExport(t, f); !bytes.Equal(again, doc) {
		t.Fatalf("rerun import:\n%s", cmp.Diff(string(doc), string(again)))
	}
}

func TestExportRefusesUnknownKeys(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"zzz", "a/111111111111/us-east-1/widget/x", "a/short"} {
		f := newFixture(t, Config{})
		mustOK(t, f.store.Update(context.Background(), func(tx storage.Tx) error { return tx.Put([]byte(key), []byte("?")) }))
		_, err := f.svc.ExportState(context.Background())
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("export with %q stored = %v, want an error naming it", key, err)
		}
	}
}

// FuzzImportState feeds documents to the parser: it must answer every one
// with a document or problems, never a panic, and what it accepts must
// export and import again to the same bytes.
func FuzzImportState(f *testing.F) {
	// Small seeds: the fuzzer minimises each new input it finds, which
	// takes long on large ones.
	f.Add([]byte(`{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [{"region": "us-east-1",
	  "cacheSecurityGroups": [{"name": "G", "description": "d", "created": "2026-01-01T00:00:00Z",
	    "ec2SecurityGroups": [{"name": "e", "ownerId": "123456789012", "authorized": "2026-01-01T00:00:00Z", "revoked": "2026-01-02T00:00:00+01:00"}],
	    "tags": [{"key": "k", "value": "v"}]}]}]}]}`))
	f.Add([]byte(`{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [{"region": "us-east-1", "events": [{"date": "2026-01-01T00:00:00Z", "sourceType": "user", "sourceId": "u", "message": "m"}]}]}]}`))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	fx := newFixture(f, Config{})
	f.Fuzz(func(t *testing.T, doc []byte) {
		ctx := context.Background()
		if _, err := fx.svc.ImportState(ctx, doc, ImportOptions{}); err != nil {
			var invalid *InvalidStateError
			if !errors.As(err, &invalid) {
				t.Fatalf("import failed without a verdict on the document: %v", err)
			}
			if len(invalid.Problems) == 0 {
				t.Fatal("refused without a problem")
			}
			return
		}
		out, err := fx.svc.ExportState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.ImportState(ctx, out, ImportOptions{}); err != nil {
			t.Fatalf("the export of an accepted document is refused: %v\n%s", err, out)
		}
		out2, err := fx.svc.ExportState(ctx)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("normalised document changes when read again (%v):\n%s", err, cmp.Diff(string(out), string(out2)))
		}
	})
}
