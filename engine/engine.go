package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Spec is what one cache node should be.
type Spec struct {
	// Key names the node uniquely and stably
	// ("123456789012/us-east-1/my-cluster/0001"); only [A-Za-z0-9._/-]. It
	// names the node's data directory and pid file.
	Key string
	// Engine is "redis", "valkey" or "memcached".
	Engine string
	// Address is the IP the engine binds, Port its port.
	Address string
	Port    int
	// MaxMemory is the engine's memory limit in bytes; 0 is the engine's
	// default.
	MaxMemory int64
	// Params are the ElastiCache parameters (from the cluster's parameter
	// group) by name; those the installed engine does not know are skipped.
	Params map[string]string
	// ReplicaOf, when not "", is the "host:port" of the primary this node
	// replicates (a replica of a replication group); "" is a primary or a
	// node on its own. Redis and valkey only.
	ReplicaOf string
	// Users, when not nil, are the only users the engine lets in (Redis
	// ACL users), replacing its built-in passwordless `default`; nil leaves
	// the engine open to every client, as a cache without AUTH or access
	// control is. Redis and valkey only.
	Users []User
	// ReplicationSecret is what a replica authenticates to its primary
	// with (a primary that requires AUTH refuses it otherwise): every
	// redis and valkey node has a replication user whose password is
	// derived from the secret and the node's address, and a replica
	// derives its primary's. Every node of one replication group must
	// have the same. "" uses the runner's own secret (replication.secret
	// in its directory), which serves every group whose nodes run under
	// one runner; a group spread over several servers needs one from its
	// record. Redis and valkey only.
	ReplicationSecret string
}

// User is one user of a redis or valkey node: what ElastiCache's AUTH
// token (the user `default` with the token's hash) or a user group (each
// member's access string and password hashes) makes of access control.
type User struct {
	// Name is the user name clients AUTH with.
	Name string
	// Rules are the user's ACL rules in Redis' ACL SETUSER syntax, e.g.
	// "on #<sha256 hex> ~* +@all" or "on nopass ~app:* +@read".
	Rules string
}

// Engines runs cache nodes. Runner implements it with real processes;
// tests of its callers use a double.
type Engines interface {
	// Available tells whether the engine's binary is installed and
	// returns its path.
	Available(engine string) (path string, err error)
	// Ensure makes the node run as s says, adopting a live process of a
	// previous server for the same node, and returns once it answers.
	Ensure(ctx context.Context, s Spec) error
	// Apply changes parameters of a running node where the engine allows
	// it at once, and returns the names that need a restart.
	Apply(ctx context.Context, s Spec, changed map[string]string) (needRestart []string, err error)
	// Reconfigure brings a running node's replication source (ReplicaOf)
	// and users (Users) to what s says, without a restart and keeping its
	// data; its other fields are not looked at.
	Reconfigure(ctx context.Context, s Spec) error
	// Restart stops the node, keeping its data, and starts it as s says.
	Restart(ctx context.Context, s Spec) error
	// Stop stops a node gracefully, keeping its data. Unknown key: nil.
	Stop(ctx context.Context, key string) error
	// Remove stops a node and deletes its data. Unknown key: nil.
	Remove(ctx context.Context, key string) error
	// StopAll stops every node gracefully (server shutdown).
	StopAll(ctx context.Context) error
	// Exited delivers the key of a node whose process ended without being
	// asked to.
	Exited() <-chan string
	// Health checks that the node answers.
	Health(ctx context.Context, key string) error
	// Nodes lists, sorted, the keys of every node with data here, running
	// or not, whoever started it: what a server restarted after a kill -9,
	// or one that lost its nodes to another server, compares with the
	// records to remove what is no longer its own.
	Nodes(ctx context.Context) ([]string, error)
}

// Validate checks s before anything runs: a valid key, a known engine, an
// IP address, a port, a non-negative memory limit; ReplicaOf a host:port,
// Users with distinct names and rules that cannot break the line of the
// configuration file they are written to (no control characters), none of
// them one of the runner's own users; and for memcached none of ReplicaOf,
// Users or ReplicationSecret, which it has no use for.
func (s Spec) Validate() error {
	if err := ValidateKey(s.Key); err != nil {
		return err
	}
	switch s.Engine {
	case "redis", "valkey", "memcached":
	default:
		return fmt.Errorf("engine: node %q: unknown engine %q (want redis, valkey or memcached)", s.Key, s.Engine)
	}
	if net.ParseIP(s.Address) == nil {
		return fmt.Errorf("engine: node %q: address %q is not an IP address", s.Key, s.Address)
	}
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("engine: node %q: port %d is out of range 1-65535", s.Key, s.Port)
	}
	if s.MaxMemory < 0 {
		return fmt.Errorf("engine: node %q: negative MaxMemory %d", s.Key, s.MaxMemory)
	}
	if s.Engine == "memcached" {
		if s.ReplicaOf != "" || s.Users != nil || s.ReplicationSecret != "" {
			return fmt.Errorf("engine: node %q: memcached has no replicas or users (ReplicaOf, Users and ReplicationSecret must be empty)", s.Key)
		}
		return nil
	}
	return validateAccess(s)
}

// ValidateKey checks a node key: [A-Za-z0-9._/-] only, slash-separated
// segments that are neither empty nor "." or "..", so that Dir/<Key> is
// always a directory inside Dir.
func ValidateKey(key string) error {
	if key == "" {
		return errors.New("engine: empty node key")
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-') {
			return fmt.Errorf("engine: node key %q has %q; only [A-Za-z0-9._/-] are allowed", key, c)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("engine: node key %q has an empty, \".\" or \"..\" segment", key)
		}
	}
	return nil
}
