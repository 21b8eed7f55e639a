package sigv4

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
)

// FuzzVerifyHeader: whatever the Authorization and X-Amz-Date headers
// hold, Verify answers an AWS fault (it cannot succeed without the secret)
// whose message stays short however long the headers are, and never
// panics. Seeds are the captured clients' headers (all 36 requests) and
// hand-made malformed ones.
func FuzzVerifyHeader(f *testing.F) {
	for _, h := range capturedAuthHeaders(f) {
		f.Add(h[0], h[1])
	}
	for _, s := range [][2]string{
		{"AWS4-HMAC-SHA256 ,,,===", "garbage"},
		{"", ""},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/elasticache/aws4_request, SignedHeaders=host, Signature=00", "20261121T231939Z"},
		{"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/aws4_request,SignedHeaders=;;;HOST;;,Signature=,Signature=1", "99999999T999999Z"},
		{"AWS4-HMAC-SHA256 Credential=////aws4_request, SignedHeaders=host, Signature=x", "20261121T231939Z"},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x", "\xff\xfe"},
		{"aws4-hmac-sha256 Credential=AKIDEXAMPLE/20261121/us-east-1/elasticache/aws4_request", "20261121T231939Z"},
	} {
		f.Add(s[0], s[1])
	}
	now := time.Date(2026, 11, 21, 23, 20, 0, 0, time.UTC)
	v := verifier(now)
	f.Fuzz(func(t *testing.T, auth, date string) {
		r := httptest.NewRequest("POST", "http://127.0.0.1:4566/", strings.NewReader("Action=X"))
		if !validHeader(auth) || !validHeader(date) {
			return // net/http would refuse such a header before us
		}
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		_, err := v.Verify(r, []byte("Action=X"))
		var fault api.Fault
		if !errors.As(err, &fault) {
			t.Fatalf("Verify(%q, %q) = %v, want an AWS fault", auth, date, err)
		}
		// Messages quote client text only truncated.
		if n := len(fault.ErrorMessage()); n > maxFaultMessage {
			t.Fatalf("Verify(%q, %q): a message of %d bytes, want at most %d", auth, date, n, maxFaultMessage)
		}
	})
}

// maxFaultMessage bounds a fault message: the longest fixed text plus the
// truncated quotes of client text.
const maxFaultMessage = 1024

// capturedAuthHeaders returns the Authorization and X-Amz-Date headers of
// the requests captured from real clients (api/testdata/wire).
func capturedAuthHeaders(tb testing.TB) [][2]string {
	tb.Helper()
	files, err := filepath.Glob("../api/testdata/wire/*/*.http")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no captured requests in ../api/testdata/wire (%v)", err)
	}
	var out [][2]string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		head, _, _ := strings.Cut(string(b), "\r\n\r\n")
		var auth, date string
		for _, line := range strings.Split(head, "\r\n") {
			k, v, _ := strings.Cut(line, ":")
			switch strings.ToLower(k) {
			case "authorization":
				auth = strings.TrimSpace(v)
			case "x-amz-date":
				date = strings.TrimSpace(v)
			}
		}
		if auth == "" || date == "" {
			tb.Fatalf("%s: no Authorization or X-Amz-Date header", name)
		}
		out = append(out, [2]string{auth, date})
	}
	return out
}

func validHeader(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
