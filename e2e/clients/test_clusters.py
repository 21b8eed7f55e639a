#!/usr/bin/env python3
"""End-to-end suite: cache clusters through boto3 and the AWS CLI.

A wire smoke test of the family (service/cacheclusters*.go) with the real
engines behind it (the server's default --engines auto: one redis-server or
memcached process per node, scripts/install-engines.sh): a redis cluster
created with tags answers creating, becomes available (polled with a
deadline), shows its node (CacheNodeId, Endpoint, CustomerAvailabilityZone,
CacheNodeCreateTime, ParameterGroupStatus) with ShowCacheNodeInfo, and its
endpoint answers PING over a raw socket; a setting modified with
ApplyImmediately, a reboot (rebooting cluster nodes, PONG again after), a
delete (deleting, then CacheClusterNotFound and an endpoint that refuses
connections). A memcached cluster of two nodes: a ConfigurationEndpoint,
and `version` answered on each node. The faults: CacheClusterAlreadyExists,
a redis cluster of two nodes and the valkey engine (InvalidParameterValue),
CacheClusterNotFound (404) on every operation, CacheParameterGroupNotFound
(404). The AWS CLI: create-cache-cluster, describe-cache-clusters
--show-cache-node-info, delete-cache-cluster and the NotFound line.

Every cluster asks for a port the kernel has just called free: the server
of this branch gives node addresses from 127.1.0.1 upwards, so clusters on
the default ports of two servers on one host (this suite runs beside
others) would both ask for 127.1.0.1:6379.

No engine process outlives a test: each test ends by stopping its server
with SIGTERM (which stops the engines it runs), then checks that no engine
pid file is left in the server's engine directory and that every endpoint
the test saw refuses connections. The script ends by killing, by the pid
files left, any engine that a server killed with SIGKILL left behind, and
counts that as a failure.

boto3 errors are checked as the modeled exception, with the HTTP status,
the exact message and the Sender/RequestId envelope
(harness.ClientCase.assertB3Error).

Usage:  python3 test_clusters.py SERVER_BIN [PATTERN...]   (or SERVER_BIN=... in the env)

Never skips: a missing boto3, aws CLI, redis-server or memcached is a loud
failure. The last line printed is "N passed, M failed"; the exit code is
non-zero on any failure.
"""

import datetime
import os
import shutil
import socket
import sys
import time
import unittest

# harness.py lives next to this script: importable whatever the cwd.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  first: it checks boto3 (see harness.py)
from harness import NO_RETRY  # noqa: E402

SUITE = harness.Suite("the boto3/AWS CLI cache cluster suite", "elasticache-e2e-clusters-")

SECRET = "e2e-secret-key"
REGION = "us-east-1"
ACCOUNT = "111111111111"

for _engine in ("redis-server", "memcached"):
    if shutil.which(_engine) is None and not os.access(f"/usr/bin/{_engine}", os.X_OK):
        harness.fatal(f"{_engine} is not installed; the cache cluster suite runs real engines "
                      "(run scripts/install-engines.sh).")


def client_env(key=ACCOUNT, region=REGION):
    return SUITE.client_env(key, SECRET, region, extra=harness.ONE_ATTEMPT)


# boto3 runs in this process: make its environment hermetic too.
harness.make_process_hermetic(client_env("AKIDNOTUSED"))

# How long a cluster may take to reach a status: an engine start is about
# a second, or two when the installed redis refuses a directive of AWS's
# defaults and is started again without it; a loaded machine needs more.
STATUS_DEADLINE = 45.0
# How long an engine may take to close its port once its cluster is gone
# or its server stopped.
GONE_DEADLINE = 15.0
SOCKET_TIMEOUT = 5.0
# A cluster in one of these will not become available by waiting.
DEAD_ENDS = {"incompatible-network", "failed", "incompatible-parameters"}

NODE_TYPE = "cache.t3.micro"
TAGS = [{"Key": "env", "Value": "test"}]


def cluster_arn(cid):
    return f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:{cid}"


def cluster_not_found(cid):
    return ("CacheClusterNotFoundFault", "CacheClusterNotFound", f"CacheCluster not found: {cid}", 404)


def invalid_value(message):
    return ("InvalidParameterValueException", "InvalidParameterValue", message, 400)


