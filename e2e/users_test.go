package e2e

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"

	"github.com/elasticache-server/elasticache-server/server"
	"github.com/elasticache-server/elasticache-server/service"
)

// Users and user groups through the Go SDK: every operation's happy path
// and every fault, on a server whose config file sets small quotas; and
// the passwords, which the server never gives back or keeps.

const usersConfig = `
accounts:
  - id: "111111111111"
    quotas:
      users: 3
      userGroups: 1
`

const (
	userPassword1 = "first-secret-password-e2e"
	userPassword2 = "second-secret-password-e2e"
)

// withUserTransitionDelay sets how long users and user groups stay
// creating or modifying.
func withUserTransitionDelay(d time.Duration) serverOption {
	return func(c *server.Config) { c.UserTransitionDelay = d }
}

func startUsersServer(tb testing.TB, opts ...serverOption) *testServer {
	tb.Helper()
	return startUsersServerClock(tb, newFixedClock(), opts...)
}

// startUsersServerClock is startUsersServer with clock as the server's
// clock.
func startUsersServerClock(tb testing.TB, clock service.Clock, opts ...serverOption) *testServer {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(usersConfig), 0o600); err != nil {
		tb.Fatal(err)
	}
	return startServerClock(tb, clock, append([]serverOption{withConfigFile(path)}, opts...)...)
}

func createUser(tb testing.TB, c *elasticache.Client, id, name string, mutate ...func(*elasticache.CreateUserInput)) (*elasticache.CreateUserOutput, error) {
	tb.Helper()
	in := &elasticache.CreateUserInput{UserId: aws.String(id), UserName: aws.String(name), Engine: aws.String("redis"),
		AccessString: aws.String("on ~* +@all"), Passwords: []string{userPassword1}}
	for _, m := range mutate {
		m(in)
	}
	out, err := c.CreateUser(tb.Context(), in)
	if err == nil {
		wantRequestID(tb, out.ResultMetadata)
	}
	return out, err
}

func describeUser(tb testing.TB, c *elasticache.Client, id string) types.User {
	tb.Helper()
	out, err := c.DescribeUsers(tb.Context(), &elasticache.DescribeUsersInput{UserId: aws.String(id)})
	if err != nil {
		tb.Fatal(err)
	}
	if len(out.Users) != 1 {
		tb.Fatalf("DescribeUsers %s: %d users", id, len(out.Users))
	}
	return out.Users[0]
}

func describeUserGroup(tb testing.TB, c *elasticache.Client, id string) types.UserGroup {
	tb.Helper()
	out, err := c.DescribeUserGroups(tb.Context(), &elasticache.DescribeUserGroupsInput{UserGroupId: aws.String(id)})
	if err != nil {
		tb.Fatal(err)
	}
	return out.UserGroups[0]
}

func userARN(name string) string { return "arn:aws:elasticache:us-east-1:111111111111:user:" + name }

func userGroupARN(name string) string {
	return "arn:aws:elasticache:us-east-1:111111111111:usergroup:" + name
}

