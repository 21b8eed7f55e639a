package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Who may use a node's engine, and whom it replicates: what the records
// say, turned into engine.Spec's ReplicaOf and Users.
//
//   - A member of a replication group other than its primary replicates
//     the primary's node (its address and port).
//   - A replication group with user groups lets in the users of those
//     groups, each with its access string and its password hashes
//     (Redis' `#<sha256 hex>`, exactly what users.go stores) or `nopass`.
//   - A cluster or group with an AUTH token lets in the user `default`
//     with the token's hash (two during a ROTATE) and every key, channel
//     and command, which is what Redis' requirepass amounts to.
//   - Otherwise Users is nil: the engine is open, as a cache without AUTH
//     or access control is.
//
// The request path never configures an engine: a change of any of this
// (a user's passwords or access string, a group's members, the group a
// replication group uses, an AUTH token, the primary) sets AccessChanged
// on the clusters it concerns and marks them for the reconciler
// (markAccess), which calls Engines.Reconfigure.

// errWaitPrimary says a replica cannot start yet: its primary has no
// address. The reconciler leaves it marked, without counting a failure,
// for a later pass.
var errWaitPrimary = errors.New("the replication group's primary is not placed yet")

// nodeAccess is what a cluster's engines are told of replication and
// users.
type nodeAccess struct {
	replicaOf string
	users     []engine.User
	// replSecret is the replication group's ReplicationSecret; "" for a
	// cluster of no group (the runner's own then serves).
	replSecret string
}

// fingerprint is a short form that changes when the access does; "" for
// an open engine that replicates nothing.
func (a nodeAccess) fingerprint() string {
	if a.replicaOf == "" && a.users == nil && a.replSecret == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(a.replicaOf)
	if a.replSecret != "" {
		// Not the secret itself: fingerprints are compared and kept,
		// and a digest changes with it all the same.
		sum := sha256.Sum256([]byte(a.replSecret))
		b.WriteString("|repl " + hex.EncodeToString(sum[:8]))
	}
	for _, u := range a.users {
		b.WriteString("|" + u.Name + " " + u.Rules)
	}
	return b.String()
}

// specFingerprint is the fingerprint of a spec's access.
func specFingerprint(s engine.Spec) string {
	return nodeAccess{replicaOf: s.ReplicaOf, users: s.Users, replSecret: s.ReplicationSecret}.fingerprint()
}

// start makes a node's engine run (Engines.Ensure: started, or adopted
// from a previous run of this server) and, when the node has access to
// configure, reconfigures it too: an adopted process runs with what it
// was started with, which may no longer be what the records say.
func (r *Reconciler) start(ctx context.Context, spec engine.Spec) error {
	if err := r.engineCall(ctx, func(ctx context.Context) error { return r.e.Ensure(ctx, spec) }); err != nil {
		return err
	}
	r.running[spec.Key] = true
	fp := specFingerprint(spec)
	if fp != "" {
		if err := r.engineCall(ctx, func(ctx context.Context) error { return r.e.Reconfigure(ctx, spec) }); err != nil {
			// Not counted as running: the next attempt ensures it again
			// (an adoption) and reconfigures it, rather than skip it.
			delete(r.running, spec.Key)
			return fmt.Errorf("configure replication and users: %w", err)
		}
	}
	r.applied[spec.Key] = fp
	return nil
}

// accessOf reads, in tx, the access of rec's engines.
func accessOf(tx storage.Tx, sc scope, rec *cacheClusterRecord, now time.Time) (nodeAccess, error) {
	var a nodeAccess
	if rec.Engine == engineMemcached {
		return a, nil
	}
	var ugs []string
	if rec.ReplicationGroupID != "" {
		g, err := replicationGroups.GetStored(tx, sc, rec.ReplicationGroupID)
		if err != nil {
			return a, err
		}
		if g != nil {
			ugs, a.replSecret = g.UserGroupIDs, g.ReplicationSecret
			if g.Primary != rec.ID && rec.Status != clusterDeleting {
				p, err := cacheClusters.GetStored(tx, sc, g.Primary)
				if err != nil {
					return a, err
				}
				if p == nil || len(p.Nodes) == 0 || p.Nodes[0].Address == "" {
					return a, errWaitPrimary
				}
				a.replicaOf = p.Nodes[0].Address + ":" + strconv.Itoa(p.Nodes[0].Port)
			}
		}
	}
	if len(ugs) > 0 {
		users, err := groupUsers(tx, sc, ugs, now)
		if err != nil {
			return a, err
		}
		a.users = users
		return a, nil
	}
	if len(rec.AuthTokenHashes) > 0 {
		rules := "on"
		for _, h := range rec.AuthTokenHashes {
			rules += " #" + h
		}
		a.users = []engine.User{{Name: defaultUserName, Rules: rules + " ~* &* +@all"}}
	}
	return a, nil
}

