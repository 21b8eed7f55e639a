// End-to-end suite: cache parameter groups and the engine catalogue through
// the AWS SDK for JavaScript v3 (@aws-sdk/client-elasticache, pinned in
// package.json / package-lock.json) against a real elasticache-server.
//
// A wire smoke test of the family (service/parametergroups.go,
// service/engineversions.go): the happy path of Create/Describe/Modify/
// Reset/DeleteCacheParameterGroup, DescribeCacheParameters (Source=user, and
// every page through the SDK paginator and by hand, the node-type-specific
// parameters on the last page only), DescribeEngineDefaultParameters,
// DescribeCacheEngineVersions (filters, DefaultOnly), tags on parametergroup
// ARNs and DescribeEvents with SourceType cache-parameter-group; and every
// fault by `instanceof` its modeled class: CacheParameterGroupAlreadyExistsFault,
// CacheParameterGroupNotFoundFault (HTTP 404; the delete's own wording
// "CacheParameterGroupnot found: NAME"), InvalidParameterValueException (an
// unknown family or engine, a parameter that cannot be modified or does not
// exist, a value not allowed, more than 20 entries, the default.* groups, a
// bad Source, MaxRecords or Marker) and InvalidParameterCombinationException
// (ResetAllParameters with entries). InvalidParameterValue is in neither
// AddTagsToResource's nor DescribeCacheEngineVersions' model; the SDK still
// surfaces it as InvalidParameterValueException (its error classes are
// looked up by code for the whole service).
//
// The default.* groups are virtual and in every account, so the servers need
// no config file; each test has a server of its own.
//
// Run:  SERVER_BIN=/path/to/elasticache-server JS_SDK_DIR=/path/to/js-sdk \
//         node --test --test-reporter=spec e2e/js/parametergroups.test.mjs
// (e2e/js_test.go runs it with the other suites; see harness.mjs for how the
// SDK is loaded from JS_SDK_DIR.) It never skips. Clients are hermetic:
// static credentials, maxAttempts 1, no instance metadata, empty AWS config
// and credential files.

import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ALL_SERVERS, Server, UUID, fault, ok, runLine, sdk } from './harness.mjs';

const {
  ElastiCacheClient, ElastiCacheServiceException,
  CreateCacheParameterGroupCommand, DescribeCacheParameterGroupsCommand, ModifyCacheParameterGroupCommand,
  ResetCacheParameterGroupCommand, DeleteCacheParameterGroupCommand, DescribeCacheParametersCommand,
  DescribeEngineDefaultParametersCommand, DescribeCacheEngineVersionsCommand,
  AddTagsToResourceCommand, ListTagsForResourceCommand, RemoveTagsFromResourceCommand, DescribeEventsCommand,
  paginateDescribeCacheParameterGroups, paginateDescribeCacheParameters, paginateDescribeEngineDefaultParameters,
  paginateDescribeCacheEngineVersions,
  CacheParameterGroupAlreadyExistsFault, CacheParameterGroupNotFoundFault, InvalidParameterValueException,
  InvalidParameterCombinationException,
} = sdk;

// ---------------------------------------------------------------- constants

const SECRET = 'e2e-secret-key';
const REGION = 'us-east-1';
const ACCOUNT = '111111111111';
const T = { timeout: 60_000 }; // a hang fails the test instead of the whole run

const pgARN = (name, account = ACCOUNT, region = REGION) => `arn:aws:elasticache:${region}:${account}:parametergroup:${name}`;
/** The CacheParameterGroup the SDK should parse. */
const pgroup = (name, family, description, account = ACCOUNT, region = REGION) => ({
  CacheParameterGroupName: name, CacheParameterGroupFamily: family, Description: description, IsGlobal: false,
  ARN: pgARN(name, account, region),
});

