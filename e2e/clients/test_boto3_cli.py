#!/usr/bin/env python3
"""End-to-end suite: boto3 and the AWS CLI against a real elasticache-server.

Covers the nine operations of the cache security group family (SPEC §1, §4,
§5, §6; wire reference §2-§5), each scenario through both clients:
Create/Describe/DeleteCacheSecurityGroup; Authorize/RevokeCacheSecurityGroup-
Ingress, also on servers with --transition-delay 2s (states read from stored
timestamps, across a SIGTERM restart); Add/List/RemoveTagsFromResource by ARN;
DescribeEvents (windows, filters, pagination); and the accounts of a --config
file (a modern account, a per-account quota, a file with an unknown key).
Plus the process contract: graceful SIGTERM, restart on the same data
directory, kill -9 durability and the single-writer lock on the data
directory.

Usage:  python3 test_boto3_cli.py SERVER_BIN [PATTERN...]   (or SERVER_BIN=... in the env)
        PATTERNs, when given, select the tests whose id contains one of them
        (e.g. T09Transition, _cli); the final shutdown test always runs.

Every client is hermetic: static credentials, empty config and credential
files, no profile, no instance metadata, no retries. The script starts its
own servers on 127.0.0.1:0 in temporary data directories and never skips a
test: a missing boto3 or aws CLI is a loud failure. The last line printed is
"N passed, M failed"; the exit code is non-zero on any failure.
"""

import base64
import datetime
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import unittest

# harness.py lives next to this script: importable whatever the cwd (Python
# puts a script's directory on sys.path, but not under -P / PYTHONSAFEPATH).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  first: it checks boto3 (see harness.py)
from harness import CLI_TIMEOUT, NO_RETRY, botocore  # noqa: E402

SUITE = harness.Suite("the boto3/AWS CLI suite", "elasticache-e2e-clients-")
TMP = SUITE.tmp

SECRET = "e2e-secret-key"
DEFAULT_ACCOUNT = "000000000000"


def client_env(key, region):
    # One attempt, so that a 5xx fails at once; the error line exactly as
    # users see it (see harness.ONE_ATTEMPT).
    return SUITE.client_env(key, SECRET, region, extra=harness.ONE_ATTEMPT)


# boto3 runs in this process: make its environment hermetic too.
harness.make_process_hermetic(client_env("AKIDNOTUSED", "us-east-1"))

# The servers of the scenarios; each is started by its scenario (or main).
Server = SUITE.server


def assert_clean_stop(tc, server):
    """SIGTERM the server: exit 0, the store closed cleanly, no error logged."""
    rc, took = server.stop()
    log = server.log_text()
    tc.assertEqual(rc, 0, f"{server.name}: exit code after SIGTERM\n{log}")
    msgs = [r.get("msg") for r in server.log_records()]
    tc.assertIn("store closed", msgs, f"{server.name}: no clean store close logged\n{log}")
    errors = [r for r in server.log_records() if r.get("level") == "ERROR"]
    tc.assertEqual(errors, [], f"{server.name}: errors logged")
    return took


# ---------------------------------------------------------------- clients

_clients = {}
_clients_lock = threading.Lock()


def b3(server, key, region="us-east-1", fresh=False):
    """A boto3 client for server as access key `key` in `region`."""
    ck = (server.url, key, region)
    with _clients_lock:
        if not fresh and ck in _clients:
            return _clients[ck]
        c = harness.b3_client(server.url, key, SECRET, region, NO_RETRY)
        if not fresh:
            _clients[ck] = c
        return c


def cli(server, key, region, op, *args, timeout=CLI_TIMEOUT):
    return SUITE.cli(server.url, client_env(key, region), op, *args, timeout=timeout)


_acct = [100000000000]
_acct_lock = threading.Lock()


def new_account():
    """A fresh 12-digit access key, i.e. a fresh account (SPEC §1)."""
    with _acct_lock:
        _acct[0] += 1
        return str(_acct[0])


def arn(region, account, name):
    return f"arn:aws:elasticache:{region}:{account}:securitygroup:{name}"


def group(account, region, name, description, ec2s=()):
    """The CacheSecurityGroup a client should parse: without EC2 entries
    unless ec2s lists them (see ec2)."""
    return {"OwnerId": account, "CacheSecurityGroupName": name, "Description": description,
            "EC2SecurityGroups": list(ec2s), "ARN": arn(region, account, name)}


def ec2(name, owner, status):
    """One EC2SecurityGroup entry of a CacheSecurityGroup."""
    return {"Status": status, "EC2SecurityGroupName": name, "EC2SecurityGroupOwnerId": owner}


def default_group(account, region):
    return group(account, region, "default", "default")


def not_found(name):
    return f"CacheSecurityGroup {name} not found."


def already_exists(name):
    return f"CacheSecurityGroup {name} already exists."


QUOTA_MSG = "Quota exceeded for cache security groups."
TAG_QUOTA_MSG = "The maximum number of tags permitted on a resource is 50."
DEFAULT_DELETE_MSG = "The default cache security group cannot be deleted."
NAME_REQUIRED_MSG = "CacheSecurityGroupName is required"
TRICKY_TEXT = "<&>\"' ]]> \u00e9 \u65e5\u672c"
MODERN_MSG = "Use of cache security groups is not permitted in this API version for your account."
INVALID_ARN_MSG = "Input ARN string does not have 7 components."
ANY_MSG = re.compile(r".+")  # a message SPEC does not word: present and not empty
OWNER_PARAM = re.compile(r".*EC2SecurityGroupOwnerId.*")
OWNER, OWNER2 = "123456789012", "210987654321"  # EC2 security group owners
GROUP_EVENT = "cache-security-group"
# Output timestamps, SPEC §2. The CLI (v1) prints them as the server sent them.
WIRE_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# The transition-delay servers: how long an entry stays authorizing/revoking,
# how long a test waits at most for the final state, and the slack allowed
# between this process's clock and the server's when deciding on which side
# of the delay a read happened.
TRANSITION_DELAY = 2.0
TRANSITION_DEADLINE = 10.0
TIMING_SLACK = 0.05
POLL_INTERVAL = 0.05

MODERN_ACCOUNT = "999999999999"
QUOTA_ACCOUNT = "333333333333"
CONFIG_YAML = """# e2e: one modern account, one with a quota of its own
accounts:
  - id: "999999999999"
    era: modern
  - id: "333333333333"
    quotas: {cacheSecurityGroups: 2}
"""
BAD_CONFIG_YAML = """accounts:
  - id: "111111111111"
    colour: blue
"""


def cluster_arn(region, account, name):
    return f"arn:aws:elasticache:{region}:{account}:cluster:{name}"


def tag_list(*pairs):
    """The TagList a client should parse, from (key, value) pairs."""
    return [{"Key": k, "Value": v} for k, v in pairs]


def ec2_status(g, name, owner=OWNER):
    """The Status of g's entry (name, owner), or None when it has none."""
    found = [e["Status"] for e in g["EC2SecurityGroups"]
             if e["EC2SecurityGroupName"] == name and e["EC2SecurityGroupOwnerId"] == owner]
    if len(found) > 1:
        raise AssertionError(f"entry {name}/{owner} listed {len(found)} times: {g}")
    return found[0] if found else None


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def floor_ms(t):
    """t truncated to milliseconds: the server sends event dates so."""
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def wire_time(t):
    """t as a client sends a timestamp: ISO 8601 UTC with microseconds."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_date(e):
    """An event's Date as an aware datetime; the CLI's string must be in the
    wire format of SPEC §2."""
    d = e["Date"]
    if isinstance(d, str):
        if not WIRE_DATE.match(d):
            raise AssertionError(f"event Date {d!r} is not YYYY-MM-DDTHH:MM:SS.mmmZ")
        return datetime.datetime.fromisoformat(d.replace("Z", "+00:00"))
    return d


# Event messages are ours (SPEC §5 [dec]); what each must say.
def ev_created(name):
    return (name, re.compile(r"(?i)\bcreated\b"))


def ev_deleted(name):
    return (name, re.compile(r"(?i)\bdeleted\b"))


def ev_authorized(name, ec2name, owner):
    return (name, re.compile(rf"(?i)\bauthorized\b.*\b{re.escape(ec2name)}\b.*\b{owner}\b"))


def ev_revoked(name, ec2name, owner):
    return (name, re.compile(rf"(?i)\brevoked\b.*\b{re.escape(ec2name)}\b.*\b{owner}\b"))


class Case(harness.ClientCase):

    def assertB3Absent(self, c, name):
        self.assertB3Error(c.describe_cache_security_groups, "CacheSecurityGroupNotFoundFault",
                           "CacheSecurityGroupNotFound", not_found(name.lower()), 404,
                           CacheSecurityGroupName=name)

    def assertCLIAbsent(self, server, key, region, name):
        self.assertCLIError(cli(server, key, region, "describe-cache-security-groups",
                                "--cache-security-group-name", name),
                            "DescribeCacheSecurityGroups", "CacheSecurityGroupNotFound",
                            not_found(name.lower()))

    def assertNamesInOrder(self, names, want):
        """names is want exactly: each once, in name order. Duplicates are
        reported first, by name, as that is how a pagination bug shows."""
        seen, dups = set(), []
        for n in names:
            if n in seen:
                dups.append(n)
            seen.add(n)
        self.assertEqual(dups, [], f"groups returned more than once (page boundaries?) among {len(names)}")
        self.assertEqual(sorted(set(want) - seen), [], "groups never returned")
        self.assertEqual(names, want)

    def b3_all(self, c, page_size=None):
        """Every group through the paginator, with the pages' sizes and markers."""
        kw = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
        groups, pages = [], []
        for page in c.get_paginator("describe_cache_security_groups").paginate(**kw):
            self.assertEqual(page["ResponseMetadata"]["HTTPStatusCode"], 200)
            groups.extend(page["CacheSecurityGroups"])
            pages.append((len(page["CacheSecurityGroups"]), page.get("Marker")))
            self.assertLess(len(pages), 100, "paginator does not terminate")
        return groups, pages

    def assertEvents(self, events, want, t0, t1):
        """events are exactly want, a list of (SourceIdentifier, Message
        regex), newest first: cache-security-group events dated within
        [t0, t1] in non-increasing order."""
        shown = "\n  ".join(repr(e) for e in events)
        self.assertEqual(len(events), len(want), f"events:\n  {shown}")
        for e, (name, msg) in zip(events, want):
            self.assertEqual(e.get("SourceType"), GROUP_EVENT, f"events:\n  {shown}")
            self.assertEqual(e.get("SourceIdentifier"), name, f"events:\n  {shown}")
            self.assertRegex(e.get("Message") or "", msg, f"events:\n  {shown}")
        dates = [event_date(e) for e in events]
        for d in dates:
            self.assertTrue(t0 <= d <= t1, f"event date {d} outside the test's window [{t0}, {t1}]")
        self.assertEqual(dates, sorted(dates, reverse=True), "events are not newest first")

    def observe(self, read, change, before, after, delay=TRANSITION_DELAY):
        """One read of a status that is `before` until `delay` seconds after
        a change and `after` from then on. read() returns the status and the
        window (sent, answered) in which the server handled the read; change
        is the window of the request that made the change; all in
        time.monotonic(), which runs at the server's wall clock's pace.
        Wherever the two windows put the read on one side of the delay, the
        status must be that side's; returns (status, side), side "before",
        "after" or None (too close to tell)."""
        status, (t0, t1) = read()
        if t1 - change[0] < delay - TIMING_SLACK:
            side = "before"
        elif t0 - change[1] > delay + TIMING_SLACK:
            side = "after"
        else:
            side = None
        where = (f"read {t0 - change[1]:+.3f}s..{t1 - change[0]:+.3f}s after the change "
                 f"(delay {delay}s)")
        if side == "before":
            self.assertEqual(status, before, where)
        elif side == "after":
            self.assertEqual(status, after, where)
        else:
            self.assertIn(status, (before, after), where)
        return status, side

    def poll_until(self, read, change, before, after, deadline=TRANSITION_DEADLINE):
        """Reads until the status is `after`, checking every read with
        observe; fails when it is not `after` within deadline seconds of the
        change. Returns the side of the first read."""
        first = None
        while True:
            status, side = self.observe(read, change, before, after)
            if first is None:
                first = side or "unknown"
            if status == after:
                return first
            if time.monotonic() - change[0] > deadline:
                self.fail(f"still {status!r}, not {after!r}, {deadline}s after the change")
            time.sleep(POLL_INTERVAL)


