#!/usr/bin/env python3
"""End-to-end suite: boto3 and the AWS CLI against a real elasticache-server.

Covers CreateCacheSecurityGroup, DescribeCacheSecurityGroups and
DeleteCacheSecurityGroup (SPEC §1, §4, §5, §6; wire reference §2, §4, §5),
each scenario through both clients, plus the process contract: graceful
SIGTERM, restart on the same data directory, kill -9 durability and the
single-writer lock on the data directory.

Usage:  python3 test_boto3_cli.py SERVER_BIN     (or SERVER_BIN=... in the env)

Every client is hermetic: static credentials, empty config and credential
files, no profile, no instance metadata, no retries. The script starts its
own servers on 127.0.0.1:0 in temporary data directories and never skips a
test: a missing boto3 or aws CLI is a loud failure. The last line printed is
"N passed, M failed"; the exit code is non-zero on any failure.
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request


def fatal(msg):
    print("\n" + "!" * 78, file=sys.stderr)
    print("FATAL: " + msg, file=sys.stderr)
    print("!" * 78 + "\n", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(2)


try:
    import boto3
    import botocore
    import botocore.exceptions
    from botocore.config import Config
except ImportError as exc:  # never skip: the suite exists to run these clients
    fatal(f"cannot import boto3/botocore with {sys.executable}: {exc}. "
          "Run this script with the python3 on PATH that has boto3 installed.")

AWS = shutil.which("aws")
if AWS is None:
    fatal("the aws CLI is not on PATH; the boto3/AWS CLI suite needs it.")

SERVER_BIN = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SERVER_BIN", ""))
if not SERVER_BIN or not os.access(SERVER_BIN, os.X_OK):
    fatal(f"server binary not given or not executable: {SERVER_BIN!r} "
          "(pass it as the first argument or in SERVER_BIN)")
SERVER_BIN = os.path.abspath(SERVER_BIN)

SECRET = "e2e-secret-key"
DEFAULT_ACCOUNT = "000000000000"
START_DEADLINE = 15.0   # seconds for a server to log its address and answer /health
STOP_DEADLINE = 20.0    # seconds for SIGTERM to drain and exit
CLI_TIMEOUT = 60.0      # a CLI call that takes longer is a hang (generous: CI machines get loaded)

TMP = tempfile.mkdtemp(prefix="elasticache-e2e-clients-")
EMPTY_CONFIG = os.path.join(TMP, "aws-config")
EMPTY_CREDENTIALS = os.path.join(TMP, "aws-credentials")
for _p in (EMPTY_CONFIG, EMPTY_CREDENTIALS):
    open(_p, "w").close()

_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def _clean_base_env():
    """The caller's environment without anything that could reach AWS
    settings, the server's own settings or a proxy."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("AWS_") and not k.startswith("ELASTICACHE_")
            and not k.startswith("BOTO_") and k.lower() not in _PROXY_VARS}


