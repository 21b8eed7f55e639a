package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"

	"github.com/elasticache-server/elasticache-server/server"
)

// The accounts and keys of the sigv4-mode servers. Account 1 has two keys,
// account 2 one; the secrets carry the characters a secret may hold.
const (
	sigAccount1 = "111111111111"
	sigAccount2 = "222222222222"
	sigKey1     = "AKIAEXAMPLE1111111"
	sigKey1b    = "AKIAEXAMPLE1111112"
	sigKey2     = "AKIAEXAMPLE2222222"
	sigSecret1  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	sigSecret1b = "second/key+of=account-1"
	sigSecret2  = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	// sigRegions is --regions of those servers.
	sigRegions = "us-east-1,eu-west-1"
)

// sigv4ConfigYAML is the --config file of the sigv4-mode servers.
const sigv4ConfigYAML = `# e2e: two accounts with credentials, for --auth sigv4
accounts:
  - id: "` + sigAccount1 + `"
    credentials:
      - {accessKeyId: ` + sigKey1 + `, secretAccessKey: "` + sigSecret1 + `"}
      - {accessKeyId: ` + sigKey1b + `, secretAccessKey: "` + sigSecret1b + `"}
  - id: "` + sigAccount2 + `"
    credentials:
      - {accessKeyId: ` + sigKey2 + `, secretAccessKey: "` + sigSecret2 + `"}
`

// The answers of a request that fails authentication (SPEC §3).
var (
	sigMismatch = apiErr{status: 403, code: "SignatureDoesNotMatch",
		msg: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	sigUnknownKey = apiErr{status: 403, code: "InvalidClientTokenId", msg: "The security token included in the request is invalid."}
	sigNoToken    = "Request is missing Authentication Token"
)

func sigRegionRefused(region string) apiErr {
	return apiErr{status: 403, code: "SignatureDoesNotMatch", msg: "Credential should be scoped to a valid region, not '" + region + "'."}
}

// wallClock is the server's clock in the sigv4 tests: signatures are made
// with the real time, so the server must read it too, shifted by skew.
type wallClock struct{ skew time.Duration }

func (c wallClock) Now() time.Time { return time.Now().Add(c.skew) }

// withSigV4 makes the server verify signatures against the accounts of
// sigv4ConfigYAML and serve only sigRegions.
func withSigV4(tb testing.TB) serverOption {
	path := writeConfigFile(tb, sigv4ConfigYAML)
	return func(c *server.Config) {
		c.Auth = server.AuthSigV4
		c.ConfigFile = path
		c.Regions = sigRegions
	}
}

// startSigV4Server starts a sigv4-mode server whose clock is the wall
// clock shifted by skew.
func startSigV4Server(tb testing.TB, skew time.Duration, opts ...serverOption) *testServer {
	tb.Helper()
	return startServerClock(tb, wallClock{skew}, append([]serverOption{withSigV4(tb)}, opts...)...)
}

// sigClient is an ElastiCache client for endpoint (a base URL) that signs
// with creds in region through hc. Like client, it is hermetic and never
// retries; it also never corrects its clock from the server's answers.
func sigClient(tb testing.TB, endpoint string, creds aws.Credentials, region string, hc *http.Client) *elasticache.Client {
	tb.Helper()
	if hc == nil {
		hc = &http.Client{Transport: plainBodies{newTransport(tb)}, Timeout: 30 * time.Second}
	}
	creds.Source = "e2e static credentials"
	return elasticache.New(elasticache.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient:                 hc,
		Retryer:                    aws.NopRetryer{},
		DisableClockSkewCorrection: true,
	})
}

// keyClient signs as key/secret against the plain-HTTP server at addr.
func keyClient(tb testing.TB, addr, key, secret, region string) *elasticache.Client {
	tb.Helper()
	return sigClient(tb, "http://"+addr, aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, region, nil)
}

// sigOp is one of the nine operations, as a call that returns only its
// error. Each names a group or ARN that exists (see sigSetUp), so that
// with the right key every one of them succeeds.
type sigOp struct {
	name string
	call func(ctx context.Context, c *elasticache.Client) error
}

