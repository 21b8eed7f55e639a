package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestCreateDescribeDelete walks one group through its life: create with
// tags, describe by name in any case, list with `default`, delete.
func TestCreateDescribeDelete(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const account, region = "123456789012", "eu-west-1"
	c := client(t, s.Addr, account, region)

	t.Run("create returns the group", func(t *testing.T) {
		g := create(t, c, "Web-Tier", "Web tier",
			types.Tag{Key: aws.String("env"), Value: aws.String("prod")},
			types.Tag{Key: aws.String("owner")}, // a tag without a value
		)
		wantGroup(t, g, account, region, "web-tier", "Web tier")
	})

	t.Run("describe by name matches any case", func(t *testing.T) {
		for _, name := range []string{"web-tier", "WEB-TIER", "Web-Tier", "wEb-TiEr"} {
			g := describe(t, c, name)
			wantGroup(t, &g, account, region, "web-tier", "Web tier")
		}
	})

	t.Run("describe all includes default in name order", func(t *testing.T) {
		create(t, c, "zeta", "last")
		create(t, c, "Alpha", "first")
		all := listAll(t, c, 0)
		wantNames(t, "groups", groupNames(all), []string{"alpha", "default", "web-tier", "zeta"})
		for _, g := range all {
			if aws.ToString(g.CacheSecurityGroupName) == "default" {
				wantGroup(t, &g, account, region, "default", "default")
			}
		}
	})

	t.Run("describe default by name", func(t *testing.T) {
		for _, name := range []string{"default", "DEFAULT"} {
			g := describe(t, c, name)
			wantGroup(t, &g, account, region, "default", "default")
		}
	})

	t.Run("delete in any case", func(t *testing.T) {
		out, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("WEB-Tier"),
		})
		if err != nil {
			t.Fatalf("delete WEB-Tier: %v", err)
		}
		wantRequestID(t, out.ResultMetadata)
		_, err = c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
			CacheSecurityGroupName: aws.String("web-tier"),
		})
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("web-tier"))
		wantNames(t, "groups after delete", listNames(t, c), []string{"alpha", "default", "zeta"})
	})

	t.Run("a deleted name can be created again", func(t *testing.T) {
		g := create(t, c, "web-tier", "second life")
		wantGroup(t, g, account, region, "web-tier", "second life")
	})
}

