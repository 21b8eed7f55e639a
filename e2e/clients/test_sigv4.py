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
import os
import sys
import time
import unittest
import urllib.error
import urllib.parse
import xml.etree.ElementTree as ET

# harness.py lives next to this script: importable whatever the cwd (Python
# puts a script's directory on sys.path, but not under -P / PYTHONSAFEPATH).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  first: it checks boto3 (see harness.py)
from harness import NO_PROXY_OPENER, NO_RETRY  # noqa: E402

SUITE = harness.Suite("the sigv4 boto3/AWS CLI suite", "elasticache-e2e-sigv4-")

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


CONFIG_FILE = os.path.join(SUITE.tmp, "elasticache.yaml")
with open(CONFIG_FILE, "w") as _f:
    _f.write(CONFIG_YAML)


def client_env(key, secret, region, token=None):
    # One attempt, and the error line exactly as users see it (see
    # harness.ONE_ATTEMPT).
    return SUITE.client_env(key, secret, region, token=token, extra=harness.ONE_ATTEMPT)


# boto3 runs in this process: make its environment hermetic too. The key
# here is never used: every client is given its credentials explicitly.
harness.make_process_hermetic(client_env("AKIDNOTUSED", "not-used", "us-east-1"))

MAIN = None  # the sigv4 server every scenario uses
NOTES = []   # facts worth printing that are not pass/fail

# ---------------------------------------------------------------- clients


def b3(key, secret, region="us-east-1", token=None):
    """A boto3 client for MAIN signing as key/secret in region."""
    return harness.b3_client(MAIN.url, key, secret, region, NO_RETRY, token=token)


def cli(key, secret, region, op, *args, token=None):
    return SUITE.cli(MAIN.url, client_env(key, secret, region, token), op, *args)


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
        with NO_PROXY_OPENER.open(url, timeout=10) as r:
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


class Case(harness.ClientCase):

    def assertB3Refused(self, c, account, region, name, code, message, status=403):
        """Every operation through c is refused with code/message/status."""
        for method, kwargs in b3_ops(account, region, name):
            with self.subTest(op=method):
                self.assertB3Error(getattr(c, method), None, code, message, status, **kwargs)

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
            self.assertB3Error(c.create_cache_security_group, None, code, msg, 403, CacheSecurityGroupName="", Description="d")
            self.assertB3Error(c.describe_cache_security_groups, None, code, msg, 403, MaxRecords=5)
            self.assertB3Error(c.list_tags_for_resource, None, code, msg, 403, ResourceName="arn:aws:elasticache")


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

# Every test is independent (its own names); they run WORKERS at a time,
# the CLI-heavy ones first. Few at a time: the suite runs next to the other
# client suites, and CLI start-ups are what a loaded machine has least of.
CLASSES = (T02Refused, T01RightKeys, T03Presigned)
WORKERS = 2


def main():
    global MAIN
    tally = harness.Tally(SUITE)
    loader = unittest.TestLoader()
    tests = [t for cls in CLASSES for t in loader.loadTestsFromTestCase(cls) if SUITE.selected(t)]
    tests.sort(key=lambda t: not t.id().endswith("_cli"))  # the slow ones first
    try:
        MAIN = SUITE.server("sigv4", extra=["--auth", "sigv4", "--config", CONFIG_FILE, "--regions", REGIONS]).start()
    except AssertionError as e:
        return tally.not_started("the sigv4 server", e, len(tests))
    try:
        tally.run(tests, WORKERS)
        tally.check_clean_stop(MAIN, "the sigv4 server")
        auth = [r.get("auth") for r in MAIN.log_records() if r.get("addr")]
        if auth != ["sigv4"]:
            tally.fail("server auth mode", f"the server's start line says auth {auth}, not sigv4")
    finally:
        SUITE.kill_all()
    return tally.finish(len(tests), NOTES)


if __name__ == "__main__":
    sys.exit(main())
