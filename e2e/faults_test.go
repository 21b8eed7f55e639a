package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/server"
)

// withAdmin turns on the admin API, with token as its bearer token ("" for
// none).
func withAdmin(token string) serverOption {
	return func(c *server.Config) {
		c.Admin = true
		c.AdminToken = token
	}
}

// admin talks to a server's admin API over HTTP, as a test suite would.
type admin struct {
	tb    testing.TB
	base  string
	token string
	hc    *http.Client
}

func newAdmin(tb testing.TB, s *testServer, token string) *admin {
	return &admin{tb: tb, base: "http://" + s.Addr, token: token, hc: &http.Client{Transport: newTransport(tb), Timeout: 30 * time.Second}}
}

// do sends one admin request and returns the status and body.
func (a *admin) do(method, path, body string) (int, []byte) {
	a.tb.Helper()
	req, err := http.NewRequestWithContext(a.tb.Context(), method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.tb.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.tb.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		a.tb.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	return resp.StatusCode, b
}

// must sends one admin request, fails the test unless it answers want, and
// decodes the JSON answer into out (when not nil).
func (a *admin) must(method, path, body string, want int, out any) {
	a.tb.Helper()
	status, b := a.do(method, path, body)
	if status != want {
		a.tb.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.tb.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// ruleStatus is a rule as GET/POST /_admin/faults show it.
type ruleStatus struct {
	ID          string   `json:"id"`
	Action      string   `json:"action"`
	Account     string   `json:"account"`
	Region      string   `json:"region"`
	Error       string   `json:"error"`
	Delay       string   `json:"delay"`
	Count       int      `json:"count"`
	Probability *float64 `json:"probability"`
	Seed        *uint64  `json:"seed"`
	Remaining   *int     `json:"remaining"`
	Fired       int      `json:"fired"`
	Active      bool     `json:"active"`
}

// addRules posts rules (a JSON object or list) and returns them as added.
func (a *admin) addRules(doc string) []ruleStatus {
	a.tb.Helper()
	var out struct{ Rules []ruleStatus }
	a.must(http.MethodPost, "/_admin/faults", doc, http.StatusCreated, &out)
	return out.Rules
}

// rules returns the seed and the rules of GET /_admin/faults.
func (a *admin) rules() (uint64, []ruleStatus) {
	a.tb.Helper()
	var out struct {
		Seed  *uint64
		Rules []ruleStatus
	}
	a.must(http.MethodGet, "/_admin/faults", "", http.StatusOK, &out)
	if out.Seed == nil || out.Rules == nil {
		a.tb.Fatalf("GET /_admin/faults: no seed or no rules list: %+v", out)
	}
	return *out.Seed, out.Rules
}

// journalEntry is one request of GET /_admin/requests.
type journalEntry struct {
	RequestID  string            `json:"requestId"`
	Time       time.Time         `json:"time"`
	Account    string            `json:"account"`
	Region     string            `json:"region"`
	Action     string            `json:"action"`
	Parameters map[string]string `json:"parameters"`
	Status     int               `json:"status"`
	Code       *string           `json:"code"`
	DurationMs float64           `json:"durationMs"`
}

// requests returns GET /_admin/requests?query once it lists at least n
// entries: an entry is recorded just after its answer is written, so the
// client may ask before the last one is there. It fails after 10 s.
func (a *admin) requests(query string, n int) []journalEntry {
	a.tb.Helper()
	return a.requestsWhen(query, func(es []journalEntry) bool { return len(es) >= n })
}

// requestsWhen returns GET /_admin/requests?query once ready says the
// entries are all there, or after 10 s.
func (a *admin) requestsWhen(query string, ready func([]journalEntry) bool) []journalEntry {
	a.tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out struct {
			Size     int
			Requests []journalEntry
		}
		a.must(http.MethodGet, "/_admin/requests?"+query, "", http.StatusOK, &out)
		if out.Requests == nil || out.Size < 1 {
			a.tb.Fatalf("GET /_admin/requests: no size or no requests list: %+v", out)
		}
		for _, e := range out.Requests {
			if e.Code == nil || e.Parameters == nil || !uuidRE.MatchString(e.RequestID) || e.Time.IsZero() {
				a.tb.Fatalf("journal entry without code, parameters, request ID or time: %+v", e)
			}
		}
		if ready(out.Requests) || time.Now().After(deadline) {
			return out.Requests
		}
		time.Sleep(5 * time.Millisecond) // polling, bounded by the deadline
	}
}

// codes is the code of each entry.
func codes(es []journalEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = *e.Code
	}
	return out
}

// retryingClient is client with the SDK's standard retryer (3 attempts,
// its own retry classification and token bucket) and backoff cut to at most
// 10 ms, so that a test waits for retries, not for jitter. Each test builds
// its own, so that no retry budget carries over. timeout bounds one attempt.
func retryingClient(tb testing.TB, addr, accessKey, region string, timeout time.Duration) *elasticache.Client {
	tb.Helper()
	return clientWith(tb, addr, accessKey, region, timeout, retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxBackoff = 10 * time.Millisecond
	}))
}

