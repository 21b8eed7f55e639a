#!/usr/bin/env python3
"""End-to-end suite: boto3's and the AWS CLI's retryers against injected faults.

One elasticache-server started with --admin --admin-token; each scenario adds
fault rules through POST /_admin/faults, calls the API through a fresh client
(so that no retry budget carries over between scenarios) and reads
GET /_admin/requests to check that the journal saw what the client sent:

- boto3 with retries={'mode': 'standard'}: the next 2 requests answer
  Throttling (400), ServiceUnavailable (503) or InternalFailure (500); the
  call succeeds with ResponseMetadata.RetryAttempts == 2 and the journal shows
  three requests with codes X, X, "" and the RequestId boto3 reports last;
- the next 5 Throttling outlast standard mode's 3 attempts: ClientError
  Throttling with RetryAttempts 2, three journal entries, two left on the rule;
- boto3's default (legacy) retry mode retries Throttling too;
- the AWS CLI with AWS_RETRY_MODE=standard retries and exits 0;
- a delay rule: the call takes at least the delay, the journal's duration too;
- the journal redacts AuthToken and Passwords, and the admin API answers 401
  without the token.

Usage:  python3 test_faults.py SERVER_BIN [PATTERN...]   (or SERVER_BIN=... in the env)

Every client is hermetic (static credentials, empty config and credential
files, no instance metadata). Never skips: a missing boto3 or aws CLI is a
loud failure. The last line printed is "N passed, M failed"; the exit code is
non-zero on any failure.
"""

import concurrent.futures
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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
    fatal("the aws CLI is not on PATH; the fault injection suite needs it.")

SERVER_BIN = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SERVER_BIN", ""))
if not SERVER_BIN or not os.access(SERVER_BIN, os.X_OK):
    fatal(f"server binary not given or not executable: {SERVER_BIN!r} "
          "(pass it as the first argument or in SERVER_BIN)")
SERVER_BIN = os.path.abspath(SERVER_BIN)
SELECT = sys.argv[2:]

SECRET = "e2e-secret-key"
ADMIN_TOKEN = "e2e-faults-admin-token"
START_DEADLINE = 15.0   # seconds for the server to log its address and answer /health
STOP_DEADLINE = 20.0    # seconds for SIGTERM to drain and exit
JOURNAL_DEADLINE = 10.0  # seconds for a request's journal entry to appear
CLI_TIMEOUT = 60.0

TMP = tempfile.mkdtemp(prefix="elasticache-e2e-faults-")
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