const notFound = (name) => `CacheParameterGroup ${name} not found.`;
const deleteNotFound = (name) => `CacheParameterGroupnot found: ${name}`; // AWS's own wording
const alreadyExists = (name) => `Parameter group ${name} already exists.`;
const cannotModify = (name) => `The parameter ${name} cannot be modified.`;
const noSuchParameter = (name, family) => `Parameter ${name} doesn't exist for family ${family}.`;
const badValue = (value, name, allowed) => `Value ${value} for parameter ${name} is invalid. Allowed values: ${allowed}.`;
const unknownFamily = (family) => `Invalid value for parameter CacheParameterGroupFamily: ${family} is not a cache parameter group family.`;
const FAMILIES = 'redis2.6, redis2.8, redis3.2, redis4.0, redis5.0, redis6.x, redis7, valkey7, valkey8, valkey9, ' +
  'memcached1.4, memcached1.5, memcached1.6';
const CREATE_UNKNOWN_FAMILY = `Invalid value for parameter CacheParameterGroupFamily: redis99 is not a cache parameter group family (${FAMILIES}).`;
const RESERVED_MSG = 'Invalid value for parameter CacheParameterGroupName: the name prefix default. is reserved for ' +
  'the default parameter groups.';
const DEFAULT_MODIFY_MSG = 'Cannot modify a default parameter group.';
const DEFAULT_DELETE_MSG = 'Cannot delete a default parameter group.';
const DEFAULT_TAG_MSG = 'Default parameter groups cannot be tagged.';
const TOO_MANY_MSG = 'Invalid value for parameter ParameterNameValues: at most 20 parameters may be changed in one call.';
const COMBINATION_MSG = 'ResetAllParameters and ParameterNameValues cannot both be given.';
const SOURCE_MSG = 'Invalid value for parameter Source: must be one of user, system, engine-default.';
const MAX_RECORDS_MSG = 'Invalid value for parameter MaxRecords: must be between 20 and 100.';
const MARKER_MSG = 'Invalid value for parameter Marker: the marker is not valid for this request.';
const ENGINE_MSG = 'Invalid value for parameter Engine: must be one of redis, valkey, memcached.';
const POLICIES = 'allkeys-lru,volatile-lru,allkeys-lfu,volatile-lfu,allkeys-random,volatile-random,volatile-ttl,noeviction';
const SOURCE_TYPE = 'cache-parameter-group';

// Every default group of the catalogue, in name order.
const DEFAULT_GROUPS = [
  'default.memcached1.4', 'default.memcached1.5', 'default.memcached1.6', 'default.redis2.6', 'default.redis2.8',
  'default.redis3.2', 'default.redis3.2.cluster.on', 'default.redis4.0', 'default.redis4.0.cluster.on',
  'default.redis5.0', 'default.redis5.0.cluster.on', 'default.redis6.x', 'default.redis6.x.cluster.on',
  'default.redis7', 'default.redis7.cluster.on', 'default.valkey7', 'default.valkey7.cluster.on', 'default.valkey8',
  'default.valkey9', 'default.valkey9.cluster.on',
];

const nv = (ParameterName, ParameterValue) => (ParameterValue === undefined ? { ParameterName } : { ParameterName, ParameterValue });

// ------------------------------------------------------------------ clients

function client(server, accessKeyId = ACCOUNT, region = REGION) {
  return new ElastiCacheClient({
    endpoint: server.url, region, credentials: { accessKeyId, secretAccessKey: SECRET }, maxAttempts: 1,
  });
}



const invalidValue = (c, cmd, message) => fault(c, cmd, InvalidParameterValueException, 'InvalidParameterValue', message);
const pgNotFound = (c, cmd, message) => fault(c, cmd, CacheParameterGroupNotFoundFault, 'CacheParameterGroupNotFound', message, 404);

const createCmd = (name, family = 'redis7', input = {}) => new CreateCacheParameterGroupCommand({
  CacheParameterGroupName: name, CacheParameterGroupFamily: family, Description: 'd', ...input,
});
const modifyCmd = (name, ...entries) => new ModifyCacheParameterGroupCommand({ CacheParameterGroupName: name, ParameterNameValues: entries });
const resetCmd = (name, input) => new ResetCacheParameterGroupCommand({ CacheParameterGroupName: name, ...input });
const deleteCmd = (name) => new DeleteCacheParameterGroupCommand({ CacheParameterGroupName: name });
const paramsCmd = (input) => new DescribeCacheParametersCommand(input);
const versionsCmd = (input = {}) => new DescribeCacheEngineVersionsCommand(input);
const versions = (out) => out.CacheEngineVersions.map((v) => `${v.Engine} ${v.EngineVersion} ${v.CacheParameterGroupFamily}`);

