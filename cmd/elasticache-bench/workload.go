package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/elasticache-server/elasticache-server/internal/benchworkload"
)

// The workload: what each operation sends, and the names it uses. Names
// have fixed widths so that every answer to an operation has the same size,
// which is what lets the baseline answer with one fixed body (baseline.go).

// op is one kind of request the generator sends.
type op int

const (
	opCreate op = iota
	opDescribe
	opPage
	opDelete
	opTagAdd
	opTagList
	opSubnetCreate   // CreateCacheSubnetGroup, unique names
	opSubnetDescribe // DescribeCacheSubnetGroups by name, of the seeded groups
	numOps
)

var opNames = [numOps]string{"create", "describe-by-name", "describe-page", "delete", "tag-add", "tag-list",
	"create-subnet-group", "describe-subnet-group"}

// baselineOps are the operations cmd/elasticache-baseline answers: the
// cache security group workload. The subnet-group operations are measured
// against elasticache-server and moto (scripts/bench.sh --moto).
const baselineOps = opSubnetCreate

func (o op) String() string { return opNames[o] }

// parseOp accepts an operation's name, or a short form of it.
func parseOp(s string) (op, bool) {
	switch s {
	case "describe":
		return opDescribe, true
	case "page":
		return opPage, true
	}
	for i, n := range opNames {
		if n == s {
			return op(i), true
		}
	}
	return 0, false
}

// mix is a weight per operation; a single operation is a mix of one.
type mix [numOps]int

// parseMix reads "create=2,describe-by-name=5,…" or a single operation name.
func parseMix(s string) (mix, error) {
	var m mix
	if o, ok := parseOp(s); ok {
		m[o] = 1
		return m, nil
	}
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		o, known := parseOp(name)
		n, err := strconv.Atoi(w)
		if !ok || !known || err != nil || n < 0 {
			return m, fmt.Errorf("bad mix element %q: want op=weight with op one of %s", part, strings.Join(opNames[:], ", "))
		}
		m[o] += n
		total += n
	}
	if total == 0 {
		return m, fmt.Errorf("mix %q has no positive weight", s)
	}
	return m, nil
}

func (m mix) total() int {
	t := 0
	for _, w := range m {
		t += w
	}
	return t
}

// pick maps r in [0, total) to an operation.
func (m mix) pick(r int) op {
	for o, w := range m {
		if r < w {
			return op(o)
		}
		r -= w
	}
	return numOps - 1
}

func (m mix) String() string {
	var parts []string
	for o, w := range m {
		if w > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", op(o), w))
		}
	}
	return strings.Join(parts, ",")
}

// apiVersion is the Version of every request.
const apiVersion = "2015-02-02"

func accountID(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// form is a request body under construction; values are escaped as botocore
// escapes them.
type form []byte

func newForm(action string) form {
	return form("Action=" + action + "&Version=" + apiVersion)
}

func (f form) add(k, v string) form {
	f = append(f, '&')
	f = append(f, k...)
	f = append(f, '=')
	return append(f, url.QueryEscape(v)...)
}

func seedBody(name string) []byte {
	return newForm("CreateCacheSecurityGroup").
		add("CacheSecurityGroupName", name).add("Description", benchworkload.SeedDescription).
		add("Tags.Tag.1.Key", benchworkload.TagKey).add("Tags.Tag.1.Value", benchworkload.TagValue)
}

func createBody(name string) []byte {
	return newForm("CreateCacheSecurityGroup").
		add("CacheSecurityGroupName", name).add("Description", benchworkload.CreateDescription)
}

func describeBody(name string) []byte {
	return newForm("DescribeCacheSecurityGroups").add("CacheSecurityGroupName", name)
}

func pageBody() []byte {
	return newForm("DescribeCacheSecurityGroups").add("MaxRecords", "100")
}

func deleteBody(name string) []byte {
	return newForm("DeleteCacheSecurityGroup").add("CacheSecurityGroupName", name)
}

func tagAddBody(arn string) []byte {
	return newForm("AddTagsToResource").add("ResourceName", arn).
		add("Tags.Tag.1.Key", benchworkload.TagKey).add("Tags.Tag.1.Value", benchworkload.TagValue)
}

func tagListBody(arn string) []byte {
	return newForm("ListTagsForResource").add("ResourceName", arn)
}

// subnetGroupBody creates a cache subnet group in the subnets.
func subnetGroupBody(name, desc string, subnets []string) []byte {
	f := newForm("CreateCacheSubnetGroup").
		add("CacheSubnetGroupName", name).add("CacheSubnetGroupDescription", desc)
	for i, id := range subnets {
		f = f.add("SubnetIds.SubnetIdentifier."+strconv.Itoa(i+1), id)
	}
	return f
}

func seedSubnetGroupBody(name string, subnets []string) []byte {
	return subnetGroupBody(name, benchworkload.SeedDescription, subnets)
}

func createSubnetGroupBody(name string, subnets []string) []byte {
	return subnetGroupBody(name, benchworkload.CreateDescription, subnets)
}

func describeSubnetGroupBody(name string) []byte {
	return newForm("DescribeCacheSubnetGroups").add("CacheSubnetGroupName", name)
}

// readsSeeds reports whether the mix addresses the seeded groups by name.
func (m mix) readsSeeds() bool {
	return m[opDescribe]+m[opTagAdd]+m[opTagList]+m[opSubnetDescribe] > 0
}
