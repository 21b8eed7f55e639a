package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
)

// backend starts the servers of one concurrency test: one bbolt server, or
// two servers sharing a prefix on one etcd member. It returns their
// addresses (the single bbolt server twice), so that a test alternates
// between "both" servers the same way on either backend.
type backend struct {
	name  string
	start func(t *testing.T, quota int) [2]string
}

func backends(t *testing.T) []backend {
	c := etcdtest.StartCluster(t, 1)
	return []backend{
		{"bolt", func(t *testing.T, quota int) [2]string {
			cfg := boltConfig(t)
			cfg.QuotaCacheSecurityGroups = quota
			addr := startMain(t, "bolt", cfg).Addr()
			return [2]string{addr, addr}
		}},
		{"etcd", func(t *testing.T, quota int) [2]string {
			prefix := "/" + t.Name() + "/"
			var addrs [2]string
			for i, name := range []string{"A", "B"} {
				cfg := etcdConfig(t, c, prefix)
				cfg.QuotaCacheSecurityGroups = quota
				addrs[i] = startMain(t, name, cfg).Addr()
			}
			return addrs
		}},
	}
}

// clientsOf returns one client per server, all acting as account.
func clientsOf(t *testing.T, addrs [2]string, account string) [2]*elasticache.Client {
	return [2]*elasticache.Client{
		newClient(t, addrs[0], account, 30*time.Second),
		newClient(t, addrs[1], account, 30*time.Second),
	}
}

// raceCreates sends one create per name, all at once, alternating between
// the two clients, and returns each call's error.
func raceCreates(t *testing.T, cs [2]*elasticache.Client, names []string) []error {
	errs := make([]error, len(names))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			<-start
			errs[i] = create(t.Context(), cs[i%2], name)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestConcurrentCreates races creates through both servers of each
// backend: they must behave as if serialised (SPEC §6).
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()

			// 64 creates of one name, in mixed case: exactly one wins, the
			// others are told it exists; none is refused as unavailable.
			t.Run("OneName64Times", func(t *testing.T) {
				t.Parallel()
				cs := clientsOf(t, b.start(t, 50), "111111111111")
				names := make([]string, 64)
				for i := range names {
					names[i] = "contested"
					if i%4 >= 2 {
						names[i] = "CONTESTED"
					}
				}
				wins := 0
				for i, err := range raceCreates(t, cs, names) {
					var exists *types.CacheSecurityGroupAlreadyExistsFault
					switch {
					case err == nil:
						wins++
					case errors.As(err, &exists):
					default:
						t.Errorf("create %d through server %d: %v, want success or AlreadyExists", i, i%2, err)
					}
				}
				if wins != 1 {
					t.Errorf("%d creates succeeded, want exactly 1", wins)
				}
				for i, c := range cs {
					if got := listNames(t, c); !slices.Equal(got, []string{"contested"}) {
						t.Errorf("server %d lists %q, want [contested]", i, got)
					}
				}
				t.Logf("64 racing creates of one name: %d succeeded, %d AlreadyExists", wins, 64-wins)
			})

			// 200 creates of distinct names when 10 fit under the quota:
			// exactly 10 succeed, the rest are QuotaExceeded, and the
			// account ends with exactly the quota.
			t.Run("NearQuota200", func(t *testing.T) {
				t.Parallel()
				const quota, existing, racing = 50, 40, 200
				cs := clientsOf(t, b.start(t, quota), "222222222222")
				var before []string
				for i := range existing {
					name := fmt.Sprintf("existing-%02d", i)
					mustCreate(t, cs[i%2], name)
					before = append(before, name)
				}
				var names []string
				for i := range racing {
					names = append(names, fmt.Sprintf("racing-%03d", i))
				}
				var winners []string
				exceeded := 0
				for i, err := range raceCreates(t, cs, names) {
					var quotaErr *types.CacheSecurityGroupQuotaExceededFault
					switch {
					case err == nil:
						winners = append(winners, names[i])
					case errors.As(err, &quotaErr):
						exceeded++
					default:
						t.Errorf("create %s through server %d: %v, want success or QuotaExceeded", names[i], i%2, err)
					}
				}
				if len(winners) != quota-existing {
					t.Errorf("%d creates succeeded, want exactly %d (quota %d, %d existing)", len(winners), quota-existing, quota, existing)
				}
				want := append(before, winners...)
				slices.Sort(want)
				for i, c := range cs {
					got := listNames(t, c)
					if len(got) > quota {
						t.Errorf("server %d lists %d groups: quota %d exceeded", i, len(got), quota)
					}
					if !slices.Equal(got, want) {
						t.Errorf("server %d lists %d groups %q,\nwant the %d existing and winners %q", i, len(got), got, existing, winners)
					}
				}
				t.Logf("200 racing creates with %d free under the quota: %d succeeded, %d QuotaExceeded", quota-existing, len(winners), exceeded)
			})
		})
	}
}

// TestSeenAtOnce: what one server writes, the other reads in its very next
// request; deletes likewise.
func TestSeenAtOnce(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	var addrs [2]string
	for i, name := range []string{"A", "B"} {
		addrs[i] = startMain(t, name, etcdConfig(t, c, "/seen-at-once/")).Addr()
	}
	cs := clientsOf(t, addrs, "333333333333")
	for i := range 20 {
		w, r := cs[i%2], cs[(i+1)%2]
		name := fmt.Sprintf("group-%02d", i)
		mustCreate(t, w, name)
		if err := describe(t.Context(), r, strings.ToUpper(name)); err != nil {
			t.Fatalf("%s created through server %d, describe through server %d at once: %v", name, i%2, (i+1)%2, err)
		}
		if err := create(t.Context(), r, name); !errors.As(err, new(*types.CacheSecurityGroupAlreadyExistsFault)) {
			t.Fatalf("%s created through server %d, created again through server %d: %v, want AlreadyExists", name, i%2, (i+1)%2, err)
		}
		if i%4 == 3 {
			if _, err := r.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String(name),
			}); err != nil {
				t.Fatalf("delete %s through server %d: %v", name, (i+1)%2, err)
			}
			err := describe(t.Context(), w, name)
			if !errors.As(err, new(*types.CacheSecurityGroupNotFoundFault)) {
				t.Fatalf("%s deleted through server %d, described through server %d at once: %v, want NotFound", name, (i+1)%2, i%2, err)
			}
		}
	}
	a, b := listNames(t, cs[0]), listNames(t, cs[1])
	if len(a) != 15 || !slices.Equal(a, b) {
		t.Errorf("server A lists %q, server B %q; want the same 15 groups", a, b)
	}
}
