package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rules is a user's ACL rules with the SHA-256 of password, as a user
// group hands them over.
func rules(password, access string) string {
	sum := sha256.Sum256([]byte(password))
	return "on #" + hex.EncodeToString(sum[:]) + " " + access
}

// redisAs sends one command to the node as user (AUTH first; user ""
// sends no AUTH). An error reply, AUTH's included, is returned as a
// *respError; an I/O error fails the test.
func redisAs(tb testing.TB, s Spec, user, password string, args ...string) (any, error) {
	tb.Helper()
	var cr *credentials
	if user != "" {
		cr = &credentials{user: user, password: password}
	}
	v, err := redisDo(testContext(tb), "tcp", hostPort(s), cr, args...)
	var re *respError
	if err != nil && !errors.As(err, &re) {
		tb.Fatalf("%s %v: %v", user, args, err)
	}
	return v, err
}

// wantRefused checks that err is an error reply starting with code
// (NOAUTH, WRONGPASS, NOPERM, READONLY).
func wantRefused(tb testing.TB, what string, err error, code string) {
	tb.Helper()
	var re *respError
	if !errors.As(err, &re) || !strings.HasPrefix(re.msg, code) {
		tb.Fatalf("%s: %v, want a %s reply", what, err, code)
	}
}

// eventually polls cond every 10 ms until it holds or 15 s pass.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// getAs is GET key's value as user, "" for a missing key or an error.
func getAs(tb testing.TB, s Spec, user, password, key string) string {
	tb.Helper()
	v, err := redisAs(tb, s, user, password, "GET", key)
	if err != nil {
		return ""
	}
	str, _ := v.(string)
	return str
}

