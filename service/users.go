package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Users (role-based access control): an ID, a user name, an engine, an
// access string (Redis ACL rules) and how the user authenticates. The
// `default` user exists in every account and region without being stored.
// Passwords are never stored, answered or logged: only their SHA-256, the
// form Redis' `ACL SETUSER … #<hash>` takes (docs/DECISIONS.md).

const (
	fieldUsers          = "users"
	opDescribeUsers     = "DescribeUsers"
	paramUserID         = "UserId"
	defaultUserID       = "default"
	defaultUserName     = "default"
	defaultAccessString = "on ~* +@all"
	maxUserIDLen        = 40
	maxUserNameLen      = 255
	minPasswordLen      = 16
	maxPasswordLen      = 128
	maxPasswords        = 2

	engineRedis  = "redis"
	engineValkey = "valkey"

	// Authentication types as answered (the model's AuthenticationType).
	authPassword   = "password"
	authNoPassword = "no-password"
	authIAM        = "iam"

	statusCreating  = "creating"
	statusActive    = "active"
	statusModifying = "modifying"
	statusDeleting  = "deleting"
)

func userNotFound(id string) error {
	return &api.UserNotFoundFault{Message: fmt.Sprintf("User %s not found.", id)}
}

// userKind declares users to the schema layer.
var userKind = &kindDecl{
	Name:         "user",
	Noun:         "user",
	Segment:      "usr",
	ARNType:      "user",
	Field:        fieldUsers,
	DefaultQuota: 1000,
	NotFound:     userNotFound,
	Gone:         func(r schema.Record, now time.Time) bool { return r.(*userRecord).goneAt(now) },
	Virtual:      []string{defaultUserID},
	// AWS manages the default user: "You can't modify or delete this
	// user" (the RBAC guide). A tag is a change.
	RefuseVirtualTags: func(string) error {
		return api.InvalidParameterValue("The default user cannot be tagged.")
	},
	ValidName: func(n string) (string, error) { return stateName(rbacID("name", &n)) },
	State:     schema.Section{Export: exportUser, Parse: parseUser},
}

// users is the table of users. `default` is virtual: no password, every
// key and command, as AWS creates it.
var users = schema.NewTable[userRecord](userKind, func(scope, string) *userRecord { return defaultUser() })

// defaultUser is the record of the virtual `default` user.
func defaultUser() *userRecord {
	return &userRecord{ID: defaultUserID, UserName: defaultUserName, Engine: engineRedis,
		AccessString: defaultAccessString, AuthType: authNoPassword}
}

// userRecord is a stored user.
type userRecord struct {
	schema.Meta
	ID           string `json:"id"`
	UserName     string `json:"userName"`
	Engine       string `json:"engine"`
	AccessString string `json:"accessString"`
	// AuthType is the answered Authentication.Type.
	AuthType string `json:"authType"`
	// PasswordHashes are the SHA-256 (lowercase hex) of each password,
	// distinct, in the order given; only for AuthType password.
	PasswordHashes []string  `json:"passwordHashes,omitempty"`
	Created        time.Time `json:"created"`
	// Modified is when a ModifyUser last changed it.
	Modified *time.Time `json:"modified,omitempty"`
	// Deleted, when set, is when the user's deletion completes: it is
	// deleting until then and gone from then on (goneAt).
	Deleted *time.Time `json:"deleted,omitempty"`
}

// RecordName is the user's ID.
func (r *userRecord) RecordName() string { return r.ID }

// goneAt reports whether the user's deletion has completed at now. A gone
// user stays stored until a write needs its ID or its place in the quota
// (createLive), but no reader may show or use it: to them it is absent.
// The completion time is stored rather than derived from the delay, so
// that restarting with a longer delay never brings a gone user back.
func (r *userRecord) goneAt(now time.Time) bool { return deletionDone(r.Deleted, now) }

func deletionDone(deleted *time.Time, now time.Time) bool {
	return deleted != nil && !now.Before(*deleted)
}

