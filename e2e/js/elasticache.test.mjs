// End-to-end suite: the AWS SDK for JavaScript v3 (@aws-sdk/client-elasticache,
// pinned in package.json / package-lock.json) against a real elasticache-server.
//
// Covers all nine operations of the cache security group family (SPEC §1–§5,
// wire reference §4 "How clients surface errors", JS v3): every success path,
// the SDK paginators, every modeled error by `instanceof`, the text round trip,
// the modern-account era from --config and isolation between accounts.
//
// Run:  SERVER_BIN=/path/to/elasticache-server JS_SDK_DIR=/path/to/js-sdk \
//         node --test --test-reporter=spec e2e/js/elasticache.test.mjs
// (e2e/js_test.go does this; scripts/install-js-sdk.sh installs the SDK into
// JS_SDK_DIR, a cache directory outside the repo, and prints its node_modules.)
//
// How the SDK is loaded: see harness.mjs. In short, the SDK lives outside the repo, so a bare
// `import '@aws-sdk/client-elasticache'` cannot resolve it from this file, and
// NODE_PATH does not apply to ESM. createRequire() anchored at
// ${JS_SDK_DIR}/package.json resolves the package from JS_SDK_DIR/node_modules
// exactly as a script in that directory would (its CommonJS build, dist-cjs);
// every class then comes from that one module instance, so `instanceof` holds.
//
// The suite starts its own servers from SERVER_BIN on 127.0.0.1:0, each in a
// temp data directory, reads the address from the JSON log, polls /health,
// and stops each with SIGTERM, expecting exit code 0. It never skips.
// Clients are hermetic: static credentials, maxAttempts 1, no instance
// metadata, empty AWS config and credential files, no profile.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  ALL_SERVERS, SERVER_BIN, Server, TMP, UUID, runLine, sdk,
} from './harness.mjs';

const {
  ElastiCacheClient, ElastiCacheServiceException,
  CreateCacheSecurityGroupCommand, DescribeCacheSecurityGroupsCommand, DeleteCacheSecurityGroupCommand,
  AuthorizeCacheSecurityGroupIngressCommand, RevokeCacheSecurityGroupIngressCommand,
  AddTagsToResourceCommand, ListTagsForResourceCommand, RemoveTagsFromResourceCommand,
  DescribeEventsCommand,
  paginateDescribeCacheSecurityGroups, paginateDescribeEvents,
  CacheSecurityGroupAlreadyExistsFault, CacheSecurityGroupNotFoundFault, CacheSecurityGroupQuotaExceededFault,
  InvalidParameterValueException, InvalidParameterCombinationException, TagQuotaPerResourceExceeded,
  InvalidARNFault, TagNotFoundFault, AuthorizationAlreadyExistsFault, AuthorizationNotFoundFault,
  InvalidCacheSecurityGroupStateFault, CacheClusterNotFoundFault,
} = sdk;

// ---------------------------------------------------------------- constants

const SECRET = 'e2e-secret-key';
const DEFAULT_ACCOUNT = '000000000000';
const TEST_TIMEOUT_MS = 60_000; // a hang fails the test instead of the whole run

const OWNER = '123456789012';
const OWNER2 = '210987654321';
const GROUP_EVENT = 'cache-security-group';
const TRICKY_TEXT = '<&>"\' ]]> \u00e9 \u65e5\u672c';
// Tag keys and values allow only Unicode letters, digits, spaces and
// _ . : / = + - @ (SPEC §4): the same non-ASCII letters, with every allowed
// punctuation mark.
const TRICKY_TAG_KEY = 'cl\u00e9 \u65e5\u672c \u043a\u043b\u044e\u0447';
const TRICKY_TAG_VALUE = '\u00e9 \u65e5\u672c \u03a9mega \u00fc_.:/=+-@ 42';

const MODERN_MSG = 'Use of cache security groups is not permitted in this API version for your account.';
const QUOTA_MSG = 'Quota exceeded for cache security groups.';
const TAG_QUOTA_MSG = 'The maximum number of tags permitted on a resource is 50.';
const INVALID_ARN_MSG = 'Input ARN string does not have 7 components.';
const DEFAULT_DELETE_MSG = 'The default cache security group cannot be deleted.';
const MAX_RECORDS_MSG = 'Invalid value for parameter MaxRecords: must be between 20 and 100.';
const MARKER_MSG = 'Invalid value for parameter Marker: the marker is not valid for this request.';
const OWNER_MSG = 'Invalid value for parameter EC2SecurityGroupOwnerId: must be a 12-digit AWS account ID.';
const TAG_VALUE_MSG = 'Invalid value for parameter Tags: tag values may contain only Unicode letters, digits, spaces and _ . : / = + - @.';
const notFound = (name) => `CacheSecurityGroup ${name} not found.`;
const alreadyExists = (name) => `CacheSecurityGroup ${name} already exists.`;
const alreadyAuthorized = (ec2, owner, group) =>
  `EC2 security group ${ec2} (owner ${owner}) is already authorized for CacheSecurityGroup ${group}.`;
const notAuthorized = (ec2, owner, group) =>
  `EC2 security group ${ec2} (owner ${owner}) is not authorized for CacheSecurityGroup ${group}.`;
const entryInState = (ec2, owner, status, group) =>
  `EC2 security group ${ec2} (owner ${owner}) is ${status} in CacheSecurityGroup ${group}.`;
const deleteInTransition = (group, status) =>
  `CacheSecurityGroup ${group} has EC2 security groups that are ${status}.`;
const tagNotFound = (key, arn) => `Tag ${key} not found on resource ${arn}.`;

// Event messages (SPEC §5 [dec], service/ingress.go, service/securitygroups.go).
const EV_CREATED = 'Cache security group created';
const EV_DELETED = 'Cache security group deleted';
const evAuthorized = (ec2, owner) => `Authorized EC2 security group ${ec2} (owner ${owner})`;
const evRevoked = (ec2, owner) => `Revoked EC2 security group ${ec2} (owner ${owner})`;

