#!/usr/bin/env python3
"""End-to-end suite: boto3 and the AWS CLI against elasticache-server --auth sigv4.

The server verifies AWS Signature Version 4 against the credentials of its
--config file (two accounts, one key each) and serves only --regions
us-east-1,eu-west-1 (SPEC §1, §3). Scenarios:

- the right keys succeed on all nine operations of the cache security group
  family, through boto3 and through the AWS CLI, and act as the key's account
  (OwnerId, ARN);
- a wrong secret answers SignatureDoesNotMatch, an unknown key or a session
  token InvalidClientTokenId, a region outside --regions SignatureDoesNotMatch
  (boto3: code, message, HTTP 403 on all nine operations each way, also when
  the parameters are invalid too; CLI: a wrong secret and an unknown key, its
  stderr line and exit code 255, on two operations each);
- a URL presigned by botocore (generate_presigned_url, ExpiresIn=2, GET)
  works with urllib until it expires, then answers 400 RequestExpired; one
  presigned with the other account's key sees only that account; values with
  every character class verify; a tampered one, a wrong secret, an unknown
  key and a region not served are refused.

Usage:  python3 test_sigv4.py SERVER_BIN [PATTERN...]   (or SERVER_BIN=... in the env)

Every client is hermetic (static credentials given explicitly, empty config
and credential files, no instance metadata, no retries). The script starts
its own server on 127.0.0.1:0 in a temporary data directory and never skips:
a missing boto3 or aws CLI is a loud failure. The last line printed is
"N passed, M failed"; the exit code is non-zero on any failure.
"""

import concurrent.futures
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
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET


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
    fatal("the aws CLI is not on PATH; the sigv4 boto3/AWS CLI suite needs it.")

SERVER_BIN = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SERVER_BIN", ""))
if not SERVER_BIN or not os.access(SERVER_BIN, os.X_OK):
    fatal(f"server binary not given or not executable: {SERVER_BIN!r} "
          "(pass it as the first argument or in SERVER_BIN)")
SERVER_BIN = os.path.abspath(SERVER_BIN)
SELECT = sys.argv[2:]

START_DEADLINE = 15.0    # seconds for the server to log its address and answer /health
STOP_DEADLINE = 20.0     # seconds for SIGTERM to drain and exit
CLI_TIMEOUT = 60.0       # a CLI call that takes longer is a hang
EXPIRY_DEADLINE = 15.0   # seconds a 2-second presigned URL may take to be refused
POLL_INTERVAL = 0.1

ACCOUNT1, KEY1, SECRET1 = "111111111111", "AKIAEXAMPLE1111111", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ACCOUNT2, KEY2, SECRET2 = "222222222222", "AKIAEXAMPLE2222222", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
UNKNOWN_KEY = "AKIAUNKNOWN0000000"
REGIONS = "us-east-1,eu-west-1"
CONFIG_YAML = f"""# e2e (boto3/CLI): two accounts with credentials, for --auth sigv4
accounts:
  - id: "{ACCOUNT1}"
    credentials:
      - {{accessKeyId: {KEY1}, secretAccessKey: "{SECRET1}"}}
  - id: "{ACCOUNT2}"
    credentials:
      - {{accessKeyId: {KEY2}, secretAccessKey: "{SECRET2}"}}
"""