// attemptIDs returns the request ID of each attempt the SDK made, as it
// read them, and fails the test unless they are want attempts.
func attemptIDs(tb testing.TB, md middleware.Metadata, want int) []string {
	tb.Helper()
	results, ok := retry.GetAttemptResults(md)
	if !ok || len(results.Results) != want {
		tb.Fatalf("the SDK reports %d attempts (found %v), want %d", len(results.Results), ok, want)
	}
	var ids []string
	for i, r := range results.Results {
		if i < want-1 && !r.Retried {
			tb.Errorf("attempt %d was not retried: %v", i+1, r.Err)
		}
		var re *awshttp.ResponseError
		if r.Err != nil && errors.As(r.Err, &re) {
			ids = append(ids, re.ServiceRequestID())
			continue
		}
		id, _ := awsmiddleware.GetRequestIDMetadata(r.ResponseMetadata)
		ids = append(ids, id)
	}
	return ids
}

func TestFaultsRetriedByGoSDK(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   string
		status int
	}{{"Throttling", 400}, {"ServiceUnavailable", 503}, {"InternalFailure", 500}} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, withAdmin(""))
			a := newAdmin(t, s, "")
			added := a.addRules(`{"action": "DescribeCacheSecurityGroups", "error": "` + tc.code + `", "count": 2}`)
			if len(added) != 1 || added[0].ID == "" || added[0].Remaining == nil || *added[0].Remaining != 2 || !added[0].Active {
				t.Fatalf("added %+v", added)
			}
			c := retryingClient(t, s.Addr, otherKey, defaultRegion, 30*time.Second)
			// Another operation is not affected, and costs no retry.
			if _, err := c.DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{}); err != nil {
				t.Fatalf("DescribeEvents: %v", err)
			}
			out, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{})
			if err != nil {
				t.Fatalf("DescribeCacheSecurityGroups with two injected %s: %v", tc.code, err)
			}
			if len(out.CacheSecurityGroups) != 1 {
				t.Errorf("groups = %v, want default only", groupNames(out.CacheSecurityGroups))
			}
			sdkIDs := attemptIDs(t, out.ResultMetadata, 3)
			results, _ := retry.GetAttemptResults(out.ResultMetadata)
			for i, r := range results.Results[:2] {
				if problem := checkAPIErr(r.Err, apiErr{status: tc.status, code: tc.code}); problem != nil {
					t.Errorf("attempt %d: %v", i+1, problem)
				}
			}

			got := a.requests("action=DescribeCacheSecurityGroups", 3)
			if d := cmp.Diff([]string{tc.code, tc.code, ""}, codes(got)); d != "" {
				t.Errorf("journal codes (-want +got):\n%s", d)
			}
			var statuses, ids []string
			for _, e := range got {
				statuses = append(statuses, fmt.Sprint(e.Status))
				ids = append(ids, e.RequestID)
				if e.Account != defaultAccount || e.Region != defaultRegion || len(e.Parameters) != 0 {
					t.Errorf("journal entry %+v, want account %s, region %s, no parameters", e, defaultAccount, defaultRegion)
				}
			}
			if d := cmp.Diff([]string{fmt.Sprint(tc.status), fmt.Sprint(tc.status), "200"}, statuses); d != "" {
				t.Errorf("journal statuses (-want +got):\n%s", d)
			}
			if d := cmp.Diff(sdkIDs, ids); d != "" {
				t.Errorf("request IDs, SDK attempts vs journal (-sdk +journal):\n%s", d)
			}
			all := a.requests("", 4)
			if len(all) != 4 || all[0].Action != "DescribeEvents" || *all[0].Code != "" {
				t.Errorf("whole journal = %v, want DescribeEvents then the three attempts", all)
			}
			_, rules := a.rules()
			if len(rules) != 1 || rules[0].Fired != 2 || *rules[0].Remaining != 0 || rules[0].Active {
				t.Errorf("rule after use = %+v, want fired 2, remaining 0, inactive", rules)
			}
		})
	}
}

