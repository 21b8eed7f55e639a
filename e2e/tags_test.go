package e2e

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// tag is a tag with a value; tagNull one without.
func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func tagNull(k string) types.Tag { return types.Tag{Key: aws.String(k)} }

func addTags(tb testing.TB, c *elasticache.Client, arn string, tags ...types.Tag) ([]types.Tag, error) {
	tb.Helper()
	out, err := c.AddTagsToResource(tb.Context(), &elasticache.AddTagsToResourceInput{
		ResourceName: aws.String(arn),
		Tags:         tags,
	})
	if err != nil {
		return nil, err
	}
	wantRequestID(tb, out.ResultMetadata)
	return out.TagList, nil
}

func listTags(tb testing.TB, c *elasticache.Client, arn string) ([]types.Tag, error) {
	tb.Helper()
	out, err := c.ListTagsForResource(tb.Context(), &elasticache.ListTagsForResourceInput{
		ResourceName: aws.String(arn),
	})
	if err != nil {
		return nil, err
	}
	wantRequestID(tb, out.ResultMetadata)
	return out.TagList, nil
}

func removeTags(tb testing.TB, c *elasticache.Client, arn string, keys ...string) ([]types.Tag, error) {
	tb.Helper()
	out, err := c.RemoveTagsFromResource(tb.Context(), &elasticache.RemoveTagsFromResourceInput{
		ResourceName: aws.String(arn),
		TagKeys:      keys,
	})
	if err != nil {
		return nil, err
	}
	wantRequestID(tb, out.ResultMetadata)
	return out.TagList, nil
}

