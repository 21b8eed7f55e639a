#!/usr/bin/env python3
"""End-to-end suite: cache subnet groups through boto3 and the AWS CLI.

A wire smoke test of the family (service/subnetgroups.go): the happy path of
Create/Describe/Modify/DeleteCacheSubnetGroup, tags on subnetgroup ARNs and
DescribeEvents with SourceType cache-subnet-group, and every fault:
CacheSubnetGroupAlreadyExists, CacheSubnetGroupNotFoundFault (HTTP 400, as
AWS answers), CacheSubnetGroupQuotaExceeded (a per-account quota from the
config file), CacheSubnetQuotaExceededFault (more than 20 subnets),
InvalidSubnet (subnets of two VPCs), InvalidParameterValue for unknown
subnet ids (a strict account; a malformed id) and for the reserved `default`
group, which cannot be created, modified, deleted or tagged.

Every server runs with the config file of e2e/subnetgroups_test.go (the Go
SDK suite): a declared network of two VPCs, a quota of 2 subnet groups and a
strict account. Each test starts a server of its own, so that the quota of
the declared account is the test's alone, and stops it with SIGTERM.

boto3 errors are checked as the modeled exception when the operation's model
lists the fault, and by Code otherwise (InvalidParameterValue is in none of
these operations' models); always with the HTTP status, the message and the
Sender/RequestId envelope (harness.ClientCase.assertB3Error).

Usage:  python3 test_subnet_groups.py SERVER_BIN [PATTERN...]   (or SERVER_BIN=... in the env)

Never skips: a missing boto3 or aws CLI is a loud failure. The last line
printed is "N passed, M failed"; the exit code is non-zero on any failure.
"""

import datetime
import os
import re
import sys
import unittest

# harness.py lives next to this script: importable whatever the cwd (Python
# puts a script's directory on sys.path, but not under -P / PYTHONSAFEPATH).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  first: it checks boto3 (see harness.py)
from harness import NO_RETRY  # noqa: E402

SUITE = harness.Suite("the boto3/AWS CLI subnet group suite", "elasticache-e2e-subnets-")

SECRET = "e2e-secret-key"
REGION = "us-east-1"


def client_env(key, region=REGION):
    # One attempt, so that a 5xx fails at once; the error line exactly as
    # users see it (see harness.ONE_ATTEMPT).
    return SUITE.client_env(key, SECRET, region, extra=harness.ONE_ATTEMPT)


# boto3 runs in this process: make its environment hermetic too.
harness.make_process_hermetic(client_env("AKIDNOTUSED"))

# The config file of e2e/subnetgroups_test.go (subnetConfig).
NET_ACCOUNT = "111111111111"     # the declared network; a quota of 2 groups
STRICT_ACCOUNT = "333333333333"  # refuses subnets nobody declared
CONFIG_YAML = """
accounts:
  - id: "111111111111"
    quotas:
      cacheSubnetGroups: 2
  - id: "333333333333"
    strictSubnets: true
networks:
  - account: "111111111111"
    region: us-east-1
    vpcs:
      - id: vpc-0a0a0a0a
        subnets:
          - id: subnet-0a000001
            availabilityZone: us-east-1a
          - id: subnet-0a000002
            availabilityZone: us-east-1b
            ipv6: true
      - id: vpc-0b0b0b0b
        subnets:
          - id: subnet-0b000001
            availabilityZone: us-east-1c
"""
CONFIG_PATH = os.path.join(SUITE.tmp, "subnets.yaml")
with open(CONFIG_PATH, "w") as _f:
    _f.write(CONFIG_YAML)

VPC_A, VPC_B = "vpc-0a0a0a0a", "vpc-0b0b0b0b"
A1, A2, B1 = "subnet-0a000001", "subnet-0a000002", "subnet-0b000001"
# 21 well-formed ids nobody declared: one more than a group may hold.
MANY = [f"subnet-{i:08x}" for i in range(1, 22)]

DEFAULT_ID = re.compile(r"^(vpc|subnet)-[0-9a-f]{17}$")  # a generated default VPC or subnet


