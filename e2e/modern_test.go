package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/elasticache-server/elasticache-server/server"
)

// writeConfigFile writes a --config file into a temp dir and returns its
// path.
func writeConfigFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "elasticache.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// modernRefused is AWS's answer to an account without EC2-Classic.
var modernRefused = invalidValueExact("Use of cache security groups is not permitted in this API version for your account.")

const modernAccount = "999999999999"

// TestModernAccount configures one account as modern and others with
// quotas of their own in a config file: the modern account is refused the
// security group family, everything else answers as usual.
func TestModernAccount(t *testing.T) {
	t.Parallel()
	cfg := writeConfigFile(t, `# accounts that differ from the flags
accounts:
  - id: "999999999999"
    era: modern
  - id: "111111111111"
    quotas:
      cacheSecurityGroups: 4
  - id: "222222222222"
    era: classic
    quotas:
      cacheSecurityGroups: 1
`)
	s := startServer(t, withQuota(2), withConfigFile(cfg))

	for _, region := range []string{defaultRegion, "eu-west-1"} {
		t.Run("security group operations in "+region, func(t *testing.T) {
			c := client(t, s.Addr, modernAccount, region)
			ctx := t.Context()
			refused := func(t *testing.T, err error) {
				t.Helper()
				wantErr[*types.InvalidParameterValueException](t, err, modernRefused)
			}
			_, err := c.CreateCacheSecurityGroup(ctx, &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String("web"), Description: aws.String("d"),
			})
			refused(t, err)
			_, err = c.CreateCacheSecurityGroup(ctx, &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String("tagged"), Description: aws.String("d"), Tags: []types.Tag{tag("k", "v")},
			})
			refused(t, err)
			_, err = c.DescribeCacheSecurityGroups(ctx, &elasticache.DescribeCacheSecurityGroupsInput{})
			refused(t, err)
			_, err = c.DescribeCacheSecurityGroups(ctx, &elasticache.DescribeCacheSecurityGroupsInput{MaxRecords: aws.Int32(20)})
			refused(t, err)
			for _, name := range []string{"default", "web"} {
				_, err = c.DescribeCacheSecurityGroups(ctx, &elasticache.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: aws.String(name)})
				refused(t, err)
				_, err = authorizeIngress(t, c, name, "sg-app", ownerA)
				refused(t, err)
				_, err = revokeIngress(t, c, name, "sg-app", ownerA)
				refused(t, err)
			}
			_, err = c.DeleteCacheSecurityGroup(ctx, &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String("web")})
			refused(t, err)

			// Tag operations on security group ARNs, whoever's they are.
			for _, arn := range []string{
				groupARN(region, modernAccount, "default"),
				groupARN(region, modernAccount, "web"),
				groupARN(region, "333333333333", "web"),
				groupARN("ap-south-1", modernAccount, "web"),
			} {
				_, err = listTags(t, c, arn)
				wantTagOpInvalid(t, err, modernRefused)
				_, err = addTags(t, c, arn, tag("k", "v"))
				wantTagOpInvalid(t, err, modernRefused)
				_, err = removeTags(t, c, arn, "k")
				wantTagOpInvalid(t, err, modernRefused)
			}
		})
	}

	t.Run("parameters are checked before the era", func(t *testing.T) {
		c := client(t, s.Addr, modernAccount, defaultRegion)
		_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String(""), Description: aws.String("d"),
		})
		wantErr[*types.InvalidParameterValueException](t, err, invalidValueExact("CacheSecurityGroupName is required"))
		_, err = authorizeIngress(t, c, "web", "sg", "not-an-owner")
		wantErr[*types.InvalidParameterValueException](t, err, invalidValue("EC2SecurityGroupOwnerId"))
		_, err = c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{MaxRecords: aws.Int32(19)})
		wantErr[*types.InvalidParameterValueException](t, err, invalidValue("MaxRecords"))
		_, err = listTags(t, c, "arn:aws:elasticache:us-east-1:999999999999:securitygroup")
		wantErr[*types.InvalidARNFault](t, err, apiErr{status: 400, code: "InvalidARN", msg: "Input ARN string does not have 7 components."})
		_, err = addTags(t, c, groupARN(defaultRegion, modernAccount, "web"), tag("aws:k", "v"))
		wantTagOpInvalid(t, err, invalidValue("Tags"))
	})

	t.Run("events and other resource types answer as usual", func(t *testing.T) {
		c := client(t, s.Addr, modernAccount, defaultRegion)
		// The refused requests recorded nothing.
		wantEvents(t, c, "modern account's events", allEvents())
		wantEvents(t, c, "modern account's group events", &elasticache.DescribeEventsInput{
			SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String("web"),
		})
		_, _, err := describeEvents(t, c, &elasticache.DescribeEventsInput{SourceIdentifier: aws.String("web")})
		wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination", msg: "SourceIdentifier requires SourceType."})

		cluster := "arn:aws:elasticache:us-east-1:999999999999:cluster:my-cluster"
		_, err = listTags(t, c, cluster)
		wantErr[*types.CacheClusterNotFoundFault](t, err, apiErr{status: 404, code: "CacheClusterNotFound", msg: "CacheCluster not found: my-cluster"})
		_, err = addTags(t, c, cluster, tag("k", "v"))
		wantErr[*types.CacheClusterNotFoundFault](t, err, apiErr{status: 404, code: "CacheClusterNotFound", msg: "CacheCluster not found: my-cluster"})
		_, err = removeTags(t, c, "arn:aws:elasticache:us-east-1:999999999999:subnetgroup:sn", "k")
		wantErr[*types.CacheSubnetGroupNotFoundFault](t, err, apiErr{status: 400, code: "CacheSubnetGroupNotFoundFault", msg: "CacheSubnetGroup sn not found."})
	})

	t.Run("classic accounts in the same server work", func(t *testing.T) {
		for _, key := range []string{"333333333333", otherKey} {
			c := client(t, s.Addr, key, defaultRegion)
			account := key
			if key == otherKey {
				account = defaultAccount
			}
			g := create(t, c, "web", "classic", tag("k", "v"))
			wantGroup(t, g, account, defaultRegion, "web", "classic")
			mustAuthorize(t, c, "web", "sg-app", ownerA)
			wantDescribed(t, c, account, defaultRegion, "web", "classic", ec2("sg-app", ownerA, "authorized"))
			mustRevoke(t, c, "web", "sg-app", ownerA)
			arn := groupARN(defaultRegion, account, "web")
			mustAddTags(t, c, arn, []types.Tag{tag("k2", "v2")}, tag("k", "v"), tag("k2", "v2"))
			wantListed(t, c, arn, tag("k", "v"), tag("k2", "v2"))
			events, _, err := describeEvents(t, c, &elasticache.DescribeEventsInput{})
			if err != nil {
				t.Fatalf("describe events: %v", err)
			}
			if len(events) != 3 {
				t.Errorf("%d events, want 3 (create, authorize, revoke): %v", len(events), events)
			}
			wantNames(t, "groups", listNames(t, c), []string{"default", "web"})
		}
	})

	t.Run("quotas from the file override the flag", func(t *testing.T) {
		for _, tc := range []struct {
			key, region string
			quota       int
		}{
			{"111111111111", defaultRegion, 4}, // the file's quota, above the flag's
			{"111111111111", "eu-west-1", 4},   // per region, as the flag's
			{"222222222222", defaultRegion, 1}, // the file's quota, below the flag's
			{"444444444444", defaultRegion, 2}, // not in the file: the flag's
		} {
			c := client(t, s.Addr, tc.key, tc.region)
			if tc.quota == 1 {
				// A default group changed (and so stored) is still not counted.
				mustAddTags(t, c, groupARN(tc.region, tc.key, "default"), []types.Tag{tag("k", "v")}, tag("k", "v"))
				mustAuthorize(t, c, "default", "sg-d", ownerA)
			}
			var want []string
			for i := range tc.quota {
				name := "q" + pad2(i)
				create(t, c, name, "fits")
				want = append(want, name)
			}
			_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String("one-too-many"), Description: aws.String("d"),
			})
			wantErr[*types.CacheSecurityGroupQuotaExceededFault](t, err, quotaExceeded)
			wantNames(t, tc.key+" "+tc.region+" groups", listNames(t, c), append([]string{"default"}, want...))
		}
	})
}

