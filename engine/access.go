package engine

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// The runner's own ACL users on every redis and valkey node. ElastiCache
// user names are letters, digits and hyphens, so a name with an
// underscore is never one of Spec.Users (Validate refuses them all the
// same).
const (
	// runnerUser is who the runner connects as (readiness and health
	// PING, CONFIG SET, SHUTDOWN, Reconfigure): +@all on every key and
	// channel, with a password of its own per node.
	runnerUser = "elasticache_runner"
	// replicationUser is who a replica authenticates to its primary as:
	// only the commands replication sends (PSYNC, REPLCONF, PING). Its
	// password on a node is replicationPassword of the node's address.
	replicationUser = "elasticache_replication"
)

// Files of the runner's secrets and of the users and replication it sets.
const (
	// runnerSecretFileName, in a node's directory, holds the runner user's
	// password (0600): it outlives the server, so a runner adopting the
	// node after a kill -9 can still AUTH.
	runnerSecretFileName = "runner.secret"
	// replicationSecretFileName, in the runner's directory, holds the
	// replication password of nodes whose Spec gives none.
	replicationSecretFileName = "replication.secret"
	// configFileName, in a node's directory, is the configuration file a
	// redis node starts with: its users and its replication, which the
	// command line must not carry (ps shows argv to every local user).
	configFileName = "redis.conf"
)

// credentials are an ACL user and its password, what the runner AUTHs
// with.
type credentials struct{ user, password string }

// reservedUser tells whether name is one of the runner's own users.
func reservedUser(name string) bool { return name == runnerUser || name == replicationUser }

// passwordHash is the form redis' ACL takes a password in ("#<hash>"):
// SHA-256, hex. The configuration file keeps hashes, never the runner's
// password.
func passwordHash(password string) string {
	sum := sha256.Sum256([]byte(password))
	return hex.EncodeToString(sum[:])
}

// validateAccess checks the redis and valkey fields of s: ReplicaOf,
// Users, ReplicationSecret.
func validateAccess(s Spec) error {
	if s.ReplicaOf != "" {
		if _, _, err := splitReplicaOf(s.ReplicaOf); err != nil {
			return fmt.Errorf("engine: node %q: ReplicaOf %q: %w", s.Key, s.ReplicaOf, err)
		}
	}
	// Each of these ends up on a line of the node's configuration file: a
	// newline would start a directive of its own.
	if hasControl(s.ReplicationSecret) {
		return fmt.Errorf("engine: node %q: ReplicationSecret has a control character", s.Key)
	}
	seen := make(map[string]bool, len(s.Users))
	for i, u := range s.Users {
		switch {
		case u.Name == "":
			return fmt.Errorf("engine: node %q: user %d has no name", s.Key, i)
		case strings.ContainsFunc(u.Name, unicode.IsSpace) || hasControl(u.Name):
			return fmt.Errorf("engine: node %q: user name %q has a space or a control character", s.Key, u.Name)
		case reservedUser(u.Name):
			return fmt.Errorf("engine: node %q: user name %q is the runner's own", s.Key, u.Name)
		case seen[u.Name]:
			return fmt.Errorf("engine: node %q: user %q appears twice", s.Key, u.Name)
		case hasControl(u.Rules):
			return fmt.Errorf("engine: node %q: rules of user %q have a newline or another control character", s.Key, u.Name)
		}
		seen[u.Name] = true
	}
	return nil
}

// splitReplicaOf parses "host:port" ("[v6]:port" for IPv6): an IP address
// or a host name, and a port in 1-65535.
func splitReplicaOf(hp string) (host string, port int, err error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	if net.ParseIP(host) == nil && !validHostName(host) {
		return "", 0, fmt.Errorf("%q is neither an IP address nor a host name", host)
	}
	port, err = strconv.Atoi(ps)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not in 1-65535", ps)
	}
	return host, port, nil
}

// validHostName accepts letters, digits, dots and hyphens.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// aclUser is one user as the runner sets it: ACL SETUSER's arguments
// after the name, starting with reset so that nothing of an earlier
// definition survives.
type aclUser struct {
	name  string
	rules []string
}

// specUsers are the users s asks for, the runner's own left out: s.Users
// and `default` (open when Users is nil; off, with no password and no
// permission, when Users is set and does not name it).
func specUsers(s Spec) []aclUser {
	if s.Users == nil {
		return []aclUser{{name: "default", rules: []string{"reset", "on", "nopass", "~*", "&*", "+@all"}}}
	}
	out := make([]aclUser, 0, len(s.Users)+1)
	hasDefault := false
	for _, u := range s.Users {
		hasDefault = hasDefault || u.Name == "default"
		out = append(out, aclUser{name: u.Name, rules: append([]string{"reset"}, strings.Fields(u.Rules)...)})
	}
	if !hasDefault {
		out = append(out, aclUser{name: "default", rules: []string{"reset"}})
	}
	return out
}