MISMATCH_MSG = ("The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
UNKNOWN_KEY_MSG = "The security token included in the request is invalid."
OWNER = "123456789012"
NS = "{http://elasticache.amazonaws.com/doc/2015-02-02/}"


def region_msg(region):
    return f"Credential should be scoped to a valid region, not '{region}'."


TMP = tempfile.mkdtemp(prefix="elasticache-e2e-sigv4-")
EMPTY_CONFIG = os.path.join(TMP, "aws-config")
EMPTY_CREDENTIALS = os.path.join(TMP, "aws-credentials")
for _p in (EMPTY_CONFIG, EMPTY_CREDENTIALS):
    open(_p, "w").close()
CONFIG_FILE = os.path.join(TMP, "elasticache.yaml")
with open(CONFIG_FILE, "w") as _f:
    _f.write(CONFIG_YAML)

_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def _clean_base_env():
    """The caller's environment without anything that could reach AWS
    settings, the server's own settings or a proxy."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("AWS_") and not k.startswith("ELASTICACHE_")
            and not k.startswith("BOTO_") and k.lower() not in _PROXY_VARS}


def client_env(key, secret, region, token=None):
    env = _clean_base_env()
    env.update({
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": EMPTY_CONFIG,
        "AWS_SHARED_CREDENTIALS_FILE": EMPTY_CREDENTIALS,
        "AWS_PAGER": "",
        # One attempt, and the error line exactly as users see it (see
        # test_boto3_cli.py).
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "legacy",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    if token:
        env["AWS_SESSION_TOKEN"] = token
    return env


# boto3 runs in this process: make its environment hermetic too. The key
# here is never used: every client is given its credentials explicitly.
os.environ.clear()
os.environ.update(client_env("AKIDNOTUSED", "not-used", "us-east-1"))

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


MAIN = None  # the sigv4 server every scenario uses
NOTES = []   # facts worth printing that are not pass/fail

# ---------------------------------------------------------------- clients

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                  connect_timeout=5, read_timeout=30)


def b3(key, secret, region="us-east-1", token=None):
    """A boto3 client for MAIN signing as key/secret in region."""
    return boto3.session.Session().client(
        "elasticache", endpoint_url=MAIN.url, region_name=region,
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        config=NO_RETRY)


class CLIResult:
    def __init__(self, argv, proc, took):
        self.argv, self.rc, self.out, self.err, self.took = argv, proc.returncode, proc.stdout, proc.stderr, took

    def json(self):
        return json.loads(self.out) if self.out.strip() else None

    def __repr__(self):
        return (f"aws {' '.join(self.argv)}\n  exit {self.rc} in {self.took:.2f}s\n"
                f"  stdout: {self.out!r}\n  stderr: {self.err!r}")


def cli(key, secret, region, op, *args, token=None):
    argv = ["elasticache", op, *args, "--endpoint-url", MAIN.url, "--output", "json"]
    t0 = time.monotonic()
    try:
        p = subprocess.run([AWS, *argv], env=client_env(key, secret, region, token), capture_output=True,
                           text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"aws {' '.join(argv)} did not finish within {CLI_TIMEOUT}s (hang)")
    return CLIResult(argv, p, time.monotonic() - t0)


def cli_many(calls):
    """Runs (key, secret, region, op, args, token) CLI calls a few at a time;
    returns their results in order."""
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futs = [pool.submit(cli, k, s, r, op, *args, token=tok) for k, s, r, op, args, tok in calls]
        return [f.result() for f in futs]


def arn(region, account, name):
    return f"arn:aws:elasticache:{region}:{account}:securitygroup:{name}"


def group(account, region, name, description, ec2s=()):
    return {"OwnerId": account, "CacheSecurityGroupName": name, "Description": description,
            "EC2SecurityGroups": list(ec2s), "ARN": arn(region, account, name)}


def ec2(name, owner, status):
    return {"Status": status, "EC2SecurityGroupName": name, "EC2SecurityGroupOwnerId": owner}


# The nine operations, each on group `name` of account/region: as boto3
# (method, kwargs) and as the CLI (command, args, API operation name).
def b3_ops(account, region, name):
    a = arn(region, account, name)
    ingress = dict(CacheSecurityGroupName=name, EC2SecurityGroupName="web", EC2SecurityGroupOwnerId=OWNER)
    return [
        ("create_cache_security_group", dict(CacheSecurityGroupName=name, Description="signed")),
        ("describe_cache_security_groups", dict(CacheSecurityGroupName=name)),
        ("authorize_cache_security_group_ingress", ingress),
        ("revoke_cache_security_group_ingress", ingress),
        ("add_tags_to_resource", dict(ResourceName=a, Tags=[{"Key": "k", "Value": "v"}])),
        ("list_tags_for_resource", dict(ResourceName=a)),
        ("remove_tags_from_resource", dict(ResourceName=a, TagKeys=["k"])),
        ("describe_events", dict(SourceType="cache-security-group", SourceIdentifier=name)),
        ("delete_cache_security_group", dict(CacheSecurityGroupName=name)),
    ]


def cli_ops(account, region, name):
    a = arn(region, account, name)
    gn = ["--cache-security-group-name", name]
    ingress = gn + ["--ec2-security-group-name", "web", "--ec2-security-group-owner-id", OWNER]
    return [
        ("create-cache-security-group", gn + ["--description", "signed"], "CreateCacheSecurityGroup"),
        ("describe-cache-security-groups", gn, "DescribeCacheSecurityGroups"),
        ("authorize-cache-security-group-ingress", ingress, "AuthorizeCacheSecurityGroupIngress"),
        ("revoke-cache-security-group-ingress", ingress, "RevokeCacheSecurityGroupIngress"),
        ("add-tags-to-resource", ["--resource-name", a, "--tags", "Key=k,Value=v"], "AddTagsToResource"),
        ("list-tags-for-resource", ["--resource-name", a], "ListTagsForResource"),
        ("remove-tags-from-resource", ["--resource-name", a, "--tag-keys", "k"], "RemoveTagsFromResource"),
        ("describe-events", ["--source-type", "cache-security-group", "--source-identifier", name], "DescribeEvents"),
        ("delete-cache-security-group", gn, "DeleteCacheSecurityGroup"),
    ]


def fetch(url):
    """GETs url without a proxy: (status, body text)."""
    try:
        with _NO_PROXY_OPENER.open(url, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def xml_error(body):
    root = ET.fromstring(body)
    return root.findtext(f"{NS}Error/{NS}Code"), root.findtext(f"{NS}Error/{NS}Message")


def xml_groups(body):
    """(name, OwnerId, ARN) of each group of a DescribeCacheSecurityGroups answer."""
    root = ET.fromstring(body)
    if root.tag != f"{NS}DescribeCacheSecurityGroupsResponse":
        raise AssertionError(f"not a DescribeCacheSecurityGroupsResponse: {body}")
    return [(g.findtext(f"{NS}CacheSecurityGroupName"), g.findtext(f"{NS}OwnerId"), g.findtext(f"{NS}ARN"))
            for g in root.iter(f"{NS}CacheSecurityGroup")]


def amz_date(url):
    """The X-Amz-Date of a presigned URL, as seconds since the epoch."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return time.mktime(time.strptime(q["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")) - time.timezone


class Case(unittest.TestCase):
    maxDiff = None

    def assertB3Error(self, fn, code, message, status, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kwargs)
        e = cm.exception
        detail = f"{fn.__name__}({kwargs!r}) -> {e.response!r}"
        self.assertEqual(e.response["Error"].get("Code"), code, detail)
        self.assertEqual(e.response["Error"].get("Message"), message, detail)
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], status, detail)
        self.assertEqual(e.response["Error"].get("Type"), "Sender", detail)
        meta = e.response["ResponseMetadata"]
        self.assertTrue(meta.get("RequestId"), detail)
        self.assertEqual(meta["HTTPHeaders"].get("x-amzn-requestid"), meta["RequestId"], detail)

    def assertCLIError(self, res, op, code, message):
        self.assertEqual(res.rc, 255, repr(res))
        lines = [l for l in res.err.splitlines() if l.strip()]
        self.assertIn(f"An error occurred ({code}) when calling the {op} operation: {message}", lines, repr(res))
        self.assertEqual(res.out.strip(), "", repr(res))

    def assertCLIOK(self, res):
        self.assertEqual(res.rc, 0, repr(res))
        return res.json()

    def assertB3Refused(self, c, account, region, name, code, message, status=403):
        """Every operation through c is refused with code/message/status."""
        for method, kwargs in b3_ops(account, region, name):
            with self.subTest(op=method):
                self.assertB3Error(getattr(c, method), code, message, status, **kwargs)

    def assertCLIRefused(self, calls):
        """Each (key, secret, region, (command, args, API operation), code,
        message[, session token]) is refused with code/message; the calls
        run a few at a time."""
        results = cli_many([(c[0], c[1], c[2], c[3][0], c[3][1], c[6] if len(c) > 6 else None) for c in calls])
        for (_, _, _, op, code, message, *_), res in zip(calls, results):
            with self.subTest(op=op[0], code=code):
                self.assertCLIError(res, op[2], code, message)


