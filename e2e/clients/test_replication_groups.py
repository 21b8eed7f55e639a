#!/usr/bin/env python3
"""End-to-end suite: replication groups through boto3 and the AWS CLI.

A wire smoke test of the family (service/replicationgroup*.go) with real
redis-server processes behind it (the server's default --engines auto,
scripts/install-engines.sh): a group of two clusters created with tags
answers creating with its members, becomes available (polled with a
deadline) and shows one node group 0001 whose PrimaryEndpoint is the
primary's node, whose ReaderEndpoint is the replica's, and whose members
are the clusters of MemberClusters, each of which DescribeCacheClusters
shows with its ReplicationGroupId; a key written on the primary endpoint
is read on the replica (polled: replication is asynchronous);
IncreaseReplicaCount adds a third member, which replicates too; a delete
(deleting, then ReplicationGroupNotFoundFault and endpoints that refuse
connections). The faults: ReplicationGroupNotFoundFault (404) on every
operation that names a group. The AWS CLI: describe-replication-groups
of the group and the NotFound line.

Every group asks for a port the kernel has just called free, as
test_clusters.py's clusters do.

No engine process outlives a test: each test ends by stopping its server
with SIGTERM (which stops the engines it runs), then checks that no engine
pid file is left in the server's engine directory and that every endpoint
the test saw refuses connections. The script ends by killing, by the pid
files left, any engine that a server killed with SIGKILL left behind, and
counts that as a failure.

Usage:  python3 test_replication_groups.py SERVER_BIN [PATTERN...]   (or SERVER_BIN=... in the env)

Never skips: a missing boto3, aws CLI or redis-server is a loud failure.
The last line printed is "N passed, M failed"; the exit code is non-zero
on any failure.
"""

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

SUITE = harness.Suite("the boto3/AWS CLI replication group suite", "elasticache-e2e-replication-groups-")

SECRET = "e2e-secret-key"
REGION = "us-east-1"
ACCOUNT = "111111111111"

if shutil.which("redis-server") is None and not os.access("/usr/bin/redis-server", os.X_OK):
    harness.fatal("redis-server is not installed; the replication group suite runs real engines "
                  "(run scripts/install-engines.sh).")


def client_env(key=ACCOUNT, region=REGION):
    return SUITE.client_env(key, SECRET, region, extra=harness.ONE_ATTEMPT)


# boto3 runs in this process: make its environment hermetic too.
harness.make_process_hermetic(client_env("AKIDNOTUSED"))

# How long a group may take to reach a status: each member's engine starts
# in about a second and a replica then syncs with its primary; a loaded
# machine needs more.
STATUS_DEADLINE = 60.0
# How long a replica may take to show a key written on the primary, and an
# engine to close its port once its group is gone or its server stopped.
REPLICATION_DEADLINE = 30.0
GONE_DEADLINE = 15.0
SOCKET_TIMEOUT = 5.0
# A group in one of these will not become available by waiting.
DEAD_ENDS = {"create-failed"}

NODE_TYPE = "cache.t3.micro"
TAGS = [{"Key": "env", "Value": "test"}]


def group_arn(gid):
    return f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:{gid}"


def group_not_found(gid):
    return ("ReplicationGroupNotFoundFault", "ReplicationGroupNotFoundFault", f"ReplicationGroup {gid} not found.", 404)


def free_port():
    """A port the kernel has just called free (see test_clusters.py)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resp(*args):
    """A RESP request of args."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def exchange(endpoint, *args):
    """Sends one command to endpoint and returns the whole first reply
    (a bulk string's payload with its header), as bytes."""
    with socket.create_connection((endpoint["Address"], endpoint["Port"]), timeout=SOCKET_TIMEOUT) as s:
        s.sendall(resp(*args))
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return got
            got += chunk
            if got.startswith(b"$") and got.endswith(b"\r\n"):
                head, _, rest = got.partition(b"\r\n")
                size = int(head[1:])
                if size < 0 or len(rest) >= size + 2:
                    return got
            elif got.endswith(b"\r\n"):
                return got


