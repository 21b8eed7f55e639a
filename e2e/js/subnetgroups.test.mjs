// End-to-end suite: cache subnet groups through the AWS SDK for JavaScript v3
// (@aws-sdk/client-elasticache, pinned in package.json / package-lock.json)
// against a real elasticache-server.
//
// A wire smoke test of the family (service/subnetgroups.go): the happy path
// of Create/Describe/Modify/DeleteCacheSubnetGroup (and the SDK paginator),
// tags on subnetgroup ARNs, DescribeEvents with SourceType
// cache-subnet-group, and every fault by `instanceof` its modeled class:
// CacheSubnetGroupAlreadyExistsFault, CacheSubnetGroupNotFoundFault (HTTP
// 400, as AWS answers), CacheSubnetGroupQuotaExceededFault,
// CacheSubnetQuotaExceededFault, InvalidSubnet, and
// InvalidParameterValueException for unknown subnet ids and the reserved
// `default` group. InvalidParameterValue is in none of these operations'
// models; the SDK still surfaces it as InvalidParameterValueException (its
// error classes are looked up by code for the whole service).
//
// The server runs with the config file of e2e/subnetgroups_test.go (the Go
// SDK suite): a declared network of two VPCs, a quota of 2 subnet groups
// and a strict account. Each test has a server of its own, so that the
// declared account's quota is the test's alone.
//
// Run:  SERVER_BIN=/path/to/elasticache-server JS_SDK_DIR=/path/to/js-sdk \
//         node --test --test-reporter=spec e2e/js/subnetgroups.test.mjs
// (e2e/js_test.go runs it with elasticache.test.mjs; see harness.mjs for
// how the SDK is loaded from JS_SDK_DIR.) It never skips. Clients are
// hermetic: static credentials, maxAttempts 1, no instance metadata, empty
// AWS config and credential files.

import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ALL_SERVERS, Server, TMP, UUID, fault, ok, runLine, sdk } from './harness.mjs';

const {
  ElastiCacheClient, ElastiCacheServiceException,
  CreateCacheSubnetGroupCommand, DescribeCacheSubnetGroupsCommand, ModifyCacheSubnetGroupCommand,
  DeleteCacheSubnetGroupCommand, AddTagsToResourceCommand, ListTagsForResourceCommand,
  RemoveTagsFromResourceCommand, DescribeEventsCommand, paginateDescribeCacheSubnetGroups,
  CacheSubnetGroupAlreadyExistsFault, CacheSubnetGroupNotFoundFault, CacheSubnetGroupQuotaExceededFault,
  CacheSubnetQuotaExceededFault, InvalidSubnet, InvalidParameterValueException,
} = sdk;

// ---------------------------------------------------------------- constants

const SECRET = 'e2e-secret-key';
const REGION = 'us-east-1';
const T = { timeout: 60_000 }; // a hang fails the test instead of the whole run

// The config file of e2e/subnetgroups_test.go (subnetConfig).
const NET_ACCOUNT = '111111111111'; // the declared network; a quota of 2 groups
const STRICT_ACCOUNT = '333333333333'; // refuses subnets nobody declared
const CONFIG_YAML = `
accounts:
  - id: "111111111111"
    quotas:
      cacheSubnetGroups: 2
  - id: "333333333333"
    strictSubnets: true
networks:
  - account: "111111111111"
    region: us-east-1
    vpcs:
      - id: vpc-0a0a0a0a
        subnets:
          - id: subnet-0a000001
            availabilityZone: us-east-1a
          - id: subnet-0a000002
            availabilityZone: us-east-1b
            ipv6: true
      - id: vpc-0b0b0b0b
        subnets:
          - id: subnet-0b000001
            availabilityZone: us-east-1c
`;
const CONFIG_PATH = path.join(TMP, 'subnets.yaml');
fs.writeFileSync(CONFIG_PATH, CONFIG_YAML);