// runnerACL and replicationACL are the rules of the runner's own users.
func runnerACL(c *credentials) []string {
	return []string{"reset", "on", "#" + passwordHash(c.password), "~*", "&*", "+@all"}
}

func replicationACL(password string) []string {
	return []string{"reset", "on", "#" + passwordHash(password), "+psync", "+replconf", "+ping"}
}

// replicationPassword is the replication user's password on the primary
// at primary ("host:port"): an HMAC of the address under the replication
// secret. A replica presents it as masterauth, which CONFIG GET shows to
// any of its users with +@all; derived per primary, it lets them into
// their own group's primary only, never into another group's nodes that
// share the runner's secret (or a secret a careless caller reused).
func replicationPassword(secret, primary string) string {
	if host, port, err := splitReplicaOf(primary); err == nil {
		if ip := net.ParseIP(host); ip != nil {
			host = ip.String()
		}
		primary = net.JoinHostPort(host, strconv.Itoa(port))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(primary))
	return hex.EncodeToString(mac.Sum(nil))
}

// redisConfig is the text of a node's configuration file: the runner's
// users, s's users, and for a replica its primary and the credentials it
// presents there. Every word is quoted (redis reads "..." with
// backslash escapes), so a rule with a quote stays one word; Validate has
// refused control characters, so no value leaves its line.
func redisConfig(s Spec, runner *credentials, replSecret string) []byte {
	var b strings.Builder
	b.WriteString("# Written by the elasticache-server engine runner at every start and Reconfigure\n" +
		"# from the node's spec; changes made here are overwritten.\n")
	line := func(words ...string) {
		for i, w := range words {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(confQuote(w))
		}
		b.WriteByte('\n')
	}
	line(append([]string{"user", runnerUser}, runnerACL(runner)...)...)
	line(append([]string{"user", replicationUser}, replicationACL(replicationPassword(replSecret, hostPort(s)))...)...)
	for _, u := range specUsers(s) {
		line(append([]string{"user", u.name}, u.rules...)...)
	}
	if host, port, err := splitReplicaOf(s.ReplicaOf); err == nil {
		line("masteruser", replicationUser)
		line("masterauth", replicationPassword(replSecret, s.ReplicaOf))
		line("replicaof", host, strconv.Itoa(port))
	}
	return []byte(b.String())
}

// confQuote quotes one word of a redis configuration file.
func confQuote(w string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(w) + `"`
}

// readSecret reads a secret file.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// loadOrCreateSecret returns the secret in path, creating one (32 random
// bytes, hex) when there is none. The file is made complete under a
// temporary name (0600) and linked into place, so that two runners on
// one directory agree on one secret and neither reads half of it.
func loadOrCreateSecret(path string) (string, error) {
	if s, err := readSecret(path); !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	secret := rand.Text() + rand.Text()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(secret + "\n"); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readSecret(path)
	} else if err != nil {
		return "", err
	}
	return secret, nil
}

// replicationSecret is s's ReplicationSecret, or the runner's own.
func (r *Runner) replicationSecret(s Spec) (string, error) {
	if s.ReplicationSecret != "" {
		return s.ReplicationSecret, nil
	}
	r.secretMu.Lock()
	defer r.secretMu.Unlock()
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return "", err
	}
	secret, err := loadOrCreateSecret(filepath.Join(r.dir, replicationSecretFileName))
	if err != nil {
		return "", fmt.Errorf("engine: the runner's replication secret: %w", err)
	}
	return secret, nil
}

// nodeCredentials are the runner user's credentials on the node in dir,
// created with the node's first start.
func nodeCredentials(dir string) (*credentials, error) {
	pw, err := loadOrCreateSecret(filepath.Join(dir, runnerSecretFileName))
	if err != nil {
		return nil, err
	}
	return &credentials{user: runnerUser, password: pw}, nil
}