def refuses(endpoint):
    """Whether a connection to endpoint is refused (nothing listens)."""
    try:
        with socket.create_connection((endpoint["Address"], endpoint["Port"]), timeout=SOCKET_TIMEOUT):
            return False
    except ConnectionRefusedError:
        return True


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
        return out

    def cli(self, op, *args):
        return SUITE.cli(self.server.url, client_env(), op, *args)

    def describe(self, c, gid):
        out = self.ok(c.describe_replication_groups, ReplicationGroupId=gid)
        self.assertEqual(len(out["ReplicationGroups"]), 1, out)
        return out["ReplicationGroups"][0]

    def wait_status(self, c, gid, status):
        """Polls DescribeReplicationGroups until gid has status, failing at
        once on a dead end and after STATUS_DEADLINE; returns the group and
        records its members' endpoints."""
        deadline = time.monotonic() + STATUS_DEADLINE
        while True:
            g = self.describe(c, gid)
            seen = g["Status"]
            if seen == status:
                self.endpoints += [m["ReadEndpoint"] for ng in g["NodeGroups"]
                                   for m in ng["NodeGroupMembers"] if "ReadEndpoint" in m]
                return g
            self.assertIn(seen, {"creating", "modifying"}, g)
            if seen in DEAD_ENDS or time.monotonic() > deadline:
                self.fail(f"{gid} is {seen}, not {status} (deadline {STATUS_DEADLINE}s):\n{g}\n"
                          f"{self.server.log_text()[-4000:]}")
            time.sleep(0.05)

    def wait_gone(self, c, gid):
        """Polls until DescribeReplicationGroups answers
        ReplicationGroupNotFoundFault for gid (a deleted group is deleting
        until its members' engines stopped)."""
        deadline = time.monotonic() + STATUS_DEADLINE
        while True:
            try:
                g = self.describe(c, gid)
            except c.exceptions.ReplicationGroupNotFoundFault:
                break
            self.assertEqual(g["Status"], "deleting", g)
            if time.monotonic() > deadline:
                self.fail(f"{gid} still deleting after {STATUS_DEADLINE}s\n{self.server.log_text()[-4000:]}")
            time.sleep(0.05)
        self.assertB3Error(c.describe_replication_groups, *group_not_found(gid), ReplicationGroupId=gid)

    def wait_refused(self, endpoint):
        """Polls until nothing listens on endpoint any more."""
        deadline = time.monotonic() + GONE_DEADLINE
        while not refuses(endpoint):
            if time.monotonic() > deadline:
                self.fail(f"{endpoint} still accepts connections {GONE_DEADLINE}s after its group went")
            time.sleep(0.05)

    def wait_replicated(self, endpoint, key, value):
        """Polls a replica until GET key answers value, then checks that it
        is a replica (ROLE)."""
        want = b"$%d\r\n%s\r\n" % (len(value), value.encode())
        deadline = time.monotonic() + REPLICATION_DEADLINE
        while True:
            got = exchange(endpoint, "GET", key)
            if got == want:
                break
            if time.monotonic() > deadline:
                self.fail(f"GET {key} at the replica {endpoint} = {got!r} after {REPLICATION_DEADLINE}s, want {want!r}")
            time.sleep(0.05)
        self.assertTrue(exchange(endpoint, "ROLE").startswith(b"*5\r\n$5\r\nslave\r\n"),
                        f"ROLE at {endpoint} is not a replica's")

    def assertShape(self, c, g, gid, n, port):
        """g is available with one node group 0001 of n members, the first
        the primary, whose endpoints are the members' nodes; each member is
        a cluster of the group that DescribeCacheClusters shows available."""
        members = [f"{gid}-{i:03d}" for i in range(1, n + 1)]
        self.assertEqual(g["MemberClusters"], members, g)
        self.assertEqual((g["ClusterEnabled"], g["AutomaticFailover"], g["MultiAZ"]), (False, "enabled", "disabled"), g)
        self.assertEqual(len(g["NodeGroups"]), 1, g)
        ng = g["NodeGroups"][0]
        self.assertEqual((ng["NodeGroupId"], ng["Status"]), ("0001", "available"), ng)
        got = [(m["CacheClusterId"], m["CacheNodeId"], m["CurrentRole"]) for m in ng["NodeGroupMembers"]]
        self.assertEqual(got, [(members[0], "0001", "primary")] + [(m, "0001", "replica") for m in members[1:]], ng)
        eps = [m["ReadEndpoint"] for m in ng["NodeGroupMembers"]]
        for ep in eps:
            self.assertRegex(ep["Address"], r"^127\.\d+\.\d+\.\d+$", ep)
            self.assertEqual(ep["Port"], port, ep)
        self.assertEqual(len({ep["Address"] for ep in eps}), n, f"members share an address: {eps}")
        self.assertEqual(ng["PrimaryEndpoint"], eps[0], ng)
        self.assertEqual(ng["ReaderEndpoint"], eps[1], ng)
        for i, mid in enumerate(members):
            cl = self.ok(c.describe_cache_clusters, CacheClusterId=mid, ShowCacheNodeInfo=True)["CacheClusters"][0]
            self.assertEqual((cl["CacheClusterStatus"], cl["ReplicationGroupId"], cl["Engine"], cl["NumCacheNodes"]),
                             ("available", gid, "redis", 1), cl)
            self.assertEqual(cl["CacheNodes"][0]["Endpoint"], eps[i], cl)
        return eps


# ------------------------------------------------------------------ boto3

