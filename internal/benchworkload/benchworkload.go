// Package benchworkload is the load generator's workload as far as the
// answers depend on it: the account, region, names, descriptions and tag
// of the groups cmd/elasticache-bench creates and reads. The baseline
// server (cmd/elasticache-baseline) encodes its fixed answers from the
// same values, so that its answers are the size of the real server's and
// the benchmark's ratios compare the same work. It imports fmt only: the
// baseline's start-up is measured.
package benchworkload

import "fmt"

const (
	// Region is the region of every request.
	Region = "us-east-1"
	// DefaultAccount is the server's default account, used when requests
	// carry no credential; it is also the baseline's.
	DefaultAccount = "000000000000"
	// SeedDescription and CreateDescription are what groups are created
	// with; TagKey=TagValue is the one tag seeded groups carry and tag-add
	// sets again, so tag answers always hold one tag.
	SeedDescription   = "bench seed group"
	CreateDescription = "bench group"
	TagKey            = "bench"
	TagValue          = "benchval"
	// RequestIDSample has the length of a real request ID.
	RequestIDSample = "00000000-0000-4000-8000-000000000000"
)

// SeedName is the name of pre-created group i (a cache security group, or
// a cache subnet group for the subnet-group operations). Created groups (CreateName)
// start with 'z', so they sort after every seed and `default`: the first
// page of a scope is the same whatever was created in it.
func SeedName(i int) string { return fmt.Sprintf("seed-%06d", i) }

// CreateName, of either kind of group, is unique per run (run is 6 base-36 characters drawn at
// start), worker and sequence number.
func CreateName(run string, worker, seq int) string {
	return fmt.Sprintf("z%s-%03d-%09d", run, worker, seq)
}

// SubnetIDs are the subnets of the cache subnet groups the generator
// creates (elasticache-bench run -subnets overrides them): two of one VPC.
// elasticache-server places undeclared subnet ids itself; a server that
// checks them against an EC2 (moto) needs its own, made there first.
var SubnetIDs = []string{"subnet-0a1b2c3d", "subnet-0a1b2c3e"}

// GroupARN is the ARN of group name in account, in Region.
func GroupARN(account, name string) string {
	return "arn:aws:elasticache:" + Region + ":" + account + ":securitygroup:" + name
}