MAIN = None  # the shared server of the functional scenarios
NOTES = []   # facts worth printing that are not pass/fail (list.append is atomic)


# ------------------------------------------------------- create & describe

class T01CreateDescribe(Case):

    def test_create_with_tags_boto3(self):
        key, region = new_account(), "eu-west-2"
        c = b3(MAIN, key, region)
        out = c.create_cache_security_group(
            CacheSecurityGroupName="Web-Tier-1", Description="web tier",
            Tags=[{"Key": "env", "Value": "prod"}, {"Key": "novalue"}])
        meta = out["ResponseMetadata"]
        self.assertEqual(meta["HTTPStatusCode"], 200)
        self.assertTrue(meta["RequestId"])
        # boto3 reads the body's RequestId; the header must carry the same (SPEC §2).
        self.assertEqual(meta["HTTPHeaders"].get("x-amzn-requestid"), meta["RequestId"])
        self.assertTrue(meta["HTTPHeaders"].get("content-type", "").startswith("text/xml"), meta)
        want = group(key, region, "web-tier-1", "web tier")
        self.assertEqual(out["CacheSecurityGroup"], want)
        got = c.describe_cache_security_groups(CacheSecurityGroupName="web-tier-1")
        self.assertEqual(got["CacheSecurityGroups"], [want])
        self.assertNotIn("Marker", got)
        # Nothing is visible across regions (SPEC §1).
        self.assertB3Absent(b3(MAIN, key, "eu-west-3"), "web-tier-1")

    def test_create_with_tags_cli(self):
        key, region = new_account(), "ap-northeast-1"
        out = self.assertCLIOK(cli(MAIN, key, region, "create-cache-security-group",
                                   "--cache-security-group-name", "Cli-Tier-1",
                                   "--description", "cli tier",
                                   "--tags", "Key=env,Value=prod", "Key=novalue"))
        want = group(key, region, "cli-tier-1", "cli tier")
        self.assertEqual(out, {"CacheSecurityGroup": want})
        got = self.assertCLIOK(cli(MAIN, key, region, "describe-cache-security-groups",
                                   "--cache-security-group-name", "cli-tier-1"))
        self.assertEqual(got, {"CacheSecurityGroups": [want]})

    def test_account_rule_boto3(self):
        region = "ap-southeast-2"
        cases = [("AKIDEXAMPLE", DEFAULT_ACCOUNT, "acct-b3-akid"),
                 ("12345678901", DEFAULT_ACCOUNT, "acct-b3-11digits"),
                 ("1234567890123", DEFAULT_ACCOUNT, "acct-b3-13digits"),
                 ("12345678901a", DEFAULT_ACCOUNT, "acct-b3-letter"),
                 ("123456789012", "123456789012", "acct-b3-12digits")]
        for key, account, name in cases:
            with self.subTest(key=key):
                out = b3(MAIN, key, region).create_cache_security_group(
                    CacheSecurityGroupName=name, Description="account rule")
                self.assertEqual(out["CacheSecurityGroup"], group(account, region, name, "account rule"))
        # The 12-digit account does not see the default account's groups.
        self.assertB3Absent(b3(MAIN, "123456789012", region), "acct-b3-akid")

    def test_account_rule_cli(self):
        region = "sa-east-1"
        cases = [("AKIDEXAMPLE", DEFAULT_ACCOUNT, "acct-cli-akid"),
                 ("123456789012", "123456789012", "acct-cli-12digits")]
        for key, account, name in cases:
            with self.subTest(key=key):
                out = self.assertCLIOK(cli(MAIN, key, region, "create-cache-security-group",
                                           "--cache-security-group-name", name,
                                           "--description", "account rule"))
                self.assertEqual(out["CacheSecurityGroup"], group(account, region, name, "account rule"))

    def test_describe_by_name_and_all_boto3(self):
        key, region = new_account(), "us-west-2"
        c = b3(MAIN, key, region)
        for n in ("Zeta", "alpha", "Mid-1"):
            c.create_cache_security_group(CacheSecurityGroupName=n, Description="d " + n)
        got = c.describe_cache_security_groups(CacheSecurityGroupName="ALPHA")["CacheSecurityGroups"]
        self.assertEqual(got, [group(key, region, "alpha", "d alpha")])
        got = c.describe_cache_security_groups(CacheSecurityGroupName="DeFaUlT")["CacheSecurityGroups"]
        self.assertEqual(got, [default_group(key, region)])
        out = c.describe_cache_security_groups()
        self.assertNotIn("Marker", out)
        self.assertEqual(out["CacheSecurityGroups"], [
            group(key, region, "alpha", "d alpha"), default_group(key, region),
            group(key, region, "mid-1", "d Mid-1"), group(key, region, "zeta", "d Zeta")])

    def test_describe_by_name_and_all_cli(self):
        key, region = new_account(), "us-east-2"
        c = b3(MAIN, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="Beta", Description="d beta")
        got = self.assertCLIOK(cli(MAIN, key, region, "describe-cache-security-groups",
                                   "--cache-security-group-name", "BETA"))
        self.assertEqual(got, {"CacheSecurityGroups": [group(key, region, "beta", "d beta")]})
        got = self.assertCLIOK(cli(MAIN, key, region, "describe-cache-security-groups"))
        self.assertEqual(got, {"CacheSecurityGroups": [
            group(key, region, "beta", "d beta"), default_group(key, region)]})

    def test_delete_boto3(self):
        key, region = new_account(), "us-east-1"
        c = b3(MAIN, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="gone-soon", Description="x")
        out = c.delete_cache_security_group(CacheSecurityGroupName="GONE-SOON")
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(set(out), {"ResponseMetadata"})
        self.assertB3Absent(c, "gone-soon")
        self.assertB3Error(c.delete_cache_security_group, "CacheSecurityGroupNotFoundFault",
                           "CacheSecurityGroupNotFound", not_found("gone-soon"), 404,
                           CacheSecurityGroupName="gone-soon")
        # The name is free again.
        out = c.create_cache_security_group(CacheSecurityGroupName="gone-soon", Description="y")
        self.assertEqual(out["CacheSecurityGroup"], group(key, region, "gone-soon", "y"))

    def test_delete_cli(self):
        key, region = new_account(), "us-east-1"
        b3(MAIN, key, region).create_cache_security_group(CacheSecurityGroupName="cli-gone", Description="x")
        res = cli(MAIN, key, region, "delete-cache-security-group", "--cache-security-group-name", "Cli-Gone")
        self.assertEqual(res.rc, 0, repr(res))
        self.assertEqual(res.out.strip(), "", repr(res))
        self.assertCLIAbsent(MAIN, key, region, "cli-gone")
        self.assertCLIError(cli(MAIN, key, region, "delete-cache-security-group",
                                "--cache-security-group-name", "cli-gone"),
                            "DeleteCacheSecurityGroup", "CacheSecurityGroupNotFound", not_found("cli-gone"))

    def test_text_round_trip_boto3(self):
        key, region = new_account(), "eu-central-1"
        c = b3(MAIN, key, region)
        out = c.create_cache_security_group(CacheSecurityGroupName="text", Description=TRICKY_TEXT)
        self.assertEqual(out["CacheSecurityGroup"]["Description"], TRICKY_TEXT)
        got = c.describe_cache_security_groups(CacheSecurityGroupName="text")["CacheSecurityGroups"][0]
        self.assertEqual(got["Description"].encode("utf-8"), TRICKY_TEXT.encode("utf-8"))

    def test_text_round_trip_cli(self):
        key, region = new_account(), "eu-central-1"
        out = self.assertCLIOK(cli(MAIN, key, region, "create-cache-security-group",
                                   "--cache-security-group-name", "text-cli",
                                   "--description", TRICKY_TEXT))
        self.assertEqual(out["CacheSecurityGroup"]["Description"], TRICKY_TEXT)
        got = self.assertCLIOK(cli(MAIN, key, region, "describe-cache-security-groups",
                                   "--cache-security-group-name", "text-cli"))
        self.assertEqual(got["CacheSecurityGroups"][0]["Description"].encode("utf-8"),
                         TRICKY_TEXT.encode("utf-8"))


# ------------------------------------------------------------- pagination