// TestConfigFileErrors opens servers whose config file is wrong: Open
// fails with an error that names the file's line, and leaves the data
// directory free.
func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content string
		wantIn        []string
	}{
		{"unknown key in an account", "accounts:\n  - id: \"999999999999\"\n    era: modern\n    colour: blue\n", []string{"line 4", "colour"}},
		{"unknown top-level key", "accounts: []\nregions: [us-east-1]\n", []string{"line 2", "regions"}},
		{"misspelt quota", "accounts:\n  - id: \"111111111111\"\n    quotas:\n      cacheSecurityGroup: 3\n", []string{"line 4", "cacheSecurityGroup"}},
		{"unknown era", "accounts:\n  - id: \"999999999999\"\n    era: ancient\n", []string{"line 3", "era"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfigFile(t, tc.content)
			cfg := testConfig(t)
			cfg.ConfigFile = path
			logs := &syncBuffer{}
			m := server.NewMain(cfg, cfg.NewLogger(logs))
			m.Clock = newFixedClock()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := m.Open(ctx)
			if err == nil {
				cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer ccancel()
				if cerr := m.Close(cctx); cerr != nil {
					t.Errorf("close the server that should not have started: %v", cerr)
				}
				t.Fatalf("Open with config file\n%s\nsucceeded, want an error", tc.content)
			}
			for _, want := range append(tc.wantIn, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Open: %v\nwant the error to contain %q", err, want)
				}
			}
			// Nothing was left open: a server starts on the same data
			// directory.
			s := startServer(t, withDataDir(cfg.DataDir))
			wantNames(t, "groups", listNames(t, client(t, s.Addr, otherKey, defaultRegion)), []string{"default"})
		})
	}
}