// TestDescribePagination pages through 45 groups (46 with `default`) with the
// SDK's paginator, once with `default` last on the first page and once first
// on the second, and checks MaxRecords' range and Marker's integrity.
func TestDescribePagination(t *testing.T) {
	t.Parallel()
	s := startServer(t, withQuota(100))

	// groupsAround returns 45 names, before of them sorting before
	// `default`; some are sent in upper case.
	groupsAround := func(before int) (send, want []string) {
		names := []string{"defaul"} // right before default
		for i := 0; len(names) < before; i++ {
			names = append(names, "c"+pad2(i))
		}
		names = append(names, "default-1", "default0") // right after default
		for i := 0; len(names) < 45; i++ {
			names = append(names, "g"+pad2(i))
		}
		for i, n := range names {
			if i%3 == 0 {
				send = append(send, strings.ToUpper(n))
			} else {
				send = append(send, n)
			}
		}
		want = append(want, names...)
		want = append(want, "default")
		sort.Strings(want)
		return send, want
	}

	for _, tc := range []struct {
		name   string
		key    string
		before int
	}{
		{"default ends page 1", "111111111111", 19},
		{"default starts page 2", "222222222222", 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t, s.Addr, tc.key, defaultRegion)
			send, want := groupsAround(tc.before)
			createAll(t, c, send)
			if got := want[tc.before]; got != "default" {
				t.Fatalf("test setup: want[%d] = %q, want default", tc.before, got)
			}

			p := elasticache.NewDescribeCacheSecurityGroupsPaginator(c, &elasticache.DescribeCacheSecurityGroupsInput{
				MaxRecords: aws.Int32(20),
			})
			var got []string
			var sizes []int
			for p.HasMorePages() {
				if len(sizes) > 10 {
					t.Fatalf("still more pages after %d: %v", len(sizes), sizes)
				}
				out, err := p.NextPage(t.Context())
				if err != nil {
					t.Fatalf("page %d: %v", len(sizes)+1, err)
				}
				wantRequestID(t, out.ResultMetadata)
				sizes = append(sizes, len(out.CacheSecurityGroups))
				if last := len(got)+len(out.CacheSecurityGroups) == len(want); last != (out.Marker == nil) {
					t.Errorf("page %d: Marker = %v after %d of %d groups", len(sizes), aws.ToString(out.Marker), len(got)+len(out.CacheSecurityGroups), len(want))
				}
				got = append(got, groupNames(out.CacheSecurityGroups)...)
			}
			wantNames(t, "groups over all pages", got, want)
			if diff := cmp.Diff([]int{20, 20, 6}, sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}

			// One page when everything fits.
			for _, n := range []int32{0, 100, 46} {
				out, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
					MaxRecords: maxRecordsParam(n),
				})
				if err != nil {
					t.Fatalf("MaxRecords %d: %v", n, err)
				}
				wantNames(t, "one page", groupNames(out.CacheSecurityGroups), want)
				if out.Marker != nil {
					t.Errorf("MaxRecords %d: Marker = %q, want none", n, *out.Marker)
				}
			}
		})
	}

	t.Run("the marker's own group deleted between pages", func(t *testing.T) {
		c := client(t, s.Addr, "444444444444", defaultRegion)
		var names []string
		for i := range 44 {
			names = append(names, "m"+pad2(i))
		}
		createAll(t, c, names)
		want := append([]string{"default"}, names...) // default < m00
		page1, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
			MaxRecords: aws.Int32(20),
		})
		if err != nil {
			t.Fatalf("page 1: %v", err)
		}
		got := groupNames(page1.CacheSecurityGroups)
		if len(got) != 20 || page1.Marker == nil {
			t.Fatalf("page 1: %d groups, Marker %v; want 20 and a Marker", len(got), page1.Marker)
		}
		last := got[len(got)-1]
		if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String(last),
		}); err != nil {
			t.Fatalf("delete %s: %v", last, err)
		}
		p := elasticache.NewDescribeCacheSecurityGroupsPaginator(c, &elasticache.DescribeCacheSecurityGroupsInput{
			MaxRecords: aws.Int32(20),
			Marker:     page1.Marker,
		})
		for pages := 0; p.HasMorePages(); pages++ {
			if pages > 10 {
				t.Fatalf("still more pages after %d", pages)
			}
			out, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatalf("page %d: %v", pages+2, err)
			}
			got = append(got, groupNames(out.CacheSecurityGroups)...)
		}
		wantNames(t, "groups over all pages", got, want)
	})

	c := client(t, s.Addr, "111111111111", defaultRegion)
	firstMarker := func(t *testing.T) string {
		out, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
			MaxRecords: aws.Int32(20),
		})
		if err != nil {
			t.Fatalf("describe first page: %v", err)
		}
		if out.Marker == nil || *out.Marker == "" {
			t.Fatalf("first page of 46 groups has no Marker")
		}
		return *out.Marker
	}

	t.Run("MaxRecords out of range", func(t *testing.T) {
		for _, n := range []int32{19, 101, 1, -1} {
			_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
				MaxRecords: aws.Int32(n),
			})
			wantErr[*types.InvalidParameterValueException](t, err, invalidValue("MaxRecords"))
		}
	})

	t.Run("bogus marker", func(t *testing.T) {
		marker := firstMarker(t)
		tampered := []byte(marker)
		tampered[len(tampered)/2] ^= 1
		for _, m := range []string{"bogus", "", "AAAA", marker + "x", string(tampered), strings.ToUpper(marker)} {
			if m == marker {
				continue
			}
			_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
				MaxRecords: aws.Int32(20),
				Marker:     aws.String(m),
			})
			if m == "" && err == nil {
				continue // an empty marker may mean "from the start"
			}
			wantErr[*types.InvalidParameterValueException](t, err, invalidValue("Marker"))
		}
	})

	t.Run("marker of another account or region", func(t *testing.T) {
		marker := firstMarker(t)
		for _, other := range []*elasticache.Client{
			client(t, s.Addr, "222222222222", defaultRegion),
			client(t, s.Addr, "111111111111", "eu-west-1"),
		} {
			_, err := other.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
				MaxRecords: aws.Int32(20),
				Marker:     aws.String(marker),
			})
			wantErr[*types.InvalidParameterValueException](t, err, invalidValue("Marker"))
		}
	})
}