// sigOps are the nine operations on group `name` of account/region. They
// run in order: create, then the others, delete last.
func sigOps(account, region, name string) []sigOp {
	arn := groupARN(region, account, name)
	return []sigOp{
		{"CreateCacheSecurityGroup", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.CreateCacheSecurityGroup(ctx, &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String(name), Description: aws.String("signed"),
			})
			return err
		}},
		{"DescribeCacheSecurityGroups", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.DescribeCacheSecurityGroups(ctx, &elasticache.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: aws.String(name)})
			return err
		}},
		{"AuthorizeCacheSecurityGroupIngress", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.AuthorizeCacheSecurityGroupIngress(ctx, &elasticache.AuthorizeCacheSecurityGroupIngressInput{
				CacheSecurityGroupName: aws.String(name), EC2SecurityGroupName: aws.String("web"), EC2SecurityGroupOwnerId: aws.String(ownerA),
			})
			return err
		}},
		{"RevokeCacheSecurityGroupIngress", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.RevokeCacheSecurityGroupIngress(ctx, &elasticache.RevokeCacheSecurityGroupIngressInput{
				CacheSecurityGroupName: aws.String(name), EC2SecurityGroupName: aws.String("web"), EC2SecurityGroupOwnerId: aws.String(ownerA),
			})
			return err
		}},
		{"AddTagsToResource", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.AddTagsToResource(ctx, &elasticache.AddTagsToResourceInput{ResourceName: aws.String(arn), Tags: []types.Tag{tag("k", "v")}})
			return err
		}},
		{"ListTagsForResource", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
			return err
		}},
		{"RemoveTagsFromResource", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.RemoveTagsFromResource(ctx, &elasticache.RemoveTagsFromResourceInput{ResourceName: aws.String(arn), TagKeys: []string{"k"}})
			return err
		}},
		{"DescribeEvents", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.DescribeEvents(ctx, &elasticache.DescribeEventsInput{
				SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String(name),
			})
			return err
		}},
		{"DeleteCacheSecurityGroup", func(ctx context.Context, c *elasticache.Client) error {
			_, err := c.DeleteCacheSecurityGroup(ctx, &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String(name)})
			return err
		}},
	}
}

// wantRefusedEverywhere runs the nine operations on group `name` of the
// key's account through c and expects each to answer want.
func wantRefusedEverywhere(t *testing.T, c *elasticache.Client, account, region, name string, want apiErr) {
	t.Helper()
	for _, op := range sigOps(account, region, name) {
		err := op.call(t.Context(), c)
		if err == nil {
			t.Errorf("%s succeeded, want %s", op.name, want.code)
			continue
		}
		if problem := checkAPIErr(err, want); problem != nil {
			t.Errorf("%s: %v\n  full error: %v", op.name, problem, err)
		}
	}
}

