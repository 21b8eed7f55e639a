package service

import (
	"time"

	"github.com/elasticache-server/elasticache-server/network"
)

// Config holds the service's settings. The zero value is usable: it means
// AWS's defaults for every account.
type Config struct {
	// Quotas replace kinds' default quotas (per account and region,
	// virtual records not counted), keyed by the kind's Field
	// (cacheSecurityGroups, cacheSubnetGroups). Absent or 0: the default.
	Quotas map[string]int
	// CacheSecurityGroupQuota is Quotas["cacheSecurityGroups"], kept for
	// the flag that set it first; Quotas wins when both are set.
	CacheSecurityGroupQuota int
	// TransitionDelay is how long an EC2 security group entry stays
	// authorizing or revoking. 0 means the answer to the change shows the
	// transitional state and every later read the final one.
	TransitionDelay time.Duration
	// UserTransitionDelay is how long users and user groups stay creating
	// or modifying. 0 means the answer to the change shows the
	// transitional state and every later read active.
	UserTransitionDelay time.Duration
	// Network is the VPCs and subnets that subnet groups are made of; nil
	// is every account's default VPC, undeclared subnets accepted and
	// placed (network.Model).
	Network *network.Model
	// Accounts overrides the global settings for single accounts, keyed by
	// the 12-digit account ID.
	Accounts map[string]AccountConfig
}

// AccountConfig is what one account changes of the global settings.
type AccountConfig struct {
	// Modern marks an account created after EC2-Classic's retirement: AWS
	// refuses it the cache security group operations.
	Modern bool
	// Quotas, where positive, replace the global quotas; keyed as
	// Config.Quotas.
	Quotas map[string]int
	// CacheSecurityGroupQuota, when positive, is
	// Quotas["cacheSecurityGroups"].
	CacheSecurityGroupQuota int
}

// fieldSecurityGroups is the security groups' Field, which the older
// quota settings name.
const fieldSecurityGroups = "cacheSecurityGroups"

// quota is the number of records of kind k an account may keep in one
// region: the account's setting, else the global one, else AWS's default.
func (c Config) quota(account string, k *kindDecl) int {
	a := c.Accounts[account]
	for _, n := range []int{a.Quotas[k.Field], legacy(k, a.CacheSecurityGroupQuota), c.Quotas[k.Field], legacy(k, c.CacheSecurityGroupQuota)} {
		if n > 0 {
			return n
		}
	}
	return k.DefaultQuota
}

func legacy(k *kindDecl, n int) int {
	if k.Field == fieldSecurityGroups {
		return n
	}
	return 0
}

func (c Config) modern(account string) bool {
	return c.Accounts[account].Modern
}