class T02Pagination(Case):
    """45 groups plus `default` in one account, read 20 at a time."""

    @classmethod
    def setUpClass(cls):
        cls.key, cls.region = new_account(), "us-west-1"
        c = b3(MAIN, cls.key, cls.region)
        # Created out of name order, mixed case, so order must come from the server.
        names = [f"Page-{i:02d}" for i in range(45)]
        for n in names[1::2] + names[0::2]:
            c.create_cache_security_group(CacheSecurityGroupName=n, Description="p")
        cls.want = sorted([n.lower() for n in names] + ["default"])

    def test_paginator_boto3(self):
        groups, pages = self.b3_all(b3(MAIN, self.key, self.region), page_size=20)
        self.assertNamesInOrder([g["CacheSecurityGroupName"] for g in groups], self.want)
        self.assertEqual([n for n, _ in pages], [20, 20, 6])
        self.assertTrue(all(m for _, m in pages[:-1]), pages)
        self.assertIsNone(pages[-1][1], "last page must not carry a Marker")
        for g in groups:
            d = "default" if g["CacheSecurityGroupName"] == "default" else "p"
            self.assertEqual(g, group(self.key, self.region, g["CacheSecurityGroupName"], d))

    def test_page_bounds_boto3(self):
        c = b3(MAIN, self.key, self.region)
        out = c.describe_cache_security_groups(MaxRecords=20)
        self.assertEqual(len(out["CacheSecurityGroups"]), 20)
        out = c.describe_cache_security_groups(MaxRecords=100)
        self.assertEqual(len(out["CacheSecurityGroups"]), 46)
        self.assertNotIn("Marker", out)
        # A marker belongs to its account: another account may not use it.
        marker = c.describe_cache_security_groups(MaxRecords=20)["Marker"]
        self.assertB3Error(b3(MAIN, new_account(), self.region).describe_cache_security_groups,
                           "InvalidParameterValueException", "InvalidParameterValue",
                           re.compile(r".*Marker.*"), 400, Marker=marker)

    def test_page_size_cli(self):
        res = cli(MAIN, self.key, self.region, "describe-cache-security-groups", "--page-size", "20")
        out = self.assertCLIOK(res)
        self.assertNamesInOrder([g["CacheSecurityGroupName"] for g in out["CacheSecurityGroups"]], self.want)
        self.assertNotIn("NextToken", out)

    def test_max_items_starting_token_cli(self):
        for extra in ([], ["--page-size", "20"]):
            with self.subTest(extra=extra):
                first = self.assertCLIOK(cli(MAIN, self.key, self.region, "describe-cache-security-groups",
                                             "--max-items", "25", *extra))
                self.assertEqual(len(first["CacheSecurityGroups"]), 25)
                token = first.get("NextToken")
                self.assertTrue(token, first.keys())
                rest = self.assertCLIOK(cli(MAIN, self.key, self.region, "describe-cache-security-groups",
                                            "--starting-token", token, *extra))
                self.assertNotIn("NextToken", rest)
                self.assertNamesInOrder([g["CacheSecurityGroupName"]
                                         for g in first["CacheSecurityGroups"] + rest["CacheSecurityGroups"]], self.want)

    def test_next_token_is_server_marker_cli(self):
        # --max-items equal to --page-size: the token is exactly the server's Marker.
        first = self.assertCLIOK(cli(MAIN, self.key, self.region, "describe-cache-security-groups",
                                     "--max-items", "20", "--page-size", "20"))
        token = json.loads(base64.b64decode(first["NextToken"]))
        marker = b3(MAIN, self.key, self.region).describe_cache_security_groups(MaxRecords=20)["Marker"]
        self.assertEqual(token, {"Marker": marker})


# ----------------------------------------------------------------- errors

class T03Errors(Case):

    def test_already_exists_boto3(self):
        key, region = new_account(), "us-east-1"
        c = b3(MAIN, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="dup", Description="first")
        self.assertB3Error(c.create_cache_security_group, "CacheSecurityGroupAlreadyExistsFault",
                           "CacheSecurityGroupAlreadyExists", already_exists("dup"), 400,
                           CacheSecurityGroupName="DUP", Description="second")
        got = c.describe_cache_security_groups(CacheSecurityGroupName="dup")["CacheSecurityGroups"]
        self.assertEqual(got, [group(key, region, "dup", "first")])

    def test_already_exists_cli(self):
        key, region = new_account(), "us-east-1"
        b3(MAIN, key, region).create_cache_security_group(CacheSecurityGroupName="dup-cli", Description="first")
        self.assertCLIError(cli(MAIN, key, region, "create-cache-security-group",
                                "--cache-security-group-name", "Dup-CLI", "--description", "second"),
                            "CreateCacheSecurityGroup", "CacheSecurityGroupAlreadyExists",
                            already_exists("dup-cli"))
        got = b3(MAIN, key, region).describe_cache_security_groups(CacheSecurityGroupName="dup-cli")
        self.assertEqual(got["CacheSecurityGroups"], [group(key, region, "dup-cli", "first")])

    def test_not_found_boto3(self):
        c = b3(MAIN, new_account())
        self.assertB3Absent(c, "No-Such-Group")
        self.assertB3Error(c.delete_cache_security_group, "CacheSecurityGroupNotFoundFault",
                           "CacheSecurityGroupNotFound", not_found("no-such-group"), 404,
                           CacheSecurityGroupName="No-Such-Group")

    def test_not_found_cli(self):
        key = new_account()
        self.assertCLIAbsent(MAIN, key, "us-east-1", "No-Such-Group")
        self.assertCLIError(cli(MAIN, key, "us-east-1", "delete-cache-security-group",
                                "--cache-security-group-name", "No-Such-Group"),
                            "DeleteCacheSecurityGroup", "CacheSecurityGroupNotFound",
                            not_found("no-such-group"))

    def test_delete_default_boto3(self):
        key = new_account()
        c = b3(MAIN, key)
        for n in ("default", "DEFAULT"):
            self.assertB3Error(c.delete_cache_security_group, "InvalidParameterValueException",
                               "InvalidParameterValue", DEFAULT_DELETE_MSG, 400, CacheSecurityGroupName=n)
        self.assertEqual(c.describe_cache_security_groups(CacheSecurityGroupName="default")["CacheSecurityGroups"],
                         [default_group(key, "us-east-1")])

    def test_delete_default_cli(self):
        key = new_account()
        self.assertCLIError(cli(MAIN, key, "us-east-1", "delete-cache-security-group",
                                "--cache-security-group-name", "Default"),
                            "DeleteCacheSecurityGroup", "InvalidParameterValue", DEFAULT_DELETE_MSG)

    def test_empty_name_boto3(self):
        # botocore does not refuse "" client-side: it sends CacheSecurityGroupName=
        # (checked: the request body carries the key with an empty value).
        key = new_account()
        c = b3(MAIN, key, fresh=True)
        bodies = []
        c.meta.events.register("before-send.elasticache", lambda request, **_: bodies.append(request.body))
        self.assertB3Error(c.create_cache_security_group, "InvalidParameterValueException",
                           "InvalidParameterValue", NAME_REQUIRED_MSG, 400,
                           CacheSecurityGroupName="", Description="x")
        self.assertIn("CacheSecurityGroupName=&", bodies[0] if isinstance(bodies[0], str) else bodies[0].decode())
        self.assertB3Error(c.delete_cache_security_group, "InvalidParameterValueException",
                           "InvalidParameterValue", NAME_REQUIRED_MSG, 400, CacheSecurityGroupName="")
        # The failed create left nothing behind.
        self.assertEqual(c.describe_cache_security_groups()["CacheSecurityGroups"], [default_group(key, "us-east-1")])

    def test_empty_name_cli(self):
        key = new_account()
        self.assertCLIError(cli(MAIN, key, "us-east-1", "create-cache-security-group",
                                "--cache-security-group-name", "", "--description", "x"),
                            "CreateCacheSecurityGroup", "InvalidParameterValue", NAME_REQUIRED_MSG)
        self.assertEqual(cli_all_names(self, MAIN, key), ["default"])

    def test_tag_quota_boto3(self):
        key = new_account()
        c = b3(MAIN, key)
        tags = [{"Key": f"k{i:02d}", "Value": "v"} for i in range(51)]
        self.assertB3Error(c.create_cache_security_group, "TagQuotaPerResourceExceeded",
                           "TagQuotaPerResourceExceeded", TAG_QUOTA_MSG, 400,
                           CacheSecurityGroupName="many-tags", Description="x", Tags=tags)
        self.assertB3Absent(c, "many-tags")
        # 50 tags is the limit itself; 51 entries naming 50 distinct keys count as 50.
        c.create_cache_security_group(CacheSecurityGroupName="fifty-tags", Description="x", Tags=tags[:50])
        c.create_cache_security_group(CacheSecurityGroupName="fifty-keys", Description="x",
                                      Tags=tags[:50] + [{"Key": "k00", "Value": "again"}])

    def test_tag_quota_cli(self):
        key = new_account()
        tags = json.dumps([{"Key": f"k{i:02d}", "Value": "v"} for i in range(51)])
        self.assertCLIError(cli(MAIN, key, "us-east-1", "create-cache-security-group",
                                "--cache-security-group-name", "many-tags-cli", "--description", "x",
                                "--tags", tags),
                            "CreateCacheSecurityGroup", "TagQuotaPerResourceExceeded", TAG_QUOTA_MSG)
        self.assertB3Absent(b3(MAIN, key), "many-tags-cli")

    def test_max_records_boto3(self):
        c = b3(MAIN, new_account())
        for n in (19, 0, -1, 101):
            with self.subTest(MaxRecords=n):
                self.assertB3Error(c.describe_cache_security_groups, "InvalidParameterValueException",
                                   "InvalidParameterValue", re.compile(r".*MaxRecords.*"), 400, MaxRecords=n)

    def test_max_records_cli(self):
        self.assertCLIError(cli(MAIN, new_account(), "us-east-1", "describe-cache-security-groups",
                                "--page-size", "19"),
                            "DescribeCacheSecurityGroups", "InvalidParameterValue", re.compile(r".*MaxRecords.*"))

    def test_forged_marker_boto3(self):
        c = b3(MAIN, new_account())
        for m in ("forged", "AAAA", base64.b64encode(b"page-00").decode()):
            with self.subTest(Marker=m):
                self.assertB3Error(c.describe_cache_security_groups, "InvalidParameterValueException",
                                   "InvalidParameterValue", re.compile(r".*Marker.*"), 400, Marker=m)