/** DescribeCacheParameters(Source=user) as {name: value}, all of Source user, no node-type ones. */
async function userValues(c, group) {
  const out = await ok(c, paramsCmd({ CacheParameterGroupName: group, Source: 'user' }));
  assert.equal(out.Marker, undefined);
  assert.deepEqual(out.CacheNodeTypeSpecificParameters ?? [], [], JSON.stringify(out));
  const got = {};
  for (const p of out.Parameters) {
    assert.equal(p.Source, 'user', JSON.stringify(p));
    got[p.ParameterName] = p.ParameterValue;
  }
  return got;
}

/**
 * Walks the Marker pages of 20 of a command by hand (make(marker) builds it,
 * part(out) picks [parameters, marker, node-type parameters]); returns the
 * parameter names and the last page's node-type-specific names. Only the last
 * page has node-type-specific parameters.
 */
async function pagedNames(c, make, part) {
  const names = [];
  let marker;
  for (let pages = 1; ; pages++) {
    const [params, next, node = []] = part(await ok(c, make(marker)));
    assert.ok(params.length <= 20, `page ${pages}: ${params.length} parameters`);
    names.push(...params.map((p) => p.ParameterName));
    if (!next) return { names, node: node.map((p) => p.ParameterName), pages };
    assert.deepEqual(node, [], `page ${pages}: node-type-specific parameters before the last page`);
    assert.ok(pages < 20, 'too many pages');
    marker = next;
  }
}

const sorted = (xs) => [...new Set(xs)].sort();

// ------------------------------------------------------------------- tests

