// End-to-end suite: users and user groups through the AWS SDK for
// JavaScript v3 (@aws-sdk/client-elasticache, pinned in package.json /
// package-lock.json) against a real elasticache-server.
//
// A wire smoke test of the family (service/users.go, service/usergroups.go):
// the happy path of Create/Describe/Modify/DeleteUser and
// Create/Describe/Modify/DeleteUserGroup (users with passwords, without,
// with IAM authentication; DescribeUsers by ID and through the SDK's
// paginator with the virtual `default` user among the pages; access strings
// and passwords changed; a group of the default user, members added and
// removed; tags on user and usergroup ARNs; deletes) with the statuses the
// server shows at its default (immediate) timing: a Create answers
// creating, a Modify modifying, a Delete deleting, the next read active or
// NotFound. And every fault by `instanceof` its modeled class:
// UserAlreadyExistsFault, UserNotFoundFault (404), UserQuotaExceededFault,
// InvalidParameterValueException (malformed access strings, password
// length and count, no password, the default user),
// InvalidParameterCombinationException, DefaultUserRequired,
// DuplicateUserNameFault, DefaultUserAssociatedToUserGroupFault,
// UserGroupAlreadyExistsFault, UserGroupNotFoundFault (404),
// UserGroupQuotaExceededFault, and InvalidUserStateFault /
// InvalidUserGroupStateFault on a server with --user-transition-delay.
//
// Passwords never appear in an answer: every client of this suite keeps the
// raw body of every answer (errors too; a middleware below the
// deserializer), and every test ends by checking that none holds a password
// this suite sent, nor the server's log.
//
// Each test has a server of its own (config: account 222222222222 has a
// quota of 2 users and 1 user group).
//
// Run:  SERVER_BIN=/path/to/elasticache-server JS_SDK_DIR=/path/to/js-sdk \
//         node --test --test-reporter=spec e2e/js/users.test.mjs
// (e2e/js_test.go runs it with the other suites; see harness.mjs for how
// the SDK is loaded from JS_SDK_DIR.) It never skips. Clients are hermetic:
// static credentials, maxAttempts 1, no instance metadata, empty AWS config
// and credential files.

import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ALL_SERVERS, Server, TMP, UUID, fault, ok, runLine, sdk } from './harness.mjs';

const {
  ElastiCacheClient, ElastiCacheServiceException,
  CreateUserCommand, DescribeUsersCommand, ModifyUserCommand, DeleteUserCommand,
  CreateUserGroupCommand, DescribeUserGroupsCommand, ModifyUserGroupCommand, DeleteUserGroupCommand,
  AddTagsToResourceCommand, ListTagsForResourceCommand, RemoveTagsFromResourceCommand,
  paginateDescribeUsers, paginateDescribeUserGroups,
  UserAlreadyExistsFault, UserNotFoundFault, UserQuotaExceededFault, DuplicateUserNameFault,
  InvalidParameterValueException, InvalidParameterCombinationException, DefaultUserRequired,
  DefaultUserAssociatedToUserGroupFault, UserGroupAlreadyExistsFault, UserGroupNotFoundFault,
  UserGroupQuotaExceededFault, InvalidUserStateFault, InvalidUserGroupStateFault,
} = sdk;

// ---------------------------------------------------------------- constants

const SECRET = 'e2e-secret-key';
const REGION = 'us-east-1';
const T = { timeout: 60_000 }; // a hang fails the test instead of the whole run

const ACCOUNT = '111111111111'; // no quota: the happy paths
const QUOTA_ACCOUNT = '222222222222'; // 2 users, 1 user group
const PAGES_ACCOUNT = '444444444444'; // the paged describes
const CONFIG_PATH = path.join(TMP, 'users.yaml');
fs.writeFileSync(CONFIG_PATH, `
accounts:
  - id: "222222222222"
    quotas:
      users: 2
      userGroups: 1
`);

// Every password this suite sends, accepted or refused.
const PW1 = 'js-first-password-00001';
const PW2 = 'js-second-password-0002';
const PW3 = 'js-third-password-00003';
const PW_SHORT = 'js-short-pw-015'; // 15 characters
const PW_LONG = `js-long-password-${'q'.repeat(112)}`; // 129 characters
const PASSWORDS = [PW1, PW2, PW3, PW_SHORT, PW_LONG];
assert.equal(PW_SHORT.length, 15);
assert.equal(PW_LONG.length, 129);