class T01Boto3(Case):

    def test_lifecycle_boto3(self):
        c = self.b3()
        port = free_port()
        out = self.ok(c.create_replication_group, ReplicationGroupId="Sessions",
                      ReplicationGroupDescription="sessions", Engine="redis", CacheNodeType=NODE_TYPE,
                      NumCacheClusters=2, AutomaticFailoverEnabled=True, Port=port, Tags=TAGS)["ReplicationGroup"]
        self.assertEqual((out["ReplicationGroupId"], out["Status"], out["Description"], out["MemberClusters"]),
                         ("sessions", "creating", "sessions", ["sessions-001", "sessions-002"]), out)
        self.assertEqual(out["ARN"], group_arn("sessions"), out)
        self.assertEqual(self.ok(c.list_tags_for_resource, ResourceName=group_arn("sessions")), {"TagList": TAGS})

        g = self.wait_status(c, "SESSIONS", "available")
        eps = self.assertShape(c, g, "sessions", 2, port)
        self.assertEqual(exchange(eps[0], "SET", "k", "from the primary"), b"+OK\r\n")
        self.wait_replicated(eps[1], "k", "from the primary")
        self.assertTrue(exchange(eps[1], "SET", "k", "x").startswith(b"-READONLY"), "a replica took a write")

        out = self.ok(c.increase_replica_count, ReplicationGroupId="sessions", NewReplicaCount=2,
                      ApplyImmediately=True)["ReplicationGroup"]
        self.assertEqual((out["Status"], out["MemberClusters"]),
                         ("modifying", ["sessions-001", "sessions-002", "sessions-003"]), out)
        g = self.wait_status(c, "sessions", "available")
        eps = self.assertShape(c, g, "sessions", 3, port)
        self.wait_replicated(eps[2], "k", "from the primary")

        out = self.ok(c.delete_replication_group, ReplicationGroupId="Sessions")["ReplicationGroup"]
        self.assertEqual((out["ReplicationGroupId"], out["Status"]), ("sessions", "deleting"), out)
        self.wait_gone(c, "sessions")
        for ep in eps:
            self.wait_refused(ep)
        self.assertEqual(self.ok(c.describe_replication_groups)["ReplicationGroups"], [])
        self.assertEqual(self.ok(c.describe_cache_clusters)["CacheClusters"], [])

    def test_faults_boto3(self):
        c = self.b3()
        nf = group_not_found("nobody")
        self.assertB3Error(c.describe_replication_groups, *nf, ReplicationGroupId="nobody")
        self.assertB3Error(c.modify_replication_group, *nf, ReplicationGroupId="nobody",
                           ReplicationGroupDescription="d", ApplyImmediately=True)
        self.assertB3Error(c.increase_replica_count, *nf, ReplicationGroupId="Nobody", NewReplicaCount=2,
                           ApplyImmediately=True)
        self.assertB3Error(c.decrease_replica_count, *nf, ReplicationGroupId="nobody", NewReplicaCount=1,
                           ApplyImmediately=True)
        self.assertB3Error(c.delete_replication_group, *nf, ReplicationGroupId="nobody")
        self.assertB3Error(c.list_tags_for_resource, *nf, ResourceName=group_arn("nobody"))
        self.assertEqual(self.ok(c.describe_replication_groups)["ReplicationGroups"], [])


# -------------------------------------------------------------------- CLI

class T02CLI(Case):

    def test_describe_cli(self):
        c = self.b3()
        port = free_port()
        self.ok(c.create_replication_group, ReplicationGroupId="cli-rg", ReplicationGroupDescription="cli",
                Engine="redis", CacheNodeType=NODE_TYPE, NumCacheClusters=2, Port=port)
        # Waiting through boto3: an aws process per poll would cost a
        # second each.
        g = self.wait_status(c, "cli-rg", "available")
        out = self.assertCLIOK(self.cli("describe-replication-groups", "--replication-group-id", "CLI-RG"))
        self.assertEqual(len(out["ReplicationGroups"]), 1, out)
        got = out["ReplicationGroups"][0]
        self.assertEqual((got["ReplicationGroupId"], got["Status"], got["MemberClusters"]),
                         ("cli-rg", "available", ["cli-rg-001", "cli-rg-002"]), got)
        self.assertEqual(got["NodeGroups"][0]["PrimaryEndpoint"], g["NodeGroups"][0]["PrimaryEndpoint"], got)
        self.assertEqual(exchange(got["NodeGroups"][0]["PrimaryEndpoint"], "PING"), b"+PONG\r\n")
        self.assertCLIError(self.cli("describe-replication-groups", "--replication-group-id", "nobody"),
                            "DescribeReplicationGroups", "ReplicationGroupNotFoundFault",
                            "ReplicationGroup nobody not found.")
        self.ok(c.delete_replication_group, ReplicationGroupId="cli-rg")
        self.wait_gone(c, "cli-rg")


# ----------------------------------------------------------------- runner

CLASSES = (T02CLI, T01Boto3)
WORKERS = 3


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