class T04Quota(Case):
    """A server started with --quota-cache-security-groups 3."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("quota", extra=["--quota-cache-security-groups", "3"]).start()

    @classmethod
    def tearDownClass(cls):
        if cls.server.running():
            cls.server.stop()

    def test_quota_boto3(self):
        key = new_account()
        c = b3(self.server, key)
        for n in ("q1", "q2", "q3"):
            c.create_cache_security_group(CacheSecurityGroupName=n, Description="q")
        self.assertB3Error(c.create_cache_security_group, "CacheSecurityGroupQuotaExceededFault",
                           "QuotaExceeded.CacheSecurityGroup", QUOTA_MSG, 400,
                           CacheSecurityGroupName="q4", Description="q")
        self.assertB3Absent(c, "q4")
        # A duplicate is AlreadyExists even with the quota full (SPEC §3 order).
        self.assertB3Error(c.create_cache_security_group, "CacheSecurityGroupAlreadyExistsFault",
                           "CacheSecurityGroupAlreadyExists", already_exists("q1"), 400,
                           CacheSecurityGroupName="Q1", Description="q")
        # `default` does not count; a delete frees a slot.
        names = [g["CacheSecurityGroupName"] for g in c.describe_cache_security_groups()["CacheSecurityGroups"]]
        self.assertEqual(names, ["default", "q1", "q2", "q3"])
        c.delete_cache_security_group(CacheSecurityGroupName="q3")
        c.create_cache_security_group(CacheSecurityGroupName="q4", Description="q")
        # The quota is per account: another account still has its own 3.
        b3(self.server, new_account()).create_cache_security_group(CacheSecurityGroupName="q1", Description="q")

    def test_quota_cli(self):
        key = new_account()
        c = b3(self.server, key)
        for n in ("c1", "c2", "c3"):
            c.create_cache_security_group(CacheSecurityGroupName=n, Description="q")
        self.assertCLIError(cli(self.server, key, "us-east-1", "create-cache-security-group",
                                "--cache-security-group-name", "c4", "--description", "q"),
                            "CreateCacheSecurityGroup", "QuotaExceeded.CacheSecurityGroup", QUOTA_MSG)
        self.assertCLIAbsent(self.server, key, "us-east-1", "c4")

    def test_zz_clean_stop(self):
        assert_clean_stop(self, self.server)


# ------------------------------------------------------ process lifecycle

def describe_all_names(tc, server, key, region="us-east-1"):
    groups, _ = tc.b3_all(b3(server, key, region, fresh=True))
    return [g["CacheSecurityGroupName"] for g in groups]


def cli_all_names(tc, server, key, region="us-east-1"):
    out = tc.assertCLIOK(cli(server, key, region, "describe-cache-security-groups", "--page-size", "100"))
    return [g["CacheSecurityGroupName"] for g in out["CacheSecurityGroups"]]


class T05Restart(Case):

    def test_restart_keeps_groups(self):
        s = Server("restart").start()
        key, key2 = new_account(), new_account()
        c = b3(s, key)
        made = []
        for i in range(8):
            c.create_cache_security_group(CacheSecurityGroupName=f"keep-b3-{i}", Description=f"k{i}")
            made.append(f"keep-b3-{i}")
        for i in range(2):
            self.assertCLIOK(cli(s, key, "us-east-1", "create-cache-security-group",
                                 "--cache-security-group-name", f"keep-cli-{i}", "--description", f"c{i}"))
            made.append(f"keep-cli-{i}")
        before = c.describe_cache_security_groups()["CacheSecurityGroups"]
        # A marker issued before the restart stays valid after it (SPEC §5).
        c2 = b3(s, key2)
        for i in range(20):
            c2.create_cache_security_group(CacheSecurityGroupName=f"m-{i:02d}", Description="m")
        marker = c2.describe_cache_security_groups(MaxRecords=20)["Marker"]

        took = assert_clean_stop(self, s)
        self.assertLess(took, 10, "SIGTERM drain took too long")
        s.start()
        after = b3(s, key, fresh=True).describe_cache_security_groups()["CacheSecurityGroups"]
        self.assertEqual(after, before)
        self.assertEqual(sorted(made + ["default"]), [g["CacheSecurityGroupName"] for g in after])
        self.assertEqual(cli_all_names(self, s, key), sorted(made + ["default"]))
        rest = b3(s, key2, fresh=True).describe_cache_security_groups(MaxRecords=20, Marker=marker)
        self.assertEqual([g["CacheSecurityGroupName"] for g in rest["CacheSecurityGroups"]], ["m-19"])
        assert_clean_stop(self, s)


class T06KillNine(Case):

    def test_kill9_after_sequential_creates(self):
        s = Server("kill9-seq").start()
        key = new_account()
        c = b3(s, key, fresh=True)
        answered = []
        for i in range(30):
            out = c.create_cache_security_group(CacheSecurityGroupName=f"k9-{i:02d}", Description="k")
            self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
            answered.append(f"k9-{i:02d}")
        s.kill9()  # right after the 30th answer was read; nothing graceful
        s.start()
        self.assertEqual(describe_all_names(self, s, key), sorted(answered + ["default"]))
        # The same through the CLI: an answered create, then kill -9 at once.
        self.assertCLIOK(cli(s, key, "us-east-1", "create-cache-security-group",
                             "--cache-security-group-name", "k9-cli", "--description", "k"))
        s.kill9()
        answered.append("k9-cli")
        s.start()
        self.assertEqual(cli_all_names(self, s, key), sorted(answered + ["default"]))
        assert_clean_stop(self, s)

    def test_kill9_under_load(self):
        s = Server("kill9-load", extra=["--quota-cache-security-groups", "100000"]).start()
        key = new_account()
        lock = threading.Lock()
        acked, unknown, refused = [], [], []
        enough = threading.Event()
        stop = threading.Event()
        target = 120

        def worker(t):
            c = b3(s, key, fresh=True)
            i = 0
            while not stop.is_set():
                name = f"load-{t}-{i:04d}"
                i += 1
                try:
                    out = c.create_cache_security_group(CacheSecurityGroupName=name, Description="load")
                except botocore.exceptions.ClientError as e:  # an answer that is not a 200
                    with lock:
                        refused.append((name, e.response["ResponseMetadata"].get("HTTPStatusCode"),
                                        e.response["Error"].get("Code")))
                    continue
                except Exception as e:  # no answer: the server is gone
                    with lock:
                        unknown.append((name, type(e).__name__))
                    return
                with lock:
                    if out["ResponseMetadata"]["HTTPStatusCode"] == 200:
                        acked.append(name)
                    else:
                        refused.append((name, out["ResponseMetadata"]["HTTPStatusCode"], None))
                    if len(acked) >= target:
                        enough.set()

        threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(4)]
        for th in threads:
            th.start()
        self.assertTrue(enough.wait(30), f"load reached only {len(acked)} creates in 30s")
        s.kill9()  # mid-load: the workers have requests in flight
        with lock:
            acked_at_kill = list(acked)
        stop.set()
        for th in threads:
            th.join(10)
            self.assertFalse(th.is_alive(), "a load worker did not stop")
        self.assertEqual(refused, [], "the server refused creates under load before the kill")
        s.start()
        present = set(describe_all_names(self, s, key)) - {"default"}
        missing = sorted(set(acked_at_kill) - present)
        self.assertEqual(missing, [], f"{len(missing)} of {len(acked_at_kill)} answered creates lost by kill -9")
        unknown_names = {n for n, _ in unknown}
        stray = sorted(present - set(acked) - unknown_names)
        self.assertEqual(stray, [], "groups present that no request created")
        kept_unknown = len(unknown_names & present)
        NOTES.append(f"kill -9 under load: {len(acked_at_kill)} creates answered 200 before the kill, "
                     f"all present after restart; {len(unknown)} unanswered (unknown outcome): "
                     f"{kept_unknown} present, {len(unknown) - kept_unknown} absent")
        assert_clean_stop(self, s)


class T07DataDirLock(Case):

    def test_second_server_same_data_dir_fails_fast(self):
        second = Server("second", data_dir=MAIN.data_dir)
        t0 = time.monotonic()
        proc = second.spawn()
        try:
            rc = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.fail(f"a second server on {MAIN.data_dir} did not exit within 5s:\n{second.log_text()}")
        took = time.monotonic() - t0
        out = second.log_text()
        self.assertNotEqual(rc, 0, out)
        self.assertIn(MAIN.data_dir, out, "the message must name the data directory")
        self.assertLess(took, 5)
        # The first server is unharmed.
        self.assertEqual(MAIN.health()[0], 200)
        key = new_account()
        b3(MAIN, key).create_cache_security_group(CacheSecurityGroupName="still-here", Description="x")
        self.assertIn("still-here", describe_all_names(self, MAIN, key))


# ------------------------------------------------------------- ingress

def b3_group(c, name):
    """The one group DescribeCacheSecurityGroups returns for name (boto3)."""
    out = c.describe_cache_security_groups(CacheSecurityGroupName=name)
    groups = out["CacheSecurityGroups"]
    if len(groups) != 1 or "Marker" in out:
        raise AssertionError(f"describe {name}: {out}")
    return groups[0]


def cli_group(tc, server, key, region, name):
    """The one group describe-cache-security-groups returns for name (CLI)."""
    out = tc.assertCLIOK(cli(server, key, region, "describe-cache-security-groups",
                             "--cache-security-group-name", name))
    tc.assertEqual(len(out["CacheSecurityGroups"]), 1, out)
    return out["CacheSecurityGroups"][0]


def ingress_args(name, ec2name, owner):
    return ["--cache-security-group-name", name, "--ec2-security-group-name", ec2name,
            "--ec2-security-group-owner-id", owner]


class T08Ingress(Case):
    """Authorize/Revoke on the main server, whose transition delay is 0: the
    answer shows the transitional state, the next read the final one."""

    def test_ingress_boto3(self):
        key, region = new_account(), "eu-west-1"
        c = b3(MAIN, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="Ing-B3", Description="ingress")
        out = c.authorize_cache_security_group_ingress(
            CacheSecurityGroupName="ING-B3", EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(out["CacheSecurityGroup"],
                         group(key, region, "ing-b3", "ingress", [ec2("web", OWNER, "authorizing")]))
        self.assertEqual(b3_group(c, "ing-b3"),
                         group(key, region, "ing-b3", "ingress", [ec2("web", OWNER, "authorized")]))
        self.assertB3Error(c.authorize_cache_security_group_ingress, "AuthorizationAlreadyExistsFault",
                           "AuthorizationAlreadyExists", ANY_MSG, 400, CacheSecurityGroupName="ing-b3",
                           EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        # A second entry comes after the first (insertion order).
        out = c.authorize_cache_security_group_ingress(
            CacheSecurityGroupName="ing-b3", EC2SecurityGroupName="app", EC2SecurityGroupOwnerId=OWNER2)
        self.assertEqual(out["CacheSecurityGroup"]["EC2SecurityGroups"],
                         [ec2("web", OWNER, "authorized"), ec2("app", OWNER2, "authorizing")])
        out = c.revoke_cache_security_group_ingress(
            CacheSecurityGroupName="Ing-B3", EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        self.assertEqual(out["CacheSecurityGroup"],
                         group(key, region, "ing-b3", "ingress",
                               [ec2("web", OWNER, "revoking"), ec2("app", OWNER2, "authorized")]))
        self.assertEqual(b3_group(c, "ing-b3"),
                         group(key, region, "ing-b3", "ingress", [ec2("app", OWNER2, "authorized")]))
        self.assertB3Error(c.revoke_cache_security_group_ingress, "AuthorizationNotFoundFault",
                           "AuthorizationNotFound", ANY_MSG, 404, CacheSecurityGroupName="ing-b3",
                           EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        # (app, OWNER) is not (app, OWNER2).
        self.assertB3Error(c.revoke_cache_security_group_ingress, "AuthorizationNotFoundFault",
                           "AuthorizationNotFound", ANY_MSG, 404, CacheSecurityGroupName="ing-b3",
                           EC2SecurityGroupName="app", EC2SecurityGroupOwnerId=OWNER)
        self.assertEqual(b3_group(c, "ing-b3")["EC2SecurityGroups"], [ec2("app", OWNER2, "authorized")])

    def test_ingress_cli(self):
        key, region = new_account(), "eu-west-1"
        b3(MAIN, key, region).create_cache_security_group(CacheSecurityGroupName="ing-cli", Description="ingress")
        out = self.assertCLIOK(cli(MAIN, key, region, "authorize-cache-security-group-ingress",
                                   *ingress_args("Ing-CLI", "web", OWNER)))
        self.assertEqual(out, {"CacheSecurityGroup": group(key, region, "ing-cli", "ingress",
                                                           [ec2("web", OWNER, "authorizing")])})
        self.assertEqual(cli_group(self, MAIN, key, region, "ing-cli"),
                         group(key, region, "ing-cli", "ingress", [ec2("web", OWNER, "authorized")]))
        self.assertCLIError(cli(MAIN, key, region, "authorize-cache-security-group-ingress",
                                *ingress_args("ing-cli", "web", OWNER)),
                            "AuthorizeCacheSecurityGroupIngress", "AuthorizationAlreadyExists", ANY_MSG)
        out = self.assertCLIOK(cli(MAIN, key, region, "revoke-cache-security-group-ingress",
                                   *ingress_args("ING-CLI", "web", OWNER)))
        self.assertEqual(out, {"CacheSecurityGroup": group(key, region, "ing-cli", "ingress",
                                                           [ec2("web", OWNER, "revoking")])})
        self.assertEqual(cli_group(self, MAIN, key, region, "ing-cli"),
                         group(key, region, "ing-cli", "ingress"))
        self.assertCLIError(cli(MAIN, key, region, "revoke-cache-security-group-ingress",
                                *ingress_args("ing-cli", "web", OWNER)),
                            "RevokeCacheSecurityGroupIngress", "AuthorizationNotFound", ANY_MSG)

    def test_ingress_errors_boto3(self):
        key, region = new_account(), "eu-west-1"
        c = b3(MAIN, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="ing-err", Description="e")
        for owner in ("12345678901", "1234567890123", "12345678901a", "abcdefghijkl", "-12345678901"):
            for fn in (c.authorize_cache_security_group_ingress, c.revoke_cache_security_group_ingress):
                with self.subTest(op=fn.__name__, owner=owner):
                    self.assertB3Error(fn, "InvalidParameterValueException", "InvalidParameterValue",
                                       OWNER_PARAM, 400, CacheSecurityGroupName="ing-err",
                                       EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=owner)
        self.assertEqual(b3_group(c, "ing-err")["EC2SecurityGroups"], [])
        for fn in (c.authorize_cache_security_group_ingress, c.revoke_cache_security_group_ingress):
            with self.subTest(op=fn.__name__, group="missing"):
                self.assertB3Error(fn, "CacheSecurityGroupNotFoundFault", "CacheSecurityGroupNotFound",
                                   not_found("no-such-group"), 404, CacheSecurityGroupName="No-Such-Group",
                                   EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        self.assertB3Absent(c, "no-such-group")

    def test_ingress_errors_cli(self):
        key, region = new_account(), "eu-west-1"
        b3(MAIN, key, region).create_cache_security_group(CacheSecurityGroupName="ing-err-cli", Description="e")
        for op, name in (("authorize-cache-security-group-ingress", "AuthorizeCacheSecurityGroupIngress"),
                         ("revoke-cache-security-group-ingress", "RevokeCacheSecurityGroupIngress")):
            with self.subTest(op=op):
                self.assertCLIError(cli(MAIN, key, region, op, *ingress_args("ing-err-cli", "web", "12345678901")),
                                    name, "InvalidParameterValue", OWNER_PARAM)
                self.assertCLIError(cli(MAIN, key, region, op, *ingress_args("No-Such-Group", "web", OWNER)),
                                    name, "CacheSecurityGroupNotFound", not_found("no-such-group"))
        self.assertEqual(b3_group(b3(MAIN, key, region), "ing-err-cli")["EC2SecurityGroups"], [])


# ------------------------------------------- ingress with a transition delay

def delay_server(name):
    return Server(name, extra=["--transition-delay", f"{TRANSITION_DELAY:g}s"]).start()


def timed(fn, *args, **kwargs):
    """fn's result and (sent, answered) of the call, in time.monotonic()."""
    t0 = time.monotonic()
    out = fn(*args, **kwargs)
    return out, (t0, time.monotonic())


