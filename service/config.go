package service

import "time"

// DefaultCacheSecurityGroupQuota is AWS's default number of cache security
// groups per account and region, not counting the default group.
const DefaultCacheSecurityGroupQuota = 50

// Config holds the service's settings. The zero value is usable: it means
// AWS's defaults for every account.
type Config struct {
	// CacheSecurityGroupQuota is the number of cache security groups an
	// account may create in one region, `default` not counted. 0 means
	// DefaultCacheSecurityGroupQuota.
	CacheSecurityGroupQuota int
	// TransitionDelay is how long an EC2 security group entry stays
	// authorizing or revoking. 0 means the answer to the change shows the
	// transitional state and every later read the final one.
	TransitionDelay time.Duration
	// Accounts overrides the global settings for single accounts, keyed by
	// the 12-digit account ID.
	Accounts map[string]AccountConfig
}

// AccountConfig is what one account changes of the global settings.
type AccountConfig struct {
	// Modern marks an account created after EC2-Classic's retirement: AWS
	// refuses it the cache security group operations.
	Modern bool
	// CacheSecurityGroupQuota, when positive, replaces the global quota.
	CacheSecurityGroupQuota int
}

func (c Config) groupQuota(account string) int {
	if a, ok := c.Accounts[account]; ok && a.CacheSecurityGroupQuota > 0 {
		return a.CacheSecurityGroupQuota
	}
	if c.CacheSecurityGroupQuota > 0 {
		return c.CacheSecurityGroupQuota
	}
	return DefaultCacheSecurityGroupQuota
}

func (c Config) modern(account string) bool {
	return c.Accounts[account].Modern
}