const MODERN_ACCOUNT = '999999999999';
const CONFIG_YAML = `# e2e (JS): one modern account
accounts:
  - id: "${MODERN_ACCOUNT}"
    era: modern
`;

// ------------------------------------------------------------------ clients

let accountSeq = 100000000000 + Math.floor(Math.random() * 1000) * 1000;
/** A fresh 12-digit access key, i.e. a fresh account (SPEC §1). */
function newAccount() {
  accountSeq += 1;
  return String(accountSeq);
}

function client(server, accessKeyId, region = 'us-east-1') {
  return new ElastiCacheClient({
    endpoint: server.url,
    region,
    credentials: { accessKeyId, secretAccessKey: SECRET },
    maxAttempts: 1,
  });
}

const arn = (region, account, name) => `arn:aws:elasticache:${region}:${account}:securitygroup:${name}`;
const clusterARN = (region, account, name) => `arn:aws:elasticache:${region}:${account}:cluster:${name}`;

function group(account, region, name, description, ec2s = []) {
  return { OwnerId: account, CacheSecurityGroupName: name, Description: description, EC2SecurityGroups: ec2s, ARN: arn(region, account, name) };
}
const ec2 = (name, owner, status) => ({ Status: status, EC2SecurityGroupName: name, EC2SecurityGroupOwnerId: owner });
const defaultGroup = (account, region) => group(account, region, 'default', 'default');
const tags = (...pairs) => pairs.map(([Key, Value]) => ({ Key, Value }));

/** Sends cmd; checks the success metadata and returns the output without $metadata. */
async function ok(c, cmd) {
  const out = await c.send(cmd);
  const { $metadata, ...rest } = out;
  assert.equal($metadata.httpStatusCode, 200, `${cmd.constructor.name}: status`);
  assert.match($metadata.requestId ?? '', UUID, `${cmd.constructor.name}: $metadata.requestId (from x-amzn-RequestId)`);
  assert.equal($metadata.attempts, 1);
  return rest;
}

/**
 * Sends cmd and checks that it fails with the modeled class Cls (by
 * instanceof; name is the shape name), the wire Code, the exact message (or
 * a RegExp), the HTTP status, $fault 'client', a UUID request ID and one
 * attempt. Returns the error.
 */