// TestSigV4GoSDK runs the Go SDK against a server started with --auth
// sigv4: the right keys act as their account on every operation; a wrong
// secret, an unknown key, a session token, a region not served, a clock
// too far off and no signature at all are refused with AWS's answers, and
// before any parameter is looked at.
func TestSigV4GoSDK(t *testing.T) {
	t.Parallel()
	s := startSigV4Server(t, 0)
	t0 := time.Now().Add(-time.Second)

	t.Run("every operation acts as the key's account", func(t *testing.T) {
		for _, tc := range []struct{ key, secret, account, region, name string }{
			{sigKey1, sigSecret1, sigAccount1, "us-east-1", "signed-a1"},
			{sigKey1b, sigSecret1b, sigAccount1, "eu-west-1", "signed-a1b"},
			{sigKey2, sigSecret2, sigAccount2, "us-east-1", "signed-a2"},
		} {
			t.Run(tc.key+" "+tc.region, func(t *testing.T) {
				c := keyClient(t, s.Addr, tc.key, tc.secret, tc.region)
				arn := groupARN(tc.region, tc.account, tc.name)
				g := create(t, c, tc.name, "signed by "+tc.key, tag("by", tc.key))
				wantGroup(t, g, tc.account, tc.region, tc.name, "signed by "+tc.key)
				wantDescribed(t, c, tc.account, tc.region, tc.name, "signed by "+tc.key)
				wantDescribed(t, c, tc.account, tc.region, "default", "default")
				g = mustAuthorize(t, c, tc.name, "web", ownerA)
				wantGroupWith(t, "authorize", g, tc.account, tc.region, tc.name, "signed by "+tc.key, ec2("web", ownerA, "authorizing"))
				g = mustRevoke(t, c, tc.name, "web", ownerA)
				wantGroupWith(t, "revoke", g, tc.account, tc.region, tc.name, "signed by "+tc.key, ec2("web", ownerA, "revoking"))
				mustAddTags(t, c, arn, []types.Tag{tag("env", "prod")}, tag("by", tc.key), tag("env", "prod"))
				wantListed(t, c, arn, tag("by", tc.key), tag("env", "prod"))
				mustRemoveTags(t, c, arn, []string{"by"}, tag("env", "prod"))
				if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
					CacheSecurityGroupName: aws.String(tc.name),
				}); err != nil {
					t.Fatalf("delete %s: %v", tc.name, err)
				}
				out, err := c.DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{
					SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String(tc.name),
				})
				if err != nil {
					t.Fatalf("describe events: %v", err)
				}
				wantRequestID(t, out.ResultMetadata)
				wantEventMessages(t, toEvents(t, out.Events), t0, time.Now().Add(time.Second),
					msgDeleted, msgRevoked("web", ownerA), msgAuthorized("web", ownerA), msgCreated)
			})
		}
		// Both keys of account 1 are one account: what one made in a
		// region, the other sees there.
		a := keyClient(t, s.Addr, sigKey1, sigSecret1, "us-east-1")
		b := keyClient(t, s.Addr, sigKey1b, sigSecret1b, "us-east-1")
		create(t, a, "made-by-key-1", "key 1")
		wantDescribed(t, b, sigAccount1, "us-east-1", "made-by-key-1", "key 1")
		wantNames(t, "account 2 us-east-1", listNames(t, keyClient(t, s.Addr, sigKey2, sigSecret2, "us-east-1")), []string{"default"})
	})

	t.Run("a wrong secret is SignatureDoesNotMatch", func(t *testing.T) {
		create(t, keyClient(t, s.Addr, sigKey2, sigSecret2, "eu-west-1"), "target", "exists")
		for _, secret := range []string{sigSecret1, sigSecret2 + "x", "wrong"} {
			wantRefusedEverywhere(t, keyClient(t, s.Addr, sigKey2, secret, "eu-west-1"), sigAccount2, "eu-west-1", "target", sigMismatch)
		}
		describe(t, keyClient(t, s.Addr, sigKey2, sigSecret2, "eu-west-1"), "target")
	})

	t.Run("an unknown key is InvalidClientTokenId", func(t *testing.T) {
		// A 12-digit key names an account only without --auth sigv4.
		for _, key := range []string{"AKIAUNKNOWN0000000", sigAccount1, strings.ToLower(sigKey1)} {
			wantRefusedEverywhere(t, keyClient(t, s.Addr, key, sigSecret1, "us-east-1"), sigAccount1, "us-east-1", "made-by-key-1", sigUnknownKey)
		}
	})

	t.Run("a session token is InvalidClientTokenId", func(t *testing.T) {
		c := sigClient(t, "http://"+s.Addr, aws.Credentials{AccessKeyID: sigKey1, SecretAccessKey: sigSecret1, SessionToken: "FwoGZXIvYXdzEXAMPLE"}, "us-east-1", nil)
		wantRefusedEverywhere(t, c, sigAccount1, "us-east-1", "made-by-key-1", sigUnknownKey)
	})

	t.Run("a region not served is refused", func(t *testing.T) {
		for _, region := range []string{"ap-south-1", "us-west-2"} {
			wantRefusedEverywhere(t, keyClient(t, s.Addr, sigKey1, sigSecret1, region), sigAccount1, region, "made-by-key-1", sigRegionRefused(region))
		}
	})

	t.Run("authentication comes before parameter validation", func(t *testing.T) {
		ctx := t.Context()
		bad := []struct {
			name string
			call func(c *elasticache.Client) error
			// valid is the answer with the right key.
			valid apiErr
		}{
			{"empty group name", func(c *elasticache.Client) error {
				_, err := c.CreateCacheSecurityGroup(ctx, &elasticache.CreateCacheSecurityGroupInput{CacheSecurityGroupName: aws.String(""), Description: aws.String("d")})
				return err
			}, invalidValueExact("CacheSecurityGroupName is required")},
			{"MaxRecords out of range", func(c *elasticache.Client) error {
				_, err := c.DescribeCacheSecurityGroups(ctx, &elasticache.DescribeCacheSecurityGroupsInput{MaxRecords: aws.Int32(5)})
				return err
			}, invalidValue("MaxRecords")},
			{"bad owner ID", func(c *elasticache.Client) error {
				_, err := c.AuthorizeCacheSecurityGroupIngress(ctx, &elasticache.AuthorizeCacheSecurityGroupIngressInput{
					CacheSecurityGroupName: aws.String("made-by-key-1"), EC2SecurityGroupName: aws.String("web"), EC2SecurityGroupOwnerId: aws.String("12"),
				})
				return err
			}, invalidValue("EC2SecurityGroupOwnerId")},
			{"short ARN", func(c *elasticache.Client) error {
				_, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:elasticache")})
				return err
			}, apiErr{status: 400, code: "InvalidARN", msg: "Input ARN string does not have 7 components."}},
			{"missing group", func(c *elasticache.Client) error {
				_, err := c.DeleteCacheSecurityGroup(ctx, &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("no-such-group")})
				return err
			}, notFound("no-such-group")},
			{"three event bounds", func(c *elasticache.Client) error {
				now := time.Now()
				_, err := c.DescribeEvents(ctx, &elasticache.DescribeEventsInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), Duration: aws.Int32(10)})
				return err
			}, apiErr{status: 400, code: "InvalidParameterCombination"}},
		}
		right := keyClient(t, s.Addr, sigKey1, sigSecret1, "us-east-1")
		refusals := []struct {
			what string
			c    *elasticache.Client
			want apiErr
		}{
			{"wrong secret", keyClient(t, s.Addr, sigKey1, sigSecret2, "us-east-1"), sigMismatch},
			{"unknown key", keyClient(t, s.Addr, "AKIAUNKNOWN0000000", sigSecret1, "us-east-1"), sigUnknownKey},
			{"region not served", keyClient(t, s.Addr, sigKey1, sigSecret1, "ap-south-1"), sigRegionRefused("ap-south-1")},
		}
		for _, b := range bad {
			if problem := checkAPIErr(b.call(right), b.valid); problem != nil {
				t.Errorf("%s with the right key: %v", b.name, problem)
			}
			for _, r := range refusals {
				if problem := checkAPIErr(b.call(r.c), r.want); problem != nil {
					t.Errorf("%s with %s: %v", b.name, r.what, problem)
				}
			}
		}
	})

	t.Run("the SDK sees the errors as generic API errors", func(t *testing.T) {
		// None of these codes is in the model: the SDK surfaces each as a
		// smithy.GenericAPIError carrying the wire code.
		_, err := keyClient(t, s.Addr, sigKey1, "wrong", "us-east-1").DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{})
		wantErr[*smithy.GenericAPIError](t, err, sigMismatch)
		_, err = keyClient(t, s.Addr, "AKIAUNKNOWN0000000", sigSecret1, "us-east-1").ListTagsForResource(t.Context(),
			&elasticache.ListTagsForResourceInput{ResourceName: aws.String(groupARN("us-east-1", sigAccount1, "made-by-key-1"))})
		wantErr[*smithy.GenericAPIError](t, err, sigUnknownKey)
	})

	t.Run("no signature is MissingAuthenticationToken", func(t *testing.T) {
		raw := newRawClient(t, s.Addr)
		wantXMLError(t, raw.post("Action=DescribeCacheSecurityGroups&Version=2015-02-02"), 403, "MissingAuthenticationToken", sigNoToken)
		wantXMLError(t, raw.get("/", "Action=DescribeCacheSecurityGroups&Version=2015-02-02"), 403, "MissingAuthenticationToken", sigNoToken)
		// Before parameter validation too.
		wantXMLError(t, raw.post("Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName="), 403, "MissingAuthenticationToken", sigNoToken)
		// A 12-digit access key in an unverifiable header is not an account.
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.Addr+"/",
			strings.NewReader("Action=DescribeCacheSecurityGroups&Version=2015-02-02"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+sigAccount1+"/"+time.Now().UTC().Format("20060102")+
			"/us-east-1/elasticache/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
		wantXMLError(t, raw.do(req), 403, "InvalidClientTokenId", sigUnknownKey.msg)
	})

	t.Run("a request signed by hand verifies; the same request changed does not", func(t *testing.T) {
		raw := newRawClient(t, s.Addr)
		body := "Action=DescribeCacheSecurityGroups&Version=2015-02-02&CacheSecurityGroupName=made-by-key-1"
		ok := signedPost(t, s.Addr, body, sigKey1, sigSecret1, "us-east-1", time.Now())
		d := wantDescribe(t, raw.do(ok))
		if len(d.Groups) != 1 || d.Groups[0].OwnerID != sigAccount1 || d.Groups[0].ARN != groupARN("us-east-1", sigAccount1, "made-by-key-1") {
			t.Errorf("groups = %+v, want made-by-key-1 of account %s", d.Groups, sigAccount1)
		}
		// The body signed, then another body sent with that signature.
		tampered := signedPost(t, s.Addr, body, sigKey1, sigSecret1, "us-east-1", time.Now())
		other := strings.Replace(body, "made-by-key-1", "made-by-key-2", 1)
		tampered.Body = io.NopCloser(strings.NewReader(other))
		tampered.ContentLength = int64(len(other))
		wantXMLError(t, raw.do(tampered), 403, "SignatureDoesNotMatch", sigMismatch.msg)
	})

	t.Run("a URL presigned by the Go SDK's signer works", func(t *testing.T) {
		raw := newRawClient(t, s.Addr)
		u := presignGet(t, s.Addr, url.Values{"Action": {"DescribeCacheSecurityGroups"}, "Version": {"2015-02-02"}},
			sigKey2, sigSecret2, "eu-west-1", time.Now(), 60*time.Second)
		d := wantDescribe(t, raw.get("/", u.RawQuery))
		if got := groupNamesXML(d); strings.Join(got, ",") != "default,target" {
			t.Errorf("presigned listing of account 2 eu-west-1 = %v, want [default target]", got)
		}
		// Every character class a query can carry, through the signer's
		// encoding and the server's canonical form: a presigned create.
		tricky := "caf\u00e9 \u65e5\u672c +*~/&=%;:,'!()$@?#[] <x> \"q\""
		u = presignGet(t, s.Addr, url.Values{"Action": {"CreateCacheSecurityGroup"}, "Version": {"2015-02-02"},
			"CacheSecurityGroupName": {"presigned-tricky"}, "Description": {tricky}},
			sigKey2, sigSecret2, "eu-west-1", time.Now(), 60*time.Second)
		if a := raw.get("/", u.RawQuery); a.status != http.StatusOK {
			t.Fatalf("presigned create with a tricky description: HTTP %d\n%s", a.status, a.body)
		}
		wantDescribed(t, keyClient(t, s.Addr, sigKey2, sigSecret2, "eu-west-1"), sigAccount2, "eu-west-1", "presigned-tricky", tricky)
		// Signed 30 s ago for 10 s: expired.
		u = presignGet(t, s.Addr, url.Values{"Action": {"DescribeCacheSecurityGroups"}, "Version": {"2015-02-02"}},
			sigKey2, sigSecret2, "eu-west-1", time.Now().Add(-30*time.Second), 10*time.Second)
		a := raw.get("/", u.RawQuery)
		wantXMLError(t, a, 400, "RequestExpired", "")
		if !strings.Contains(string(a.body), "Request has expired") {
			t.Errorf("expired presigned URL: %s", a.body)
		}
	})
}