const ALL_ACCESS = 'on ~* +@all';
const PW_LEN_MSG = 'Passwords length must be between 16-128 characters.';
const NO_PW_MSG = 'No password was provided. If you want to create/update the user without password, ' +
  'please use the NoPasswordRequired flag.';
const invalid = (param, rule) => `Invalid value for parameter ${param}: ${rule}`;
const PW_IN_ACL_MSG = invalid('AccessString', 'passwords cannot be set in an access string; use Passwords or AuthenticationMode.');
const RESET_MSG = invalid('AccessString', "reset cannot be used: ElastiCache manages the user's passwords.");
const IAM_NAME_MSG = 'User Id and User name must be same for authentication type: iam';
const NO_MODS_MSG = 'No modifications were requested.';
const DEFAULT_REQUIRED_MSG = 'User group needs to contain a user with the user name default.';
const dupName = (a, b, name) => `Users ${a} and ${b} have the same user name ${name}; a user group holds one user of each name.`;

const userARN = (id, account = ACCOUNT) => `arn:aws:elasticache:${REGION}:${account}:user:${id}`;
const groupARN = (id, account = ACCOUNT) => `arn:aws:elasticache:${REGION}:${account}:usergroup:${id}`;

/** The User the SDK should parse. */
function user(id, name, status, auth, { count, engine = 'redis', access = ALL_ACCESS, groups = [], account = ACCOUNT } = {}) {
  const a = { Type: auth };
  if (count !== undefined) a.PasswordCount = count;
  return {
    UserId: id, UserName: name, Status: status, Engine: engine,
    MinimumEngineVersion: engine === 'valkey' ? '7.2' : '6.0', AccessString: access,
    UserGroupIds: groups, Authentication: a, ARN: userARN(id, account),
  };
}
const defaultUser = (account = ACCOUNT, groups = []) => user('default', 'default', 'active', 'no-password', { account, groups });

/** The UserGroup the SDK should parse. */
function group(id, status, members, { engine = 'redis', pending, account = ACCOUNT } = {}) {
  const g = {
    UserGroupId: id, Status: status, Engine: engine, UserIds: members,
    MinimumEngineVersion: engine === 'valkey' ? '7.2' : '6.0',
    ReplicationGroups: [], ServerlessCaches: [], ARN: groupARN(id, account),
  };
  if (pending) g.PendingChanges = { UserIdsToAdd: pending[0], UserIdsToRemove: pending[1] };
  return g;
}

// ------------------------------------------------------------------ clients

/**
 * A client whose every answer's raw body (successes and errors) is pushed
 * to bodies, read below the deserializer and handed on to it intact.
 */
function client(server, bodies, accessKeyId = ACCOUNT) {
  const c = new ElastiCacheClient({
    endpoint: server.url, region: REGION, credentials: { accessKeyId, secretAccessKey: SECRET }, maxAttempts: 1,
  });
  c.middlewareStack.add((next, context) => async (args) => {
    const out = await next(args);
    const chunks = [];
    for await (const chunk of out.response.body) chunks.push(Buffer.from(chunk));
    const raw = Buffer.concat(chunks);
    bodies.push([context.commandName, raw.toString('utf8')]);
    out.response.body = new Uint8Array(raw);
    return out;
  }, { step: 'deserialize', priority: 'low', name: 'recordRawBody' });
  return c;
}



const createUser = (id, extra = {}) => new CreateUserCommand({
  UserId: id, UserName: id, Engine: 'redis', AccessString: ALL_ACCESS,
  ...(['Passwords', 'NoPasswordRequired', 'AuthenticationMode'].some((k) => k in extra) ? {} : { Passwords: [PW1] }),
  ...extra,
});
const createGroup = (id, UserIds, extra = {}) => new CreateUserGroupCommand({ UserGroupId: id, Engine: 'redis', UserIds, ...extra });
const modifyUser = (input) => new ModifyUserCommand(input);
const modifyGroup = (input) => new ModifyUserGroupCommand(input);
const describeUsers = (input = {}) => new DescribeUsersCommand(input);
const describeGroups = (input = {}) => new DescribeUserGroupsCommand(input);
const userIDs = (out) => out.Users.map((u) => u.UserId);

