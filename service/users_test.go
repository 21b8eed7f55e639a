package service

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

// The rules of users; what every kind shares is TestKindConformance's.

const (
	pw1 = "correct-horse-battery-1"
	pw2 = "correct-horse-battery-2"
)

func createUser(f *fixture, ctx context.Context, id, name string, mutate ...func(*api.CreateUserInput)) (*api.CreateUserOutput, error) {
	in := &api.CreateUserInput{UserId: s(id), UserName: s(name), Engine: s("redis"), AccessString: s("on ~* +@all"), Passwords: []string{pw1}}
	for _, m := range mutate {
		m(in)
	}
	return f.svc.CreateUser(ctx, in)
}

func describeUser(tb testing.TB, f *fixture, ctx context.Context, id string) api.User {
	tb.Helper()
	out, err := f.svc.DescribeUsers(ctx, &api.DescribeUsersInput{UserId: s(id)})
	mustOK(tb, err)
	if len(out.Users) != 1 {
		tb.Fatalf("describe %s: %d users", id, len(out.Users))
	}
	return out.Users[0]
}

func TestAccessStrings(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{
		"on ~* +@all", "off -@all", "on ~app::* -@all +@read +@hash -setbit -bitfield", "on allkeys allcommands allchannels",
		"on ~* &* +@all", "on %R~read:* %W~write:* %RW~both:* +get +set", "on resetkeys ~a resetchannels &b nocommands +config|get",
		"on ~* +@all -@dangerous", "ON ~* +@ALL", "on ~* (~other:* +get) clearselectors", "on ~* ( ~x +get )", "+json.get -ft.search",
	} {
		if err := checkAccessString("AccessString", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "must not be empty."},
		{"   ", "must not be empty."},
		{"on ~* +@all reset", "reset cannot be used"},
		{"on >secretpassword1234 ~* +@all", "passwords cannot be set in an access string"},
		{"on #aabbcc +@all", "passwords cannot be set"},
		{"on nopass +@all", "passwords cannot be set"},
		{"on ~* +@nosuch", "+@nosuch names no command category."},
		{"on ~ +@all", "~ needs a pattern."},
		{"on %X~k +@all", "%X~k is not a key permission"},
		{"on ~* +", "+ is not a command rule."},
		{"on ~* +get|", "+get| is not a command rule."},
		{"on ~* everything", "everything is not an access rule."},
		{"on ~* (+get", "a selector opened with ( is not closed with )."},
		{"on ~* (on +get)", "on cannot be used inside a selector."},
		{"on\x01 ~*", "control characters"},
	} {
		err := checkAccessString("AccessString", tc.in)
		wantFaultContaining(t, err, "InvalidParameterValue", 400, tc.want)
		if strings.Contains(tc.in, "secret") && strings.Contains(err.Error(), "secret") {
			t.Errorf("the message repeats the password: %v", err)
		}
	}
}

func TestCreateUserShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	out, err := createUser(f, ctxA, "App-User", "app user", func(in *api.CreateUserInput) {
		in.Engine = s("REDIS")
		in.Passwords = []string{pw1, pw2}
		in.Tags = []api.Tag{{Key: s("env"), Value: s("test")}}
	})
	mustOK(t, err)
	if *out.UserId != "app-user" || *out.UserName != "app user" || *out.Engine != "redis" || *out.Status != "creating" ||
		*out.ARN != "arn:aws:elasticache:us-east-1:111111111111:user:app-user" || *out.MinimumEngineVersion != "6.0" ||
		*out.AccessString != "on ~* +@all" || *out.Authentication.Type != "password" || *out.Authentication.PasswordCount != 2 ||
		out.UserGroupIds == nil || len(out.UserGroupIds) != 0 {
		t.Fatalf("created user = %+v, auth %+v", out, out.Authentication)
	}
	// Every later read: active.
	if u := describeUser(t, f, ctxA, "APP-USER"); *u.Status != "active" || *u.UserId != "app-user" {
		t.Fatalf("described user = %+v", u)
	}
	// A password given twice counts once.
	out, err = createUser(f, ctxA, "twice", "twice", func(in *api.CreateUserInput) { in.Passwords = []string{pw1, pw1} })
	mustOK(t, err)
	if *out.Authentication.PasswordCount != 1 {
		t.Fatalf("password count = %d, want 1", *out.Authentication.PasswordCount)
	}
	out, err = createUser(f, ctxA, "vk", "vk", func(in *api.CreateUserInput) { in.Engine = s("Valkey") })
	mustOK(t, err)
	if *out.Engine != "valkey" || *out.MinimumEngineVersion != "7.2" {
		t.Fatalf("valkey user = %+v", out)
	}
	// No password, and IAM: no PasswordCount.
	out, err = createUser(f, ctxA, "nopass", "nopass", func(in *api.CreateUserInput) { in.Passwords, in.NoPasswordRequired = nil, ptr(true) })
	mustOK(t, err)
	if *out.Authentication.Type != "no-password" || out.Authentication.PasswordCount != nil {
		t.Fatalf("no-password user authentication = %+v", out.Authentication)
	}
	out, err = createUser(f, ctxA, "iam-user", "iam-user", func(in *api.CreateUserInput) {
		in.Passwords, in.NoPasswordRequired = nil, ptr(false)
		in.AuthenticationMode = &api.AuthenticationMode{Type: s("iam")}
	})
	mustOK(t, err)
	if *out.Authentication.Type != "iam" {
		t.Fatalf("iam user authentication = %+v", out.Authentication)
	}
	// Another user may share a name (that is how the default user is
	// replaced); a group may not hold both.
	_, err = createUser(f, ctxA, "my-default", "default")
	mustOK(t, err)
	_, err = createUser(f, ctxA, "app-user", "x")
	wantFault(t, err, "UserAlreadyExists", 400, "User app-user already exists.")
}

func TestCreateUserRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	for _, tc := range []struct {
		name   string
		mutate func(*api.CreateUserInput)
		code   string
		msg    string
	}{
		{"id with underscore", func(in *api.CreateUserInput) { in.UserId = s("a_b") }, "InvalidParameterValue", "Invalid value for parameter UserId: must contain only ASCII letters, digits and hyphens."},
		{"id starting with a digit", func(in *api.CreateUserInput) { in.UserId = s("1a") }, "InvalidParameterValue", "Invalid value for parameter UserId: must begin with a letter."},
		{"id ending in a hyphen", func(in *api.CreateUserInput) { in.UserId = s("a-") }, "InvalidParameterValue", "Invalid value for parameter UserId: must not end with a hyphen or contain two consecutive hyphens."},
		{"id of 41", func(in *api.CreateUserInput) { in.UserId = s(strings.Repeat("a", 41)) }, "InvalidParameterValue", "Invalid value for parameter UserId: must be at most 40 characters."},
		{"engine", func(in *api.CreateUserInput) { in.Engine = s("memcached") }, "InvalidParameterValue", "Invalid value for parameter Engine: must be redis or valkey."},
		{"access string", func(in *api.CreateUserInput) { in.AccessString = s("on ~* +@all reset") }, "InvalidParameterValue", ""},
		{"no password", func(in *api.CreateUserInput) { in.Passwords = nil },
			"InvalidParameterValue", "No password was provided. If you want to create/update the user without password, please use the NoPasswordRequired flag."},
		{"NoPasswordRequired false", func(in *api.CreateUserInput) { in.Passwords, in.NoPasswordRequired = nil, ptr(false) }, "InvalidParameterValue", "No password was provided."[:10]},
		{"short password", func(in *api.CreateUserInput) { in.Passwords = []string{"fifteen-chars!!"} }, "InvalidParameterValue", "Passwords length must be between 16-128 characters."},
		{"long password", func(in *api.CreateUserInput) { in.Passwords = []string{strings.Repeat("p", 129)} }, "InvalidParameterValue", "Passwords length must be between 16-128 characters."},
		{"three passwords", func(in *api.CreateUserInput) { in.Passwords = []string{pw1, pw2, pw1 + "x"} }, "InvalidParameterValue", "Invalid value for parameter Passwords: a user has at most 2 passwords."},
		{"passwords and no password", func(in *api.CreateUserInput) { in.NoPasswordRequired = ptr(true) }, "InvalidParameterCombination", ""},
		{"mode and passwords", func(in *api.CreateUserInput) {
			in.AuthenticationMode = &api.AuthenticationMode{Type: s("password"), Passwords: []string{pw1}}
		}, "InvalidParameterCombination", ""},
		{"mode without type", func(in *api.CreateUserInput) { in.Passwords, in.AuthenticationMode = nil, &api.AuthenticationMode{} }, "InvalidParameterValue", "AuthenticationMode.Type is required"},
		{"mode of unknown type", func(in *api.CreateUserInput) {
			in.Passwords, in.AuthenticationMode = nil, &api.AuthenticationMode{Type: s("kerberos")}
		}, "InvalidParameterValue", ""},
		{"password mode without passwords", func(in *api.CreateUserInput) {
			in.Passwords, in.AuthenticationMode = nil, &api.AuthenticationMode{Type: s("password")}
		}, "InvalidParameterValue", ""},
		{"iam with passwords", func(in *api.CreateUserInput) {
			in.Passwords, in.AuthenticationMode = nil, &api.AuthenticationMode{Type: s("iam"), Passwords: []string{pw1}}
		}, "InvalidParameterCombination", ""},
		{"iam with another name", func(in *api.CreateUserInput) {
			in.Passwords, in.UserName, in.AuthenticationMode = nil, s("someone"), &api.AuthenticationMode{Type: s("iam")}
		}, "InvalidParameterCombination", "User Id and User name must be same for authentication type: iam"},
		{"default", func(in *api.CreateUserInput) { in.UserId = s("Default") }, "UserAlreadyExists", "User default already exists."},
	} {
		_, err := createUser(f, ctxA, "u1", "u1", tc.mutate)
		if tc.code == "" {
			continue
		}
		var fault api.Fault
		if !errors.As(err, &fault) || fault.ErrorCode() != tc.code || !strings.HasPrefix(fault.ErrorMessage(), tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.msg)
			continue
		}
		if strings.Contains(fault.ErrorMessage(), pw1) {
			t.Errorf("%s: the message repeats a password", tc.name)
		}
	}
	out, err := f.svc.DescribeUsers(ctxA, &api.DescribeUsersInput{})
	mustOK(t, err)
	if len(out.Users) != 1 {
		t.Fatalf("refused creates left users: %d", len(out.Users))
	}
}

// Passwords are kept only as their SHA-256: not in the store, not in an
// answer, not in the state document.
func TestPasswordsAreNeverKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := createUser(f, ctxA, "u1", "u1", func(in *api.CreateUserInput) { in.Passwords = []string{pw1, pw2} })
	mustOK(t, err)
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1"), AuthenticationMode: &api.AuthenticationMode{Type: s("password"), Passwords: []string{pw2 + "-new"}}})
	mustOK(t, err)
	err = f.store.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
			for _, pw := range []string{pw1, pw2, pw2 + "-new", "correct-horse"} {
				if bytes.Contains(v, []byte(pw)) || bytes.Contains(k, []byte(pw)) {
					t.Errorf("key %s holds a password", k)
				}
			}
			return true, nil
		})
	})
	mustOK(t, err)
	doc := string(mustExport(t, f))
	if strings.Contains(doc, "correct-horse") || !strings.Contains(doc, passwordHash(pw2+"-new")) || strings.Contains(doc, passwordHash(pw1)) {
		t.Fatalf("state document:\n%s", doc)
	}
	// What Redis' ACL SETUSER … #<hash> takes.
	if h := passwordHash("password"); h != "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8" {
		t.Fatalf("passwordHash = %s", h)
	}
}

func TestDefaultUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	u := describeUser(t, f, ctxA, "default")
	if *u.UserName != "default" || *u.AccessString != "on ~* +@all" || *u.Engine != "redis" || *u.Status != "active" ||
		*u.Authentication.Type != "no-password" || *u.ARN != "arn:aws:elasticache:us-east-1:111111111111:user:default" {
		t.Fatalf("default user = %+v", u)
	}
	_, err := f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("default"), AccessString: s("off")})
	wantFault(t, err, "InvalidParameterValue", 400, "The default user cannot be modified.")
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("default")})
	wantFault(t, err, "InvalidParameterValue", 400, "The default user cannot be deleted.")
	defARN := "arn:aws:elasticache:us-east-1:111111111111:user:default"
	_, err = f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{ResourceName: s(defARN), Tags: []api.Tag{{Key: s("k")}}})
	wantFault(t, err, "InvalidParameterValue", 400, "The default user cannot be tagged.")
	tl, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(defARN)})
	mustOK(t, err)
	if len(tl.TagList) != 0 {
		t.Fatalf("tags of default = %v", tl.TagList)
	}
	// Every account and region has it.
	if u := describeUser(t, f, as("222222222222", "eu-west-1"), "default"); *u.ARN != "arn:aws:elasticache:eu-west-1:222222222222:user:default" {
		t.Fatalf("default user elsewhere = %s", *u.ARN)
	}
}

func TestModifyUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := createUser(f, ctxA, "u1", "u1")
	mustOK(t, err)
	f.clock.Advance(time.Second)
	out, err := f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("U1"), AccessString: s("on ~app:* -@all +@read")})
	mustOK(t, err)
	if *out.Status != "modifying" || *out.AccessString != "on ~app:* -@all +@read" || *out.Authentication.PasswordCount != 1 {
		t.Fatalf("modified = %+v", out)
	}
	if u := describeUser(t, f, ctxA, "u1"); *u.Status != "active" || *u.AccessString != "on ~app:* -@all +@read" {
		t.Fatalf("after modify = %+v", u)
	}
	out, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1"), AppendAccessString: s("+@write"), Passwords: []string{pw1, pw2}, Engine: s("VALKEY")})
	mustOK(t, err)
	if *out.AccessString != "on ~app:* -@all +@read +@write" || *out.Authentication.PasswordCount != 2 || *out.Engine != "valkey" {
		t.Fatalf("appended = %+v", out)
	}
	out, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1"), NoPasswordRequired: ptr(true)})
	mustOK(t, err)
	if *out.Authentication.Type != "no-password" || out.Authentication.PasswordCount != nil {
		t.Fatalf("no password = %+v", out.Authentication)
	}
	// Requiring a password again needs one.
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1"), NoPasswordRequired: ptr(false)})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "No password was provided.")
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1")})
	wantFault(t, err, "InvalidParameterCombination", 400, "No modifications were requested.")
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1"), AccessString: s("on"), AppendAccessString: s("+get")})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1"), AppendAccessString: s("reset")})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "AppendAccessString")
	_, err = createUser(f, ctxA, "u2", "named")
	mustOK(t, err)
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u2"), AuthenticationMode: &api.AuthenticationMode{Type: s("iam")}})
	wantFault(t, err, "InvalidParameterCombination", 400, "User Id and User name must be same for authentication type: iam")
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("nobody"), AccessString: s("on")})
	wantFault(t, err, "UserNotFound", 404, "User nobody not found.")
	evs, err := f.svc.DescribeEvents(ctxA, &api.DescribeEventsInput{SourceType: s("user"), SourceIdentifier: s("u1")})
	mustOK(t, err)
	if len(evs.Events) != 4 || *evs.Events[len(evs.Events)-1].Message != "User created" || *evs.Events[0].Message != "User modified" {
		t.Fatalf("events = %+v", evs.Events)
	}
}