def _read_request(conn):
    """One HTTP/1.1 request with a Content-Length body (as the CLI sends
    it): (head, body), or (None, None) when the client sent nothing."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


class Gate:
    """A relay on 127.0.0.1:0 between the CLI and a server, for the checks
    that depend on when the server handled a CLI request. A CLI process
    needs most of a second (several on a loaded machine) before it sends
    anything, which would blur a 2 s transition delay; the gate records
    when it forwarded each request and when the answer began, the window
    in which the server handled it, and can hold a request until the test
    has made its change. It forwards the bytes unchanged but for
    `Connection: close` (one request per connection), always to the
    server's current address, so it survives a restart."""

    def __init__(self, server):
        self.server = server
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self._lock = threading.Lock()
        self._hold = None  # (arrived, go) for the next request
        self.windows = []  # (forwarded, answered) per relayed request
        threading.Thread(target=self._accept, daemon=True).start()

    def hold_next(self):
        """Holds the next request: returns (arrived, go) events; the
        request waits for go once it has set arrived."""
        hold = (threading.Event(), threading.Event())
        with self._lock:
            self._hold = hold
        return hold

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn):
        with conn:
            head, body = _read_request(conn)
            if head is None:
                return
            with self._lock:
                hold, self._hold = self._hold, None
            if hold is not None:
                hold[0].set()
                hold[1].wait(CLI_TIMEOUT)
            lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
            request = b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n" + body
            host, port = self.server.addr.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=CLI_TIMEOUT) as up:
                t0 = time.monotonic()
                up.sendall(request)
                data = up.recv(65536)
                t1 = time.monotonic()
                while data:
                    conn.sendall(data)
                    data = up.recv(65536)
            with self._lock:
                self.windows.append((t0, t1))


def cli_gated(tc, gate, key, region, op, *args):
    """`aws elasticache op args` through gate: the CLIResult and the window
    in which the server handled the request."""
    n = len(gate.windows)
    res = cli(gate, key, region, op, *args)
    tc.assertEqual(len(gate.windows), n + 1, f"not one request through the gate: {res!r}")
    return res, gate.windows[-1]


def ec2_read_cli(tc, gate, key, region, name, ec2name):
    """A read for observe: the status of one entry through the CLI and the
    gate, with the window in which the server handled it."""
    def read():
        res, window = cli_gated(tc, gate, key, region, "describe-cache-security-groups",
                                "--cache-security-group-name", name)
        groups = tc.assertCLIOK(res)["CacheSecurityGroups"]
        tc.assertEqual(len(groups), 1, res)
        return ec2_status(groups[0], ec2name), window
    return read


def ec2_read_b3(c, name, ec2name):
    return lambda: timed(lambda: ec2_status(b3_group(c, name), ec2name))