// maxRecordsParam is MaxRecords n, or absent for 0.
func maxRecordsParam(n int32) *int32 {
	if n == 0 {
		return nil
	}
	return aws.Int32(n)
}

// TestDuplicate creates a name twice in different cases.
func TestDuplicate(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := client(t, s.Addr, otherKey, defaultRegion)
	create(t, c, "dup-group", "the original")
	for _, name := range []string{"dup-group", "DUP-Group"} {
		_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String(name),
			Description:            aws.String("the copy"),
		})
		wantErr[*types.CacheSecurityGroupAlreadyExistsFault](t, err, alreadyExists("dup-group"))
	}
	g := describe(t, c, "dup-group")
	wantGroup(t, &g, defaultAccount, defaultRegion, "dup-group", "the original")
	wantNames(t, "groups", listNames(t, c), []string{"default", "dup-group"})
}

// TestQuota fills a quota of 3 and checks what is refused, what is counted
// and that deleting frees a place.
func TestQuota(t *testing.T) {
	t.Parallel()
	s := startServer(t, withQuota(3))
	c := client(t, s.Addr, "111111111111", defaultRegion)
	for _, name := range []string{"a", "b", "c"} {
		create(t, c, name, "counted")
	}

	t.Run("one more is refused", func(t *testing.T) {
		_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("d"),
			Description:            aws.String("one too many"),
		})
		wantErr[*types.CacheSecurityGroupQuotaExceededFault](t, err, quotaExceeded)
		wantNames(t, "groups", listNames(t, c), []string{"a", "b", "c", "default"})
	})

	t.Run("a duplicate when full is AlreadyExists", func(t *testing.T) {
		_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("B"),
			Description:            aws.String("duplicate"),
		})
		wantErr[*types.CacheSecurityGroupAlreadyExistsFault](t, err, alreadyExists("b"))
	})

	t.Run("other accounts and regions have their own quota", func(t *testing.T) {
		for _, o := range []*elasticache.Client{
			client(t, s.Addr, "222222222222", defaultRegion),
			client(t, s.Addr, "111111111111", "ap-southeast-2"),
		} {
			for _, name := range []string{"a", "b", "c"} {
				create(t, o, name, "own quota")
			}
		}
	})

	t.Run("deleting frees a place", func(t *testing.T) {
		if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("a"),
		}); err != nil {
			t.Fatalf("delete a: %v", err)
		}
		create(t, c, "d", "fits again")
		_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("e"),
			Description:            aws.String("full again"),
		})
		wantErr[*types.CacheSecurityGroupQuotaExceededFault](t, err, quotaExceeded)
		wantNames(t, "groups", listNames(t, c), []string{"b", "c", "d", "default"})
	})
}

// TestNotFound describes and deletes groups that do not exist.
func TestNotFound(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := client(t, s.Addr, otherKey, defaultRegion)
	for _, name := range []string{"missing", "Missing-Group"} {
		lower := strings.ToLower(name)
		_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
			CacheSecurityGroupName: aws.String(name),
		})
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(lower))
		_, err = c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String(name),
		})
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(lower))
	}
}

// TestDefaultGroup checks that `default` can be neither deleted nor created.
func TestDefaultGroup(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := client(t, s.Addr, otherKey, defaultRegion)
	for _, name := range []string{"default", "DEFAULT", "Default"} {
		t.Run("delete "+name, func(t *testing.T) {
			_, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String(name),
			})
			wantErr[*types.InvalidParameterValueException](t, err,
				invalidValueExact("The default cache security group cannot be deleted."))
		})
		t.Run("create "+name, func(t *testing.T) {
			_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String(name),
				Description:            aws.String("not allowed"),
			})
			wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue"})
		})
	}
	g := describe(t, c, "default")
	wantGroup(t, &g, defaultAccount, defaultRegion, "default", "default")
	wantNames(t, "groups", listNames(t, c), []string{"default"})
}