def sn(subnet_id, az, types=("ipv4",)):
    """One Subnet of a CacheSubnetGroup as a client should parse it."""
    return {"SubnetIdentifier": subnet_id, "SubnetAvailabilityZone": {"Name": az},
            "SupportedNetworkTypes": list(types)}


SN_A1 = sn(A1, "us-east-1a")
SN_A2 = sn(A2, "us-east-1b", ("ipv4", "dual_stack"))
SN_B1 = sn(B1, "us-east-1c")


def sg_arn(account, name, region=REGION):
    return f"arn:aws:elasticache:{region}:{account}:subnetgroup:{name}"


def sgroup(account, name, description, vpc, subnets, types=("ipv4",)):
    """The CacheSubnetGroup a client should parse."""
    return {"CacheSubnetGroupName": name, "CacheSubnetGroupDescription": description, "VpcId": vpc,
            "Subnets": list(subnets), "ARN": sg_arn(account, name), "SupportedNetworkTypes": list(types)}


def not_found(name):
    return f"CacheSubnetGroup {name} not found."


def already_exists(name):
    return f"Cache subnet group {name} already exists."


def invalid_ids(*ids):
    return f"Some input subnets in :[{', '.join(ids)}] are invalid."


def two_vpcs(first, second):
    return f"Subnets {first} and {second} are not in the same VPC."


QUOTA_MSG = "Quota exceeded for cache subnet groups."
SUBNET_QUOTA_MSG = ("The request cannot be processed because it would exceed the allowed number "
                    "of subnets in a cache subnet group (20).")
RESERVED_MSG = ("Invalid value for parameter CacheSubnetGroupName: the name default is reserved "
                "for the default cache subnet group.")
DEFAULT_MODIFY_MSG = "The default cache subnet group cannot be modified."
DEFAULT_DELETE_MSG = "The default cache subnet group cannot be deleted."
DEFAULT_TAG_MSG = "The default cache subnet group cannot be tagged."
EV_CREATED = "Cache subnet group created"
EV_MODIFIED = "Cache subnet group modified"
EV_DELETED = "Cache subnet group deleted"
SOURCE_TYPE = "cache-subnet-group"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def floor_ms(t):
    """t truncated to milliseconds: the server sends event dates so."""
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


# ---------------------------------------------------------------- clients

def b3(server, key, region=REGION):
    """A fresh boto3 client for server as access key `key` in `region`."""
    return harness.b3_client(server.url, key, SECRET, region, NO_RETRY)


def cli(server, key, op, *args, region=REGION):
    return SUITE.cli(server.url, client_env(key, region), op, *args)


class Case(harness.ClientCase):

    def setUp(self):
        """A server of this test's own with the config file; SIGTERMed at
        the end of the test, and checked to stop cleanly."""
        self.server = SUITE.server(self.id().rsplit(".", 1)[-1].replace("_", "-"),
                                   extra=["--config", CONFIG_PATH]).start()

    def tearDown(self):
        if self.server.running():
            rc, _ = self.server.stop()
            self.assertEqual(rc, 0, f"exit code after SIGTERM\n{self.server.log_text()}")
            errors = [r for r in self.server.log_records() if r.get("level") == "ERROR"]
            self.assertEqual(errors, [], "errors logged")

    def ok(self, fn, **kwargs):
        """fn(**kwargs) answered 200 with a RequestId; returns the output
        without its ResponseMetadata."""
        out = fn(**kwargs)
        meta = out.pop("ResponseMetadata")
        self.assertEqual(meta["HTTPStatusCode"], 200, f"{fn.__name__}({kwargs!r})")
        self.assertTrue(meta.get("RequestId"), meta)
        self.assertEqual(meta["HTTPHeaders"].get("x-amzn-requestid"), meta["RequestId"], meta)
        return out

    def assertEventMessages(self, events, want, t0, t1):
        """events are exactly want ([SourceIdentifier, Message] pairs, newest
        first), all of SourceType cache-subnet-group and dated within
        [t0, t1] (datetimes, or strings in the CLI's output)."""
        self.assertEqual([[e["SourceIdentifier"], e["Message"]] for e in events], want, events)
        for e in events:
            self.assertEqual(e["SourceType"], SOURCE_TYPE, e)
            d = e["Date"]
            if isinstance(d, str):
                d = datetime.datetime.fromisoformat(d.replace("Z", "+00:00"))
            self.assertLessEqual(floor_ms(t0), d, e)
            self.assertLessEqual(d, t1, e)


