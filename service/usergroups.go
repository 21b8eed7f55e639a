package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// User groups: the users a cache lets in. Every group holds a user named
// `default` (AWS's `default` user or one of the account's own), and no two
// users of one name; a valkey group only users that authenticate.

const (
	fieldUserGroups      = "userGroups"
	opDescribeUserGroups = "DescribeUserGroups"
	paramUserGroupID     = "UserGroupId"
	// maxUsersPerGroup is how many users one group holds.
	maxUsersPerGroup = 100
)

func userGroupNotFound(id string) error {
	return &api.UserGroupNotFoundFault{Message: fmt.Sprintf("UserGroup %s not found.", id)}
}

// userGroupKind declares user groups to the schema layer.
var userGroupKind = &kindDecl{
	Name:         "user-group",
	Noun:         "user group",
	Segment:      "usg",
	ARNType:      "usergroup",
	Field:        fieldUserGroups,
	DefaultQuota: 100,
	NotFound:     userGroupNotFound,
	Gone:         func(r schema.Record, now time.Time) bool { return r.(*userGroupRecord).goneAt(now) },
	ValidName:    func(n string) (string, error) { return stateName(rbacID("name", &n)) },
	State:        schema.Section{Export: exportUserGroup, Parse: parseUserGroup, Check: checkUserGroups},
}

// userGroups is the table of user groups.
var userGroups = schema.NewTable[userGroupRecord](userGroupKind, nil)

// userGroupRecord is a stored user group.
type userGroupRecord struct {
	schema.Meta
	ID     string `json:"id"`
	Engine string `json:"engine"`
	// UserIDs are its members, sorted: what it holds now, pending changes
	// included.
	UserIDs []string  `json:"userIds"`
	Created time.Time `json:"created"`
	// Modified is when a ModifyUserGroup last changed it, and
	// PendingAdd/PendingRemove what that change was: shown as
	// PendingChanges while the group is modifying.
	Modified      *time.Time `json:"modified,omitempty"`
	PendingAdd    []string   `json:"pendingAdd,omitempty"`
	PendingRemove []string   `json:"pendingRemove,omitempty"`
	// Deleted, when set, is when the group's deletion completes: it is
	// deleting until then and gone from then on (goneAt).
	Deleted *time.Time `json:"deleted,omitempty"`
}

// RecordName is the group's ID.
func (r *userGroupRecord) RecordName() string { return r.ID }

// goneAt reports whether the group's deletion has completed at now; as
// for users (userRecord.goneAt), it is then absent to every reader.
func (r *userGroupRecord) goneAt(now time.Time) bool { return deletionDone(r.Deleted, now) }

// rgsByUserGroup lists, by user group, the replication groups of sc that use
// it, in ID order (serverless caches do not exist yet): what
// DescribeUserGroups answers as ReplicationGroups, and why DeleteUserGroup
// refuses a group in use (InvalidUserGroupState), as AWS does.
func rgsByUserGroup(tx storage.Tx, sc scope) (map[string][]string, error) {
	all, err := replicationGroups.All(tx, sc)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, g := range all {
		for _, ug := range g.UserGroupIDs {
			out[ug] = append(out[ug], g.ID)
		}
	}
	return out, nil
}

// renderUserGroup shows a group as AWS does. status, when not "", is the
// status of the answer to a change.
func (s *ElastiCache) renderUserGroup(sc scope, r *userGroupRecord, now time.Time, status string, rgs []string) api.UserGroup {
	if status == "" {
		status = s.rbacStatus(r.Created, r.Modified, r.Deleted, now)
	}
	var caches []string
	g := api.UserGroup{
		ARN:                  ptr(arn(sc, userGroupKind, r.ID)),
		Engine:               ptr(r.Engine),
		MinimumEngineVersion: ptr(minimumEngineVersion(r.Engine)),
		ReplicationGroups:    append([]string{}, rgs...),
		ServerlessCaches:     append([]string{}, caches...),
		Status:               ptr(status),
		UserGroupId:          ptr(r.ID),
		UserIds:              append([]string{}, r.UserIDs...),
	}
	if status == statusModifying {
		g.PendingChanges = &api.UserGroupPendingChanges{
			UserIdsToAdd:    append([]string{}, r.PendingAdd...),
			UserIdsToRemove: append([]string{}, r.PendingRemove...),
		}
	}
	return g
}

