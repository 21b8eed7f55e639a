package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/api"
)

// The rules of user groups; what every kind shares is TestKindConformance's.

func createUserGroup(f *fixture, ctx context.Context, id, engine string, members ...string) (*api.CreateUserGroupOutput, error) {
	return f.svc.CreateUserGroup(ctx, &api.CreateUserGroupInput{UserGroupId: s(id), Engine: s(engine), UserIds: members})
}

func describeUserGroup(tb testing.TB, f *fixture, id string) api.UserGroup {
	tb.Helper()
	out, err := f.svc.DescribeUserGroups(ctxA, &api.DescribeUserGroupsInput{UserGroupId: s(id)})
	mustOK(tb, err)
	return out.UserGroups[0]
}

func TestCreateUserGroupShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := createUser(f, ctxA, "app", "app")
	mustOK(t, err)
	out, err := createUserGroup(f, ctxA, "Web", "REDIS", "app", "DEFAULT", "app")
	mustOK(t, err)
	if *out.UserGroupId != "web" || *out.Engine != "redis" || *out.Status != "creating" || *out.MinimumEngineVersion != "6.0" ||
		*out.ARN != "arn:aws:elasticache:us-east-1:111111111111:usergroup:web" || !slices.Equal(out.UserIds, []string{"app", "default"}) ||
		out.ReplicationGroups == nil || len(out.ReplicationGroups) != 0 || out.ServerlessCaches == nil || out.PendingChanges != nil {
		t.Fatalf("created group = %+v", out)
	}
	if g := describeUserGroup(t, f, "web"); *g.Status != "active" {
		t.Fatalf("status = %s", *g.Status)
	}
	// Users show the groups that hold them.
	if u := describeUser(t, f, ctxA, "app"); !slices.Equal(u.UserGroupIds, []string{"web"}) {
		t.Fatalf("groups of app = %v", u.UserGroupIds)
	}
	if u := describeUser(t, f, ctxA, "default"); !slices.Equal(u.UserGroupIds, []string{"web"}) {
		t.Fatalf("groups of default = %v", u.UserGroupIds)
	}
	_, err = createUserGroup(f, ctxA, "web", "redis", "default")
	wantFault(t, err, "UserGroupAlreadyExists", 400, "User group web already exists.")
}

func TestUserGroupMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := createUser(f, ctxA, "app", "app")
	mustOK(t, err)
	_, err = createUser(f, ctxA, "my-default", "default")
	mustOK(t, err)
	_, err = createUser(f, ctxA, "open", "open", func(in *api.CreateUserInput) { in.Passwords, in.NoPasswordRequired = nil, ptr(true) })
	mustOK(t, err)

	_, err = createUserGroup(f, ctxA, "g", "redis")
	wantFault(t, err, "DefaultUserRequired", 400, "User group needs to contain a user with the user name default.")
	_, err = createUserGroup(f, ctxA, "g", "redis", "app")
	wantFault(t, err, "DefaultUserRequired", 400, "")
	_, err = createUserGroup(f, ctxA, "g", "redis", "default", "nobody")
	wantFault(t, err, "UserNotFound", 404, "User nobody not found.")
	_, err = createUserGroup(f, ctxA, "g", "redis", "default", "my-default")
	wantFault(t, err, "DuplicateUserName", 400, "")
	_, err = createUserGroup(f, ctxA, "g", "redis", "default", "bad_id")
	wantFault(t, err, "InvalidParameterValue", 400, "Invalid value for parameter UserIds: must contain only ASCII letters, digits and hyphens.")
	_, err = createUserGroup(f, ctxA, "g", "memcached", "default")
	wantFault(t, err, "InvalidParameterValue", 400, "Invalid value for parameter Engine: must be redis or valkey.")
	// A valkey group holds only users that authenticate: not AWS's default.
	_, err = createUserGroup(f, ctxA, "vk", "valkey", "default")
	wantFault(t, err, "InvalidParameterValue", 400, "No password user default cannot be added to user group with engine Valkey")
	_, err = createUserGroup(f, ctxA, "vk", "valkey", "my-default", "app")
	mustOK(t, err)
	// Nothing refused was stored.
	out, err := f.svc.DescribeUserGroups(ctxA, &api.DescribeUserGroupsInput{})
	mustOK(t, err)
	if len(out.UserGroups) != 1 {
		t.Fatalf("groups = %d, want 1", len(out.UserGroups))
	}
	// A user of a valkey group keeps a password.
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("app"), NoPasswordRequired: ptr(true)})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "valkey")
}

