// End-to-end suite: cache clusters through the AWS SDK for JavaScript v3
// (@aws-sdk/client-elasticache, pinned in package.json / package-lock.json)
// against a real elasticache-server running real engines (its default
// --engines auto: a redis-server or memcached process per node, installed
// by scripts/install-engines.sh).
//
// A wire smoke test of the family (service/cacheclusters*.go): a redis
// cluster created with tags answers creating, becomes available (polled with
// a deadline), shows its node with ShowCacheNodeInfo and answers PING on
// its endpoint over a raw socket; a setting modified with ApplyImmediately,
// a reboot (rebooting cluster nodes, PONG again after), a delete (deleting,
// then CacheClusterNotFoundFault and an endpoint that refuses connections).
// A memcached cluster of two nodes: its ConfigurationEndpoint, `version` on
// each node. Two faults by `instanceof` their modeled class:
// CacheClusterAlreadyExistsFault and CacheClusterNotFoundFault (404).
//
// Every cluster asks for a port the kernel has just called free: the server
// of this branch gives node addresses from 127.1.0.1 upwards, so clusters on
// the default ports of two servers on one host (other suites run beside this
// one) would both ask for 127.1.0.1:6379.
//
// No engine outlives a test: each test has a server of its own, stopped
// with SIGTERM after it (which stops its engines); then no engine pid file
// may be left in its engine directory and every endpoint the test saw must
// refuse connections. A last hook kills, by their pid files, engines that a
// server which had to be killed left behind, and fails the run if any.
//
// Run:  SERVER_BIN=/path/to/elasticache-server JS_SDK_DIR=/path/to/js-sdk \
//         node --test --test-reporter=spec e2e/js/clusters.test.mjs
// (e2e/js_test.go runs it with the other suites; see harness.mjs for how the
// SDK is loaded from JS_SDK_DIR.) It never skips. Clients are hermetic:
// static credentials, maxAttempts 1, no instance metadata, empty AWS config
// and credential files.

import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { ALL_SERVERS, Server, enginePidFiles, fault, killLeftEngines, ok, refuses, runLine, sdk } from './harness.mjs';

const {
  ElastiCacheClient,
  CreateCacheClusterCommand, DescribeCacheClustersCommand, ModifyCacheClusterCommand,
  RebootCacheClusterCommand, DeleteCacheClusterCommand, ListTagsForResourceCommand,
  CacheClusterAlreadyExistsFault, CacheClusterNotFoundFault,
} = sdk;

// ---------------------------------------------------------------- constants

const ACCOUNT = '111111111111';
const SECRET = 'e2e-secret-key';
const REGION = 'us-east-1';
const T = { timeout: 120_000 }; // a hang fails the test instead of the whole run

// How long a cluster may take to reach a status: an engine start is about a
// second, or two when the installed redis refuses a directive of AWS's
// defaults and is started again without it; a loaded machine needs more.
const STATUS_DEADLINE_MS = 45_000;
// How long an engine may take to close its port once its cluster is gone.
const GONE_DEADLINE_MS = 15_000;
const SOCKET_TIMEOUT_MS = 5_000;
// A cluster in one of these will not become available by waiting.
const DEAD_ENDS = new Set(['incompatible-network', 'failed', 'incompatible-parameters']);

const NODE_TYPE = 'cache.t3.micro';
const TAGS = [{ Key: 'env', Value: 'test' }];
const clusterARN = (id) => `arn:aws:elasticache:${REGION}:${ACCOUNT}:cluster:${id}`;

/** What a Create answers of a cluster, besides what a hash of its ID picks (zone, windows). */
const created = (id, engine, version, nodes, group) => ({
  CacheClusterId: id, CacheClusterStatus: 'creating', Engine: engine, EngineVersion: version,
  CacheNodeType: NODE_TYPE, NumCacheNodes: nodes, CacheSubnetGroupName: 'default',
  CacheParameterGroup: { CacheParameterGroupName: group, ParameterApplyStatus: 'in-sync', CacheNodeIdsToReboot: [] },
  PendingModifiedValues: {}, CacheSecurityGroups: [], ARN: clusterARN(id),
  ClientDownloadLandingPage: 'https://console.aws.amazon.com/elasticache/home#client-download:',
});
const pick = (obj, like) => Object.fromEntries(Object.keys(like).map((k) => [k, obj[k]]));

// ------------------------------------------------------------------ sockets

/** A port the kernel has just called free (see the top of this file). */
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