# ------------------------------------------------------------ right keys

class T01RightKeys(Case):

    def test_every_operation_boto3(self):
        region, name = "us-east-1", "signed-b3"
        c = b3(KEY1, SECRET1, region)
        t0 = time.time() - 1
        out = c.create_cache_security_group(CacheSecurityGroupName=name, Description="by boto3",
                                            Tags=[{"Key": "by", "Value": "boto3"}])
        self.assertEqual(out["CacheSecurityGroup"], group(ACCOUNT1, region, name, "by boto3"))
        got = c.describe_cache_security_groups(CacheSecurityGroupName=name)["CacheSecurityGroups"]
        self.assertEqual(got, [group(ACCOUNT1, region, name, "by boto3")])
        out = c.authorize_cache_security_group_ingress(CacheSecurityGroupName=name, EC2SecurityGroupName="web",
                                                       EC2SecurityGroupOwnerId=OWNER)
        self.assertEqual(out["CacheSecurityGroup"], group(ACCOUNT1, region, name, "by boto3", [ec2("web", OWNER, "authorizing")]))
        out = c.revoke_cache_security_group_ingress(CacheSecurityGroupName=name, EC2SecurityGroupName="web",
                                                    EC2SecurityGroupOwnerId=OWNER)
        self.assertEqual(out["CacheSecurityGroup"], group(ACCOUNT1, region, name, "by boto3", [ec2("web", OWNER, "revoking")]))
        a = arn(region, ACCOUNT1, name)
        out = c.add_tags_to_resource(ResourceName=a, Tags=[{"Key": "env", "Value": "prod"}])
        self.assertEqual(out["TagList"], [{"Key": "by", "Value": "boto3"}, {"Key": "env", "Value": "prod"}])
        self.assertEqual(c.list_tags_for_resource(ResourceName=a)["TagList"],
                         [{"Key": "by", "Value": "boto3"}, {"Key": "env", "Value": "prod"}])
        self.assertEqual(c.remove_tags_from_resource(ResourceName=a, TagKeys=["by"])["TagList"],
                         [{"Key": "env", "Value": "prod"}])
        c.delete_cache_security_group(CacheSecurityGroupName=name)
        events = c.describe_events(SourceType="cache-security-group", SourceIdentifier=name)["Events"]
        self.assertEqual([e["Message"] for e in events],
                         ["Cache security group deleted", f"Revoked EC2 security group web (owner {OWNER})",
                          f"Authorized EC2 security group web (owner {OWNER})", "Cache security group created"], events)
        for e in events:
            self.assertEqual((e["SourceType"], e["SourceIdentifier"]), ("cache-security-group", name))
            self.assertTrue(t0 <= e["Date"].timestamp() <= time.time() + 1, e)
        # The same name is free in account 2: the key named the account.
        c2 = b3(KEY2, SECRET2, region)
        self.assertEqual([g["CacheSecurityGroupName"] for g in c2.describe_cache_security_groups()["CacheSecurityGroups"]],
                         ["default"])

    def test_every_operation_cli(self):
        region, name = "eu-west-1", "signed-cli"
        k = (KEY2, SECRET2, region)
        a = arn(region, ACCOUNT2, name)
        out = self.assertCLIOK(cli(*k, "create-cache-security-group", "--cache-security-group-name", name,
                                   "--description", "by the CLI", "--tags", "Key=by,Value=cli"))
        self.assertEqual(out, {"CacheSecurityGroup": group(ACCOUNT2, region, name, "by the CLI")})
        ingress = ["--cache-security-group-name", name, "--ec2-security-group-name", "web",
                   "--ec2-security-group-owner-id", OWNER]
        # Two independent chains at once (each CLI run costs a Python
        # start-up, and on a loaded machine ten in a row take long); the
        # describe comes before the authorize, which it would otherwise see.
        chains = {
            "ingress": [("describe-cache-security-groups", ["--cache-security-group-name", name]),
                        ("authorize-cache-security-group-ingress", ingress),
                        ("revoke-cache-security-group-ingress", ingress)],
            "tags": [("add-tags-to-resource", ["--resource-name", a, "--tags", "Key=env,Value=prod"]),
                     ("list-tags-for-resource", ["--resource-name", a]),
                     ("remove-tags-from-resource", ["--resource-name", a, "--tag-keys", "by"])],
        }
        with concurrent.futures.ThreadPoolExecutor(len(chains)) as pool:
            futs = {c: pool.submit(lambda steps: [cli(*k, op, *args) for op, args in steps], steps)
                    for c, steps in chains.items()}
            res = {c: f.result() for c, f in futs.items()}
        out = self.assertCLIOK(res["ingress"][0])
        self.assertEqual(out, {"CacheSecurityGroups": [group(ACCOUNT2, region, name, "by the CLI")]})
        out = self.assertCLIOK(res["ingress"][1])
        self.assertEqual(out["CacheSecurityGroup"], group(ACCOUNT2, region, name, "by the CLI", [ec2("web", OWNER, "authorizing")]))
        out = self.assertCLIOK(res["ingress"][2])
        self.assertEqual(out["CacheSecurityGroup"], group(ACCOUNT2, region, name, "by the CLI", [ec2("web", OWNER, "revoking")]))
        out = self.assertCLIOK(res["tags"][0])
        self.assertEqual(out, {"TagList": [{"Key": "by", "Value": "cli"}, {"Key": "env", "Value": "prod"}]})
        out = self.assertCLIOK(res["tags"][1])
        self.assertEqual(out, {"TagList": [{"Key": "by", "Value": "cli"}, {"Key": "env", "Value": "prod"}]})
        out = self.assertCLIOK(res["tags"][2])
        self.assertEqual(out, {"TagList": [{"Key": "env", "Value": "prod"}]})
        self.assertCLIOK(cli(*k, "delete-cache-security-group", "--cache-security-group-name", name))
        out = self.assertCLIOK(cli(*k, "describe-events", "--source-type", "cache-security-group",
                                   "--source-identifier", name))
        self.assertEqual([e["Message"] for e in out["Events"]],
                         ["Cache security group deleted", f"Revoked EC2 security group web (owner {OWNER})",
                          f"Authorized EC2 security group web (owner {OWNER})", "Cache security group created"], out)
        for e in out["Events"]:
            self.assertEqual((e["SourceType"], e["SourceIdentifier"]), ("cache-security-group", name), out)