func TestFaultsOutlastTheGoSDKRetries(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	a.addRules(`[{"action": "CreateCacheSecurityGroup", "error": "Throttling", "count": 5}]`)
	c := retryingClient(t, s.Addr, otherKey, defaultRegion, 30*time.Second)
	_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("web"), Description: aws.String("d"),
	})
	var maxErr *retry.MaxAttemptsError
	if !errors.As(err, &maxErr) || maxErr.Attempt != 3 {
		t.Fatalf("error = %v, want the SDK to give up after its 3 attempts", err)
	}
	if problem := checkAPIErr(err, apiErr{status: 400, code: "Throttling", msg: "Rate exceeded"}); problem != nil {
		t.Errorf("%v", problem)
	}
	got := a.requests("action=CreateCacheSecurityGroup", 3)
	if d := cmp.Diff([]string{"Throttling", "Throttling", "Throttling"}, codes(got)); d != "" {
		t.Errorf("journal codes (-want +got):\n%s", d)
	}
	want := map[string]string{"CacheSecurityGroupName": "web", "Description": "d"}
	for _, e := range got {
		if d := cmp.Diff(want, e.Parameters); d != "" {
			t.Errorf("journal parameters (-want +got):\n%s", d)
		}
	}
	_, rules := a.rules()
	if len(rules) != 1 || *rules[0].Remaining != 2 || rules[0].Fired != 3 || !rules[0].Active {
		t.Errorf("rule = %+v, want 3 fired, 2 remaining, still active", rules)
	}
	// Nothing was created: the faults answered before the service ran.
	if names := listNames(t, client(t, s.Addr, otherKey, defaultRegion)); !slices.Equal(names, []string{"default"}) {
		t.Errorf("groups = %v, want default only", names)
	}
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	const delay = 300 * time.Millisecond
	a.addRules(`{"action": "DescribeEvents", "delay": "300ms", "count": 1}`)
	c := retryingClient(t, s.Addr, otherKey, defaultRegion, 30*time.Second)
	start := time.Now()
	out, err := c.DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("DescribeEvents behind a delay: %v", err)
	}
	if took < delay {
		t.Errorf("the call took %s, want at least the %s delay", took, delay)
	}
	attemptIDs(t, out.ResultMetadata, 1)
	got := a.requests("action=DescribeEvents", 1)
	if len(got) != 1 || *got[0].Code != "" || got[0].Status != 200 || got[0].DurationMs < float64(delay.Milliseconds()) {
		t.Errorf("journal = %+v, want one success of at least %d ms", got, delay.Milliseconds())
	}
}

