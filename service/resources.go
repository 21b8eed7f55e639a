package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Kind names one kind the service stores.
type Kind struct {
	// Name is AWS's source type (cache-security-group): the label of the
	// resources metric.
	Name string
	// Field is its list in the state document (cacheSecurityGroups), the
	// key of its counts in ImportResult and ResetResult, and the name of
	// its quota.
	Field string
}

// Kinds returns the kinds the service stores, in declaration order.
func Kinds() []Kind {
	var out []Kind
	for _, k := range registeredKinds() {
		out = append(out, Kind{Name: k.Name, Field: k.Field})
	}
	return out
}

// Plural is the kind's name for people: "cache security groups".
func (k Kind) Plural() string { return strings.ReplaceAll(k.Name, "-", " ") + "s" }

// CountResources returns, per kind (by source type name), how many
// records clients have created and not deleted, across all accounts and
// regions: the sum of the per-scope counters the quotas read. Virtual
// records (the `default` security group) are not counted, as the quotas
// do not count them.
//
// It reads one snapshot and costs one short Scan and one Get per kind and
// (account, region) that has any state, whatever the number of records,
// so a metrics scrape can call it on a store of 100,000 of them.
func (s *ElastiCache) CountResources(ctx context.Context) (map[string]int, error) {
	var counts map[string]int
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		counts, err = s.kinds.CountAll(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count resources: %w", err)
	}
	return counts, nil
}

// QuotaNames are the names Config.Quotas takes: every kind's Field (the
// number of its records per account and region), and the quotas that
// count something other than records (cache nodes per region and per
// cluster).
func QuotaNames() []string {
	var out []string
	for _, k := range registeredKinds() {
		out = append(out, k.Field)
	}
	return append(out, quotaNodes, quotaNodesPerCluster)
}