func TestValidateAccess(t *testing.T) {
	t.Parallel()
	good := Spec{Key: "123456789012/us-east-1/c/0001", Engine: "redis", Address: "127.0.0.1", Port: 6379,
		ReplicaOf: "127.0.0.2:6379", ReplicationSecret: "s3cret",
		Users: []User{{Name: "default", Rules: "off"}, {Name: "app", Rules: rules("pw", "~app:* +@all")}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("the good spec: %v", err)
	}
	for _, ok := range []string{"", "[::1]:6379", "primary.example-1.local:1", "10.0.0.1:65535"} {
		s := good
		s.ReplicaOf = ok
		if err := s.Validate(); err != nil {
			t.Errorf("ReplicaOf %q: %v", ok, err)
		}
	}
	locked := good
	locked.Users = []User{}
	if err := locked.Validate(); err != nil {
		t.Errorf("no user at all (a locked node): %v", err)
	}
	for name, mutate := range map[string]func(*Spec){
		"replicaof without port":   func(s *Spec) { s.ReplicaOf = "127.0.0.1" },
		"replicaof port 0":         func(s *Spec) { s.ReplicaOf = "127.0.0.1:0" },
		"replicaof port 65536":     func(s *Spec) { s.ReplicaOf = "127.0.0.1:65536" },
		"replicaof port name":      func(s *Spec) { s.ReplicaOf = "127.0.0.1:redis" },
		"replicaof host space":     func(s *Spec) { s.ReplicaOf = "a b:6379" },
		"replicaof empty host":     func(s *Spec) { s.ReplicaOf = ":6379" },
		"replicaof newline":        func(s *Spec) { s.ReplicaOf = "h\nuser x:1" },
		"empty user name":          func(s *Spec) { s.Users = []User{{Name: "", Rules: "on"}} },
		"user name space":          func(s *Spec) { s.Users = []User{{Name: "a b", Rules: "on"}} },
		"user name tab":            func(s *Spec) { s.Users = []User{{Name: "a\tb", Rules: "on"}} },
		"runner's user":            func(s *Spec) { s.Users = []User{{Name: runnerUser, Rules: "on"}} },
		"replication user":         func(s *Spec) { s.Users = []User{{Name: replicationUser, Rules: "on"}} },
		"duplicate user":           func(s *Spec) { s.Users = []User{{Name: "app", Rules: "on"}, {Name: "app", Rules: "off"}} },
		"newline in rules":         func(s *Spec) { s.Users = []User{{Name: "app", Rules: "on nopass\nuser evil on nopass +@all ~*"}} },
		"carriage return in rules": func(s *Spec) { s.Users = []User{{Name: "app", Rules: "on\r"}} },
		"NUL in rules":             func(s *Spec) { s.Users = []User{{Name: "app", Rules: "on\x00"}} },
		"newline in secret":        func(s *Spec) { s.ReplicationSecret = "a\nreplicaof x 1" },
		"memcached replica": func(s *Spec) {
			*s = Spec{Key: s.Key, Engine: "memcached", Address: "127.0.0.1", Port: 11211, ReplicaOf: "127.0.0.2:11211"}
		},
		"memcached users": func(s *Spec) {
			*s = Spec{Key: s.Key, Engine: "memcached", Address: "127.0.0.1", Port: 11211, Users: []User{}}
		},
		"memcached secret": func(s *Spec) {
			*s = Spec{Key: s.Key, Engine: "memcached", Address: "127.0.0.1", Port: 11211, ReplicationSecret: "x"}
		},
	} {
		s := good
		mutate(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate(%+v) succeeded", name, s)
		}
	}
}

// The configuration file quotes every word: a quote in a rule stays in
// its word, and the runner's password is there only as a hash.
func TestRedisConfigQuotesAndHashes(t *testing.T) {
	t.Parallel()
	s := Spec{Key: "a/b", Engine: "redis", Address: "127.0.0.1", Port: 1, ReplicaOf: "127.0.0.2:6380",
		Users: []User{{Name: "app", Rules: `on nopass ~"odd\ +@all`}}}
	conf := string(redisConfig(s, &credentials{user: runnerUser, password: "runner-pw"}, "repl-pw"))
	for _, want := range []string{
		`"user" "elasticache_runner" "reset" "on" "#` + passwordHash("runner-pw") + `" "~*" "&*" "+@all"` + "\n",
		`"user" "elasticache_replication" "reset" "on" "#` + passwordHash(replicationPassword("repl-pw", "127.0.0.1:1")) + `" "+psync" "+replconf" "+ping"` + "\n",
		`"user" "app" "reset" "on" "nopass" "~\"odd\\" "+@all"` + "\n",
		`"user" "default" "reset"` + "\n",
		`"masteruser" "elasticache_replication"` + "\n",
		`"masterauth" "` + replicationPassword("repl-pw", "127.0.0.2:6380") + `"` + "\n",
		`"replicaof" "127.0.0.2" "6380"` + "\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("configuration lacks %s in:\n%s", want, conf)
		}
	}
	for _, secret := range []string{"runner-pw", "repl-pw"} {
		if strings.Contains(conf, secret) {
			t.Errorf("%s is in the configuration:\n%s", secret, conf)
		}
	}
	// A primary presents no credentials.
	open := string(redisConfig(Spec{Key: "a/b", Engine: "redis"}, &credentials{user: runnerUser, password: "p"}, "r"))
	if !strings.Contains(open, `"user" "default" "reset" "on" "nopass" "~*" "&*" "+@all"`+"\n") || strings.Contains(open, "replicaof") || strings.Contains(open, "master") {
		t.Errorf("an open primary's configuration:\n%s", open)
	}
}

// The replication password is one per primary address, however it is
// spelled, and tells nothing of the secret.
func TestReplicationPassword(t *testing.T) {
	t.Parallel()
	a := replicationPassword("secret", "127.0.0.2:6379")
	if b := replicationPassword("secret", "[::1]:6379"); b != replicationPassword("secret", "[0:0::1]:6379") {
		t.Fatalf("two spellings of ::1 differ")
	}
	for _, other := range []string{replicationPassword("secret", "127.0.0.3:6379"), replicationPassword("secret", "127.0.0.2:6380"), replicationPassword("other", "127.0.0.2:6379")} {
		if other == a {
			t.Fatalf("two primaries or secrets share password %s", a)
		}
	}
	if strings.Contains(a, "secret") || len(a) != 64 {
		t.Fatalf("password %q", a)
	}
}

// fastSync makes a primary start a full sync at once instead of after
// redis' 5 s wait for more replicas (repl-diskless-sync-delay).
var fastSync = map[string]string{"repl-diskless-sync-delay": "0"}