const invalidValue = (c, cmd, message) => fault(c, cmd, InvalidParameterValueException, 'InvalidParameterValue', message);
const invalidCombination = (c, cmd, message) =>
  fault(c, cmd, InvalidParameterCombinationException, 'InvalidParameterCombination', message);
const userNotFound = (c, cmd, id) => fault(c, cmd, UserNotFoundFault, 'UserNotFound', `User ${id} not found.`, 404);
const groupNotFound = (c, cmd, id) => fault(c, cmd, UserGroupNotFoundFault, 'UserGroupNotFound', `UserGroup ${id} not found.`, 404);

// ------------------------------------------------------------------- tests

function suite(title, extraFlags, tests) {
  describe(title, () => {
    let s; // this test's server
    let bodies; // [command, raw body] of every answer of this test
    beforeEach(async (t) => {
      bodies = [];
      s = await new Server(`users-${t.name.split(':')[0].replace(/\W+/g, '-')}`, ['--config', CONFIG_PATH, ...extraFlags]).start();
    });
    afterEach(async () => {
      // The server stops first, whatever the checks find: a live child
      // process would keep node (and the whole run) waiting.
      if (s && ALL_SERVERS.has(s)) await s.stop();
      // No answer, success or error, holds a password; nor the log.
      assert.ok(bodies.length > 0, 'no answer recorded');
      for (const [cmd, body] of bodies) {
        // The recorder saw the body itself, not an emptied stream.
        assert.match(body, /<RequestId>[0-9a-f-]{36}<\/RequestId>/, `the answer to ${cmd} was not recorded whole: ${body}`);
        for (const pw of PASSWORDS) assert.ok(!body.includes(pw), `the answer to ${cmd} holds a password:\n${body}`);
      }
      const log = s.logText();
      for (const pw of PASSWORDS) assert.ok(!log.includes(pw), "the server's log holds a password");
    });
    tests(() => s, (key) => client(s, bodies, key));
  });
}