def client_env(key, region):
    env = _clean_base_env()
    env.update({
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": EMPTY_CONFIG,
        "AWS_SHARED_CREDENTIALS_FILE": EMPTY_CREDENTIALS,
        "AWS_PAGER": "",
        # One attempt, so that a 5xx fails at once instead of after seconds
        # of backoff. Legacy mode (the CLI's default) keeps the error line
        # exactly as users see it; standard mode with one attempt would add
        # "(reached max retries: 0)" to it.
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "legacy",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    return env


# boto3 runs in this process: make its environment hermetic too.
os.environ.clear()
os.environ.update(client_env("AKIDNOTUSED", "us-east-1"))

_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Every process this script starts, so that none outlives it.
_ALL_PROCS = []


class Server:
    """One elasticache-server process on 127.0.0.1:0 with a JSON log."""

    def __init__(self, name, data_dir=None, extra=()):
        self.name = name
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=name + "-", dir=TMP)
        self.extra = list(extra)
        self.proc = None
        self.url = None
        self.addr = None
        self.log_path = None
        self.starts = 0

    def argv(self):
        return [SERVER_BIN, "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
                "--log-format", "json", *self.extra]

    def spawn(self):
        """Starts the process without waiting for it; returns the Popen."""
        self.starts += 1
        self.log_path = os.path.join(TMP, f"{self.name}-{self.starts}.log")
        logf = open(self.log_path, "wb")
        proc = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=_clean_base_env())
        logf.close()
        _ALL_PROCS.append(proc)
        return proc

    def start(self):
        self.proc = self.spawn()
        self.addr = self.url = None
        deadline = time.monotonic() + START_DEADLINE
        while self.addr is None:
            for rec in self.log_records():
                if rec.get("addr"):
                    self.addr = rec["addr"]
                    break
            else:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode} "
                                         f"before listening:\n{self.log_text()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} logged no addr within "
                                         f"{START_DEADLINE}s:\n{self.log_text()}")
                time.sleep(0.01)
        self.url = "http://" + self.addr
        while True:
            try:
                with _NO_PROXY_OPENER.open(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        json.load(r)
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode} "
                                     f"before /health answered:\n{self.log_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} /health not 200 within {START_DEADLINE}s")
            time.sleep(0.01)

    def health(self):
        with _NO_PROXY_OPENER.open(self.url + "/health", timeout=5) as r:
            return r.status, json.load(r)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_records(self):
        out = []
        for line in self.log_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def stop(self):
        """SIGTERM; returns (exit code, seconds taken). Raises if it hangs."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not exit within {STOP_DEADLINE}s of SIGTERM")
        return rc, time.monotonic() - t0

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def running(self):
        return self.proc is not None and self.proc.poll() is None


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
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                  connect_timeout=5, read_timeout=30)


def b3(server, key, region="us-east-1", fresh=False):
    """A boto3 client for server as access key `key` in `region`."""
    ck = (server.url, key, region)
    with _clients_lock:
        if not fresh and ck in _clients:
            return _clients[ck]
        c = boto3.session.Session().client(
            "elasticache", endpoint_url=server.url, region_name=region,
            aws_access_key_id=key, aws_secret_access_key=SECRET, config=NO_RETRY)
        if not fresh:
            _clients[ck] = c
        return c


class CLIResult:
    def __init__(self, argv, proc, took):
        self.argv, self.rc, self.out, self.err, self.took = argv, proc.returncode, proc.stdout, proc.stderr, took

    def json(self):
        return json.loads(self.out) if self.out.strip() else None

    def __repr__(self):
        return (f"aws {' '.join(self.argv)}\n  exit {self.rc} in {self.took:.2f}s\n"
                f"  stdout: {self.out!r}\n  stderr: {self.err!r}")


def cli(server, key, region, op, *args, timeout=CLI_TIMEOUT):
    argv = ["elasticache", op, *args, "--endpoint-url", server.url, "--output", "json"]
    t0 = time.monotonic()
    try:
        p = subprocess.run([AWS, *argv], env=client_env(key, region), capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"aws {' '.join(argv)} did not finish within {timeout}s (hang)")
    return CLIResult(argv, p, time.monotonic() - t0)


_acct = [100000000000]
_acct_lock = threading.Lock()


def new_account():
    """A fresh 12-digit access key, i.e. a fresh account (SPEC §1)."""
    with _acct_lock:
        _acct[0] += 1
        return str(_acct[0])


def arn(region, account, name):
    return f"arn:aws:elasticache:{region}:{account}:securitygroup:{name}"


def group(account, region, name, description):
    """The CacheSecurityGroup a client should parse for a group without EC2 entries."""
    return {"OwnerId": account, "CacheSecurityGroupName": name, "Description": description,
            "EC2SecurityGroups": [], "ARN": arn(region, account, name)}


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


class Case(unittest.TestCase):
    maxDiff = None

    def assertB3Error(self, fn, exc_name, code, message, status, **kwargs):
        """Calls fn(**kwargs) and checks the modeled exception, Code, Message
        (exact string, or a compiled regex) and HTTP status."""
        client = fn.__self__
        exc_cls = getattr(client.exceptions, exc_name) if exc_name else botocore.exceptions.ClientError
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kwargs)
        e = cm.exception
        detail = f"{fn.__name__}({kwargs!r}) -> {e.response!r}"
        self.assertIsInstance(e, exc_cls, detail)
        self.assertEqual(e.response["Error"].get("Code"), code, detail)
        if isinstance(message, re.Pattern):
            self.assertRegex(e.response["Error"].get("Message") or "", message, detail)
        else:
            self.assertEqual(e.response["Error"].get("Message"), message, detail)
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], status, detail)
        self.assertEqual(e.response["Error"].get("Type"), "Sender", detail)
        meta = e.response["ResponseMetadata"]
        self.assertTrue(meta.get("RequestId"), detail)
        self.assertEqual(meta["HTTPHeaders"].get("x-amzn-requestid"), meta["RequestId"], detail)
        return e

    def assertCLIError(self, res, op, code, message):
        self.assertEqual(res.rc, 255, repr(res))
        lines = [l for l in res.err.splitlines() if l.strip()]
        if isinstance(message, re.Pattern):
            pat = re.compile(re.escape(f"An error occurred ({code}) when calling the {op} operation: ")
                             + message.pattern + "$")
            self.assertTrue(any(pat.match(l) for l in lines), repr(res))
        else:
            self.assertIn(f"An error occurred ({code}) when calling the {op} operation: {message}",
                          lines, repr(res))
        self.assertEqual(res.out.strip(), "", repr(res))

    def assertCLIOK(self, res):
        self.assertEqual(res.rc, 0, repr(res))
        return res.json()

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


class T99Shutdown(Case):

    def test_main_server_clean_stop(self):
        took = assert_clean_stop(self, MAIN)
        self.assertLess(took, 10)


# ----------------------------------------------------------------- runner

class TimedResult(unittest.TextTestResult):
    """Prints each test's duration and counts tests, not subtests: a test
    passes only if it and all its subtests pass."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed_ids, self.failed_ids = set(), set()
        self._t0 = time.monotonic()

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def _took(self):
        self.stream.write(f" ({time.monotonic() - self._t0:.2f}s)")

    def addSuccess(self, test):
        self._took()
        self.passed_ids.add(test.id())
        super().addSuccess(test)

    def addFailure(self, test, err):
        self._took()
        self.failed_ids.add(test.id())
        super().addFailure(test, err)

    def addError(self, test, err):  # also class/module fixtures, as _ErrorHolder
        self.failed_ids.add(test.id())
        super().addError(test, err)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self.failed_ids.add(test.id())
        super().addSubTest(test, subtest, err)

    def addSkip(self, test, reason):  # never skip: a skip is a failure
        self.failed_ids.add(test.id())
        super().addSkip(test, reason)

    def addExpectedFailure(self, test, err):
        self.failed_ids.add(test.id())
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        self.failed_ids.add(test.id())
        super().addUnexpectedSuccess(test)