// adoptedCredentials are the runner user's credentials on an adopted
// node, or nil for a node started before the runner had a user of its
// own (no secret file): the runner then talks to it as `default`, open as
// every node was then, until reconfigureLocked gives it the runner user.
func adoptedCredentials(dir string) (*credentials, error) {
	pw, err := readSecret(filepath.Join(dir, runnerSecretFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &credentials{user: runnerUser, password: pw}, nil
}

// access is what the runner last brought a node's replication and users
// to; Ensure compares it with the spec it is given to tell whether the
// running node needs reconfiguring.
type access struct {
	replicaOf  string
	replSecret string
	users      []User
}

func (a access) equal(b access) bool {
	return a.replicaOf == b.replicaOf && a.replSecret == b.replSecret && slices.Equal(a.users, b.users)
}

// accessOf is s's access, its replication secret resolved.
func (r *Runner) accessOf(s Spec) (access, error) {
	secret, err := r.replicationSecret(s)
	if err != nil {
		return access{}, err
	}
	return access{replicaOf: s.ReplicaOf, replSecret: secret, users: slices.Clone(s.Users)}, nil
}

// reconfigureLocked brings the running redis or valkey node n to s's
// users and replication live, keeping its data: ACL SETUSER for each of
// s's users (and `default`), ACL DELUSER for every other user but the
// runner's own, the replication user's password and the credentials the
// node presents as a replica, REPLICAOF (or REPLICAOF NO ONE, which keeps
// the data of a promoted replica). The node's configuration file is
// rewritten to match, so a client's CONFIG REWRITE cannot leave stale
// users for a later start, which rewrites it from its own spec anyway.
// Users are set before the unlisted ones are deleted and `default` closed,
// so a rule the engine refuses fails the call before anyone loses access.
func (r *Runner) reconfigureLocked(ctx context.Context, n *node, s Spec) error {
	want, err := r.accessOf(s)
	if err != nil {
		return err
	}
	c, err := r.dialNode(ctx, n)
	if err != nil {
		return fmt.Errorf("engine: node %q: %w", n.spec.Key, err)
	}
	defer c.Close()
	cmd := func(args ...string) (any, error) {
		v, err := c.do(args...)
		if err != nil {
			// The first two words name the command; the rest may be a
			// password.
			return nil, fmt.Errorf("engine: node %q: %s %s: %w", n.spec.Key, args[0], args[1], err)
		}
		return v, nil
	}
	creds := n.auth.Load()
	if creds == nil {
		// Adopted from a runner without a user of its own; the node is
		// open, so `default` may create it.
		if creds, err = nodeCredentials(n.dir); err != nil {
			return fmt.Errorf("engine: node %q: %w", n.spec.Key, err)
		}
		if _, err := cmd(append([]string{"ACL", "SETUSER", runnerUser}, runnerACL(creds)...)...); err != nil {
			return err
		}
		if _, err := cmd("AUTH", creds.user, creds.password); err != nil {
			return err
		}
		n.auth.Store(creds)
	}
	if _, err := cmd(append([]string{"ACL", "SETUSER", replicationUser}, replicationACL(replicationPassword(want.replSecret, hostPort(n.spec)))...)...); err != nil {
		return err
	}
	users := specUsers(s)
	keep := map[string]bool{runnerUser: true, replicationUser: true}
	for _, u := range users {
		keep[u.name] = true
		if u.name == "default" {
			continue // last: it closes the node
		}
		if _, err := cmd(append([]string{"ACL", "SETUSER", u.name}, u.rules...)...); err != nil {
			return err
		}
	}
	v, err := cmd("ACL", "USERS")
	if err != nil {
		return err
	}
	live, _ := v.([]any)
	for _, x := range live {
		if name, _ := x.(string); name != "" && !keep[name] {
			// DELUSER also disconnects the clients authenticated as it.
			if _, err := cmd("ACL", "DELUSER", name); err != nil {
				return err
			}
		}
	}
	for _, u := range users {
		if u.name == "default" {
			if _, err := cmd(append([]string{"ACL", "SETUSER", "default"}, u.rules...)...); err != nil {
				return err
			}
		}
	}
	// REPLICAOF to the primary a replica already follows answers "Already
	// connected" without a new sync, and NO ONE on a primary is a no-op:
	// both are safe to repeat. A primary presents no credentials ("" is
	// none to redis).
	if host, port, err := splitReplicaOf(s.ReplicaOf); err == nil {
		if _, err := cmd("CONFIG", "SET", "masteruser", replicationUser, "masterauth", replicationPassword(want.replSecret, s.ReplicaOf)); err != nil {
			return err
		}
		if _, err := cmd("REPLICAOF", host, strconv.Itoa(port)); err != nil {
			return err
		}
	} else {
		if _, err := cmd("REPLICAOF", "NO", "ONE"); err != nil {
			return err
		}
		if _, err := cmd("CONFIG", "SET", "masteruser", "", "masterauth", ""); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(filepath.Join(n.dir, configFileName), redisConfig(s, creds, want.replSecret)); err != nil {
		return fmt.Errorf("engine: node %q: %w", n.spec.Key, err)
	}
	n.access = want
	r.log.InfoContext(ctx, "engine: node reconfigured", "node", n.spec.Key, "replica_of", s.ReplicaOf,
		"users", len(s.Users), "open", s.Users == nil)
	return nil
}

// dialNode connects to a redis or valkey node as the runner's user (or
// as nobody, for a node adopted from a runner without one).
func (r *Runner) dialNode(ctx context.Context, n *node) (*respConn, error) {
	return dialAs(ctx, "tcp", hostPort(n.spec), n.auth.Load())
}