// rbacID validates a user or user group ID and returns its stored,
// lowercase form: a letter, then letters, digits and hyphens, not ending
// in a hyphen nor holding two in a row, at most 40 characters.
func rbacID(param string, p *string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue(param + " is required")
	}
	return hyphenatedName(param, *p, maxUserIDLen)
}

// engineParam validates an engine (redis or valkey, in any case) and
// returns it lowercase, as AWS answers it.
func engineParam(param string, p *string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue(param + " is required")
	}
	switch e := strings.ToLower(*p); e {
	case engineRedis, engineValkey:
		return e, nil
	}
	return "", invalid(param, "must be redis or valkey.")
}

func userNameParam(p *string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue("UserName is required")
	}
	if utf8.RuneCountInString(*p) > maxUserNameLen {
		return "", invalid("UserName", fmt.Sprintf("must be at most %d characters.", maxUserNameLen))
	}
	if err := schemaText(*p); err != nil {
		return "", invalid("UserName", err.Error())
	}
	return *p, nil
}

// schemaText refuses control characters, which an answer's XML could not
// carry.
func schemaText(s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return errors.New("must not contain control characters.")
		}
	}
	return nil
}

// passwordHash is what is kept of a password: its SHA-256 in lowercase hex,
// the form of Redis' `#<hash>` ACL rule.
func passwordHash(pw string) string {
	h := sha256.Sum256([]byte(pw))
	return hex.EncodeToString(h[:])
}

// userAuth is how a user authenticates.
type userAuth struct {
	typ    string
	hashes []string
}

func noPasswordGiven() error {
	return api.InvalidParameterValue("No password was provided. If you want to create/update the user without password, please use the NoPasswordRequired flag.")
}

// passwordHashes checks passwords (param names them) and returns their
// hashes, each distinct one once. Messages never repeat a password.
func passwordHashes(param string, pws []string) ([]string, error) {
	if len(pws) > maxPasswords {
		return nil, invalid(param, fmt.Sprintf("a user has at most %d passwords.", maxPasswords))
	}
	var hashes []string
	for _, pw := range pws {
		if n := utf8.RuneCountInString(pw); n < minPasswordLen || n > maxPasswordLen {
			return nil, api.InvalidParameterValue(fmt.Sprintf("Passwords length must be between %d-%d characters.", minPasswordLen, maxPasswordLen))
		}
		if schemaText(pw) != nil {
			return nil, invalid(param, "passwords must not contain control characters.")
		}
		if h := passwordHash(pw); !slices.Contains(hashes, h) {
			hashes = append(hashes, h)
		}
	}
	return hashes, nil
}

// authParams reads what a CreateUser or ModifyUser request says about
// authentication: AuthenticationMode, else Passwords, else
// NoPasswordRequired. set is false when it says nothing. Terraform sends
// NoPasswordRequired=false with every request, so false never conflicts.
func authParams(passwords []string, noPass *bool, mode *api.AuthenticationMode) (auth userAuth, set bool, err error) {
	noPassTrue := noPass != nil && *noPass
	if mode != nil {
		if len(passwords) > 0 {
			return auth, false, api.InvalidParameterCombination("Passwords cannot be specified together with AuthenticationMode.")
		}
		if mode.Type == nil {
			return auth, false, api.InvalidParameterValue("AuthenticationMode.Type is required")
		}
		switch *mode.Type {
		case "password":
			if noPassTrue {
				return auth, false, api.InvalidParameterCombination("NoPasswordRequired cannot be true for authentication type password.")
			}
			if len(mode.Passwords) == 0 {
				return auth, false, api.InvalidParameterValue("Passwords must be provided for authentication type password.")
			}
			hashes, err := passwordHashes("AuthenticationMode.Passwords", mode.Passwords)
			return userAuth{typ: authPassword, hashes: hashes}, err == nil, err
		case "no-password-required", "iam":
			if len(mode.Passwords) > 0 {
				return auth, false, api.InvalidParameterCombination(fmt.Sprintf("Passwords cannot be provided for authentication type %s.", *mode.Type))
			}
			if *mode.Type == authIAM {
				if noPassTrue {
					return auth, false, api.InvalidParameterCombination("NoPasswordRequired cannot be true for authentication type iam.")
				}
				return userAuth{typ: authIAM}, true, nil
			}
			return userAuth{typ: authNoPassword}, true, nil
		}
		return auth, false, invalid("AuthenticationMode.Type", "must be password, no-password-required or iam.")
	}
	if len(passwords) > 0 {
		if noPassTrue {
			return auth, false, api.InvalidParameterCombination("Passwords cannot be specified when NoPasswordRequired is true.")
		}
		hashes, err := passwordHashes("Passwords", passwords)
		return userAuth{typ: authPassword, hashes: hashes}, err == nil, err
	}
	if noPassTrue {
		return userAuth{typ: authNoPassword}, true, nil
	}
	return auth, false, nil
}