func TestUsers(t *testing.T) {
	t.Parallel()
	srv := startUsersServer(t)
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()

	u, err := createUser(t, c, "App-User", "app user", func(in *elasticache.CreateUserInput) {
		in.Engine = aws.String("REDIS")
		in.Passwords = []string{userPassword1, userPassword2}
		in.Tags = []types.Tag{tag("env", "test")}
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.UserId) != "app-user" || aws.ToString(u.UserName) != "app user" || aws.ToString(u.Engine) != "redis" ||
		aws.ToString(u.Status) != "creating" || aws.ToString(u.ARN) != userARN("app-user") || aws.ToString(u.MinimumEngineVersion) != "6.0" ||
		u.Authentication.Type != types.AuthenticationTypePassword || aws.ToInt32(u.Authentication.PasswordCount) != 2 {
		t.Fatalf("CreateUser = %+v", u)
	}
	if got := describeUser(t, c, "app-user"); aws.ToString(got.Status) != "active" {
		t.Fatalf("status after create = %s", aws.ToString(got.Status))
	}
	d := describeUser(t, c, "default")
	if aws.ToString(d.AccessString) != "on ~* +@all" || d.Authentication.Type != types.AuthenticationTypeNoPassword || aws.ToString(d.UserName) != "default" {
		t.Fatalf("default user = %+v", d)
	}
	_, err = createUser(t, c, "ops", "ops", func(in *elasticache.CreateUserInput) {
		in.Passwords, in.NoPasswordRequired = nil, aws.Bool(false)
		in.AuthenticationMode = &types.AuthenticationMode{Type: types.InputAuthenticationTypePassword, Passwords: []string{userPassword2}}
	})
	if err != nil {
		t.Fatal(err)
	}

	// Every user, default among them, through the SDK's paginator.
	var ids []string
	pages := elasticache.NewDescribeUsersPaginator(c, &elasticache.DescribeUsersInput{MaxRecords: aws.Int32(20)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			ids = append(ids, aws.ToString(u.UserId))
		}
	}
	if !slices.Equal(ids, []string{"app-user", "default", "ops"}) {
		t.Fatalf("users = %v", ids)
	}

	m, err := c.ModifyUser(ctx, &elasticache.ModifyUserInput{UserId: aws.String("app-user"), AccessString: aws.String("on ~app:* -@all +@read"),
		NoPasswordRequired: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(m.Status) != "modifying" || aws.ToString(m.AccessString) != "on ~app:* -@all +@read" {
		t.Fatalf("ModifyUser = %+v", m)
	}

	// Tags by ARN.
	tl, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(userARN("app-user"))})
	if err != nil || len(tl.TagList) != 1 || aws.ToString(tl.TagList[0].Key) != "env" {
		t.Fatalf("tags = %+v, %v", tl, err)
	}
	_, err = c.AddTagsToResource(ctx, &elasticache.AddTagsToResourceInput{ResourceName: aws.String(userARN("default")), Tags: []types.Tag{tag("k", "v")}})
	wantErr[*types.InvalidParameterValueException](t, err, invalidValueExact("The default user cannot be tagged."))
	_, err = c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(userARN("nobody"))})
	wantErr[*types.UserNotFoundFault](t, err, apiErr{status: 404, code: "UserNotFound", msg: "User nobody not found."})

	// Faults of CreateUser.
	_, err = createUser(t, c, "app-user", "x")
	wantErr[*types.UserAlreadyExistsFault](t, err, apiErr{status: 400, code: "UserAlreadyExists", msg: "User app-user already exists."})
	_, err = createUser(t, c, "short", "short", func(in *elasticache.CreateUserInput) { in.Passwords = []string{"too-short"} })
	wantErr[*types.InvalidParameterValueException](t, err, invalidValueExact("Passwords length must be between 16-128 characters."))
	_, err = createUser(t, c, "nopw", "nopw", func(in *elasticache.CreateUserInput) { in.Passwords = nil })
	wantErr[*types.InvalidParameterValueException](t, err, invalidValue("No password was provided."))
	_, err = createUser(t, c, "acl", "acl", func(in *elasticache.CreateUserInput) { in.AccessString = aws.String("on ~* +@all reset") })
	wantErr[*types.InvalidParameterValueException](t, err, invalidValue("reset cannot be used"))
	_, err = createUser(t, c, "iam-user", "other", func(in *elasticache.CreateUserInput) {
		in.Passwords, in.AuthenticationMode = nil, &types.AuthenticationMode{Type: types.InputAuthenticationTypeIam}
	})
	wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination", msg: "User Id and User name must be same for authentication type: iam"})
	var many []types.Tag
	for i := range 51 {
		many = append(many, tag("k"+string(rune('a'+i/26))+string(rune('a'+i%26)), "v"))
	}
	_, err = createUser(t, c, "tagged", "tagged", func(in *elasticache.CreateUserInput) { in.Tags = many })
	wantErr[*types.TagQuotaPerResourceExceeded](t, err, apiErr{status: 400, code: "TagQuotaPerResourceExceeded"})
	_, err = createUser(t, c, "third", "third")
	if err != nil {
		t.Fatal(err)
	}
	_, err = createUser(t, c, "fourth", "fourth")
	wantErr[*types.UserQuotaExceededFault](t, err, apiErr{status: 400, code: "UserQuotaExceeded"})

	// Faults of ModifyUser and DeleteUser.
	_, err = c.ModifyUser(ctx, &elasticache.ModifyUserInput{UserId: aws.String("nobody"), AccessString: aws.String("on")})
	wantErr[*types.UserNotFoundFault](t, err, apiErr{status: 404, code: "UserNotFound", msg: "User nobody not found."})
	_, err = c.ModifyUser(ctx, &elasticache.ModifyUserInput{UserId: aws.String("default"), AccessString: aws.String("off")})
	wantErr[*types.InvalidParameterValueException](t, err, invalidValueExact("The default user cannot be modified."))
	_, err = c.ModifyUser(ctx, &elasticache.ModifyUserInput{UserId: aws.String("ops")})
	wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination", msg: "No modifications were requested."})
	_, err = c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("default")})
	wantErr[*types.InvalidParameterValueException](t, err, invalidValueExact("The default user cannot be deleted."))
	_, err = c.DescribeUsers(ctx, &elasticache.DescribeUsersInput{UserId: aws.String("nobody")})
	wantErr[*types.UserNotFoundFault](t, err, apiErr{status: 404, code: "UserNotFound", msg: "User nobody not found."})

	del, err := c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("third")})
	if err != nil || aws.ToString(del.Status) != "deleting" {
		t.Fatalf("DeleteUser = %+v, %v", del, err)
	}
	_, err = c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("third")})
	wantErr[*types.UserNotFoundFault](t, err, apiErr{status: 404, code: "UserNotFound", msg: "User third not found."})
}

