package service

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
)

// FuzzParseARN: any string is either a parsed ARN whose parts rebuild it,
// or an InvalidARN fault; never a panic or another error.
func FuzzParseARN(f *testing.F) {
	for _, s := range capturedParams(f, "ResourceName") {
		f.Add(s)
	}
	for _, s := range []string{
		"arn:aws:elasticache:us-east-1:123456789012:securitygroup:my-csg", // the captured clients' ARN
		"arn:aws:elasticache:us-east-1:123456789012:cluster:c1",
		"arn:aws-cn:elasticache:cn-north-1:123456789012:snapshot:s",
		"arn:aws:elasticache:::securitygroup:", "web", "::::::", "arn:aws:elasticache:us-east-1:1:x:y:z",
		"arn:aws:elasticache:us-east-1:123456789012:securitygroup:\xff\x00", "arn:aws:elasticache:us-east-1:123456789012:securitygroup:" + strings.Repeat("a", 300),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseARN(s)
		if err != nil {
			var fault *api.InvalidARNFault
			if !errors.As(err, &fault) {
				t.Fatalf("parseARN(%q) = %v, want InvalidARN", s, err)
			}
			return
		}
		rebuilt := strings.Join([]string{"arn", strings.Split(s, ":")[1], "elasticache", a.region, a.account, a.kind, a.name}, ":")
		if rebuilt != s || a.name == "" {
			t.Fatalf("parseARN(%q) = %+v, rebuilds to %q", s, a, rebuilt)
		}
		if a.notFound() == nil {
			t.Fatalf("no NotFound fault for kind %q", a.kind)
		}
	})
}

// FuzzMarkerOpen: a marker not issued by this key for this scope and
// operation never opens; one that was issued opens to its position.
func FuzzMarkerOpen(f *testing.F) {
	m := schema.NewMarkers([]byte("0123456789abcdef0123456789abcdef"))
	sc := scope{Account: "111111111111", Region: "us-east-1"}
	f.Add(m.Issue(opDescribeGroups, sc, "g-00019"), "g-00019")
	for _, s := range capturedParams(f, "Marker") { // "abc", "evt-marker"
		f.Add(s, "")
	}
	f.Add("", "")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA", "x")
	f.Fuzz(func(t *testing.T, marker, position string) {
		if p, ok := m.Open(opDescribeGroups, sc, marker); ok {
			if m.Issue(opDescribeGroups, sc, p) != marker {
				t.Fatalf("opened a marker %q that this key did not issue (position %q)", marker, p)
			}
		}
		issued := m.Issue(opDescribeGroups, sc, position)
		if p, ok := m.Open(opDescribeGroups, sc, issued); !ok || p != position {
			t.Fatalf("issued marker for %q opens to %q, %v", position, p, ok)
		}
		if _, ok := m.Open(opDescribeEvents, sc, issued); ok {
			t.Fatal("a marker opened for another operation")
		}
		if _, ok := m.Open(opDescribeGroups, scope{Account: "222222222222", Region: "us-east-1"}, issued); ok {
			t.Fatal("a marker opened for another account")
		}
	})
}

// capturedParams returns the distinct values of the form parameter name in
// the requests captured from real clients (api/testdata/wire), for seeds.
func capturedParams(tb testing.TB, name string) []string {
	tb.Helper()
	files, err := filepath.Glob("../api/testdata/wire/*/*.http")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no captured requests in ../api/testdata/wire (%v)", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		_, body, _ := strings.Cut(string(b), "\r\n\r\n")
		form, err := url.ParseQuery(strings.TrimSpace(body))
		if err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		for _, v := range form[name] {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no captured request has %s", name)
	}
	return out
}
