package sigv4

import (
	"net/http"
	"strings"

	"github.com/elasticache-server/elasticache-server/api"
)

// Credential is the parsed Credential element of a SigV4 signature:
// AccessKeyID/Date/Region/Service/aws4_request.
type Credential struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
}

// ParseCredential parses "AKID/20261121/us-east-1/elasticache/aws4_request".
func ParseCredential(s string) (Credential, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return Credential{}, false
	}
	return Credential{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}, true
}

// credentialOf finds the credential of a header-signed or presigned request.
func credentialOf(r *http.Request, query func(string) string) (Credential, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
		if !ok {
			return Credential{}, false
		}
		for _, field := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(field), "Credential="); ok {
				return ParseCredential(v)
			}
		}
		return Credential{}, false
	}
	if query != nil {
		if v := query("X-Amz-Credential"); v != "" {
			return ParseCredential(v)
		}
	}
	return Credential{}, false
}

// Identify returns the caller of r in the non-verifying mode: an access key
// of exactly 12 digits is the account ID (LocalStack's convention, so users
// can switch), any other key is the default account; the region is the
// credential scope's when it has AWS's form, else the default. A missing or
// malformed header falls back to the defaults and is never an error.
// query looks up parameters of a presigned request (nil when there are none).
func Identify(r *http.Request, query func(string) string, defaults api.Caller) api.Caller {
	c := defaults
	cred, ok := credentialOf(r, query)
	if !ok {
		return c
	}
	if api.IsAccountID(cred.AccessKeyID) {
		c.AccountID = cred.AccessKeyID
	}
	if IsRegion(cred.Region) {
		c.Region = cred.Region
	}
	return c
}

// IsRegion reports whether s has the form of an AWS region name: lowercase
// letter groups joined by hyphens and ending in a number, such as us-east-1
// or us-gov-west-1.
func IsRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(s) > 32 || len(parts) < 3 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		last := i == len(parts)-1
		for j := 0; j < len(p); j++ {
			c := p[j]
			if last && !(c >= '0' && c <= '9') || !last && !(c >= 'a' && c <= 'z') {
				return false
			}
		}
	}
	return true
}