func TestUserGroups(t *testing.T) {
	t.Parallel()
	srv := startUsersServer(t)
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()
	for _, u := range [][2]string{{"app", "app"}, {"my-default", "default"}} {
		if _, err := createUser(t, c, u[0], u[1]); err != nil {
			t.Fatal(err)
		}
	}

	_, err := c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("g"), Engine: aws.String("redis"), UserIds: []string{"app"}})
	wantErr[*types.DefaultUserRequired](t, err, apiErr{status: 400, code: "DefaultUserRequired", msg: "User group needs to contain a user with the user name default."})
	_, err = c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("g"), Engine: aws.String("redis"), UserIds: []string{"default", "my-default"}})
	wantErr[*types.DuplicateUserNameFault](t, err, apiErr{status: 400, code: "DuplicateUserName"})
	_, err = c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("g"), Engine: aws.String("redis"), UserIds: []string{"default", "nobody"}})
	wantErr[*types.UserNotFoundFault](t, err, apiErr{status: 404, code: "UserNotFound", msg: "User nobody not found."})
	_, err = c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("g"), Engine: aws.String("valkey"), UserIds: []string{"default"}})
	wantErr[*types.InvalidParameterValueException](t, err, invalidValue("No password user default"))

	g, err := c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("Web"), Engine: aws.String("REDIS"),
		UserIds: []string{"default", "app"}, Tags: []types.Tag{tag("team", "core")}})
	if err != nil {
		t.Fatal(err)
	}
	wantRequestID(t, g.ResultMetadata)
	if aws.ToString(g.UserGroupId) != "web" || aws.ToString(g.Status) != "creating" || aws.ToString(g.Engine) != "redis" ||
		aws.ToString(g.ARN) != userGroupARN("web") || !slices.Equal(g.UserIds, []string{"app", "default"}) || g.ReplicationGroups == nil {
		t.Fatalf("CreateUserGroup = %+v", g)
	}
	if got := describeUserGroup(t, c, "web"); aws.ToString(got.Status) != "active" {
		t.Fatalf("status after create = %s", aws.ToString(got.Status))
	}
	if got := describeUser(t, c, "app"); !slices.Equal(got.UserGroupIds, []string{"web"}) {
		t.Fatalf("groups of app = %v", got.UserGroupIds)
	}
	_, err = c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("web"), Engine: aws.String("redis"), UserIds: []string{"default"}})
	wantErr[*types.UserGroupAlreadyExistsFault](t, err, apiErr{status: 400, code: "UserGroupAlreadyExists", msg: "User group web already exists."})
	_, err = c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("second"), Engine: aws.String("redis"), UserIds: []string{"default"}})
	wantErr[*types.UserGroupQuotaExceededFault](t, err, apiErr{status: 400, code: "UserGroupQuotaExceeded"})
	tl, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(userGroupARN("web"))})
	if err != nil || len(tl.TagList) != 1 {
		t.Fatalf("tags = %+v, %v", tl, err)
	}

	// Swap AWS's default user for the account's own: Terraform's way.
	mg, err := c.ModifyUserGroup(ctx, &elasticache.ModifyUserGroupInput{UserGroupId: aws.String("web"),
		UserIdsToAdd: []string{"my-default"}, UserIdsToRemove: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(mg.Status) != "modifying" || mg.PendingChanges == nil || !slices.Equal(mg.PendingChanges.UserIdsToAdd, []string{"my-default"}) {
		t.Fatalf("ModifyUserGroup = %+v", mg)
	}
	if got := describeUserGroup(t, c, "web"); aws.ToString(got.Status) != "active" || !slices.Equal(got.UserIds, []string{"app", "my-default"}) {
		t.Fatalf("after the swap = %+v", got)
	}
	_, err = c.ModifyUserGroup(ctx, &elasticache.ModifyUserGroupInput{UserGroupId: aws.String("web"), UserIdsToRemove: []string{"my-default"}})
	wantErr[*types.DefaultUserRequired](t, err, apiErr{status: 400, code: "DefaultUserRequired"})
	_, err = c.ModifyUserGroup(ctx, &elasticache.ModifyUserGroupInput{UserGroupId: aws.String("web"), UserIdsToAdd: []string{"default"}})
	wantErr[*types.DuplicateUserNameFault](t, err, apiErr{status: 400, code: "DuplicateUserName"})
	_, err = c.ModifyUserGroup(ctx, &elasticache.ModifyUserGroupInput{UserGroupId: aws.String("web"), UserIdsToAdd: []string{"nobody"}})
	wantErr[*types.UserNotFoundFault](t, err, apiErr{status: 404, code: "UserNotFound"})
	_, err = c.ModifyUserGroup(ctx, &elasticache.ModifyUserGroupInput{UserGroupId: aws.String("nobody"), UserIdsToAdd: []string{"app"}})
	wantErr[*types.UserGroupNotFoundFault](t, err, apiErr{status: 404, code: "UserGroupNotFound", msg: "UserGroup nobody not found."})
	_, err = c.ModifyUserGroup(ctx, &elasticache.ModifyUserGroupInput{UserGroupId: aws.String("web")})
	wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination", msg: "No modifications were requested."})
	_, err = c.DescribeUserGroups(ctx, &elasticache.DescribeUserGroupsInput{UserGroupId: aws.String("nobody")})
	wantErr[*types.UserGroupNotFoundFault](t, err, apiErr{status: 404, code: "UserGroupNotFound"})

	// The group's user named default cannot go; another user can, and
	// leaves the group.
	_, err = c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("my-default")})
	wantErr[*types.DefaultUserAssociatedToUserGroupFault](t, err, apiErr{status: 400, code: "DefaultUserAssociatedToUserGroup"})
	if _, err := c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if got := describeUserGroup(t, c, "web"); !slices.Equal(got.UserIds, []string{"my-default"}) {
		t.Fatalf("members after deleting app = %v", got.UserIds)
	}

	dg, err := c.DeleteUserGroup(ctx, &elasticache.DeleteUserGroupInput{UserGroupId: aws.String("web")})
	if err != nil || aws.ToString(dg.Status) != "deleting" {
		t.Fatalf("DeleteUserGroup = %+v, %v", dg, err)
	}
	_, err = c.DeleteUserGroup(ctx, &elasticache.DeleteUserGroupInput{UserGroupId: aws.String("web")})
	wantErr[*types.UserGroupNotFoundFault](t, err, apiErr{status: 404, code: "UserGroupNotFound", msg: "UserGroup web not found."})
}