func TestFaultDelayEndsWithTheRequest(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	// The first DescribeEvents waits up to 55 s (under the 60 s write
	// timeout); the client gives up on an attempt after 1 s, and its retryer
	// tries again.
	a.addRules(`{"action": "DescribeEvents", "delay": "55s", "count": 1}`)
	c := retryingClient(t, s.Addr, otherKey, defaultRegion, time.Second)
	out, err := c.DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{})
	if err != nil {
		t.Fatalf("DescribeEvents after a timed-out attempt: %v", err)
	}
	results, _ := retry.GetAttemptResults(out.ResultMetadata)
	if len(results.Results) != 2 || !results.Results[0].Retried {
		t.Fatalf("the SDK reports %d attempts, want the timed-out one retried", len(results.Results))
	}
	// The abandoned request ends on the server when its client goes away,
	// not after 55 s: both are in the journal.
	got := a.requests("action=DescribeEvents", 2)
	slices.SortFunc(got, func(x, y journalEntry) int { return x.Time.Compare(y.Time) })
	if len(got) != 2 || got[0].DurationMs > 30_000 || *got[1].Code != "" {
		t.Fatalf("journal = %+v, want the abandoned request ended well before its delay, then a success", got)
	}
}

// TestFaultDelayEndsAtShutdown checks that a request a delay rule holds
// does not hold the server's drain: Close releases it with
// ServiceUnavailable, which clients retry elsewhere, and returns within its
// deadline. Without the release, Close would wait out the delay and fail
// with the drain's deadline.
func TestFaultDelayEndsAtShutdown(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	rule := a.addRules(`{"action": "DescribeEvents", "delay": "55s", "count": 1}`)[0]
	c := client(t, s.Addr, otherKey, defaultRegion)
	answered := make(chan error, 1)
	go func() {
		_, err := c.DescribeEvents(context.Background(), &elasticache.DescribeEventsInput{})
		answered <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, rules := a.rules()
		if i := slices.IndexFunc(rules, func(r ruleStatus) bool { return r.ID == rule.ID }); i >= 0 && rules[i].Fired == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delayed request never reached the rule")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// testServer.Close drains with a 15 s deadline.
	if err := s.Close(); err != nil {
		t.Fatalf("Close with a request held by a 55 s delay: %v", err)
	}
	wantErr[smithy.APIError](t, <-answered, apiErr{code: "ServiceUnavailable", status: 503})
}

// TestFaultDelayBelowWriteTimeout checks that a delay reaching the write
// timeout is refused, naming the field: the connection would be cut first.
func TestFaultDelayBelowWriteTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""), func(c *server.Config) { c.WriteTimeout = 5 * time.Second })
	a := newAdmin(t, s, "")
	for _, tc := range []struct{ doc, field string }{
		{`{"delay": "5s"}`, "delay"},
		{`[{"error": "Throttling"}, {"delay": "1m"}]`, "[1].delay"},
	} {
		var out adminError
		a.must(http.MethodPost, "/_admin/faults", tc.doc, http.StatusBadRequest, &out)
		if out.Error.Code != "InvalidRule" || out.Error.Field != tc.field || !strings.Contains(out.Error.Message, "--write-timeout (5s)") {
			t.Errorf("%s: %+v, want InvalidRule on %s naming the write timeout", tc.doc, out.Error, tc.field)
		}
	}
	if _, rules := a.rules(); len(rules) != 0 {
		t.Errorf("refused rules were added: %+v", rules)
	}
	a.addRules(`{"delay": "4s", "count": 1}`)
}

// outcomes sends n DescribeCacheSecurityGroups without retries and
// returns which were throttled, as a string of T and -.
func outcomes(tb testing.TB, c *elasticache.Client, n int) string {
	tb.Helper()
	var b strings.Builder
	for range n {
		_, err := c.DescribeCacheSecurityGroups(tb.Context(), &elasticache.DescribeCacheSecurityGroupsInput{})
		var ae smithy.APIError
		switch {
		case err == nil:
			b.WriteByte('-')
		case errors.As(err, &ae) && ae.ErrorCode() == "Throttling":
			b.WriteByte('T')
		default:
			tb.Fatalf("DescribeCacheSecurityGroups: %v", err)
		}
	}
	return b.String()
}

