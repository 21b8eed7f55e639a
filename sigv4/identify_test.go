package sigv4

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
)

func TestIdentify(t *testing.T) {
	t.Parallel()
	defaults := api.Caller{AccountID: "000000000000", Region: "us-east-1"}
	header := func(akid, region string) string {
		return "AWS4-HMAC-SHA256 Credential=" + akid + "/20261121/" + region + "/elasticache/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	}
	cases := []struct {
		name  string
		auth  string
		query string
		want  api.Caller
	}{
		{"no header", "", "", defaults},
		{"12-digit key is the account", header("111111111111", "eu-west-1"), "", api.Caller{AccountID: "111111111111", Region: "eu-west-1"}},
		{"other key is the default account", header("AKIDEXAMPLE", "us-west-2"), "", api.Caller{AccountID: "000000000000", Region: "us-west-2"}},
		{"13 digits is not an account", header("1111111111112", "us-east-1"), "", defaults},
		{"11 digits is not an account", header("11111111111", "us-east-1"), "", defaults},
		{"gov region", header("AKID", "us-gov-west-1"), "", api.Caller{AccountID: "000000000000", Region: "us-gov-west-1"}},
		{"bogus region falls back", header("222222222222", "Mars"), "", api.Caller{AccountID: "222222222222", Region: "us-east-1"}},
		{"region without number falls back", header("AKID", "us-east"), "", defaults},
		{"malformed header falls back", "Bearer xyz", "", defaults},
		{"credential with too few parts", "AWS4-HMAC-SHA256 Credential=333333333333/us-east-1, Signature=x", "", defaults},
		{"presigned query", "", "X-Amz-Credential=" + url.QueryEscape("444444444444/20261121/ap-south-1/elasticache/aws4_request"), api.Caller{AccountID: "444444444444", Region: "ap-south-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := http.NewRequest("POST", "http://127.0.0.1/?"+tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			q := r.URL.Query()
			got := Identify(r, q.Get, defaults)
			if got != tc.want {
				t.Fatalf("Identify = %+v, want %+v", got, tc.want)
			}
		})
	}
}