// With a transition delay, a user is creating, then active; modifying,
// then active; and a user that is not active cannot be changed.
func TestUserStatusWithDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{UserTransitionDelay: 10 * time.Second})
	_, err := createUser(f, ctxA, "u1", "u1")
	mustOK(t, err)
	if u := describeUser(t, f, ctxA, "u1"); *u.Status != "creating" {
		t.Fatalf("status = %s, want creating", *u.Status)
	}
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1"), AccessString: s("off")})
	wantFault(t, err, "InvalidUserState", 400, "User u1 has status creating. Only active users can be modified.")
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("u1")})
	wantFault(t, err, "InvalidUserState", 400, "")
	f.clock.Advance(10 * time.Second)
	if u := describeUser(t, f, ctxA, "u1"); *u.Status != "active" {
		t.Fatalf("status = %s, want active", *u.Status)
	}
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("u1"), AccessString: s("off")})
	mustOK(t, err)
	f.clock.Advance(9 * time.Second)
	if u := describeUser(t, f, ctxA, "u1"); *u.Status != "modifying" {
		t.Fatalf("status = %s, want modifying", *u.Status)
	}
	f.clock.Advance(time.Second)
	out, err := f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("u1")})
	mustOK(t, err)
	if *out.Status != "deleting" {
		t.Fatalf("delete answer status = %s", *out.Status)
	}
	if u := describeUser(t, f, ctxA, "u1"); *u.Status != "deleting" {
		t.Fatalf("status = %s, want deleting", *u.Status)
	}
	f.clock.Advance(10 * time.Second)
	_, err = f.svc.DescribeUsers(ctxA, &api.DescribeUsersInput{UserId: s("u1")})
	wantFault(t, err, "UserNotFound", 404, "User u1 not found.")
}

func TestDescribeUsersFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	for _, id := range []string{"a1", "b1"} {
		_, err := createUser(f, ctxA, id, id)
		mustOK(t, err)
	}
	_, err := createUser(f, ctxA, "v1", "v1", func(in *api.CreateUserInput) { in.Engine = s("valkey") })
	mustOK(t, err)
	ids := func(in *api.DescribeUsersInput) []string {
		t.Helper()
		out, err := f.svc.DescribeUsers(ctxA, in)
		mustOK(t, err)
		var got []string
		for _, u := range out.Users {
			got = append(got, *u.UserId)
		}
		return got
	}
	if got := ids(&api.DescribeUsersInput{}); !slices.Equal(got, []string{"a1", "b1", "default", "v1"}) {
		t.Fatalf("all = %v", got)
	}
	if got := ids(&api.DescribeUsersInput{Engine: s("Valkey")}); !slices.Equal(got, []string{"v1"}) {
		t.Fatalf("valkey = %v", got)
	}
	if got := ids(&api.DescribeUsersInput{Filters: []api.Filter{{Name: s("user-id"), Values: []string{"B1", "default"}}}}); !slices.Equal(got, []string{"b1", "default"}) {
		t.Fatalf("filtered = %v", got)
	}
	_, err = f.svc.DescribeUsers(ctxA, &api.DescribeUsersInput{Filters: []api.Filter{{Name: s("engine"), Values: []string{"redis"}}}})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "unknown filter name engine")
	_, err = f.svc.DescribeUsers(ctxA, &api.DescribeUsersInput{UserId: s("a1"), Engine: s("valkey")})
	wantFault(t, err, "UserNotFound", 404, "User a1 not found.")
}

// listedUsers is every user DescribeUsers lists, by ID, default among them.
func listedUsers(tb testing.TB, f *fixture) []string {
	tb.Helper()
	out, err := f.svc.DescribeUsers(ctxA, &api.DescribeUsersInput{})
	mustOK(tb, err)
	var ids []string
	for _, u := range out.Users {
		ids = append(ids, *u.UserId)
	}
	return ids
}

// tagKeysOf is the keys of a resource's tags, or the fault that answers.
func tagKeysOf(f *fixture, arnName string) ([]string, error) {
	out, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: &arnName})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, t := range out.TagList {
		keys = append(keys, *t.Key)
	}
	return keys, nil
}