func TestUserGroupSize(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	members := []string{"default"}
	for i := range maxUsersPerGroup {
		id := fmt.Sprintf("u%03d", i)
		_, err := createUser(f, ctxA, id, id)
		mustOK(t, err)
		members = append(members, id)
	}
	_, err := createUserGroup(f, ctxA, "big", "redis", members...)
	wantFault(t, err, "UserGroupQuotaExceeded", 400, "The number of users exceeds the user group limit.")
	_, err = createUserGroup(f, ctxA, "big", "redis", members[:maxUsersPerGroup]...)
	mustOK(t, err)
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("big"), UserIdsToAdd: members[maxUsersPerGroup:]})
	wantFault(t, err, "UserGroupQuotaExceeded", 400, "")
}

func TestModifyUserGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	for _, u := range []struct{ id, name string }{{"app", "app"}, {"ops", "ops"}, {"my-default", "default"}} {
		_, err := createUser(f, ctxA, u.id, u.name)
		mustOK(t, err)
	}
	_, err := createUserGroup(f, ctxA, "g", "redis", "default", "app")
	mustOK(t, err)
	f.clock.Advance(time.Second)

	// Swap the default user for the account's own, add one, remove one.
	out, err := f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("G"),
		UserIdsToAdd: []string{"my-default", "ops"}, UserIdsToRemove: []string{"default", "app"}})
	mustOK(t, err)
	if *out.Status != "modifying" || !slices.Equal(out.UserIds, []string{"my-default", "ops"}) || out.PendingChanges == nil ||
		!slices.Equal(out.PendingChanges.UserIdsToAdd, []string{"my-default", "ops"}) || !slices.Equal(out.PendingChanges.UserIdsToRemove, []string{"app", "default"}) {
		t.Fatalf("modified = %+v, pending %+v", out, out.PendingChanges)
	}
	if g := describeUserGroup(t, f, "g"); *g.Status != "active" || g.PendingChanges != nil {
		t.Fatalf("after modify = %+v", g)
	}
	if u := describeUser(t, f, ctxA, "default"); len(u.UserGroupIds) != 0 {
		t.Fatalf("default still in %v", u.UserGroupIds)
	}

	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToRemove: []string{"my-default"}})
	wantFault(t, err, "DefaultUserRequired", 400, "")
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToAdd: []string{"default"}})
	wantFault(t, err, "DuplicateUserName", 400, "")
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToRemove: []string{"app"}})
	wantFault(t, err, "InvalidParameterValue", 400, "User app is not a member of user group g.")
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToAdd: []string{"app"}, UserIdsToRemove: []string{"app"}})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g")})
	wantFault(t, err, "InvalidParameterCombination", 400, "No modifications were requested.")
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToAdd: []string{"nobody"}})
	wantFault(t, err, "UserNotFound", 404, "User nobody not found.")
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("nobody"), UserIdsToAdd: []string{"app"}})
	wantFault(t, err, "UserGroupNotFound", 404, "UserGroup nobody not found.")
	// Its members all authenticate: it may become valkey.
	out, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), Engine: s("valkey")})
	mustOK(t, err)
	if *out.Engine != "valkey" || *out.MinimumEngineVersion != "7.2" {
		t.Fatalf("engine change = %+v", out)
	}
}

// Deleting a user takes it out of its groups; a group's only user named
// default cannot go.
func TestDeleteUserInGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := createUser(f, ctxA, "app", "app")
	mustOK(t, err)
	_, err = createUser(f, ctxA, "my-default", "default")
	mustOK(t, err)
	_, err = createUserGroup(f, ctxA, "a", "redis", "default", "app")
	mustOK(t, err)
	_, err = createUserGroup(f, ctxA, "b", "redis", "my-default", "app")
	mustOK(t, err)
	out, err := f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("app")})
	mustOK(t, err)
	if *out.Status != "deleting" || !slices.Equal(out.UserGroupIds, []string{"a", "b"}) {
		t.Fatalf("delete answer = %+v", out)
	}
	for _, g := range []string{"a", "b"} {
		if ug := describeUserGroup(t, f, g); slices.Contains(ug.UserIds, "app") {
			t.Fatalf("group %s still holds app: %v", g, ug.UserIds)
		}
	}
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("my-default")})
	wantFault(t, err, "DefaultUserAssociatedToUserGroup", 400, "User my-default is the default user of user group b.")
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("nobody")})
	wantFault(t, err, "UserNotFound", 404, "User nobody not found.")
	// Once no group holds it, it can go.
	dg, err := f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("b")})
	mustOK(t, err)
	if *dg.Status != "deleting" {
		t.Fatalf("delete group answer = %+v", dg)
	}
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("my-default")})
	mustOK(t, err)
	_, err = f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("b")})
	wantFault(t, err, "UserGroupNotFound", 404, "UserGroup b not found.")
}

func TestUserGroupStatusWithDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{UserTransitionDelay: time.Minute})
	_, err := createUserGroup(f, ctxA, "g", "redis", "default")
	mustOK(t, err)
	if g := describeUserGroup(t, f, "g"); *g.Status != "creating" {
		t.Fatalf("status = %s", *g.Status)
	}
	_, err = f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("g")})
	wantFault(t, err, "InvalidUserGroupState", 400, "User group g has status creating. Only active user groups can be deleted.")
	f.clock.Advance(time.Minute)
	_, err = createUser(f, ctxA, "app", "app")
	mustOK(t, err)
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToAdd: []string{"app"}})
	mustOK(t, err)
	g := describeUserGroup(t, f, "g")
	if *g.Status != "modifying" || g.PendingChanges == nil || !slices.Equal(g.PendingChanges.UserIdsToAdd, []string{"app"}) || len(g.PendingChanges.UserIdsToRemove) != 0 {
		t.Fatalf("while modifying = %+v", g)
	}
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToRemove: []string{"app"}})
	wantFault(t, err, "InvalidUserGroupState", 400, "")
	f.clock.Advance(time.Minute)
	if g := describeUserGroup(t, f, "g"); *g.Status != "active" || g.PendingChanges != nil {
		t.Fatalf("after the delay = %+v", g)
	}
	// The state document keeps the timestamps; an import shows the same.
	doc := mustExport(t, f)
	_, err = f.svc.ImportState(context.Background(), doc, ImportOptions{})
	mustOK(t, err)
	if again := mustExport(t, f); string(again) != string(doc) {
		t.Fatalf("export after import differs:\n%s\n%s", doc, again)
	}
}

// An imported group's members are users of its region, with the API's
// member rules; a user's password hashes are checked too.
func TestImportChecksUserGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	doc := `{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [{
	  "region": "us-east-1",
	  "users": [
	    {"name": "app", "userName": "app", "engine": "redis", "accessString": "on ~* +@all", "authType": "no-password", "passwordHashes": []},
	    {"name": "my-default", "userName": "default", "engine": "redis", "accessString": "on ~* +@all", "authType": "password",
	     "passwordHashes": ["` + passwordHash(pw1) + `"]}
	  ],
	  "userGroups": [
	    {"name": "ghost", "engine": "redis", "userIds": ["default", "nobody"]},
	    {"name": "no-default", "engine": "redis", "userIds": ["app"]},
	    {"name": "twice", "engine": "redis", "userIds": ["default", "my-default"]},
	    {"name": "vk", "engine": "valkey", "userIds": ["my-default", "app"]},
	    {"name": "fine", "engine": "valkey", "userIds": ["my-default"]}
	  ]}]}]}`
	_, err := f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{})
	var bad *InvalidStateError
	if !errors.As(err, &bad) {
		t.Fatalf("import = %v, want an InvalidStateError", err)
	}
	want := []Problem{
		{Path: "$.accounts[0].regions[0].userGroups[0].userIds", Message: "user nobody is not a user of this region"},
		{Path: "$.accounts[0].regions[0].userGroups[1].userIds", Message: "User group needs to contain a user with the user name default."},
		{Path: "$.accounts[0].regions[0].userGroups[2].userIds", Message: "Users default and my-default have the same user name default; a user group holds one user of each name."},
		{Path: "$.accounts[0].regions[0].userGroups[3].userIds", Message: "No password user app cannot be added to user group with engine Valkey"},
	}
	if d := cmp.Diff(want, bad.Problems); d != "" {
		t.Fatalf("problems (-want +got):\n%s", d)
	}
	// A bad hash is refused; the rest of the region is then not cross-checked.
	doc = strings.Replace(doc, passwordHash(pw1), "not-a-hash", 1)
	_, err = f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{})
	if !errors.As(err, &bad) || len(bad.Problems) != 1 || bad.Problems[0].Path != "$.accounts[0].regions[0].users[1].passwordHashes[0]" {
		t.Fatalf("import with a bad hash = %v", err)
	}
}

// listedUserGroups is every group DescribeUserGroups lists, by ID.
func listedUserGroups(tb testing.TB, f *fixture) []string {
	tb.Helper()
	out, err := f.svc.DescribeUserGroups(ctxA, &api.DescribeUserGroupsInput{})
	mustOK(tb, err)
	var ids []string
	for _, g := range out.UserGroups {
		ids = append(ids, *g.UserGroupId)
	}
	return ids
}