/** Sends request to the endpoint and resolves to the first line answered, with its CRLF. */
function exchange({ Address, Port }, request) {
  return new Promise((resolve, reject) => {
    let got = '';
    const sock = net.createConnection({ host: Address, port: Port });
    sock.setTimeout(SOCKET_TIMEOUT_MS, () => sock.destroy(new Error(`${Address}:${Port}: no answer within ${SOCKET_TIMEOUT_MS} ms`)));
    sock.once('connect', () => sock.write(request));
    sock.on('data', (b) => {
      got += b.toString('latin1');
      if (got.endsWith('\r\n')) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.once('error', reject);
    sock.once('close', () => resolve(got));
  });
}
const redisPing = (ep) => exchange(ep, '*1\r\n$4\r\nPING\r\n');
const memcachedVersion = (ep) => exchange(ep, 'version\r\n');

// ------------------------------------------------------------------- tests

// No engine outlives the run: a server whose stop failed (and was killed)
// leaves its engines, in process groups of their own (engine/runner.go);
// kill them by their pid files, and fail.
after(() => {
  assert.deepEqual(killLeftEngines(), [], 'engines outlived their servers (killed)');
});

describe('cache clusters (engines auto)', () => {
  let s; // this test's server
  let c; // its client
  let endpoints; // every node endpoint this test saw
  let t0; // when this test began

  beforeEach(async (t) => {
    s = await new Server(`clusters-${t.name.split(':')[0].replace(/\W+/g, '-')}`).start();
    c = new ElastiCacheClient({
      endpoint: s.url, region: REGION, credentials: { accessKeyId: ACCOUNT, secretAccessKey: SECRET }, maxAttempts: 1,
    });
    endpoints = [];
    t0 = Date.now();
  });

  afterEach(async () => {
    c?.destroy();
    if (s && ALL_SERVERS.has(s)) await s.stop();
    assert.deepEqual(enginePidFiles(s.dataDir), [], 'engines left running after SIGTERM');
    for (const ep of endpoints) assert.ok(await refuses(ep), `${JSON.stringify(ep)} accepts connections after the server stopped`);
  });

  async function describeCluster(id) {
    const out = await ok(c, new DescribeCacheClustersCommand({ CacheClusterId: id, ShowCacheNodeInfo: true }));
    assert.equal(out.CacheClusters.length, 1, JSON.stringify(out));
    return out.CacheClusters[0];
  }

  /** Polls until id has status (failing at once on a dead end); records its node endpoints. */
  async function waitStatus(id, status) {
    const deadline = Date.now() + STATUS_DEADLINE_MS;
    for (;;) {
      const cl = await describeCluster(id);
      if (cl.CacheClusterStatus === status) {
        for (const n of cl.CacheNodes ?? []) if (n.Endpoint) endpoints.push(n.Endpoint);
        return cl;
      }
      if (DEAD_ENDS.has(cl.CacheClusterStatus) || Date.now() > deadline) {
        assert.fail(`${id} is ${cl.CacheClusterStatus}, not ${status} (deadline ${STATUS_DEADLINE_MS} ms):\n` +
          `${JSON.stringify(cl)}\n${s.logText().slice(-4000)}`);
      }
      await sleep(50);
    }
  }

  /** Polls until a deleted cluster is gone (it is deleting, with no nodes shown, until its engines stopped). */
  async function waitGone(id) {
    const deadline = Date.now() + STATUS_DEADLINE_MS;
    for (;;) {
      let cl;
      try {
        cl = await describeCluster(id);
      } catch (e) {
        if (e instanceof CacheClusterNotFoundFault) break;
        throw e;
      }
      assert.equal(cl.CacheClusterStatus, 'deleting', JSON.stringify(cl));
      assert.equal(cl.CacheNodes, undefined, 'a deleting cluster shows no nodes');
      if (Date.now() > deadline) assert.fail(`${id} still deleting after ${STATUS_DEADLINE_MS} ms\n${s.logText().slice(-4000)}`);
      await sleep(50);
    }
    await notFound(new DescribeCacheClustersCommand({ CacheClusterId: id }), id);
  }

  async function waitRefused(ep) {
    const deadline = Date.now() + GONE_DEADLINE_MS;
    while (!(await refuses(ep))) {
      if (Date.now() > deadline) assert.fail(`${JSON.stringify(ep)} accepts connections ${GONE_DEADLINE_MS} ms after its cluster went`);
      await sleep(50);
    }
  }

  /** The node is available on a loopback endpoint with port, in zone az, created since the test began. */
  function assertNode(node, id, port, az) {
    const shown = JSON.stringify(node);
    assert.equal(node.CacheNodeId, id, shown);
    assert.equal(node.CacheNodeStatus, 'available', shown);
    assert.match(node.Endpoint.Address, /^127\.\d+\.\d+\.\d+$/, shown);
    assert.equal(node.Endpoint.Port, port, shown);
    assert.equal(node.CustomerAvailabilityZone, az, shown);
    assert.equal(node.ParameterGroupStatus, 'in-sync', shown);
    // The server's clock is this host's: made after the test began (less a
    // second of rounding) and not in the future.
    assert.ok(node.CacheNodeCreateTime instanceof Date, shown);
    assert.ok(node.CacheNodeCreateTime.getTime() >= t0 - 1000 && node.CacheNodeCreateTime.getTime() <= Date.now() + 1000, shown);
  }

  const notFound = (cmd, id) => fault(c, cmd, CacheClusterNotFoundFault, 'CacheClusterNotFound', `CacheCluster not found: ${id}`, 404);

  test('redis: create with tags, available, PING, modify, reboot, delete', T, async () => {
    console.log(runLine());
    const port = await freePort();
    const out = (await ok(c, new CreateCacheClusterCommand({
      CacheClusterId: 'Web-Cache', Engine: 'redis', CacheNodeType: NODE_TYPE, Port: port, Tags: TAGS,
    }))).CacheCluster;
    const want = created('web-cache', 'redis', '7.1', 1, 'default.redis7');
    assert.deepEqual(pick(out, want), want);
    for (const absent of ['CacheClusterCreateTime', 'CacheNodes', 'ConfigurationEndpoint']) assert.equal(out[absent], undefined, absent);
    assert.match(out.PreferredAvailabilityZone, /^us-east-1[a-f]$/);
    assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: clusterARN('web-cache') })), { TagList: TAGS });

    let cl = await waitStatus('WEB-CACHE', 'available');
    assert.ok(cl.CacheClusterCreateTime instanceof Date);
    assert.equal(cl.ConfigurationEndpoint, undefined, 'a redis cluster has no configuration endpoint');
    assert.equal(cl.CacheNodes.length, 1);
    assertNode(cl.CacheNodes[0], '0001', port, cl.PreferredAvailabilityZone);
    const ep = cl.CacheNodes[0].Endpoint;
    assert.equal(await redisPing(ep), '+PONG\r\n');

    // A setting, applied at once: the cluster stays available.
    const mod = (await ok(c, new ModifyCacheClusterCommand({ CacheClusterId: 'web-cache', SnapshotRetentionLimit: 5, ApplyImmediately: true }))).CacheCluster;
    assert.deepEqual([mod.CacheClusterStatus, mod.SnapshotRetentionLimit], ['available', 5]);
    assert.equal((await describeCluster('web-cache')).SnapshotRetentionLimit, 5);

    // A reboot restarts the engine, which answers again.
    const rb = (await ok(c, new RebootCacheClusterCommand({ CacheClusterId: 'web-cache', CacheNodeIdsToReboot: ['0001'] }))).CacheCluster;
    assert.equal(rb.CacheClusterStatus, 'rebooting cluster nodes');
    cl = await waitStatus('web-cache', 'available');
    assert.deepEqual(cl.CacheNodes[0].Endpoint, ep);
    assert.equal(await redisPing(ep), '+PONG\r\n');

    const del = (await ok(c, new DeleteCacheClusterCommand({ CacheClusterId: 'Web-Cache' }))).CacheCluster;
    assert.deepEqual([del.CacheClusterId, del.CacheClusterStatus], ['web-cache', 'deleting']);
    await waitGone('web-cache');
    await waitRefused(ep);
    assert.deepEqual((await ok(c, new DescribeCacheClustersCommand({}))).CacheClusters, []);
  });

  test('memcached: two nodes, configuration endpoint, version on each, delete', T, async () => {
    const port = await freePort();
    const out = (await ok(c, new CreateCacheClusterCommand({
      CacheClusterId: 'mc', Engine: 'memcached', CacheNodeType: NODE_TYPE, NumCacheNodes: 2, Port: port,
    }))).CacheCluster;
    const want = created('mc', 'memcached', '1.6.22', 2, 'default.memcached1.6');
    assert.deepEqual(pick(out, want), want);

    const cl = await waitStatus('mc', 'available');
    const nodes = cl.CacheNodes;
    assert.deepEqual(nodes.map((n) => n.CacheNodeId), ['0001', '0002']);
    for (const n of nodes) {
      assert.match(n.CustomerAvailabilityZone, /^us-east-1[a-f]$/);
      assertNode(n, n.CacheNodeId, port, n.CustomerAvailabilityZone);
    }
    assert.notDeepEqual(nodes[0].Endpoint, nodes[1].Endpoint, 'two nodes on one endpoint');
    // No DNS here: the configuration endpoint is the first node's
    // (docs/DECISIONS.md, "Cache clusters: the API", Describe).
    assert.deepEqual(cl.ConfigurationEndpoint, nodes[0].Endpoint);
    for (const n of nodes) assert.match(await memcachedVersion(n.Endpoint), /^VERSION \d+\.\d+\.\d+\r\n$/);

    const del = (await ok(c, new DeleteCacheClusterCommand({ CacheClusterId: 'mc' }))).CacheCluster;
    assert.equal(del.CacheClusterStatus, 'deleting');
    await waitGone('mc');
    for (const n of nodes) await waitRefused(n.Endpoint);
  });

  test('faults: CacheClusterAlreadyExists, CacheClusterNotFound (404)', T, async () => {
    const create = (id, extra = {}) => new CreateCacheClusterCommand({ CacheClusterId: id, Engine: 'redis', CacheNodeType: NODE_TYPE, ...extra });
    await ok(c, create('taken', { Port: await freePort() }));
    await fault(c, create('TAKEN'), CacheClusterAlreadyExistsFault, 'CacheClusterAlreadyExists', 'Cache cluster taken already exists.');
    await notFound(new DescribeCacheClustersCommand({ CacheClusterId: 'nobody' }), 'nobody');
    await notFound(new DeleteCacheClusterCommand({ CacheClusterId: 'Nobody' }), 'nobody');
    assert.deepEqual((await ok(c, new DescribeCacheClustersCommand({}))).CacheClusters.map((x) => x.CacheClusterId), ['taken']);
  });
});