// With a transition delay (and the test server's clock standing still),
// users and groups stay creating, and cannot be changed meanwhile.
func TestUserStates(t *testing.T) {
	t.Parallel()
	srv := startUsersServer(t, withUserTransitionDelay(time.Hour))
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()
	if _, err := createUser(t, c, "app", "app"); err != nil {
		t.Fatal(err)
	}
	if got := describeUser(t, c, "app"); aws.ToString(got.Status) != "creating" {
		t.Fatalf("status = %s, want creating", aws.ToString(got.Status))
	}
	_, err := c.ModifyUser(ctx, &elasticache.ModifyUserInput{UserId: aws.String("app"), AccessString: aws.String("off")})
	wantErr[*types.InvalidUserStateFault](t, err, apiErr{status: 400, code: "InvalidUserState", msg: "User app has status creating. Only active users can be modified."})
	_, err = c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("app")})
	wantErr[*types.InvalidUserStateFault](t, err, apiErr{status: 400, code: "InvalidUserState", msg: "User app has status creating. Only active users can be deleted."})
	if _, err := c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("g"), Engine: aws.String("redis"), UserIds: []string{"default"}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ModifyUserGroup(ctx, &elasticache.ModifyUserGroupInput{UserGroupId: aws.String("g"), UserIdsToAdd: []string{"app"}})
	wantErr[*types.InvalidUserGroupStateFault](t, err, apiErr{status: 400, code: "InvalidUserGroupState", msg: "User group g has status creating. Only active user groups can be modified."})
	_, err = c.DeleteUserGroup(ctx, &elasticache.DeleteUserGroupInput{UserGroupId: aws.String("g")})
	wantErr[*types.InvalidUserGroupStateFault](t, err, apiErr{status: 400, code: "InvalidUserGroupState"})
}

