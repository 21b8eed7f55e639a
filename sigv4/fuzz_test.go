package sigv4

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
)

// FuzzVerifyHeader: whatever the Authorization and X-Amz-Date headers
// hold, Verify answers an AWS fault (it cannot succeed without the secret)
// and never panics. Seeds are the captured clients' headers.
func FuzzVerifyHeader(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/elasticache/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=3b9b382eaae216f65c4771843a790a15a825ebf7c831a0000ff1e638acc39e78", "20261121T231933Z")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/elasticache/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, Signature=a84ee90667971ad1f22d5a0d8473f83799438320dbe2c25d990a8fabcbc354f4", "20261121T231939Z")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/elasticache/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-user-agent, Signature=00", "20261121T231939Z")
	f.Add("AWS4-HMAC-SHA256 ,,,===", "garbage")
	f.Add("", "")
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
	})
}

func validHeader(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