// TestSigV4ClockSkew runs servers whose clock is 20 minutes ahead of and
// behind the client's: every signed request is RequestExpired, whatever
// the operation and its parameters.
func TestSigV4ClockSkew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		skew   time.Duration
		msgHas string
	}{
		{20 * time.Minute, "Signature expired: "},
		{-20 * time.Minute, "Signature not yet current: "},
	} {
		t.Run(tc.skew.String(), func(t *testing.T) {
			t.Parallel()
			s := startSigV4Server(t, tc.skew)
			c := keyClient(t, s.Addr, sigKey1, sigSecret1, "us-east-1")
			wantRefusedEverywhere(t, c, sigAccount1, "us-east-1", "skewed", apiErr{status: 400, code: "RequestExpired", msgHas: tc.msgHas})
			// A wrong secret is found out only once the time is right: the
			// time is checked first, as AWS does.
			wantRefusedEverywhere(t, keyClient(t, s.Addr, sigKey1, "wrong", "us-east-1"), sigAccount1, "us-east-1", "skewed",
				apiErr{status: 400, code: "RequestExpired", msgHas: tc.msgHas})
			// Signed 14 minutes off the server's clock: within the allowed skew.
			raw := newRawClient(t, s.Addr)
			at := time.Now().Add(tc.skew / 20 * 6)
			wantDescribe(t, raw.do(signedPost(t, s.Addr, "Action=DescribeCacheSecurityGroups&Version=2015-02-02", sigKey1, sigSecret1, "us-east-1", at)))
		})
	}
}