class T09Transition(Case):
    """Servers started with --transition-delay 2s, one per test: entries stay
    authorizing/revoking for 2 s after the change, which reads derive from
    stored timestamps, so a SIGTERM restart changes nothing (SPEC §5)."""

    def cli_held(self, gate, key, region, op, *args, on_arrival):
        """Runs `aws elasticache op args` through gate, holding its request
        when it arrives there until on_arrival() has run: the server handles
        it a few milliseconds after on_arrival's last change. Returns the
        CLIResult and the window in which the server handled it."""
        n = len(gate.windows)
        arrived, go = gate.hold_next()
        box = {}

        def run():
            try:
                box["res"] = cli(gate, key, region, op, *args)
            except BaseException as e:  # reported below, on the test's thread
                box["err"] = e

        th = threading.Thread(target=run, daemon=True)
        th.start()
        try:
            if not arrived.wait(CLI_TIMEOUT):
                self.fail(f"aws elasticache {op}: no request reached the gate within {CLI_TIMEOUT}s")
            on_arrival()
        finally:
            go.set()
            th.join(CLI_TIMEOUT + 5)
        if "err" in box:
            raise box["err"]
        self.assertEqual(len(gate.windows), n + 1, f"not one request through the gate: {box['res']!r}")
        return box["res"], gate.windows[-1]

    def test_transition_boto3(self):
        s = delay_server("delay-b3")
        key, region = new_account(), "us-east-1"
        c = b3(s, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="tr-b3", Description="t")
        out, change = timed(c.authorize_cache_security_group_ingress, CacheSecurityGroupName="tr-b3",
                            EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        self.assertEqual(out["CacheSecurityGroup"],
                         group(key, region, "tr-b3", "t", [ec2("web", OWNER, "authorizing")]))
        read = ec2_read_b3(c, "tr-b3", "web")
        # Right after: authorizing, and every state change is refused.
        self.assertEqual(self.observe(read, change, "authorizing", "authorized"), ("authorizing", "before"))
        self.assertB3Error(c.delete_cache_security_group, "InvalidCacheSecurityGroupStateFault",
                           "InvalidCacheSecurityGroupState", ANY_MSG, 400, CacheSecurityGroupName="tr-b3")
        self.assertB3Error(c.revoke_cache_security_group_ingress, "InvalidCacheSecurityGroupStateFault",
                           "InvalidCacheSecurityGroupState", ANY_MSG, 400, CacheSecurityGroupName="tr-b3",
                           EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        self.assertB3Error(c.authorize_cache_security_group_ingress, "AuthorizationAlreadyExistsFault",
                           "AuthorizationAlreadyExists", ANY_MSG, 400, CacheSecurityGroupName="tr-b3",
                           EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        # The refused changes left the entry as it was (a revoke would show revoking).
        self.observe(read, change, "authorizing", "authorized")
        self.poll_until(read, change, "authorizing", "authorized")
        # Revoke: revoking for 2 s, then gone.
        out, change = timed(c.revoke_cache_security_group_ingress, CacheSecurityGroupName="tr-b3",
                            EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        self.assertEqual(out["CacheSecurityGroup"]["EC2SecurityGroups"], [ec2("web", OWNER, "revoking")])
        self.assertEqual(self.observe(read, change, "revoking", None), ("revoking", "before"))
        self.assertB3Error(c.delete_cache_security_group, "InvalidCacheSecurityGroupStateFault",
                           "InvalidCacheSecurityGroupState", ANY_MSG, 400, CacheSecurityGroupName="tr-b3")
        self.assertB3Error(c.authorize_cache_security_group_ingress, "InvalidCacheSecurityGroupStateFault",
                           "InvalidCacheSecurityGroupState", ANY_MSG, 400, CacheSecurityGroupName="tr-b3",
                           EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        self.poll_until(read, change, "revoking", None)
        self.assertEqual(b3_group(c, "tr-b3"), group(key, region, "tr-b3", "t"))
        assert_clean_stop(self, s)

    def test_transition_restart_boto3(self):
        s = delay_server("delay-restart-b3")
        key, region = new_account(), "us-east-1"
        c = b3(s, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="rs-b3", Description="r")
        _, change = timed(c.authorize_cache_security_group_ingress, CacheSecurityGroupName="rs-b3",
                          EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
        self.assertB3Error(c.delete_cache_security_group, "InvalidCacheSecurityGroupStateFault",
                           "InvalidCacheSecurityGroupState", ANY_MSG, 400, CacheSecurityGroupName="rs-b3")
        assert_clean_stop(self, s)
        s.start()
        c = b3(s, key, region, fresh=True)
        first = self.poll_until(ec2_read_b3(c, "rs-b3", "web"), change, "authorizing", "authorized")
        if first != "before":
            NOTES.append(f"{self.id()}: the first read after the restart came over "
                         f"{TRANSITION_DELAY}s after the authorize; only the final state was observed after it")
        # Authorized entries do not hold a delete.
        c.delete_cache_security_group(CacheSecurityGroupName="rs-b3")
        self.assertB3Absent(c, "rs-b3")
        assert_clean_stop(self, s)

    def test_transition_cli(self):
        s = delay_server("delay-cli")
        gate = Gate(s)
        self.addCleanup(gate.close)
        key, region = new_account(), "us-east-1"
        c = b3(s, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="tr-cli", Description="t")
        res, _ = cli_gated(self, gate, key, region, "authorize-cache-security-group-ingress",
                           *ingress_args("tr-cli", "web", OWNER))
        self.assertEqual(self.assertCLIOK(res)["CacheSecurityGroup"],
                         group(key, region, "tr-cli", "t", [ec2("web", OWNER, "authorizing")]))
        # Right after an authorize (boto3's, made while the CLI's describe
        # waits at the gate): authorizing.
        changes = {}

        def authorize_app():
            _, changes["app"] = timed(c.authorize_cache_security_group_ingress, CacheSecurityGroupName="tr-cli",
                                      EC2SecurityGroupName="app", EC2SecurityGroupOwnerId=OWNER)

        res, window = self.cli_held(gate, key, region, "describe-cache-security-groups",
                                    "--cache-security-group-name", "tr-cli", on_arrival=authorize_app)
        self.assertEqual(self.observe(lambda: (ec2_status(self.assertCLIOK(res)["CacheSecurityGroups"][0], "app"),
                                               window), changes["app"], "authorizing", "authorized"),
                         ("authorizing", "before"))
        # Then authorized, once 2 s have passed (web, authorized earlier, too:
        # its revoke below would be refused while it was authorizing).
        self.poll_until(ec2_read_cli(self, gate, key, region, "tr-cli", "app"), changes["app"],
                        "authorizing", "authorized")
        # Revoke: revoking, then gone once 2 s have passed.
        res, web = cli_gated(self, gate, key, region, "revoke-cache-security-group-ingress",
                             *ingress_args("tr-cli", "web", OWNER))
        self.assertEqual(self.assertCLIOK(res)["CacheSecurityGroup"]["EC2SecurityGroups"],
                         [ec2("web", OWNER, "revoking"), ec2("app", OWNER, "authorized")])
        self.poll_until(ec2_read_cli(self, gate, key, region, "tr-cli", "web"), web, "revoking", None)
        self.assertEqual(b3_group(c, "tr-cli")["EC2SecurityGroups"], [ec2("app", OWNER, "authorized")])
        assert_clean_stop(self, s)

    def test_transition_restart_cli(self):
        s = delay_server("delay-restart-cli")
        gate = Gate(s)
        self.addCleanup(gate.close)
        key, region = new_account(), "us-east-1"
        c = b3(s, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="rs-cli", Description="r")
        changes = {}

        def authorize_and_restart():
            nonlocal c
            _, changes["web"] = timed(c.authorize_cache_security_group_ingress, CacheSecurityGroupName="rs-cli",
                                      EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
            assert_clean_stop(self, s)
            s.start()
            c = b3(s, key, region, fresh=True)

        # The CLI's describe waits at the gate while the server restarts.
        res, window = self.cli_held(gate, key, region, "describe-cache-security-groups",
                                    "--cache-security-group-name", "rs-cli", on_arrival=authorize_and_restart)
        status, side = self.observe(lambda: (ec2_status(self.assertCLIOK(res)["CacheSecurityGroups"][0], "web"),
                                             window), changes["web"], "authorizing", "authorized")
        if side != "before":
            NOTES.append(f"{self.id()}: the first read after the restart came "
                         f"{window[1] - changes['web'][0]:.2f}s after the authorize; "
                         "only the final state was observed after it")
        self.poll_until(ec2_read_cli(self, gate, key, region, "rs-cli", "web"), changes["web"],
                        "authorizing", "authorized")
        # Authorized entries do not hold a delete.
        res = cli(gate, key, region, "delete-cache-security-group", "--cache-security-group-name", "rs-cli")
        self.assertEqual((res.rc, res.out.strip()), (0, ""), repr(res))
        self.assertB3Absent(c, "rs-cli")

        # An authorizing one does: the CLI's delete waits at the gate while
        # boto3 creates the group and authorizes an entry.
        def create_and_authorize():
            c.create_cache_security_group(CacheSecurityGroupName="del-cli", Description="d")
            _, changes["del"] = timed(c.authorize_cache_security_group_ingress, CacheSecurityGroupName="del-cli",
                                      EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)

        res, window = self.cli_held(gate, key, region, "delete-cache-security-group",
                                    "--cache-security-group-name", "del-cli", on_arrival=create_and_authorize)
        self.assertLess(window[1] - changes["del"][0], TRANSITION_DELAY - TIMING_SLACK,
                        "the delete was not handled within the delay")
        self.assertCLIError(res, "DeleteCacheSecurityGroup", "InvalidCacheSecurityGroupState", ANY_MSG)
        self.observe(ec2_read_b3(c, "del-cli", "web"), changes["del"], "authorizing", "authorized")
        assert_clean_stop(self, s)


# ------------------------------------------------------------ tags by ARN

def tags_of(tc, out):
    """The TagList of a successful boto3 tag call."""
    tc.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
    return out["TagList"]


class T10Tags(Case):
    """Add/List/RemoveTagsFromResource on securitygroup ARNs (SPEC §4, §5):
    every answer is the full tag list in key order."""

    def test_tags_boto3(self):
        key, region = new_account(), "ap-south-1"
        c = b3(MAIN, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="Tag-B3", Description="t",
                                      Tags=[{"Key": "env", "Value": "prod"}, {"Key": "novalue"}])
        a = arn(region, key, "tag-b3")
        # Tags given at create are listed; a tag without Value has Value "".
        self.assertEqual(tags_of(self, c.list_tags_for_resource(ResourceName=a)),
                         tag_list(("env", "prod"), ("novalue", "")))
        out = c.add_tags_to_resource(ResourceName=a, Tags=[
            {"Key": "zeta", "Value": "z"}, {"Key": "alpha", "Value": "a"},
            {"Key": "env", "Value": "staging"}, {"Key": "bare"}])
        want = tag_list(("alpha", "a"), ("bare", ""), ("env", "staging"), ("novalue", ""), ("zeta", "z"))
        self.assertEqual(tags_of(self, out), want)
        self.assertEqual(tags_of(self, c.list_tags_for_resource(ResourceName=a)), want)
        out = c.remove_tags_from_resource(ResourceName=a, TagKeys=["alpha", "bare"])
        want = tag_list(("env", "staging"), ("novalue", ""), ("zeta", "z"))
        self.assertEqual(tags_of(self, out), want)
        # A key that is not set: TagNotFound, and nothing is removed.
        self.assertB3Error(c.remove_tags_from_resource, "TagNotFoundFault", "TagNotFound", ANY_MSG, 404,
                           ResourceName=a, TagKeys=["zeta", "nope"])
        self.assertEqual(tags_of(self, c.list_tags_for_resource(ResourceName=a)), want)
        # 50 distinct keys is the limit: a 51st is refused and changes nothing;
        # overwriting a key at 50 is not a 51st.
        out = c.add_tags_to_resource(ResourceName=a, Tags=[{"Key": f"k{i:02d}", "Value": "v"} for i in range(47)])
        full = tags_of(self, out)
        self.assertEqual([t["Key"] for t in full],
                         sorted(["env", "novalue", "zeta"] + [f"k{i:02d}" for i in range(47)]))
        self.assertB3Error(c.add_tags_to_resource, "TagQuotaPerResourceExceeded", "TagQuotaPerResourceExceeded",
                           TAG_QUOTA_MSG, 400, ResourceName=a,
                           Tags=[{"Key": "env", "Value": "changed"}, {"Key": "one-more", "Value": "x"}])
        self.assertEqual(tags_of(self, c.list_tags_for_resource(ResourceName=a)), full)
        out = c.add_tags_to_resource(ResourceName=a, Tags=[{"Key": "zeta", "Value": "zz"}])
        self.assertEqual(tags_of(self, out), [dict(t, Value="zz") if t["Key"] == "zeta" else t for t in full])
        # Deleting the group deletes its tags: a new group of that name has none.
        c.delete_cache_security_group(CacheSecurityGroupName="tag-b3")
        self.assertB3Error(c.list_tags_for_resource, "CacheSecurityGroupNotFoundFault",
                           "CacheSecurityGroupNotFound", not_found("tag-b3"), 404, ResourceName=a)
        c.create_cache_security_group(CacheSecurityGroupName="tag-b3", Description="again")
        self.assertEqual(tags_of(self, c.list_tags_for_resource(ResourceName=a)), [])

    def test_tag_arns_boto3(self):
        key, region = new_account(), "ap-south-1"
        c = b3(MAIN, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="arn-b3", Description="a",
                                      Tags=[{"Key": "k", "Value": "v"}])
        mine = arn(region, key, "arn-b3")
        other = new_account()
        b3(MAIN, other, region).create_cache_security_group(
            CacheSecurityGroupName="theirs", Description="x", Tags=[{"Key": "owner", "Value": "them"}])
        ops = [(c.list_tags_for_resource, {}),
               (c.add_tags_to_resource, {"Tags": [{"Key": "x", "Value": "y"}]}),
               (c.remove_tags_from_resource, {"TagKeys": ["k"]})]
        for bad in (f"arn:aws:elasticache:{region}:{key}:securitygroup", "arn-b3", mine + ":extra"):
            for fn, kw in ops:
                with self.subTest(op=fn.__name__, arn=bad):
                    self.assertB3Error(fn, "InvalidARNFault", "InvalidARN", INVALID_ARN_MSG, 400,
                                       ResourceName=bad, **kw)
        # Another account's group, the same name in another region, a missing
        # group: all CacheSecurityGroupNotFound (nothing is revealed).
        for a, name in ((arn(region, other, "theirs"), "theirs"), (arn("eu-north-1", key, "arn-b3"), "arn-b3"),
                        (arn(region, key, "missing"), "missing")):
            for fn, kw in ops:
                with self.subTest(op=fn.__name__, arn=a):
                    self.assertB3Error(fn, "CacheSecurityGroupNotFoundFault", "CacheSecurityGroupNotFound",
                                       not_found(name), 404, ResourceName=a, **kw)
        for fn, kw in ops:
            with self.subTest(op=fn.__name__, arn="cluster"):
                self.assertB3Error(fn, "CacheClusterNotFoundFault", "CacheClusterNotFound", ANY_MSG, 404,
                                   ResourceName=cluster_arn(region, key, "my-cluster"), **kw)
        # 51 new tags in one request.
        self.assertB3Error(c.add_tags_to_resource, "TagQuotaPerResourceExceeded", "TagQuotaPerResourceExceeded",
                           TAG_QUOTA_MSG, 400, ResourceName=mine,
                           Tags=[{"Key": f"t{i:02d}", "Value": "v"} for i in range(51)])
        # None of it touched a tag.
        self.assertEqual(tags_of(self, c.list_tags_for_resource(ResourceName=mine)), tag_list(("k", "v")))
        self.assertEqual(tags_of(self, b3(MAIN, other, region).list_tags_for_resource(
            ResourceName=arn(region, other, "theirs"))), tag_list(("owner", "them")))

    def test_tags_cli(self):
        key, region = new_account(), "ap-south-1"
        out = self.assertCLIOK(cli(MAIN, key, region, "create-cache-security-group",
                                   "--cache-security-group-name", "Tag-CLI", "--description", "t",
                                   "--tags", "Key=env,Value=prod", "Key=novalue"))
        self.assertEqual(out["CacheSecurityGroup"]["ARN"], arn(region, key, "tag-cli"))
        a = arn(region, key, "tag-cli")
        self.assertEqual(self.assertCLIOK(cli(MAIN, key, region, "list-tags-for-resource", "--resource-name", a)),
                         {"TagList": tag_list(("env", "prod"), ("novalue", ""))})
        out = self.assertCLIOK(cli(MAIN, key, region, "add-tags-to-resource", "--resource-name", a, "--tags",
                                   "Key=zeta,Value=z", "Key=alpha,Value=a", "Key=env,Value=staging", "Key=bare"))
        self.assertEqual(out, {"TagList": tag_list(("alpha", "a"), ("bare", ""), ("env", "staging"),
                                                   ("novalue", ""), ("zeta", "z"))})
        out = self.assertCLIOK(cli(MAIN, key, region, "remove-tags-from-resource", "--resource-name", a,
                                   "--tag-keys", "alpha", "bare"))
        want = tag_list(("env", "staging"), ("novalue", ""), ("zeta", "z"))
        self.assertEqual(out, {"TagList": want})
        self.assertCLIError(cli(MAIN, key, region, "remove-tags-from-resource", "--resource-name", a,
                                "--tag-keys", "zeta", "nope"),
                            "RemoveTagsFromResource", "TagNotFound", ANY_MSG)
        self.assertEqual(tags_of(self, b3(MAIN, key, region).list_tags_for_resource(ResourceName=a)), want)

    def test_tag_errors_cli(self):
        key, region = new_account(), "ap-south-1"
        c = b3(MAIN, key, region)
        c.create_cache_security_group(CacheSecurityGroupName="tag-err-cli", Description="t",
                                      Tags=[{"Key": "k", "Value": "v"}])
        a = arn(region, key, "tag-err-cli")
        other = new_account()
        b3(MAIN, other, region).create_cache_security_group(CacheSecurityGroupName="theirs", Description="x")
        fifty_one = json.dumps([{"Key": f"t{i:02d}", "Value": "v"} for i in range(51)])
        self.assertCLIError(cli(MAIN, key, region, "add-tags-to-resource", "--resource-name", a,
                                "--tags", fifty_one),
                            "AddTagsToResource", "TagQuotaPerResourceExceeded", TAG_QUOTA_MSG)
        self.assertCLIError(cli(MAIN, key, region, "list-tags-for-resource", "--resource-name",
                                f"arn:aws:elasticache:{region}:{key}:securitygroup"),
                            "ListTagsForResource", "InvalidARN", INVALID_ARN_MSG)
        self.assertCLIError(cli(MAIN, key, region, "add-tags-to-resource", "--resource-name",
                                arn(region, other, "theirs"), "--tags", "Key=x,Value=y"),
                            "AddTagsToResource", "CacheSecurityGroupNotFound", not_found("theirs"))
        self.assertCLIError(cli(MAIN, key, region, "list-tags-for-resource", "--resource-name",
                                cluster_arn(region, key, "my-cluster")),
                            "ListTagsForResource", "CacheClusterNotFound", ANY_MSG)
        self.assertEqual(tags_of(self, c.list_tags_for_resource(ResourceName=a)), tag_list(("k", "v")))
        self.assertEqual(tags_of(self, b3(MAIN, other, region).list_tags_for_resource(
            ResourceName=arn(region, other, "theirs"))), [])
        # Deleting the group deletes its tags.
        c.delete_cache_security_group(CacheSecurityGroupName="tag-err-cli")
        self.assertCLIError(cli(MAIN, key, region, "list-tags-for-resource", "--resource-name", a),
                            "ListTagsForResource", "CacheSecurityGroupNotFound", not_found("tag-err-cli"))
        c.create_cache_security_group(CacheSecurityGroupName="tag-err-cli", Description="again")
        self.assertEqual(tags_of(self, c.list_tags_for_resource(ResourceName=a)), [])


# ----------------------------------------------------------------- events

def make_events(c, name, other):
    """In c's (fresh) account: create, authorize, revoke and delete group
    name (each spelling it another way), then create group other. Returns (t0, mid, t1, mine, everything):
    the wall clock before, between the two groups and after, and the events
    expected of name alone and of both, newest first."""
    t0 = floor_ms(utcnow())
    c.create_cache_security_group(CacheSecurityGroupName=name.capitalize(), Description="events")
    c.authorize_cache_security_group_ingress(CacheSecurityGroupName=name.upper(), EC2SecurityGroupName="web",
                                             EC2SecurityGroupOwnerId=OWNER)
    c.revoke_cache_security_group_ingress(CacheSecurityGroupName=name.upper(), EC2SecurityGroupName="web",
                                          EC2SecurityGroupOwnerId=OWNER)
    c.delete_cache_security_group(CacheSecurityGroupName=name.upper())
    mid = utcnow()
    c.create_cache_security_group(CacheSecurityGroupName=other, Description="events")
    t1 = utcnow()
    mine = [ev_deleted(name), ev_revoked(name, "web", OWNER), ev_authorized(name, "web", OWNER), ev_created(name)]
    return t0, mid, t1, mine, [ev_created(other)] + mine


class T11Events(Case):
    """DescribeEvents: one event per create/authorize/revoke/delete, newest
    first, in the caller's account and region only (SPEC §5)."""

    def test_events_boto3(self):
        key, region = new_account(), "eu-west-3"
        c = b3(MAIN, key, region)
        t0, mid, t1, mine, everything = make_events(c, "ev-b3", "ev-b3-other")
        out = c.describe_events()
        self.assertNotIn("Marker", out)
        self.assertEvents(out["Events"], everything, t0, t1)
        self.assertEvents(c.describe_events(Duration=60)["Events"], everything, t0, t1)
        for ident in ("ev-b3", "EV-B3", "Ev-B3"):
            with self.subTest(SourceIdentifier=ident):
                self.assertEvents(c.describe_events(SourceType=GROUP_EVENT, SourceIdentifier=ident)["Events"],
                                  mine, t0, t1)
        self.assertEvents(c.describe_events(SourceType=GROUP_EVENT)["Events"], everything, t0, t1)
        self.assertEvents(c.describe_events(SourceType="cache-cluster")["Events"], [], t0, t1)
        self.assertEqual(b3(MAIN, new_account(), region).describe_events()["Events"], [])
        self.assertEqual(b3(MAIN, key, "eu-south-1").describe_events()["Events"], [])

    def test_event_window_boto3(self):
        key, region = new_account(), "eu-west-3"
        c = b3(MAIN, key, region)
        t0, mid, t1, mine, everything = make_events(c, "win-b3", "win-b3-other")
        cases = [({"StartTime": mid}, everything[:1]),
                 ({"EndTime": mid}, mine),
                 ({"StartTime": t0, "EndTime": mid}, mine),
                 ({"StartTime": mid, "EndTime": t1}, everything[:1]),
                 ({"StartTime": t0, "EndTime": t1}, everything),
                 ({"StartTime": mid, "Duration": 60}, everything[:1]),
                 ({"EndTime": mid, "Duration": 60}, mine),
                 ({"StartTime": t0 - datetime.timedelta(minutes=5), "Duration": 1}, [])]
        for kw, want in cases:
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                self.assertEvents(c.describe_events(**kw)["Events"], want, t0, t1)
        self.assertB3Error(c.describe_events, "InvalidParameterCombinationException", "InvalidParameterCombination",
                           ANY_MSG, 400, StartTime=t0, EndTime=t1, Duration=60)
        self.assertB3Error(c.describe_events, "InvalidParameterCombinationException", "InvalidParameterCombination",
                           ANY_MSG, 400, SourceIdentifier="win-b3")

    def test_events_cli(self):
        key, region = new_account(), "eu-west-3"
        t0, mid, t1, mine, everything = make_events(b3(MAIN, key, region), "ev-cli", "ev-cli-other")
        out = self.assertCLIOK(cli(MAIN, key, region, "describe-events"))
        self.assertEqual(set(out), {"Events"})
        self.assertEvents(out["Events"], everything, t0, t1)
        out = self.assertCLIOK(cli(MAIN, key, region, "describe-events", "--duration", "60"))
        self.assertEvents(out["Events"], everything, t0, t1)
        out = self.assertCLIOK(cli(MAIN, key, region, "describe-events", "--source-type", GROUP_EVENT,
                                   "--source-identifier", "EV-CLI"))
        self.assertEvents(out["Events"], mine, t0, t1)
        self.assertEqual(self.assertCLIOK(cli(MAIN, new_account(), region, "describe-events")), {"Events": []})

    def test_event_window_cli(self):
        key, region = new_account(), "eu-west-3"
        t0, mid, t1, mine, everything = make_events(b3(MAIN, key, region), "win-cli", "win-cli-other")
        for args, want in ((["--start-time", wire_time(mid)], everything[:1]),
                           (["--end-time", wire_time(mid)], mine),
                           (["--start-time", wire_time(t0), "--end-time", wire_time(mid)], mine)):
            with self.subTest(args=args):
                out = self.assertCLIOK(cli(MAIN, key, region, "describe-events", *args))
                self.assertEvents(out["Events"], want, t0, t1)
        self.assertCLIError(cli(MAIN, key, region, "describe-events", "--start-time", wire_time(t0),
                                "--end-time", wire_time(t1), "--duration", "60"),
                            "DescribeEvents", "InvalidParameterCombination", ANY_MSG)


class T12EventPages(Case):
    """48 events in one account, read 20 at a time."""

    @classmethod
    def setUpClass(cls):
        cls.key, cls.region = new_account(), "ca-central-1"
        c = b3(MAIN, cls.key, cls.region)
        cls.t0 = floor_ms(utcnow())
        names = [f"evp-{i:02d}" for i in range(48)]
        for n in names:
            c.create_cache_security_group(CacheSecurityGroupName=n, Description="p")
        cls.t1 = utcnow()
        cls.want = [ev_created(n) for n in reversed(names)]

    def test_paginator_boto3(self):
        c = b3(MAIN, self.key, self.region)
        events, pages = [], []
        for page in c.get_paginator("describe_events").paginate(PaginationConfig={"PageSize": 20}):
            events.extend(page["Events"])
            pages.append((len(page["Events"]), page.get("Marker")))
            self.assertLess(len(pages), 10, "paginator does not terminate")
        self.assertEqual([n for n, _ in pages], [20, 20, 8])
        self.assertTrue(all(m for _, m in pages[:-1]), pages)
        self.assertIsNone(pages[-1][1], "last page must not carry a Marker")
        self.assertEvents(events, self.want, self.t0, self.t1)
        for n in (19, 101):
            self.assertB3Error(c.describe_events, "InvalidParameterValueException", "InvalidParameterValue",
                               re.compile(r".*MaxRecords.*"), 400, MaxRecords=n)

    def test_page_size_cli(self):
        out = self.assertCLIOK(cli(MAIN, self.key, self.region, "describe-events", "--page-size", "20"))
        self.assertEqual(set(out), {"Events"})
        self.assertEvents(out["Events"], self.want, self.t0, self.t1)


# ------------------------------------------- per-account settings (--config)

class T13AccountConfig(Case):
    """Servers started with --config, one per test: account 999999999999 is
    modern, 333333333333 may create 2 groups, every other account is classic
    with the global quota (SPEC §1, §5)."""

    def config_server(self, name):
        path = os.path.join(TMP, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(CONFIG_YAML)
        return Server(name, extra=["--config", path]).start()

    def test_modern_boto3(self):
        s = self.config_server("modern-b3")
        region = "us-east-1"
        c = b3(s, MODERN_ACCOUNT, region)
        a = arn(region, MODERN_ACCOUNT, "default")
        ingress = {"CacheSecurityGroupName": "default", "EC2SecurityGroupName": "web",
                   "EC2SecurityGroupOwnerId": OWNER}
        for fn, kw in ((c.create_cache_security_group, {"CacheSecurityGroupName": "m1", "Description": "m"}),
                       (c.describe_cache_security_groups, {}),
                       (c.describe_cache_security_groups, {"CacheSecurityGroupName": "default"}),
                       (c.delete_cache_security_group, {"CacheSecurityGroupName": "m1"}),
                       (c.authorize_cache_security_group_ingress, ingress),
                       (c.revoke_cache_security_group_ingress, ingress),
                       (c.add_tags_to_resource, {"ResourceName": a, "Tags": [{"Key": "k", "Value": "v"}]}),
                       (c.list_tags_for_resource, {"ResourceName": a}),
                       (c.list_tags_for_resource, {"ResourceName": arn(region, MODERN_ACCOUNT, "m1")}),
                       (c.remove_tags_from_resource, {"ResourceName": a, "TagKeys": ["k"]})):
            with self.subTest(op=fn.__name__, **kw):
                self.assertB3Error(fn, "InvalidParameterValueException", "InvalidParameterValue",
                                   MODERN_MSG, 400, **kw)
        # DescribeEvents and tags of other resource types work as usual; the
        # refused calls recorded nothing.
        out = c.describe_events(Duration=60)
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(out["Events"], [])
        self.assertB3Error(c.list_tags_for_resource, "CacheClusterNotFoundFault", "CacheClusterNotFound",
                           ANY_MSG, 404, ResourceName=cluster_arn(region, MODERN_ACCOUNT, "my-cluster"))
        # A classic account on the same server works normally.
        key = new_account()
        t0 = floor_ms(utcnow())
        k = b3(s, key, region)
        k.create_cache_security_group(CacheSecurityGroupName="classic", Description="c")
        k.authorize_cache_security_group_ingress(CacheSecurityGroupName="classic", EC2SecurityGroupName="web",
                                                 EC2SecurityGroupOwnerId=OWNER)
        self.assertEqual(b3_group(k, "classic"),
                         group(key, region, "classic", "c", [ec2("web", OWNER, "authorized")]))
        out = k.add_tags_to_resource(ResourceName=arn(region, key, "classic"), Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(out["TagList"], tag_list(("k", "v")))
        self.assertEvents(k.describe_events()["Events"],
                          [ev_authorized("classic", "web", OWNER), ev_created("classic")], t0, utcnow())
        assert_clean_stop(self, s)

    def test_modern_groups_cli(self):
        s = self.config_server("modern-groups-cli")
        region = "us-east-1"
        for op, opname, args in (
                ("create-cache-security-group", "CreateCacheSecurityGroup",
                 ["--cache-security-group-name", "m1", "--description", "m"]),
                ("describe-cache-security-groups", "DescribeCacheSecurityGroups", []),
                ("delete-cache-security-group", "DeleteCacheSecurityGroup", ["--cache-security-group-name", "m1"]),
                ("authorize-cache-security-group-ingress", "AuthorizeCacheSecurityGroupIngress",
                 ingress_args("default", "web", OWNER)),
                ("revoke-cache-security-group-ingress", "RevokeCacheSecurityGroupIngress",
                 ingress_args("default", "web", OWNER))):
            with self.subTest(op=op):
                self.assertCLIError(cli(s, MODERN_ACCOUNT, region, op, *args), opname,
                                    "InvalidParameterValue", MODERN_MSG)
        assert_clean_stop(self, s)

    def test_modern_tags_events_cli(self):
        s = self.config_server("modern-tags-cli")
        region = "us-east-1"
        a = arn(region, MODERN_ACCOUNT, "default")
        for op, opname, args in (
                ("add-tags-to-resource", "AddTagsToResource", ["--resource-name", a, "--tags", "Key=k,Value=v"]),
                ("list-tags-for-resource", "ListTagsForResource", ["--resource-name", a]),
                ("remove-tags-from-resource", "RemoveTagsFromResource", ["--resource-name", a, "--tag-keys", "k"])):
            with self.subTest(op=op):
                self.assertCLIError(cli(s, MODERN_ACCOUNT, region, op, *args), opname,
                                    "InvalidParameterValue", MODERN_MSG)
        self.assertEqual(self.assertCLIOK(cli(s, MODERN_ACCOUNT, region, "describe-events", "--duration", "60")),
                         {"Events": []})
        assert_clean_stop(self, s)

    def test_account_quota_boto3(self):
        s = self.config_server("quota-config-b3")
        region = "us-east-1"
        c = b3(s, QUOTA_ACCOUNT, region)
        for n in ("qa1", "qa2"):
            c.create_cache_security_group(CacheSecurityGroupName=n, Description="q")
        self.assertB3Error(c.create_cache_security_group, "CacheSecurityGroupQuotaExceededFault",
                           "QuotaExceeded.CacheSecurityGroup", QUOTA_MSG, 400,
                           CacheSecurityGroupName="qa3", Description="q")
        self.assertB3Absent(c, "qa3")
        self.assertEqual([g["CacheSecurityGroupName"] for g in c.describe_cache_security_groups()["CacheSecurityGroups"]],
                         ["default", "qa1", "qa2"])
        # A classic account keeps the global quota (50).
        k = b3(s, new_account(), region)
        for n in ("c1", "c2", "c3", "c4"):
            k.create_cache_security_group(CacheSecurityGroupName=n, Description="c")
        assert_clean_stop(self, s)

    def test_account_quota_cli(self):
        s = self.config_server("quota-config-cli")
        region = "us-west-2"
        c = b3(s, QUOTA_ACCOUNT, region)
        key = new_account()
        k = b3(s, key, region)
        for n in ("qa1", "qa2"):
            c.create_cache_security_group(CacheSecurityGroupName=n, Description="q")
            k.create_cache_security_group(CacheSecurityGroupName=n, Description="q")
        self.assertCLIError(cli(s, QUOTA_ACCOUNT, region, "create-cache-security-group",
                                "--cache-security-group-name", "qa3", "--description", "q"),
                            "CreateCacheSecurityGroup", "QuotaExceeded.CacheSecurityGroup", QUOTA_MSG)
        self.assertB3Absent(c, "qa3")
        out = self.assertCLIOK(cli(s, key, region, "create-cache-security-group",
                                   "--cache-security-group-name", "qa3", "--description", "q"))
        self.assertEqual(out, {"CacheSecurityGroup": group(key, region, "qa3", "q")})
        assert_clean_stop(self, s)

    def test_unknown_config_key_exits(self):
        path = os.path.join(TMP, "bad-config.yaml")
        with open(path, "w") as f:
            f.write(BAD_CONFIG_YAML)
        bad = Server("bad-config", extra=["--config", path])
        t0 = time.monotonic()
        proc = bad.spawn()
        try:
            rc = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.fail(f"a server with an unknown key in --config did not exit within 5s:\n{bad.log_text()}")
        out = bad.log_text()
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"\bline 3\b", "the message must name the line of the unknown key")
        self.assertEqual([r for r in bad.log_records() if r.get("addr")], [], "it must not have listened")
        self.assertLess(time.monotonic() - t0, 5)


class T99Shutdown(Case):

    def test_main_server_clean_stop(self):
        took = assert_clean_stop(self, MAIN)
        self.assertLess(took, 10)


# ----------------------------------------------------------------- runner

# Classes whose tests share a class fixture run as one unit; the tests of the
# others are independent (each uses its own account or its own server) and
# run as units of their own. Units run WORKERS at a time: the suite spends
# most of its time starting aws CLI processes, which overlap well (and on a
# machine shared with other work, more of them get more of its CPU).
SHARED_FIXTURE = (T02Pagination, T04Quota, T12EventPages)
# The longest units first, so that none is left to run alone at the end;
# but the kill -9 load (four boto3 threads in this process, which slow all
# the others down) after the transition tests, whose timing it would blur.
PARALLEL = (T09Transition, T05Restart, T13AccountConfig, T10Tags, T11Events, T08Ingress,
            T12EventPages, T01CreateDescribe, T02Pagination, T03Errors, T06KillNine, T04Quota,
            T07DataDirLock)
LAST = T99Shutdown  # stops the shared server, after everything else
WORKERS = 6


def main():
    global MAIN
    tally = harness.Tally(SUITE)
    loader = unittest.TestLoader()
    units = []
    for cls in PARALLEL:
        tests = unittest.TestSuite(t for t in loader.loadTestsFromTestCase(cls) if SUITE.selected(t))
        if cls in SHARED_FIXTURE:
            units.append(tests)
        else:
            units.extend(unittest.TestSuite([t]) for t in tests)
    last = loader.loadTestsFromTestCase(LAST)
    total = sum(u.countTestCases() for u in units) + last.countTestCases()
    try:
        MAIN = Server("main").start()
    except AssertionError as e:
        return tally.not_started("the main server", e, total)
    try:
        tally.run(units, WORKERS)
        tally.collect(*harness.run_unit(last))
    finally:
        SUITE.kill_all()
    return tally.finish(total, NOTES)


if __name__ == "__main__":
    sys.exit(main())
