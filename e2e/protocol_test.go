package e2e

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// namespace is the xmlns of every answer.
const namespace = "http://elasticache.amazonaws.com/doc/2015-02-02/"

// rawAnswer is an HTTP answer read in full.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
}

// rawClient sends hand-made requests, without a signature, so that they act
// as the default account in the default region.
type rawClient struct {
	tb   testing.TB
	base string
	hc   *http.Client
}

func newRawClient(tb testing.TB, addr string) *rawClient {
	return &rawClient{tb: tb, base: "http://" + addr, hc: &http.Client{Transport: newTransport(tb)}}
}

// do sends req and reads the whole answer.
func (c *rawClient) do(req *http.Request) rawAnswer {
	c.tb.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read answer: %v", req.Method, req.URL, err)
	}
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: body}
}

// post sends form as a POST body of known length.
func (c *rawClient) post(form string) rawAnswer {
	c.tb.Helper()
	req, err := http.NewRequestWithContext(c.tb.Context(), http.MethodPost, c.base+"/", strings.NewReader(form))
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return c.do(req)
}

// get sends query as the URL query of a GET.
func (c *rawClient) get(path, query string) rawAnswer {
	c.tb.Helper()
	u := c.base + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(c.tb.Context(), http.MethodGet, u, nil)
	if err != nil {
		c.tb.Fatal(err)
	}
	return c.do(req)
}

// xmlErrorResponse is the query protocol's error envelope.
type xmlErrorResponse struct {
	XMLName xml.Name
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// xmlDescribeResponse is DescribeCacheSecurityGroups' answer, as far as
// these tests read it.
type xmlDescribeResponse struct {
	XMLName xml.Name
	Groups  []struct {
		Name        string `xml:"CacheSecurityGroupName"`
		Description string
		OwnerID     string `xml:"OwnerId"`
		ARN         string
	} `xml:"DescribeCacheSecurityGroupsResult>CacheSecurityGroups>CacheSecurityGroup"`
	Marker    *string `xml:"DescribeCacheSecurityGroupsResult>Marker"`
	RequestID string  `xml:"ResponseMetadata>RequestId"`
}

// wantXMLHeaders checks what every query answer carries: Content-Type
// text/xml and an x-amzn-RequestId header that is a UUID equal to the
// body's RequestId.
func wantXMLHeaders(tb testing.TB, a rawAnswer, bodyRequestID string) {
	tb.Helper()
	if mt, _, err := mime.ParseMediaType(a.header.Get("Content-Type")); err != nil || mt != "text/xml" {
		tb.Errorf("Content-Type = %q, want text/xml", a.header.Get("Content-Type"))
	}
	hdr := a.header.Get("x-amzn-RequestId")
	if !uuidRE.MatchString(hdr) {
		tb.Errorf("x-amzn-RequestId = %q, want a UUID", hdr)
	}
	if hdr != bodyRequestID {
		tb.Errorf("x-amzn-RequestId = %q, body RequestId = %q, want them equal", hdr, bodyRequestID)
	}
}

// wantXMLError checks an error answer: status, envelope, code, type and
// message (exact unless msg is "", then only non-empty).
func wantXMLError(tb testing.TB, a rawAnswer, status int, code, msg string) {
	tb.Helper()
	var e xmlErrorResponse
	if err := xml.Unmarshal(a.body, &e); err != nil {
		tb.Fatalf("HTTP %d, body is not XML (%v):\n%s", a.status, err, a.body)
	}
	wantXMLHeaders(tb, a, e.RequestID)
	wantType := "Sender"
	if status >= 500 {
		wantType = "Receiver"
	}
	got := []any{a.status, e.XMLName.Space, e.XMLName.Local, e.Error.Type, e.Error.Code}
	want := []any{status, namespace, "ErrorResponse", wantType, code}
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Errorf("status, xmlns, root, Type, Code (-want +got):\n%s\nbody:\n%s", diff, a.body)
	}
	switch {
	case msg != "" && e.Error.Message != msg:
		tb.Errorf("Message = %q, want %q", e.Error.Message, msg)
	case msg == "" && e.Error.Message == "":
		tb.Errorf("Message is empty")
	}
}

// wantDescribe checks a successful DescribeCacheSecurityGroups answer and
// returns it.
func wantDescribe(tb testing.TB, a rawAnswer) xmlDescribeResponse {
	tb.Helper()
	var d xmlDescribeResponse
	if a.status != http.StatusOK {
		tb.Fatalf("HTTP %d, want 200:\n%s", a.status, a.body)
	}
	if err := xml.Unmarshal(a.body, &d); err != nil {
		tb.Fatalf("body is not XML (%v):\n%s", err, a.body)
	}
	if d.XMLName.Space != namespace || d.XMLName.Local != "DescribeCacheSecurityGroupsResponse" {
		tb.Errorf("root element = {%s}%s, want {%s}DescribeCacheSecurityGroupsResponse", d.XMLName.Space, d.XMLName.Local, namespace)
	}
	wantXMLHeaders(tb, a, d.RequestID)
	return d
}