// iamNames refuses an IAM user whose ID and name differ, as AWS does.
func iamNames(auth userAuth, id, name string) error {
	if auth.typ == authIAM && id != name {
		return api.InvalidParameterCombination("User Id and User name must be same for authentication type: iam")
	}
	return nil
}

// minimumEngineVersion is the oldest engine that knows a user: Redis OSS
// 6.0 introduced ACLs; Valkey starts at 7.2.
func minimumEngineVersion(engine string) string {
	if engine == engineValkey {
		return "7.2"
	}
	return "6.0"
}

// rbacStatus derives a user's or user group's status at now: deleting
// once deleted (a gone record is never shown), else creating until the
// transition delay has passed since it was created, modifying until it
// has passed since the last change, then active. A record whose creation
// time is zero (the default user) is active unless deleted.
func (s *ElastiCache) rbacStatus(created time.Time, modified, deleted *time.Time, now time.Time) string {
	d := s.cfg.UserTransitionDelay
	switch {
	case deleted != nil:
		return statusDeleting
	case !created.IsZero() && now.Sub(created) < d:
		return statusCreating
	case modified != nil && now.Sub(*modified) < d:
		return statusModifying
	}
	return statusActive
}

// renderUser shows a user as AWS does. status, when not "", is the status
// of the answer to a change; groups are the IDs of the user groups that
// hold it.
func (s *ElastiCache) renderUser(sc scope, r *userRecord, now time.Time, status string, groups []string) api.User {
	if status == "" {
		status = s.rbacStatus(r.Created, r.Modified, r.Deleted, now)
	}
	auth := &api.Authentication{Type: ptr(r.AuthType)}
	if r.AuthType == authPassword {
		auth.PasswordCount = ptr(int32(len(r.PasswordHashes)))
	}
	if groups == nil {
		groups = []string{}
	}
	return api.User{
		ARN:                  ptr(arn(sc, userKind, r.ID)),
		AccessString:         ptr(r.AccessString),
		Authentication:       auth,
		Engine:               ptr(r.Engine),
		MinimumEngineVersion: ptr(minimumEngineVersion(r.Engine)),
		Status:               ptr(status),
		UserGroupIds:         groups,
		UserId:               ptr(r.ID),
		UserName:             ptr(r.UserName),
	}
}

// liveGroups drops the groups whose deletion has completed at now: they
// hold no one.
func liveGroups(groups []*userGroupRecord, now time.Time) []*userGroupRecord {
	return slices.DeleteFunc(groups, func(g *userGroupRecord) bool { return g.goneAt(now) })
}

// groupsByUser maps each user ID to the IDs of the groups that hold it,
// in group order.
func groupsByUser(groups []*userGroupRecord) map[string][]string {
	out := map[string][]string{}
	for _, g := range groups {
		for _, id := range g.UserIDs {
			out[id] = append(out[id], g.ID)
		}
	}
	return out
}