// TestValidation sends invalid creates; each is refused with 400 and leaves
// nothing behind.
func TestValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := client(t, s.Addr, otherKey, defaultRegion)

	tags := func(n int) []types.Tag {
		out := make([]types.Tag, n)
		for i := range out {
			out[i] = types.Tag{Key: aws.String("key-" + pad2(i)), Value: aws.String("v")}
		}
		return out
	}
	ipv := func(msgHas string) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			t.Helper()
			wantErr[*types.InvalidParameterValueException](t, err, invalidValue(msgHas))
		}
	}
	ipvExact := func(msg string) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			t.Helper()
			wantErr[*types.InvalidParameterValueException](t, err, invalidValueExact(msg))
		}
	}

	for _, tc := range []struct {
		name      string
		group     string
		desc      string
		tags      []types.Tag
		validName bool // the name is valid, so describing it must say not found
		check     func(*testing.T, error)
	}{
		{name: "name with underscore", group: "bad_name", desc: "d", check: ipv("CacheSecurityGroupName")},
		{name: "name with space", group: "bad name", desc: "d", check: ipv("CacheSecurityGroupName")},
		{name: "name not ASCII", group: "café", desc: "d", check: ipv("CacheSecurityGroupName")},
		{name: "name of 256 characters", group: strings.Repeat("n", 256), desc: "d", check: ipv("CacheSecurityGroupName")},
		{name: "empty name", group: "", desc: "d", check: ipvExact("CacheSecurityGroupName is required")},
		{name: "empty description", group: "valid-name", desc: "", validName: true, check: ipvExact("Description is required")},
		{name: "description of 256 characters", group: "valid-name", desc: strings.Repeat("日", 256), validName: true, check: ipv("Description")},
		{name: "description with a control character", group: "valid-name", desc: "bell\x07", validName: true, check: ipv("Description")},
		{name: "description not UTF-8", group: "valid-name", desc: "bad \xff byte", validName: true, check: ipv("Description")},
		{name: "description with NUL", group: "valid-name", desc: "nul \x00 here", validName: true, check: ipv("Description")},
		{name: "description with U+FFFE", group: "valid-name", desc: "not a character \ufffe", validName: true, check: ipv("Description")},
		{name: "description with U+FFFF", group: "valid-name", desc: "not a character \uffff", validName: true, check: ipv("Description")},
		{name: "description with a surrogate", group: "valid-name", desc: "lone \xed\xa0\x80 surrogate", validName: true, check: ipv("Description")},
		{name: "description of 256 astral characters", group: "valid-name", desc: strings.Repeat("🚀", 256), validName: true, check: ipv("Description")},
		{
			name: "51 tags", group: "valid-name", desc: "d", tags: tags(51), validName: true,
			check: func(t *testing.T, err error) {
				wantErr[*types.TagQuotaPerResourceExceeded](t, err, apiErr{
					status: 400, code: "TagQuotaPerResourceExceeded",
					msg: "The maximum number of tags permitted on a resource is 50.",
				})
			},
		},
		{name: "tag key aws:", group: "valid-name", desc: "d", validName: true,
			tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}, check: ipv("")},
		{name: "tag value with &", group: "valid-name", desc: "d", validName: true,
			tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("a&b")}}, check: ipv("")},
		{name: "empty tag key", group: "valid-name", desc: "d", validName: true,
			tags: []types.Tag{{Key: aws.String(""), Value: aws.String("v")}}, check: ipv("")},
		{name: "tag key of 129 characters", group: "valid-name", desc: "d", validName: true,
			tags: []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}, check: ipv("")},
		{name: "tag value of 257 characters", group: "valid-name", desc: "d", validName: true,
			tags: []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}, check: ipv("")},
		{name: "valid tags then an invalid one", group: "valid-name", desc: "d", validName: true,
			tags: append(tags(3), types.Tag{Key: aws.String("k"), Value: aws.String("<bad>")}), check: ipv("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String(tc.group),
				Description:            aws.String(tc.desc),
				Tags:                   tc.tags,
			})
			tc.check(t, err)
			wantNames(t, "groups after the refused create", listNames(t, c), []string{"default"})
			if tc.validName {
				_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
					CacheSecurityGroupName: aws.String(tc.group),
				})
				wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(tc.group))
			}
		})
	}

	t.Run("invalid names on describe and delete", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			check func(*testing.T, error)
		}{
			{"bad_name", ipv("CacheSecurityGroupName")},
			{strings.Repeat("n", 256), ipv("CacheSecurityGroupName")},
			{"", ipvExact("CacheSecurityGroupName is required")},
		} {
			_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
				CacheSecurityGroupName: aws.String(tc.name),
			})
			tc.check(t, err)
			_, err = c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String(tc.name),
			})
			tc.check(t, err)
		}
	})

	t.Run("limits are accepted", func(t *testing.T) {
		long := strings.Repeat("L", 255)
		g := create(t, c, long, strings.Repeat("日", 255), tags(50)...)
		wantGroup(t, g, defaultAccount, defaultRegion, strings.ToLower(long), strings.Repeat("日", 255))
		g = create(t, c, "astral", strings.Repeat("🚀", 255))
		wantGroup(t, g, defaultAccount, defaultRegion, "astral", strings.Repeat("🚀", 255))
		// 51 entries naming 50 distinct keys: the last value wins and the
		// key counts once.
		create(t, c, "repeated-key", "d", append(tags(50), types.Tag{Key: aws.String("key-00"), Value: aws.String("w")})...)
		create(t, c, "long-tag", "d", types.Tag{
			Key:   aws.String(strings.Repeat("é", 128)),
			Value: aws.String(strings.Repeat("日", 256)),
		})
		wantNames(t, "groups", listNames(t, c), []string{"astral", "default", strings.ToLower(long), "long-tag", "repeated-key"})
	})
}