def free_port():
    """A port the kernel has just called free (see the module's doc)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exchange(address, port, request):
    """Sends request to address:port and returns the first line answered,
    with its CRLF."""
    with socket.create_connection((address, port), timeout=SOCKET_TIMEOUT) as s:
        s.sendall(request)
        got = b""
        while not got.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        return got


def redis_ping(endpoint):
    return exchange(endpoint["Address"], endpoint["Port"], b"*1\r\n$4\r\nPING\r\n")


def memcached_version(endpoint):
    return exchange(endpoint["Address"], endpoint["Port"], b"version\r\n")


def refuses(endpoint):
    """Whether a connection to endpoint is refused (nothing listens)."""
    try:
        with socket.create_connection((endpoint["Address"], endpoint["Port"]), timeout=SOCKET_TIMEOUT):
            return False
    except ConnectionRefusedError:
        return True


def created(cid, engine, version, nodes, group):
    """What a Create answers of a cluster, besides what a hash of its ID
    picks (zone, windows)."""
    return {"CacheClusterId": cid, "CacheClusterStatus": "creating", "Engine": engine, "EngineVersion": version,
            "CacheNodeType": NODE_TYPE, "NumCacheNodes": nodes, "CacheSubnetGroupName": "default",
            "CacheParameterGroup": {"CacheParameterGroupName": group, "ParameterApplyStatus": "in-sync",
                                    "CacheNodeIdsToReboot": []},
            "PendingModifiedValues": {}, "CacheSecurityGroups": [], "ARN": cluster_arn(cid),
            "ClientDownloadLandingPage": "https://console.aws.amazon.com/elasticache/home#client-download:"}


def engine_pid_files(data_dir):
    """The pid files under a server's engine directory: one per engine
    process that runs (the runner removes it when the process stops)."""
    found = []
    for root, _, files in os.walk(os.path.join(data_dir, "engines")):
        if "pid" in files:
            found.append(os.path.join(root, "pid"))
    return found


class Case(harness.ClientCase):

    def setUp(self):
        """A server of this test's own (engines auto, the default);
        SIGTERMed at the end of the test, which must stop every engine."""
        self.server = SUITE.server(self.id().rsplit(".", 1)[-1].replace("_", "-")).start()
        self.endpoints = []  # every node endpoint the test saw
        self.t0 = datetime.datetime.now(datetime.timezone.utc)

    def tearDown(self):
        if self.server.running():
            rc, _ = self.server.stop()
            self.assertEqual(rc, 0, f"exit code after SIGTERM\n{self.server.log_text()}")
            errors = [r for r in self.server.log_records() if r.get("level") == "ERROR"]
            self.assertEqual(errors, [], "errors logged")
        self.assertEqual(engine_pid_files(self.server.data_dir), [], "engines left running after SIGTERM")
        for ep in self.endpoints:
            self.assertTrue(refuses(ep), f"{ep} still accepts connections after the server stopped")

    def b3(self):
        return harness.b3_client(self.server.url, ACCOUNT, SECRET, REGION, NO_RETRY)

    def ok(self, fn, **kwargs):
        """fn(**kwargs) answered 200 with a RequestId; returns the output
        without its ResponseMetadata."""
        out = fn(**kwargs)
        meta = out.pop("ResponseMetadata")
        self.assertEqual(meta["HTTPStatusCode"], 200, f"{fn.__name__}({kwargs!r})")
        self.assertTrue(meta.get("RequestId"), meta)
        self.assertEqual(meta["HTTPHeaders"].get("x-amzn-requestid"), meta["RequestId"], meta)
        return out

    def cli(self, op, *args):
        return SUITE.cli(self.server.url, client_env(), op, *args)

    def describe(self, c, cid):
        out = self.ok(c.describe_cache_clusters, CacheClusterId=cid, ShowCacheNodeInfo=True)
        self.assertEqual(len(out["CacheClusters"]), 1, out)
        return out["CacheClusters"][0]

    def wait_status(self, c, cid, status):
        """Polls DescribeCacheClusters (ShowCacheNodeInfo) until cid has
        status, failing at once on a dead end and after STATUS_DEADLINE;
        returns the cluster and records its node endpoints."""
        deadline = time.monotonic() + STATUS_DEADLINE
        while True:
            cl = self.describe(c, cid)
            seen = cl["CacheClusterStatus"]
            if seen == status:
                self.endpoints += [n["Endpoint"] for n in cl.get("CacheNodes", []) if "Endpoint" in n]
                return cl
            if seen in DEAD_ENDS or time.monotonic() > deadline:
                self.fail(f"{cid} is {seen}, not {status} (deadline {STATUS_DEADLINE}s):\n{cl}\n"
                          f"{self.server.log_text()[-4000:]}")
            time.sleep(0.05)

    def wait_gone(self, c, cid):
        """Polls until DescribeCacheClusters answers CacheClusterNotFound
        for cid (a deleted cluster is deleting until its engines stopped)."""
        deadline = time.monotonic() + STATUS_DEADLINE
        while True:
            try:
                cl = self.describe(c, cid)
            except c.exceptions.CacheClusterNotFoundFault:
                break
            self.assertEqual(cl["CacheClusterStatus"], "deleting", cl)
            self.assertNotIn("CacheNodes", cl, "a deleting cluster shows no nodes")
            if time.monotonic() > deadline:
                self.fail(f"{cid} still deleting after {STATUS_DEADLINE}s\n{self.server.log_text()[-4000:]}")
            time.sleep(0.05)
        self.assertB3Error(c.describe_cache_clusters, *cluster_not_found(cid), CacheClusterId=cid)

    def wait_refused(self, endpoint):
        """Polls until nothing listens on endpoint any more."""
        deadline = time.monotonic() + GONE_DEADLINE
        while not refuses(endpoint):
            if time.monotonic() > deadline:
                self.fail(f"{endpoint} still accepts connections {GONE_DEADLINE}s after its cluster went")
            time.sleep(0.05)

    def assertNode(self, node, node_id, port, az):
        """node is available with an endpoint on a loopback address and
        port, in zone az, created since the test began."""
        self.assertEqual(node["CacheNodeId"], node_id, node)
        self.assertEqual(node["CacheNodeStatus"], "available", node)
        self.assertRegex(node["Endpoint"]["Address"], r"^127\.\d+\.\d+\.\d+$", node)
        self.assertEqual(node["Endpoint"]["Port"], port, node)
        self.assertEqual(node["CustomerAvailabilityZone"], az, node)
        self.assertEqual(node["ParameterGroupStatus"], "in-sync", node)
        made = node["CacheNodeCreateTime"]
        self.assertIsInstance(made, datetime.datetime, node)
        # The server's clock is this host's: a node of this test was made
        # after it began (less a second of rounding) and not in the future.
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertGreaterEqual(made, self.t0 - datetime.timedelta(seconds=1), node)
        self.assertLessEqual(made, now + datetime.timedelta(seconds=1), node)


# ------------------------------------------------------------------ boto3

class T01Boto3(Case):

    def test_redis_lifecycle_boto3(self):
        c = self.b3()
        port = free_port()
        out = self.ok(c.create_cache_cluster, CacheClusterId="Web-Cache", Engine="redis", CacheNodeType=NODE_TYPE,
                      Port=port, Tags=TAGS)["CacheCluster"]
        want = created("web-cache", "redis", "7.1", 1, "default.redis7")
        self.assertEqual({k: out.get(k) for k in want}, want, out)
        for absent in ("CacheClusterCreateTime", "CacheNodes", "ConfigurationEndpoint"):
            self.assertNotIn(absent, out)
        self.assertRegex(out["PreferredAvailabilityZone"], r"^us-east-1[a-f]$", out)
        self.assertEqual(self.ok(c.list_tags_for_resource, ResourceName=cluster_arn("web-cache")), {"TagList": TAGS})

        cl = self.wait_status(c, "WEB-CACHE", "available")
        self.assertIsInstance(cl["CacheClusterCreateTime"], datetime.datetime, cl)
        self.assertNotIn("ConfigurationEndpoint", cl, "a redis cluster has no configuration endpoint")
        self.assertEqual(len(cl["CacheNodes"]), 1, cl)
        node = cl["CacheNodes"][0]
        self.assertNode(node, "0001", port, cl["PreferredAvailabilityZone"])
        ep = node["Endpoint"]
        self.assertEqual(redis_ping(ep), b"+PONG\r\n")

        # A setting, applied at once: the cluster stays available.
        out = self.ok(c.modify_cache_cluster, CacheClusterId="web-cache", SnapshotRetentionLimit=5,
                      ApplyImmediately=True)["CacheCluster"]
        self.assertEqual((out["CacheClusterStatus"], out["SnapshotRetentionLimit"]), ("available", 5), out)
        self.assertEqual(self.describe(c, "web-cache")["SnapshotRetentionLimit"], 5)

        # A reboot restarts the engine, which answers again.
        out = self.ok(c.reboot_cache_cluster, CacheClusterId="web-cache", CacheNodeIdsToReboot=["0001"])["CacheCluster"]
        self.assertEqual(out["CacheClusterStatus"], "rebooting cluster nodes", out)
        cl = self.wait_status(c, "web-cache", "available")
        self.assertEqual(cl["CacheNodes"][0]["Endpoint"], ep)
        self.assertEqual(redis_ping(ep), b"+PONG\r\n")

        out = self.ok(c.delete_cache_cluster, CacheClusterId="Web-Cache")["CacheCluster"]
        self.assertEqual((out["CacheClusterId"], out["CacheClusterStatus"]), ("web-cache", "deleting"), out)
        self.wait_gone(c, "web-cache")
        self.wait_refused(ep)
        self.assertB3Error(c.delete_cache_cluster, *cluster_not_found("web-cache"), CacheClusterId="web-cache")
        self.assertEqual(self.ok(c.describe_cache_clusters)["CacheClusters"], [])

    def test_memcached_two_nodes_boto3(self):
        c = self.b3()
        port = free_port()
        out = self.ok(c.create_cache_cluster, CacheClusterId="mc", Engine="memcached", CacheNodeType=NODE_TYPE,
                      NumCacheNodes=2, Port=port)["CacheCluster"]
        want = created("mc", "memcached", "1.6.22", 2, "default.memcached1.6")
        self.assertEqual({k: out.get(k) for k in want}, want, out)

        cl = self.wait_status(c, "mc", "available")
        nodes = cl["CacheNodes"]
        self.assertEqual([n["CacheNodeId"] for n in nodes], ["0001", "0002"], cl)
        for n in nodes:
            self.assertNode(n, n["CacheNodeId"], port, n["CustomerAvailabilityZone"])
            self.assertRegex(n["CustomerAvailabilityZone"], r"^us-east-1[a-f]$", n)
        self.assertNotEqual(nodes[0]["Endpoint"], nodes[1]["Endpoint"], "two nodes on one endpoint")
        # No DNS here: the configuration endpoint is the first node's
        # (docs/DECISIONS.md, "Cache clusters: the API", Describe).
        self.assertEqual(cl["ConfigurationEndpoint"], nodes[0]["Endpoint"], cl)
        for n in nodes:
            self.assertRegex(memcached_version(n["Endpoint"]), rb"^VERSION \d+\.\d+\.\d+\r\n$", n)

        out = self.ok(c.delete_cache_cluster, CacheClusterId="mc")["CacheCluster"]
        self.assertEqual(out["CacheClusterStatus"], "deleting", out)
        self.wait_gone(c, "mc")
        for n in nodes:
            self.wait_refused(n["Endpoint"])

    def test_faults_boto3(self):
        c = self.b3()
        create = c.create_cache_cluster
        base = {"Engine": "redis", "CacheNodeType": NODE_TYPE}
        self.ok(create, CacheClusterId="taken", Port=free_port(), **base)
        self.assertB3Error(create, "CacheClusterAlreadyExistsFault", "CacheClusterAlreadyExists",
                           "Cache cluster taken already exists.", 400, CacheClusterId="TAKEN", **base)
        self.assertB3Error(create, *invalid_value("Cannot create a Redis cluster with a NumCacheNodes parameter "
                                                  "greater than 1."), CacheClusterId="c1", NumCacheNodes=2, **base)
        self.assertB3Error(create, *invalid_value("Engine valkey is not supported for cache clusters; "
                                                  "create a replication group instead."),
                           CacheClusterId="c1", Engine="valkey", CacheNodeType=NODE_TYPE)
        self.assertB3Error(create, "CacheParameterGroupNotFoundFault", "CacheParameterGroupNotFound",
                           "CacheParameterGroup nope not found.", 404,
                           CacheClusterId="c1", CacheParameterGroupName="nope", **base)

        nf = cluster_not_found("nobody")
        self.assertB3Error(c.describe_cache_clusters, *nf, CacheClusterId="nobody")
        self.assertB3Error(c.modify_cache_cluster, *nf, CacheClusterId="nobody", SnapshotRetentionLimit=1)
        self.assertB3Error(c.reboot_cache_cluster, *nf, CacheClusterId="nobody", CacheNodeIdsToReboot=["0001"])
        self.assertB3Error(c.delete_cache_cluster, *nf, CacheClusterId="Nobody")
        self.assertB3Error(c.list_tags_for_resource, *nf, ResourceName=cluster_arn("nobody"))
        # The refused creates left nothing behind.
        self.assertEqual([cl["CacheClusterId"] for cl in self.ok(c.describe_cache_clusters)["CacheClusters"]],
                         ["taken"])


# -------------------------------------------------------------------- CLI

class T02CLI(Case):

    def test_lifecycle_cli(self):
        port = free_port()
        out = self.assertCLIOK(self.cli("create-cache-cluster", "--cache-cluster-id", "Cli-Cache", "--engine", "redis",
                                        "--cache-node-type", NODE_TYPE, "--port", str(port),
                                        "--tags", "Key=env,Value=test"))
        want = created("cli-cache", "redis", "7.1", 1, "default.redis7")
        self.assertEqual({k: out["CacheCluster"].get(k) for k in want}, want, out)

        # Waiting through boto3: an aws process per poll would cost a
        # second each.
        c = self.b3()
        self.wait_status(c, "cli-cache", "available")
        out = self.assertCLIOK(self.cli("describe-cache-clusters", "--cache-cluster-id", "CLI-CACHE",
                                        "--show-cache-node-info"))
        self.assertEqual(len(out["CacheClusters"]), 1, out)
        cl = out["CacheClusters"][0]
        self.assertEqual((cl["CacheClusterId"], cl["CacheClusterStatus"]), ("cli-cache", "available"), cl)
        self.assertEqual(len(cl["CacheNodes"]), 1, cl)
        node = cl["CacheNodes"][0]
        self.assertEqual((node["CacheNodeId"], node["CacheNodeStatus"], node["ParameterGroupStatus"]),
                         ("0001", "available", "in-sync"), node)
        self.assertEqual(node["Endpoint"]["Port"], port, node)
        self.assertEqual(node["CustomerAvailabilityZone"], cl["PreferredAvailabilityZone"], node)
        # The CLI prints timestamps as ISO 8601 (v1 as the wire has them, v2 with an offset).
        self.assertRegex(node["CacheNodeCreateTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$", node)
        ep = node["Endpoint"]
        self.endpoints.append(ep)
        self.assertEqual(redis_ping(ep), b"+PONG\r\n")

        out = self.assertCLIOK(self.cli("delete-cache-cluster", "--cache-cluster-id", "cli-cache"))
        self.assertEqual((out["CacheCluster"]["CacheClusterId"], out["CacheCluster"]["CacheClusterStatus"]),
                         ("cli-cache", "deleting"), out)
        self.wait_gone(c, "cli-cache")
        self.wait_refused(ep)
        self.assertCLIError(self.cli("describe-cache-clusters", "--cache-cluster-id", "cli-cache"),
                            "DescribeCacheClusters", "CacheClusterNotFound", "CacheCluster not found: cli-cache")


# ----------------------------------------------------------------- runner

CLASSES = (T02CLI, T01Boto3)
WORKERS = 4


def main():
    tally = harness.Tally(SUITE)
    loader = unittest.TestLoader()
    tests = [t for cls in CLASSES for t in loader.loadTestsFromTestCase(cls) if SUITE.selected(t)]
    try:
        tally.run(tests, WORKERS)
    finally:
        SUITE.kill_all()
        harness.kill_left_engines(SUITE, tally)
    return tally.finish(len(tests))


if __name__ == "__main__":
    sys.exit(main())