async function fault(c, cmd, Cls, code, message, status) {
  let err;
  try {
    const out = await c.send(cmd);
    assert.fail(`${cmd.constructor.name}(${JSON.stringify(cmd.input)}) succeeded, expected ${Cls.name}: ${JSON.stringify(out)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  const shown = `${cmd.constructor.name}(${JSON.stringify(cmd.input)}) -> ${err?.name}: ${err?.message} ` +
    `(Code ${err?.Code}, ${JSON.stringify(err?.$metadata)}, $fault ${err?.$fault})`;
  assert.ok(err instanceof Cls, `not an instance of ${Cls.name}: ${shown}\n${err?.stack}`);
  assert.ok(err instanceof ElastiCacheServiceException, shown);
  assert.equal(err.name, Cls.name, shown);
  assert.equal(err.Code, code, shown);
  if (message instanceof RegExp) assert.match(err.message, message, shown);
  else assert.equal(err.message, message, shown);
  assert.equal(err.$fault, 'client', shown);
  assert.equal(err.$metadata.httpStatusCode, status, shown);
  assert.match(err.$metadata.requestId ?? '', UUID, shown);
  assert.equal(err.$metadata.attempts, 1, shown);
  return err;
}

const createCmd = (name, description = 'd', Tags) =>
  new CreateCacheSecurityGroupCommand({ CacheSecurityGroupName: name, Description: description, ...(Tags ? { Tags } : {}) });
const describeCmd = (input = {}) => new DescribeCacheSecurityGroupsCommand(input);
const deleteCmd = (name) => new DeleteCacheSecurityGroupCommand({ CacheSecurityGroupName: name });
const authorizeCmd = (name, ec2Name, owner) =>
  new AuthorizeCacheSecurityGroupIngressCommand({ CacheSecurityGroupName: name, EC2SecurityGroupName: ec2Name, EC2SecurityGroupOwnerId: owner });
const revokeCmd = (name, ec2Name, owner) =>
  new RevokeCacheSecurityGroupIngressCommand({ CacheSecurityGroupName: name, EC2SecurityGroupName: ec2Name, EC2SecurityGroupOwnerId: owner });
const addTagsCmd = (ResourceName, Tags) => new AddTagsToResourceCommand({ ResourceName, Tags });
const listTagsCmd = (ResourceName) => new ListTagsForResourceCommand({ ResourceName });
const removeTagsCmd = (ResourceName, TagKeys) => new RemoveTagsFromResourceCommand({ ResourceName, TagKeys });
const eventsCmd = (input = {}) => new DescribeEventsCommand(input);

/** The one group DescribeCacheSecurityGroups returns for name. */
async function describeOne(c, name) {
  const out = await ok(c, describeCmd({ CacheSecurityGroupName: name }));
  assert.equal(out.Marker, undefined);
  assert.equal(out.CacheSecurityGroups.length, 1, JSON.stringify(out));
  return out.CacheSecurityGroups[0];
}

async function absent(c, name) {
  await fault(c, describeCmd({ CacheSecurityGroupName: name }), CacheSecurityGroupNotFoundFault,
    'CacheSecurityGroupNotFound', notFound(name.toLowerCase()), 404);
}

/**
 * events are exactly want, a list of [SourceIdentifier, Message], newest
 * first: cache-security-group events whose Date is a valid Date within
 * [t0, t1] (ms), in non-increasing order.
 */
function assertEvents(events, want, t0, t1) {
  const shown = JSON.stringify(events, null, 1);
  assert.deepEqual(events.map((e) => [e.SourceIdentifier, e.Message]), want, shown);
  for (const e of events) {
    assert.equal(e.SourceType, GROUP_EVENT, shown);
    assert.ok(e.Date instanceof Date, `Date is not a Date: ${shown}`);
    assert.ok(!Number.isNaN(e.Date.getTime()), `Date is invalid: ${shown}`);
    assert.ok(e.Date.getTime() >= t0 && e.Date.getTime() <= t1,
      `event date ${e.Date.toISOString()} outside [${new Date(t0).toISOString()}, ${new Date(t1).toISOString()}]`);
  }
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i - 1].Date.getTime() >= events[i].Date.getTime(), `events are not newest first: ${shown}`);
  }
}

/** Every page of a paginator: [items, pages (item count and Marker of each)]. */
async function allPages(paginator, key) {
  const items = [];
  const pages = [];
  for await (const page of paginator) {
    assert.equal(page.$metadata.httpStatusCode, 200);
    items.push(...page[key]);
    pages.push([page[key].length, page.Marker]);
    assert.ok(pages.length < 20, `paginator does not terminate: ${JSON.stringify(pages)}`);
  }
  return [items, pages];
}

// ------------------------------------------------------------------- tests

const T = { timeout: TEST_TIMEOUT_MS };
let MAIN; // the shared server of most scenarios: default settings

before(async () => {
  console.log(runLine());
  MAIN = await new Server('main').start();
});

after(async () => {
  if (MAIN && ALL_SERVERS.has(MAIN)) await MAIN.stop();
});

describe('CreateCacheSecurityGroup / DescribeCacheSecurityGroups / DeleteCacheSecurityGroup', () => {
  test('create: every field, lowercase name, ARN, OwnerId from a 12-digit key, EC2SecurityGroups []', T, async () => {
    const key = newAccount();
    const region = 'eu-west-2';
    const c = client(MAIN, key, region);
    const out = await ok(c, createCmd('Web-Tier-1', 'web tier', [{ Key: 'env', Value: 'prod' }, { Key: 'novalue' }]));
    const want = group(key, region, 'web-tier-1', 'web tier');
    assert.deepEqual(out, { CacheSecurityGroup: want });
    assert.deepEqual(out.CacheSecurityGroup.EC2SecurityGroups, []);
    // Found by any spelling, returned lowercase.
    assert.deepEqual(await describeOne(c, 'WEB-tier-1'), want);
    // The whole list: name order, default included, no Marker.
    assert.deepEqual(await ok(c, describeCmd()), { CacheSecurityGroups: [defaultGroup(key, region), want] });
    // Nothing is visible across regions (SPEC §1).
    await absent(client(MAIN, key, 'eu-west-3'), 'web-tier-1');
  });

  test('account rule: a key that is not 12 digits is the default account', T, async () => {
    const region = 'ap-southeast-2';
    for (const [key, account, name] of [['AKIDEXAMPLE', DEFAULT_ACCOUNT, 'acct-js-akid'],
      ['12345678901', DEFAULT_ACCOUNT, 'acct-js-11digits'], ['12345678901a', DEFAULT_ACCOUNT, 'acct-js-letter'],
      ['123456789012', '123456789012', 'acct-js-12digits']]) {
      const out = await ok(client(MAIN, key, region), createCmd(name, 'account rule'));
      assert.deepEqual(out.CacheSecurityGroup, group(account, region, name, 'account rule'), key);
    }
    await absent(client(MAIN, '123456789012', region), 'acct-js-akid');
  });

  test('describe: by name in any case, default, name order', T, async () => {
    const key = newAccount();
    const region = 'us-west-2';
    const c = client(MAIN, key, region);
    for (const n of ['Zeta', 'alpha', 'Mid-1']) await ok(c, createCmd(n, `d ${n}`));
    assert.deepEqual(await describeOne(c, 'ALPHA'), group(key, region, 'alpha', 'd alpha'));
    assert.deepEqual(await describeOne(c, 'DeFaUlT'), defaultGroup(key, region));
    assert.deepEqual(await ok(c, describeCmd({ MaxRecords: 20 })), {
      CacheSecurityGroups: [group(key, region, 'alpha', 'd alpha'), defaultGroup(key, region),
        group(key, region, 'mid-1', 'd Mid-1'), group(key, region, 'zeta', 'd Zeta')],
    });
  });

  test('delete: empty answer, then not found; the name is free again', T, async () => {
    const key = newAccount();
    const c = client(MAIN, key);
    await ok(c, createCmd('gone-soon', 'x'));
    assert.deepEqual(await ok(c, deleteCmd('GONE-SOON')), {});
    await absent(c, 'gone-soon');
    await fault(c, deleteCmd('gone-soon'), CacheSecurityGroupNotFoundFault, 'CacheSecurityGroupNotFound', notFound('gone-soon'), 404);
    assert.deepEqual((await ok(c, createCmd('gone-soon', 'y'))).CacheSecurityGroup, group(key, 'us-east-1', 'gone-soon', 'y'));
  });

  test('text round trip: <&>"\' ]]> é 日本 in Description', T, async () => {
    const key = newAccount();
    const c = client(MAIN, key, 'eu-central-1');
    const out = await ok(c, createCmd('text', TRICKY_TEXT));
    assert.equal(out.CacheSecurityGroup.Description, TRICKY_TEXT);
    const got = await describeOne(c, 'text');
    assert.deepEqual(Buffer.from(got.Description, 'utf8'), Buffer.from(TRICKY_TEXT, 'utf8'));
  });

  test('errors: AlreadyExists, NotFound, InvalidParameterValue, TagQuota on create', T, async () => {
    const key = newAccount();
    const c = client(MAIN, key);
    await ok(c, createCmd('dup', 'x'));
    await fault(c, createCmd('DUP', 'y'), CacheSecurityGroupAlreadyExistsFault, 'CacheSecurityGroupAlreadyExists', alreadyExists('dup'), 400);
    await fault(c, describeCmd({ CacheSecurityGroupName: 'No-Such' }), CacheSecurityGroupNotFoundFault,
      'CacheSecurityGroupNotFound', notFound('no-such'), 404);
    // The SDK sends "" as CacheSecurityGroupName= (present, empty).
    await fault(c, createCmd('', 'x'), InvalidParameterValueException, 'InvalidParameterValue', 'CacheSecurityGroupName is required', 400);
    await fault(c, createCmd('ok-name', ''), InvalidParameterValueException, 'InvalidParameterValue', 'Description is required', 400);
    await fault(c, deleteCmd(''), InvalidParameterValueException, 'InvalidParameterValue', 'CacheSecurityGroupName is required', 400);
    await fault(c, createCmd('bad_name', 'x'), InvalidParameterValueException, 'InvalidParameterValue',
      'Invalid value for parameter CacheSecurityGroupName: must contain only ASCII letters, digits and hyphens.', 400);
    await fault(c, createCmd('Default', 'x'), InvalidParameterValueException, 'InvalidParameterValue',
      'Invalid value for parameter CacheSecurityGroupName: the name default is reserved for the default cache security group.', 400);
    await fault(c, deleteCmd('Default'), InvalidParameterValueException, 'InvalidParameterValue', DEFAULT_DELETE_MSG, 400);
    for (const n of [19, 0, -1, 101]) {
      await fault(c, describeCmd({ MaxRecords: n }), InvalidParameterValueException, 'InvalidParameterValue', MAX_RECORDS_MSG, 400);
    }
    for (const m of ['forged', 'AAAA']) {
      await fault(c, describeCmd({ Marker: m }), InvalidParameterValueException, 'InvalidParameterValue', MARKER_MSG, 400);
    }
    // 51 tags at create: refused, nothing created; 50 is the limit itself.
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${String(i).padStart(2, '0')}`, Value: 'v' }));
    await fault(c, createCmd('many-tags', 'x', many), TagQuotaPerResourceExceeded, 'TagQuotaPerResourceExceeded', TAG_QUOTA_MSG, 400);
    await absent(c, 'many-tags');
    await ok(c, createCmd('fifty-tags', 'x', many.slice(0, 50)));
    // A tag value outside the allowed characters: refused, nothing created.
    await fault(c, createCmd('bad-tag', 'x', [{ Key: 'k', Value: TRICKY_TEXT }]), InvalidParameterValueException,
      'InvalidParameterValue', TAG_VALUE_MSG, 400);
    await absent(c, 'bad-tag');
    // None of the refused requests left anything behind.
    assert.deepEqual((await ok(c, describeCmd())).CacheSecurityGroups.map((g) => g.CacheSecurityGroupName),
      ['default', 'dup', 'fifty-tags']);
  });
});

