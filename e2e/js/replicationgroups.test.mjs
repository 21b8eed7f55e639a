// End-to-end suite: replication groups through the AWS SDK for JavaScript v3
// (@aws-sdk/client-elasticache, pinned in package.json / package-lock.json)
// against a real elasticache-server running real engines (its default
// --engines auto: a redis-server process per member, installed by
// scripts/install-engines.sh).
//
// A wire smoke test of the family (service/replicationgroup*.go): a group of
// two clusters created with tags answers creating with its members, becomes
// available (polled with a deadline) and shows one node group 0001 whose
// PrimaryEndpoint is the primary's node and ReaderEndpoint the replica's,
// its members clusters of the group that DescribeCacheClusters shows; a key
// SET on the primary endpoint is read on the replica (polled: replication is
// asynchronous), which refuses writes; IncreaseReplicaCount adds a third
// member that replicates too; a delete (deleting, then
// ReplicationGroupNotFoundFault and endpoints that refuse connections). The
// fault ReplicationGroupNotFoundFault (404) by `instanceof` its modeled
// class.
//
// Every group asks for a port the kernel has just called free, as
// clusters.test.mjs does.
//
// No engine outlives a test: each test has a server of its own, stopped
// with SIGTERM after it (which stops its engines); then no engine pid file
// may be left in its engine directory and every endpoint the test saw must
// refuse connections. A last hook kills, by their pid files, engines that a
// server which had to be killed left behind, and fails the run if any.
//
// Run:  SERVER_BIN=/path/to/elasticache-server JS_SDK_DIR=/path/to/js-sdk \
//         node --test --test-reporter=spec e2e/js/replicationgroups.test.mjs
// (e2e/js_test.go runs it with the other suites; see harness.mjs for how the
// SDK is loaded from JS_SDK_DIR.) It never skips. Clients are hermetic:
// static credentials, maxAttempts 1, no instance metadata, empty AWS config
// and credential files.

import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { ALL_SERVERS, Server, enginePidFiles, fault, killLeftEngines, ok, refuses, sdk } from './harness.mjs';

const {
  ElastiCacheClient,
  CreateReplicationGroupCommand, DescribeReplicationGroupsCommand, IncreaseReplicaCountCommand,
  DeleteReplicationGroupCommand, DescribeCacheClustersCommand, ListTagsForResourceCommand,
  ReplicationGroupNotFoundFault,
} = sdk;

// ---------------------------------------------------------------- constants

const ACCOUNT = '111111111111';
const SECRET = 'e2e-secret-key';
const REGION = 'us-east-1';
const T = { timeout: 120_000 }; // a hang fails the test instead of the whole run

// How long a group may take to reach a status: each member's engine starts
// in about a second and a replica then syncs with its primary; a loaded
// machine needs more.
const STATUS_DEADLINE_MS = 60_000;
// How long a replica may take to show a write, and an engine to close its
// port once its group is gone.
const REPLICATION_DEADLINE_MS = 30_000;
const GONE_DEADLINE_MS = 15_000;
const SOCKET_TIMEOUT_MS = 5_000;

const NODE_TYPE = 'cache.t3.micro';
const TAGS = [{ Key: 'env', Value: 'test' }];
const groupARN = (id) => `arn:aws:elasticache:${REGION}:${ACCOUNT}:replicationgroup:${id}`;

// ------------------------------------------------------------------ sockets

/** A port the kernel has just called free (see clusters.test.mjs). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A RESP request of args. */
const resp = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/**
 * Sends one command to the endpoint and resolves to its whole reply when it
 * is a simple string, an error or a bulk string; of any other reply, its
 * first line.
 */
function command({ Address, Port }, ...args) {
  return new Promise((resolve, reject) => {
    let got = '';
    const sock = net.createConnection({ host: Address, port: Port });
    sock.setTimeout(SOCKET_TIMEOUT_MS, () => sock.destroy(new Error(`${Address}:${Port}: no answer within ${SOCKET_TIMEOUT_MS} ms`)));
    sock.once('connect', () => sock.write(resp(...args)));
    sock.on('data', (b) => {
      got += b.toString('latin1');
      const nl = got.indexOf('\r\n');
      if (nl < 0) return;
      if (got.startsWith('$')) {
        const size = Number.parseInt(got.slice(1, nl), 10);
        if (size >= 0 && got.length < nl + 2 + size + 2) return;
      }
      sock.destroy();
      resolve(got);
    });
    sock.once('error', reject);
    sock.once('close', () => resolve(got));
  });
}