suite('users and user groups (a server with a quota account)', [], (_server, mk) => {
  test('users: create (passwords, none, iam), describe, filter, modify, tags, delete', T, async () => {
    console.log(runLine());
    const c = mk();
    assert.deepEqual(await ok(c, new CreateUserCommand({
      UserId: 'App-User', UserName: 'app user', Engine: 'REDIS', AccessString: 'on ~app:* +@read',
      Passwords: [PW1, PW2], Tags: [{ Key: 'env', Value: 'test' }],
    })), user('app-user', 'app user', 'creating', 'password', { count: 2, access: 'on ~app:* +@read' }));
    assert.deepEqual(await ok(c, describeUsers({ UserId: 'APP-USER' })),
      { Users: [user('app-user', 'app user', 'active', 'password', { count: 2, access: 'on ~app:* +@read' })] });
    assert.deepEqual(await ok(c, createUser('open', { NoPasswordRequired: true, Engine: 'valkey' })),
      user('open', 'open', 'creating', 'no-password', { engine: 'valkey' }));
    assert.deepEqual(await ok(c, createUser('iam-user', { AuthenticationMode: { Type: 'iam' }, NoPasswordRequired: false })),
      user('iam-user', 'iam-user', 'creating', 'iam'));
    assert.deepEqual(await ok(c, createUser('moded', { AuthenticationMode: { Type: 'password', Passwords: [PW3] } })),
      user('moded', 'moded', 'creating', 'password', { count: 1 }));

    const all = await ok(c, describeUsers());
    assert.equal(all.Marker, undefined);
    assert.deepEqual(all.Users.map((u) => [u.UserId, u.Status]),
      [['app-user', 'active'], ['default', 'active'], ['iam-user', 'active'], ['moded', 'active'], ['open', 'active']]);
    assert.deepEqual(all.Users[1], defaultUser());
    assert.deepEqual(userIDs(await ok(c, describeUsers({ Engine: 'valkey' }))), ['open']);
    assert.deepEqual(userIDs(await ok(c, describeUsers({ Filters: [{ Name: 'user-id', Values: ['OPEN', 'default'] }] }))),
      ['default', 'open']);

    // Modify: access string, appended rules, passwords (one, two, none).
    const acl = 'on ~app:* -@all +@read -flushall';
    assert.deepEqual(await ok(c, modifyUser({ UserId: 'app-user', AccessString: 'on ~app:* -@all +@read' })),
      user('app-user', 'app user', 'modifying', 'password', { count: 2, access: 'on ~app:* -@all +@read' }));
    assert.deepEqual(await ok(c, modifyUser({ UserId: 'app-user', AppendAccessString: '-flushall' })),
      user('app-user', 'app user', 'modifying', 'password', { count: 2, access: acl }));
    assert.deepEqual((await ok(c, describeUsers({ UserId: 'app-user' }))).Users,
      [user('app-user', 'app user', 'active', 'password', { count: 2, access: acl })]);
    assert.deepEqual((await ok(c, modifyUser({ UserId: 'app-user', AuthenticationMode: { Type: 'password', Passwords: [PW3] } }))).Authentication,
      { Type: 'password', PasswordCount: 1 });
    assert.deepEqual((await ok(c, modifyUser({ UserId: 'app-user', Passwords: [PW1, PW2], NoPasswordRequired: false }))).Authentication,
      { Type: 'password', PasswordCount: 2 });
    assert.deepEqual(await ok(c, modifyUser({ UserId: 'app-user', NoPasswordRequired: true })),
      user('app-user', 'app user', 'modifying', 'no-password', { access: acl }));

    // Tags on the user's ARN; the default user has none.
    const a = userARN('app-user');
    assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: a })), { TagList: [{ Key: 'env', Value: 'test' }] });
    assert.deepEqual(await ok(c, new AddTagsToResourceCommand({ ResourceName: a, Tags: [{ Key: 'team', Value: 'core' }] })),
      { TagList: [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'core' }] });
    assert.deepEqual(await ok(c, new RemoveTagsFromResourceCommand({ ResourceName: a, TagKeys: ['env'] })),
      { TagList: [{ Key: 'team', Value: 'core' }] });
    assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: userARN('default') })), { TagList: [] });

    // Delete: the answer deleting, then NotFound (404) everywhere.
    assert.deepEqual(await ok(c, new DeleteUserCommand({ UserId: 'App-User' })),
      user('app-user', 'app user', 'deleting', 'no-password', { access: acl }));
    await userNotFound(c, describeUsers({ UserId: 'app-user' }), 'app-user');
    await userNotFound(c, modifyUser({ UserId: 'app-user', AccessString: 'on' }), 'app-user');
    await userNotFound(c, new DeleteUserCommand({ UserId: 'app-user' }), 'app-user');
    await userNotFound(c, new ListTagsForResourceCommand({ ResourceName: a }), 'app-user');
    assert.deepEqual(userIDs(await ok(c, describeUsers())), ['default', 'iam-user', 'moded', 'open']);
  });

  test('user groups: create with default, describe, add/remove, swap default, tags, delete', T, async () => {
    const c = mk();
    await ok(c, createUser('app'));
    await ok(c, createUser('ops', { Passwords: [PW2, PW3] }));
    await ok(c, createUser('my-default', { UserName: 'default', Passwords: [PW3] }));
    assert.deepEqual(await ok(c, createGroup('Web', ['default', 'app'], { Engine: 'REDIS', Tags: [{ Key: 'team', Value: 'core' }] })),
      group('web', 'creating', ['app', 'default']));
    assert.deepEqual(await ok(c, describeGroups({ UserGroupId: 'WEB' })), { UserGroups: [group('web', 'active', ['app', 'default'])] });
    assert.deepEqual((await ok(c, describeUsers({ UserId: 'default' }))).Users, [defaultUser(ACCOUNT, ['web'])]);
    assert.deepEqual(await ok(c, createGroup('kv', ['my-default'], { Engine: 'valkey' })),
      group('kv', 'creating', ['my-default'], { engine: 'valkey' }));
    assert.deepEqual(await ok(c, describeGroups()),
      { UserGroups: [group('kv', 'active', ['my-default'], { engine: 'valkey' }), group('web', 'active', ['app', 'default'])] });

    assert.deepEqual(await ok(c, modifyGroup({ UserGroupId: 'web', UserIdsToAdd: ['ops'], UserIdsToRemove: ['app'] })),
      group('web', 'modifying', ['default', 'ops'], { pending: [['ops'], ['app']] }));
    assert.deepEqual(await ok(c, describeGroups({ UserGroupId: 'web' })), { UserGroups: [group('web', 'active', ['default', 'ops'])] });
    assert.deepEqual((await ok(c, describeUsers({ UserId: 'app' }))).Users[0].UserGroupIds, []);
    // Swap AWS's default user for the account's own in one call.
    assert.deepEqual(await ok(c, modifyGroup({ UserGroupId: 'web', UserIdsToAdd: ['my-default'], UserIdsToRemove: ['default'] })),
      group('web', 'modifying', ['my-default', 'ops'], { pending: [['my-default'], ['default']] }));
    assert.deepEqual((await ok(c, describeUsers({ UserId: 'my-default' }))).Users[0].UserGroupIds, ['kv', 'web']);

    const a = groupARN('web');
    assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: a })), { TagList: [{ Key: 'team', Value: 'core' }] });
    assert.deepEqual(await ok(c, new AddTagsToResourceCommand({ ResourceName: a, Tags: [{ Key: 'env', Value: 'prod' }] })),
      { TagList: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'core' }] });
    assert.deepEqual(await ok(c, new RemoveTagsFromResourceCommand({ ResourceName: a, TagKeys: ['team'] })),
      { TagList: [{ Key: 'env', Value: 'prod' }] });

    // Deleting a member takes it out of its groups.
    assert.deepEqual(await ok(c, new DeleteUserCommand({ UserId: 'ops' })),
      user('ops', 'ops', 'deleting', 'password', { count: 2, groups: ['web'] }));
    assert.deepEqual((await ok(c, describeGroups({ UserGroupId: 'web' }))).UserGroups[0].UserIds, ['my-default']);

    assert.deepEqual(await ok(c, new DeleteUserGroupCommand({ UserGroupId: 'Web' })), group('web', 'deleting', ['my-default']));
    await groupNotFound(c, describeGroups({ UserGroupId: 'web' }), 'web');
    await groupNotFound(c, modifyGroup({ UserGroupId: 'web', UserIdsToAdd: ['app'] }), 'web');
    await groupNotFound(c, new DeleteUserGroupCommand({ UserGroupId: 'web' }), 'web');
    await groupNotFound(c, new ListTagsForResourceCommand({ ResourceName: a }), 'web');
    assert.equal((await ok(c, new DeleteUserGroupCommand({ UserGroupId: 'kv' }))).Status, 'deleting');
    assert.deepEqual(await ok(c, describeGroups()), { UserGroups: [] });
    assert.deepEqual(userIDs(await ok(c, describeUsers())), ['app', 'default', 'my-default']);
  });

  test('paginators: 22 users with default among them, 21 groups', T, async () => {
    const c = mk(PAGES_ACCOUNT);
    const ids = Array.from({ length: 21 }, (_, i) => `u${String(i + 1).padStart(2, '0')}`);
    for (const id of ids) await ok(c, createUser(id, { NoPasswordRequired: true }));
    const pages = [];
    for await (const page of paginateDescribeUsers({ client: c, pageSize: 20 }, {})) pages.push(page);
    assert.deepEqual(pages.map((p) => p.Users.length), [20, 2]);
    assert.ok(pages[0].Marker);
    const users = pages.flatMap((p) => p.Users);
    assert.deepEqual(users.map((u) => u.UserId), [...ids, 'default'].sort());
    assert.deepEqual(users.find((u) => u.UserId === 'default'), defaultUser(PAGES_ACCOUNT));

    const gids = Array.from({ length: 21 }, (_, i) => `g${String(i + 1).padStart(2, '0')}`);
    for (const id of gids) await ok(c, createGroup(id, ['default']));
    const gpages = [];
    for await (const page of paginateDescribeUserGroups({ client: c, pageSize: 20 }, {})) gpages.push(page);
    assert.deepEqual(gpages.map((p) => p.UserGroups.length), [20, 1]);
    assert.deepEqual(gpages.flatMap((p) => p.UserGroups.map((g) => g.UserGroupId)), gids);
    assert.deepEqual(gpages[1].UserGroups[0], group('g21', 'active', ['default'], { account: PAGES_ACCOUNT }));
  });

  test('user faults: exists, not found, access strings, passwords, combinations, default user, quota', T, async () => {
    const c = mk();
    await ok(c, createUser('app'));
    await fault(c, createUser('APP', { Passwords: [PW2] }), UserAlreadyExistsFault, 'UserAlreadyExists', 'User app already exists.');
    await fault(c, createUser('Default', { NoPasswordRequired: true }), UserAlreadyExistsFault, 'UserAlreadyExists',
      'User default already exists.');
    for (const [acl, msg] of [[`on >${PW2} ~* +@all`, PW_IN_ACL_MSG], ['on ~* resetpass', PW_IN_ACL_MSG],
      ['on ~* +@all reset', RESET_MSG], ['on ~* +@nosuch', invalid('AccessString', '+@nosuch names no command category.')],
      ['on ~* bogus', invalid('AccessString', 'bogus is not an access rule.')]]) {
      await invalidValue(c, createUser('acl', { AccessString: acl }), msg);
    }
    await invalidValue(c, createUser('pw', { Passwords: [PW_SHORT] }), PW_LEN_MSG);
    await invalidValue(c, createUser('pw', { Passwords: [PW1, PW_LONG] }), PW_LEN_MSG);
    await invalidValue(c, createUser('pw', { Passwords: [PW1, PW2, PW3] }), invalid('Passwords', 'a user has at most 2 passwords.'));
    await invalidValue(c, createUser('pw', { AuthenticationMode: { Type: 'password', Passwords: [PW_SHORT] } }), PW_LEN_MSG);
    await invalidValue(c, createUser('pw', { NoPasswordRequired: false }), NO_PW_MSG);
    await invalidCombination(c, createUser('pw', { UserName: 'other', AuthenticationMode: { Type: 'iam' } }), IAM_NAME_MSG);
    await invalidCombination(c, createUser('pw', { Passwords: [PW1], NoPasswordRequired: true }),
      'Passwords cannot be specified when NoPasswordRequired is true.');
    await invalidValue(c, createUser('1st'), invalid('UserId', 'must begin with a letter.'));

    await userNotFound(c, describeUsers({ UserId: 'nobody' }), 'nobody');
    await userNotFound(c, modifyUser({ UserId: 'nobody', AccessString: 'on' }), 'nobody');
    await userNotFound(c, new DeleteUserCommand({ UserId: 'Nobody' }), 'nobody');
    await invalidValue(c, modifyUser({ UserId: 'default', AccessString: 'off' }), 'The default user cannot be modified.');
    await invalidValue(c, new DeleteUserCommand({ UserId: 'default' }), 'The default user cannot be deleted.');
    await invalidValue(c, new AddTagsToResourceCommand({ ResourceName: userARN('default'), Tags: [{ Key: 'k', Value: 'v' }] }),
      'The default user cannot be tagged.');
    await invalidCombination(c, modifyUser({ UserId: 'app' }), NO_MODS_MSG);
    await invalidCombination(c, modifyUser({ UserId: 'app', AccessString: 'on', AppendAccessString: '-get' }),
      'AccessString and AppendAccessString cannot both be specified.');
    await invalidValue(c, modifyUser({ UserId: 'app', Passwords: [PW_LONG] }), PW_LEN_MSG);
    await invalidValue(c, modifyUser({ UserId: 'app', Passwords: [PW1, PW2, PW3] }), invalid('Passwords', 'a user has at most 2 passwords.'));
    assert.deepEqual((await ok(c, describeUsers({ UserId: 'app' }))).Users, [user('app', 'app', 'active', 'password', { count: 1 })]);

    const q = mk(QUOTA_ACCOUNT);
    await ok(q, createUser('one'));
    await ok(q, createUser('two'));
    await fault(q, createUser('three'), UserQuotaExceededFault, 'UserQuotaExceeded', 'The quota of users has been exceeded.');
    assert.deepEqual(userIDs(await ok(q, describeUsers())), ['default', 'one', 'two']);
  });

  test('user group faults: default required, duplicate names, not found, members, default user, quota', T, async () => {
    const c = mk();
    await ok(c, createUser('app'));
    await ok(c, createUser('open', { NoPasswordRequired: true }));
    await ok(c, createUser('my-default', { UserName: 'default', Passwords: [PW2] }));
    await fault(c, createGroup('g', ['app']), DefaultUserRequired, 'DefaultUserRequired', DEFAULT_REQUIRED_MSG);
    await fault(c, createGroup('g', ['default', 'my-default']), DuplicateUserNameFault, 'DuplicateUserName',
      dupName('default', 'my-default', 'default'));
    await userNotFound(c, createGroup('g', ['default', 'nobody']), 'nobody');
    await invalidValue(c, createGroup('g', ['my-default', 'open'], { Engine: 'valkey' }),
      'No password user open cannot be added to user group with engine Valkey');
    await ok(c, createGroup('g', ['default', 'app']));
    await fault(c, createGroup('G', ['default']), UserGroupAlreadyExistsFault, 'UserGroupAlreadyExists', 'User group g already exists.');

    await fault(c, modifyGroup({ UserGroupId: 'g', UserIdsToRemove: ['default'] }), DefaultUserRequired, 'DefaultUserRequired',
      DEFAULT_REQUIRED_MSG);
    await fault(c, modifyGroup({ UserGroupId: 'g', UserIdsToAdd: ['my-default'] }), DuplicateUserNameFault, 'DuplicateUserName',
      dupName('default', 'my-default', 'default'));
    await userNotFound(c, modifyGroup({ UserGroupId: 'g', UserIdsToAdd: ['nobody'] }), 'nobody');
    await invalidValue(c, modifyGroup({ UserGroupId: 'g', UserIdsToRemove: ['open'] }), 'User open is not a member of user group g.');
    await invalidCombination(c, modifyGroup({ UserGroupId: 'g' }), NO_MODS_MSG);
    await invalidCombination(c, modifyGroup({ UserGroupId: 'g', UserIdsToAdd: ['app'], UserIdsToRemove: ['app'] }),
      'User app cannot be both added to and removed from a user group.');
    await groupNotFound(c, modifyGroup({ UserGroupId: 'nobody', UserIdsToAdd: ['app'] }), 'nobody');
    await groupNotFound(c, describeGroups({ UserGroupId: 'nobody' }), 'nobody');
    await groupNotFound(c, new DeleteUserGroupCommand({ UserGroupId: 'nobody' }), 'nobody');
    assert.deepEqual(await ok(c, describeGroups({ UserGroupId: 'g' })), { UserGroups: [group('g', 'active', ['app', 'default'])] });

    await ok(c, createGroup('kv', ['my-default'], { Engine: 'valkey' }));
    await fault(c, new DeleteUserCommand({ UserId: 'my-default' }), DefaultUserAssociatedToUserGroupFault,
      'DefaultUserAssociatedToUserGroup', 'User my-default is the default user of user group kv.');

    // More than 100 users in one group (the count is checked first).
    const many = ['default', ...Array.from({ length: 100 }, (_, i) => `user-${String(i).padStart(3, '0')}`)];
    await fault(c, createGroup('big', many), UserGroupQuotaExceededFault, 'UserGroupQuotaExceeded',
      'The number of users exceeds the user group limit.');

    const q = mk(QUOTA_ACCOUNT);
    await ok(q, createGroup('one', ['default']));
    await fault(q, createGroup('two', ['default']), UserGroupQuotaExceededFault, 'UserGroupQuotaExceeded', 'Quota exceeded for user groups.');
  });
});