// wantTags compares tag lists in order.
func wantTags(tb testing.TB, what string, got []types.Tag, want ...types.Tag) {
	tb.Helper()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(types.Tag{}), cmpopts.EquateEmpty()); diff != "" {
		tb.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// mustAddTags adds tags, fails the test if that fails and checks the
// answer is want.
func mustAddTags(tb testing.TB, c *elasticache.Client, arn string, tags []types.Tag, want ...types.Tag) {
	tb.Helper()
	got, err := addTags(tb, c, arn, tags...)
	if err != nil {
		tb.Fatalf("add tags to %s: %v", arn, err)
	}
	wantTags(tb, "add answer", got, want...)
}

// mustRemoveTags removes tags, fails the test if that fails and checks the
// answer is want.
func mustRemoveTags(tb testing.TB, c *elasticache.Client, arn string, keys []string, want ...types.Tag) {
	tb.Helper()
	got, err := removeTags(tb, c, arn, keys...)
	if err != nil {
		tb.Fatalf("remove tags %v from %s: %v", keys, arn, err)
	}
	wantTags(tb, "remove answer", got, want...)
}

// wantListed lists the tags of arn and compares them with want.
func wantListed(tb testing.TB, c *elasticache.Client, arn string, want ...types.Tag) {
	tb.Helper()
	got, err := listTags(tb, c, arn)
	if err != nil {
		tb.Fatalf("list tags of %s: %v", arn, err)
	}
	wantTags(tb, "tags of "+arn, got, want...)
}

// numberedTags returns n tags prefix00=v … in key order.
func numberedTags(prefix string, n int) []types.Tag {
	out := make([]types.Tag, n)
	for i := range out {
		out[i] = tag(fmt.Sprintf("%s%02d", prefix, i), "v")
	}
	return out
}

var tagQuotaExceeded = apiErr{status: 400, code: "TagQuotaPerResourceExceeded", msg: "The maximum number of tags permitted on a resource is 50."}

// wantTagOpInvalid checks an InvalidParameterValue answer of a tag
// operation by its code. The pinned botocore model does not list
// InvalidParameterValue for the tag operations, so SPEC §2 and wire.md §4
// expect a generic API error; the Go SDK's own model does list it (from
// service/elasticache v1.64.4 at least), so this SDK surfaces it as
// *types.InvalidParameterValueException. The code holds either way.
func wantTagOpInvalid(tb testing.TB, err error, want apiErr) {
	tb.Helper()
	wantErr[smithy.APIError](tb, err, want)
}

// TestTags adds, lists and removes tags on a cache security group by ARN.
func TestTags(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const account, region = "777777777777", "eu-west-3"
	c := client(t, s.Addr, account, region)
	create(t, c, "web", "tagged")
	arn := groupARN(region, account, "web")

	t.Run("a new group has no tags", func(t *testing.T) {
		wantListed(t, c, arn)
	})

	t.Run("add answers the full list in key order", func(t *testing.T) {
		mustAddTags(t, c, arn, []types.Tag{tag("b", "2"), tag("a", "1")}, tag("a", "1"), tag("b", "2"))
		mustAddTags(t, c, arn, []types.Tag{tagNull("c"), tag("B", "upper")},
			tag("B", "upper"), tag("a", "1"), tag("b", "2"), tag("c", ""))
		wantListed(t, c, arn, tag("B", "upper"), tag("a", "1"), tag("b", "2"), tag("c", ""))
	})

	t.Run("adding a key again overwrites it", func(t *testing.T) {
		mustAddTags(t, c, arn, []types.Tag{tag("a", "10"), tag("c", "now set")},
			tag("B", "upper"), tag("a", "10"), tag("b", "2"), tag("c", "now set"))
		// A null value overwrites with "".
		mustAddTags(t, c, arn, []types.Tag{tagNull("a")},
			tag("B", "upper"), tag("a", ""), tag("b", "2"), tag("c", "now set"))
		// One key twice in one request: the last wins.
		mustAddTags(t, c, arn, []types.Tag{tag("a", "first"), tag("a", "last")},
			tag("B", "upper"), tag("a", "last"), tag("b", "2"), tag("c", "now set"))
		wantListed(t, c, arn, tag("B", "upper"), tag("a", "last"), tag("b", "2"), tag("c", "now set"))
	})

	t.Run("remove answers what is left", func(t *testing.T) {
		mustRemoveTags(t, c, arn, []string{"b", "B"}, tag("a", "last"), tag("c", "now set"))
		wantListed(t, c, arn, tag("a", "last"), tag("c", "now set"))
	})

	t.Run("a key named twice is removed once", func(t *testing.T) {
		mustAddTags(t, c, arn, []types.Tag{tag("twice", "x")}, tag("a", "last"), tag("c", "now set"), tag("twice", "x"))
		mustRemoveTags(t, c, arn, []string{"twice", "twice"}, tag("a", "last"), tag("c", "now set"))
	})

	t.Run("removing a key that is not set removes nothing", func(t *testing.T) {
		for _, keys := range [][]string{{"nope"}, {"a", "nope"}, {"A"}, {"b"}} {
			_, err := removeTags(t, c, arn, keys...)
			missing := keys[len(keys)-1]
			wantErr[*types.TagNotFoundFault](t, err, apiErr{status: 404, code: "TagNotFound",
				msg: "Tag " + missing + " not found on resource " + arn + "."})
		}
		wantListed(t, c, arn, tag("a", "last"), tag("c", "now set"))
	})

	t.Run("the ARN names the group in lowercase only", func(t *testing.T) {
		for _, other := range []string{groupARN(region, account, "WEB"), groupARN(region, account, "Web")} {
			_, err := listTags(t, c, other)
			wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, apiErr{status: 404, code: "CacheSecurityGroupNotFound", msgHas: "not found."})
		}
	})

	t.Run("invalid tags change nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			tags []types.Tag
		}{
			{"key with aws: prefix", []types.Tag{tag("aws:owner", "v")}},
			{"key with AWS: prefix", []types.Tag{tag("AWS:owner", "v")}},
			{"key with &", []types.Tag{tag("a&b", "v")}},
			{"key with <", []types.Tag{tag("<k>", "v")}},
			{"key with a comma", []types.Tag{tag("a,b", "v")}},
			{"value with &", []types.Tag{tag("k", "a&b")}},
			{"value with *", []types.Tag{tag("k", "a*b")}},
			{"empty key", []types.Tag{tag("", "v")}},
			{"key of 129 characters", []types.Tag{tag(strings.Repeat("k", 129), "v")}},
			{"value of 257 characters", []types.Tag{tag("k", strings.Repeat("v", 257))}},
			{"no key", []types.Tag{{Value: aws.String("v")}}},
			{"valid tags, then an invalid one", []types.Tag{tag("fine", "1"), tag("a", "overwrite"), tag("aws:x", "v")}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := addTags(t, c, arn, tc.tags...)
				wantTagOpInvalid(t, err, invalidValue("Tags"))
				wantListed(t, c, arn, tag("a", "last"), tag("c", "now set"))
			})
		}
		for _, keys := range [][]string{{"aws:x"}, {""}, {"a", "bad&key"}, {strings.Repeat("k", 129)}} {
			_, err := removeTags(t, c, arn, keys...)
			wantTagOpInvalid(t, err, invalidValue("TagKeys"))
		}
		wantListed(t, c, arn, tag("a", "last"), tag("c", "now set"))
	})

	t.Run("limits are accepted", func(t *testing.T) {
		create(t, c, "limits", "d")
		limits := groupARN(region, account, "limits")
		k, v := strings.Repeat("é", 128), strings.Repeat("日", 256)
		mustAddTags(t, c, limits, []types.Tag{tag(k, v), tag("all_.:/=+-@ 9", "")}, tag("all_.:/=+-@ 9", ""), tag(k, v))
		mustRemoveTags(t, c, limits, []string{k}, tag("all_.:/=+-@ 9", ""))
	})

	t.Run("50 tags fit, a 51st does not", func(t *testing.T) {
		create(t, c, "quota", "d")
		quota := groupARN(region, account, "quota")
		// 51 at once is refused and stores nothing.
		_, err := addTags(t, c, quota, numberedTags("k", 51)...)
		wantErr[*types.TagQuotaPerResourceExceeded](t, err, tagQuotaExceeded)
		wantListed(t, c, quota)

		fifty := numberedTags("k", 50)
		mustAddTags(t, c, quota, fifty[:48], fifty[:48]...)
		mustAddTags(t, c, quota, fifty[48:], fifty...)
		_, err = addTags(t, c, quota, tag("k50", "one too many"))
		wantErr[*types.TagQuotaPerResourceExceeded](t, err, tagQuotaExceeded)
		// Overwriting when full does not count twice; an overwrite
		// together with one new key is still too many.
		_, err = addTags(t, c, quota, tag("k00", "x"), tag("zz", "new"))
		wantErr[*types.TagQuotaPerResourceExceeded](t, err, tagQuotaExceeded)
		want := append([]types.Tag{tag("k00", "overwritten")}, fifty[1:]...)
		mustAddTags(t, c, quota, []types.Tag{tag("k00", "overwritten")}, want...)
		wantListed(t, c, quota, want...)
		// Removing one makes room for one.
		mustRemoveTags(t, c, quota, []string{"k49"}, want[:49]...)
		mustAddTags(t, c, quota, []types.Tag{tag("k50", "fits")}, append(want[:49:49], tag("k50", "fits"))...)
	})

	t.Run("tags on default", func(t *testing.T) {
		def := groupARN(region, account, "default")
		wantListed(t, c, def)
		mustAddTags(t, c, def, []types.Tag{tag("team", "core"), tagNull("empty")}, tag("empty", ""), tag("team", "core"))
		wantListed(t, c, def, tag("empty", ""), tag("team", "core"))
		// Still the default group, once in the listing.
		g := describe(t, c, "default")
		wantGroup(t, &g, account, region, "default", "default")
		wantNames(t, "groups", listNames(t, c), []string{"default", "limits", "quota", "web"})
		mustRemoveTags(t, c, def, []string{"team", "empty"})
		wantListed(t, c, def)
	})

	t.Run("tags set at create are listed", func(t *testing.T) {
		g := create(t, c, "born-tagged", "d", tag("z", "1"), tagNull("a"), tag("m", "x"))
		wantListed(t, c, aws.ToString(g.ARN), tag("a", ""), tag("m", "x"), tag("z", "1"))
	})

	t.Run("deleting a group deletes its tags", func(t *testing.T) {
		tmp := groupARN(region, account, "temp")
		create(t, c, "temp", "d", tag("born", "yes"))
		mustAddTags(t, c, tmp, []types.Tag{tag("added", "yes")}, tag("added", "yes"), tag("born", "yes"))
		if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("temp"),
		}); err != nil {
			t.Fatalf("delete temp: %v", err)
		}
		_, err := listTags(t, c, tmp)
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("temp"))
		_, err = addTags(t, c, tmp, tag("k", "v"))
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("temp"))
		_, err = removeTags(t, c, tmp, "added")
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("temp"))
		create(t, c, "temp", "again")
		wantListed(t, c, tmp)
	})

	t.Run("a missing group is CacheSecurityGroupNotFound", func(t *testing.T) {
		missing := groupARN(region, account, "missing")
		_, err := listTags(t, c, missing)
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("missing"))
		_, err = addTags(t, c, missing, tag("k", "v"))
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("missing"))
		_, err = removeTags(t, c, missing, "k")
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("missing"))
		wantNames(t, "groups", listNames(t, c), []string{"born-tagged", "default", "limits", "quota", "temp", "web"})
	})
}