// groupUsers are the engine users of user groups ids: every live member,
// its rules its access string and its password hashes (or nopass). Two
// groups holding users of one name: the first group's, in ID order, wins
// (a group holds one user of each name already). Never nil: a group
// always holds a `default`, and an empty list would still shut the
// engine.
func groupUsers(tx storage.Tx, sc scope, ids []string, now time.Time) ([]engine.User, error) {
	out := []engine.User{}
	seen := map[string]bool{}
	for _, gid := range slices.Sorted(slices.Values(ids)) {
		g, err := userGroups.GetStored(tx, sc, gid)
		if err != nil {
			return nil, err
		}
		if g == nil || g.goneAt(now) {
			continue
		}
		for _, uid := range g.UserIDs {
			u, err := users.Get(tx, sc, uid)
			if err != nil {
				return nil, err
			}
			if u == nil || u.Deleted != nil || seen[u.UserName] {
				continue
			}
			seen[u.UserName] = true
			out = append(out, engine.User{Name: u.UserName, Rules: userRules(u)})
		}
	}
	return out, nil
}

// userRules is a user's Redis ACL rules: its access string and how it
// authenticates. An iam user has no password the engine could check: it
// cannot AUTH here.
func userRules(u *userRecord) string {
	rules := strings.TrimSpace(u.AccessString)
	switch u.AuthType {
	case authNoPassword:
		rules += " nopass"
	case authPassword:
		for _, h := range u.PasswordHashes {
			rules += " #" + h
		}
	}
	return rules
}

// markAccess sets AccessChanged on clusters ids of sc and marks them for
// the reconciler, whatever their status (a transition under way
// reconfigures them before it completes); gone or deleting ones are left.
func markAccess(tx storage.Tx, sc scope, ids []string) (marked bool, err error) {
	for _, id := range ids {
		c, err := cacheClusters.GetStored(tx, sc, id)
		if err != nil {
			return false, err
		}
		if c == nil || c.Status == clusterDeleting || c.Engine == engineMemcached {
			continue
		}
		c.AccessChanged = true
		c.Generation++
		if err := cacheClusters.Put(tx, sc, c); err != nil {
			return false, err
		}
		if err := markWork(tx, sc, c.ID, c.Generation); err != nil {
			return false, err
		}
		marked = true
	}
	return marked, nil
}

// rgsUsing lists the replication groups of sc that use one of user
// groups ugs, in ID order.
func rgsUsing(tx storage.Tx, sc scope, ugs []string) ([]*replicationGroupRecord, error) {
	all, err := replicationGroups.All(tx, sc)
	if err != nil {
		return nil, err
	}
	var out []*replicationGroupRecord
	for _, g := range all {
		if slices.ContainsFunc(g.UserGroupIDs, func(u string) bool { return slices.Contains(ugs, u) }) {
			out = append(out, g)
		}
	}
	return out, nil
}

// markUserGroupsAccess marks the members of every replication group that
// uses one of user groups ugs: their users changed.
func markUserGroupsAccess(tx storage.Tx, sc scope, ugs []string) (bool, error) {
	if len(ugs) == 0 {
		return false, nil
	}
	rgs, err := rgsUsing(tx, sc, ugs)
	if err != nil || len(rgs) == 0 {
		return false, err
	}
	members, err := rgMembers(tx, sc)
	if err != nil {
		return false, err
	}
	var ids []string
	for _, g := range rgs {
		for _, m := range members[g.ID] {
			ids = append(ids, m.ID)
		}
	}
	return markAccess(tx, sc, ids)
}

// access reads the access of rec's engines now.
func (r *Reconciler) access(ctx context.Context, sc scope, rec *cacheClusterRecord) (nodeAccess, error) {
	var a nodeAccess
	now := r.s.clock.Now()
	err := r.s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		a, err = accessOf(tx, sc, rec, now)
		return err
	})
	return a, err
}

// reconfigure brings the access of rec's running nodes to what the
// records say (Engines.Reconfigure, which keeps their data); when
// onlyChanged, only nodes whose access differs from what this reconciler
// last gave them.
func (r *Reconciler) reconfigure(ctx context.Context, sc scope, rec *cacheClusterRecord, onlyChanged bool) error {
	if r.e == nil || rec.Engine == engineMemcached {
		return nil
	}
	a, err := r.access(ctx, sc, rec)
	if err != nil {
		return err
	}
	fp := a.fingerprint()
	for i := range rec.Nodes {
		n := &rec.Nodes[i]
		key := nodeKey(sc, rec.ID, n.ID)
		if n.Status == nodeDeleting || n.Address == "" || !r.running[key] || onlyChanged && r.applied[key] == fp {
			continue
		}
		spec := r.specWith(sc, rec, n, rec.AppliedParams, a)
		if err := r.engineCall(ctx, func(ctx context.Context) error { return r.e.Reconfigure(ctx, spec) }); err != nil {
			return err
		}
		r.applied[key] = fp
	}
	return nil
}