const VPC_A = 'vpc-0a0a0a0a';
const VPC_B = 'vpc-0b0b0b0b';
const A1 = 'subnet-0a000001';
const A2 = 'subnet-0a000002';
const B1 = 'subnet-0b000001';
// 21 well-formed ids nobody declared: one more than a group may hold.
const MANY = Array.from({ length: 21 }, (_, i) => `subnet-${(i + 1).toString(16).padStart(8, '0')}`);
const DEFAULT_ID = /^(vpc|subnet)-[0-9a-f]{17}$/; // a generated default VPC or subnet

const sn = (SubnetIdentifier, zone, types = ['ipv4']) =>
  ({ SubnetIdentifier, SubnetAvailabilityZone: { Name: zone }, SupportedNetworkTypes: types });
const SN_A1 = sn(A1, 'us-east-1a');
const SN_A2 = sn(A2, 'us-east-1b', ['ipv4', 'dual_stack']);
const SN_B1 = sn(B1, 'us-east-1c');

const sgARN = (account, name, region = REGION) => `arn:aws:elasticache:${region}:${account}:subnetgroup:${name}`;
/** The CacheSubnetGroup the SDK should parse. */
const sgroup = (account, name, description, vpc, subnets, types = ['ipv4']) => ({
  CacheSubnetGroupName: name, CacheSubnetGroupDescription: description, VpcId: vpc,
  Subnets: subnets, ARN: sgARN(account, name), SupportedNetworkTypes: types,
});

const notFound = (name) => `CacheSubnetGroup ${name} not found.`;
const alreadyExists = (name) => `Cache subnet group ${name} already exists.`;
const invalidIDs = (...ids) => `Some input subnets in :[${ids.join(', ')}] are invalid.`;
const twoVPCs = (first, second) => `Subnets ${first} and ${second} are not in the same VPC.`;
const QUOTA_MSG = 'Quota exceeded for cache subnet groups.';
const SUBNET_QUOTA_MSG = 'The request cannot be processed because it would exceed the allowed number ' +
  'of subnets in a cache subnet group (20).';
const RESERVED_MSG = 'Invalid value for parameter CacheSubnetGroupName: the name default is reserved ' +
  'for the default cache subnet group.';
const DEFAULT_MODIFY_MSG = 'The default cache subnet group cannot be modified.';
const DEFAULT_DELETE_MSG = 'The default cache subnet group cannot be deleted.';
const DEFAULT_TAG_MSG = 'The default cache subnet group cannot be tagged.';
const EV_CREATED = 'Cache subnet group created';
const EV_MODIFIED = 'Cache subnet group modified';
const EV_DELETED = 'Cache subnet group deleted';
const SOURCE_TYPE = 'cache-subnet-group';

// ------------------------------------------------------------------ clients

function client(server, accessKeyId, region = REGION) {
  return new ElastiCacheClient({
    endpoint: server.url, region, credentials: { accessKeyId, secretAccessKey: SECRET }, maxAttempts: 1,
  });
}



const createCmd = (name, SubnetIds, Tags) => new CreateCacheSubnetGroupCommand({
  CacheSubnetGroupName: name, CacheSubnetGroupDescription: 'd', SubnetIds, ...(Tags ? { Tags } : {}),
});
const describeCmd = (input = {}) => new DescribeCacheSubnetGroupsCommand(input);
const modifyCmd = (input) => new ModifyCacheSubnetGroupCommand(input);
const deleteCmd = (name) => new DeleteCacheSubnetGroupCommand({ CacheSubnetGroupName: name });
const names = (out) => out.CacheSubnetGroups.map((g) => g.CacheSubnetGroupName);

const invalidValue = (c, cmd, message) =>
  fault(c, cmd, InvalidParameterValueException, 'InvalidParameterValue', message);
const subnetGroupNotFound = (c, cmd, name) =>
  fault(c, cmd, CacheSubnetGroupNotFoundFault, 'CacheSubnetGroupNotFoundFault', notFound(name));

// ------------------------------------------------------------------- tests