def client_env(key, region="us-east-1"):
    env = _clean_base_env()
    env.update({
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": EMPTY_CONFIG,
        "AWS_SHARED_CREDENTIALS_FILE": EMPTY_CREDENTIALS,
        "AWS_PAGER": "",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    return env


# boto3 runs in this process: make its environment hermetic too. The key
# here is never used: every client is given its credentials explicitly.
os.environ.clear()
os.environ.update(client_env("AKIDNOTUSED"))

_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_ALL_PROCS = []


class Server:
    """One elasticache-server process on 127.0.0.1:0 with a JSON log."""

    def __init__(self, name, extra=()):
        self.name = name
        self.data_dir = tempfile.mkdtemp(prefix=name + "-", dir=TMP)
        self.extra = list(extra)
        self.log_path = os.path.join(TMP, f"{name}.log")
        self.proc = self.url = None

    def start(self):
        argv = [SERVER_BIN, "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
                "--log-format", "json", *self.extra]
        with open(self.log_path, "wb") as logf:
            self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=_clean_base_env())
        _ALL_PROCS.append(self.proc)
        deadline = time.monotonic() + START_DEADLINE
        addr = None
        while addr is None:
            addr = next((r["addr"] for r in self.log_records() if r.get("addr")), None)
            if addr is None:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode} "
                                         f"before listening:\n{self.log_text()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} logged no addr within {START_DEADLINE}s:\n{self.log_text()}")
                time.sleep(0.01)
        self.url = "http://" + addr
        while True:
            try:
                with _NO_PROXY_OPENER.open(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        json.load(r)
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited before /health answered:\n{self.log_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} /health not 200 within {START_DEADLINE}s")
            time.sleep(0.01)

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
        """SIGTERM; returns the exit code. Raises if it hangs."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not exit within {STOP_DEADLINE}s of SIGTERM")


MAIN = None  # the server every scenario uses

# ------------------------------------------------------------------ admin


def admin(method, path, body=None, token=ADMIN_TOKEN):
    """One admin API request: (HTTP status, decoded JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(MAIN.url + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with _NO_PROXY_OPENER.open(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def add_rule(rule):
    status, out = admin("POST", "/_admin/faults", rule)
    if status != 201:
        raise AssertionError(f"POST /_admin/faults {rule}: HTTP {status} {out}")
    return out["rules"][0]


def rule_status(rule_id):
    status, out = admin("GET", "/_admin/faults")
    if status != 200:
        raise AssertionError(f"GET /_admin/faults: HTTP {status} {out}")
    return next(r for r in out["rules"] if r["id"] == rule_id)


def journal(account, n):
    """The journal entries of account, oldest first, once there are at least
    n: an entry is recorded just after its answer is written, so the client
    can ask before its last request is there."""
    deadline = time.monotonic() + JOURNAL_DEADLINE
    while True:
        status, out = admin("GET", "/_admin/requests?account=" + account)
        if status != 200:
            raise AssertionError(f"GET /_admin/requests: HTTP {status} {out}")
        if len(out["requests"]) >= n or time.monotonic() > deadline:
            return out["requests"]
        time.sleep(0.005)


# ---------------------------------------------------------------- clients


def b3(account, retries):
    """A fresh boto3 client acting as account (a 12-digit access key is the
    account in the default auth mode), with the given retries config (None:
    botocore's default, legacy mode)."""
    cfg = Config(connect_timeout=5, read_timeout=30, **({"retries": retries} if retries else {}))
    return boto3.session.Session().client(
        "elasticache", endpoint_url=MAIN.url, region_name="us-east-1",
        aws_access_key_id=account, aws_secret_access_key=SECRET, config=cfg)


STANDARD = {"mode": "standard"}


def cli(account, op, *args, retry_mode="standard"):
    env = client_env(account)
    env.update({"AWS_RETRY_MODE": retry_mode, "AWS_MAX_ATTEMPTS": "3"})
    argv = [AWS, "elasticache", op, *args, "--endpoint-url", MAIN.url, "--output", "json"]
    try:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{' '.join(argv)} did not finish within {CLI_TIMEOUT}s (hang)")


# Each scenario acts as its own account, so that rules (restricted to the
# account) and journal queries (filtered by it) never see another's.
_next_account = iter(range(100000000001, 100000000100))


def new_account():
    return str(next(_next_account))


class Faults(unittest.TestCase):
    maxDiff = None

    def assertJournal(self, account, want_codes, action="DescribeCacheSecurityGroups"):
        got = journal(account, len(want_codes))
        self.assertEqual([(e["action"], e["code"]) for e in got], [(action, c) for c in want_codes], got)
        return got

    def test_boto3_standard_retries_each_fault(self):
        for code, status in (("Throttling", 400), ("ServiceUnavailable", 503), ("InternalFailure", 500)):
            with self.subTest(code=code):
                acct = new_account()
                rule = add_rule({"action": "DescribeCacheSecurityGroups", "account": acct,
                                 "error": code, "count": 2})
                resp = b3(acct, STANDARD).describe_cache_security_groups()
                md = resp["ResponseMetadata"]
                self.assertEqual(md["RetryAttempts"], 2, md)
                self.assertEqual(md["HTTPStatusCode"], 200)
                self.assertEqual([g["CacheSecurityGroupName"] for g in resp["CacheSecurityGroups"]], ["default"])
                got = self.assertJournal(acct, [code, code, ""])
                self.assertEqual([e["status"] for e in got], [status, status, 200])
                self.assertEqual(got[-1]["requestId"], md["RequestId"])
                st = rule_status(rule["id"])
                self.assertEqual((st["fired"], st["remaining"], st["active"]), (2, 0, False), st)

    def test_boto3_gives_up_after_its_attempts(self):
        acct = new_account()
        rule = add_rule({"action": "CreateCacheSecurityGroup", "account": acct, "error": "Throttling", "count": 5})
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            b3(acct, STANDARD).create_cache_security_group(CacheSecurityGroupName="web", Description="d")
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "Throttling")
        self.assertEqual(err["Error"]["Message"], "Rate exceeded")
        self.assertEqual(err["ResponseMetadata"]["RetryAttempts"], 2, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)
        got = self.assertJournal(acct, ["Throttling"] * 3, action="CreateCacheSecurityGroup")
        self.assertEqual(got[0]["parameters"], {"CacheSecurityGroupName": "web", "Description": "d"})
        self.assertEqual(got[-1]["requestId"], err["ResponseMetadata"]["RequestId"])
        st = rule_status(rule["id"])
        self.assertEqual((st["fired"], st["remaining"], st["active"]), (3, 2, True), st)
        # The faults answered before the service: nothing was created.
        groups = b3(acct, STANDARD).describe_cache_security_groups()["CacheSecurityGroups"]
        self.assertEqual([g["CacheSecurityGroupName"] for g in groups], ["default"])

    def test_boto3_legacy_mode_retries_throttling(self):
        acct = new_account()
        add_rule({"action": "DescribeCacheSecurityGroups", "account": acct, "error": "Throttling", "count": 2})
        resp = b3(acct, None).describe_cache_security_groups()
        self.assertEqual(resp["ResponseMetadata"]["RetryAttempts"], 2, resp["ResponseMetadata"])
        self.assertJournal(acct, ["Throttling", "Throttling", ""])

    def test_cli_standard_mode_retries(self):
        acct = new_account()
        add_rule({"action": "DescribeCacheSecurityGroups", "account": acct, "error": "ServiceUnavailable", "count": 2})
        p = cli(acct, "describe-cache-security-groups")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([g["CacheSecurityGroupName"] for g in json.loads(p.stdout)["CacheSecurityGroups"]], ["default"])
        self.assertJournal(acct, ["ServiceUnavailable", "ServiceUnavailable", ""])

    def test_cli_gives_up_after_its_attempts(self):
        acct = new_account()
        add_rule({"action": "DescribeEvents", "account": acct, "error": "Throttling", "count": 3})
        p = cli(acct, "describe-events")
        self.assertEqual(p.returncode, 255, p)
        self.assertIn("(Throttling)", p.stderr)
        self.assertIn("reached max retries: 2", p.stderr)
        self.assertJournal(acct, ["Throttling"] * 3, action="DescribeEvents")

    def test_boto3_delay(self):
        acct = new_account()
        add_rule({"action": "DescribeEvents", "account": acct, "delay": "400ms", "count": 1})
        t0 = time.monotonic()
        resp = b3(acct, STANDARD).describe_events()
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.4)
        self.assertEqual(resp["ResponseMetadata"]["RetryAttempts"], 0)
        got = self.assertJournal(acct, [""], action="DescribeEvents")
        self.assertGreaterEqual(got[0]["durationMs"], 400)

    def test_journal_redacts_secrets(self):
        acct = new_account()
        secret = "never-in-the-journal-0123456789"
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            b3(acct, {"mode": "standard", "total_max_attempts": 1}).create_replication_group(
                ReplicationGroupId="rg", ReplicationGroupDescription="d", AuthToken=secret)
        self.assertEqual(cm.exception.response["Error"]["Code"], "NotImplemented")
        got = journal(acct, 1)
        self.assertEqual(len(got), 1, got)
        params = got[0]["parameters"]
        self.assertEqual(params["AuthToken"], "(redacted)")
        self.assertEqual(params["ReplicationGroupId"], "rg")
        self.assertNotIn(secret, json.dumps(admin("GET", "/_admin/requests")[1]))

    def test_admin_needs_its_token(self):
        for token in (None, "wrong"):
            for method, path, body in (("GET", "/_admin/requests", None), ("GET", "/_admin/faults", None),
                                       ("POST", "/_admin/faults", {"error": "Throttling"}),
                                       ("DELETE", "/_admin/faults", None)):
                status, out = admin(method, path, body, token=token)
                self.assertEqual((status, out["error"]["code"]), (401, "Unauthorized"), (method, path, token))
        status, out = admin("POST", "/_admin/faults", {"error": "Throttling", "probability": 2})
        self.assertEqual((status, out["error"]["code"], out["error"]["field"]), (400, "InvalidRule", "probability"))


# ----------------------------------------------------------------- runner

class CountingResult(unittest.TextTestResult):
    """Counts tests, not subtests: a test passes only if it and all its
    subtests pass; a skip is a failure."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed_ids, self.failed_ids = set(), set()
        self._t0 = time.monotonic()

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def addSuccess(self, test):
        self.stream.write(f" ({time.monotonic() - self._t0:.2f}s)")
        self.passed_ids.add(test.id())
        super().addSuccess(test)

    def addFailure(self, test, err):
        self.failed_ids.add(test.id())
        super().addFailure(test, err)

    def addError(self, test, err):
        self.failed_ids.add(test.id())
        super().addError(test, err)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self.failed_ids.add(test.id())
        super().addSubTest(test, subtest, err)

    def addSkip(self, test, reason):
        self.failed_ids.add(test.id())
        super().addSkip(test, reason)

    def addExpectedFailure(self, test, err):
        self.failed_ids.add(test.id())
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        self.failed_ids.add(test.id())
        super().addUnexpectedSuccess(test)


# The scenarios are independent (an account each) and mostly wait for
# backoff, so a few run at once.
WORKERS = 3


def run_unit(test):
    stream = io.StringIO()
    result = CountingResult(unittest.runner._WritelnDecorator(stream), True, 2)
    test.run(result)
    result.printErrors()
    return result, stream.getvalue()


def main():
    global MAIN
    t0 = time.monotonic()
    print(f"server: {SERVER_BIN}\npython: {sys.executable}\nboto3 {boto3.__version__}, "
          f"botocore {botocore.__version__}, aws: {AWS}\ntmp: {TMP}", flush=True)
    tests = [t for t in unittest.TestLoader().loadTestsFromTestCase(Faults)
             if not SELECT or any(p in t.id() for p in SELECT)]
    passed_ids, failed_ids = set(), set()
    try:
        MAIN = Server("faults", ["--admin", "--admin-token", ADMIN_TOKEN]).start()
    except AssertionError as e:
        print(f"FATAL: the server did not start: {e}", file=sys.stderr)
        print(f"0 passed, {len(tests)} failed")
        return 1
    try:
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            for fut in concurrent.futures.as_completed([pool.submit(run_unit, t) for t in tests]):
                result, text = fut.result()
                sys.stderr.write(text)
                sys.stderr.flush()
                passed_ids.update(result.passed_ids)
                failed_ids.update(result.failed_ids)
        rc = MAIN.stop()
        if rc != 0:
            print(f"FAIL: the server exited {rc} after SIGTERM:\n{MAIN.log_text()}", file=sys.stderr)
            failed_ids.add("server exit code")
        errors = [r for r in MAIN.log_records() if r.get("level") == "ERROR"]
        if errors:
            print(f"FAIL: the server logged errors: {errors}", file=sys.stderr)
            failed_ids.add("server errors logged")
    finally:
        for p in _ALL_PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
    passed = len(passed_ids - failed_ids)
    failed = len(failed_ids)
    failed += max(0, len(tests) - passed - failed)
    print(f"elapsed {time.monotonic() - t0:.1f}s", flush=True)
    if failed == 0:
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print(f"logs and data kept in {TMP}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