# ------------------------------------------------------------------ boto3

class T01Boto3(Case):

    def test_lifecycle_boto3(self):
        c = b3(self.server, NET_ACCOUNT)
        t0 = utcnow()
        # Create: the name stored lowercase, the subnets in id order with
        # their zones and types, the group's types those all subnets share.
        out = self.ok(c.create_cache_subnet_group, CacheSubnetGroupName="Web-Tier",
                      CacheSubnetGroupDescription="web tier", SubnetIds=[A2, A1, A2],
                      Tags=[{"Key": "env", "Value": "test"}])
        created = sgroup(NET_ACCOUNT, "web-tier", "web tier", VPC_A, [SN_A1, SN_A2])
        self.assertEqual(out, {"CacheSubnetGroup": created})

        # Describe by name in any case, and all of them (`default` first).
        self.assertEqual(self.ok(c.describe_cache_subnet_groups, CacheSubnetGroupName="WEB-TIER"),
                         {"CacheSubnetGroups": [created]})
        groups = self.ok(c.describe_cache_subnet_groups)["CacheSubnetGroups"]
        self.assertEqual([g["CacheSubnetGroupName"] for g in groups], ["default", "web-tier"])
        self.assertEqual(groups[1], created)
        pages = list(c.get_paginator("describe_cache_subnet_groups").paginate(PaginationConfig={"PageSize": 20}))
        self.assertEqual([g["CacheSubnetGroupName"] for p in pages for g in p["CacheSubnetGroups"]],
                         ["default", "web-tier"])

        # Modify: the subnets alone (into the other VPC), then the
        # description alone; what a request leaves out stays.
        out = self.ok(c.modify_cache_subnet_group, CacheSubnetGroupName="web-tier", SubnetIds=[B1])
        self.assertEqual(out, {"CacheSubnetGroup": sgroup(NET_ACCOUNT, "web-tier", "web tier", VPC_B, [SN_B1])})
        out = self.ok(c.modify_cache_subnet_group, CacheSubnetGroupName="Web-Tier",
                      CacheSubnetGroupDescription="only the dual-stack one", SubnetIds=[A2])
        self.assertEqual(out, {"CacheSubnetGroup": sgroup(NET_ACCOUNT, "web-tier", "only the dual-stack one", VPC_A,
                                                          [SN_A2], ("ipv4", "dual_stack"))})
        out = self.ok(c.modify_cache_subnet_group, CacheSubnetGroupName="web-tier",
                      CacheSubnetGroupDescription="new")
        modified = sgroup(NET_ACCOUNT, "web-tier", "new", VPC_A, [SN_A2], ("ipv4", "dual_stack"))
        self.assertEqual(out, {"CacheSubnetGroup": modified})
        self.assertEqual(self.ok(c.describe_cache_subnet_groups, CacheSubnetGroupName="web-tier"),
                         {"CacheSubnetGroups": [modified]})

        # Tags on the group's ARN: those of the create, added, removed.
        a = sg_arn(NET_ACCOUNT, "web-tier")
        self.assertEqual(self.ok(c.list_tags_for_resource, ResourceName=a),
                         {"TagList": [{"Key": "env", "Value": "test"}]})
        self.assertEqual(self.ok(c.add_tags_to_resource, ResourceName=a, Tags=[{"Key": "team", "Value": "core"}]),
                         {"TagList": [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "core"}]})
        self.assertEqual(self.ok(c.remove_tags_from_resource, ResourceName=a, TagKeys=["env"]),
                         {"TagList": [{"Key": "team", "Value": "core"}]})

        # Delete: an empty answer, then the group is gone for every operation.
        self.assertEqual(self.ok(c.delete_cache_subnet_group, CacheSubnetGroupName="WEB-TIER"), {})
        t1 = utcnow()
        nf = ("CacheSubnetGroupNotFoundFault", "CacheSubnetGroupNotFoundFault", not_found("web-tier"), 400)
        self.assertB3Error(c.describe_cache_subnet_groups, *nf, CacheSubnetGroupName="web-tier")
        self.assertB3Error(c.modify_cache_subnet_group, *nf, CacheSubnetGroupName="web-tier",
                           CacheSubnetGroupDescription="x")
        self.assertB3Error(c.delete_cache_subnet_group, *nf, CacheSubnetGroupName="web-tier")
        self.assertB3Error(c.list_tags_for_resource, *nf, ResourceName=a)
        self.assertB3Error(c.add_tags_to_resource, *nf, ResourceName=a, Tags=[{"Key": "k", "Value": "v"}])
        self.assertB3Error(c.remove_tags_from_resource, *nf, ResourceName=a, TagKeys=["team"])
        self.assertEqual([g["CacheSubnetGroupName"] for g in self.ok(c.describe_cache_subnet_groups)["CacheSubnetGroups"]],
                         ["default"])

        # Its events outlive it, newest first; a SourceIdentifier in any case.
        events = self.ok(c.describe_events, SourceType=SOURCE_TYPE, SourceIdentifier="Web-Tier")["Events"]
        self.assertEventMessages(events, [["web-tier", EV_DELETED], ["web-tier", EV_MODIFIED],
                                          ["web-tier", EV_MODIFIED], ["web-tier", EV_MODIFIED],
                                          ["web-tier", EV_CREATED]], t0, t1)
        self.assertEqual(self.ok(c.describe_events, SourceType="cache-security-group"), {"Events": []})

    def test_faults_boto3(self):
        c = b3(self.server, NET_ACCOUNT)
        self.ok(c.create_cache_subnet_group, CacheSubnetGroupName="one", CacheSubnetGroupDescription="d",
                SubnetIds=[A1])
        create = c.create_cache_subnet_group
        self.assertB3Error(create, "CacheSubnetGroupAlreadyExistsFault", "CacheSubnetGroupAlreadyExists",
                           already_exists("one"), 400,
                           CacheSubnetGroupName="ONE", CacheSubnetGroupDescription="d", SubnetIds=[A2])
        self.assertB3Error(create, "InvalidSubnet", "InvalidSubnet", two_vpcs(A1, B1), 400,
                           CacheSubnetGroupName="mixed", CacheSubnetGroupDescription="d", SubnetIds=[B1, A1])
        self.assertB3Error(create, "CacheSubnetQuotaExceededFault", "CacheSubnetQuotaExceededFault",
                           SUBNET_QUOTA_MSG, 400,
                           CacheSubnetGroupName="many", CacheSubnetGroupDescription="d", SubnetIds=MANY)
        # Not in the operation's model: checked by Code.
        self.assertB3Error(create, None, "InvalidParameterValue", invalid_ids(A1, "nope"), 400,
                           CacheSubnetGroupName="bad-id", CacheSubnetGroupDescription="d", SubnetIds=[A1, "nope"])
        self.assertB3Error(create, None, "InvalidParameterValue", RESERVED_MSG, 400,
                           CacheSubnetGroupName="Default", CacheSubnetGroupDescription="d", SubnetIds=[A1])

        modify = c.modify_cache_subnet_group
        self.assertB3Error(modify, "InvalidSubnet", "InvalidSubnet", two_vpcs(A1, B1), 400,
                           CacheSubnetGroupName="one", SubnetIds=[A1, B1])
        self.assertB3Error(modify, "CacheSubnetQuotaExceededFault", "CacheSubnetQuotaExceededFault",
                           SUBNET_QUOTA_MSG, 400, CacheSubnetGroupName="one", SubnetIds=MANY)
        self.assertB3Error(modify, None, "InvalidParameterValue", invalid_ids("subnet-zz"), 400,
                           CacheSubnetGroupName="one", SubnetIds=["subnet-zz"])
        self.assertB3Error(modify, None, "InvalidParameterValue", DEFAULT_MODIFY_MSG, 400,
                           CacheSubnetGroupName="default", CacheSubnetGroupDescription="x")
        self.assertB3Error(c.delete_cache_subnet_group, None, "InvalidParameterValue", DEFAULT_DELETE_MSG, 400,
                           CacheSubnetGroupName="default")
        self.assertB3Error(c.add_tags_to_resource, None, "InvalidParameterValue", DEFAULT_TAG_MSG, 400,
                           ResourceName=sg_arn(NET_ACCOUNT, "default"), Tags=[{"Key": "k", "Value": "v"}])
        # The refused modifications left the group as it was.
        self.assertEqual(self.ok(c.describe_cache_subnet_groups, CacheSubnetGroupName="one"),
                         {"CacheSubnetGroups": [sgroup(NET_ACCOUNT, "one", "d", VPC_A, [SN_A1])]})

        # The quota of the config file, 2 for this account; `default` does
        # not count, a duplicate is still AlreadyExists.
        self.ok(create, CacheSubnetGroupName="two", CacheSubnetGroupDescription="d", SubnetIds=[B1])
        self.assertB3Error(create, "CacheSubnetGroupQuotaExceededFault", "CacheSubnetGroupQuotaExceeded",
                           QUOTA_MSG, 400, CacheSubnetGroupName="three", CacheSubnetGroupDescription="d",
                           SubnetIds=[A1])
        self.assertB3Error(create, "CacheSubnetGroupAlreadyExistsFault", "CacheSubnetGroupAlreadyExists",
                           already_exists("two"), 400,
                           CacheSubnetGroupName="two", CacheSubnetGroupDescription="d", SubnetIds=[A1])
        self.assertB3Error(c.describe_cache_subnet_groups, "CacheSubnetGroupNotFoundFault",
                           "CacheSubnetGroupNotFoundFault", not_found("three"), 400, CacheSubnetGroupName="three")
        self.assertEqual([g["CacheSubnetGroupName"] for g in self.ok(c.describe_cache_subnet_groups)["CacheSubnetGroups"]],
                         ["default", "one", "two"])
        # Another account has the default quota.
        other = b3(self.server, "444444444444")
        for n in ("one", "two", "three"):
            self.ok(other.create_cache_subnet_group, CacheSubnetGroupName=n, CacheSubnetGroupDescription="d",
                    SubnetIds=[MANY[0]])

    def test_default_and_undeclared_subnets_boto3(self):
        # `default`: the account's default VPC, a subnet per zone, in every
        # account and region; not the declared network's.
        for account, region in ((NET_ACCOUNT, REGION), (STRICT_ACCOUNT, REGION), ("444444444444", "eu-west-1")):
            with self.subTest(account=account, region=region):
                c = b3(self.server, account, region)
                d = self.ok(c.describe_cache_subnet_groups, CacheSubnetGroupName="default")["CacheSubnetGroups"]
                self.assertEqual(len(d), 1, d)
                d = d[0]
                self.assertEqual((d["CacheSubnetGroupName"], d["CacheSubnetGroupDescription"], d["ARN"]),
                                 ("default", "default", sg_arn(account, "default", region)))
                self.assertRegex(d["VpcId"], DEFAULT_ID)
                self.assertNotIn(d["VpcId"], (VPC_A, VPC_B))
                zones = [s["SubnetAvailabilityZone"]["Name"] for s in d["Subnets"]]
                self.assertGreaterEqual(len(zones), 2, d)
                self.assertEqual(zones, sorted(set(zones)), d)
                for s in d["Subnets"]:
                    self.assertRegex(s["SubnetIdentifier"], DEFAULT_ID)
                    self.assertTrue(s["SubnetAvailabilityZone"]["Name"].startswith(region), d)
                    self.assertEqual(s["SupportedNetworkTypes"], ["ipv4"], d)
                self.assertEqual(d["SupportedNetworkTypes"], ["ipv4"], d)

        # An account that is not strict: undeclared ids are placed in its
        # default VPC, and mixing them with a declared VPC's is InvalidSubnet.
        c = b3(self.server, NET_ACCOUNT)
        default_vpc = self.ok(c.describe_cache_subnet_groups, CacheSubnetGroupName="default")["CacheSubnetGroups"][0]["VpcId"]
        out = self.ok(c.create_cache_subnet_group, CacheSubnetGroupName="twenty", CacheSubnetGroupDescription="d",
                      SubnetIds=MANY[:20])["CacheSubnetGroup"]
        self.assertEqual(out["VpcId"], default_vpc)
        self.assertEqual([s["SubnetIdentifier"] for s in out["Subnets"]], MANY[:20])
        self.assertB3Error(c.create_cache_subnet_group, "InvalidSubnet", "InvalidSubnet", two_vpcs(MANY[0], A1), 400,
                           CacheSubnetGroupName="mixed", CacheSubnetGroupDescription="d", SubnetIds=[A1, MANY[0]])

        # The strict account: only its default subnets, and no one else's.
        s = b3(self.server, STRICT_ACCOUNT)
        self.assertB3Error(s.create_cache_subnet_group, None, "InvalidParameterValue", invalid_ids("subnet-0fffffff"),
                           400, CacheSubnetGroupName="g", CacheSubnetGroupDescription="d", SubnetIds=["subnet-0fffffff"])
        self.assertB3Error(s.create_cache_subnet_group, None, "InvalidParameterValue", invalid_ids(A1), 400,
                           CacheSubnetGroupName="g", CacheSubnetGroupDescription="d", SubnetIds=[A1])
        d = self.ok(s.describe_cache_subnet_groups, CacheSubnetGroupName="default")["CacheSubnetGroups"][0]
        out = self.ok(s.create_cache_subnet_group, CacheSubnetGroupName="g", CacheSubnetGroupDescription="d",
                      SubnetIds=[d["Subnets"][1]["SubnetIdentifier"], d["Subnets"][0]["SubnetIdentifier"]])
        # The answer lists them in id order, `default` in zone order.
        self.assertEqual(out, {"CacheSubnetGroup": sgroup(STRICT_ACCOUNT, "g", "d", d["VpcId"],
                                                          sorted(d["Subnets"][:2], key=lambda x: x["SubnetIdentifier"]))})
        # Another region is another world.
        west = b3(self.server, STRICT_ACCOUNT, "us-west-2")
        self.assertB3Error(west.describe_cache_subnet_groups, "CacheSubnetGroupNotFoundFault",
                           "CacheSubnetGroupNotFoundFault", not_found("g"), 400, CacheSubnetGroupName="g")