// Passwords appear nowhere: not in answers, not in the request journal, not
// in the state document (hashes only), not in the store's files.
func TestUserPasswordsStaySecret(t *testing.T) {
	t.Parallel()
	srv := startUsersServer(t, withAdmin(""))
	a := newAdmin(t, srv, "")
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()
	if _, err := createUser(t, c, "app", "app", func(in *elasticache.CreateUserInput) { in.Passwords = []string{userPassword1, userPassword2} }); err != nil {
		t.Fatal(err)
	}
	_, err := c.ModifyUser(ctx, &elasticache.ModifyUserInput{UserId: aws.String("app"),
		AuthenticationMode: &types.AuthenticationMode{Type: types.InputAuthenticationTypePassword, Passwords: []string{userPassword2}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = createUser(t, c, "short", "short", func(in *elasticache.CreateUserInput) { in.Passwords = []string{"short-secret"} })
	var ae smithy.APIError
	if !errors.As(err, &ae) || strings.Contains(ae.ErrorMessage(), "short-secret") {
		t.Fatalf("refused password: %v", err)
	}

	entries := a.requests("action=CreateUser", 2)
	for _, e := range entries {
		for k, v := range e.Parameters {
			if strings.HasPrefix(k, "Passwords.") && v != "(redacted)" {
				t.Errorf("journal %s = %q, want it redacted", k, v)
			}
		}
	}
	_, body := a.do(http.MethodGet, "/_admin/requests", "")
	_, state := a.do(http.MethodGet, "/_admin/state", "")
	for what, b := range map[string][]byte{"journal": body, "state document": state} {
		for _, pw := range []string{userPassword1, userPassword2, "short-secret"} {
			if strings.Contains(string(b), pw) {
				t.Errorf("the %s shows a password:\n%s", what, b)
			}
		}
	}
	if !strings.Contains(string(state), `"passwordHashes"`) {
		t.Errorf("state document without password hashes:\n%s", state)
	}
	// The store's own files (bbolt and its log) hold no password either.
	err = filepath.WalkDir(srv.DataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, pw := range []string{userPassword1, userPassword2} {
			if strings.Contains(string(b), pw) {
				t.Errorf("%s holds a password", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// userStatus is what Terraform's waiters see of a user: its status, or ""
// once DescribeUsers answers UserNotFound.
func userStatus(tb testing.TB, c *elasticache.Client, id string) string {
	tb.Helper()
	out, err := c.DescribeUsers(tb.Context(), &elasticache.DescribeUsersInput{UserId: aws.String(id)})
	var nf *types.UserNotFoundFault
	if errors.As(err, &nf) {
		return ""
	}
	if err != nil || len(out.Users) != 1 {
		tb.Fatalf("DescribeUsers %s = %+v, %v", id, out, err)
	}
	return aws.ToString(out.Users[0].Status)
}

// userGroupStatus is userStatus for user groups.
func userGroupStatus(tb testing.TB, c *elasticache.Client, id string) string {
	tb.Helper()
	out, err := c.DescribeUserGroups(tb.Context(), &elasticache.DescribeUserGroupsInput{UserGroupId: aws.String(id)})
	var nf *types.UserGroupNotFoundFault
	if errors.As(err, &nf) {
		return ""
	}
	if err != nil || len(out.UserGroups) != 1 {
		tb.Fatalf("DescribeUserGroups %s = %+v, %v", id, out, err)
	}
	return aws.ToString(out.UserGroups[0].Status)
}

// With --user-transition-delay, a deleted user and a deleted user group
// stay deleting until the delay has passed on the server's clock, which
// is what Terraform's delete waiters (pending deleting, target gone) wait
// through; meanwhile they refuse every change and keep their IDs and
// places in the quota, and then they are gone everywhere.
func TestUserDeletionWithDelay(t *testing.T) {
	t.Parallel()
	const delay = time.Minute
	clock := newFakeClock(clockStart)
	srv := startUsersServerClock(t, clock, withUserTransitionDelay(delay), withAdmin(""))
	a := newAdmin(t, srv, "")
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()
	if _, err := createUser(t, c, "app", "app", func(in *elasticache.CreateUserInput) { in.Tags = []types.Tag{tag("env", "old")} }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("g"), Engine: aws.String("redis"),
		UserIds: []string{"default", "app"}, Tags: []types.Tag{tag("team", "core")}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(delay)

	du, err := c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("app")})
	if err != nil || aws.ToString(du.Status) != "deleting" || !slices.Equal(du.UserGroupIds, []string{"g"}) {
		t.Fatalf("DeleteUser = %+v, %v", du, err)
	}
	clock.Advance(delay / 2)
	if got := describeUser(t, c, "app"); aws.ToString(got.Status) != "deleting" || len(got.UserGroupIds) != 0 {
		t.Fatalf("user while deleting = %+v", got)
	}
	if got := describeUserGroup(t, c, "g"); !slices.Equal(got.UserIds, []string{"default"}) {
		t.Fatalf("members while app is deleting = %v", got.UserIds)
	}
	_, err = c.ModifyUser(ctx, &elasticache.ModifyUserInput{UserId: aws.String("app"), AccessString: aws.String("off")})
	wantErr[*types.InvalidUserStateFault](t, err, apiErr{status: 400, code: "InvalidUserState", msg: "User app has status deleting. Only active users can be modified."})
	_, err = c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("app")})
	wantErr[*types.InvalidUserStateFault](t, err, apiErr{status: 400, code: "InvalidUserState", msg: "User app has status deleting. Only active users can be deleted."})
	_, err = createUser(t, c, "app", "app")
	wantErr[*types.UserAlreadyExistsFault](t, err, apiErr{status: 400, code: "UserAlreadyExists", msg: "User app already exists."})
	_, err = c.ModifyUserGroup(ctx, &elasticache.ModifyUserGroupInput{UserGroupId: aws.String("g"), UserIdsToAdd: []string{"app"}})
	wantErr[*types.InvalidParameterValueException](t, err, invalidValueExact("User app is being deleted."))
	tl, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(userARN("app"))})
	if err != nil || len(tl.TagList) != 0 {
		t.Fatalf("tags of the deleting user = %+v, %v", tl, err)
	}

	dg, err := c.DeleteUserGroup(ctx, &elasticache.DeleteUserGroupInput{UserGroupId: aws.String("g")})
	if err != nil || aws.ToString(dg.Status) != "deleting" {
		t.Fatalf("DeleteUserGroup = %+v, %v", dg, err)
	}
	_, err = c.DeleteUserGroup(ctx, &elasticache.DeleteUserGroupInput{UserGroupId: aws.String("g")})
	wantErr[*types.InvalidUserGroupStateFault](t, err, apiErr{status: 400, code: "InvalidUserGroupState", msg: "User group g has status deleting. Only active user groups can be deleted."})
	_, err = c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("h"), Engine: aws.String("redis"), UserIds: []string{"default"}})
	wantErr[*types.UserGroupQuotaExceededFault](t, err, apiErr{status: 400, code: "UserGroupQuotaExceeded"})
	_, state := a.do(http.MethodGet, "/_admin/state", "")
	if !strings.Contains(string(state), `"deleted": "`+clockStart.Add(2*delay).Format(time.RFC3339)+`"`) {
		t.Fatalf("the state document does not say when app's deletion completes:\n%s", state)
	}

	// As Terraform's waiters poll: deleting until the delay has passed,
	// then gone, never anything else.
	var users, groups []string
	for range 4 {
		users = append(users, userStatus(t, c, "app"))
		groups = append(groups, userGroupStatus(t, c, "g"))
		clock.Advance(delay / 4)
	}
	users, groups = append(users, userStatus(t, c, "app")), append(groups, userGroupStatus(t, c, "g"))
	if want := []string{"deleting", "deleting", "", "", ""}; !slices.Equal(users, want) {
		t.Fatalf("user statuses = %q, want %q", users, want)
	}
	if want := []string{"deleting", "deleting", "deleting", "deleting", ""}; !slices.Equal(groups, want) {
		t.Fatalf("group statuses = %q, want %q", groups, want)
	}

	// Gone everywhere: changes, tags, the state document; the ID and the
	// place in the quota are free.
	_, err = c.ModifyUser(ctx, &elasticache.ModifyUserInput{UserId: aws.String("app"), AccessString: aws.String("off")})
	wantErr[*types.UserNotFoundFault](t, err, apiErr{status: 404, code: "UserNotFound", msg: "User app not found."})
	_, err = c.DeleteUserGroup(ctx, &elasticache.DeleteUserGroupInput{UserGroupId: aws.String("g")})
	wantErr[*types.UserGroupNotFoundFault](t, err, apiErr{status: 404, code: "UserGroupNotFound", msg: "UserGroup g not found."})
	for _, arn := range []string{userARN("app"), userGroupARN("g")} {
		tl, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
		var nf *types.UserNotFoundFault
		var gnf *types.UserGroupNotFoundFault
		if !errors.As(err, &nf) && !errors.As(err, &gnf) && (err != nil || len(tl.TagList) != 0) {
			t.Fatalf("tags of the deleted %s = %+v, %v", arn, tl, err)
		}
	}
	if _, err := c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("h"), Engine: aws.String("redis"), UserIds: []string{"default"}}); err != nil {
		t.Fatal(err)
	}
	again, err := createUser(t, c, "app", "app")
	if err != nil || aws.ToString(again.Status) != "creating" {
		t.Fatalf("CreateUser app again = %+v, %v", again, err)
	}
	_, state = a.do(http.MethodGet, "/_admin/state", "")
	if strings.Contains(string(state), `"deleted"`) || strings.Contains(string(state), `"name": "g"`) {
		t.Fatalf("the state document still has what was deleted:\n%s", state)
	}
}
