package service

import (
	"bytes"
	"context"
	"fmt"

	"github.com/elasticache-server/elasticache-server/storage"
)

// scopesPrefix is the common prefix of every (account, region)'s keys.
var scopesPrefix = []byte("a/")

// CountCacheSecurityGroups returns how many cache security groups clients
// have created and not deleted, across all accounts and regions: the sum
// of the per-scope counters the quota reads. The `default` group every
// account and region has is not counted, as the quota does not count it.
//
// It reads one snapshot and costs one short Scan and one Get per (account,
// region) that has any state, whatever the number of groups, so a metrics
// scrape can call it on a store of 100,000 groups.
func (s *ElastiCache) CountCacheSecurityGroups(ctx context.Context) (int, error) {
	var total int
	err := s.store.View(ctx, func(tx storage.Tx) error {
		total = 0
		var after []byte
		for {
			sc, ok, err := nextScope(tx, after)
			if err != nil || !ok {
				return err
			}
			n, err := getCount(tx, sc.groupCountKey())
			if err != nil {
				return err
			}
			total += n
			// Every key of a scope continues its prefix with an ASCII
			// letter (csg/, n/, ev/), so prefix+0xff sorts after all of
			// them and before the next scope, even one whose region
			// extends this one's ("us-east-1" then "us-east-10").
			after = append([]byte(sc.prefix()), 0xff)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("count cache security groups: %w", err)
	}
	return total, nil
}

// nextScope finds the first scope with a key after after (nil: the first
// scope of all), visiting a single key.
func nextScope(tx storage.Tx, after []byte) (sc scope, ok bool, err error) {
	err = tx.Scan(scopesPrefix, after, func(k, _ []byte) (bool, error) {
		rest := k[len(scopesPrefix):]
		i := bytes.IndexByte(rest, '/')
		if i < 0 {
			return false, fmt.Errorf("key %q has no region", k)
		}
		j := bytes.IndexByte(rest[i+1:], '/')
		if j < 0 {
			return false, fmt.Errorf("key %q has no record after its region", k)
		}
		sc, ok = scope{account: string(rest[:i]), region: string(rest[i+1 : i+1+j])}, true
		return false, nil
	})
	return sc, ok, err
}