// signedPost is a POST of body to addr signed by the SDK's signer at `at`.
func signedPost(tb testing.TB, addr, body, key, secret, region string, at time.Time) *http.Request {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(tb.Context(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "elasticache", region, at); err != nil {
		tb.Fatal(err)
	}
	return req
}

// presignGet is a GET URL of query presigned by the SDK's signer at `at`,
// good for expires.
func presignGet(tb testing.TB, addr string, query url.Values, key, secret, region string, at time.Time, expires time.Duration) *url.URL {
	tb.Helper()
	query.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, "http://"+addr+"/?"+query.Encode(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	emptySum := sha256.Sum256(nil)
	signed, _, err := v4.NewSigner().PresignHTTP(tb.Context(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(emptySum[:]), "elasticache", region, at)
	if err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// groupNamesXML is the names of a raw DescribeCacheSecurityGroups answer.
func groupNamesXML(d xmlDescribeResponse) []string {
	var names []string
	for _, g := range d.Groups {
		names = append(names, g.Name)
	}
	return names
}

// wantEventMessages checks events of one group, newest first: exactly the
// messages want, each a cache-security-group event dated within [t0, t1]
// (the server's wall clock, not a test clock, dates them).
func wantEventMessages(tb testing.TB, events []event, t0, t1 time.Time, want ...string) {
	tb.Helper()
	var got []string
	for i, e := range events {
		got = append(got, e.Message)
		if e.SourceType != "cache-security-group" {
			tb.Errorf("event %d: SourceType %q", i, e.SourceType)
		}
		if e.Date.Before(t0.Truncate(time.Millisecond)) || e.Date.After(t1) {
			tb.Errorf("event %d dated %s, outside [%s, %s]", i, e.Date, t0, t1)
		}
		if i > 0 && e.Date.After(events[i-1].Date) {
			tb.Errorf("events are not newest first: %v", events)
		}
	}
	wantNames(tb, "event messages", got, want)
}
