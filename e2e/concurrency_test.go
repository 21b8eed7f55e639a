package e2e

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// createConcurrently sends one create per name, all at once, and returns
// each call's error (nil for a success).
func createConcurrently(tb testing.TB, c *elasticache.Client, names []string) []error {
	tb.Helper()
	ctx := tb.Context()
	errs := make([]error, len(names))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			<-start
			_, errs[i] = c.CreateCacheSecurityGroup(ctx, &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String(name),
				Description:            aws.String("concurrent " + name),
			})
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestConcurrentCreates checks that concurrent creates behave as if
// serialised: one winner per name, and the quota never exceeded.
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()

	t.Run("one name 64 times", func(t *testing.T) {
		t.Parallel()
		s := startServer(t)
		c := client(t, s.Addr, otherKey, defaultRegion)
		names := make([]string, 64)
		for i := range names {
			// The same name in different cases.
			if i%2 == 0 {
				names[i] = "contested"
			} else {
				names[i] = strings.ToUpper("contested")
			}
		}
		var wins int
		var problems []error
		for i, err := range createConcurrently(t, c, names) {
			var exists *types.CacheSecurityGroupAlreadyExistsFault
			switch {
			case err == nil:
				wins++
			case errors.As(err, &exists):
				if p := checkAPIErr(err, alreadyExists("contested")); p != nil {
					problems = append(problems, p)
				}
			default:
				t.Errorf("create %d: %v, want success or AlreadyExists", i, err)
			}
		}
		if wins != 1 {
			t.Errorf("%d creates succeeded, want exactly 1", wins)
		}
		if err := errors.Join(problems...); err != nil {
			t.Errorf("AlreadyExists answers: %v", err)
		}
		wantNames(t, "groups", listNames(t, c), []string{"contested", "default"})
	})

	t.Run("one group deleted 16 times", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, withQuota(3))
		c := client(t, s.Addr, "555555555555", defaultRegion)
		create(t, c, "victim", "deleted once")
		ctx := t.Context()
		errs := make([]error, 16)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				<-start
				_, errs[i] = c.DeleteCacheSecurityGroup(ctx, &elasticache.DeleteCacheSecurityGroupInput{
					CacheSecurityGroupName: aws.String("VICTIM"),
				})
			})
		}
		close(start)
		wg.Wait()
		var wins int
		for i, err := range errs {
			var nf *types.CacheSecurityGroupNotFoundFault
			switch {
			case err == nil:
				wins++
			case errors.As(err, &nf):
				if p := checkAPIErr(err, notFound("victim")); p != nil {
					t.Errorf("delete %d: %v", i, p)
				}
			default:
				t.Errorf("delete %d: %v, want success or NotFound", i, err)
			}
		}
		if wins != 1 {
			t.Errorf("%d deletes succeeded, want exactly 1", wins)
		}
		// The count went down by exactly one: 3 creates fit, a 4th not.
		for _, name := range []string{"a", "b", "c"} {
			create(t, c, name, "fits")
		}
		_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("d"),
			Description:            aws.String("over quota"),
		})
		wantErr[*types.CacheSecurityGroupQuotaExceededFault](t, err, quotaExceeded)
	})

	t.Run("40 names with a quota of 25", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, withQuota(25))
		c := client(t, s.Addr, "333333333333", defaultRegion)
		names := make([]string, 40)
		for i := range names {
			names[i] = "group-" + pad2(i)
		}
		var wins []string
		var refused int
		var problems []error
		for i, err := range createConcurrently(t, c, names) {
			var quota *types.CacheSecurityGroupQuotaExceededFault
			switch {
			case err == nil:
				wins = append(wins, names[i])
			case errors.As(err, &quota):
				refused++
				if p := checkAPIErr(err, quotaExceeded); p != nil {
					problems = append(problems, p)
				}
			default:
				t.Errorf("create %s: %v, want success or QuotaExceeded", names[i], err)
			}
		}
		if len(wins) != 25 || refused != 15 {
			t.Errorf("%d creates succeeded and %d were refused, want 25 and 15", len(wins), refused)
		}
		if err := errors.Join(problems...); err != nil {
			t.Errorf("QuotaExceeded answers: %v", err)
		}
		got := listNames(t, c)
		if len(got) != 26 {
			t.Errorf("describe shows %d groups, want 26 (25 and default): %v", len(got), got)
		}
		want := append([]string{"default"}, wins...)
		slices.Sort(want)
		wantNames(t, "groups", got, want)
	})
}