// wantNoOldTags fails when a deleted resource's tags are still answered:
// ListTagsForResource must say it is not found or show no tag.
func wantNoOldTags(tb testing.TB, f *fixture, arnName, notFound string) {
	tb.Helper()
	keys, err := tagKeysOf(f, arnName)
	if err != nil && faultCode(err) != notFound || len(keys) > 0 {
		tb.Fatalf("tags of the deleted %s = %v, %v; want none", arnName, keys, err)
	}
}

// With a transition delay, a deleted user stays, deleting, until the delay
// has passed: it keeps its ID and its place in the quota, refuses every
// change, is in no group and has no tags. From then on it is gone to every
// reader, a restart with a longer delay does not bring it back, and the
// next create that needs its ID or its place removes it.
func TestDeleteUserWithDelay(t *testing.T) {
	t.Parallel()
	const delay = 10 * time.Second
	f := newFixture(t, Config{UserTransitionDelay: delay, Quotas: map[string]int{fieldUsers: 2}})
	appARN := arn(scope{Account: "111111111111", Region: "us-east-1"}, userKind, "app")
	_, err := createUser(f, ctxA, "app", "app", func(in *api.CreateUserInput) { in.Tags = []api.Tag{{Key: s("old"), Value: s("v")}} })
	mustOK(t, err)
	_, err = createUser(f, ctxA, "ops", "ops")
	mustOK(t, err)
	_, err = createUserGroup(f, ctxA, "g", "redis", "default", "app")
	mustOK(t, err)
	f.clock.Advance(delay)

	out, err := f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("app")})
	mustOK(t, err)
	if *out.Status != "deleting" || !slices.Equal(out.UserGroupIds, []string{"g"}) {
		t.Fatalf("delete answer = %+v", out)
	}
	deadline := f.clock.Now().Add(delay)

	// Deleting, to the last instant of the delay.
	f.clock.Advance(delay - time.Nanosecond)
	if u := describeUser(t, f, ctxA, "app"); *u.Status != "deleting" || len(u.UserGroupIds) != 0 {
		t.Fatalf("while deleting = %+v", u)
	}
	if got := listedUsers(t, f); !slices.Equal(got, []string{"app", "default", "ops"}) {
		t.Fatalf("listed while deleting = %v", got)
	}
	if g := describeUserGroup(t, f, "g"); !slices.Equal(g.UserIds, []string{"default"}) {
		t.Fatalf("group members while app is deleting = %v", g.UserIds)
	}
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("app"), AccessString: s("off")})
	wantFault(t, err, "InvalidUserState", 400, "User app has status deleting. Only active users can be modified.")
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("app")})
	wantFault(t, err, "InvalidUserState", 400, "User app has status deleting. Only active users can be deleted.")
	_, err = createUser(f, ctxA, "app", "app")
	wantFault(t, err, "UserAlreadyExists", 400, "User app already exists.")
	_, err = createUser(f, ctxA, "third", "third")
	wantFault(t, err, "UserQuotaExceeded", 400, "")
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToAdd: []string{"app"}})
	wantFault(t, err, "InvalidParameterValue", 400, "User app is being deleted.")
	_, err = createUserGroup(f, ctxA, "h", "redis", "default", "app")
	wantFault(t, err, "InvalidParameterValue", 400, "User app is being deleted.")
	wantNoOldTags(t, f, appARN, "UserNotFound")
	if doc := string(mustExport(t, f)); !strings.Contains(doc, `"deleted": "`+deadline.Format(time.RFC3339)+`"`) {
		t.Fatalf("the export does not say when app's deletion completes:\n%s", doc)
	}

	// Gone.
	f.clock.Advance(time.Nanosecond)
	_, err = f.svc.DescribeUsers(ctxA, &api.DescribeUsersInput{UserId: s("app")})
	wantFault(t, err, "UserNotFound", 404, "User app not found.")
	if got := listedUsers(t, f); !slices.Equal(got, []string{"default", "ops"}) {
		t.Fatalf("listed once gone = %v", got)
	}
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("app"), AccessString: s("off")})
	wantFault(t, err, "UserNotFound", 404, "User app not found.")
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("app")})
	wantFault(t, err, "UserNotFound", 404, "User app not found.")
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToAdd: []string{"app"}})
	wantFault(t, err, "UserNotFound", 404, "User app not found.")
	_, err = f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(appARN)})
	wantFault(t, err, "UserNotFound", 404, "User app not found.")
	_, err = f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{ResourceName: s(appARN), Tags: []api.Tag{{Key: s("k"), Value: s("v")}}})
	wantFault(t, err, "UserNotFound", 404, "User app not found.")
	longer, err := Open(context.Background(), f.store, f.clock, Config{UserTransitionDelay: time.Hour})
	mustOK(t, err)
	_, err = longer.DescribeUsers(ctxA, &api.DescribeUsersInput{UserId: s("app")})
	wantFault(t, err, "UserNotFound", 404, "User app not found.")

	// Its ID is free: the create removes the gone record, tags and all.
	again, err := createUser(f, ctxA, "app", "app again", func(in *api.CreateUserInput) { in.Tags = []api.Tag{{Key: s("new"), Value: s("v")}} })
	mustOK(t, err)
	if *again.Status != "creating" || *again.UserName != "app again" {
		t.Fatalf("created again = %+v", again)
	}
	if keys, err := tagKeysOf(f, appARN); err != nil || !slices.Equal(keys, []string{"new"}) {
		t.Fatalf("tags of the new app = %v, %v", keys, err)
	}
	if doc := string(mustExport(t, f)); strings.Contains(doc, `"deleted"`) {
		t.Fatalf("the export still has a deleted user:\n%s", doc)
	}

	// Its place in the quota is free: with the quota full, a create
	// removes one gone user.
	f.clock.Advance(delay)
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("ops")})
	mustOK(t, err)
	_, err = createUser(f, ctxA, "third", "third")
	wantFault(t, err, "UserQuotaExceeded", 400, "")
	f.clock.Advance(delay)
	_, err = createUser(f, ctxA, "third", "third")
	mustOK(t, err)
	if got := listedUsers(t, f); !slices.Equal(got, []string{"app", "default", "third"}) {
		t.Fatalf("listed after the quota freed = %v", got)
	}
	counts, err := f.svc.CountResources(context.Background())
	mustOK(t, err)
	if counts[userKind.Name] != 2 {
		t.Fatalf("CountResources = %v, want 2 users", counts)
	}
	if doc := string(mustExport(t, f)); strings.Contains(doc, `"name": "ops"`) {
		t.Fatalf("the export still lists ops:\n%s", doc)
	}
}

// Without a transition delay a deleted user is gone at once, as before:
// its ID, its place in the quota and its tags with it.
func TestDeleteUserWithoutDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Quotas: map[string]int{fieldUsers: 1}})
	_, err := createUser(f, ctxA, "app", "app", func(in *api.CreateUserInput) { in.Tags = []api.Tag{{Key: s("old"), Value: s("v")}} })
	mustOK(t, err)
	out, err := f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("app")})
	mustOK(t, err)
	if *out.Status != "deleting" {
		t.Fatalf("delete answer = %+v", out)
	}
	_, err = f.svc.DescribeUsers(ctxA, &api.DescribeUsersInput{UserId: s("app")})
	wantFault(t, err, "UserNotFound", 404, "User app not found.")
	_, err = tagKeysOf(f, arn(scope{Account: "111111111111", Region: "us-east-1"}, userKind, "app"))
	wantFault(t, err, "UserNotFound", 404, "User app not found.")
	if doc := string(mustExport(t, f)); strings.Contains(doc, `"name": "app"`) {
		t.Fatalf("the export still lists app:\n%s", doc)
	}
	_, err = createUser(f, ctxA, "other", "other")
	mustOK(t, err)
}