// TestTextRoundTrip checks that text XML must escape, and text beyond
// ASCII, comes back exactly as sent.
func TestTextRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := client(t, s.Addr, otherKey, defaultRegion)
	for i, desc := range []string{
		`<&>"' ]]> é 日本`,
		"&amp; &lt; &#x41; <![CDATA[x]]> <!-- c --> <?pi?>",
		"tab\there, line\nbreak, carriage\rreturn, crlf\r\nend",
		"astral 🚀 𝄞, combining é, bidi \u202e, nbsp\u00a0, bom \ufeff",
		"  leading and trailing spaces  ",
	} {
		name := "text-" + pad2(i)
		t.Run(name, func(t *testing.T) {
			g := create(t, c, name, desc)
			wantGroup(t, g, defaultAccount, defaultRegion, name, desc)
			d := describe(t, c, name)
			wantGroup(t, &d, defaultAccount, defaultRegion, name, desc)
			for _, g := range listAll(t, c, 0) {
				if aws.ToString(g.CacheSecurityGroupName) == name {
					wantGroup(t, &g, defaultAccount, defaultRegion, name, desc)
				}
			}
		})
	}

	t.Run("tags", func(t *testing.T) {
		g := create(t, c, "tagged", "tagged",
			types.Tag{Key: aws.String("é 日本"), Value: aws.String("日本 é")},
			types.Tag{Key: aws.String("no-value")},
			types.Tag{Key: aws.String("_.:/=+-@"), Value: aws.String("@-+=/:._")},
		)
		out, err := c.ListTagsForResource(t.Context(), &elasticache.ListTagsForResourceInput{
			ResourceName: g.ARN,
		})
		if err != nil {
			t.Fatalf("list tags: %v", err)
		}
		want := []types.Tag{ // in key order, a missing value as ""
			{Key: aws.String("_.:/=+-@"), Value: aws.String("@-+=/:._")},
			{Key: aws.String("no-value"), Value: aws.String("")},
			{Key: aws.String("é 日本"), Value: aws.String("日本 é")},
		}
		if diff := cmp.Diff(want, out.TagList, cmpopts.IgnoreUnexported(types.Tag{})); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
	})
}

// pad2 is n in at least two digits, so that names sort like numbers.
func pad2(n int) string {
	return fmt.Sprintf("%02d", n)
}