// TestTagARNs sends the three tag operations ARNs that are malformed, of
// another account or region, or of other resource types.
func TestTagARNs(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const account, region = "888888888888", "us-west-2"
	c := client(t, s.Addr, account, region)
	create(t, c, "web", "mine", tag("mine", "yes"))

	// The same name exists in the other account and in the other region,
	// with tags of their own.
	const otherAccount, otherRegion = "999988887777", "eu-north-1"
	others := []struct {
		c               *elasticache.Client
		account, region string
	}{
		{client(t, s.Addr, otherAccount, region), otherAccount, region},
		{client(t, s.Addr, account, otherRegion), account, otherRegion},
	}
	for _, o := range others {
		create(t, o.c, "web", "theirs", tag("theirs", o.account+"/"+o.region))
		create(t, o.c, "only-theirs", "theirs")
		mustAddTags(t, o.c, groupARN(o.region, o.account, "default"), []types.Tag{tag("theirs", "default")}, tag("theirs", "default"))
	}

	// each runs check on the answer of all three tag operations on arn.
	each := func(t *testing.T, arn string, check func(*testing.T, error)) {
		t.Helper()
		_, err := listTags(t, c, arn)
		check(t, err)
		_, err = addTags(t, c, arn, tag("k", "v"))
		check(t, err)
		_, err = removeTags(t, c, arn, "k")
		check(t, err)
	}

	t.Run("InvalidARN", func(t *testing.T) {
		seven := "Input ARN string does not have 7 components."
		for _, tc := range []struct {
			name, arn, msg string
		}{
			{"6 components", "arn:aws:elasticache:" + region + ":" + account + ":securitygroup", seven},
			{"8 components", groupARN(region, account, "web") + ":extra", seven},
			{"a bare name", "web", seven},
			{"empty parts", "::::::", ""},
			{"another service", "arn:aws:ec2:" + region + ":" + account + ":securitygroup:web", ""},
			{"not arn", "urn:aws:elasticache:" + region + ":" + account + ":securitygroup:web", ""},
			{"another partition form", "arn:xyz:elasticache:" + region + ":" + account + ":securitygroup:web", ""},
			{"unknown resource type", "arn:aws:elasticache:" + region + ":" + account + ":widget:web", ""},
			{"resource type in another case", "arn:aws:elasticache:" + region + ":" + account + ":SecurityGroup:web", ""},
			{"no resource name", "arn:aws:elasticache:" + region + ":" + account + ":securitygroup:", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				each(t, tc.arn, func(t *testing.T, err error) {
					t.Helper()
					wantErr[*types.InvalidARNFault](t, err, apiErr{status: 400, code: "InvalidARN", msg: tc.msg})
				})
			})
		}
		wantListed(t, c, groupARN(region, account, "web"), tag("mine", "yes"))
	})

	t.Run("another account's or region's group is not found", func(t *testing.T) {
		for _, o := range others {
			for _, name := range []string{"web", "only-theirs", "default", "never-created"} {
				each(t, groupARN(o.region, o.account, name), func(t *testing.T, err error) {
					t.Helper()
					// Exactly what a missing group of the caller's own gets.
					wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(name))
				})
			}
		}
		// Nothing changed on either side.
		wantListed(t, c, groupARN(region, account, "web"), tag("mine", "yes"))
		for _, o := range others {
			wantListed(t, o.c, groupARN(o.region, o.account, "web"), tag("theirs", o.account+"/"+o.region))
			wantListed(t, o.c, groupARN(o.region, o.account, "default"), tag("theirs", "default"))
			wantListed(t, o.c, groupARN(o.region, o.account, "only-theirs"))
		}
		wantListed(t, c, groupARN(region, account, "default"))
	})

	t.Run("ARNs of other resource types", func(t *testing.T) {
		typed := func(kind, name string) string {
			return "arn:aws:elasticache:" + region + ":" + account + ":" + kind + ":" + name
		}
		for _, tc := range []struct {
			kind  string
			check func(*testing.T, error)
		}{
			{"cluster", func(t *testing.T, err error) {
				wantErr[*types.CacheClusterNotFoundFault](t, err, apiErr{status: 404, code: "CacheClusterNotFound", msg: "CacheCluster not found: res-1"})
			}},
			{"parametergroup", func(t *testing.T, err error) {
				wantErr[*types.CacheParameterGroupNotFoundFault](t, err, apiErr{status: 404, code: "CacheParameterGroupNotFound", msg: "CacheParameterGroup res-1 not found."})
			}},
			{"subnetgroup", func(t *testing.T, err error) {
				wantErr[*types.CacheSubnetGroupNotFoundFault](t, err, apiErr{status: 400, code: "CacheSubnetGroupNotFoundFault", msg: "CacheSubnetGroup res-1 not found."})
			}},
			{"replicationgroup", func(t *testing.T, err error) {
				wantErr[*types.ReplicationGroupNotFoundFault](t, err, apiErr{status: 404, code: "ReplicationGroupNotFoundFault", msg: "ReplicationGroup res-1 not found."})
			}},
			{"reserved-instance", func(t *testing.T, err error) {
				wantErr[*types.ReservedCacheNodeNotFoundFault](t, err, apiErr{status: 404, code: "ReservedCacheNodeNotFound", msg: "ReservedCacheNode res-1 not found."})
			}},
			{"snapshot", func(t *testing.T, err error) {
				wantErr[*types.SnapshotNotFoundFault](t, err, apiErr{status: 404, code: "SnapshotNotFoundFault", msg: "Snapshot res-1 not found."})
			}},
			{"user", func(t *testing.T, err error) {
				wantErr[*types.UserNotFoundFault](t, err, apiErr{status: 404, code: "UserNotFound", msg: "User res-1 not found."})
			}},
			{"usergroup", func(t *testing.T, err error) {
				wantErr[*types.UserGroupNotFoundFault](t, err, apiErr{status: 404, code: "UserGroupNotFound", msg: "UserGroup res-1 not found."})
			}},
			{"serverlesscache", func(t *testing.T, err error) {
				wantErr[*types.ServerlessCacheNotFoundFault](t, err, apiErr{status: 404, code: "ServerlessCacheNotFoundFault", msg: "ServerlessCache res-1 not found."})
			}},
			{"serverlesscachesnapshot", func(t *testing.T, err error) {
				wantErr[*types.ServerlessCacheSnapshotNotFoundFault](t, err, apiErr{status: 404, code: "ServerlessCacheSnapshotNotFoundFault", msg: "ServerlessCacheSnapshot res-1 not found."})
			}},
		} {
			t.Run(tc.kind, func(t *testing.T) {
				each(t, typed(tc.kind, "res-1"), tc.check)
				// Of another account: the same answer.
				each(t, "arn:aws:elasticache:"+region+":"+otherAccount+":"+tc.kind+":res-1", tc.check)
			})
		}
	})
}

