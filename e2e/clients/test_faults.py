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

import json
import os
import sys
import time
import unittest
import urllib.error
import urllib.request

# harness.py lives next to this script: importable whatever the cwd (Python
# puts a script's directory on sys.path, but not under -P / PYTHONSAFEPATH).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  first: it checks boto3 (see harness.py)
from harness import NO_PROXY_OPENER, botocore  # noqa: E402

SUITE = harness.Suite("the fault injection suite", "elasticache-e2e-faults-")

SECRET = "e2e-secret-key"
ADMIN_TOKEN = "e2e-faults-admin-token"
JOURNAL_DEADLINE = 10.0  # seconds for a request's journal entry to appear


def client_env(key, region="us-east-1", extra=None):
    return SUITE.client_env(key, SECRET, region, extra=extra)


# boto3 runs in this process: make its environment hermetic too, with
# botocore's default retries (the legacy mode scenario relies on them). The
# key here is never used: every client is given its credentials explicitly.
harness.make_process_hermetic(client_env("AKIDNOTUSED"))

MAIN = None  # the server every scenario uses

# ------------------------------------------------------------------ admin


def admin(method, path, body=None, token=ADMIN_TOKEN):
    """One admin API request: (HTTP status, decoded JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(MAIN.url + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with NO_PROXY_OPENER.open(req, timeout=10) as r:
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
    return harness.b3_client(MAIN.url, account, SECRET, "us-east-1", harness.client_config(retries))


STANDARD = {"mode": "standard"}


def cli(account, op, *args, retry_mode="standard"):
    env = client_env(account, extra={"AWS_RETRY_MODE": retry_mode, "AWS_MAX_ATTEMPTS": "3"})
    return SUITE.cli(MAIN.url, env, op, *args)


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
        self.assertEqual(p.rc, 0, p.err)
        self.assertEqual([g["CacheSecurityGroupName"] for g in json.loads(p.out)["CacheSecurityGroups"]], ["default"])
        self.assertJournal(acct, ["ServiceUnavailable", "ServiceUnavailable", ""])

    def test_cli_gives_up_after_its_attempts(self):
        acct = new_account()
        add_rule({"action": "DescribeEvents", "account": acct, "error": "Throttling", "count": 3})
        p = cli(acct, "describe-events")
        self.assertEqual(p.rc, 255, p)
        self.assertIn("(Throttling)", p.err)
        self.assertIn("reached max retries: 2", p.err)
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
        # Refused (no CacheNodeType), but journaled with its secret redacted.
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValue")
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

# The scenarios are independent (an account each) and mostly wait for
# backoff, so a few run at once.
WORKERS = 3


def main():
    global MAIN
    tally = harness.Tally(SUITE)
    tests = [t for t in unittest.TestLoader().loadTestsFromTestCase(Faults) if SUITE.selected(t)]
    try:
        MAIN = SUITE.server("faults", extra=["--admin", "--admin-token", ADMIN_TOKEN]).start()
    except AssertionError as e:
        return tally.not_started("the server", e, len(tests))
    try:
        tally.run(tests, WORKERS)
        tally.check_clean_stop(MAIN, "the server")
    finally:
        SUITE.kill_all()
    return tally.finish(len(tests))


if __name__ == "__main__":
    sys.exit(main())