# ------------------------------------------------------------ wrong keys

class T02Refused(Case):

    def test_wrong_secret_boto3(self):
        b3(KEY1, SECRET1).create_cache_security_group(CacheSecurityGroupName="target-b3", Description="exists")
        for secret in (SECRET2, SECRET1 + "x"):
            self.assertB3Refused(b3(KEY1, secret), ACCOUNT1, "us-east-1", "target-b3", "SignatureDoesNotMatch", MISMATCH_MSG)
        # Nothing was changed by the refused requests.
        got = b3(KEY1, SECRET1).describe_cache_security_groups(CacheSecurityGroupName="target-b3")
        self.assertEqual(got["CacheSecurityGroups"], [group(ACCOUNT1, "us-east-1", "target-b3", "exists")])

    def test_refused_cli(self):
        # Each refusal through the CLI on two operations (the boto3 tests
        # refuse all nine every way, also for a session token and a region
        # not served; the CLI signs with the same botocore): the error line
        # on stderr, exit code 255, nothing on stdout. Each CLI run costs a
        # Python start-up, so they run a few at a time.
        ops = {op[2]: op for op in cli_ops(ACCOUNT2, "eu-west-1", "target-cli")}
        self.assertCLIRefused([
            (KEY2, SECRET1, "eu-west-1", ops["CreateCacheSecurityGroup"], "SignatureDoesNotMatch", MISMATCH_MSG),
            (KEY2, SECRET1, "eu-west-1", ops["DescribeEvents"], "SignatureDoesNotMatch", MISMATCH_MSG),
            (UNKNOWN_KEY, SECRET2, "eu-west-1", ops["AddTagsToResource"], "InvalidClientTokenId", UNKNOWN_KEY_MSG),
            (UNKNOWN_KEY, SECRET2, "eu-west-1", ops["DeleteCacheSecurityGroup"], "InvalidClientTokenId", UNKNOWN_KEY_MSG),
        ])

    def test_unknown_key_boto3(self):
        for key in (UNKNOWN_KEY, ACCOUNT1):  # a 12-digit key is an account only without --auth sigv4
            self.assertB3Refused(b3(key, SECRET1), ACCOUNT1, "us-east-1", "target-b3", "InvalidClientTokenId", UNKNOWN_KEY_MSG)

    def test_session_token_boto3(self):
        c = b3(KEY1, SECRET1, token="FwoGZXIvYXdzEXAMPLE")
        self.assertB3Refused(c, ACCOUNT1, "us-east-1", "target-b3", "InvalidClientTokenId", UNKNOWN_KEY_MSG)

    def test_region_not_served_boto3(self):
        self.assertB3Refused(b3(KEY1, SECRET1, "ap-south-1"), ACCOUNT1, "ap-south-1", "target-b3",
                             "SignatureDoesNotMatch", region_msg("ap-south-1"))

    def test_refused_before_parameters_boto3(self):
        # Authentication answers first, whatever is wrong with the parameters.
        for c, code, msg in ((b3(KEY1, SECRET2), "SignatureDoesNotMatch", MISMATCH_MSG),
                             (b3(UNKNOWN_KEY, SECRET1), "InvalidClientTokenId", UNKNOWN_KEY_MSG)):
            self.assertB3Error(c.create_cache_security_group, code, msg, 403, CacheSecurityGroupName="", Description="d")
            self.assertB3Error(c.describe_cache_security_groups, code, msg, 403, MaxRecords=5)
            self.assertB3Error(c.list_tags_for_resource, code, msg, 403, ResourceName="arn:aws:elasticache")