describe('cache subnet groups (a server with networks, a quota and a strict account)', () => {
  let s; // this test's server
  beforeEach(async (t) => {
    s = await new Server(`subnets-${t.name.split(':')[0].replace(/\W+/g, '-')}`, ['--config', CONFIG_PATH]).start();
  });
  afterEach(async () => { if (s && ALL_SERVERS.has(s)) await s.stop(); });

  test('happy path: create, describe, paginate, modify, tags, events, delete', T, async () => {
    console.log(runLine());
    const c = client(s, NET_ACCOUNT);
    const t0 = Date.now();
    // Create: the name stored lowercase, the subnets once each in id order
    // with their zones and types, the group's types those all share.
    const created = sgroup(NET_ACCOUNT, 'web-tier', 'web tier', VPC_A, [SN_A1, SN_A2]);
    assert.deepEqual(await ok(c, new CreateCacheSubnetGroupCommand({
      CacheSubnetGroupName: 'Web-Tier', CacheSubnetGroupDescription: 'web tier', SubnetIds: [A2, A1, A2],
      Tags: [{ Key: 'env', Value: 'test' }],
    })), { CacheSubnetGroup: created });

    // Describe by name in any case, all of them, and through the paginator.
    assert.deepEqual(await ok(c, describeCmd({ CacheSubnetGroupName: 'WEB-TIER' })), { CacheSubnetGroups: [created] });
    const all = await ok(c, describeCmd());
    assert.deepEqual(names(all), ['default', 'web-tier']);
    assert.deepEqual(all.CacheSubnetGroups[1], created);
    assert.equal(all.Marker, undefined);
    const paged = [];
    for await (const page of paginateDescribeCacheSubnetGroups({ client: c, pageSize: 20 }, {})) paged.push(...names(page));
    assert.deepEqual(paged, ['default', 'web-tier']);

    // Modify: subnets alone (into the other VPC), both, description alone.
    assert.deepEqual(await ok(c, modifyCmd({ CacheSubnetGroupName: 'web-tier', SubnetIds: [B1] })),
      { CacheSubnetGroup: sgroup(NET_ACCOUNT, 'web-tier', 'web tier', VPC_B, [SN_B1]) });
    assert.deepEqual(await ok(c, modifyCmd({ CacheSubnetGroupName: 'Web-Tier', CacheSubnetGroupDescription: 'dual', SubnetIds: [A2] })),
      { CacheSubnetGroup: sgroup(NET_ACCOUNT, 'web-tier', 'dual', VPC_A, [SN_A2], ['ipv4', 'dual_stack']) });
    const modified = sgroup(NET_ACCOUNT, 'web-tier', 'new', VPC_A, [SN_A2], ['ipv4', 'dual_stack']);
    assert.deepEqual(await ok(c, modifyCmd({ CacheSubnetGroupName: 'web-tier', CacheSubnetGroupDescription: 'new' })),
      { CacheSubnetGroup: modified });
    assert.deepEqual(await ok(c, describeCmd({ CacheSubnetGroupName: 'web-tier' })), { CacheSubnetGroups: [modified] });

    // Tags on the group's ARN.
    const a = sgARN(NET_ACCOUNT, 'web-tier');
    assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: a })), { TagList: [{ Key: 'env', Value: 'test' }] });
    assert.deepEqual(await ok(c, new AddTagsToResourceCommand({ ResourceName: a, Tags: [{ Key: 'team', Value: 'core' }] })),
      { TagList: [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'core' }] });
    assert.deepEqual(await ok(c, new RemoveTagsFromResourceCommand({ ResourceName: a, TagKeys: ['env'] })),
      { TagList: [{ Key: 'team', Value: 'core' }] });

    // Delete: an empty answer, then NotFound (400) for every operation.
    assert.deepEqual(await ok(c, deleteCmd('WEB-TIER')), {});
    const t1 = Date.now();
    await subnetGroupNotFound(c, describeCmd({ CacheSubnetGroupName: 'web-tier' }), 'web-tier');
    await subnetGroupNotFound(c, modifyCmd({ CacheSubnetGroupName: 'web-tier', CacheSubnetGroupDescription: 'x' }), 'web-tier');
    await subnetGroupNotFound(c, deleteCmd('web-tier'), 'web-tier');
    await subnetGroupNotFound(c, new ListTagsForResourceCommand({ ResourceName: a }), 'web-tier');
    await subnetGroupNotFound(c, new AddTagsToResourceCommand({ ResourceName: a, Tags: [{ Key: 'k', Value: 'v' }] }), 'web-tier');
    assert.deepEqual(names(await ok(c, describeCmd())), ['default']);

    // Its events outlive it: newest first, Date a Date within the test.
    const { Events } = await ok(c, new DescribeEventsCommand({ SourceType: SOURCE_TYPE, SourceIdentifier: 'Web-Tier' }));
    assert.deepEqual(Events.map((e) => [e.SourceIdentifier, e.SourceType, e.Message]), [
      ['web-tier', SOURCE_TYPE, EV_DELETED], ['web-tier', SOURCE_TYPE, EV_MODIFIED], ['web-tier', SOURCE_TYPE, EV_MODIFIED],
      ['web-tier', SOURCE_TYPE, EV_MODIFIED], ['web-tier', SOURCE_TYPE, EV_CREATED]]);
    for (const e of Events) {
      assert.ok(e.Date instanceof Date, JSON.stringify(e));
      assert.ok(e.Date.getTime() >= t0 - 1 && e.Date.getTime() <= t1, `${e.Date.toISOString()} not in [${t0}, ${t1}]`);
    }
    assert.deepEqual(await ok(c, new DescribeEventsCommand({ SourceType: 'cache-security-group' })), { Events: [] });
  });

  test('faults: AlreadyExists, InvalidSubnet, CacheSubnetQuotaExceeded, unknown ids, default, quota', T, async () => {
    const c = client(s, NET_ACCOUNT);
    await ok(c, createCmd('one', [A1]));
    await fault(c, createCmd('ONE', [A2]), CacheSubnetGroupAlreadyExistsFault, 'CacheSubnetGroupAlreadyExists', alreadyExists('one'));
    await fault(c, createCmd('mixed', [B1, A1]), InvalidSubnet, 'InvalidSubnet', twoVPCs(A1, B1));
    await fault(c, createCmd('many', MANY), CacheSubnetQuotaExceededFault, 'CacheSubnetQuotaExceededFault', SUBNET_QUOTA_MSG);
    await invalidValue(c, createCmd('bad-id', [A1, 'nope']), invalidIDs(A1, 'nope'));
    await invalidValue(c, createCmd('Default', [A1]), RESERVED_MSG);

    await fault(c, modifyCmd({ CacheSubnetGroupName: 'one', SubnetIds: [A1, B1] }), InvalidSubnet, 'InvalidSubnet', twoVPCs(A1, B1));
    await fault(c, modifyCmd({ CacheSubnetGroupName: 'one', SubnetIds: MANY }), CacheSubnetQuotaExceededFault,
      'CacheSubnetQuotaExceededFault', SUBNET_QUOTA_MSG);
    await invalidValue(c, modifyCmd({ CacheSubnetGroupName: 'one', SubnetIds: ['subnet-zz'] }), invalidIDs('subnet-zz'));
    await invalidValue(c, modifyCmd({ CacheSubnetGroupName: 'default', CacheSubnetGroupDescription: 'x' }), DEFAULT_MODIFY_MSG);
    await invalidValue(c, deleteCmd('default'), DEFAULT_DELETE_MSG);
    await invalidValue(c, new AddTagsToResourceCommand({ ResourceName: sgARN(NET_ACCOUNT, 'default'), Tags: [{ Key: 'k', Value: 'v' }] }),
      DEFAULT_TAG_MSG);
    // The refused modifications left the group as it was.
    assert.deepEqual(await ok(c, describeCmd({ CacheSubnetGroupName: 'one' })),
      { CacheSubnetGroups: [sgroup(NET_ACCOUNT, 'one', 'd', VPC_A, [SN_A1])] });

    // The config file's quota, 2 for this account; `default` does not
    // count, a duplicate is still AlreadyExists; other accounts are free.
    await ok(c, createCmd('two', [B1]));
    await fault(c, createCmd('three', [A1]), CacheSubnetGroupQuotaExceededFault, 'CacheSubnetGroupQuotaExceeded', QUOTA_MSG);
    await fault(c, createCmd('two', [A1]), CacheSubnetGroupAlreadyExistsFault, 'CacheSubnetGroupAlreadyExists', alreadyExists('two'));
    await subnetGroupNotFound(c, describeCmd({ CacheSubnetGroupName: 'three' }), 'three');
    assert.deepEqual(names(await ok(c, describeCmd())), ['default', 'one', 'two']);
    const other = client(s, '444444444444');
    for (const n of ['one', 'two', 'three']) await ok(other, createCmd(n, [MANY[0]]));
  });

  test('default group, undeclared subnets, a strict account, another region', T, async () => {
    for (const [account, region] of [[NET_ACCOUNT, REGION], [STRICT_ACCOUNT, REGION], ['444444444444', 'eu-west-1']]) {
      const out = await ok(client(s, account, region), describeCmd({ CacheSubnetGroupName: 'default' }));
      assert.equal(out.CacheSubnetGroups.length, 1);
      const d = out.CacheSubnetGroups[0];
      const shown = JSON.stringify(d);
      assert.deepEqual([d.CacheSubnetGroupName, d.CacheSubnetGroupDescription, d.ARN],
        ['default', 'default', sgARN(account, 'default', region)]);
      assert.match(d.VpcId, DEFAULT_ID);
      assert.ok(![VPC_A, VPC_B].includes(d.VpcId), shown);
      const zones = d.Subnets.map((x) => x.SubnetAvailabilityZone.Name);
      assert.ok(zones.length >= 2, shown);
      assert.deepEqual(zones, [...new Set(zones)].sort(), shown);
      for (const x of d.Subnets) {
        assert.match(x.SubnetIdentifier, DEFAULT_ID);
        assert.ok(x.SubnetAvailabilityZone.Name.startsWith(region), shown);
        assert.deepEqual(x.SupportedNetworkTypes, ['ipv4'], shown);
      }
      assert.deepEqual(d.SupportedNetworkTypes, ['ipv4'], shown);
    }

    // Not strict: undeclared ids land in the account's default VPC, which
    // is not a declared VPC.
    const c = client(s, NET_ACCOUNT);
    const defaultVPC = (await ok(c, describeCmd({ CacheSubnetGroupName: 'default' }))).CacheSubnetGroups[0].VpcId;
    const twenty = (await ok(c, createCmd('twenty', MANY.slice(0, 20)))).CacheSubnetGroup;
    assert.equal(twenty.VpcId, defaultVPC);
    assert.deepEqual(twenty.Subnets.map((x) => x.SubnetIdentifier), MANY.slice(0, 20));
    await fault(c, createCmd('mixed', [A1, MANY[0]]), InvalidSubnet, 'InvalidSubnet', twoVPCs(MANY[0], A1));

    // Strict: only its own default subnets.
    const strict = client(s, STRICT_ACCOUNT);
    await invalidValue(strict, createCmd('g', ['subnet-0fffffff']), invalidIDs('subnet-0fffffff'));
    await invalidValue(strict, createCmd('g', [A1]), invalidIDs(A1));
    const d = (await ok(strict, describeCmd({ CacheSubnetGroupName: 'default' }))).CacheSubnetGroups[0];
    const two = d.Subnets.slice(0, 2);
    const out = await ok(strict, createCmd('g', two.map((x) => x.SubnetIdentifier).reverse()));
    // The answer lists them in id order, `default` in zone order.
    const byID = [...two].sort((x, y) => (x.SubnetIdentifier < y.SubnetIdentifier ? -1 : 1));
    assert.deepEqual(out, { CacheSubnetGroup: sgroup(STRICT_ACCOUNT, 'g', 'd', d.VpcId, byID) });
    // Another region is another world.
    await subnetGroupNotFound(client(s, STRICT_ACCOUNT, 'us-west-2'), describeCmd({ CacheSubnetGroupName: 'g' }), 'g');
  });
});