// With a transition delay, a deleted group stays, deleting, until the
// delay has passed: it keeps its ID, its place in the quota and its users,
// refuses every change, and has no tags; an export and import keep it
// deleting. From then on it is gone to every reader and holds no one, and
// the next create that needs its ID or its place removes it.
func TestDeleteUserGroupWithDelay(t *testing.T) {
	t.Parallel()
	const delay = time.Minute
	f := newFixture(t, Config{UserTransitionDelay: delay, Quotas: map[string]int{fieldUserGroups: 2}})
	gARN := arn(scope{Account: "111111111111", Region: "us-east-1"}, userGroupKind, "g")
	_, err := createUser(f, ctxA, "my-default", "default")
	mustOK(t, err)
	_, err = f.svc.CreateUserGroup(ctxA, &api.CreateUserGroupInput{UserGroupId: s("g"), Engine: s("redis"), UserIds: []string{"my-default"},
		Tags: []api.Tag{{Key: s("old"), Value: s("v")}}})
	mustOK(t, err)
	_, err = createUserGroup(f, ctxA, "h", "redis", "default")
	mustOK(t, err)
	f.clock.Advance(delay)

	out, err := f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("g")})
	mustOK(t, err)
	if *out.Status != "deleting" || !slices.Equal(out.UserIds, []string{"my-default"}) {
		t.Fatalf("delete answer = %+v", out)
	}

	// Deleting, to the last instant of the delay.
	f.clock.Advance(delay - time.Nanosecond)
	if g := describeUserGroup(t, f, "g"); *g.Status != "deleting" || !slices.Equal(g.UserIds, []string{"my-default"}) || g.PendingChanges != nil {
		t.Fatalf("while deleting = %+v", g)
	}
	if got := listedUserGroups(t, f); !slices.Equal(got, []string{"g", "h"}) {
		t.Fatalf("listed while deleting = %v", got)
	}
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToAdd: []string{"default"}})
	wantFault(t, err, "InvalidUserGroupState", 400, "User group g has status deleting. Only active user groups can be modified.")
	_, err = f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("g")})
	wantFault(t, err, "InvalidUserGroupState", 400, "User group g has status deleting. Only active user groups can be deleted.")
	_, err = createUserGroup(f, ctxA, "g", "redis", "default")
	wantFault(t, err, "UserGroupAlreadyExists", 400, "User group g already exists.")
	_, err = createUserGroup(f, ctxA, "k", "redis", "default")
	wantFault(t, err, "UserGroupQuotaExceeded", 400, "Quota exceeded for user groups.")
	// A group being deleted still holds its users.
	if u := describeUser(t, f, ctxA, "my-default"); !slices.Equal(u.UserGroupIds, []string{"g"}) {
		t.Fatalf("groups of my-default while g is deleting = %v", u.UserGroupIds)
	}
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("my-default")})
	wantFault(t, err, "DefaultUserAssociatedToUserGroup", 400, "User my-default is the default user of user group g.")
	wantNoOldTags(t, f, gARN, "UserGroupNotFound")
	// The state document keeps it deleting.
	doc := mustExport(t, f)
	if !strings.Contains(string(doc), `"deleted": "`) {
		t.Fatalf("the export does not say when g's deletion completes:\n%s", doc)
	}
	_, err = f.svc.ImportState(context.Background(), doc, ImportOptions{})
	mustOK(t, err)
	if again := mustExport(t, f); string(again) != string(doc) {
		t.Fatalf("export after import differs:\n%s\n%s", doc, again)
	}
	if g := describeUserGroup(t, f, "g"); *g.Status != "deleting" {
		t.Fatalf("after import = %+v", g)
	}

	// Gone.
	f.clock.Advance(time.Nanosecond)
	_, err = f.svc.DescribeUserGroups(ctxA, &api.DescribeUserGroupsInput{UserGroupId: s("g")})
	wantFault(t, err, "UserGroupNotFound", 404, "UserGroup g not found.")
	if got := listedUserGroups(t, f); !slices.Equal(got, []string{"h"}) {
		t.Fatalf("listed once gone = %v", got)
	}
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("g"), UserIdsToAdd: []string{"default"}})
	wantFault(t, err, "UserGroupNotFound", 404, "UserGroup g not found.")
	_, err = f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("g")})
	wantFault(t, err, "UserGroupNotFound", 404, "UserGroup g not found.")
	_, err = f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(gARN)})
	wantFault(t, err, "UserGroupNotFound", 404, "UserGroup g not found.")
	if u := describeUser(t, f, ctxA, "my-default"); len(u.UserGroupIds) != 0 {
		t.Fatalf("groups of my-default once g is gone = %v", u.UserGroupIds)
	}
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("my-default")})
	mustOK(t, err)

	// The quota has room again, and the ID is free: each create removes
	// what it needs.
	_, err = createUserGroup(f, ctxA, "k", "redis", "default")
	mustOK(t, err)
	_, err = createUserGroup(f, ctxA, "g", "redis", "default")
	wantFault(t, err, "UserGroupQuotaExceeded", 400, "")
	_, err = f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("h")})
	mustOK(t, err)
	f.clock.Advance(delay)
	_, err = f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("k")})
	mustOK(t, err)
	f.clock.Advance(delay)
	// Both are gone; removing one of them is room enough.
	g, err := createUserGroup(f, ctxA, "g", "redis", "default")
	mustOK(t, err)
	if *g.Status != "creating" || !slices.Equal(g.UserIds, []string{"default"}) {
		t.Fatalf("created again = %+v", g)
	}
	if keys, err := tagKeysOf(f, gARN); err != nil || len(keys) != 0 {
		t.Fatalf("tags of the new g = %v, %v", keys, err)
	}
	if got := listedUserGroups(t, f); !slices.Equal(got, []string{"g"}) {
		t.Fatalf("listed at the end = %v", got)
	}
}

