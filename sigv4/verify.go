package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
)

const (
	algorithm   = "AWS4-HMAC-SHA256"
	terminator  = "aws4_request"
	timeFormat  = "20060102T150405Z"
	dateFormat  = "20060102"
	maxSkew     = 15 * time.Minute
	maxExpires  = 7 * 24 * 60 * 60 // a presigned URL lives at most 7 days
	serviceName = "elasticache"
)

// Credentials are what the server knows of one access key.
type Credentials struct {
	AccountID       string
	SecretAccessKey string
}

// Verifier checks AWS Signature Version 4 on requests: header-signed POST
// and GET, and presigned (query-signed) GET. The zero value is not usable:
// Lookup must be set.
type Verifier struct {
	// Lookup returns the credentials of an access key, false if unknown.
	Lookup func(accessKeyID string) (Credentials, bool)
	// Region reports whether a region is served; nil serves every region
	// of AWS's form.
	Region func(region string) bool
	// Now is the clock signatures are checked against; nil is time.Now.
	Now func() time.Time
}

// signed is a request's signature material, from its header or its query.
type signed struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
	requestTime                      time.Time
	rawTime, timeSource              string
	presigned                        bool
	expires                          time.Duration
}

// Verify checks r's signature over its exact body bytes and returns the
// caller it proves: the account of the access key, the region of the
// credential scope. Every failure is the AWS fault a client expects.
func (v *Verifier) Verify(r *http.Request, body []byte) (api.Caller, error) {
	query := r.URL.Query()
	var s signed
	var err error
	switch {
	case r.Header.Get("Authorization") != "":
		s, err = parseAuthorization(r)
	case query.Get("X-Amz-Signature") != "" || query.Get("X-Amz-Credential") != "" || query.Get("X-Amz-Algorithm") != "":
		s, err = parsePresigned(query)
	default:
		return api.Caller{}, api.MissingAuthenticationToken()
	}
	if err != nil {
		return api.Caller{}, err
	}
	if r.Header.Get("X-Amz-Security-Token") != "" || query.Get("X-Amz-Security-Token") != "" {
		// No session credentials are ever issued, so any token is unknown.
		return api.Caller{}, api.InvalidClientTokenID()
	}
	if err := v.checkScope(s); err != nil {
		return api.Caller{}, err
	}
	if err := v.checkTime(s); err != nil {
		return api.Caller{}, err
	}
	creds, ok := v.Lookup(s.accessKey)
	if !ok {
		return api.Caller{}, api.InvalidClientTokenID()
	}
	payload := sha256Hex(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		if h != payload {
			return api.Caller{}, api.SignatureDoesNotMatch("The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}
	want := signature(creds.SecretAccessKey, s, stringToSign(s, canonicalRequest(r, s, payload)))
	if !hmac.Equal([]byte(want), []byte(s.signature)) {
		return api.Caller{}, api.SignatureDoesNotMatch("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return api.Caller{AccountID: creds.AccountID, Region: s.region}, nil
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…".
func parseAuthorization(r *http.Request) (signed, error) {
	h := r.Header.Get("Authorization")
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return signed{}, api.IncompleteSignature(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", truncate(alg, 64)))
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = val
		}
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	s := signed{signature: fields["Signature"]}
	s.rawTime, s.timeSource = r.Header.Get("X-Amz-Date"), "X-Amz-Date"
	if s.rawTime == "" {
		s.rawTime, s.timeSource = r.Header.Get("Date"), "Date"
	}
	if s.rawTime == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return signed{}, api.IncompleteSignature(strings.Join(missing, " "))
	}
	if err := s.parseCredential(fields["Credential"]); err != nil {
		return signed{}, err
	}
	s.signedHeaders = signedHeaderList(fields["SignedHeaders"])
	if err := s.requireHost(); err != nil {
		return signed{}, err
	}
	return s, s.parseTime()
}

// parsePresigned reads the X-Amz-* parameters of a presigned URL.
func parsePresigned(q url.Values) (signed, error) {
	var missing []string
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if q.Get(k) == "" {
			missing = append(missing, fmt.Sprintf("AWS query-string parameters must include '%s'.", k))
		}
	}
	if len(missing) > 0 {
		return signed{}, api.IncompleteSignature(strings.Join(missing, " "))
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return signed{}, api.IncompleteSignature(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", truncate(alg, 64)))
	}
	s := signed{signature: q.Get("X-Amz-Signature"), presigned: true, rawTime: q.Get("X-Amz-Date"), timeSource: "X-Amz-Date"}
	if err := s.parseCredential(q.Get("X-Amz-Credential")); err != nil {
		return signed{}, err
	}
	// botocore always sets X-Amz-Expires; the Go SDK's presigner only
	// when asked. Without it the URL is held to the ±15 minutes of a
	// header signature.
	if e := q.Get("X-Amz-Expires"); e != "" {
		secs, err := strconv.Atoi(e)
		if err != nil || secs < 1 || secs > maxExpires {
			return signed{}, api.IncompleteSignature(fmt.Sprintf("X-Amz-Expires must be a whole number of seconds from 1 to %d.", maxExpires))
		}
		s.expires = time.Duration(secs) * time.Second
	}
	s.signedHeaders = signedHeaderList(q.Get("X-Amz-SignedHeaders"))
	if err := s.requireHost(); err != nil {
		return signed{}, err
	}
	return s, s.parseTime()
}

// signedHeaderList reads SignedHeaders: names are compared lowercase.
func signedHeaderList(v string) []string {
	names := strings.Split(v, ";")
	for i, n := range names {
		names[i] = strings.ToLower(strings.TrimSpace(n))
	}
	return names
}

// requireHost refuses a signature that does not cover Host: without it a
// signed request could be replayed against another endpoint.
func (s *signed) requireHost() error {
	for _, n := range s.signedHeaders {
		if n == "host" {
			return nil
		}
	}
	return api.IncompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
}

func (s *signed) parseCredential(c string) error {
	parts := strings.Split(c, "/")
	if len(parts) != 5 {
		return api.IncompleteSignature(fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", truncate(c, 256)))
	}
	if parts[4] != terminator {
		return api.IncompleteSignature(fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", truncate(parts[4], 64)))
	}
	s.accessKey, s.date, s.region, s.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func (s *signed) parseTime() error {
	t, err := time.Parse(timeFormat, s.rawTime)
	if err != nil && s.timeSource == "Date" {
		t, err = http.ParseTime(s.rawTime)
	}
	if err != nil {
		return api.IncompleteSignature(fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", truncate(s.rawTime, 64)))
	}
	s.requestTime = t.UTC()
	return nil
}

// checkScope checks the credential scope: service, region, date.
func (v *Verifier) checkScope(s signed) error {
	if s.service != serviceName {
		return api.SignatureDoesNotMatch("Credential should be scoped to correct service: '" + serviceName + "'.")
	}
	if !IsRegion(s.region) || (v.Region != nil && !v.Region(s.region)) {
		return api.SignatureDoesNotMatch(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", truncate(s.region, 64)))
	}
	if d := s.requestTime.Format(dateFormat); s.date != d {
		return api.SignatureDoesNotMatch(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", truncate(s.date, 16), d, s.timeSource))
	}
	return nil
}

// checkTime allows ±15 minutes of clock skew; a presigned URL is good from
// its date until its expiry.
func (v *Verifier) checkTime(s signed) error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	now = now.UTC()
	f := func(t time.Time) string { return t.Format(timeFormat) }
	if s.requestTime.After(now.Add(maxSkew)) {
		return api.RequestExpired(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)", f(s.requestTime), f(now.Add(maxSkew)), f(now)))
	}
	if s.expires > 0 {
		if now.After(s.requestTime.Add(s.expires)) {
			return api.RequestExpired(fmt.Sprintf("Request has expired: %s is later than %s (%s + %d seconds).", f(now), f(s.requestTime.Add(s.expires)), f(s.requestTime), int(s.expires/time.Second)))
		}
		return nil
	}
	if s.requestTime.Before(now.Add(-maxSkew)) {
		return api.RequestExpired(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)", f(s.requestTime), f(now.Add(-maxSkew)), f(now)))
	}
	return nil
}

// canonicalRequest builds SigV4's canonical request of r.
func canonicalRequest(r *http.Request, s signed, payload string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, s.presigned))
	b.WriteByte('\n')
	for _, name := range s.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.signedHeaders, ";"))
	b.WriteByte('\n')
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		b.WriteString(h)
	} else {
		b.WriteString(payload)
	}
	return b.String()
}

// canonicalURI is the path, URI-encoded once more as SigV4 requires for
// every service but S3.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return escape(p, true)
}

// canonicalQuery sorts the query's parameters by encoded name, then value;
// a presigned request's own signature is left out.
func canonicalQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	var pairs [][2]string
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			// An undecodable query cannot match any signature; keep the raw
			// text so the comparison fails instead of guessing.
			k, v = kv, ""
		}
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, [2]string{escape(k, false), escape(v, false)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(p[1])
	}
	return b.String()
}

// headerValue is a signed header's canonical value: all its values joined
// by commas, each trimmed, with runs of spaces folded to one.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			vals = v
		} else if r.ContentLength >= 0 && (r.ContentLength > 0 || r.Method != http.MethodGet) {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func stringToSign(s signed, canonical string) string {
	return algorithm + "\n" + s.rawTime + "\n" + s.date + "/" + s.region + "/" + s.service + "/" + terminator + "\n" + sha256Hex([]byte(canonical))
}

func signature(secret string, s signed, toSign string) string {
	k := hmacSHA256([]byte("AWS4"+secret), s.date)
	k = hmacSHA256(k, s.region)
	k = hmacSHA256(k, s.service)
	k = hmacSHA256(k, terminator)
	return hex.EncodeToString(hmacSHA256(k, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// escape percent-encodes all but RFC 3986's unreserved characters (and '/'
// when keepSlash), with upper-case hex, as SigV4 defines.
func escape(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || keepSlash && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// truncate keeps echoed client text short in messages.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
