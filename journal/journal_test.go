package journal

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/api"
)

// entry is a minimal entry for ring tests.
func entry(i int, action, account string) Entry {
	return Entry{RequestID: fmt.Sprint(i), Action: action, Account: account, Region: "us-east-1", Status: 200, Parameters: map[string]string{}}
}

func ids(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.RequestID
	}
	return out
}

func TestRingKeepsTheLastN(t *testing.T) {
	t.Parallel()
	j := New(3)
	if got := j.Entries(Filter{}); got == nil || len(got) != 0 {
		t.Fatalf("empty journal: %v, want an empty non-nil list", got)
	}
	for i := 1; i <= 5; i++ {
		j.Add(entry(i, "DescribeCacheSecurityGroups", "111111111111"))
	}
	if d := cmp.Diff([]string{"3", "4", "5"}, ids(j.Entries(Filter{}))); d != "" {
		t.Errorf("after 5 adds to a ring of 3, oldest first (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"4", "5"}, ids(j.Entries(Filter{Limit: 2}))); d != "" {
		t.Errorf("limit 2 keeps the newest (-want +got):\n%s", d)
	}
	if n := j.Clear(); n != 3 || len(j.Entries(Filter{})) != 0 {
		t.Fatalf("Clear = %d, then %d entries", n, len(j.Entries(Filter{})))
	}
	j.Add(entry(6, "X", ""))
	if d := cmp.Diff([]string{"6"}, ids(j.Entries(Filter{}))); d != "" {
		t.Errorf("after Clear (-want +got):\n%s", d)
	}
}

func TestEntriesAreInTimeOrder(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(i int, sec int) Entry {
		e := entry(i, "A", "")
		e.Time = t0.Add(time.Duration(sec) * time.Second)
		return e
	}
	j := New(4)
	// Recorded late: 2 started before 1 was recorded, 5 before 4.
	for _, e := range []Entry{at(1, 10), at(3, 30), at(2, 20), at(4, 40)} {
		j.Add(e)
	}
	if d := cmp.Diff([]string{"1", "2", "3", "4"}, ids(j.Entries(Filter{}))); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	j.Add(at(6, 60))
	j.Add(at(5, 50)) // the ring is full: 1 and 2 go
	j.Add(at(0, 5))  // older than everything kept: not kept
	if d := cmp.Diff([]string{"3", "4", "5", "6"}, ids(j.Entries(Filter{}))); d != "" {
		t.Errorf("full ring (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"5", "6"}, ids(j.Entries(Filter{Limit: 2}))); d != "" {
		t.Errorf("limit keeps the newest by time (-want +got):\n%s", d)
	}
	j.Add(at(7, 35)) // 3 goes
	if d := cmp.Diff([]string{"7", "4", "5", "6"}, ids(j.Entries(Filter{}))); d != "" {
		t.Errorf("late entry in a full ring (-want +got):\n%s", d)
	}
}

func TestSizeDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want int }{{0, DefaultSize}, {-5, DefaultSize}, {7, 7}, {MaxSize + 1, MaxSize}} {
		if got := New(tc.in).Size(); got != tc.want {
			t.Errorf("New(%d).Size() = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	j := New(10)
	j.Add(entry(1, "CreateCacheSecurityGroup", "111111111111"))
	j.Add(entry(2, "DescribeCacheSecurityGroups", "111111111111"))
	j.Add(entry(3, "CreateCacheSecurityGroup", "222222222222"))
	e := entry(4, "CreateCacheSecurityGroup", "111111111111")
	e.Region = "eu-west-1"
	j.Add(e)
	cases := []struct {
		f    Filter
		want []string
	}{
		{Filter{Action: "CreateCacheSecurityGroup"}, []string{"1", "3", "4"}},
		{Filter{Account: "111111111111"}, []string{"1", "2", "4"}},
		{Filter{Action: "CreateCacheSecurityGroup", Account: "111111111111"}, []string{"1", "4"}},
		{Filter{Action: "CreateCacheSecurityGroup", Limit: 1}, []string{"4"}},
		{Filter{Region: "us-east-1"}, []string{"1", "2", "3"}},
		{Filter{Action: "DeleteCacheSecurityGroup"}, []string{}},
	}
	for _, tc := range cases {
		if d := cmp.Diff(tc.want, ids(j.Entries(tc.f))); d != "" {
			t.Errorf("%+v (-want +got):\n%s", tc.f, d)
		}
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	j := New(10)
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	j.Record(&api.Exchange{
		RequestID: "rid",
		Caller:    api.Caller{AccountID: "111111111111", Region: "eu-west-1"},
		Action:    "CreateCacheSecurityGroup",
		Form: map[string]string{
			"Action": "CreateCacheSecurityGroup", "Version": "2015-02-02",
			"CacheSecurityGroupName": "web", "Description": "d",
			"X-Amz-Signature": "abc", "X-Amz-Credential": "AKID/20260102/eu-west-1/elasticache/aws4_request",
		},
		Status:   400,
		Code:     "Throttling",
		Start:    start,
		Duration: 1500 * time.Microsecond,
	})
	// A request refused before anything was known.
	j.Record(&api.Exchange{RequestID: "bad", Status: 404, Code: "MalformedQueryString", Start: start})
	want := []Entry{{
		RequestID: "rid", Time: start.UTC(), Account: "111111111111", Region: "eu-west-1",
		Action: "CreateCacheSecurityGroup",
		Parameters: map[string]string{
			"CacheSecurityGroupName": "web", "Description": "d",
			"X-Amz-Signature": Redacted, "X-Amz-Credential": Redacted,
		},
		Status: 400, Code: "Throttling", DurationMs: 1.5,
	}, {
		RequestID: "bad", Time: start.UTC(), Parameters: map[string]string{}, Status: 404, Code: "MalformedQueryString",
	}}
	if d := cmp.Diff(want, j.Entries(Filter{})); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	b, err := json.Marshal(j.Entries(Filter{Limit: 1})[0])
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"requestId":"bad","time":"2026-01-02T02:04:05Z","account":"","region":"","action":"","parameters":{},"status":404,"code":"MalformedQueryString","durationMs":0}`
	if string(b) != wantJSON {
		t.Errorf("JSON =\n%s\nwant\n%s", b, wantJSON)
	}
}

func TestIsSecret(t *testing.T) {
	t.Parallel()
	secret := []string{
		"AuthToken", "authtoken", "Passwords.member.1", "AuthenticationMode.Passwords.member.2",
		"X-Amz-Signature", "x-amz-credential", "X-Amz-Security-Token",
		"Signature", "AWSAccessKeyId", "SecurityToken",
		"Password", "SecretAccessKey", "SessionToken", "Credentials.member.1.SecretAccessKey",
	}
	public := []string{
		"CacheSecurityGroupName", "NextToken", "Marker", "AuthTokenEnabled", "AuthTokenUpdateStrategy",
		"PasswordCount", "NoPasswordRequired", "X-Amz-Date", "X-Amz-Algorithm", "X-Amz-SignedHeaders",
		"X-Amz-Expires", "SignatureVersion", "Tags.Tag.1.Value", "AuthenticationMode.Type",
	}
	for _, n := range secret {
		if !IsSecret(n) {
			t.Errorf("IsSecret(%q) = false", n)
		}
	}
	for _, n := range public {
		if IsSecret(n) {
			t.Errorf("IsSecret(%q) = true", n)
		}
	}
}

// TestModelSecretsAreRedacted walks every member of the pinned model: each
// one whose name suggests a secret must be redacted, or be on the list of
// names checked by hand and found harmless. A new model that adds, say,
// "MasterPassword" fails here until someone decides.
func TestModelSecretsAreRedacted(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "api", "model", "elasticache-2015-02-02.json"))
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Shapes map[string]struct {
			Members map[string]struct {
				LocationName string `json:"locationName"`
			} `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(b, &model); err != nil {
		t.Fatal(err)
	}
	harmless := []string{
		"AuthTokenEnabled", "AuthTokenLastModifiedDate", "AuthTokenStatus", "AuthTokenUpdateStrategy",
		"NextToken", "NoPasswordRequired", "PasswordCount", "KmsKeyId", "Key", "TagKeys",
		"Authentication", "AuthenticationMode",
	}
	suspicious := regexp.MustCompile(`(?i)pass|secret|token|credential|signature|key|auth`)
	var secrets []string
	for _, s := range model.Shapes {
		for name, m := range s.Members {
			wire := name
			if m.LocationName != "" {
				wire = m.LocationName
			}
			if !suspicious.MatchString(wire) || slices.Contains(harmless, wire) {
				continue
			}
			if !IsSecret(wire) {
				t.Errorf("model member %s looks secret but is not redacted", wire)
			}
			if !slices.Contains(secrets, wire) {
				secrets = append(secrets, wire)
			}
		}
	}
	slices.Sort(secrets)
	if d := cmp.Diff([]string{"AuthToken", "Passwords"}, secrets); d != "" {
		t.Errorf("the model's secret members changed (-want +got):\n%s", d)
	}
}

func TestParametersAreBounded(t *testing.T) {
	t.Parallel()
	form := map[string]string{"Action": "X", "Version": "2015-02-02"}
	for i := range MaxParameters + 10 {
		form[fmt.Sprintf("P%04d", i)] = "v"
	}
	long := strings.Repeat("é", MaxValueBytes) // 2 bytes each
	form["P0000"] = long
	form["AuthToken"] = long
	params, truncated := Parameters(form)
	if !truncated || len(params) != MaxParameters {
		t.Fatalf("%d parameters, truncated %v; want %d, true", len(params), truncated, MaxParameters)
	}
	if params["AuthToken"] != Redacted {
		t.Errorf("AuthToken = %.20q…, want %q", params["AuthToken"], Redacted)
	}
	// Key order keeps AuthToken and P0000…P0254; P0255 and later are left out.
	if _, ok := params[fmt.Sprintf("P%04d", MaxParameters-1)]; ok {
		t.Errorf("P%04d kept: want the first %d keys in key order", MaxParameters-1, MaxParameters)
	}
	v := params["P0000"]
	if len(v) > MaxValueBytes || !strings.HasSuffix(v, "…") || !utf8.ValidString(v) || !strings.HasPrefix(long, strings.TrimSuffix(v, "…")) {
		t.Errorf("long value cut to %d bytes (valid UTF-8 %v), want at most %d ending in …", len(v), utf8.ValidString(v), MaxValueBytes)
	}
	if p, tr := Parameters(nil); len(p) != 0 || tr {
		t.Errorf("Parameters(nil) = %v, %v", p, tr)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	j := New(50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				j.Record(&api.Exchange{RequestID: fmt.Sprint(g, "-", i), Action: "A", Form: map[string]string{"K": "v"}})
				j.Entries(Filter{Action: "A", Limit: 5})
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			j.Clear()
		}
	})
	wg.Wait()
	if n := len(j.Entries(Filter{})); n > 50 {
		t.Fatalf("%d entries in a journal of 50", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	j := New(DefaultSize)
	x := &api.Exchange{RequestID: "r", Action: "CreateCacheSecurityGroup", Form: map[string]string{
		"Action": "CreateCacheSecurityGroup", "Version": "2015-02-02", "CacheSecurityGroupName": "web", "Description": "d",
	}}
	for b.Loop() {
		j.Record(x)
	}
}