# --------------------------------------------------------- presigned URLs

class T03Presigned(Case):

    def presign(self, key, secret, region="us-east-1", expires=2, **params):
        return b3(key, secret, region).generate_presigned_url(
            "describe_cache_security_groups", Params=params, ExpiresIn=expires, HttpMethod="GET")

    def test_presigned_url_works_until_it_expires(self):
        name = "presigned-a1"
        b3(KEY1, SECRET1).create_cache_security_group(CacheSecurityGroupName=name, Description="presigned")
        # The URL lives 2 seconds from its X-Amz-Date, a whole second: on a
        # loaded machine the first fetch can come too late; a fresh URL is
        # then made, a few times at most.
        for attempt in range(3):
            url = self.presign(KEY1, SECRET1, CacheSecurityGroupName=name)
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            self.assertEqual(q.get("X-Amz-Expires"), ["2"], url)
            self.assertEqual(q.get("Action"), ["DescribeCacheSecurityGroups"], url)
            signed_at = amz_date(url)
            status, body = fetch(url)
            fetched = time.time()
            if status == 200 or fetched < signed_at + 2:
                break
            NOTES.append(f"presigned URL fetched {fetched - signed_at:.2f}s after its X-Amz-Date: made a fresh one")
        self.assertEqual(status, 200, body)
        self.assertEqual(xml_groups(body), [(name, ACCOUNT1, arn("us-east-1", ACCOUNT1, name))])
        # Then, without any fixed sleep, until it is refused.
        deadline = time.monotonic() + EXPIRY_DEADLINE
        while status == 200:
            self.assertLess(time.monotonic(), deadline, f"the 2-second URL still works after {EXPIRY_DEADLINE}s")
            time.sleep(POLL_INTERVAL)
            status, body = fetch(url)
        refused = time.time()
        self.assertEqual(status, 400, body)
        code, msg = xml_error(body)
        self.assertEqual(code, "RequestExpired", body)
        self.assertTrue(msg.startswith("Request has expired: "), body)
        # Not before its time (less a little slack between the clocks).
        self.assertGreaterEqual(refused, signed_at + 2 - 0.5, f"refused {refused - signed_at:.2f}s after X-Amz-Date")
        NOTES.append(f"presigned URL (ExpiresIn=2) refused {refused - signed_at:.2f}s after its X-Amz-Date")

    def test_presigned_url_of_the_other_account(self):
        b3(KEY2, SECRET2, "eu-west-1").create_cache_security_group(CacheSecurityGroupName="presigned-a2", Description="a2")
        b3(KEY1, SECRET1, "eu-west-1").create_cache_security_group(CacheSecurityGroupName="presigned-a1-euw1", Description="a1")
        status, body = fetch(self.presign(KEY2, SECRET2, "eu-west-1", expires=60))
        self.assertEqual(status, 200, body)
        # Other tests make groups of account 2 in eu-west-1 meanwhile: all
        # listed must be account 2's, and account 1's is not among them.
        groups = xml_groups(body)
        names = [g[0] for g in groups]
        self.assertIn("default", names, body)
        self.assertIn("presigned-a2", names, body)
        self.assertNotIn("presigned-a1-euw1", names, body)
        for name, owner, a in groups:
            self.assertEqual((owner, a), (ACCOUNT2, arn("eu-west-1", ACCOUNT2, name)), body)
        status, body = fetch(self.presign(KEY2, SECRET2, "eu-west-1", expires=60, CacheSecurityGroupName="presigned-a1-euw1"))
        self.assertEqual((status, xml_error(body)), (404, ("CacheSecurityGroupNotFound", "CacheSecurityGroup presigned-a1-euw1 not found.")), body)
        # The same URL signed by account 1 sees it.
        status, body = fetch(self.presign(KEY1, SECRET1, "eu-west-1", expires=60, CacheSecurityGroupName="presigned-a1-euw1"))
        self.assertEqual(status, 200, body)
        self.assertEqual(xml_groups(body), [("presigned-a1-euw1", ACCOUNT1, arn("eu-west-1", ACCOUNT1, "presigned-a1-euw1"))])

    def test_presigned_url_tricky_characters(self):
        # botocore's query encoding against the server's canonical query:
        # every character class in a value, and an ARN's colons.
        tricky = "caf\u00e9 \u65e5\u672c +*~/&=%;:,'!()$@?#[] <x> \"q\""
        c = b3(KEY1, SECRET1, "eu-west-1")
        url = c.generate_presigned_url("create_cache_security_group", HttpMethod="GET", ExpiresIn=60,
                                       Params={"CacheSecurityGroupName": "presigned-tricky", "Description": tricky,
                                               "Tags": [{"Key": "k y", "Value": "v+/=:"}]})
        status, body = fetch(url)
        self.assertEqual(status, 200, body)
        got = c.describe_cache_security_groups(CacheSecurityGroupName="presigned-tricky")["CacheSecurityGroups"]
        self.assertEqual(got, [group(ACCOUNT1, "eu-west-1", "presigned-tricky", tricky)])
        url = c.generate_presigned_url("list_tags_for_resource", HttpMethod="GET", ExpiresIn=60,
                                       Params={"ResourceName": arn("eu-west-1", ACCOUNT1, "presigned-tricky")})
        status, body = fetch(url)
        self.assertEqual(status, 200, body)
        root = ET.fromstring(body)
        self.assertEqual([(t.findtext(f"{NS}Key"), t.findtext(f"{NS}Value")) for t in root.iter(f"{NS}Tag")],
                         [("k y", "v+/=:")], body)

    def test_presigned_url_refused(self):
        url = self.presign(KEY1, SECRET1, expires=60, CacheSecurityGroupName="default")
        tampered = url.replace("CacheSecurityGroupName=default", "CacheSecurityGroupName=other")
        self.assertNotEqual(tampered, url)
        for u, status, code, msg in (
                (tampered, 403, "SignatureDoesNotMatch", MISMATCH_MSG),
                (self.presign(KEY1, SECRET2, expires=60), 403, "SignatureDoesNotMatch", MISMATCH_MSG),
                (self.presign(UNKNOWN_KEY, SECRET1, expires=60), 403, "InvalidClientTokenId", UNKNOWN_KEY_MSG),
                (self.presign(KEY1, SECRET1, "ap-south-1", expires=60), 403, "SignatureDoesNotMatch", region_msg("ap-south-1"))):
            got, body = fetch(u)
            self.assertEqual((got, xml_error(body)), (status, (code, msg)), u)


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

    def addSkip(self, test, reason):  # never skip: a skip is a failure
        self.failed_ids.add(test.id())
        super().addSkip(test, reason)

    def addExpectedFailure(self, test, err):
        self.failed_ids.add(test.id())
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        self.failed_ids.add(test.id())
        super().addUnexpectedSuccess(test)