suite('users and user groups (a server with --user-transition-delay 1h)', ['--user-transition-delay', '1h'], (_server, mk) => {
  test('not active: InvalidUserState, InvalidUserGroupState', T, async () => {
    const c = mk();
    assert.equal((await ok(c, createUser('app'))).Status, 'creating');
    assert.equal((await ok(c, describeUsers({ UserId: 'app' }))).Users[0].Status, 'creating');
    await fault(c, modifyUser({ UserId: 'app', AccessString: 'off' }), InvalidUserStateFault, 'InvalidUserState',
      'User app has status creating. Only active users can be modified.');
    await fault(c, new DeleteUserCommand({ UserId: 'app' }), InvalidUserStateFault, 'InvalidUserState',
      'User app has status creating. Only active users can be deleted.');
    assert.equal((await ok(c, createGroup('g', ['default']))).Status, 'creating');
    assert.equal((await ok(c, describeGroups({ UserGroupId: 'g' }))).UserGroups[0].Status, 'creating');
    await fault(c, modifyGroup({ UserGroupId: 'g', UserIdsToAdd: ['app'] }), InvalidUserGroupStateFault, 'InvalidUserGroupState',
      'User group g has status creating. Only active user groups can be modified.');
    await fault(c, new DeleteUserGroupCommand({ UserGroupId: 'g' }), InvalidUserGroupStateFault, 'InvalidUserGroupState',
      'User group g has status creating. Only active user groups can be deleted.');
  });
});