// A replica started before its primary finds it once it is up, follows
// its writes and refuses its own; promoted, it keeps the data and takes
// writes; the old primary made its replica follows it. Both nodes have
// users, so replication authenticates (with the runner's own secret).
func TestReplicaFollowsItsPrimaryAndIsPromoted(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	users := []User{{Name: "app", Rules: rules("app-pw", "~* +@all")}}
	primary := spec(t, "redis", "123456789012/us-east-1/repl/0001")
	primary.Users, primary.Params = users, fastSync
	replica := spec(t, "redis", "123456789012/us-east-1/repl/0002")
	replica.Users, replica.Params = users, fastSync
	replica.ReplicaOf = hostPort(primary)

	mustEnsure(t, r, replica)
	mustEnsure(t, r, primary)
	if _, err := redisAs(t, primary, "app", "app-pw", "SET", "k", "v1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replica has the primary's write", func() bool { return getAs(t, replica, "app", "app-pw", "k") == "v1" })
	_, err := redisAs(t, replica, "app", "app-pw", "SET", "k", "mine")
	wantRefused(t, "SET on the replica", err, "READONLY")

	// What the replica presents (which its users may read) opens its own
	// primary only, not another group's under the same runner.
	other := spec(t, "redis", "123456789012/us-east-1/other/0001")
	other.Users = users
	mustEnsure(t, r, other)
	v, err := redisAs(t, replica, "app", "app-pw", "CONFIG", "GET", "masterauth")
	if err != nil || len(v.([]any)) != 2 {
		t.Fatalf("CONFIG GET masterauth = %v, %v", v, err)
	}
	masterauth := v.([]any)[1].(string)
	if _, err := redisAs(t, primary, replicationUser, masterauth, "PING"); err != nil {
		t.Fatalf("the replica's credentials on its primary: %v", err)
	}
	_, err = redisAs(t, other, replicationUser, masterauth, "PING")
	wantRefused(t, "the replica's credentials on another group's primary", err, "WRONGPASS")
	_, err = redisAs(t, primary, replicationUser, masterauth, "GET", "k")
	wantRefused(t, "GET as the replication user", err, "NOPERM")

	// A restart of the replica keeps it a replica.
	if err := r.Restart(ctx, replica); err != nil {
		t.Fatalf("Restart of the replica: %v", err)
	}
	if _, err := redisAs(t, primary, "app", "app-pw", "SET", "k", "v2"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the restarted replica follows", func() bool { return getAs(t, replica, "app", "app-pw", "k") == "v2" })

	promoted := replica
	promoted.ReplicaOf = ""
	if err := r.Reconfigure(ctx, promoted); err != nil {
		t.Fatalf("Reconfigure (promotion): %v", err)
	}
	if v, err := redisAs(t, promoted, "app", "app-pw", "CONFIG", "GET", "masterauth"); err != nil || v.([]any)[1] != "" {
		t.Fatalf("masterauth of the promoted replica = %v, %v; want none", v, err)
	}
	if got := getAs(t, promoted, "app", "app-pw", "k"); got != "v2" {
		t.Fatalf("GET on the promoted replica = %q, want v2", got)
	}
	if _, err := redisAs(t, promoted, "app", "app-pw", "SET", "k", "v3"); err != nil {
		t.Fatalf("SET on the promoted replica: %v", err)
	}
	demoted := primary
	demoted.ReplicaOf = hostPort(promoted)
	if err := r.Reconfigure(ctx, demoted); err != nil {
		t.Fatalf("Reconfigure (the old primary follows): %v", err)
	}
	eventually(t, "the old primary follows the new one", func() bool { return getAs(t, demoted, "app", "app-pw", "k") == "v3" })
	// Again: idempotent, and Ensure with the same spec changes nothing.
	if err := r.Reconfigure(ctx, demoted); err != nil {
		t.Fatalf("Reconfigure again: %v", err)
	}
	mustEnsure(t, r, demoted)
	if err := r.Health(ctx, demoted.Key); err != nil {
		t.Fatal(err)
	}
}

// Nodes of one group under two runners (two servers) replicate with the
// secret their spec gives.
func TestReplicationAcrossRunnersWithTheSpecsSecret(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	a, b := newTestRunner(t, ""), newTestRunner(t, "")
	users := []User{{Name: "app", Rules: rules("pw", "~* +@all")}}
	primary := spec(t, "redis", "123456789012/us-east-1/across/0001")
	primary.Users, primary.ReplicationSecret, primary.Params = users, "group-secret", fastSync
	replica := spec(t, "redis", "123456789012/us-east-1/across/0002")
	replica.Users, replica.ReplicationSecret, replica.ReplicaOf = users, "group-secret", hostPort(primary)
	mustEnsure(t, a, primary)
	mustEnsure(t, b, replica)
	if _, err := redisAs(t, primary, "app", "pw", "SET", "k", "across"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replica under the other runner has the write", func() bool { return getAs(t, replica, "app", "pw", "k") == "across" })
}

// Users replace the open default: no AUTH and a wrong password are
// refused, a user's key patterns hold; Reconfigure adds, changes and
// removes users and reopens the node; the runner's own connections work
// throughout, across Apply, Restart, Stop, a crash and adoption.
func TestUsersAreEnforcedAndReconfigured(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	dir := t.TempDir()
	r := newTestRunner(t, dir)
	ctx := testContext(t)
	s := spec(t, "redis", "123456789012/us-east-1/users/0001")
	s.Users = []User{
		{Name: "app", Rules: rules("app-pw", "~app:* +@all")},
		{Name: "admin", Rules: rules("admin-pw", "~* +@all")},
	}
	mustEnsure(t, r, s)

	_, err := redisAs(t, s, "", "", "PING")
	wantRefused(t, "PING without AUTH", err, "NOAUTH")
	_, err = redisAs(t, s, "app", "wrong", "PING")
	wantRefused(t, "AUTH with a wrong password", err, "WRONGPASS")
	_, err = redisAs(t, s, "default", "", "PING")
	wantRefused(t, "AUTH as default", err, "WRONGPASS")
	if _, err := redisAs(t, s, "app", "app-pw", "SET", "app:1", "x"); err != nil {
		t.Fatalf("SET app:1 as app: %v", err)
	}
	_, err = redisAs(t, s, "app", "app-pw", "SET", "other:1", "x")
	wantRefused(t, "SET outside ~app:*", err, "NOPERM")
	if _, err := redisAs(t, s, "admin", "admin-pw", "SET", "other:1", "y"); err != nil {
		t.Fatalf("SET other:1 as admin: %v", err)
	}

	// The runner's own connections.
	if err := r.Health(ctx, s.Key); err != nil {
		t.Fatalf("Health: %v", err)
	}
	if need, err := r.Apply(ctx, s, map[string]string{"timeout": "77"}); err != nil || len(need) != 0 {
		t.Fatalf("Apply = %v, %v", need, err)
	}
	if v, _ := redisAs(t, s, "admin", "admin-pw", "CONFIG", "GET", "timeout"); len(v.([]any)) != 2 || v.([]any)[1] != "77" {
		t.Fatalf("timeout after Apply = %v", v)
	}

	// Its secret: 0600, in no command line, in no log.
	secretPath := filepath.Join(r.nodeDir(s.Key), runnerSecretFileName)
	secret, err := readSecret(secretPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{secretPath, filepath.Join(r.nodeDir(s.Key), configFileName)} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	pid := nodePid(t, r, s.Key)
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	engineLog, _ := os.ReadFile(filepath.Join(r.nodeDir(s.Key), logFileName))
	for what, text := range map[string]string{"command line": string(cmdline), "runner log": r.logs.String(), "engine log": string(engineLog)} {
		if strings.Contains(text, secret) {
			t.Errorf("the runner's password is in the %s", what)
		}
	}
	if _, err := redisAs(t, s, runnerUser, secret, "PING"); err != nil {
		t.Fatalf("PING as the runner: %v", err)
	}

	// Change app's password and keys, drop admin, add reader.
	s.Users = []User{
		{Name: "app", Rules: rules("app-pw2", "~* +@all")},
		{Name: "reader", Rules: rules("reader-pw", "~* +@read")},
	}
	if err := r.Reconfigure(ctx, s); err != nil {
		t.Fatalf("Reconfigure: %v", err)
	}
	_, err = redisAs(t, s, "admin", "admin-pw", "PING")
	wantRefused(t, "AUTH as the removed admin", err, "WRONGPASS")
	_, err = redisAs(t, s, "app", "app-pw", "PING")
	wantRefused(t, "AUTH with app's old password", err, "WRONGPASS")
	if _, err := redisAs(t, s, "app", "app-pw2", "SET", "other:2", "z"); err != nil {
		t.Fatalf("SET other:2 as the changed app: %v", err)
	}
	if got := getAs(t, s, "reader", "reader-pw", "other:1"); got != "y" {
		t.Fatalf("GET as reader = %q", got)
	}
	_, err = redisAs(t, s, "reader", "reader-pw", "SET", "other:1", "w")
	wantRefused(t, "SET as reader", err, "NOPERM")
	if _, err := redisAs(t, s, runnerUser, secret, "PING"); err != nil {
		t.Fatalf("the runner's user after Reconfigure: %v", err)
	}

	// A client's CONFIG REWRITE writes the live users into the node's
	// configuration file; the next start's spec, without reader, wins.
	if _, err := redisAs(t, s, "app", "app-pw2", "CONFIG", "REWRITE"); err != nil {
		t.Fatalf("CONFIG REWRITE: %v", err)
	}
	s.Users = s.Users[:1]

	// Restart (SHUTDOWN SAVE as the runner) keeps the data and the users.
	if err := r.Restart(ctx, s); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	_, err = redisAs(t, s, "reader", "reader-pw", "PING")
	wantRefused(t, "AUTH as a user CONFIG REWRITE saw but the spec dropped", err, "WRONGPASS")
	if got := getAs(t, s, "app", "app-pw2", "other:2"); got != "z" {
		t.Fatalf("GET after Restart = %q, want z", got)
	}
	_, err = redisAs(t, s, "", "", "PING")
	wantRefused(t, "PING without AUTH after Restart", err, "NOAUTH")

	// Stop and start again.
	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	mustEnsure(t, r, s)
	if got := getAs(t, s, "app", "app-pw2", "other:2"); got != "z" {
		t.Fatalf("GET after Stop and Ensure = %q, want z", got)
	}

	// Crash: Ensure starts it on the spec it is given now.
	if _, err := redisAs(t, s, "app", "app-pw2", "SAVE"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(nodePid(t, r, s.Key), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExited(t, r, s.Key)
	s.Users = append(s.Users, User{Name: "late", Rules: rules("late-pw", "~* +@all")})
	mustEnsure(t, r, s)
	if got := getAs(t, s, "late", "late-pw", "other:2"); got != "z" {
		t.Fatalf("GET as a user the spec added across the crash = %q, want z", got)
	}

	// Adoption by another runner (the server restarted after kill -9):
	// its spec wins, the users the first one set but it does not name
	// are gone, and its connections authenticate.
	pid = nodePid(t, r, s.Key)
	second := newTestRunner(t, dir)
	adopted := s
	adopted.Users = []User{{Name: "app", Rules: rules("app-pw3", "~* +@all")}}
	mustEnsure(t, second, adopted)
	if got := nodePid(t, second, s.Key); got != pid {
		t.Fatalf("the adopting runner runs pid %d, want %d", got, pid)
	}
	_, err = redisAs(t, s, "late", "late-pw", "PING")
	wantRefused(t, "AUTH as a user the adopting spec does not name", err, "WRONGPASS")
	if got := getAs(t, s, "app", "app-pw3", "other:2"); got != "z" {
		t.Fatalf("GET after adoption = %q, want z", got)
	}
	if err := second.Health(ctx, s.Key); err != nil {
		t.Fatalf("Health of the adopted node: %v", err)
	}

	// Users nil reopens the node.
	adopted.Users = nil
	if err := second.Reconfigure(ctx, adopted); err != nil {
		t.Fatalf("Reconfigure to open: %v", err)
	}
	if got := getAs(t, s, "", "", "other:2"); got != "z" {
		t.Fatalf("GET without AUTH on the reopened node = %q, want z", got)
	}
	_, err = redisAs(t, s, "app", "app-pw3", "PING")
	wantRefused(t, "AUTH as a user of the closed node", err, "WRONGPASS")
	if v, err := redisAs(t, s, "", "", "ACL", "USERS"); err != nil || len(v.([]any)) != 3 {
		t.Fatalf("ACL USERS of the open node = %v, %v; want default and the runner's two", v, err)
	}

	// The adopting runner stops it gracefully, as its own user.
	if err := second.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop by the adopting runner: %v", err)
	}
	if n := processesIn(t, second.nodeDir(s.Key)); n != 0 {
		t.Fatalf("%d engine processes after Stop", n)
	}
}

// A client with ACL rights that deletes the runner's user locks it out:
// Health says so, and Stop still ends the node (SIGTERM, unsaved) rather
// than leaving it running.
func TestLockedOutRunnerStillStops(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	s := spec(t, "redis", "123456789012/us-east-1/lockout/0001")
	s.Users = []User{{Name: "admin", Rules: rules("pw", "~* +@all")}}
	mustEnsure(t, r, s)
	if _, err := redisAs(t, s, "admin", "pw", "ACL", "DELUSER", runnerUser); err != nil {
		t.Fatal(err)
	}
	if err := r.Health(ctx, s.Key); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("Health of a node the runner is locked out of = %v", err)
	}
	pid := nodePid(t, r, s.Key)
	start := procStart(t, pid)
	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if alive(pid, start) {
		t.Fatalf("process %d runs after Stop", pid)
	}
	if !strings.Contains(r.logs.String(), "SHUTDOWN failed; sending SIGTERM") {
		t.Fatalf("no SIGTERM record in:\n%s", r.logs.String())
	}
	// The next start is the spec's again.
	mustEnsure(t, r, s)
	if err := r.Health(ctx, s.Key); err != nil {
		t.Fatalf("Health after a new start: %v", err)
	}
}

// A node started by a runner that had no user of its own (no secret file,
// no runner user, open) is adopted: the runner adds its user before it
// closes the node.
func TestAdoptingANodeWithoutTheRunnersUser(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	dir := t.TempDir()
	first := newTestRunner(t, dir)
	s := spec(t, "redis", "123456789012/us-east-1/legacy/0001")
	mustEnsure(t, first, s)
	secretPath := filepath.Join(first.nodeDir(s.Key), runnerSecretFileName)
	secret, err := readSecret(secretPath)
	if err != nil {
		t.Fatal(err)
	}
	// Make it what an earlier version left: no runner user, no secret.
	if _, err := redisAs(t, s, runnerUser, secret, "ACL", "DELUSER", runnerUser); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(secretPath); err != nil {
		t.Fatal(err)
	}

	second := newTestRunner(t, dir)
	s.Users = []User{{Name: "app", Rules: rules("pw", "~* +@all")}}
	mustEnsure(t, second, s)
	_, err = redisAs(t, s, "", "", "PING")
	wantRefused(t, "PING without AUTH", err, "NOAUTH")
	if err := second.Health(testContext(t), s.Key); err != nil {
		t.Fatalf("Health: %v", err)
	}
	fresh, err := readSecret(secretPath)
	if err != nil {
		t.Fatalf("no new secret file: %v", err)
	}
	if _, err := redisAs(t, s, runnerUser, fresh, "PING"); err != nil {
		t.Fatalf("PING as the runner's new user: %v", err)
	}
}

// A user's rules the engine refuses fail the start with the engine's
// reason, without retries meant for parameters.
func TestRefusedUserRulesFailTheStart(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	s := spec(t, "redis", "123456789012/us-east-1/badrules/0001")
	s.Users = []User{{Name: "app", Rules: "on nopass +@no-such-category"}}
	err := r.Ensure(testContext(t), s)
	if err == nil || !strings.Contains(err.Error(), "no-such-category") {
		t.Fatalf("Ensure = %v, want the engine's refusal", err)
	}
	if strings.Contains(r.logs.String(), "parameter refused") {
		t.Fatalf("a user's rules were taken for a parameter:\n%s", r.logs.String())
	}
	// Reconfigure refuses them too, and the node keeps its users.
	s.Users = []User{{Name: "app", Rules: rules("pw", "~* +@all")}}
	mustEnsure(t, r, s)
	bad := s
	bad.Users = []User{{Name: "app", Rules: "on nopass +@no-such-category"}}
	if err := r.Reconfigure(testContext(t), bad); err == nil {
		t.Fatal("Reconfigure with rules the engine refuses succeeded")
	}
	if _, err := redisAs(t, s, "app", "pw", "PING"); err != nil {
		t.Fatalf("the previous user after a refused Reconfigure: %v", err)
	}
}

// memcached has no users or replicas: Reconfigure with neither is nil.
func TestReconfigureMemcached(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	s := spec(t, "memcached", "123456789012/us-east-1/mcreconf/0001")
	mustEnsure(t, r, s)
	if err := r.Reconfigure(testContext(t), s); err != nil {
		t.Fatalf("Reconfigure: %v", err)
	}
	s.Users = []User{}
	if err := r.Reconfigure(testContext(t), s); err == nil {
		t.Fatal("Reconfigure of memcached with users succeeded")
	}
	if err := r.Reconfigure(testContext(t), spec(t, "redis", "123456789012/us-east-1/mcreconf/0002")); err == nil {
		t.Fatal("Reconfigure of a node that is not running succeeded")
	}
}