# Every test is independent (its own names); they run WORKERS at a time,
# the CLI-heavy ones first. Few at a time: the suite runs next to the other
# client suites, and CLI start-ups are what a loaded machine has least of.
CLASSES = (T02Refused, T01RightKeys, T03Presigned)
WORKERS = 2


def run_unit(test):
    import io
    stream = io.StringIO()
    result = TimedResult(unittest.runner._WritelnDecorator(stream), True, 2)
    test.run(result)
    result.printErrors()
    return result, stream.getvalue()


def main():
    global MAIN
    t0 = time.monotonic()
    print(f"server: {SERVER_BIN}\npython: {sys.executable}\nboto3 {boto3.__version__}, "
          f"botocore {botocore.__version__}, aws: {AWS}\ntmp: {TMP}", flush=True)
    loader = unittest.TestLoader()
    tests = [t for cls in CLASSES for t in loader.loadTestsFromTestCase(cls)
             if not SELECT or any(p in t.id() for p in SELECT)]
    tests.sort(key=lambda t: not t.id().endswith("_cli"))  # the slow ones first
    passed_ids, failed_ids = set(), set()
    try:
        MAIN = Server("sigv4", ["--auth", "sigv4", "--config", CONFIG_FILE, "--regions", REGIONS]).start()
    except AssertionError as e:
        print(f"FATAL: the sigv4 server did not start: {e}", file=sys.stderr)
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
            print(f"FAIL: the sigv4 server exited {rc} after SIGTERM:\n{MAIN.log_text()}", file=sys.stderr)
            failed_ids.add("server exit code")
        errors = [r for r in MAIN.log_records() if r.get("level") == "ERROR"]
        if errors:
            print(f"FAIL: the sigv4 server logged errors: {errors}", file=sys.stderr)
            failed_ids.add("server errors logged")
        auth = [r.get("auth") for r in MAIN.log_records() if r.get("addr")]
        if auth != ["sigv4"]:
            print(f"FAIL: the server's start line says auth {auth}, not sigv4", file=sys.stderr)
            failed_ids.add("server auth mode")
    finally:
        for p in _ALL_PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
    passed = len(passed_ids - failed_ids)
    failed = len(failed_ids)
    failed += max(0, len(tests) - passed - failed)
    for note in NOTES:
        print("note: " + note, flush=True)
    print(f"elapsed {time.monotonic() - t0:.1f}s", flush=True)
    if failed == 0:
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print(f"logs and data kept in {TMP}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