# Classes whose tests share a class fixture run as one unit; the tests of the
# others are independent (each uses its own account or its own server) and
# run as units of their own. Units run WORKERS at a time: the suite spends
# most of its time starting aws CLI processes, which overlap well.
SHARED_FIXTURE = (T02Pagination, T04Quota)
PARALLEL = (T01CreateDescribe, T02Pagination, T03Errors, T04Quota, T05Restart,
            T06KillNine, T07DataDirLock)
LAST = T99Shutdown  # stops the shared server, after everything else
WORKERS = 4


def run_unit(suite):
    """Runs one suite with its own result; returns (result, its output)."""
    import io
    stream = io.StringIO()
    result = TimedResult(unittest.runner._WritelnDecorator(stream), True, 2)
    suite.run(result)  # a fresh result: run() also runs the class fixtures' teardown
    result.printErrors()
    return result, stream.getvalue()


def main():
    global MAIN
    import concurrent.futures
    t0 = time.monotonic()
    print(f"server: {SERVER_BIN}\npython: {sys.executable}\nboto3 {boto3.__version__}, "
          f"botocore {botocore.__version__}, aws: {AWS}\ntmp: {TMP}", flush=True)
    loader = unittest.TestLoader()
    units = []
    for cls in PARALLEL:
        tests = loader.loadTestsFromTestCase(cls)
        if cls in SHARED_FIXTURE:
            units.append(tests)
        else:
            units.extend(unittest.TestSuite([t]) for t in tests)
    last = loader.loadTestsFromTestCase(LAST)
    total = sum(u.countTestCases() for u in units) + last.countTestCases()
    try:
        MAIN = Server("main").start()
    except AssertionError as e:
        print(f"FATAL: the main server did not start: {e}", file=sys.stderr)
        print(f"0 passed, {total} failed")
        return 1
    passed_ids, failed_ids = set(), set()

    def collect(result, text):
        sys.stderr.write(text)
        sys.stderr.flush()
        passed_ids.update(result.passed_ids)
        failed_ids.update(result.failed_ids)

    try:
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            for fut in concurrent.futures.as_completed([pool.submit(run_unit, u) for u in units]):
                collect(*fut.result())
        collect(*run_unit(last))
    finally:
        for p in _ALL_PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
    passed = len(passed_ids - failed_ids)
    failed = len(failed_ids)
    failed += max(0, total - passed - failed)  # tests that never ran (a failed setUpClass)
    for note in NOTES:
        print(note, flush=True)
    print(f"elapsed {time.monotonic() - t0:.1f}s", flush=True)
    if failed == 0:
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print(f"logs and data kept in {TMP}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
