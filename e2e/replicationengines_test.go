package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/redis/go-redis/v9"
)

// Replication groups on real redis-server processes: the replicas
// replicate the primary (a write on the primary endpoint is read on a
// replica), a user group's users are the engines' ACL users (AUTH as
// them works, a wrong password and no AUTH at all are refused), a deleted
// user is refused at once, and deleting the group leaves no engine. These
// need the engine runner's Reconfigure (replicaof, ACL users).

// redisAs returns a go-redis client of addr that authenticates as user.
func redisAs(t *testing.T, addr, user, password string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: password, DialTimeout: 2 * time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func TestReplicationGroupEngines(t *testing.T) {
	t.Parallel()
	requireEngines(t)
	dir := engineDataDir(t)
	srv := startEngineServer(t, dir)
	c := client(t, srv.Addr, engAccount, engRegion)
	ctx := t.Context()

	pwAlice, pwBob := "alice-password-01234", "bob-password-0123456"
	for user, pw := range map[string]string{"alice": pwAlice, "bob": pwBob} {
		_, err := c.CreateUser(ctx, &elasticache.CreateUserInput{UserId: aws.String(user), UserName: aws.String(user), Engine: aws.String("redis"),
			AccessString: aws.String("on ~* &* +@all"), Passwords: []string{pw}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The group's default user is switched off, as the RBAC guide does
	// to make every client authenticate.
	_, err := c.CreateUser(ctx, &elasticache.CreateUserInput{UserId: aws.String("no-default"), UserName: aws.String("default"), Engine: aws.String("redis"),
		AccessString: aws.String("off ~* +@all"), Passwords: []string{"never-used-password-0"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("team"), Engine: aws.String("redis"),
		UserIds: []string{"no-default", "alice", "bob"}}); err != nil {
		t.Fatal(err)
	}
	in := rgInput("real", 3)
	in.UserGroupIds, in.TransitEncryptionEnabled = []string{"team"}, aws.Bool(true)
	if _, err := c.CreateReplicationGroup(ctx, in); err != nil {
		t.Fatal(err)
	}
	rg := waitRGStatus(t, c, "real", "available")
	ng := rg.NodeGroups[0]
	primary := fmt.Sprintf("%s:%d", aws.ToString(ng.PrimaryEndpoint.Address), aws.ToInt32(ng.PrimaryEndpoint.Port))
	var replicas []string
	for _, m := range ng.NodeGroupMembers[1:] {
		replicas = append(replicas, fmt.Sprintf("%s:%d", aws.ToString(m.ReadEndpoint.Address), aws.ToInt32(m.ReadEndpoint.Port)))
	}

	// AUTH as a member user works; a wrong password and no AUTH do not.
	alice := redisAs(t, primary, "alice", pwAlice)
	if err := alice.Set(ctx, "greeting", "hello from the primary", 0).Err(); err != nil {
		t.Fatalf("SET as alice on the primary: %v", err)
	}
	for _, r := range replicas {
		waitRedisGet(t, redisAs(t, r, "bob", pwBob), "greeting", "hello from the primary")
	}
	if err := redisAs(t, primary, "alice", "wrong-password-000000").Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("wrong password: %v, want WRONGPASS", err)
	}
	if err := redisAt(t, primary).Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("no AUTH: %v, want NOAUTH", err)
	}

	// DeleteUser: the user leaves the group, and the engines refuse it.
	if _, err := c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	for _, addr := range append([]string{primary}, replicas...) {
		poll(t, 15*time.Second, "bob refused at "+addr, func() (bool, string) {
			err := redisAs(t, addr, "bob", pwBob).Ping(ctx).Err()
			return err != nil && strings.Contains(err.Error(), "WRONGPASS"), fmt.Sprint(err)
		})
	}
	if err := redisAs(t, replicas[0], "alice", pwAlice).Ping(ctx).Err(); err != nil {
		t.Errorf("alice after bob left: %v", err)
	}

	// Delete: no engine left.
	if _, err := c.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("real")}); err != nil {
		t.Fatal(err)
	}
	waitRGGone(t, c, "real")
	poll(t, 15*time.Second, "no engine left", func() (bool, string) {
		left := enginePids(filepath.Join(dir, "engines"))
		return len(left) == 0, fmt.Sprint(left)
	})
	wantRefused(t, primary)
	for _, r := range replicas {
		wantRefused(t, r)
	}
}