// An imported document's times of deletion follow the others, and no
// group holds a user being deleted, as the API never leaves one there.
func TestImportChecksDeletions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	doc := `{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [{
	  "region": "us-east-1",
	  "users": [
	    {"name": "app", "userName": "app", "engine": "redis", "accessString": "on ~* +@all", "authType": "no-password", "passwordHashes": [],
	     "created": "2026-01-02T00:00:00Z", "deleted": "2026-01-03T00:00:00Z"},
	    {"name": "early", "userName": "early", "engine": "redis", "accessString": "on ~* +@all", "authType": "no-password", "passwordHashes": [],
	     "created": "2026-01-02T00:00:00Z", "deleted": "2026-01-01T00:00:00Z"}
	  ],
	  "userGroups": [
	    {"name": "g", "engine": "redis", "userIds": ["app", "default"]},
	    {"name": "h", "engine": "redis", "userIds": ["default"], "created": "2026-01-02T00:00:00Z", "modified": "2026-01-04T00:00:00Z",
	     "deleted": "2026-01-03T00:00:00Z"}
	  ]}]}]}`
	_, err := f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{})
	var bad *InvalidStateError
	if !errors.As(err, &bad) {
		t.Fatalf("import = %v, want an InvalidStateError", err)
	}
	want := []Problem{
		{Path: "$.accounts[0].regions[0].users[1].deleted", Message: "must not be before created"},
		{Path: "$.accounts[0].regions[0].userGroups[1].deleted", Message: "must not be before modified"},
	}
	if d := cmp.Diff(want, bad.Problems); d != "" {
		t.Fatalf("problems (-want +got):\n%s", d)
	}
	// With the times right, the member being deleted is what is wrong.
	doc = strings.Replace(doc, `"deleted": "2026-01-01T00:00:00Z"`, `"deleted": "2026-01-03T00:00:00Z"`, 1)
	doc = strings.Replace(doc, `"modified": "2026-01-04T00:00:00Z"`, `"modified": "2026-01-02T12:00:00Z"`, 1)
	_, err = f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{})
	if !errors.As(err, &bad) {
		t.Fatalf("import = %v, want an InvalidStateError", err)
	}
	want = []Problem{{Path: "$.accounts[0].regions[0].userGroups[0].userIds", Message: "user app is being deleted"}}
	if d := cmp.Diff(want, bad.Problems); d != "" {
		t.Fatalf("problems (-want +got):\n%s", d)
	}
	// Without that member it imports; the clock is past every deletion, so
	// nothing of it shows.
	doc = strings.Replace(doc, `"userIds": ["app", "default"]`, `"userIds": ["default"]`, 1)
	_, err = f.svc.ImportState(context.Background(), []byte(doc), ImportOptions{})
	mustOK(t, err)
	if got := listedUsers(t, f); !slices.Equal(got, []string{"default"}) {
		t.Fatalf("users after import = %v", got)
	}
	if got := listedUserGroups(t, f); !slices.Equal(got, []string{"g"}) {
		t.Fatalf("groups after import = %v", got)
	}
}