describe('cache parameter groups and the engine catalogue', () => {
  let s; // this test's server
  beforeEach(async (t) => {
    s = await new Server(`params-${t.name.split(':')[0].replace(/\W+/g, '-')}`).start();
  });
  afterEach(async () => { if (s && ALL_SERVERS.has(s)) await s.stop(); });

  test('happy path: create, describe, paginate, modify, parameters, reset, tags, events, delete', T, async () => {
    console.log(runLine());
    const c = client(s);
    const t0 = Date.now();
    // Create: the name stored lowercase, with its tags.
    const created = pgroup('app-params', 'redis7', 'app');
    assert.deepEqual(await ok(c, new CreateCacheParameterGroupCommand({
      CacheParameterGroupName: 'App-Params', CacheParameterGroupFamily: 'redis7', Description: 'app',
      Tags: [{ Key: 'env', Value: 'test' }],
    })), { CacheParameterGroup: created });

    // Describe by name in any case; all of them through the paginator, in
    // pages of 20: the 20 default groups and this one, in name order.
    assert.deepEqual(await ok(c, new DescribeCacheParameterGroupsCommand({ CacheParameterGroupName: 'APP-PARAMS' })),
      { CacheParameterGroups: [created] });
    const pages = [];
    for await (const page of paginateDescribeCacheParameterGroups({ client: c, pageSize: 20 }, {})) pages.push(page);
    assert.deepEqual(pages.map((p) => p.CacheParameterGroups.length), [20, 1]);
    const listed = pages.flatMap((p) => p.CacheParameterGroups);
    assert.deepEqual(listed.map((g) => g.CacheParameterGroupName), ['app-params', ...DEFAULT_GROUPS]);
    assert.deepEqual(listed[0], created);
    assert.deepEqual(listed.find((g) => g.CacheParameterGroupName === 'default.memcached1.6'),
      pgroup('default.memcached1.6', 'memcached1.6', 'Default parameter group for memcached1.6'));
    assert.deepEqual(listed.find((g) => g.CacheParameterGroupName === 'default.redis6.x.cluster.on'),
      pgroup('default.redis6.x.cluster.on', 'redis6.x', 'Customized default parameter group for redis6.x with cluster mode on'));

    // Modify two parameters; Source=user shows them, typed as the SDK parses them.
    assert.deepEqual(await userValues(c, 'app-params'), {});
    assert.deepEqual(await ok(c, modifyCmd('App-Params', nv('maxmemory-policy', 'allkeys-lru'), nv('timeout', '300'))),
      { CacheParameterGroupName: 'app-params' });
    assert.deepEqual(await userValues(c, 'app-params'), { 'maxmemory-policy': 'allkeys-lru', timeout: '300' });
    const user = await ok(c, paramsCmd({ CacheParameterGroupName: 'app-params', Source: 'user' }));
    const policy = user.Parameters.find((p) => p.ParameterName === 'maxmemory-policy');
    assert.deepEqual([policy.ParameterValue, policy.Source, policy.DataType, policy.AllowedValues, policy.IsModifiable, policy.ChangeType],
      ['allkeys-lru', 'user', 'string', POLICIES, true, 'immediate']);

    // Every parameter, page by page: the family's engine defaults with the
    // group's values over them; the node-type-specific ones on the last page.
    const byHand = await pagedNames(c, (Marker) => paramsCmd({ CacheParameterGroupName: 'app-params', MaxRecords: 20, Marker }),
      (o) => [o.Parameters, o.Marker, o.CacheNodeTypeSpecificParameters]);
    assert.ok(byHand.pages > 1, `${byHand.pages} page(s)`);
    assert.deepEqual(byHand.names, sorted(byHand.names));
    assert.ok(byHand.node.length > 0, 'no node-type-specific parameters on the last page');
    const defaults = await pagedNames(c,
      (Marker) => new DescribeEngineDefaultParametersCommand({ CacheParameterGroupFamily: 'redis7', MaxRecords: 20, Marker }),
      (o) => [o.EngineDefaults.Parameters, o.EngineDefaults.Marker, o.EngineDefaults.CacheNodeTypeSpecificParameters]);
    assert.deepEqual([defaults.names, defaults.node], [byHand.names, byHand.node]);
    const all = [];
    for await (const page of paginateDescribeCacheParameters({ client: c, pageSize: 20 }, { CacheParameterGroupName: 'app-params' })) {
      all.push(...page.Parameters);
    }
    assert.deepEqual(all.map((p) => p.ParameterName), byHand.names);
    assert.deepEqual(all.filter((p) => p.Source === 'user').map((p) => `${p.ParameterName}=${p.ParameterValue}`),
      ['maxmemory-policy=allkeys-lru', 'timeout=300']);

    // Reset one, then all.
    assert.deepEqual(await ok(c, resetCmd('app-params', { ParameterNameValues: [nv('timeout')] })), { CacheParameterGroupName: 'app-params' });
    assert.deepEqual(await userValues(c, 'app-params'), { 'maxmemory-policy': 'allkeys-lru' });
    assert.deepEqual(await ok(c, resetCmd('APP-PARAMS', { ResetAllParameters: true })), { CacheParameterGroupName: 'app-params' });
    assert.deepEqual(await userValues(c, 'app-params'), {});

    // Tags on the group's ARN.
    const a = pgARN('app-params');
    assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: a })), { TagList: [{ Key: 'env', Value: 'test' }] });
    assert.deepEqual(await ok(c, new AddTagsToResourceCommand({ ResourceName: a, Tags: [{ Key: 'team', Value: 'core' }] })),
      { TagList: [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'core' }] });
    assert.deepEqual(await ok(c, new RemoveTagsFromResourceCommand({ ResourceName: a, TagKeys: ['env'] })),
      { TagList: [{ Key: 'team', Value: 'core' }] });
    assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: pgARN('default.redis7') })), { TagList: [] });

    // Delete: an empty answer, then NotFound (404) everywhere, the delete in its own words.
    assert.deepEqual(await ok(c, deleteCmd('App-Params')), {});
    const t1 = Date.now();
    await pgNotFound(c, new DescribeCacheParameterGroupsCommand({ CacheParameterGroupName: 'app-params' }), notFound('app-params'));
    await pgNotFound(c, paramsCmd({ CacheParameterGroupName: 'app-params' }), notFound('app-params'));
    await pgNotFound(c, modifyCmd('app-params', nv('timeout', '30')), notFound('app-params'));
    await pgNotFound(c, resetCmd('app-params', { ResetAllParameters: true }), notFound('app-params'));
    await pgNotFound(c, deleteCmd('app-params'), deleteNotFound('app-params'));
    await pgNotFound(c, new ListTagsForResourceCommand({ ResourceName: a }), notFound('app-params'));
    const after = await ok(c, new DescribeCacheParameterGroupsCommand({}));
    assert.deepEqual(after.CacheParameterGroups.map((g) => g.CacheParameterGroupName), DEFAULT_GROUPS);

    // Its events outlive it: newest first, Date a Date within the test.
    const { Events } = await ok(c, new DescribeEventsCommand({ SourceType: SOURCE_TYPE, SourceIdentifier: 'App-Params' }));
    assert.deepEqual(Events.map((e) => [e.SourceIdentifier, e.SourceType, e.Message]),
      ['deleted', 'reset', 'reset', 'modified', 'created'].map((m) => ['app-params', SOURCE_TYPE, `Cache parameter group ${m}`]));
    for (const e of Events) {
      assert.ok(e.Date instanceof Date, JSON.stringify(e));
      assert.ok(e.Date.getTime() >= t0 - 1 && e.Date.getTime() <= t1, `${e.Date.toISOString()} not in [${t0}, ${t1}]`);
    }
  });

  test('default groups in every account; engine defaults; engine versions', T, async () => {
    const c = client(s);
    for (const [account, region] of [[ACCOUNT, REGION], ['222222222222', 'eu-west-1']]) {
      assert.deepEqual(await ok(client(s, account, region), new DescribeCacheParameterGroupsCommand({ CacheParameterGroupName: 'default.valkey7.cluster.on' })),
        { CacheParameterGroups: [pgroup('default.valkey7.cluster.on', 'valkey7',
          'Customized default parameter group for valkey7 with cluster mode on', account, region)] });
    }
    assert.deepEqual(await userValues(c, 'default.redis7.cluster.on'), { 'cluster-enabled': 'yes' });
    assert.deepEqual(await userValues(c, 'default.redis7'), {});

    // Engine defaults: memcached1.6 in one page with its node-type-specific
    // parameters; redis7 through the SDK paginator (EngineDefaults.Marker).
    const { EngineDefaults: d } = await ok(c, new DescribeEngineDefaultParametersCommand({ CacheParameterGroupFamily: 'memcached1.6' }));
    assert.equal(d.CacheParameterGroupFamily, 'memcached1.6');
    assert.equal(d.Marker, undefined);
    const names = d.Parameters.map((p) => p.ParameterName);
    assert.deepEqual(names, sorted(names));
    assert.ok(names.includes('max_item_size'), names.join(' '));
    assert.ok(d.CacheNodeTypeSpecificParameters.length > 0);
    for (const p of d.CacheNodeTypeSpecificParameters) assert.ok(p.CacheNodeTypeSpecificValues.length > 0, JSON.stringify(p));
    const pnames = [];
    let npages = 0;
    for await (const page of paginateDescribeEngineDefaultParameters({ client: c, pageSize: 20 }, { CacheParameterGroupFamily: 'redis7' })) {
      npages++;
      pnames.push(...page.EngineDefaults.Parameters.map((p) => p.ParameterName));
    }
    assert.ok(npages > 1, `${npages} page(s)`);
    assert.deepEqual(pnames, sorted(pnames));
    assert.ok(pnames.includes('maxmemory-policy'));

    // Engine versions: all of them in pages of 20, then the filters.
    const every = [];
    for await (const page of paginateDescribeCacheEngineVersions({ client: c, pageSize: 20 }, {})) every.push(...versions(page));
    assert.ok(every.length > 20, `${every.length} versions`);
    assert.equal(new Set(every).size, every.length);
    assert.deepEqual(sorted(every.map((v) => v.split(' ')[0])), ['memcached', 'redis', 'valkey']);
    assert.deepEqual(versions(await ok(c, versionsCmd({ CacheParameterGroupFamily: 'redis7' }))), ['redis 7.0 redis7', 'redis 7.1 redis7']);
    assert.deepEqual(versions(await ok(c, versionsCmd({ Engine: 'Redis', EngineVersion: '6.x' }))), ['redis 6.0 redis6.x', 'redis 6.2 redis6.x']);
    assert.deepEqual(versions(await ok(c, versionsCmd({ Engine: 'memcached' }))), every.filter((v) => v.startsWith('memcached ')));
    assert.deepEqual(await ok(c, versionsCmd({ Engine: 'redis', EngineVersion: '2.6.13' })), {
      CacheEngineVersions: [{ Engine: 'redis', EngineVersion: '2.6.13', CacheParameterGroupFamily: 'redis2.6',
        CacheEngineDescription: 'Redis', CacheEngineVersionDescription: 'redis version 2.6.13' }],
    });
    // DefaultOnly: one per engine, the newest of each (no source marks one).
    const num = (v) => v.split(' ')[1].split('.').map(Number);
    const newer = (x, y) => { const [a, b] = [num(x), num(y)]; for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0); return false; };
    const newest = (engine) => every.filter((v) => v.startsWith(`${engine} `)).reduce((x, y) => (newer(y, x) ? y : x));
    assert.deepEqual(versions(await ok(c, versionsCmd({ DefaultOnly: true }))), [newest('redis'), newest('valkey'), newest('memcached')]);
    assert.deepEqual(versions(await ok(c, versionsCmd({ Engine: 'valkey', DefaultOnly: true }))), [newest('valkey')]);
    assert.deepEqual(await ok(c, versionsCmd({ Engine: 'valkey', EngineVersion: '6.2' })), { CacheEngineVersions: [] });
  });

  test('faults', T, async () => {
    const c = client(s);
    await ok(c, createCmd('p'));
    await ok(c, modifyCmd('p', nv('maxmemory-policy', 'allkeys-lru')));

    // Create.
    await fault(c, createCmd('P', 'redis7', { Description: 'again' }), CacheParameterGroupAlreadyExistsFault,
      'CacheParameterGroupAlreadyExists', alreadyExists('p'));
    await invalidValue(c, createCmd('q', 'redis99'), CREATE_UNKNOWN_FAMILY);
    for (const name of ['default.mine', 'Default.redis7']) await invalidValue(c, createCmd(name), RESERVED_MSG);

    // Not found.
    await pgNotFound(c, new DescribeCacheParameterGroupsCommand({ CacheParameterGroupName: 'nobody' }), notFound('nobody'));
    await pgNotFound(c, new DescribeCacheParameterGroupsCommand({ CacheParameterGroupName: 'default.redis99' }), notFound('default.redis99'));
    await pgNotFound(c, paramsCmd({ CacheParameterGroupName: 'nobody' }), notFound('nobody'));
    await pgNotFound(c, modifyCmd('nobody', nv('timeout', '30')), notFound('nobody'));
    await pgNotFound(c, resetCmd('nobody', { ParameterNameValues: [nv('timeout')] }), notFound('nobody'));
    await pgNotFound(c, deleteCmd('nobody'), deleteNotFound('nobody'));
    await pgNotFound(c, new AddTagsToResourceCommand({ ResourceName: pgARN('nobody'), Tags: [{ Key: 'k', Value: 'v' }] }), notFound('nobody'));

    // Modify: one bad entry among good ones and nothing changes.
    for (const [entry, message] of [
      [nv('cluster-enabled', 'yes'), cannotModify('cluster-enabled')],
      [nv('no-such-parameter', '1'), noSuchParameter('no-such-parameter', 'redis7')],
      [nv('maxmemory-policy', 'sometimes'), badValue('sometimes', 'maxmemory-policy', POLICIES)],
      [nv('activedefrag', 'maybe'), badValue('maybe', 'activedefrag', 'yes,no')],
      [nv('active-defrag-cycle-max', '76'), badValue('76', 'active-defrag-cycle-max', '1-75')],
    ]) {
      await invalidValue(c, modifyCmd('p', nv('timeout', '60'), entry), message);
    }
    await invalidValue(c, modifyCmd('p', ...Array.from({ length: 21 }, (_, i) => nv('timeout', String(300 + i)))), TOO_MANY_MSG);
    await invalidValue(c, modifyCmd('default.redis7', nv('timeout', '30')), DEFAULT_MODIFY_MSG);

    // Reset.
    await invalidValue(c, resetCmd('p', { ParameterNameValues: [nv('cluster-enabled')] }), cannotModify('cluster-enabled'));
    await invalidValue(c, resetCmd('p', { ParameterNameValues: [nv('maxmemory-policy'), nv('nope')] }), noSuchParameter('nope', 'redis7'));
    await invalidValue(c, resetCmd('p', { ParameterNameValues: Array.from({ length: 21 }, () => nv('timeout')) }), TOO_MANY_MSG);
    await fault(c, resetCmd('p', { ResetAllParameters: true, ParameterNameValues: [nv('timeout')] }),
      InvalidParameterCombinationException, 'InvalidParameterCombination', COMBINATION_MSG);
    await invalidValue(c, resetCmd('default.redis7.cluster.on', { ResetAllParameters: true }), DEFAULT_MODIFY_MSG);
    // The refused modifications and resets left the group as it was.
    assert.deepEqual(await userValues(c, 'p'), { 'maxmemory-policy': 'allkeys-lru' });

    // Delete and tag a default group.
    await invalidValue(c, deleteCmd('default.redis7'), DEFAULT_DELETE_MSG);
    await invalidValue(c, new AddTagsToResourceCommand({ ResourceName: pgARN('default.redis7'), Tags: [{ Key: 'k', Value: 'v' }] }), DEFAULT_TAG_MSG);
    await invalidValue(c, new RemoveTagsFromResourceCommand({ ResourceName: pgARN('default.memcached1.6'), TagKeys: ['k'] }), DEFAULT_TAG_MSG);

    // Source, MaxRecords, Marker.
    await invalidValue(c, paramsCmd({ CacheParameterGroupName: 'p', Source: 'mine' }), SOURCE_MSG);
    for (const MaxRecords of [19, 101]) {
      await invalidValue(c, new DescribeCacheParameterGroupsCommand({ MaxRecords }), MAX_RECORDS_MSG);
      await invalidValue(c, paramsCmd({ CacheParameterGroupName: 'p', MaxRecords }), MAX_RECORDS_MSG);
      await invalidValue(c, new DescribeEngineDefaultParametersCommand({ CacheParameterGroupFamily: 'redis7', MaxRecords }), MAX_RECORDS_MSG);
      await invalidValue(c, versionsCmd({ MaxRecords }), MAX_RECORDS_MSG);
    }
    await invalidValue(c, new DescribeCacheParameterGroupsCommand({ Marker: 'garbage' }), MARKER_MSG);
    await invalidValue(c, paramsCmd({ CacheParameterGroupName: 'p', Marker: 'garbage' }), MARKER_MSG);
    await invalidValue(c, new DescribeEngineDefaultParametersCommand({ CacheParameterGroupFamily: 'redis7', Marker: 'garbage' }), MARKER_MSG);
    await invalidValue(c, versionsCmd({ Marker: 'garbage' }), MARKER_MSG);
    // A real marker of another operation is no marker here.
    const { EngineDefaults } = await ok(c, new DescribeEngineDefaultParametersCommand({ CacheParameterGroupFamily: 'redis7', MaxRecords: 20 }));
    assert.ok(EngineDefaults.Marker);
    await invalidValue(c, paramsCmd({ CacheParameterGroupName: 'p', Marker: EngineDefaults.Marker }), MARKER_MSG);

    // The catalogue's reads: an unknown family or engine.
    await invalidValue(c, new DescribeEngineDefaultParametersCommand({ CacheParameterGroupFamily: 'redis99' }), unknownFamily('redis99'));
    await invalidValue(c, versionsCmd({ CacheParameterGroupFamily: 'redis99' }), unknownFamily('redis99'));
    await invalidValue(c, versionsCmd({ Engine: 'mongodb' }), ENGINE_MSG);
  });
});