// CreateUser creates a user in the caller's account and region, with its
// tags, in one transaction. The answer shows it creating.
func (s *ElastiCache) CreateUser(ctx context.Context, in *api.CreateUserInput) (*api.CreateUserOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rbacID(paramUserID, in.UserId)
	if err != nil {
		return nil, err
	}
	name, err := userNameParam(in.UserName)
	if err != nil {
		return nil, err
	}
	engine, err := engineParam("Engine", in.Engine)
	if err != nil {
		return nil, err
	}
	if in.AccessString == nil {
		return nil, api.InvalidParameterValue("AccessString is required")
	}
	if err := checkAccessString("AccessString", *in.AccessString); err != nil {
		return nil, err
	}
	auth, set, err := authParams(in.Passwords, in.NoPasswordRequired, in.AuthenticationMode)
	if err != nil {
		return nil, err
	}
	if !set {
		return nil, noPasswordGiven()
	}
	if err := iamNames(auth, id, name); err != nil {
		return nil, err
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	rec := &userRecord{ID: id, UserName: name, Engine: engine, AccessString: *in.AccessString,
		AuthType: auth.typ, PasswordHashes: auth.hashes, Created: now}
	err = createLive(ctx, s, sc, users, rec, tags, func() error {
		return &api.UserAlreadyExistsFault{Message: fmt.Sprintf("User %s already exists.", id)}
	}, func() error {
		return &api.UserQuotaExceededFault{Message: "The quota of users has been exceeded."}
	}, nil, "User created")
	if err != nil {
		return nil, err
	}
	u := s.renderUser(sc, rec, now, statusCreating, nil)
	return (*api.CreateUserOutput)(&u), nil
}

// userFilter is what DescribeUsers' Engine and Filters keep.
type userFilter struct {
	engine string
	ids    []string // nil: any
}

func (f userFilter) keep(r *userRecord) bool {
	return (f.engine == "" || r.Engine == f.engine) && (f.ids == nil || slices.Contains(f.ids, r.ID))
}

// userFilterParams reads DescribeUsers' Engine and Filters. The one filter
// known is the user ID (user-id, in any case and with or without the
// hyphen).
func userFilterParams(engine *string, filters []api.Filter) (userFilter, error) {
	var f userFilter
	if engine != nil {
		e, err := engineParam("Engine", engine)
		if err != nil {
			return f, err
		}
		f.engine = e
	}
	for _, flt := range filters {
		if flt.Name == nil || strings.TrimSpace(*flt.Name) == "" || len(flt.Values) == 0 {
			return f, invalid("Filters", "every filter must have a Name and at least one value.")
		}
		if n := strings.ReplaceAll(strings.ToLower(*flt.Name), "-", ""); n != "userid" {
			return f, invalid("Filters", fmt.Sprintf("unknown filter name %s; the filter known is user-id.", *flt.Name))
		}
		if f.ids == nil {
			f.ids = []string{}
		}
		for _, v := range flt.Values {
			f.ids = append(f.ids, strings.ToLower(v))
		}
	}
	return f, nil
}

// DescribeUsers returns one user by ID, or a page of the caller's users in
// ID order with `default` among them. Engine and Filters keep the users
// that match; a page may then hold fewer than MaxRecords users and still
// carry a marker.
func (s *ElastiCache) DescribeUsers(ctx context.Context, in *api.DescribeUsersInput) (*api.DescribeUsersOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	var id string
	if in.UserId != nil {
		if id, err = rbacID(paramUserID, in.UserId); err != nil {
			return nil, err
		}
	}
	filter, err := userFilterParams(in.Engine, in.Filters)
	if err != nil {
		return nil, err
	}
	pg, err := s.pageRequest(opDescribeUsers, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	var groups []*userGroupRecord
	recs, marker, err := describeWith(ctx, s, sc, users, in.UserId != nil, id, pg, func(tx storage.Tx) error {
		var err error
		groups, err = userGroups.All(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	member := groupsByUser(liveGroups(groups, now))
	out := &api.DescribeUsersOutput{Users: make([]api.User, 0, len(recs)), Marker: marker}
	for _, r := range recs {
		if filter.keep(r) && !r.goneAt(now) {
			out.Users = append(out.Users, s.renderUser(sc, r, now, "", member[r.ID]))
		}
	}
	if in.UserId != nil && len(out.Users) == 0 {
		return nil, userNotFound(id)
	}
	return out, nil
}

// ModifyUser changes a user's access string, passwords, authentication
// type or engine; what the request leaves out stays. The answer shows it
// modifying. The default user cannot be modified.
func (s *ElastiCache) ModifyUser(ctx context.Context, in *api.ModifyUserInput) (*api.ModifyUserOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rbacID(paramUserID, in.UserId)
	if err != nil {
		return nil, err
	}
	if in.AccessString != nil && in.AppendAccessString != nil {
		return nil, api.InvalidParameterCombination("AccessString and AppendAccessString cannot both be specified.")
	}
	if in.AccessString != nil {
		if err := checkAccessString("AccessString", *in.AccessString); err != nil {
			return nil, err
		}
	}
	if in.AppendAccessString != nil {
		if err := checkAccessString("AppendAccessString", *in.AppendAccessString); err != nil {
			return nil, err
		}
	}
	var engine string
	if in.Engine != nil {
		if engine, err = engineParam("Engine", in.Engine); err != nil {
			return nil, err
		}
	}
	auth, authSet, err := authParams(in.Passwords, in.NoPasswordRequired, in.AuthenticationMode)
	if err != nil {
		return nil, err
	}
	if in.AccessString == nil && in.AppendAccessString == nil && in.Engine == nil && !authSet && in.NoPasswordRequired == nil {
		return nil, api.InvalidParameterCombination("No modifications were requested.")
	}
	if id == defaultUserID {
		return nil, api.InvalidParameterValue("The default user cannot be modified.")
	}
	now := s.clock.Now()
	var out api.User
	marked := false
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		rec, err := users.GetStored(tx, sc, id)
		if err != nil || rec == nil || rec.goneAt(now) {
			return userNotFound(id), err
		}
		if st := s.rbacStatus(rec.Created, rec.Modified, rec.Deleted, now); st != statusActive {
			return userNotActive(id, st, "modified"), nil
		}
		switch {
		case in.AccessString != nil:
			rec.AccessString = *in.AccessString
		case in.AppendAccessString != nil:
			rec.AccessString = strings.TrimSpace(rec.AccessString) + " " + strings.TrimSpace(*in.AppendAccessString)
		}
		if in.Engine != nil {
			rec.Engine = engine
		}
		if authSet {
			if err := iamNames(auth, rec.ID, rec.UserName); err != nil {
				return err, nil
			}
			rec.AuthType, rec.PasswordHashes = auth.typ, auth.hashes
		} else if in.NoPasswordRequired != nil && !*in.NoPasswordRequired && rec.AuthType == authNoPassword {
			// Requiring a password again needs one.
			return noPasswordGiven(), nil
		}
		groups, err := userGroups.All(tx, sc)
		if err != nil {
			return nil, err
		}
		groups = liveGroups(groups, now)
		for _, g := range groups {
			if g.Engine == engineValkey && rec.AuthType == authNoPassword && slices.Contains(g.UserIDs, id) {
				return api.InvalidParameterValue(fmt.Sprintf("User %s is in user group %s with engine valkey, which holds only users that authenticate.", id, g.ID)), nil
			}
		}
		rec.Modified = &now
		if err := users.Put(tx, sc, rec); err != nil {
			return nil, err
		}
		// The engines that let the user in take its new passwords and
		// access string.
		if marked, err = markUserGroupsAccess(tx, sc, groupsByUser(groups)[id]); err != nil {
			return nil, err
		}
		out = s.renderUser(sc, rec, now, statusModifying, groupsByUser(groups)[id])
		return nil, schema.AppendEvent(tx, sc, now, userKind, id, "User modified")
	})
	if err != nil {
		return nil, err
	}
	if marked {
		s.workMarked()
	}
	return (*api.ModifyUserOutput)(&out), nil
}

// DeleteUser deletes a user and its tags and removes it from every user
// group that holds it, as the API reference says. A user named `default`
// that a group holds cannot go: the group must hold one
// (DefaultUserAssociatedToUserGroup). The answer shows it deleting. With
// no transition delay it is gone at once; with one, it stays, deleting,
// until the delay has passed, and is gone from then on (goneAt). Its tags
// and its places in groups go at once either way: what stays is only
// what DescribeUsers shows of a user being deleted.
func (s *ElastiCache) DeleteUser(ctx context.Context, in *api.DeleteUserInput) (*api.DeleteUserOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rbacID(paramUserID, in.UserId)
	if err != nil {
		return nil, err
	}
	if id == defaultUserID {
		return nil, api.InvalidParameterValue("The default user cannot be deleted.")
	}
	now := s.clock.Now()
	delay := s.cfg.UserTransitionDelay
	var out api.User
	marked := false
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		rec, err := users.GetStored(tx, sc, id)
		if err != nil || rec == nil || rec.goneAt(now) {
			return userNotFound(id), err
		}
		if st := s.rbacStatus(rec.Created, rec.Modified, rec.Deleted, now); st != statusActive {
			return userNotActive(id, st, "deleted"), nil
		}
		groups, err := userGroups.All(tx, sc)
		if err != nil {
			return nil, err
		}
		var holding []*userGroupRecord
		for _, g := range liveGroups(groups, now) {
			if slices.Contains(g.UserIDs, id) {
				if rec.UserName == defaultUserName {
					return &api.DefaultUserAssociatedToUserGroupFault{Message: fmt.Sprintf("User %s is the default user of user group %s.", id, g.ID)}, nil
				}
				holding = append(holding, g)
			}
		}
		out = s.renderUser(sc, rec, now, statusDeleting, groupsByUser(holding)[id])
		for _, g := range holding {
			g.UserIDs = slices.DeleteFunc(g.UserIDs, func(u string) bool { return u == id })
			if err := userGroups.Put(tx, sc, g); err != nil {
				return nil, err
			}
		}
		// "The user will be removed from all user groups and in turn
		// removed from all replication groups" (the API reference): the
		// engines of those groups drop it from their users.
		held := make([]string, len(holding))
		for i, g := range holding {
			held[i] = g.ID
		}
		if marked, err = markUserGroupsAccess(tx, sc, held); err != nil {
			return nil, err
		}
		if delay > 0 {
			rec.Deleted = ptr(now.Add(delay))
		}
		if err := removeOrKeep(tx, sc, users, rec, rec.Deleted != nil); err != nil {
			return nil, err
		}
		return nil, schema.AppendEvent(tx, sc, now, userKind, id, "User deleted")
	})
	if err != nil {
		return nil, err
	}
	if marked {
		s.workMarked()
	}
	return (*api.DeleteUserOutput)(&out), nil
}

// userNotActive is AWS's answer to a change of a user that is not active
// ("User u has status modifying. Only active users can be modified.",
// quoted from AWS in terraform-provider-aws#49726; the delete wording
// follows it).
func userNotActive(id, status, done string) error {
	return &api.InvalidUserStateFault{Message: fmt.Sprintf("User %s has status %s. Only active users can be %s.", id, status, done)}
}

// removeOrKeep ends a DeleteUser or DeleteUserGroup in tx: the record goes
// at once, or, when keep (a transition delay: the record says when its
// deletion completes), it stays to be shown deleting, without its tags.
// Tag operations find a resource by its stored record alone, so tags kept
// with it would still be answered after its deletion completes.
func removeOrKeep[R any, P record[R]](tx storage.Tx, sc scope, t *schema.Table[R, P], rec P, keep bool) error {
	if !keep {
		return t.Delete(tx, sc, rec.RecordName())
	}
	if err := t.Put(tx, sc, rec); err != nil {
		return err
	}
	return schema.PutTags(tx, sc, t.Kind, rec.RecordName(), nil)
}

// liveRecord is a user or a user group: a record whose deletion may have
// completed while it is still stored.
type liveRecord[R any] interface {
	record[R]
	goneAt(now time.Time) bool
}

// createLive is createChecked for users and user groups, whose records
// stay stored, gone, after their deletion completes: a gone record of the
// same ID is removed in the same transaction, and so is one other gone
// record when the quota is full, so that a gone record never holds an ID
// or a place in the quota. Removing one more is enough for the one
// record created, and keeps the transaction small (etcd bounds its
// operations).
func createLive[R any, P liveRecord[R]](ctx context.Context, s *ElastiCache, sc scope, t *schema.Table[R, P], rec P, tags tagSet,
	alreadyExists, quotaExceeded func() error, check func(tx storage.Tx) (fault, err error), event string) error {
	quota := s.cfg.quota(sc.Account, t.Kind)
	now := s.clock.Now()
	name := rec.RecordName()
	return s.update(ctx, func(tx storage.Tx) (error, error) {
		var gone []string
		old, err := t.Get(tx, sc, name)
		if err != nil {
			return nil, err
		}
		if old != nil {
			if !old.goneAt(now) {
				return alreadyExists(), nil
			}
			gone = append(gone, name)
		}
		n, err := t.Count(tx, sc)
		if err != nil {
			return nil, err
		}
		if n-len(gone) >= quota {
			all, err := t.All(tx, sc)
			if err != nil {
				return nil, err
			}
			if i := slices.IndexFunc(all, func(r P) bool { return r.RecordName() != name && r.goneAt(now) }); i >= 0 {
				gone = append(gone, all[i].RecordName())
			}
			if n-len(gone) >= quota {
				return quotaExceeded(), nil
			}
		}
		if len(tags) > maxTagsPerResource {
			return tagQuotaExceeded(), nil
		}
		if check != nil {
			if fault, err := check(tx); fault != nil || err != nil {
				return fault, err
			}
		}
		for _, g := range gone {
			if err := t.Delete(tx, sc, g); err != nil {
				return nil, err
			}
		}
		if err := t.Insert(tx, sc, rec); err != nil {
			return nil, err
		}
		if len(tags) > 0 {
			if err := schema.PutTags(tx, sc, t.Kind, name, schema.Tags(tags)); err != nil {
				return nil, err
			}
		}
		return nil, schema.AppendEvent(tx, sc, now, t.Kind, name, event)
	})
}

// stateUser is a user in the state document. Field order is output order;
// lists are never omitted. A password user's passwords are there as their
// SHA-256 hashes, never as themselves.
type stateUser struct {
	Name           string       `json:"name"`
	UserName       string       `json:"userName"`
	Engine         string       `json:"engine"`
	AccessString   string       `json:"accessString"`
	AuthType       string       `json:"authType"`
	PasswordHashes []string     `json:"passwordHashes"`
	Created        *time.Time   `json:"created,omitempty"`
	Modified       *time.Time   `json:"modified,omitempty"`
	Deleted        *time.Time   `json:"deleted,omitempty"`
	Tags           []schema.Tag `json:"tags"`
}

// exportUser is a user's item in the state document.
func exportUser(b []byte, tags schema.Tags) (any, error) {
	r, err := schema.Decode[userRecord](b)
	if err != nil {
		return nil, err
	}
	u := stateUser{Name: r.ID, UserName: r.UserName, Engine: r.Engine, AccessString: r.AccessString,
		AuthType: r.AuthType, PasswordHashes: slices.Clone(r.PasswordHashes), Tags: schema.TagList(tags)}
	if u.PasswordHashes == nil {
		u.PasswordHashes = []string{}
	}
	if !r.Created.IsZero() {
		u.Created = ptr(r.Created.UTC())
	}
	if r.Modified != nil {
		u.Modified = ptr(r.Modified.UTC())
	}
	if r.Deleted != nil {
		u.Deleted = ptr(r.Deleted.UTC())
	}
	return u, nil
}

// parseUser reads a user of a state document with the API's rules.
func parseUser(p *schema.Parser, path string, v any) (item schema.Item, ok, nameOK bool) {
	o, ok := p.Object(path, v, "name", "userName", "engine", "accessString", "authType", "passwordHashes", "created", "modified", "deleted", "tags")
	if !ok {
		return schema.Item{}, false, false
	}
	n := p.Found()
	rec := &userRecord{}
	if raw, ok := p.Str(path, o, "name", true); ok {
		id, err := rbacID("name", &raw)
		if err != nil {
			p.Add(path+".name", "%s", rule(err))
		} else if id == defaultUserID {
			p.Add(path+".name", "the default user is not stored")
		}
		rec.ID, nameOK = id, err == nil
	}
	if raw, ok := p.Str(path, o, "userName", true); ok {
		name, err := userNameParam(&raw)
		if err != nil {
			p.Add(path+".userName", "%s", rule(err))
		}
		rec.UserName = name
	}
	if raw, ok := p.Str(path, o, "engine", true); ok {
		e, err := engineParam("engine", &raw)
		if err != nil || e != raw {
			p.Add(path+".engine", "must be redis or valkey, not %s", schema.Quote(raw))
		}
		rec.Engine = e
	}
	if raw, ok := p.Str(path, o, "accessString", true); ok {
		if err := checkAccessString("accessString", raw); err != nil {
			p.Add(path+".accessString", "%s", rule(err))
		}
		rec.AccessString = raw
	}
	parseUserAuth(p, path, o, rec)
	if rec.AuthType == authIAM && rec.ID != rec.UserName {
		p.Add(path+".userName", "an iam user's name is its ID (%s)", rec.ID)
	}
	rec.Created, rec.Modified, rec.Deleted = parseRBACTimes(p, path, o)
	tags := p.Tags(path, o)
	b, err := schema.Encode(rec)
	if err != nil {
		p.Add(path, "%v", err)
	}
	return schema.Item{Name: rec.ID, Record: b, Tags: tags}, p.Found() == n, nameOK
}

// parseRBACTimes reads a user's or user group's created, modified and
// deleted: each optional, none before the one it follows.
func parseRBACTimes(p *schema.Parser, path string, o schema.Object) (created time.Time, modified, deleted *time.Time) {
	if t, ok := p.Time(path, o, "created", false); ok {
		created = t
	}
	if t, ok := p.Time(path, o, "modified", false); ok {
		if t.Before(created) {
			p.Add(path+".modified", "must not be before created")
		}
		modified = &t
	}
	if t, ok := p.Time(path, o, "deleted", false); ok {
		switch {
		case t.Before(created):
			p.Add(path+".deleted", "must not be before created")
		case modified != nil && t.Before(*modified):
			p.Add(path+".deleted", "must not be before modified")
		}
		deleted = &t
	}
	return created, modified, deleted
}

// parseUserAuth reads a user's authType and passwordHashes.
func parseUserAuth(p *schema.Parser, path string, o schema.Object, rec *userRecord) {
	if t, ok := p.Str(path, o, "authType", true); ok {
		if t != authPassword && t != authNoPassword && t != authIAM {
			p.Add(path+".authType", "must be %s, %s or %s, not %s", authPassword, authNoPassword, authIAM, schema.Quote(t))
		}
		rec.AuthType = t
	}
	before := p.Found()
	for i, h := range p.List(path, o, "passwordHashes", true) {
		hpath := fmt.Sprintf("%s.passwordHashes[%d]", path, i)
		s, isStr := h.(string)
		switch {
		case !isStr:
			p.Add(hpath, "must be a string")
		case len(s) != 2*sha256.Size || strings.ToLower(s) != s || !isHexString(s):
			p.Add(hpath, "must be a SHA-256 hash: 64 lowercase hexadecimal digits")
		case slices.Contains(rec.PasswordHashes, s):
			p.Add(hpath, "is listed twice")
		default:
			rec.PasswordHashes = append(rec.PasswordHashes, s)
		}
	}
	switch n := len(rec.PasswordHashes); {
	case p.Found() != before:
		// The list is wrong already; its length says nothing more.
	case rec.AuthType == authPassword && (n < 1 || n > maxPasswords):
		p.Add(path+".passwordHashes", "a password user has 1 or %d passwords", maxPasswords)
	case rec.AuthType != authPassword && n > 0:
		p.Add(path+".passwordHashes", "only a password user has passwords")
	}
}

func isHexString(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