# -------------------------------------------------------------------- CLI

class T02CLI(Case):

    def test_lifecycle_cli(self):
        s = self.server
        t0 = utcnow()
        out = self.assertCLIOK(cli(s, NET_ACCOUNT, "create-cache-subnet-group",
                                   "--cache-subnet-group-name", "Web-Tier",
                                   "--cache-subnet-group-description", "web tier",
                                   "--subnet-ids", A2, A1, "--tags", "Key=env,Value=test"))
        created = sgroup(NET_ACCOUNT, "web-tier", "web tier", VPC_A, [SN_A1, SN_A2])
        self.assertEqual(out, {"CacheSubnetGroup": created})
        self.assertEqual(self.assertCLIOK(cli(s, NET_ACCOUNT, "describe-cache-subnet-groups",
                                              "--cache-subnet-group-name", "WEB-TIER")),
                         {"CacheSubnetGroups": [created]})
        out = self.assertCLIOK(cli(s, NET_ACCOUNT, "describe-cache-subnet-groups", "--page-size", "20"))
        self.assertEqual([g["CacheSubnetGroupName"] for g in out["CacheSubnetGroups"]], ["default", "web-tier"])
        self.assertNotIn("NextToken", out)

        out = self.assertCLIOK(cli(s, NET_ACCOUNT, "modify-cache-subnet-group", "--cache-subnet-group-name", "web-tier",
                                   "--subnet-ids", B1))
        self.assertEqual(out, {"CacheSubnetGroup": sgroup(NET_ACCOUNT, "web-tier", "web tier", VPC_B, [SN_B1])})
        out = self.assertCLIOK(cli(s, NET_ACCOUNT, "modify-cache-subnet-group", "--cache-subnet-group-name", "web-tier",
                                   "--cache-subnet-group-description", "new"))
        self.assertEqual(out, {"CacheSubnetGroup": sgroup(NET_ACCOUNT, "web-tier", "new", VPC_B, [SN_B1])})

        self.assertEqual(self.assertCLIOK(cli(s, NET_ACCOUNT, "list-tags-for-resource", "--resource-name",
                                              sg_arn(NET_ACCOUNT, "web-tier"))),
                         {"TagList": [{"Key": "env", "Value": "test"}]})

        # delete prints nothing: the answer has no fields.
        self.assertIsNone(self.assertCLIOK(cli(s, NET_ACCOUNT, "delete-cache-subnet-group",
                                               "--cache-subnet-group-name", "web-tier")))
        t1 = utcnow()
        self.assertCLIError(cli(s, NET_ACCOUNT, "describe-cache-subnet-groups", "--cache-subnet-group-name", "web-tier"),
                            "DescribeCacheSubnetGroups", "CacheSubnetGroupNotFoundFault", not_found("web-tier"))
        out = self.assertCLIOK(cli(s, NET_ACCOUNT, "describe-events", "--source-type", SOURCE_TYPE,
                                   "--source-identifier", "web-tier"))
        self.assertEventMessages(out["Events"], [["web-tier", EV_DELETED], ["web-tier", EV_MODIFIED],
                                                 ["web-tier", EV_MODIFIED], ["web-tier", EV_CREATED]], t0, t1)

    def test_faults_cli(self):
        s = self.server
        # The group itself through boto3: these are about the CLI's errors.
        c = b3(s, NET_ACCOUNT)
        self.ok(c.create_cache_subnet_group, CacheSubnetGroupName="one", CacheSubnetGroupDescription="d",
                SubnetIds=[A1])

        def create(name, *ids):
            return cli(s, NET_ACCOUNT, "create-cache-subnet-group", "--cache-subnet-group-name", name,
                       "--cache-subnet-group-description", "d", "--subnet-ids", *ids)

        self.assertCLIError(create("One", A1), "CreateCacheSubnetGroup", "CacheSubnetGroupAlreadyExists",
                            already_exists("one"))
        self.assertCLIError(create("mixed", A1, B1), "CreateCacheSubnetGroup", "InvalidSubnet", two_vpcs(A1, B1))
        self.assertCLIError(create("many", *MANY), "CreateCacheSubnetGroup", "CacheSubnetQuotaExceededFault",
                            SUBNET_QUOTA_MSG)
        self.assertCLIError(create("bad-id", A1, "nope"), "CreateCacheSubnetGroup", "InvalidParameterValue",
                            invalid_ids(A1, "nope"))
        self.assertCLIError(cli(s, NET_ACCOUNT, "delete-cache-subnet-group", "--cache-subnet-group-name", "default"),
                            "DeleteCacheSubnetGroup", "InvalidParameterValue", DEFAULT_DELETE_MSG)
        self.assertCLIError(cli(s, NET_ACCOUNT, "modify-cache-subnet-group", "--cache-subnet-group-name", "nobody",
                                "--cache-subnet-group-description", "x"),
                            "ModifyCacheSubnetGroup", "CacheSubnetGroupNotFoundFault", not_found("nobody"))
        self.ok(c.create_cache_subnet_group, CacheSubnetGroupName="two", CacheSubnetGroupDescription="d",
                SubnetIds=[A1])
        self.assertCLIError(create("three", A1), "CreateCacheSubnetGroup", "CacheSubnetGroupQuotaExceeded", QUOTA_MSG)
        self.assertCLIError(cli(s, STRICT_ACCOUNT, "create-cache-subnet-group", "--cache-subnet-group-name", "g",
                                "--cache-subnet-group-description", "d", "--subnet-ids", "subnet-0fffffff"),
                            "CreateCacheSubnetGroup", "InvalidParameterValue", invalid_ids("subnet-0fffffff"))
        self.assertEqual([g["CacheSubnetGroupName"] for g in self.ok(c.describe_cache_subnet_groups)["CacheSubnetGroups"]],
                         ["default", "one", "two"])


# ----------------------------------------------------------------- runner

# Every test has a server of its own; most of the time goes to starting aws
# CLI processes, so a few tests run at once.
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
    return tally.finish(len(tests))


if __name__ == "__main__":
    sys.exit(main())
