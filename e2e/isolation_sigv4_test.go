package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// recorder is an HTTP transport that keeps the last answer it carried, as
// read off the wire, for the test to compare byte for byte.
type recorder struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	last *rawAnswer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.last = &rawAnswer{status: resp.StatusCode, header: resp.Header.Clone(), body: body}
	r.mu.Unlock()
	return resp, nil
}

// take returns the last answer and forgets it.
func (r *recorder) take(tb testing.TB) rawAnswer {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		tb.Fatal("no answer was recorded")
	}
	a := *r.last
	r.last = nil
	return a
}

var requestIDElem = regexp.MustCompile(`<RequestId>[0-9a-fA-F-]{36}</RequestId>`)

// answerBytes is an answer as it went over the wire, but for what differs
// between any two answers: the request ID (body and header) and the Date
// header.
func answerBytes(a rawAnswer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d\n", a.status)
	keys := make([]string, 0, len(a.header))
	for k := range a.header {
		if k != "X-Amzn-Requestid" && k != "Date" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %q\n", k, a.header[k])
	}
	b.WriteString("\n")
	b.Write(requestIDElem.ReplaceAll(a.body, []byte("<RequestId>REQUEST-ID</RequestId>")))
	return b.String()
}

// isoScope is one (account, region) of the sigv4 isolation test, with a
// client signing with that account's key.
type isoScope struct {
	name, account, region string
	own                   string // a group only this scope has
	ec2Name, ec2Owner     string // the entry this scope authorizes
	c                     *elasticache.Client
	rec                   *recorder
	events                []string // "group: message", newest first
}

// probe is one request of a scope aimed at another scope's resources, with
// the answer the Go SDK must surface (apiErr{} for success).
type probe struct {
	what string
	call func(ctx context.Context, c *elasticache.Client) error
	want apiErr
	// group is the name of b's group the probe names, "" if none.
	group string
}

// probes are every operation of a aimed at b's groups: by name, by ARN
// (b's own group, b's shared-named group, b's default group) and by event
// source. Each group name goes through rename first: a ghost rename names
// groups that exist nowhere.
func probes(a, b *isoScope, rename func(string) string) []probe {
	own := rename(b.own)
	ps := []probe{
		{"describe " + own, func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.DescribeCacheSecurityGroups(ctx, &elasticache.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: aws.String(own)})
			return err
		}, notFound(own), own},
		{"delete " + own, func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.DeleteCacheSecurityGroup(ctx, &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String(own)})
			return err
		}, notFound(own), own},
		{"authorize on " + own, func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.AuthorizeCacheSecurityGroupIngress(ctx, &elasticache.AuthorizeCacheSecurityGroupIngressInput{
				CacheSecurityGroupName: aws.String(own), EC2SecurityGroupName: aws.String("intruder"), EC2SecurityGroupOwnerId: aws.String(a.ec2Owner),
			})
			return err
		}, notFound(own), own},
		{"revoke their entry on " + own, func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.RevokeCacheSecurityGroupIngress(ctx, &elasticache.RevokeCacheSecurityGroupIngressInput{
				CacheSecurityGroupName: aws.String(own), EC2SecurityGroupName: aws.String(b.ec2Name), EC2SecurityGroupOwnerId: aws.String(b.ec2Owner),
			})
			return err
		}, notFound(own), own},
		{"revoke their entry on shared", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.RevokeCacheSecurityGroupIngress(ctx, &elasticache.RevokeCacheSecurityGroupIngressInput{
				CacheSecurityGroupName: aws.String("shared"), EC2SecurityGroupName: aws.String(b.ec2Name), EC2SecurityGroupOwnerId: aws.String(b.ec2Owner),
			})
			return err
		}, notAuthorized(b.ec2Name, b.ec2Owner, "shared"), ""},
		{"events of " + own, func(ctx context.Context, c *elasticache.Client) error {
			out, err := c.DescribeEvents(ctx, &elasticache.DescribeEventsInput{
				SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String(own), Duration: aws.Int32(20160),
			})
			if err == nil && len(out.Events) > 0 {
				return fmt.Errorf("%d events of %s seen from %s: %+v", len(out.Events), own, a.name, out.Events)
			}
			return err
		}, apiErr{}, own},
	}
	for _, name := range []string{rename(b.own), rename("shared"), rename("default")} {
		arn := groupARN(b.region, b.account, name)
		ps = append(ps,
			probe{"list tags of " + arn, func(ctx context.Context, c *elasticache.Client) error {
				_, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
				return err
			}, notFound(name), name},
			probe{"add tags to " + arn, func(ctx context.Context, c *elasticache.Client) error {
				_, err := c.AddTagsToResource(ctx, &elasticache.AddTagsToResourceInput{ResourceName: aws.String(arn), Tags: []types.Tag{tag("intruder", a.name)}})
				return err
			}, notFound(name), name},
			probe{"remove tags from " + arn, func(ctx context.Context, c *elasticache.Client) error {
				_, err := c.RemoveTagsFromResource(ctx, &elasticache.RemoveTagsFromResourceInput{ResourceName: aws.String(arn), TagKeys: []string{"scope"}})
				return err
			}, notFound(name), name},
		)
	}
	return ps
}