func TestFaultProbabilityIsReproducible(t *testing.T) {
	t.Parallel()
	const rule = `{"action": "DescribeCacheSecurityGroups", "error": "Throttling", "probability": 0.5, "seed": 2026}`
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	c := client(t, s.Addr, otherKey, defaultRegion)
	a.addRules(rule)
	first := outcomes(t, c, 40)
	if !strings.Contains(first, "T") || !strings.Contains(first, "-") {
		t.Fatalf("40 requests at p=0.5 gave %s: want both outcomes", first)
	}
	a.must(http.MethodDelete, "/_admin/faults", "", http.StatusOK, nil)
	a.addRules(rule)
	if again := outcomes(t, c, 40); again != first {
		t.Errorf("the same rule and seed again:\n%s\nwant\n%s", again, first)
	}
	// Another server with the rule from its config file (no --admin), and
	// its seed from the faults section instead of the rule.
	path := writeConfigFile(t, `faults:
  seed: 2026
  rules:
    - action: DescribeCacheSecurityGroups
      error: Throttling
      probability: 0.5
`)
	other := startServer(t, withConfigFile(path))
	if got := outcomes(t, client(t, other.Addr, otherKey, defaultRegion), 40); got != first {
		t.Errorf("a server with the rule in its config file:\n%s\nwant\n%s", got, first)
	}
	a.must(http.MethodDelete, "/_admin/faults", "", http.StatusOK, nil)
	a.addRules(strings.Replace(rule, "2026", "2027", 1))
	if got := outcomes(t, c, 40); got == first {
		t.Errorf("seeds 2026 and 2027 gave the same 40 outcomes %s", got)
	}
}

func TestFaultRulesFromTheConfigFile(t *testing.T) {
	t.Parallel()
	path := writeConfigFile(t, `journal:
  size: 3
faults:
  seed: 9
  rules:
    - action: CreateCacheSecurityGroup
      account: "111111111111"
      error: ServiceUnavailable
      count: 1
    - action: "*"
      region: eu-west-1
      error: InternalFailure
`)
	for _, adminOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("admin=%v", adminOn), func(t *testing.T) {
			t.Parallel()
			opts := []serverOption{withConfigFile(path)}
			if adminOn {
				opts = append(opts, withAdmin(""))
			}
			s := startServer(t, opts...)
			acct := client(t, s.Addr, "111111111111", defaultRegion)
			in := &elasticache.CreateCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("web"), Description: aws.String("d")}
			_, err := acct.CreateCacheSecurityGroup(t.Context(), in)
			wantErr[smithy.APIError](t, err, apiErr{status: 503, code: "ServiceUnavailable"})
			create(t, acct, "web", "d") // the rule is used up
			create(t, client(t, s.Addr, otherKey, defaultRegion), "web", "d")
			_, err = client(t, s.Addr, otherKey, "eu-west-1").DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{})
			wantErr[smithy.APIError](t, err, apiErr{status: 500, code: "InternalFailure"})
			if !adminOn {
				return
			}
			a := newAdmin(t, s, "")
			seed, rules := a.rules()
			if seed != 9 || len(rules) != 2 || rules[0].Account != "111111111111" || rules[0].Fired != 1 || rules[0].Active ||
				rules[1].Action != "*" || rules[1].Region != "eu-west-1" || rules[1].Remaining != nil || rules[1].Fired != 1 {
				t.Errorf("seed %d, rules %+v", seed, rules)
			}
			// The journal keeps 3 requests (the config file's size): the
			// last three, oldest first.
			got := a.requestsWhen("", func(es []journalEntry) bool {
				return len(es) == 3 && es[2].Action == "DescribeEvents"
			})
			var seen []string
			for _, e := range got {
				seen = append(seen, e.Account+" "+e.Action+" "+*e.Code)
			}
			want := []string{
				"111111111111 CreateCacheSecurityGroup ",
				defaultAccount + " CreateCacheSecurityGroup ",
				defaultAccount + " DescribeEvents InternalFailure",
			}
			if d := cmp.Diff(want, seen); d != "" {
				t.Errorf("journal (-want +got):\n%s", d)
			}
		})
	}
}

