package api

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the handler's output")

// clients are the four clients whose requests testdata/wire/ holds.
var clients = []string{"awscli", "boto3", "go-v2", "js-v3"}

// fixtureOps are the operations captured in testdata/wire/ and
// testdata/responses/.
var fixtureOps = []string{
	"AddTagsToResource",
	"AuthorizeCacheSecurityGroupIngress",
	"CreateCacheSecurityGroup",
	"DeleteCacheSecurityGroup",
	"DescribeCacheSecurityGroups",
	"DescribeEvents",
	"ListTagsForResource",
	"RemoveTagsFromResource",
	"RevokeCacheSecurityGroupIngress",
}

// wantInputs are what the captured requests mean, written once from the
// values the clients were called with: every client must decode to them.
func wantInputs() map[string]any {
	const arn = "arn:aws:elasticache:us-east-1:123456789012:securitygroup:my-csg"
	tags := []Tag{
		{Key: ptr("env"), Value: ptr("prod")},
		{Key: ptr("novalue")}, // sent as a Key line only: the Value stays nil
		{Key: ptr("team:name"), Value: ptr("a b&c=d/é~*")},
	}
	ingress := func() (name, ec2Name, owner *string) {
		return ptr("my-csg"), ptr("ec2-sg-a"), ptr("210987654321")
	}
	auth := &AuthorizeCacheSecurityGroupIngressInput{}
	auth.CacheSecurityGroupName, auth.EC2SecurityGroupName, auth.EC2SecurityGroupOwnerId = ingress()
	revoke := &RevokeCacheSecurityGroupIngressInput{}
	revoke.CacheSecurityGroupName, revoke.EC2SecurityGroupName, revoke.EC2SecurityGroupOwnerId = ingress()
	return map[string]any{
		"AddTagsToResource":                  &AddTagsToResourceInput{ResourceName: ptr(arn), Tags: tags},
		"AuthorizeCacheSecurityGroupIngress": auth,
		"CreateCacheSecurityGroup": &CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: ptr("my-csg"),
			Description:            ptr("My cache security group"),
			Tags:                   tags,
		},
		"DeleteCacheSecurityGroup": &DeleteCacheSecurityGroupInput{CacheSecurityGroupName: ptr("my-csg")},
		"DescribeCacheSecurityGroups": &DescribeCacheSecurityGroupsInput{
			CacheSecurityGroupName: ptr("my-csg"),
			Marker:                 ptr("abc"),
			MaxRecords:             ptr(int32(20)),
		},
		"DescribeEvents": &DescribeEventsInput{
			SourceIdentifier: ptr("my-csg"),
			SourceType:       ptr(SourceTypeCacheSecurityGroup),
			StartTime:        ptr(time.Date(2015, 2, 2, 10, 0, 0, 0, time.UTC)),
			EndTime:          ptr(time.Date(2015, 2, 3, 11, 30, 45, 250_000_000, time.UTC)),
			Duration:         ptr(int32(60)),
			Marker:           ptr("evt-marker"),
			MaxRecords:       ptr(int32(20)),
		},
		"ListTagsForResource":             &ListTagsForResourceInput{ResourceName: ptr(arn)},
		"RemoveTagsFromResource":          &RemoveTagsFromResourceInput{ResourceName: ptr(arn), TagKeys: []string{"env", "novalue"}},
		"RevokeCacheSecurityGroupIngress": revoke,
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// readFixture parses a captured raw HTTP request.
func readFixture(tb testing.TB, path string) *http.Request {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return req
}

// TestFixtureRequests serves every captured client request through the
// handler and checks that it decodes to the input the client was given,
// that the service sees the default caller and the request ID, and that
// the answer carries the same ID in the header and the body.
func TestFixtureRequests(t *testing.T) {
	t.Parallel()
	want := wantInputs()
	for _, client := range clients {
		for _, op := range fixtureOps {
			t.Run(client+"/"+op, func(t *testing.T) {
				t.Parallel()
				req := readFixture(t, filepath.Join("testdata", "wire", client, op+".http"))
				svc := &recorder{}
				res := do(t, NewHandler(svc, HandlerConfig{}), req)
				if res.status != http.StatusOK {
					t.Fatalf("status %d, body:\n%s", res.status, res.body)
				}
				if diff := cmp.Diff(want[op], svc.last()); diff != "" {
					t.Errorf("decoded input (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(Caller{AccountID: "000000000000", Region: "us-east-1"}, svc.caller); !svc.hasCaller || diff != "" {
					t.Errorf("caller (has %t) (-want +got):\n%s", svc.hasCaller, diff)
				}
				if svc.requestID != res.requestID {
					t.Errorf("service saw request ID %q, response says %q", svc.requestID, res.requestID)
				}
				if !uuidV4.MatchString(res.requestID) {
					t.Errorf("request ID %q is not a UUID v4", res.requestID)
				}
			})
		}
	}
}

// TestFixtureCoverage keeps fixtureOps and the testdata in step, so a new
// capture cannot sit untested.
func TestFixtureCoverage(t *testing.T) {
	t.Parallel()
	for _, client := range clients {
		files, err := filepath.Glob(filepath.Join("testdata", "wire", client, "*.http"))
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for _, f := range files {
			ops = append(ops, strings.TrimSuffix(filepath.Base(f), ".http"))
		}
		if diff := cmp.Diff(fixtureOps, ops); diff != "" {
			t.Errorf("%s captures (-tested +present):\n%s", client, diff)
		}
	}
}

// goldenNote heads every golden response: the files are our own answers,
// and must not be mistaken for recorded AWS ones.
const goldenNote = "<!-- Our answer, not a recorded AWS one. Its shape comes from the model " +
	"(api/model) and from testdata/responses/, which all four clients parse. " +
	"Rewrite with: go test ./api -run TestResponseShapes -update -->\n"

// TestResponseShapes encodes a representative output of each fixture
// operation through the handler and checks that it has the same element
// paths as the response all four clients parsed (testdata/responses/),
// ignoring order, whitespace and values; the whole answer is kept as a
// golden file.
//
// The client fixtures' <Tag> without <Value> is a parser check only: we
// answer a null Value as <Value></Value> (SPEC §4), and the path set is the
// same because the other tags have a Value.
func TestResponseShapes(t *testing.T) {
	t.Parallel()
	for _, op := range fixtureOps {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			req := readFixture(t, filepath.Join("testdata", "wire", "boto3", op+".http"))
			h := NewHandler(&recorder{}, HandlerConfig{NewRequestID: fixedID("5f0d6c1e-8a8b-4f3e-9d61-3c2b7a9e0f11")})
			res := do(t, h, req)
			if res.status != http.StatusOK {
				t.Fatalf("status %d, body:\n%s", res.status, res.body)
			}

			fixture, err := os.ReadFile(filepath.Join("testdata", "responses", op+".xml"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(elementPaths(t, string(fixture)), elementPaths(t, res.body)); diff != "" {
				t.Errorf("element paths (-clients' fixture +ours):\n%s", diff)
			}

			golden := filepath.Join("testdata", "golden", op+".xml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(goldenNote+res.body+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), goldenNote+res.body+"\n"); diff != "" {
				t.Errorf("answer differs from %s (-golden +ours); run with -update:\n%s", golden, diff)
			}
		})
	}
}

// elementPaths returns the set of slash-joined element paths in an XML
// document, sorted.
func elementPaths(tb testing.TB, doc string) []string {
	tb.Helper()
	seen := map[string]bool{}
	var path []string
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("not XML: %v\n%s", err, doc)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			seen[strings.Join(path, "/")] = true
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}