// TestIsolationSigV4 has two accounts, each with its own key, in two
// regions each, on a server that verifies signatures. Every scope aims
// every operation at every other scope's groups — by name, by ARN (tags),
// by event source, by pagination marker — before and after those groups
// exist: the answers after are byte for byte the answers before (but for
// the request ID), which are the answers about groups that exist nowhere;
// nothing is changed, nothing is seen.
func TestIsolationSigV4(t *testing.T) {
	t.Parallel()
	s := startSigV4Server(t, 0)
	keys := map[string][2]string{sigAccount1: {sigKey1, sigSecret1}, sigAccount2: {sigKey2, sigSecret2}}
	var scopes []*isoScope
	for i, ar := range [][2]string{
		{sigAccount1, "us-east-1"}, {sigAccount1, "eu-west-1"},
		{sigAccount2, "us-east-1"}, {sigAccount2, "eu-west-1"},
	} {
		rec := &recorder{rt: plainBodies{newTransport(t)}}
		k := keys[ar[0]]
		scopes = append(scopes, &isoScope{
			name: ar[0] + "/" + ar[1], account: ar[0], region: ar[1],
			own:     fmt.Sprintf("own-%d", i),
			ec2Name: fmt.Sprintf("sg-%d", i), ec2Owner: fmt.Sprintf("%012d", i+1),
			rec: rec,
			c: sigClient(t, "http://"+s.Addr, aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}, ar[1],
				&http.Client{Transport: rec, Timeout: 30 * time.Second}),
		})
	}
	t0 := time.Now().Add(-time.Second)
	note := func(sc *isoScope, group, message string) {
		sc.events = append([]string{group + ": " + message}, sc.events...)
	}

	// Every scope has a group named shared: one name, four groups.
	for _, sc := range scopes {
		g := create(t, sc.c, "shared", "in "+sc.name, tag("scope", sc.name))
		wantGroup(t, g, sc.account, sc.region, "shared", "in "+sc.name)
		note(sc, "shared", msgCreated)
	}

	// ghost names a group that exists nowhere, of the same length as name.
	ghost := func(name string) string { return strings.Repeat("z", len(name)) }
	same := func(name string) string { return name }
	// run sends every probe of every scope at every other and returns the
	// answers' bytes, checking each through the SDK as it goes. With
	// ghosts, each probe is also sent with ghost names: the answer must be
	// the same bytes, but for the name. (The first run, before the others'
	// own groups exist, answers about names that exist nowhere; ghosts
	// cover the others' shared and default, which exist throughout.)
	run := func(t *testing.T, ghosts bool) map[string]string {
		t.Helper()
		out := map[string]string{}
		send := func(a *isoScope, id string, p probe) string {
			t.Helper()
			err := p.call(t.Context(), a.c)
			switch {
			case p.want.code == "" && err != nil:
				t.Errorf("%s: %v", id, err)
			case p.want.code != "":
				if problem := checkAPIErr(err, p.want); problem != nil {
					t.Errorf("%s: %v\n  full error: %v", id, problem, err)
				}
			}
			return answerBytes(a.rec.take(t))
		}
		for _, a := range scopes {
			for _, b := range scopes {
				if a == b {
					continue
				}
				real, nowheres := probes(a, b, same), probes(a, b, ghost)
				for i, p := range real {
					id := a.name + " → " + b.name + ": " + p.what
					got := send(a, id, p)
					out[id] = got
					g := nowheres[i]
					if !ghosts || g.group == "" {
						continue // the ghost would be the same request
					}
					nowhere := send(a, id+" (ghost)", g)
					nowhere = strings.ReplaceAll(nowhere, g.group, p.group)
					if got != nowhere {
						t.Errorf("%s: the answer differs from the answer about %s, which exists nowhere\nthis:\n%s\nthat (name put back):\n%s", id, g.group, got, nowhere)
					}
				}
			}
		}
		return out
	}
	var before map[string]string
	t.Run("before the others' groups exist", func(t *testing.T) { before = run(t, false) })

	// Now each scope makes its own group, entries and tags; scope 0 enough
	// groups and events to page.
	for _, sc := range scopes {
		create(t, sc.c, sc.own, "only in "+sc.name, tag("scope", sc.name))
		note(sc, sc.own, msgCreated)
		for _, g := range []string{"shared", sc.own} {
			mustAuthorize(t, sc.c, g, sc.ec2Name, sc.ec2Owner)
			note(sc, g, msgAuthorized(sc.ec2Name, sc.ec2Owner))
		}
		mustAddTags(t, sc.c, groupARN(sc.region, sc.account, "default"), []types.Tag{tag("scope", sc.name)}, tag("scope", sc.name))
	}
	var bulk []string
	for i := range 20 {
		bulk = append(bulk, fmt.Sprintf("bulk-%02d", i))
	}
	for _, name := range bulk {
		create(t, scopes[0].c, name, "bulk")
		note(scopes[0], name, msgCreated)
	}

	t.Run("after: the same bytes", func(t *testing.T) {
		after := run(t, true)
		if len(after) != len(before) || len(before) != 4*3*15 {
			t.Fatalf("%d answers before, %d after, want %d", len(before), len(after), 4*3*15)
		}
		for id, b := range before {
			if a := after[id]; a != b {
				t.Errorf("%s: the answer differs once the group exists\nbefore:\n%s\nafter:\n%s", id, b, a)
			}
		}
	})

	// wantOwn checks that a scope's state is exactly what it made.
	wantOwn := func(t *testing.T, sc *isoScope) {
		t.Helper()
		entry := ec2(sc.ec2Name, sc.ec2Owner, "authorized")
		wantDescribed(t, sc.c, sc.account, sc.region, "shared", "in "+sc.name, entry)
		wantDescribed(t, sc.c, sc.account, sc.region, sc.own, "only in "+sc.name, entry)
		wantDescribed(t, sc.c, sc.account, sc.region, "default", "default")
		names := []string{"default", sc.own, "shared"}
		if sc == scopes[0] {
			names = append(append([]string{}, bulk...), names...)
			slices.Sort(names)
		}
		wantNames(t, sc.name+" groups", groupNames(listAll(t, sc.c, 100)), names)
		for _, g := range []string{"shared", sc.own, "default"} {
			wantListed(t, sc.c, groupARN(sc.region, sc.account, g), tag("scope", sc.name))
		}
		p := elasticache.NewDescribeEventsPaginator(sc.c, &elasticache.DescribeEventsInput{Duration: aws.Int32(20160)})
		var got []string
		for p.HasMorePages() {
			out, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatalf("%s events: %v", sc.name, err)
			}
			for _, e := range toEvents(t, out.Events) {
				got = append(got, e.SourceIdentifier+": "+e.Message)
				if e.Date.Before(t0) || e.Date.After(time.Now()) {
					t.Errorf("%s: event %v outside the test's time", sc.name, e)
				}
			}
		}
		wantNames(t, sc.name+" events", got, sc.events)
	}
	t.Run("everyone's state is intact", func(t *testing.T) {
		for _, sc := range scopes {
			wantOwn(t, sc)
		}
	})

	t.Run("another scope's marker is a forged marker", func(t *testing.T) {
		owner := scopes[0]
		out, err := owner.c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{MaxRecords: aws.Int32(20)})
		if err != nil || out.Marker == nil {
			t.Fatalf("first page of %s: marker %v, %v", owner.name, out.Marker, err)
		}
		groupsMarker := *out.Marker
		ev, err := owner.c.DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{Duration: aws.Int32(20160), MaxRecords: aws.Int32(20)})
		if err != nil || ev.Marker == nil {
			t.Fatalf("first events page of %s: marker %v, %v", owner.name, ev.Marker, err)
		}
		eventsMarker := *ev.Marker
		badMarker := invalidValueExact("Invalid value for parameter Marker: the marker is not valid for this request.")
		listWith := func(c *elasticache.Client, m string) error {
			_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{MaxRecords: aws.Int32(20), Marker: aws.String(m)})
			return err
		}
		eventsWith := func(c *elasticache.Client, m string) error {
			_, err := c.DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{Duration: aws.Int32(20160), MaxRecords: aws.Int32(20), Marker: aws.String(m)})
			return err
		}
		for _, op := range []struct {
			name   string
			send   func(*elasticache.Client, string) error
			marker string
		}{{"DescribeCacheSecurityGroups", listWith, groupsMarker}, {"DescribeEvents", eventsWith, eventsMarker}} {
			if err := op.send(owner.c, op.marker); err != nil {
				t.Errorf("%s: %s with its own marker: %v", owner.name, op.name, err)
			}
			owner.rec.take(t)
			for _, other := range scopes[1:] {
				err := op.send(other.c, op.marker)
				if problem := checkAPIErr(err, badMarker); problem != nil {
					t.Errorf("%s: %s with the marker of %s: %v", other.name, op.name, owner.name, problem)
				}
				theirs := answerBytes(other.rec.take(t))
				// A forged marker of the same length and alphabet.
				forged := strings.Map(func(r rune) rune {
					if r >= 'a' && r < 'z' || r >= 'A' && r < 'Z' {
						return r + 1
					}
					return r
				}, op.marker)
				op.send(other.c, forged)
				if f := answerBytes(other.rec.take(t)); f != theirs {
					t.Errorf("%s: %s with the marker of %s answers\n%s\nwith a forged one\n%s", other.name, op.name, owner.name, theirs, f)
				}
			}
		}
	})

	t.Run("the others' names are free to create, and stay theirs", func(t *testing.T) {
		for _, a := range scopes {
			for _, b := range scopes {
				if a == b {
					continue
				}
				g := create(t, a.c, b.own, "a namesake in "+a.name)
				wantGroup(t, g, a.account, a.region, b.own, "a namesake in "+a.name)
				if _, err := a.c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String(b.own)}); err != nil {
					t.Fatalf("%s: delete its namesake %s: %v", a.name, b.own, err)
				}
				note(a, b.own, msgCreated)
				note(a, b.own, msgDeleted)
			}
		}
		for _, sc := range scopes {
			wantOwn(t, sc)
		}
	})
}