// TestEmptyTagLists sends AddTagsToResource with `Tags=` and
// RemoveTagsFromResource with `TagKeys=`. The Go SDK refuses a nil list
// before sending, but serialises an empty one as `Tags=`; raw HTTP shows
// the wire.
func TestEmptyTagLists(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := client(t, s.Addr, otherKey, defaultRegion)
	create(t, c, "web", "d", tag("k", "v"))
	arn := groupARN(defaultRegion, defaultAccount, "web")

	t.Run("raw HTTP", func(t *testing.T) {
		raw := newRawClient(t, s.Addr)
		for _, tc := range []struct{ name, form, msg string }{
			{"Tags=", "Action=AddTagsToResource&Version=2015-02-02&Tags=&ResourceName=" + url.QueryEscape(arn), "Tags is required"},
			{"TagKeys=", "Action=RemoveTagsFromResource&Version=2015-02-02&TagKeys=&ResourceName=" + url.QueryEscape(arn), "TagKeys is required"},
			{"Tags absent", "Action=AddTagsToResource&Version=2015-02-02&ResourceName=" + url.QueryEscape(arn), "The request must contain the parameter Tags."},
			{"TagKeys absent", "Action=RemoveTagsFromResource&Version=2015-02-02&ResourceName=" + url.QueryEscape(arn), "The request must contain the parameter TagKeys."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code := "InvalidParameterValue"
				if strings.HasPrefix(tc.msg, "The request must contain") {
					code = "MissingParameter"
				}
				wantXMLError(t, raw.post(tc.form), 400, code, tc.msg)
			})
		}
	})

	t.Run("SDK", func(t *testing.T) {
		_, err := c.AddTagsToResource(t.Context(), &elasticache.AddTagsToResourceInput{ResourceName: aws.String(arn), Tags: []types.Tag{}})
		wantTagOpInvalid(t, err, invalidValueExact("Tags is required"))
		_, err = c.RemoveTagsFromResource(t.Context(), &elasticache.RemoveTagsFromResourceInput{ResourceName: aws.String(arn), TagKeys: []string{}})
		wantTagOpInvalid(t, err, invalidValueExact("TagKeys is required"))

		// nil is refused by the SDK itself: no request is sent.
		_, err = c.AddTagsToResource(t.Context(), &elasticache.AddTagsToResourceInput{ResourceName: aws.String(arn)})
		var invalid smithy.InvalidParamsError
		if !errors.As(err, &invalid) {
			t.Errorf("add nil tags: %v, want the SDK's InvalidParamsError", err)
		}
	})

	wantListed(t, c, arn, tag("k", "v"))
}

// TestConcurrentTags adds and removes distinct keys of one group at once:
// no change is lost to a concurrent writer.
func TestConcurrentTags(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := client(t, s.Addr, "919191919191", defaultRegion)
	arn := aws.ToString(create(t, c, "busy", "d", numberedTags("old", 20)...).ARN)

	const n = 20
	errs := make([]error, 2*n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = c.AddTagsToResource(t.Context(), &elasticache.AddTagsToResourceInput{
				ResourceName: aws.String(arn), Tags: []types.Tag{tag(fmt.Sprintf("new%02d", i), "v")},
			})
		})
		wg.Go(func() {
			<-start
			_, errs[n+i] = c.RemoveTagsFromResource(t.Context(), &elasticache.RemoveTagsFromResourceInput{
				ResourceName: aws.String(arn), TagKeys: []string{fmt.Sprintf("old%02d", i)},
			})
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent tag changes: %v", err)
	}
	wantListed(t, c, arn, numberedTags("new", n)...)
}