const describeForm = "Action=DescribeCacheSecurityGroups&Version=2015-02-02"

// TestProtocol sends what an SDK would not: the common errors of the query
// protocol, GET requests and oversized bodies.
func TestProtocol(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newRawClient(t, s.Addr)

	for _, tc := range []struct {
		name   string
		form   string
		status int
		code   string
		msg    string
	}{
		{"no Action", "Version=2015-02-02", 400, "MissingAction", "Missing Action"},
		{"unknown Action", "Action=Foo&Version=2015-02-02", 400, "InvalidAction", "The action Foo is not valid for this web service."},
		{"action not implemented", "Action=CreateSnapshot&Version=2015-02-02&SnapshotName=s&CacheClusterId=c", 501, "NotImplemented", "The action CreateSnapshot is not implemented yet."},
		{"no Version", "Action=DescribeCacheSecurityGroups", 400, "MissingParameter", "The request must contain the parameter Version."},
		{"old Version", "Action=DescribeCacheSecurityGroups&Version=2012-01-01", 400, "InvalidParameterValue", "Unsupported API version 2012-01-01."},
		{"bad percent-encoding", describeForm + "&CacheSecurityGroupName=%zz", 404, "MalformedQueryString", ""},
		{"bad percent-encoding only", "%zz", 404, "MalformedQueryString", ""},
		{"a parameter twice", describeForm + "&CacheSecurityGroupName=a&CacheSecurityGroupName=b", 400, "InvalidParameterValue", ""},
		{"Action twice", describeForm + "&Action=DescribeCacheSecurityGroups", 400, "InvalidParameterValue", ""},
		{"required parameter absent", "Action=CreateCacheSecurityGroup&Version=2015-02-02&Description=d", 400, "MissingParameter", "The request must contain the parameter CacheSecurityGroupName."},
		{"required parameter empty", "Action=CreateCacheSecurityGroup&Version=2015-02-02&Description=d&CacheSecurityGroupName=", 400, "InvalidParameterValue", "CacheSecurityGroupName is required"},
		{"MaxRecords not a number", describeForm + "&MaxRecords=twenty", 400, "InvalidParameterValue", ""},
		{"list index 0", "Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=g&Description=d&Tags.Tag.0.Key=k", 400, "InvalidParameterValue", ""},
		{"list index negative", "Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=g&Description=d&Tags.Tag.-1.Key=k", 400, "InvalidParameterValue", ""},
		{"list index not a number", "Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=g&Description=d&Tags.Tag.x.Key=k", 400, "InvalidParameterValue", ""},
		{"delete default", "Action=DeleteCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=default", 400, "InvalidParameterValue", "The default cache security group cannot be deleted."},
		{"not found", describeForm + "&CacheSecurityGroupName=nope", 404, "CacheSecurityGroupNotFound", "CacheSecurityGroup nope not found."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantXMLError(t, c.post(tc.form), tc.status, tc.code, tc.msg)
		})
	}

	t.Run("body over 1 MiB", func(t *testing.T) {
		form := describeForm + "&Pad=" + strings.Repeat("x", 1<<20)
		wantXMLError(t, c.post(form), 413, "RequestEntityTooLarge", "")
	})

	t.Run("chunked body over 1 MiB", func(t *testing.T) {
		form := describeForm + "&Pad=" + strings.Repeat("x", 1<<20)
		// An io.Reader of unknown length is sent chunked, without
		// Content-Length, so the server must count.
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.base+"/", io.MultiReader(strings.NewReader(form)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		wantXMLError(t, c.do(req), 413, "RequestEntityTooLarge", "")
	})

	t.Run("body of exactly 1 MiB", func(t *testing.T) {
		prefix := describeForm + "&Pad="
		form := prefix + strings.Repeat("x", 1<<20-len(prefix))
		d := wantDescribe(t, c.post(form))
		if len(d.Groups) != 1 || d.Groups[0].Name != "default" {
			t.Errorf("groups = %+v, want only default", d.Groups)
		}
	})

	t.Run("GET", func(t *testing.T) {
		d := wantDescribe(t, c.get("/", describeForm))
		if len(d.Groups) != 1 || d.Groups[0].Name != "default" || d.Groups[0].Description != "default" ||
			d.Groups[0].OwnerID != defaultAccount || d.Groups[0].ARN != groupARN(defaultRegion, defaultAccount, "default") {
			t.Errorf("groups = %+v, want only default of %s in %s", d.Groups, defaultAccount, defaultRegion)
		}
		if d.Marker != nil {
			t.Errorf("Marker = %q, want none", *d.Marker)
		}
	})

	t.Run("GET unknown Action", func(t *testing.T) {
		wantXMLError(t, c.get("/", "Action=Foo&Version=2015-02-02"), 400, "InvalidAction", "The action Foo is not valid for this web service.")
	})

	t.Run("form details", func(t *testing.T) {
		// Parameters in any order, + and %20 both spaces, unknown
		// parameters ignored, no Content-Type charset.
		form := "Description=a+b%20c%2Bd&Unknown=1&CacheSecurityGroupName=Form-Group&Version=2015-02-02&Action=CreateCacheSecurityGroup"
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.base+"/", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		a := c.do(req)
		if a.status != http.StatusOK {
			t.Fatalf("create: HTTP %d:\n%s", a.status, a.body)
		}
		d := wantDescribe(t, c.get("/", describeForm+"&CacheSecurityGroupName=FORM-GROUP"))
		if len(d.Groups) != 1 || d.Groups[0].Name != "form-group" || d.Groups[0].Description != "a b c+d" {
			t.Errorf("groups = %+v, want form-group described %q", d.Groups, "a b c+d")
		}
	})

	t.Run("list indices need not be contiguous or small", func(t *testing.T) {
		form := "Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=sparse&Description=d" +
			"&Tags.Tag.7.Key=b&Tags.Tag.7.Value=2&Tags.Tag.2.Key=a&Tags.Tag.2147483647.Key=c"
		a := c.post(form)
		if a.status != http.StatusOK {
			t.Fatalf("create with indices 2, 7 and 2147483647: HTTP %d:\n%s", a.status, a.body)
		}
		d := wantDescribe(t, c.get("/", describeForm+"&CacheSecurityGroupName=sparse"))
		if len(d.Groups) != 1 || d.Groups[0].Name != "sparse" {
			t.Errorf("groups = %+v, want sparse", d.Groups)
		}
	})

	t.Run("success answers carry the request ID", func(t *testing.T) {
		q := url.Values{
			"Action":                 {"CreateCacheSecurityGroup"},
			"Version":                {"2015-02-02"},
			"CacheSecurityGroupName": {"headers"},
			"Description":            {"d"},
		}
		a := c.post(q.Encode())
		var r struct {
			XMLName   xml.Name
			Name      string `xml:"CreateCacheSecurityGroupResult>CacheSecurityGroup>CacheSecurityGroupName"`
			RequestID string `xml:"ResponseMetadata>RequestId"`
		}
		if err := xml.Unmarshal(a.body, &r); err != nil || a.status != http.StatusOK {
			t.Fatalf("create: HTTP %d, %v:\n%s", a.status, err, a.body)
		}
		if r.XMLName.Local != "CreateCacheSecurityGroupResponse" || r.XMLName.Space != namespace || r.Name != "headers" {
			t.Errorf("answer = %+v, want {%s}CreateCacheSecurityGroupResponse for group headers", r, namespace)
		}
		wantXMLHeaders(t, a, r.RequestID)

		q.Set("Action", "DeleteCacheSecurityGroup")
		q.Del("Description")
		a = c.post(q.Encode())
		var del struct {
			XMLName   xml.Name
			Result    *struct{} `xml:"DeleteCacheSecurityGroupResult"`
			RequestID string    `xml:"ResponseMetadata>RequestId"`
		}
		if err := xml.Unmarshal(a.body, &del); err != nil || a.status != http.StatusOK {
			t.Fatalf("delete: HTTP %d, %v:\n%s", a.status, err, a.body)
		}
		if del.XMLName.Local != "DeleteCacheSecurityGroupResponse" || del.XMLName.Space != namespace {
			t.Errorf("root element = {%s}%s, want {%s}DeleteCacheSecurityGroupResponse", del.XMLName.Space, del.XMLName.Local, namespace)
		}
		wantXMLHeaders(t, a, del.RequestID)
	})

	t.Run("request IDs differ", func(t *testing.T) {
		seen := map[string]bool{}
		for range 5 {
			id := c.post(describeForm).header.Get("x-amzn-RequestId")
			if seen[id] {
				t.Errorf("request ID %q answered twice", id)
			}
			seen[id] = true
		}
	})

	t.Run("health", func(t *testing.T) {
		a := c.get("/health", "")
		if a.status != http.StatusOK {
			t.Fatalf("GET /health: HTTP %d:\n%s", a.status, a.body)
		}
		if mt, _, err := mime.ParseMediaType(a.header.Get("Content-Type")); err != nil || mt != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", a.header.Get("Content-Type"))
		}
		var h map[string]any
		if err := json.Unmarshal(a.body, &h); err != nil {
			t.Fatalf("GET /health: body is not JSON (%v):\n%s", err, a.body)
		}
		if h["status"] != "ok" {
			t.Errorf(`GET /health: "status" = %v, want "ok" (body %s)`, h["status"], a.body)
		}
	})
}