describe('pagination with the SDK paginators (pageSize 20, 45 items)', () => {
  const key = newAccount();
  const region = 'ca-central-1';
  const names = Array.from({ length: 45 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
  let c;
  let t0;
  let t1;

  before(async () => {
    c = client(MAIN, key, region);
    t0 = Date.now();
    for (const n of names) await ok(c, createCmd(n, 'p'));
    t1 = Date.now();
  });

  test('paginateDescribeCacheSecurityGroups: every group once, in name order, then stops', T, async () => {
    const [groups, pages] = await allPages(paginateDescribeCacheSecurityGroups({ client: c, pageSize: 20 }, {}), 'CacheSecurityGroups');
    const got = groups.map((g) => g.CacheSecurityGroupName);
    const want = ['default', ...names]; // "default" < "page-…"
    assert.deepEqual(got.filter((n, i) => got.indexOf(n) !== i), [], 'groups returned more than once');
    assert.deepEqual(got, want);
    assert.deepEqual(pages.map(([n]) => n), [20, 20, 6]);
    assert.ok(pages.slice(0, -1).every(([, m]) => typeof m === 'string' && m.length > 0), JSON.stringify(pages));
    assert.equal(pages.at(-1)[1], undefined, 'the last page must carry no Marker');
    assert.deepEqual(groups[1], group(key, region, 'page-00', 'p'));
  });

  test('paginateDescribeEvents: every event once, newest first, then stops', T, async () => {
    const [events, pages] = await allPages(paginateDescribeEvents({ client: c, pageSize: 20 }, {}), 'Events');
    assert.deepEqual(pages.map(([n]) => n), [20, 20, 5]);
    assert.ok(pages.slice(0, -1).every(([, m]) => typeof m === 'string' && m.length > 0), JSON.stringify(pages));
    assert.equal(pages.at(-1)[1], undefined, 'the last page must carry no Marker');
    assertEvents(events, [...names].reverse().map((n) => [n, EV_CREATED]), t0, t1);
  });

  test('a marker of one operation is refused by the other', T, async () => {
    const page = await ok(c, describeCmd({ MaxRecords: 20 }));
    assert.ok(page.Marker);
    await fault(c, eventsCmd({ MaxRecords: 20, Marker: page.Marker }), InvalidParameterValueException,
      'InvalidParameterValue', MARKER_MSG, 400);
    await fault(client(MAIN, newAccount(), region), describeCmd({ MaxRecords: 20, Marker: page.Marker }),
      InvalidParameterValueException, 'InvalidParameterValue', MARKER_MSG, 400);
    for (const n of [19, 101]) {
      await fault(c, eventsCmd({ MaxRecords: n }), InvalidParameterValueException, 'InvalidParameterValue', MAX_RECORDS_MSG, 400);
    }
  });
});

describe('AuthorizeCacheSecurityGroupIngress / RevokeCacheSecurityGroupIngress', () => {
  test('authorizing → authorized, revoking → gone, insertion order', T, async () => {
    const key = newAccount();
    const region = 'eu-west-1';
    const c = client(MAIN, key, region);
    await ok(c, createCmd('Ing', 'ingress'));
    let out = await ok(c, authorizeCmd('ING', 'web', OWNER));
    assert.deepEqual(out, { CacheSecurityGroup: group(key, region, 'ing', 'ingress', [ec2('web', OWNER, 'authorizing')]) });
    assert.deepEqual(await describeOne(c, 'ing'), group(key, region, 'ing', 'ingress', [ec2('web', OWNER, 'authorized')]));
    out = await ok(c, authorizeCmd('ing', 'app', OWNER2));
    assert.deepEqual(out.CacheSecurityGroup.EC2SecurityGroups, [ec2('web', OWNER, 'authorized'), ec2('app', OWNER2, 'authorizing')]);
    out = await ok(c, revokeCmd('Ing', 'web', OWNER));
    assert.deepEqual(out, {
      CacheSecurityGroup: group(key, region, 'ing', 'ingress', [ec2('web', OWNER, 'revoking'), ec2('app', OWNER2, 'authorized')]),
    });
    assert.deepEqual(await describeOne(c, 'ing'), group(key, region, 'ing', 'ingress', [ec2('app', OWNER2, 'authorized')]));
    // Revoked entries no longer hold a delete; authorized ones never did.
    assert.deepEqual(await ok(c, deleteCmd('ing')), {});
    await absent(c, 'ing');
  });

  test('text round trip in EC2SecurityGroupName', T, async () => {
    const key = newAccount();
    const c = client(MAIN, key);
    await ok(c, createCmd('ing-text', 't'));
    const out = await ok(c, authorizeCmd('ing-text', TRICKY_TEXT, OWNER));
    assert.deepEqual(out.CacheSecurityGroup.EC2SecurityGroups, [ec2(TRICKY_TEXT, OWNER, 'authorizing')]);
    assert.deepEqual((await describeOne(c, 'ing-text')).EC2SecurityGroups, [ec2(TRICKY_TEXT, OWNER, 'authorized')]);
  });

  test('errors: AuthorizationAlreadyExists, AuthorizationNotFound (404), NotFound, InvalidParameterValue', T, async () => {
    const key = newAccount();
    const c = client(MAIN, key);
    await ok(c, createCmd('ing-err', 'e'));
    await ok(c, authorizeCmd('ing-err', 'web', OWNER));
    await fault(c, authorizeCmd('ING-ERR', 'web', OWNER), AuthorizationAlreadyExistsFault, 'AuthorizationAlreadyExists',
      alreadyAuthorized('web', OWNER, 'ing-err'), 400);
    // (web, OWNER2) and (WEB, OWNER) are other entries: names match exactly.
    await fault(c, revokeCmd('ing-err', 'web', OWNER2), AuthorizationNotFoundFault, 'AuthorizationNotFound',
      notAuthorized('web', OWNER2, 'ing-err'), 404);
    await fault(c, revokeCmd('ing-err', 'WEB', OWNER), AuthorizationNotFoundFault, 'AuthorizationNotFound',
      notAuthorized('WEB', OWNER, 'ing-err'), 404);
    for (const owner of ['12345678901', '1234567890123', '12345678901a', 'abcdefghijkl']) {
      await fault(c, authorizeCmd('ing-err', 'app', owner), InvalidParameterValueException, 'InvalidParameterValue', OWNER_MSG, 400);
      await fault(c, revokeCmd('ing-err', 'web', owner), InvalidParameterValueException, 'InvalidParameterValue', OWNER_MSG, 400);
    }
    await fault(c, authorizeCmd('ing-err', '', OWNER), InvalidParameterValueException, 'InvalidParameterValue',
      'EC2SecurityGroupName is required', 400);
    for (const cmd of [authorizeCmd('No-Such', 'web', OWNER), revokeCmd('No-Such', 'web', OWNER)]) {
      await fault(c, cmd, CacheSecurityGroupNotFoundFault, 'CacheSecurityGroupNotFound', notFound('no-such'), 404);
    }
    await absent(c, 'no-such');
    assert.deepEqual((await describeOne(c, 'ing-err')).EC2SecurityGroups, [ec2('web', OWNER, 'authorized')]);
  });
});

describe('AddTagsToResource / ListTagsForResource / RemoveTagsFromResource', () => {
  test('tags in key order, "" for a null value, overwrite, remove, quota', T, async () => {
    const key = newAccount();
    const region = 'ap-south-1';
    const c = client(MAIN, key, region);
    const out = await ok(c, createCmd('Tag-JS', 't', [{ Key: 'env', Value: 'prod' }, { Key: 'novalue' }]));
    const a = out.CacheSecurityGroup.ARN;
    assert.equal(a, arn(region, key, 'tag-js'));
    assert.deepEqual(await ok(c, listTagsCmd(a)), { TagList: tags(['env', 'prod'], ['novalue', '']) });
    let want = tags(['alpha', 'a'], ['bare', ''], ['env', 'staging'], ['novalue', ''], ['zeta', 'z']);
    assert.deepEqual(await ok(c, addTagsCmd(a, [{ Key: 'zeta', Value: 'z' }, { Key: 'alpha', Value: 'a' },
      { Key: 'env', Value: 'staging' }, { Key: 'bare' }])), { TagList: want });
    assert.deepEqual(await ok(c, listTagsCmd(a)), { TagList: want });
    want = tags(['env', 'staging'], ['novalue', ''], ['zeta', 'z']);
    assert.deepEqual(await ok(c, removeTagsCmd(a, ['alpha', 'bare'])), { TagList: want });
    // A key that is not set: TagNotFound (404), and nothing is removed.
    await fault(c, removeTagsCmd(a, ['zeta', 'nope']), TagNotFoundFault, 'TagNotFound', tagNotFound('nope', a), 404);
    assert.deepEqual(await ok(c, listTagsCmd(a)), { TagList: want });
    // 50 distinct keys is the limit; a 51st is refused and changes nothing.
    const more = Array.from({ length: 47 }, (_, i) => ({ Key: `k${String(i).padStart(2, '0')}`, Value: 'v' }));
    const full = (await ok(c, addTagsCmd(a, more))).TagList;
    assert.deepEqual(full.map((t) => t.Key), ['env', ...more.map((t) => t.Key), 'novalue', 'zeta']);
    await fault(c, addTagsCmd(a, [{ Key: 'env', Value: 'changed' }, { Key: 'one-more', Value: 'x' }]),
      TagQuotaPerResourceExceeded, 'TagQuotaPerResourceExceeded', TAG_QUOTA_MSG, 400);
    assert.deepEqual(await ok(c, listTagsCmd(a)), { TagList: full });
    // Overwriting a key at 50 is not a 51st.
    assert.deepEqual(await ok(c, addTagsCmd(a, [{ Key: 'zeta', Value: 'zz' }])),
      { TagList: full.map((t) => (t.Key === 'zeta' ? { Key: 'zeta', Value: 'zz' } : t)) });
    // Deleting the group deletes its tags.
    await ok(c, deleteCmd('tag-js'));
    await fault(c, listTagsCmd(a), CacheSecurityGroupNotFoundFault, 'CacheSecurityGroupNotFound', notFound('tag-js'), 404);
    await ok(c, createCmd('tag-js', 'again'));
    assert.deepEqual(await ok(c, listTagsCmd(a)), { TagList: [] });
  });

  test('text round trip in tag keys and values (allowed Unicode letters)', T, async () => {
    const key = newAccount();
    const c = client(MAIN, key);
    const a = (await ok(c, createCmd('tag-text', 't', [{ Key: TRICKY_TAG_KEY, Value: TRICKY_TAG_VALUE }]))).CacheSecurityGroup.ARN;
    assert.deepEqual(await ok(c, listTagsCmd(a)), { TagList: tags([TRICKY_TAG_KEY, TRICKY_TAG_VALUE]) });
    assert.deepEqual(await ok(c, addTagsCmd(a, [{ Key: 'x', Value: `${TRICKY_TAG_VALUE} 2` }])),
      { TagList: tags([TRICKY_TAG_KEY, TRICKY_TAG_VALUE], ['x', `${TRICKY_TAG_VALUE} 2`]) });
    assert.deepEqual(await ok(c, removeTagsCmd(a, [TRICKY_TAG_KEY])), { TagList: tags(['x', `${TRICKY_TAG_VALUE} 2`]) });
    await fault(c, addTagsCmd(a, [{ Key: 'y', Value: TRICKY_TEXT }]), InvalidParameterValueException,
      'InvalidParameterValue', TAG_VALUE_MSG, 400);
    assert.deepEqual(await ok(c, listTagsCmd(a)), { TagList: tags(['x', `${TRICKY_TAG_VALUE} 2`]) });
  });

  test('errors: InvalidARN, NotFound for other accounts, regions and types, empty lists', T, async () => {
    const key = newAccount();
    const region = 'ap-south-1';
    const c = client(MAIN, key, region);
    await ok(c, createCmd('arn-js', 'a', [{ Key: 'k', Value: 'v' }]));
    const mine = arn(region, key, 'arn-js');
    const other = newAccount();
    await ok(client(MAIN, other, region), createCmd('theirs', 'x', [{ Key: 'owner', Value: 'them' }]));
    const ops = [(r) => listTagsCmd(r), (r) => addTagsCmd(r, [{ Key: 'x', Value: 'y' }]), (r) => removeTagsCmd(r, ['k'])];
    for (const bad of [`arn:aws:elasticache:${region}:${key}:securitygroup`, 'arn-js', `${mine}:extra`]) {
      for (const op of ops) await fault(c, op(bad), InvalidARNFault, 'InvalidARN', INVALID_ARN_MSG, 400);
    }
    for (const op of ops) {
      await fault(c, op(`arn:aws:s3:${region}:${key}:securitygroup:arn-js`), InvalidARNFault, 'InvalidARN',
        `ARN arn:aws:s3:${region}:${key}:securitygroup:arn-js is not an ElastiCache ARN.`, 400);
    }
    // Another account's group, the same name in another region, a missing
    // group: all CacheSecurityGroupNotFound (404) — nothing is revealed.
    for (const [a, name] of [[arn(region, other, 'theirs'), 'theirs'], [arn('eu-north-1', key, 'arn-js'), 'arn-js'],
      [arn(region, key, 'missing'), 'missing']]) {
      for (const op of ops) {
        await fault(c, op(a), CacheSecurityGroupNotFoundFault, 'CacheSecurityGroupNotFound', notFound(name), 404);
      }
    }
    for (const op of ops) {
      await fault(c, op(clusterARN(region, key, 'my-cluster')), CacheClusterNotFoundFault, 'CacheClusterNotFound',
        'CacheCluster not found: my-cluster', 404);
    }
    // Empty lists are sent as Tags= / TagKeys= (present, empty).
    await fault(c, addTagsCmd(mine, []), InvalidParameterValueException, 'InvalidParameterValue', 'Tags is required', 400);
    await fault(c, removeTagsCmd(mine, []), InvalidParameterValueException, 'InvalidParameterValue', 'TagKeys is required', 400);
    await fault(c, addTagsCmd(mine, Array.from({ length: 51 }, (_, i) => ({ Key: `t${i}`, Value: 'v' }))),
      TagQuotaPerResourceExceeded, 'TagQuotaPerResourceExceeded', TAG_QUOTA_MSG, 400);
    // None of it touched a tag.
    assert.deepEqual(await ok(c, listTagsCmd(mine)), { TagList: tags(['k', 'v']) });
    assert.deepEqual(await ok(client(MAIN, other, region), listTagsCmd(arn(region, other, 'theirs'))),
      { TagList: tags(['owner', 'them']) });
  });
});

describe('DescribeEvents', () => {
  const key = newAccount();
  const region = 'eu-west-3';
  let c;
  let t0;
  let mid;
  let t1;
  let mine;
  let everything;

  // create, authorize, revoke and delete ev-js, then create ev-js-other.
  before(async () => {
    c = client(MAIN, key, region);
    t0 = Date.now();
    await ok(c, createCmd('Ev-JS', 'events'));
    await ok(c, authorizeCmd('ev-js', 'web', OWNER));
    await ok(c, revokeCmd('ev-js', 'web', OWNER));
    await ok(c, deleteCmd('ev-js'));
    await sleep(5); // so that the window bounds below fall strictly between the two groups' events
    mid = new Date();
    await sleep(5);
    await ok(c, createCmd('ev-js-other', 'events'));
    t1 = Date.now();
    mine = [['ev-js', EV_DELETED], ['ev-js', evRevoked('web', OWNER)], ['ev-js', evAuthorized('web', OWNER)], ['ev-js', EV_CREATED]];
    everything = [['ev-js-other', EV_CREATED], ...mine];
  });

  test('newest first, Date a valid Date, filters', T, async () => {
    const out = await ok(c, eventsCmd());
    assert.equal(out.Marker, undefined);
    assertEvents(out.Events, everything, t0, t1);
    assertEvents((await ok(c, eventsCmd({ Duration: 60 }))).Events, everything, t0, t1);
    for (const id of ['ev-js', 'EV-JS', 'Ev-Js']) {
      assertEvents((await ok(c, eventsCmd({ SourceType: GROUP_EVENT, SourceIdentifier: id }))).Events, mine, t0, t1);
    }
    assertEvents((await ok(c, eventsCmd({ SourceType: GROUP_EVENT }))).Events, everything, t0, t1);
    assertEvents((await ok(c, eventsCmd({ SourceType: 'cache-cluster' }))).Events, [], t0, t1);
    // Another account, another region: nothing.
    assert.deepEqual(await ok(client(MAIN, newAccount(), region), eventsCmd()), { Events: [] });
    assert.deepEqual(await ok(client(MAIN, key, 'eu-south-1'), eventsCmd()), { Events: [] });
  });

  test('windows: StartTime, EndTime, Duration', T, async () => {
    const minutes = (d, m) => new Date(d.getTime() + m * 60_000);
    const cases = [
      [{ StartTime: mid }, everything.slice(0, 1)],
      [{ EndTime: mid }, mine],
      [{ StartTime: new Date(t0), EndTime: mid }, mine],
      [{ StartTime: mid, EndTime: new Date(t1) }, everything.slice(0, 1)],
      [{ StartTime: mid, Duration: 60 }, everything.slice(0, 1)],
      [{ EndTime: mid, Duration: 60 }, mine],
      [{ StartTime: minutes(new Date(t0), -5), Duration: 1 }, []],
    ];
    for (const [input, want] of cases) assertEvents((await ok(c, eventsCmd(input))).Events, want, t0, t1);
  });

  test('errors: InvalidParameterCombination, InvalidParameterValue', T, async () => {
    await fault(c, eventsCmd({ StartTime: new Date(t0), EndTime: new Date(t1), Duration: 60 }), InvalidParameterCombinationException,
      'InvalidParameterCombination', 'StartTime, EndTime and Duration cannot all be specified.', 400);
    await fault(c, eventsCmd({ SourceIdentifier: 'ev-js' }), InvalidParameterCombinationException,
      'InvalidParameterCombination', 'SourceIdentifier requires SourceType.', 400);
    await fault(c, eventsCmd({ StartTime: new Date(t1), EndTime: new Date(t0 - 1000) }), InvalidParameterValueException,
      'InvalidParameterValue', 'Invalid value for parameter StartTime: must not be after EndTime.', 400);
    for (const d of [0, 20161]) {
      await fault(c, eventsCmd({ Duration: d }), InvalidParameterValueException, 'InvalidParameterValue',
        'Invalid value for parameter Duration: must be between 1 and 20160 minutes.', 400);
    }
    await fault(c, eventsCmd({ SourceType: 'nonsense' }), InvalidParameterValueException, 'InvalidParameterValue',
      /^Invalid value for parameter SourceType: must be one of .*cache-security-group/, 400);
  });
});

describe('isolation between accounts', () => {
  test('two accounts with the same names see only their own groups, tags and events', T, async () => {
    const region = 'us-east-2';
    const [k1, k2] = [newAccount(), newAccount()];
    const [c1, c2] = [client(MAIN, k1, region), client(MAIN, k2, region)];
    const t0 = Date.now();
    await ok(c1, createCmd('shared', 'one', [{ Key: 'who', Value: 'one' }]));
    await ok(c2, createCmd('Shared', 'two', [{ Key: 'who', Value: 'two' }]));
    await ok(c1, createCmd('only-one', 'one'));
    await ok(c1, authorizeCmd('shared', 'web', OWNER));
    const t1 = Date.now();
    assert.deepEqual(await ok(c1, describeCmd()), {
      CacheSecurityGroups: [defaultGroup(k1, region), group(k1, region, 'only-one', 'one'),
        group(k1, region, 'shared', 'one', [ec2('web', OWNER, 'authorized')])],
    });
    assert.deepEqual(await ok(c2, describeCmd()), {
      CacheSecurityGroups: [defaultGroup(k2, region), group(k2, region, 'shared', 'two')],
    });
    await absent(c2, 'only-one');
    await fault(c2, authorizeCmd('only-one', 'web', OWNER), CacheSecurityGroupNotFoundFault, 'CacheSecurityGroupNotFound', notFound('only-one'), 404);
    await fault(c2, revokeCmd('shared', 'web', OWNER), AuthorizationNotFoundFault, 'AuthorizationNotFound',
      notAuthorized('web', OWNER, 'shared'), 404);
    await fault(c2, deleteCmd('only-one'), CacheSecurityGroupNotFoundFault, 'CacheSecurityGroupNotFound', notFound('only-one'), 404);
    assert.deepEqual(await ok(c1, listTagsCmd(arn(region, k1, 'shared'))), { TagList: tags(['who', 'one']) });
    assert.deepEqual(await ok(c2, listTagsCmd(arn(region, k2, 'shared'))), { TagList: tags(['who', 'two']) });
    await fault(c2, listTagsCmd(arn(region, k1, 'shared')), CacheSecurityGroupNotFoundFault, 'CacheSecurityGroupNotFound', notFound('shared'), 404);
    await fault(c2, addTagsCmd(arn(region, k1, 'shared'), [{ Key: 'x', Value: 'y' }]), CacheSecurityGroupNotFoundFault,
      'CacheSecurityGroupNotFound', notFound('shared'), 404);
    assert.deepEqual(await ok(c1, listTagsCmd(arn(region, k1, 'shared'))), { TagList: tags(['who', 'one']) });
    assertEvents((await ok(c1, eventsCmd())).Events,
      [['shared', evAuthorized('web', OWNER)], ['only-one', EV_CREATED], ['shared', EV_CREATED]], t0, t1);
    assertEvents((await ok(c2, eventsCmd())).Events, [['shared', EV_CREATED]], t0, t1);
    // Deleting one account's group leaves the other's.
    await ok(c2, deleteCmd('shared'));
    assert.equal((await describeOne(c1, 'shared')).Description, 'one');
  });
});

describe('a server with --quota-cache-security-groups 3', () => {
  let s;
  before(async () => { s = await new Server('quota', ['--quota-cache-security-groups', '3']).start(); });
  after(async () => { if (s && ALL_SERVERS.has(s)) await s.stop(); });

  test('CacheSecurityGroupQuotaExceededFault (Code QuotaExceeded.CacheSecurityGroup)', T, async () => {
    const key = newAccount();
    const c = client(s, key);
    for (const n of ['q1', 'q2', 'q3']) await ok(c, createCmd(n, 'q'));
    await fault(c, createCmd('q4', 'q'), CacheSecurityGroupQuotaExceededFault, 'QuotaExceeded.CacheSecurityGroup', QUOTA_MSG, 400);
    await absent(c, 'q4');
    // A duplicate is AlreadyExists even with the quota full (SPEC §3 order).
    await fault(c, createCmd('Q1', 'q'), CacheSecurityGroupAlreadyExistsFault, 'CacheSecurityGroupAlreadyExists', alreadyExists('q1'), 400);
    // default does not count; a delete frees a slot; the quota is per account.
    assert.deepEqual((await ok(c, describeCmd())).CacheSecurityGroups.map((g) => g.CacheSecurityGroupName), ['default', 'q1', 'q2', 'q3']);
    await ok(c, deleteCmd('q3'));
    await ok(c, createCmd('q4', 'q'));
    await fault(c, createCmd('q5', 'q'), CacheSecurityGroupQuotaExceededFault, 'QuotaExceeded.CacheSecurityGroup', QUOTA_MSG, 400);
    await ok(client(s, newAccount()), createCmd('q1', 'q'));
  });
});

describe('a server with --transition-delay 30s', () => {
  let s;
  before(async () => { s = await new Server('delay', ['--transition-delay', '30s']).start(); });
  after(async () => { if (s && ALL_SERVERS.has(s)) await s.stop(); });

  test('InvalidCacheSecurityGroupStateFault while an entry is authorizing', T, async () => {
    const key = newAccount();
    const region = 'us-east-1';
    const c = client(s, key, region);
    await ok(c, createCmd('tr', 't'));
    const out = await ok(c, authorizeCmd('tr', 'web', OWNER));
    assert.deepEqual(out.CacheSecurityGroup, group(key, region, 'tr', 't', [ec2('web', OWNER, 'authorizing')]));
    // 30 s is far longer than this test: every read is before the delay.
    assert.deepEqual((await describeOne(c, 'tr')).EC2SecurityGroups, [ec2('web', OWNER, 'authorizing')]);
    await fault(c, deleteCmd('TR'), InvalidCacheSecurityGroupStateFault, 'InvalidCacheSecurityGroupState',
      deleteInTransition('tr', 'authorizing'), 400);
    await fault(c, revokeCmd('tr', 'web', OWNER), InvalidCacheSecurityGroupStateFault, 'InvalidCacheSecurityGroupState',
      entryInState('web', OWNER, 'authorizing', 'tr'), 400);
    await fault(c, authorizeCmd('tr', 'web', OWNER), AuthorizationAlreadyExistsFault, 'AuthorizationAlreadyExists',
      alreadyAuthorized('web', OWNER, 'tr'), 400);
    // The refused changes left the entry as it was, and the group exists.
    assert.deepEqual((await describeOne(c, 'tr')).EC2SecurityGroups, [ec2('web', OWNER, 'authorizing')]);
  });
});

describe('the modern-account era from --config', () => {
  let s;
  before(async () => {
    const cfg = path.join(TMP, 'modern.yaml');
    fs.writeFileSync(cfg, CONFIG_YAML);
    s = await new Server('modern', ['--config', cfg]).start();
  });
  after(async () => { if (s && ALL_SERVERS.has(s)) await s.stop(); });

  test('the five group operations and tags on securitygroup ARNs: InvalidParameterValue', T, async () => {
    const region = 'us-east-1';
    const c = client(s, MODERN_ACCOUNT, region);
    const a = arn(region, MODERN_ACCOUNT, 'default');
    for (const cmd of [createCmd('m1', 'm'), describeCmd(), describeCmd({ CacheSecurityGroupName: 'default' }), deleteCmd('m1'),
      authorizeCmd('default', 'web', OWNER), revokeCmd('default', 'web', OWNER),
      addTagsCmd(a, [{ Key: 'k', Value: 'v' }]), listTagsCmd(a), listTagsCmd(arn(region, MODERN_ACCOUNT, 'm1')),
      removeTagsCmd(a, ['k'])]) {
      await fault(c, cmd, InvalidParameterValueException, 'InvalidParameterValue', MODERN_MSG, 400);
    }
    // DescribeEvents works, and the refused calls recorded nothing; tags of
    // other resource types answer as usual.
    assert.deepEqual(await ok(c, eventsCmd({ Duration: 60 })), { Events: [] });
    assert.deepEqual(await ok(c, eventsCmd()), { Events: [] });
    await fault(c, listTagsCmd(clusterARN(region, MODERN_ACCOUNT, 'my-cluster')), CacheClusterNotFoundFault,
      'CacheClusterNotFound', 'CacheCluster not found: my-cluster', 404);
  });

  test('a classic account on the same server works normally', T, async () => {
    const region = 'us-east-1';
    const key = newAccount();
    const c = client(s, key, region);
    const t0 = Date.now();
    await ok(c, createCmd('classic', 'c'));
    await ok(c, authorizeCmd('classic', 'web', OWNER));
    assert.deepEqual(await describeOne(c, 'classic'), group(key, region, 'classic', 'c', [ec2('web', OWNER, 'authorized')]));
    assert.deepEqual(await ok(c, addTagsCmd(arn(region, key, 'classic'), [{ Key: 'k', Value: 'v' }])), { TagList: tags(['k', 'v']) });
    assertEvents((await ok(c, eventsCmd())).Events, [['classic', evAuthorized('web', OWNER)], ['classic', EV_CREATED]], t0, Date.now());
  });
});
