package service

import (
	"fmt"
	"strings"

	"github.com/elasticache-server/elasticache-server/api"
)

// resourceARN is a parsed ElastiCache ARN:
// arn:{partition}:elasticache:{region}:{account}:{type}:{name}.
type resourceARN struct {
	partition, region, account, kind, name string
}

// unstoredNotFound answers a tag operation on a resource type whose kind
// is not registered yet with that type's own NotFound fault from the
// model. A registered kind answers its own (kindDecl.NotFound).
var unstoredNotFound = map[string]func(name string) error{
	"reserved-instance": func(n string) error {
		return &api.ReservedCacheNodeNotFoundFault{Message: fmt.Sprintf("ReservedCacheNode %s not found.", n)}
	},
	"snapshot": func(n string) error {
		return &api.SnapshotNotFoundFault{Message: fmt.Sprintf("Snapshot %s not found.", n)}
	},
	"serverlesscache": func(n string) error {
		return &api.ServerlessCacheNotFoundFault{Message: fmt.Sprintf("ServerlessCache %s not found.", n)}
	},
	"serverlesscachesnapshot": func(n string) error {
		return &api.ServerlessCacheSnapshotNotFoundFault{Message: fmt.Sprintf("ServerlessCacheSnapshot %s not found.", n)}
	},
}

func invalidARN(msg string) error { return &api.InvalidARNFault{Message: msg} }

// parseARN checks an ARN's syntax. Whether the resource exists, and whether
// it belongs to the caller, is decided later and answered as NotFound, so
// that an ARN never reveals another account's resources.
func parseARN(s string) (resourceARN, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 7 {
		return resourceARN{}, invalidARN("Input ARN string does not have 7 components.")
	}
	if parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "elasticache" {
		return resourceARN{}, invalidARN(fmt.Sprintf("ARN %s is not an ElastiCache ARN.", s))
	}
	a := resourceARN{partition: parts[1], region: parts[3], account: parts[4], kind: parts[5], name: parts[6]}
	if _, ok := arnKind(a.kind); !ok {
		return resourceARN{}, invalidARN(fmt.Sprintf("ARN %s names an unknown resource type %s.", s, a.kind))
	}
	if a.name == "" {
		return resourceARN{}, invalidARN(fmt.Sprintf("ARN %s has no resource name.", s))
	}
	return a, nil
}

// notFound is the fault for a resource of a's type that does not exist for
// the caller.
func (a resourceARN) notFound() error {
	notFound, _ := arnKind(a.kind)
	return notFound(a.name)
}

// arnKind returns the NotFound fault of an ARN resource type, and whether
// the type is one of ElastiCache's.
func arnKind(t string) (notFound func(string) error, ok bool) {
	for _, k := range registeredKinds() {
		if k.ARNType == t {
			return k.NotFound, true
		}
	}
	notFound, ok = unstoredNotFound[t]
	return notFound, ok
}