// TestJournalHasTheRequestOnceAnswered checks that a request is in the
// journal by the time its client has the answer: a test reads the journal
// right after its call, without polling. 200 calls from 4 clients at once,
// each followed at once by one read of the journal.
func TestJournalHasTheRequestOnceAnswered(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			account := fmt.Sprintf("%012d", 500+w)
			c := client(t, s.Addr, account, defaultRegion)
			for i := range 50 {
				out, err := c.DescribeCacheSecurityGroups(context.Background(), &elasticache.DescribeCacheSecurityGroupsInput{})
				if err != nil {
					t.Errorf("describe: %v", err)
					return
				}
				id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
				status, body := a.do(http.MethodGet, "/_admin/requests?limit=1&account="+account, "")
				var got struct{ Requests []journalEntry }
				if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil {
					t.Errorf("GET /_admin/requests: %d %s", status, body)
					return
				}
				if len(got.Requests) != 1 || got.Requests[0].RequestID != id {
					t.Errorf("call %d of %s: the journal's newest entry is %+v, want request %s", i, account, got.Requests, id)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestJournalFiltersAndRedaction(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	c1 := client(t, s.Addr, "111111111111", defaultRegion)
	c2 := client(t, s.Addr, "222222222222", "eu-west-1")
	create(t, c1, "one", "first")
	create(t, c2, "two", "second")
	describe(t, c1, "one")
	// A refused request still carries its secret parameters (no
	// CacheNodeType: InvalidParameterValue).
	const secret = "s3cr3t-auth-token-value"
	resp, err := a.hc.PostForm("http://"+s.Addr+"/", url.Values{
		"Action": {"CreateReplicationGroup"}, "Version": {"2015-02-02"}, "ReplicationGroupId": {"rg"},
		"ReplicationGroupDescription": {"d"}, "AuthToken": {secret},
		"AuthenticationMode.Passwords.member.1": {secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("CreateReplicationGroup: HTTP %d, want 400", resp.StatusCode)
	}

	all := a.requests("", 4)
	var actions []string
	for _, e := range all {
		actions = append(actions, e.Action)
	}
	if d := cmp.Diff([]string{"CreateCacheSecurityGroup", "CreateCacheSecurityGroup", "DescribeCacheSecurityGroups", "CreateReplicationGroup"}, actions); d != "" {
		t.Errorf("journal, oldest first (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"CacheSecurityGroupName": "one", "Description": "first"}, all[0].Parameters); d != "" {
		t.Errorf("parameters (-want +got):\n%s", d)
	}
	rg := all[3]
	if rg.Parameters["AuthToken"] != "(redacted)" || rg.Parameters["AuthenticationMode.Passwords.member.1"] != "(redacted)" ||
		rg.Parameters["ReplicationGroupId"] != "rg" || rg.Status != 400 || *rg.Code != "InvalidParameterValue" {
		t.Errorf("CreateReplicationGroup entry = %+v, want its secrets redacted", rg)
	}
	_, body := a.do(http.MethodGet, "/_admin/requests", "")
	if strings.Contains(string(body), secret) {
		t.Errorf("the journal shows the secret:\n%s", body)
	}

	for _, tc := range []struct {
		query string
		want  []string // account action
	}{
		{"account=222222222222", []string{"222222222222 CreateCacheSecurityGroup"}},
		{"action=CreateCacheSecurityGroup", []string{"111111111111 CreateCacheSecurityGroup", "222222222222 CreateCacheSecurityGroup"}},
		{"action=CreateCacheSecurityGroup&limit=1", []string{"222222222222 CreateCacheSecurityGroup"}},
		{"region=eu-west-1", []string{"222222222222 CreateCacheSecurityGroup"}},
		{"account=111111111111&limit=2", []string{"111111111111 CreateCacheSecurityGroup", "111111111111 DescribeCacheSecurityGroups"}},
		{"action=DeleteCacheSecurityGroup", nil},
	} {
		var got []string
		for _, e := range a.requests(tc.query, len(tc.want)) {
			got = append(got, e.Account+" "+e.Action)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("?%s (-want +got):\n%s", tc.query, d)
		}
	}

	var cleared struct{ Cleared int }
	a.must(http.MethodDelete, "/_admin/requests", "", http.StatusOK, &cleared)
	if cleared.Cleared != 4 {
		t.Errorf("DELETE /_admin/requests cleared %d, want 4", cleared.Cleared)
	}
	if got := a.requests("", 0); len(got) != 0 {
		t.Errorf("after DELETE: %d entries", len(got))
	}
}

// adminError is the JSON error of the admin API.
type adminError struct {
	Error struct {
		Code, Message, Field string
	}
}

func TestAdminFaultsAndRequestsRefuseBadInput(t *testing.T) {
	t.Parallel()
	s := startServer(t, withAdmin(""))
	a := newAdmin(t, s, "")
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, field        string
	}{
		{"POST", "/_admin/faults", `{"error": "Throttling", "count": "two"}`, 400, "InvalidRule", "count"},
		{"POST", "/_admin/faults", `{"action": "Describe", "error": "Throttling"}`, 400, "InvalidRule", "action"},
		{"POST", "/_admin/faults", `[{"error": "Throttling"}, {"error": "Throttling", "probability": 0}]`, 400, "InvalidRule", "[1].probability"},
		{"POST", "/_admin/faults", `{"error": "Throttling", "dely": "1s"}`, 400, "InvalidRule", "dely"},
		{"POST", "/_admin/faults", `{"delay": 5}`, 400, "InvalidRule", "delay"},
		{"POST", "/_admin/faults", `{"account": "12", "error": "Throttling"}`, 400, "InvalidRule", "account"},
		{"POST", "/_admin/faults", `{}`, 400, "InvalidRule", "error"},
		{"POST", "/_admin/faults", `not json`, 400, "InvalidRule", ""},
		{"POST", "/_admin/faults", ``, 400, "InvalidRule", ""},
		{"POST", "/_admin/faults", `{"error": "Throttling", "count": 1` + strings.Repeat(" ", 1<<20) + `}`, 413, "RequestEntityTooLarge", ""},
		{"DELETE", "/_admin/faults/f99", ``, 404, "NotFound", ""},
		{"PUT", "/_admin/faults", `{}`, 405, "MethodNotAllowed", ""},
		{"GET", "/_admin/faults/f1", ``, 405, "MethodNotAllowed", ""},
		{"POST", "/_admin/requests", ``, 405, "MethodNotAllowed", ""},
		{"GET", "/_admin/requests?limit=0", ``, 400, "InvalidParameter", ""},
		{"GET", "/_admin/requests?limit=x", ``, 400, "InvalidParameter", ""},
		{"GET", "/_admin/requests?acount=1", ``, 400, "InvalidParameter", ""},
		{"GET", "/_admin/requests?action=A&action=B", ``, 400, "InvalidParameter", ""},
		{"GET", "/_admin/requests?limit=%zz", ``, 400, "InvalidParameter", ""},
	} {
		status, body := a.do(tc.method, tc.path, tc.body)
		var e adminError
		if err := json.Unmarshal(body, &e); err != nil || status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
			t.Errorf("%s %s %.60s: HTTP %d %.300s, want %d %s on field %q", tc.method, tc.path, tc.body, status, body, tc.status, tc.code, tc.field)
		}
	}
	// Nothing was added by the refused requests, and the server still works.
	if _, rules := a.rules(); len(rules) != 0 {
		t.Errorf("rules after refused requests: %+v", rules)
	}
	added := a.addRules(`[{"error": "Throttling"}, {"delay": "1ms"}]`)
	if len(added) != 2 || added[0].Action != "*" || added[1].Delay != "1ms" {
		t.Fatalf("added %+v", added)
	}
	var deleted struct{ Deleted int }
	a.must(http.MethodDelete, "/_admin/faults/"+added[0].ID, "", http.StatusOK, &deleted)
	if _, rules := a.rules(); deleted.Deleted != 1 || len(rules) != 1 || rules[0].ID != added[1].ID {
		t.Errorf("after deleting %s: %+v", added[0].ID, rules)
	}
	describe(t, client(t, s.Addr, otherKey, defaultRegion), "default")
	a.must(http.MethodDelete, "/_admin/faults", "", http.StatusOK, &deleted)
	if deleted.Deleted != 1 {
		t.Errorf("DELETE /_admin/faults deleted %d, want 1", deleted.Deleted)
	}
}

func TestAdminNeedsItsTokenInSigV4Mode(t *testing.T) {
	t.Parallel()
	const token = "e2e-admin-token"
	s := startSigV4Server(t, 0, withAdmin(token))
	for _, tc := range []struct{ name, token string }{{"no token", ""}, {"wrong token", "nope"}} {
		a := newAdmin(t, s, tc.token)
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/_admin/requests", ""}, {"DELETE", "/_admin/requests", ""},
			{"GET", "/_admin/faults", ""}, {"POST", "/_admin/faults", `{"error": "Throttling"}`},
			{"DELETE", "/_admin/faults", ""}, {"DELETE", "/_admin/faults/f1", ""},
		} {
			status, body := a.do(r.method, r.path, r.body)
			var e adminError
			if json.Unmarshal(body, &e) != nil || status != 401 || e.Error.Code != "Unauthorized" {
				t.Errorf("%s: %s %s: HTTP %d %s, want 401 Unauthorized", tc.name, r.method, r.path, status, body)
			}
		}
	}
	a := newAdmin(t, s, token)
	if _, rules := a.rules(); len(rules) != 0 {
		t.Fatalf("a refused POST added rules: %+v", rules)
	}
	a.addRules(`{"account": "` + sigAccount2 + `", "error": "Throttling", "count": 1}`)
	c1 := keyClient(t, s.Addr, sigKey1, sigSecret1, defaultRegion)
	c2 := keyClient(t, s.Addr, sigKey2, sigSecret2, "eu-west-1")
	describe(t, c1, "default")
	_, err := c2.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{})
	wantErr[smithy.APIError](t, err, apiErr{status: 400, code: "Throttling", msg: "Rate exceeded"})
	// A presigned URL's signing parameters are in its query: the journal
	// keeps the harmless ones and redacts the rest.
	u := presignGet(t, s.Addr, url.Values{"Action": {"DescribeCacheSecurityGroups"}, "Version": {"2015-02-02"}},
		sigKey2, sigSecret2, "eu-west-1", time.Now(), time.Minute)
	resp, err := a.hc.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned GET: HTTP %d", resp.StatusCode)
	}
	got := a.requests("", 3)
	var seen []string
	for _, e := range got {
		seen = append(seen, e.Account+" "+e.Region+" "+e.Action+" "+*e.Code)
	}
	want := []string{
		sigAccount1 + " us-east-1 DescribeCacheSecurityGroups ",
		sigAccount2 + " eu-west-1 DescribeCacheSecurityGroups Throttling",
		sigAccount2 + " eu-west-1 DescribeCacheSecurityGroups ",
	}
	if d := cmp.Diff(want, seen); d != "" {
		t.Errorf("journal (-want +got):\n%s", d)
	}
	p := got[2].Parameters
	if p["X-Amz-Signature"] != "(redacted)" || p["X-Amz-Credential"] != "(redacted)" || p["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256" || p["X-Amz-Expires"] != "60" {
		t.Errorf("presigned GET parameters = %v, want signature and credential redacted, the rest kept", p)
	}
	if strings.Contains(fmt.Sprint(p), sigKey2) {
		t.Errorf("the journal shows the access key: %v", p)
	}
}
