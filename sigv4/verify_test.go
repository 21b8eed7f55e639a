package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/elasticache-server/elasticache-server/api"
)

const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// AWS's published examples, checked through the same functions Verify uses.
func TestPublishedExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, url, service, want string
		headers                          map[string]string
		signed                           []string
	}{
		{
			name: "IAM ListUsers (General Reference, signing example)", method: "GET",
			url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", service: "iam",
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "X-Amz-Date": "20150830T123600Z"},
			signed:  []string{"content-type", "host", "x-amz-date"},
			want:    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		},
		{
			name: "get-vanilla (SigV4 test suite)", method: "GET",
			url: "https://example.amazonaws.com/", service: "service",
			headers: map[string]string{"X-Amz-Date": "20150830T123600Z"},
			signed:  []string{"host", "x-amz-date"},
			want:    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.url, nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			s := signed{accessKey: testKey, date: "20150830", region: "us-east-1", service: tc.service,
				signedHeaders: tc.signed, rawTime: "20150830T123600Z"}
			got := signature(testSecret, s, stringToSign(s, canonicalRequest(r, s, sha256Hex(nil))))
			if got != tc.want {
				t.Fatalf("signature %s, want %s\ncanonical request:\n%s", got, tc.want, canonicalRequest(r, s, sha256Hex(nil)))
			}
		})
	}
}

func verifier(now time.Time) *Verifier {
	return &Verifier{
		Lookup: func(k string) (Credentials, bool) {
			if k == testKey {
				return Credentials{AccountID: "111111111111", SecretAccessKey: testSecret}, true
			}
			return Credentials{}, false
		},
		Region: func(r string) bool { return r != "eu-north-1" },
		Now:    func() time.Time { return now },
	}
}

var signTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// sdkSigned signs a request the way aws-sdk-go-v2 does.
func sdkSigned(t *testing.T, method, body, region, service, secret string, at time.Time, header map[string]string) *http.Request {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var r *http.Request
	if rd != nil {
		r = httptest.NewRequest(method, "http://127.0.0.1:4566/", rd)
	} else {
		r = httptest.NewRequest(method, "http://127.0.0.1:4566/?Action=DescribeCacheSecurityGroups&Version=2015-02-02&Marker=a%2Fb%20c", nil)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	var f api.Fault
	if !errors.As(err, &f) {
		t.Fatalf("error %v, want fault %s", err, code)
	}
	if f.ErrorCode() != code || f.HTTPStatus() != status {
		t.Fatalf("fault %s %d %q, want %s %d", f.ErrorCode(), f.HTTPStatus(), f.ErrorMessage(), code, status)
	}
}

func TestVerifyAgainstSDKSigner(t *testing.T) {
	t.Parallel()
	body := "Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=a&Description=caf%C3%A9+%2A~"
	r := sdkSigned(t, "POST", body, "eu-west-1", "elasticache", testSecret, signTime, map[string]string{"X-Custom": "  a   b  "})
	c, err := verifier(signTime.Add(14*time.Minute)).Verify(r, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if c != (api.Caller{AccountID: "111111111111", Region: "eu-west-1"}) {
		t.Fatalf("caller %+v", c)
	}
	// GET with a query, signed in the header.
	g := sdkSigned(t, "GET", "", "us-east-1", "elasticache", testSecret, signTime, nil)
	if _, err := verifier(signTime).Verify(g, nil); err != nil {
		t.Fatalf("GET: %v", err)
	}
	// Presigned GET.
	p := httptest.NewRequest("GET", "http://127.0.0.1:4566/?Action=DescribeCacheSecurityGroups&Version=2015-02-02", nil)
	url, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret},
		p, sha256Hex(nil), "elasticache", "us-east-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	// Without X-Amz-Expires the URL gets the ±15 minutes of a header signature.
	pr := httptest.NewRequest("GET", url, nil)
	if _, err := verifier(signTime.Add(10*time.Minute)).Verify(pr, nil); err != nil {
		t.Fatalf("presigned: %v (%s)", err, url)
	}
	_, err = verifier(signTime.Add(16*time.Minute)).Verify(httptest.NewRequest("GET", url, nil), nil)
	wantCode(t, err, "RequestExpired", 400)
}

func TestVerifyFailures(t *testing.T) {
	t.Parallel()
	body := "Action=DescribeCacheSecurityGroups&Version=2015-02-02"
	good := func() *http.Request {
		return sdkSigned(t, "POST", body, "us-east-1", "elasticache", testSecret, signTime, nil)
	}
	v := verifier(signTime)
	cases := []struct {
		name   string
		req    func() (*http.Request, []byte, *Verifier)
		code   string
		status int
	}{
		{"no signature", func() (*http.Request, []byte, *Verifier) {
			return httptest.NewRequest("POST", "http://127.0.0.1:4566/", strings.NewReader(body)), []byte(body), v
		}, "MissingAuthenticationToken", 403},
		{"wrong secret", func() (*http.Request, []byte, *Verifier) {
			return sdkSigned(t, "POST", body, "us-east-1", "elasticache", "wrong", signTime, nil), []byte(body), v
		}, "SignatureDoesNotMatch", 403},
		{"body changed", func() (*http.Request, []byte, *Verifier) { return good(), []byte(body + "&x=1"), v }, "SignatureDoesNotMatch", 403},
		{"unknown key", func() (*http.Request, []byte, *Verifier) {
			r := good()
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testKey, "AKIDUNKNOWN", 1))
			return r, []byte(body), v
		}, "InvalidClientTokenId", 403},
		{"session token", func() (*http.Request, []byte, *Verifier) {
			r := good()
			r.Header.Set("X-Amz-Security-Token", "token")
			return r, []byte(body), v
		}, "InvalidClientTokenId", 403},
		{"other service", func() (*http.Request, []byte, *Verifier) {
			return sdkSigned(t, "POST", body, "us-east-1", "ec2", testSecret, signTime, nil), []byte(body), v
		}, "SignatureDoesNotMatch", 403},
		{"region not served", func() (*http.Request, []byte, *Verifier) {
			return sdkSigned(t, "POST", body, "eu-north-1", "elasticache", testSecret, signTime, nil), []byte(body), v
		}, "SignatureDoesNotMatch", 403},
		{"16 minutes late", func() (*http.Request, []byte, *Verifier) {
			return good(), []byte(body), verifier(signTime.Add(16 * time.Minute))
		}, "RequestExpired", 400},
		{"16 minutes early", func() (*http.Request, []byte, *Verifier) {
			return good(), []byte(body), verifier(signTime.Add(-16 * time.Minute))
		}, "RequestExpired", 400},
		{"content sha256 mismatch", func() (*http.Request, []byte, *Verifier) {
			r := sdkSigned(t, "POST", body, "us-east-1", "elasticache", testSecret, signTime, map[string]string{"X-Amz-Content-Sha256": sha256Hex([]byte("other"))})
			return r, []byte(body), v
		}, "SignatureDoesNotMatch", 403},
		{"other algorithm", func() (*http.Request, []byte, *Verifier) {
			r := good()
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1))
			return r, []byte(body), v
		}, "IncompleteSignature", 400},
		{"no signature field", func() (*http.Request, []byte, *Verifier) {
			r := good()
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
			return r, []byte(body), v
		}, "IncompleteSignature", 400},
		{"bad credential", func() (*http.Request, []byte, *Verifier) {
			r := good()
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1, SignedHeaders=host, Signature=00")
			return r, []byte(body), v
		}, "IncompleteSignature", 400},
		{"host not signed", func() (*http.Request, []byte, *Verifier) {
			r := good()
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
			return r, []byte(body), v
		}, "IncompleteSignature", 400},
		{"no date", func() (*http.Request, []byte, *Verifier) {
			r := good()
			r.Header.Del("X-Amz-Date")
			return r, []byte(body), v
		}, "IncompleteSignature", 400},
		{"scope date differs", func() (*http.Request, []byte, *Verifier) {
			r := good()
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261123/", "/20261122/", 1))
			return r, []byte(body), v
		}, "SignatureDoesNotMatch", 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, b, ver := tc.req()
			_, err := ver.Verify(r, b)
			wantCode(t, err, tc.code, tc.status)
		})
	}
}

func TestPresignedExpiry(t *testing.T) {
	t.Parallel()
	p := httptest.NewRequest("GET", "http://127.0.0.1:4566/?Action=DescribeCacheSecurityGroups&Version=2015-02-02&X-Amz-Expires=60", nil)
	url, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret},
		p, sha256Hex(nil), "elasticache", "us-east-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier(signTime.Add(60*time.Second)).Verify(httptest.NewRequest("GET", url, nil), nil); err != nil {
		t.Fatalf("at expiry: %v", err)
	}
	_, err = verifier(signTime.Add(61*time.Second)).Verify(httptest.NewRequest("GET", url, nil), nil)
	wantCode(t, err, "RequestExpired", 400)
	tampered := strings.Replace(url, "DescribeCacheSecurityGroups", "DeleteCacheSecurityGroup", 1)
	_, err = verifier(signTime).Verify(httptest.NewRequest("GET", tampered, nil), nil)
	wantCode(t, err, "SignatureDoesNotMatch", 403)
}