// ------------------------------------------------------------------- tests

// No engine outlives the run: a server whose stop failed (and was killed)
// leaves its engines, in process groups of their own (engine/runner.go);
// kill them by their pid files, and fail.
after(() => {
  assert.deepEqual(killLeftEngines(), [], 'engines outlived their servers (killed)');
});

describe('replication groups (engines auto)', () => {
  let s; // this test's server
  let c; // its client
  let endpoints; // every member endpoint this test saw

  beforeEach(async (t) => {
    s = await new Server(`replicationgroups-${t.name.split(':')[0].replace(/\W+/g, '-')}`).start();
    c = new ElastiCacheClient({
      endpoint: s.url, region: REGION, credentials: { accessKeyId: ACCOUNT, secretAccessKey: SECRET }, maxAttempts: 1,
    });
    endpoints = [];
  });

  afterEach(async () => {
    c?.destroy();
    if (s && ALL_SERVERS.has(s)) await s.stop();
    assert.deepEqual(enginePidFiles(s.dataDir), [], 'engines left running after SIGTERM');
    for (const ep of endpoints) assert.ok(await refuses(ep), `${JSON.stringify(ep)} accepts connections after the server stopped`);
  });

  async function describeGroup(id) {
    const out = await ok(c, new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }));
    assert.equal(out.ReplicationGroups.length, 1, JSON.stringify(out));
    return out.ReplicationGroups[0];
  }

  /** Polls until id has status (failing at once on create-failed); records its members' endpoints. */
  async function waitStatus(id, status) {
    const deadline = Date.now() + STATUS_DEADLINE_MS;
    for (;;) {
      const g = await describeGroup(id);
      if (g.Status === status) {
        for (const m of g.NodeGroups[0].NodeGroupMembers) if (m.ReadEndpoint) endpoints.push(m.ReadEndpoint);
        return g;
      }
      if (!['creating', 'modifying'].includes(g.Status) || Date.now() > deadline) {
        assert.fail(`${id} is ${g.Status}, not ${status} (deadline ${STATUS_DEADLINE_MS} ms):\n` +
          `${JSON.stringify(g)}\n${s.logText().slice(-4000)}`);
      }
      await sleep(50);
    }
  }

  const notFound = (cmd, id) => fault(c, cmd, ReplicationGroupNotFoundFault, 'ReplicationGroupNotFoundFault',
    `ReplicationGroup ${id} not found.`, 404);

  /** Polls until a deleted group is gone (it is deleting until its members' engines stopped). */
  async function waitGone(id) {
    const deadline = Date.now() + STATUS_DEADLINE_MS;
    for (;;) {
      let g;
      try {
        g = await describeGroup(id);
      } catch (e) {
        if (e instanceof ReplicationGroupNotFoundFault) break;
        throw e;
      }
      assert.equal(g.Status, 'deleting', JSON.stringify(g));
      if (Date.now() > deadline) assert.fail(`${id} still deleting after ${STATUS_DEADLINE_MS} ms\n${s.logText().slice(-4000)}`);
      await sleep(50);
    }
    await notFound(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }), id);
  }

  async function waitRefused(ep) {
    const deadline = Date.now() + GONE_DEADLINE_MS;
    while (!(await refuses(ep))) {
      if (Date.now() > deadline) assert.fail(`${JSON.stringify(ep)} accepts connections ${GONE_DEADLINE_MS} ms after its group went`);
      await sleep(50);
    }
  }

  /** Polls a replica until GET key answers value; then it must be a replica that refuses writes. */
  async function waitReplicated(ep, key, value) {
    const want = `$${value.length}\r\n${value}\r\n`;
    const deadline = Date.now() + REPLICATION_DEADLINE_MS;
    for (;;) {
      const got = await command(ep, 'GET', key);
      if (got === want) break;
      if (Date.now() > deadline) assert.fail(`GET ${key} at ${JSON.stringify(ep)} = ${JSON.stringify(got)} after ${REPLICATION_DEADLINE_MS} ms`);
      await sleep(50);
    }
    assert.match(await command(ep, 'SET', key, 'x'), /^-READONLY/, `the replica ${JSON.stringify(ep)} took a write`);
  }

  /**
   * The group is available with one node group 0001 of n members, the
   * primary first, whose endpoints are the members' nodes; each member is an
   * available cluster of the group. Resolves to the members' endpoints.
   */
  async function assertShape(g, id, n, port) {
    const members = Array.from({ length: n }, (_, i) => `${id}-${String(i + 1).padStart(3, '0')}`);
    const shown = JSON.stringify(g);
    assert.deepEqual(g.MemberClusters, members, shown);
    assert.deepEqual([g.ClusterEnabled, g.AutomaticFailover, g.MultiAZ], [false, 'enabled', 'disabled'], shown);
    assert.equal(g.NodeGroups.length, 1, shown);
    const ng = g.NodeGroups[0];
    assert.deepEqual([ng.NodeGroupId, ng.Status], ['0001', 'available'], shown);
    assert.deepEqual(ng.NodeGroupMembers.map((m) => [m.CacheClusterId, m.CacheNodeId, m.CurrentRole]),
      members.map((m, i) => [m, '0001', i === 0 ? 'primary' : 'replica']), shown);
    const eps = ng.NodeGroupMembers.map((m) => m.ReadEndpoint);
    for (const ep of eps) {
      assert.match(ep.Address, /^127\.\d+\.\d+\.\d+$/, shown);
      assert.equal(ep.Port, port, shown);
    }
    assert.equal(new Set(eps.map((ep) => ep.Address)).size, n, `members share an address: ${shown}`);
    assert.deepEqual(ng.PrimaryEndpoint, eps[0], shown);
    assert.deepEqual(ng.ReaderEndpoint, eps[1], shown);
    for (const [i, m] of members.entries()) {
      const cl = (await ok(c, new DescribeCacheClustersCommand({ CacheClusterId: m, ShowCacheNodeInfo: true }))).CacheClusters[0];
      assert.deepEqual([cl.CacheClusterStatus, cl.ReplicationGroupId, cl.Engine, cl.NumCacheNodes], ['available', id, 'redis', 1], JSON.stringify(cl));
      assert.deepEqual(cl.CacheNodes[0].Endpoint, eps[i], JSON.stringify(cl));
    }
    return eps;
  }

  test('two clusters: create with tags, available, replication, IncreaseReplicaCount, delete', T, async () => {
    const port = await freePort();
    let out = (await ok(c, new CreateReplicationGroupCommand({
      ReplicationGroupId: 'Sessions', ReplicationGroupDescription: 'sessions', Engine: 'redis', CacheNodeType: NODE_TYPE,
      NumCacheClusters: 2, AutomaticFailoverEnabled: true, Port: port, Tags: TAGS,
    }))).ReplicationGroup;
    assert.deepEqual([out.ReplicationGroupId, out.Status, out.Description, out.MemberClusters, out.ARN],
      ['sessions', 'creating', 'sessions', ['sessions-001', 'sessions-002'], groupARN('sessions')]);
    assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: groupARN('sessions') })), { TagList: TAGS });

    let g = await waitStatus('SESSIONS', 'available');
    let eps = await assertShape(g, 'sessions', 2, port);
    assert.equal(await command(eps[0], 'SET', 'k', 'from the primary'), '+OK\r\n');
    await waitReplicated(eps[1], 'k', 'from the primary');

    out = (await ok(c, new IncreaseReplicaCountCommand({ ReplicationGroupId: 'sessions', NewReplicaCount: 2, ApplyImmediately: true }))).ReplicationGroup;
    assert.deepEqual([out.Status, out.MemberClusters], ['modifying', ['sessions-001', 'sessions-002', 'sessions-003']]);
    g = await waitStatus('sessions', 'available');
    eps = await assertShape(g, 'sessions', 3, port);
    await waitReplicated(eps[2], 'k', 'from the primary');

    out = (await ok(c, new DeleteReplicationGroupCommand({ ReplicationGroupId: 'Sessions' }))).ReplicationGroup;
    assert.deepEqual([out.ReplicationGroupId, out.Status], ['sessions', 'deleting']);
    await waitGone('sessions');
    for (const ep of eps) await waitRefused(ep);
    assert.deepEqual((await ok(c, new DescribeReplicationGroupsCommand({}))).ReplicationGroups, []);
    assert.deepEqual((await ok(c, new DescribeCacheClustersCommand({}))).CacheClusters, []);
  });

  test('faults: ReplicationGroupNotFoundFault (404)', T, async () => {
    await notFound(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'nobody' }), 'nobody');
    await notFound(new IncreaseReplicaCountCommand({ ReplicationGroupId: 'Nobody', NewReplicaCount: 2, ApplyImmediately: true }), 'nobody');
    await notFound(new DeleteReplicationGroupCommand({ ReplicationGroupId: 'nobody' }), 'nobody');
    assert.deepEqual((await ok(c, new DescribeReplicationGroupsCommand({}))).ReplicationGroups, []);
  });
});