// userIDList validates a list of user IDs (param names it) and returns
// their stored forms, sorted, each once.
func userIDList(param string, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, raw := range ids {
		id, err := rbacID(param, &raw)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// userBeingDeleted refuses a user that is deleting as a member: DeleteUser
// has taken it out of every group, and it would be gone from this one
// too. The model lists no InvalidUserState for the group operations.
func userBeingDeleted(id string) error {
	return api.InvalidParameterValue(fmt.Sprintf("User %s is being deleted.", id))
}

func tooManyUsers() error {
	return &api.UserGroupQuotaExceededFault{Message: "The number of users exceeds the user group limit."}
}

// checkMembers applies the rules of a group's members, read in tx at now:
// each exists and is not being deleted, and memberRules.
func checkMembers(tx storage.Tx, sc scope, engine string, ids []string, now time.Time) (fault, err error) {
	if len(ids) > maxUsersPerGroup {
		return tooManyUsers(), nil
	}
	members := make([]*userRecord, 0, len(ids))
	for _, id := range ids {
		u, err := users.Get(tx, sc, id)
		if err != nil || u == nil || u.goneAt(now) {
			return userNotFound(id), err
		}
		if u.Deleted != nil {
			return userBeingDeleted(id), nil
		}
		members = append(members, u)
	}
	return memberRules(engine, members), nil
}

// memberRules are the rules of a group's users: no two share a user name,
// one is named `default`, and a valkey group holds only users that
// authenticate.
func memberRules(engine string, members []*userRecord) error {
	byName := map[string]string{}
	for _, u := range members {
		if other, dup := byName[u.UserName]; dup {
			return &api.DuplicateUserNameFault{Message: fmt.Sprintf("Users %s and %s have the same user name %s; a user group holds one user of each name.", other, u.ID, u.UserName)}
		}
		byName[u.UserName] = u.ID
		if engine == engineValkey && u.AuthType == authNoPassword {
			return api.InvalidParameterValue(fmt.Sprintf("No password user %s cannot be added to user group with engine Valkey", u.ID))
		}
	}
	if _, ok := byName[defaultUserName]; !ok {
		return &api.DefaultUserRequired{Message: "User group needs to contain a user with the user name default."}
	}
	return nil
}

// CreateUserGroup creates a user group of existing users, with its tags,
// in one transaction. The answer shows it creating.
func (s *ElastiCache) CreateUserGroup(ctx context.Context, in *api.CreateUserGroupInput) (*api.CreateUserGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rbacID(paramUserGroupID, in.UserGroupId)
	if err != nil {
		return nil, err
	}
	engine, err := engineParam("Engine", in.Engine)
	if err != nil {
		return nil, err
	}
	members, err := userIDList("UserIds", in.UserIds)
	if err != nil {
		return nil, err
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	rec := &userGroupRecord{ID: id, Engine: engine, UserIDs: members, Created: now}
	err = createLive(ctx, s, sc, userGroups, rec, tags, func() error {
		return &api.UserGroupAlreadyExistsFault{Message: fmt.Sprintf("User group %s already exists.", id)}
	}, func() error {
		return &api.UserGroupQuotaExceededFault{Message: "Quota exceeded for user groups."}
	}, func(tx storage.Tx) (error, error) {
		return checkMembers(tx, sc, engine, members, now)
	}, "User group created")
	if err != nil {
		return nil, err
	}
	g := s.renderUserGroup(sc, rec, now, statusCreating, nil)
	return (*api.CreateUserGroupOutput)(&g), nil
}

// DescribeUserGroups returns one group by ID, or a page of the caller's
// groups in ID order.
func (s *ElastiCache) DescribeUserGroups(ctx context.Context, in *api.DescribeUserGroupsInput) (*api.DescribeUserGroupsOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	var id string
	if in.UserGroupId != nil {
		if id, err = rbacID(paramUserGroupID, in.UserGroupId); err != nil {
			return nil, err
		}
	}
	pg, err := s.pageRequest(opDescribeUserGroups, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	var used map[string][]string
	recs, marker, err := describeWith(ctx, s, sc, userGroups, in.UserGroupId != nil, id, pg, func(tx storage.Tx) error {
		var err error
		used, err = rgsByUserGroup(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := &api.DescribeUserGroupsOutput{UserGroups: make([]api.UserGroup, 0, len(recs)), Marker: marker}
	for _, r := range recs {
		if !r.goneAt(now) {
			out.UserGroups = append(out.UserGroups, s.renderUserGroup(sc, r, now, "", used[r.ID]))
		}
	}
	if in.UserGroupId != nil && len(out.UserGroups) == 0 {
		return nil, userGroupNotFound(id)
	}
	return out, nil
}

// ModifyUserGroup adds and removes users, or changes the engine. The
// answer shows the group modifying, with the change as PendingChanges; a
// group that is not active cannot be changed.
func (s *ElastiCache) ModifyUserGroup(ctx context.Context, in *api.ModifyUserGroupInput) (*api.ModifyUserGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rbacID(paramUserGroupID, in.UserGroupId)
	if err != nil {
		return nil, err
	}
	add, err := userIDList("UserIdsToAdd", in.UserIdsToAdd)
	if err != nil {
		return nil, err
	}
	remove, err := userIDList("UserIdsToRemove", in.UserIdsToRemove)
	if err != nil {
		return nil, err
	}
	var engine string
	if in.Engine != nil {
		if engine, err = engineParam("Engine", in.Engine); err != nil {
			return nil, err
		}
	}
	if len(add) == 0 && len(remove) == 0 && in.Engine == nil {
		return nil, api.InvalidParameterCombination("No modifications were requested.")
	}
	for _, u := range add {
		if slices.Contains(remove, u) {
			return nil, api.InvalidParameterCombination(fmt.Sprintf("User %s cannot be both added to and removed from a user group.", u))
		}
	}
	now := s.clock.Now()
	var out api.UserGroup
	marked := false
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		rec, err := userGroups.GetStored(tx, sc, id)
		if err != nil || rec == nil || rec.goneAt(now) {
			return userGroupNotFound(id), err
		}
		if st := s.rbacStatus(rec.Created, rec.Modified, rec.Deleted, now); st != statusActive {
			return userGroupNotActive(id, st, "modified"), nil
		}
		used, err := rgsByUserGroup(tx, sc)
		if err != nil {
			return nil, err
		}
		if in.Engine != nil && engine != rec.Engine && len(used[id]) > 0 {
			return &api.InvalidUserGroupStateFault{Message: fmt.Sprintf("User group %s is associated with replication group %s; its engine cannot change.", id, used[id][0])}, nil
		}
		for _, u := range remove {
			if !slices.Contains(rec.UserIDs, u) {
				return api.InvalidParameterValue(fmt.Sprintf("User %s is not a member of user group %s.", u, id)), nil
			}
		}
		members := slices.DeleteFunc(slices.Clone(rec.UserIDs), func(u string) bool { return slices.Contains(remove, u) })
		var added []string
		for _, u := range add {
			if !slices.Contains(members, u) {
				members, added = append(members, u), append(added, u)
			}
		}
		slices.Sort(members)
		if in.Engine != nil {
			rec.Engine = engine
		}
		if fault, err := checkMembers(tx, sc, rec.Engine, members, now); fault != nil || err != nil {
			return fault, err
		}
		rec.UserIDs, rec.PendingAdd, rec.PendingRemove, rec.Modified = members, added, remove, &now
		if err := userGroups.Put(tx, sc, rec); err != nil {
			return nil, err
		}
		// The engines of the replication groups that use the group
		// take its new users.
		if marked, err = markUserGroupsAccess(tx, sc, []string{id}); err != nil {
			return nil, err
		}
		out = s.renderUserGroup(sc, rec, now, statusModifying, used[id])
		return nil, schema.AppendEvent(tx, sc, now, userGroupKind, id, "User group modified")
	})
	if err != nil {
		return nil, err
	}
	if marked {
		s.workMarked()
	}
	return (*api.ModifyUserGroupOutput)(&out), nil
}

// DeleteUserGroup deletes a group and its tags; its users stay. A group
// that is not active, or that a cache uses, cannot be deleted. The answer
// shows it deleting. With no transition delay it is gone at once; with
// one, it stays, deleting (its users still in it), until the delay has
// passed, and is gone from then on (goneAt). Its tags go at once.
func (s *ElastiCache) DeleteUserGroup(ctx context.Context, in *api.DeleteUserGroupInput) (*api.DeleteUserGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rbacID(paramUserGroupID, in.UserGroupId)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	delay := s.cfg.UserTransitionDelay
	var out api.UserGroup
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		rec, err := userGroups.GetStored(tx, sc, id)
		if err != nil || rec == nil || rec.goneAt(now) {
			return userGroupNotFound(id), err
		}
		if st := s.rbacStatus(rec.Created, rec.Modified, rec.Deleted, now); st != statusActive {
			return userGroupNotActive(id, st, "deleted"), nil
		}
		used, err := rgsByUserGroup(tx, sc)
		if err != nil {
			return nil, err
		}
		if rgs := used[id]; len(rgs) > 0 {
			return &api.InvalidUserGroupStateFault{Message: fmt.Sprintf("User group %s is associated with replication group %s; disassociate it first.", id, strings.Join(rgs, ", "))}, nil
		}
		out = s.renderUserGroup(sc, rec, now, statusDeleting, nil)
		if delay > 0 {
			rec.Deleted = ptr(now.Add(delay))
		}
		if err := removeOrKeep(tx, sc, userGroups, rec, rec.Deleted != nil); err != nil {
			return nil, err
		}
		return nil, schema.AppendEvent(tx, sc, now, userGroupKind, id, "User group deleted")
	})
	if err != nil {
		return nil, err
	}
	return (*api.DeleteUserGroupOutput)(&out), nil
}

// userGroupNotActive is userNotActive for user groups (AWS's wording
// quoted in terraform-provider-aws#37911).
func userGroupNotActive(id, status, done string) error {
	return &api.InvalidUserGroupStateFault{Message: fmt.Sprintf("User group %s has status %s. Only active user groups can be %s.", id, status, done)}
}

// stateUserGroup is a user group in the state document. Field order is
// output order; lists are never omitted.
type stateUserGroup struct {
	Name          string       `json:"name"`
	Engine        string       `json:"engine"`
	UserIDs       []string     `json:"userIds"`
	Created       *time.Time   `json:"created,omitempty"`
	Modified      *time.Time   `json:"modified,omitempty"`
	PendingAdd    []string     `json:"pendingAdd"`
	PendingRemove []string     `json:"pendingRemove"`
	Deleted       *time.Time   `json:"deleted,omitempty"`
	Tags          []schema.Tag `json:"tags"`
}

// exportUserGroup is a group's item in the state document.
func exportUserGroup(b []byte, tags schema.Tags) (any, error) {
	r, err := schema.Decode[userGroupRecord](b)
	if err != nil {
		return nil, err
	}
	g := stateUserGroup{Name: r.ID, Engine: r.Engine, UserIDs: append([]string{}, r.UserIDs...),
		PendingAdd: append([]string{}, r.PendingAdd...), PendingRemove: append([]string{}, r.PendingRemove...), Tags: schema.TagList(tags)}
	if !r.Created.IsZero() {
		g.Created = ptr(r.Created.UTC())
	}
	if r.Modified != nil {
		g.Modified = ptr(r.Modified.UTC())
	}
	if r.Deleted != nil {
		g.Deleted = ptr(r.Deleted.UTC())
	}
	return g, nil
}

// parseUserGroup reads a user group of a state document with the API's
// rules for each value; checkUserGroups checks its members.
func parseUserGroup(p *schema.Parser, path string, v any) (item schema.Item, ok, nameOK bool) {
	o, ok := p.Object(path, v, "name", "engine", "userIds", "created", "modified", "pendingAdd", "pendingRemove", "deleted", "tags")
	if !ok {
		return schema.Item{}, false, false
	}
	n := p.Found()
	rec := &userGroupRecord{}
	if raw, ok := p.Str(path, o, "name", true); ok {
		id, err := rbacID("name", &raw)
		if err != nil {
			p.Add(path+".name", "%s", rule(err))
		}
		rec.ID, nameOK = id, err == nil
	}
	if raw, ok := p.Str(path, o, "engine", true); ok {
		e, err := engineParam("engine", &raw)
		if err != nil || e != raw {
			p.Add(path+".engine", "must be redis or valkey, not %s", schema.Quote(raw))
		}
		rec.Engine = e
	}
	rec.UserIDs = parseUserIDs(p, path, o, "userIds", true)
	switch {
	case len(rec.UserIDs) == 0 && p.Found() == n:
		p.Add(path+".userIds", "a user group holds at least its default user")
	case len(rec.UserIDs) > maxUsersPerGroup:
		p.Add(path+".userIds", "a user group holds at most %d users", maxUsersPerGroup)
	}
	rec.Created, rec.Modified, rec.Deleted = parseRBACTimes(p, path, o)
	rec.PendingAdd = parseUserIDs(p, path, o, "pendingAdd", false)
	rec.PendingRemove = parseUserIDs(p, path, o, "pendingRemove", false)
	tags := p.Tags(path, o)
	b, err := schema.Encode(rec)
	if err != nil {
		p.Add(path, "%v", err)
	}
	return schema.Item{Name: rec.ID, Record: b, Tags: tags}, p.Found() == n, nameOK
}

// parseUserIDs reads a list of user IDs in their stored form, each once.
func parseUserIDs(p *schema.Parser, path string, o schema.Object, key string, required bool) []string {
	var ids []string
	for i, v := range p.List(path, o, key, required) {
		ipath := fmt.Sprintf("%s.%s[%d]", path, key, i)
		s, isStr := v.(string)
		if !isStr {
			p.Add(ipath, "must be a string")
			continue
		}
		id, err := rbacID(key, &s)
		switch {
		case err != nil:
			p.Add(ipath, "%s", rule(err))
		case id != s:
			p.Add(ipath, "must be lowercase, as IDs are stored: %s", id)
		case slices.Contains(ids, id):
			p.Add(ipath, "user %s is listed twice", id)
		default:
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// checkUserGroups applies the API's member rules to the user groups of a
// region of a state document: every member is a user of the region (or
// `default`), and memberRules hold.
func checkUserGroups(p *schema.Parser, items func(field string) []schema.Item, itemPath func(field, name string) string) {
	byID := map[string]*userRecord{defaultUserID: defaultUser()}
	for _, it := range items(fieldUsers) {
		if u, err := schema.Decode[userRecord](it.Record); err == nil {
			byID[u.ID] = u
		}
	}
	for _, it := range items(fieldUserGroups) {
		g, err := schema.Decode[userGroupRecord](it.Record)
		if err != nil {
			continue
		}
		path := itemPath(fieldUserGroups, g.ID) + ".userIds"
		var members []*userRecord
		for _, id := range g.UserIDs {
			switch u := byID[id]; {
			case u == nil:
				p.Add(path, "user %s is not a user of this region", id)
			case u.Deleted != nil:
				// DeleteUser takes a user out of every group.
				p.Add(path, "user %s is being deleted", id)
			default:
				members = append(members, u)
			}
		}
		if len(members) == len(g.UserIDs) {
			if err := memberRules(g.Engine, members); err != nil {
				p.Add(path, "%s", rule(err))
			}
		}
	}
}
