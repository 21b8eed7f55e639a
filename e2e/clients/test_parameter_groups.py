#!/usr/bin/env python3
"""End-to-end suite: cache parameter groups and the engine catalogue through
boto3 and the AWS CLI.

A wire smoke test of the family (service/parametergroups.go,
service/engineversions.go): the happy path of Create/Describe/Modify/Reset/
DeleteCacheParameterGroup, DescribeCacheParameters (Source=user, and page by
page with the node-type-specific parameters on the last page),
DescribeEngineDefaultParameters, DescribeCacheEngineVersions (filters,
DefaultOnly), tags on parametergroup ARNs and DescribeEvents with SourceType
cache-parameter-group; and every fault: CacheParameterGroupAlreadyExists,
CacheParameterGroupNotFound (HTTP 404; the delete's own wording
"CacheParameterGroupnot found: NAME"), InvalidParameterValue for an unknown
family, a parameter that cannot be modified or does not exist, a value not
allowed, more than 20 entries, the default.* groups (no modify, reset,
delete, tag or create), a bad Source, a bad MaxRecords or Marker; and
InvalidParameterCombination for ResetAllParameters with entries.

The default.* groups are virtual and the same in every account, so the
tests need no config file; each starts a server of its own and stops it
with SIGTERM.

boto3 errors are checked as the modeled exception when the operation's model
lists the fault (InvalidParameterValue is in the model of every parameter
group operation, but not of AddTagsToResource or DescribeCacheEngineVersions,
which lists no fault at all), and by Code otherwise; always with the HTTP
status, the message and the Sender/RequestId envelope
(harness.ClientCase.assertB3Error).

Usage:  python3 test_parameter_groups.py SERVER_BIN [PATTERN...]   (or SERVER_BIN=... in the env)

Never skips: a missing boto3 or aws CLI is a loud failure. The last line
printed is "N passed, M failed"; the exit code is non-zero on any failure.
"""

import datetime
import os
import sys
import unittest

# harness.py lives next to this script: importable whatever the cwd (Python
# puts a script's directory on sys.path, but not under -P / PYTHONSAFEPATH).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  first: it checks boto3 (see harness.py)
from harness import NO_RETRY  # noqa: E402

SUITE = harness.Suite("the boto3/AWS CLI parameter group suite", "elasticache-e2e-params-")

SECRET = "e2e-secret-key"
REGION = "us-east-1"
ACCOUNT = "111111111111"


def client_env(key, region=REGION):
    # One attempt, so that a 5xx fails at once; the error line exactly as
    # users see it (see harness.ONE_ATTEMPT).
    return SUITE.client_env(key, SECRET, region, extra=harness.ONE_ATTEMPT)


# boto3 runs in this process: make its environment hermetic too.
harness.make_process_hermetic(client_env("AKIDNOTUSED"))


def pg_arn(name, account=ACCOUNT, region=REGION):
    return f"arn:aws:elasticache:{region}:{account}:parametergroup:{name}"


def pgroup(name, family, description, account=ACCOUNT, region=REGION):
    """The CacheParameterGroup a client should parse."""
    return {"CacheParameterGroupName": name, "CacheParameterGroupFamily": family, "Description": description,
            "IsGlobal": False, "ARN": pg_arn(name, account, region)}


def not_found(name):
    return f"CacheParameterGroup {name} not found."


def delete_not_found(name):
    # AWS's own wording for a delete of a group that is not there.
    return f"CacheParameterGroupnot found: {name}"


def already_exists(name):
    return f"Parameter group {name} already exists."


def cannot_modify(name):
    return f"The parameter {name} cannot be modified."


def no_such_parameter(name, family):
    return f"Parameter {name} doesn't exist for family {family}."


def bad_value(value, name, allowed):
    return f"Value {value} for parameter {name} is invalid. Allowed values: {allowed}."


def unknown_family(family):
    return f"Invalid value for parameter CacheParameterGroupFamily: {family} is not a cache parameter group family."


FAMILIES = ("redis2.6, redis2.8, redis3.2, redis4.0, redis5.0, redis6.x, redis7, valkey7, valkey8, valkey9, "
            "memcached1.4, memcached1.5, memcached1.6")
CREATE_UNKNOWN_FAMILY = ("Invalid value for parameter CacheParameterGroupFamily: redis99 is not a cache parameter "
                         f"group family ({FAMILIES}).")
RESERVED_MSG = ("Invalid value for parameter CacheParameterGroupName: the name prefix default. is reserved for "
                "the default parameter groups.")
DEFAULT_MODIFY_MSG = "Cannot modify a default parameter group."
DEFAULT_DELETE_MSG = "Cannot delete a default parameter group."
DEFAULT_TAG_MSG = "Default parameter groups cannot be tagged."
TOO_MANY_MSG = "Invalid value for parameter ParameterNameValues: at most 20 parameters may be changed in one call."
COMBINATION_MSG = "ResetAllParameters and ParameterNameValues cannot both be given."
SOURCE_MSG = "Invalid value for parameter Source: must be one of user, system, engine-default."
MAX_RECORDS_MSG = "Invalid value for parameter MaxRecords: must be between 20 and 100."
MARKER_MSG = "Invalid value for parameter Marker: the marker is not valid for this request."
ENGINE_MSG = "Invalid value for parameter Engine: must be one of redis, valkey, memcached."
POLICIES = ("allkeys-lru,volatile-lru,allkeys-lfu,volatile-lfu,allkeys-random,volatile-random,volatile-ttl,"
            "noeviction")
EV_CREATED = "Cache parameter group created"
EV_MODIFIED = "Cache parameter group modified"
EV_RESET = "Cache parameter group reset"
EV_DELETED = "Cache parameter group deleted"
SOURCE_TYPE = "cache-parameter-group"

# Every default group of the catalogue: default.<family> for each family,
# and the .cluster.on ones AWS names.
DEFAULT_GROUPS = [
    "default.memcached1.4", "default.memcached1.5", "default.memcached1.6", "default.redis2.6",
    "default.redis2.8", "default.redis3.2", "default.redis3.2.cluster.on", "default.redis4.0",
    "default.redis4.0.cluster.on", "default.redis5.0", "default.redis5.0.cluster.on", "default.redis6.x",
    "default.redis6.x.cluster.on", "default.redis7", "default.redis7.cluster.on", "default.valkey7",
    "default.valkey7.cluster.on", "default.valkey8", "default.valkey9", "default.valkey9.cluster.on",
]


def nv(name, value=None):
    """One ParameterNameValues entry (no value: for a reset)."""
    return {"ParameterName": name, **({} if value is None else {"ParameterValue": value})}


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def floor_ms(t):
    """t truncated to milliseconds: the server sends event dates so."""
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


# ---------------------------------------------------------------- clients

def b3(server, key=ACCOUNT, region=REGION):
    """A fresh boto3 client for server as access key `key` in `region`."""
    return harness.b3_client(server.url, key, SECRET, region, NO_RETRY)


def cli(server, op, *args, key=ACCOUNT, region=REGION):
    return SUITE.cli(server.url, client_env(key, region), op, *args)


class Case(harness.ClientCase):

    def setUp(self):
        """A server of this test's own; SIGTERMed at the end of the test,
        and checked to stop cleanly."""
        self.server = SUITE.server(self.id().rsplit(".", 1)[-1].replace("_", "-")).start()

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

    def user_values(self, c, group):
        """DescribeCacheParameters(Source=user) as {name: value}; every one
        of Source user, and no node-type-specific parameter with them."""
        out = self.ok(c.describe_cache_parameters, CacheParameterGroupName=group, Source="user")
        for p in out["Parameters"]:
            self.assertEqual(p["Source"], "user", p)
        self.assertEqual(out.get("CacheNodeTypeSpecificParameters", []), [], out)
        self.assertNotIn("Marker", out)
        return {p["ParameterName"]: p["ParameterValue"] for p in out["Parameters"]}

    def assertInvalid(self, fn, message, modeled=True, **kwargs):
        """fn fails with InvalidParameterValue (400): the modeled exception
        when the operation lists it, any ClientError otherwise."""
        return self.assertB3Error(fn, "InvalidParameterValueException" if modeled else None,
                                  "InvalidParameterValue", message, 400, **kwargs)

    def assertNotFound(self, fn, message, **kwargs):
        return self.assertB3Error(fn, "CacheParameterGroupNotFoundFault", "CacheParameterGroupNotFound",
                                  message, 404, **kwargs)

    def paged_parameters(self, fn, result, **kwargs):
        """Walks fn's Marker pages of 20 (result: the parameters and the
        marker of an answer) by hand; returns (parameter names in order,
        node-type-specific parameter names of the last page, pages). Only
        the last page has node-type-specific parameters."""
        names, pages, marker = [], 0, None
        while True:
            out = self.ok(fn, MaxRecords=20, **({"Marker": marker} if marker else {}), **kwargs)
            params, marker, node = result(out)
            pages += 1
            self.assertLessEqual(len(params), 20, out)
            names += [p["ParameterName"] for p in params]
            if not marker:
                return names, [p["ParameterName"] for p in node], pages
            self.assertEqual(node, [], f"page {pages} has node-type-specific parameters before the last")
            self.assertLess(pages, 20, "too many pages")


def group_params(out):
    return out["Parameters"], out.get("Marker"), out.get("CacheNodeTypeSpecificParameters", [])


def default_params(out):
    d = out["EngineDefaults"]
    return d["Parameters"], d.get("Marker"), d.get("CacheNodeTypeSpecificParameters", [])


def versions(out):
    return [(v["Engine"], v["EngineVersion"], v["CacheParameterGroupFamily"]) for v in out["CacheEngineVersions"]]


# ------------------------------------------------------------------ boto3

class T01Boto3(Case):

    def test_lifecycle_boto3(self):
        c = b3(self.server)
        t0 = utcnow()
        # Create: the name stored lowercase, with its tags.
        out = self.ok(c.create_cache_parameter_group, CacheParameterGroupName="App-Params",
                      CacheParameterGroupFamily="redis7", Description="app",
                      Tags=[{"Key": "env", "Value": "test"}])
        created = pgroup("app-params", "redis7", "app")
        self.assertEqual(out, {"CacheParameterGroup": created})

        # Describe by name in any case; every group through the paginator,
        # pages of 20: the 20 default groups and this one, in name order.
        self.assertEqual(self.ok(c.describe_cache_parameter_groups, CacheParameterGroupName="APP-PARAMS"),
                         {"CacheParameterGroups": [created]})
        pages = list(c.get_paginator("describe_cache_parameter_groups").paginate(PaginationConfig={"PageSize": 20}))
        self.assertEqual([len(p["CacheParameterGroups"]) for p in pages], [20, 1])
        self.assertIn("Marker", pages[0])
        self.assertNotIn("Marker", pages[1])
        listed = [g for p in pages for g in p["CacheParameterGroups"]]
        self.assertEqual([g["CacheParameterGroupName"] for g in listed], ["app-params"] + DEFAULT_GROUPS)
        self.assertEqual(listed[0], created)
        by_name = {g["CacheParameterGroupName"]: g for g in listed}
        self.assertEqual(by_name["default.redis7"], pgroup("default.redis7", "redis7", "Default parameter group for redis7"))
        self.assertEqual(by_name["default.valkey9.cluster.on"],
                         pgroup("default.valkey9.cluster.on", "valkey9",
                                "Customized default parameter group for valkey9 with cluster mode on"))

        # A new group sets nothing; Modify sets two parameters.
        self.assertEqual(self.user_values(c, "app-params"), {})
        self.assertEqual(self.ok(c.modify_cache_parameter_group, CacheParameterGroupName="App-Params",
                                 ParameterNameValues=[nv("maxmemory-policy", "allkeys-lru"), nv("timeout", "300")]),
                         {"CacheParameterGroupName": "app-params"})
        self.assertEqual(self.user_values(c, "app-params"), {"maxmemory-policy": "allkeys-lru", "timeout": "300"})
        out = self.ok(c.describe_cache_parameters, CacheParameterGroupName="app-params", Source="user")
        policy = [p for p in out["Parameters"] if p["ParameterName"] == "maxmemory-policy"][0]
        self.assertEqual({k: policy[k] for k in ("ParameterValue", "Source", "DataType", "AllowedValues",
                                                 "IsModifiable", "ChangeType")},
                         {"ParameterValue": "allkeys-lru", "Source": "user", "DataType": "string",
                          "AllowedValues": POLICIES, "IsModifiable": True, "ChangeType": "immediate"})

        # All of its parameters page by page: the family's engine defaults
        # with its two values over them, the node-type-specific ones last.
        names, node, npages = self.paged_parameters(c.describe_cache_parameters, group_params,
                                                    CacheParameterGroupName="app-params")
        self.assertGreater(npages, 1)
        self.assertEqual(names, sorted(set(names)))
        dnames, dnode, _ = self.paged_parameters(c.describe_engine_default_parameters, default_params,
                                                 CacheParameterGroupFamily="redis7")
        self.assertEqual((names, node), (dnames, dnode))
        self.assertTrue(node, "no node-type-specific parameters on the last page")
        all_params = [p for pg in c.get_paginator("describe_cache_parameters").paginate(
            CacheParameterGroupName="app-params", PaginationConfig={"PageSize": 20}) for p in pg["Parameters"]]
        self.assertEqual([p["ParameterName"] for p in all_params], names)
        self.assertEqual(sorted(p["ParameterName"] for p in all_params if p["Source"] == "user"),
                         ["maxmemory-policy", "timeout"])

        # Reset one, then all.
        self.assertEqual(self.ok(c.reset_cache_parameter_group, CacheParameterGroupName="app-params",
                                 ParameterNameValues=[nv("timeout")]),
                         {"CacheParameterGroupName": "app-params"})
        self.assertEqual(self.user_values(c, "app-params"), {"maxmemory-policy": "allkeys-lru"})
        self.assertEqual(self.ok(c.reset_cache_parameter_group, CacheParameterGroupName="APP-PARAMS",
                                 ResetAllParameters=True),
                         {"CacheParameterGroupName": "app-params"})
        self.assertEqual(self.user_values(c, "app-params"), {})

        # Tags on the group's ARN: those of the create, added, removed.
        a = pg_arn("app-params")
        self.assertEqual(self.ok(c.list_tags_for_resource, ResourceName=a),
                         {"TagList": [{"Key": "env", "Value": "test"}]})
        self.assertEqual(self.ok(c.add_tags_to_resource, ResourceName=a, Tags=[{"Key": "team", "Value": "core"}]),
                         {"TagList": [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "core"}]})
        self.assertEqual(self.ok(c.remove_tags_from_resource, ResourceName=a, TagKeys=["env"]),
                         {"TagList": [{"Key": "team", "Value": "core"}]})
        # A default group has none, and lists that.
        self.assertEqual(self.ok(c.list_tags_for_resource, ResourceName=pg_arn("default.redis7")), {"TagList": []})

        # Delete: an empty answer, then the group is gone for every operation.
        self.assertEqual(self.ok(c.delete_cache_parameter_group, CacheParameterGroupName="App-Params"), {})
        t1 = utcnow()
        self.assertNotFound(c.describe_cache_parameter_groups, not_found("app-params"),
                            CacheParameterGroupName="app-params")
        self.assertNotFound(c.describe_cache_parameters, not_found("app-params"), CacheParameterGroupName="app-params")
        self.assertNotFound(c.modify_cache_parameter_group, not_found("app-params"),
                            CacheParameterGroupName="app-params", ParameterNameValues=[nv("timeout", "30")])
        self.assertNotFound(c.reset_cache_parameter_group, not_found("app-params"),
                            CacheParameterGroupName="app-params", ResetAllParameters=True)
        self.assertNotFound(c.delete_cache_parameter_group, delete_not_found("app-params"),
                            CacheParameterGroupName="app-params")
        self.assertNotFound(c.list_tags_for_resource, not_found("app-params"), ResourceName=a)
        self.assertNotFound(c.add_tags_to_resource, not_found("app-params"), ResourceName=a,
                            Tags=[{"Key": "k", "Value": "v"}])
        groups = self.ok(c.describe_cache_parameter_groups)["CacheParameterGroups"]
        self.assertEqual([g["CacheParameterGroupName"] for g in groups], DEFAULT_GROUPS)

        # Its events outlive it, newest first.
        events = self.ok(c.describe_events, SourceType=SOURCE_TYPE, SourceIdentifier="app-params")["Events"]
        self.assertEqual([[e["SourceIdentifier"], e["SourceType"], e["Message"]] for e in events],
                         [["app-params", SOURCE_TYPE, m] for m in (EV_DELETED, EV_RESET, EV_RESET, EV_MODIFIED,
                                                                    EV_CREATED)])
        for e in events:
            self.assertLessEqual(floor_ms(t0), e["Date"], e)
            self.assertLessEqual(e["Date"], t1, e)

    def test_defaults_and_catalogue_boto3(self):
        c = b3(self.server)
        # The default groups are in every account and region.
        for account, region in ((ACCOUNT, REGION), ("222222222222", "eu-west-1")):
            with self.subTest(account=account, region=region):
                other = b3(self.server, account, region)
                self.assertEqual(self.ok(other.describe_cache_parameter_groups,
                                         CacheParameterGroupName="default.redis7.cluster.on"),
                                 {"CacheParameterGroups": [pgroup(
                                     "default.redis7.cluster.on", "redis7",
                                     "Customized default parameter group for redis7 with cluster mode on",
                                     account, region)]})
        # The cluster-mode default shows its difference as set; default.redis7 none.
        self.assertEqual(self.user_values(c, "default.redis7.cluster.on"), {"cluster-enabled": "yes"})
        self.assertEqual(self.user_values(c, "default.redis7"), {})

        # Engine defaults: a small family in one page, with its node-type-
        # specific parameters; every parameter a system one.
        d = self.ok(c.describe_engine_default_parameters, CacheParameterGroupFamily="memcached1.6")["EngineDefaults"]
        self.assertEqual(d["CacheParameterGroupFamily"], "memcached1.6")
        self.assertNotIn("Marker", d)
        names = [p["ParameterName"] for p in d["Parameters"]]
        self.assertEqual(names, sorted(set(names)))
        self.assertIn("max_item_size", names)
        self.assertTrue(d["CacheNodeTypeSpecificParameters"], d)
        for p in d["CacheNodeTypeSpecificParameters"]:
            self.assertTrue(p["CacheNodeTypeSpecificValues"], p)
        # The SDK's paginator (result key EngineDefaults.Parameters) walks
        # redis7's pages.
        pages = list(c.get_paginator("describe_engine_default_parameters").paginate(
            CacheParameterGroupFamily="redis7", PaginationConfig={"PageSize": 20}))
        self.assertGreater(len(pages), 1)
        pnames = [p["ParameterName"] for pg in pages for p in pg["EngineDefaults"]["Parameters"]]
        self.assertEqual(pnames, sorted(set(pnames)))
        self.assertIn("maxmemory-policy", pnames)

        # Engine versions: every one (pages of 20), then the filters.
        every = [v for pg in c.get_paginator("describe_cache_engine_versions").paginate(
            PaginationConfig={"PageSize": 20}) for v in versions(pg)]
        self.assertEqual(len(every), len(set(every)))
        self.assertGreater(len(every), 20)
        self.assertEqual(sorted({e for e, _, _ in every}), ["memcached", "redis", "valkey"])
        self.assertEqual(versions(self.ok(c.describe_cache_engine_versions, CacheParameterGroupFamily="redis7")),
                         [("redis", "7.0", "redis7"), ("redis", "7.1", "redis7")])
        self.assertEqual(versions(self.ok(c.describe_cache_engine_versions, Engine="Redis", EngineVersion="6.x")),
                         [("redis", "6.0", "redis6.x"), ("redis", "6.2", "redis6.x")])
        self.assertEqual(versions(self.ok(c.describe_cache_engine_versions, Engine="redis", EngineVersion="7.1")),
                         [("redis", "7.1", "redis7")])
        memcached = versions(self.ok(c.describe_cache_engine_versions, Engine="memcached"))
        self.assertEqual(memcached, [v for v in every if v[0] == "memcached"])
        # What the catalogue knows of a version, and nothing it does not.
        self.assertEqual(self.ok(c.describe_cache_engine_versions, Engine="redis", EngineVersion="2.6.13"),
                         {"CacheEngineVersions": [{"Engine": "redis", "EngineVersion": "2.6.13",
                                                   "CacheParameterGroupFamily": "redis2.6",
                                                   "CacheEngineDescription": "Redis",
                                                   "CacheEngineVersionDescription": "redis version 2.6.13"}]})
        # DefaultOnly: one per engine, the newest of each (no source marks one).
        newest = {e: max((x for x in every if x[0] == e), key=lambda x: tuple(int(n) for n in x[1].split(".")))
                  for e in ("redis", "valkey", "memcached")}
        self.assertEqual(versions(self.ok(c.describe_cache_engine_versions, DefaultOnly=True)),
                         [newest["redis"], newest["valkey"], newest["memcached"]])
        self.assertEqual(versions(self.ok(c.describe_cache_engine_versions, Engine="valkey", DefaultOnly=True)),
                         [newest["valkey"]])
        self.assertEqual(self.ok(c.describe_cache_engine_versions, Engine="valkey", EngineVersion="6.2"),
                         {"CacheEngineVersions": []})

    def test_faults_boto3(self):
        c = b3(self.server)
        self.ok(c.create_cache_parameter_group, CacheParameterGroupName="p", CacheParameterGroupFamily="redis7",
                Description="d")
        self.ok(c.modify_cache_parameter_group, CacheParameterGroupName="p",
                ParameterNameValues=[nv("maxmemory-policy", "allkeys-lru")])

        # Create.
        create = c.create_cache_parameter_group
        self.assertB3Error(create, "CacheParameterGroupAlreadyExistsFault", "CacheParameterGroupAlreadyExists",
                           already_exists("p"), 400, CacheParameterGroupName="P", CacheParameterGroupFamily="redis7",
                           Description="again")
        self.assertInvalid(create, CREATE_UNKNOWN_FAMILY, CacheParameterGroupName="q",
                           CacheParameterGroupFamily="redis99", Description="d")
        for name in ("default.mine", "Default.redis7"):
            self.assertInvalid(create, RESERVED_MSG, CacheParameterGroupName=name, CacheParameterGroupFamily="redis7",
                               Description="d")

        # Not found: describe (a default-looking name too), parameters, modify, reset, delete.
        self.assertNotFound(c.describe_cache_parameter_groups, not_found("nobody"), CacheParameterGroupName="nobody")
        self.assertNotFound(c.describe_cache_parameter_groups, not_found("default.redis99"),
                            CacheParameterGroupName="default.redis99")
        self.assertNotFound(c.describe_cache_parameters, not_found("nobody"), CacheParameterGroupName="nobody")
        self.assertNotFound(c.modify_cache_parameter_group, not_found("nobody"), CacheParameterGroupName="nobody",
                            ParameterNameValues=[nv("timeout", "30")])
        self.assertNotFound(c.reset_cache_parameter_group, not_found("nobody"), CacheParameterGroupName="nobody",
                            ParameterNameValues=[nv("timeout")])
        self.assertNotFound(c.delete_cache_parameter_group, delete_not_found("nobody"),
                            CacheParameterGroupName="nobody")

        # Modify: one bad entry among good ones and nothing changes.
        modify = c.modify_cache_parameter_group
        for entry, message in ((nv("cluster-enabled", "yes"), cannot_modify("cluster-enabled")),
                               (nv("no-such-parameter", "1"), no_such_parameter("no-such-parameter", "redis7")),
                               (nv("maxmemory-policy", "sometimes"), bad_value("sometimes", "maxmemory-policy", POLICIES)),
                               (nv("activedefrag", "maybe"), bad_value("maybe", "activedefrag", "yes,no")),
                               (nv("active-defrag-cycle-max", "76"), bad_value("76", "active-defrag-cycle-max", "1-75"))):
            with self.subTest(entry=entry):
                self.assertInvalid(modify, message, CacheParameterGroupName="p",
                                   ParameterNameValues=[nv("timeout", "60"), entry])
        self.assertInvalid(modify, TOO_MANY_MSG, CacheParameterGroupName="p",
                           ParameterNameValues=[nv("timeout", str(300 + i)) for i in range(21)])
        self.assertInvalid(modify, DEFAULT_MODIFY_MSG, CacheParameterGroupName="default.redis7",
                           ParameterNameValues=[nv("timeout", "30")])

        # Reset.
        reset = c.reset_cache_parameter_group
        self.assertInvalid(reset, cannot_modify("cluster-enabled"), CacheParameterGroupName="p",
                           ParameterNameValues=[nv("cluster-enabled")])
        self.assertInvalid(reset, no_such_parameter("nope", "redis7"), CacheParameterGroupName="p",
                           ParameterNameValues=[nv("maxmemory-policy"), nv("nope")])
        self.assertInvalid(reset, TOO_MANY_MSG, CacheParameterGroupName="p",
                           ParameterNameValues=[nv("timeout")] * 21)
        self.assertB3Error(reset, "InvalidParameterCombinationException", "InvalidParameterCombination",
                           COMBINATION_MSG, 400, CacheParameterGroupName="p", ResetAllParameters=True,
                           ParameterNameValues=[nv("timeout")])
        self.assertInvalid(reset, DEFAULT_MODIFY_MSG, CacheParameterGroupName="default.redis7.cluster.on",
                           ResetAllParameters=True)
        # The refused modifications and resets left the group as it was.
        self.assertEqual(self.user_values(c, "p"), {"maxmemory-policy": "allkeys-lru"})

        # Delete and tag a default group.
        self.assertInvalid(c.delete_cache_parameter_group, DEFAULT_DELETE_MSG, CacheParameterGroupName="default.redis7")
        self.assertInvalid(c.add_tags_to_resource, DEFAULT_TAG_MSG, modeled=False,
                           ResourceName=pg_arn("default.redis7"), Tags=[{"Key": "k", "Value": "v"}])
        self.assertInvalid(c.remove_tags_from_resource, DEFAULT_TAG_MSG, modeled=False,
                           ResourceName=pg_arn("default.memcached1.6"), TagKeys=["k"])

        # Source, MaxRecords, Marker.
        self.assertInvalid(c.describe_cache_parameters, SOURCE_MSG, CacheParameterGroupName="p", Source="mine")
        for records in (19, 101):
            with self.subTest(MaxRecords=records):
                self.assertInvalid(c.describe_cache_parameter_groups, MAX_RECORDS_MSG, MaxRecords=records)
                self.assertInvalid(c.describe_cache_parameters, MAX_RECORDS_MSG, CacheParameterGroupName="p",
                                   MaxRecords=records)
                self.assertInvalid(c.describe_engine_default_parameters, MAX_RECORDS_MSG,
                                   CacheParameterGroupFamily="redis7", MaxRecords=records)
                self.assertInvalid(c.describe_cache_engine_versions, MAX_RECORDS_MSG, modeled=False,
                                   MaxRecords=records)
        self.assertInvalid(c.describe_cache_parameter_groups, MARKER_MSG, Marker="garbage")
        self.assertInvalid(c.describe_cache_parameters, MARKER_MSG, CacheParameterGroupName="p", Marker="garbage")
        self.assertInvalid(c.describe_engine_default_parameters, MARKER_MSG, CacheParameterGroupFamily="redis7",
                           Marker="garbage")
        self.assertInvalid(c.describe_cache_engine_versions, MARKER_MSG, modeled=False, Marker="garbage")
        # A real marker of another operation is no marker here.
        marker = self.ok(c.describe_engine_default_parameters, CacheParameterGroupFamily="redis7",
                         MaxRecords=20)["EngineDefaults"]["Marker"]
        self.assertInvalid(c.describe_cache_parameters, MARKER_MSG, CacheParameterGroupName="p", Marker=marker)

        # The catalogue's reads: an unknown family or engine.
        self.assertInvalid(c.describe_engine_default_parameters, unknown_family("redis99"),
                           CacheParameterGroupFamily="redis99")
        self.assertInvalid(c.describe_cache_engine_versions, unknown_family("redis99"), modeled=False,
                           CacheParameterGroupFamily="redis99")
        self.assertInvalid(c.describe_cache_engine_versions, ENGINE_MSG, modeled=False, Engine="mongodb")


# -------------------------------------------------------------------- CLI

class T02CLI(Case):

    def test_lifecycle_cli(self):
        s = self.server
        out = self.assertCLIOK(cli(s, "create-cache-parameter-group", "--cache-parameter-group-name", "Cli-Params",
                                   "--cache-parameter-group-family", "valkey8", "--description", "from the cli",
                                   "--tags", "Key=env,Value=test"))
        created = pgroup("cli-params", "valkey8", "from the cli")
        self.assertEqual(out, {"CacheParameterGroup": created})
        self.assertEqual(self.assertCLIOK(cli(s, "describe-cache-parameter-groups", "--cache-parameter-group-name",
                                              "CLI-PARAMS")),
                         {"CacheParameterGroups": [created]})
        # The CLI pages through all of them itself and merges the pages.
        out = self.assertCLIOK(cli(s, "describe-cache-parameter-groups", "--page-size", "20"))
        self.assertEqual([g["CacheParameterGroupName"] for g in out["CacheParameterGroups"]],
                         ["cli-params"] + DEFAULT_GROUPS)
        self.assertNotIn("NextToken", out)

        self.assertEqual(self.assertCLIOK(cli(s, "modify-cache-parameter-group", "--cache-parameter-group-name",
                                              "cli-params", "--parameter-name-values",
                                              "ParameterName=maxmemory-policy,ParameterValue=volatile-lru",
                                              "ParameterName=timeout,ParameterValue=120")),
                         {"CacheParameterGroupName": "cli-params"})
        out = self.assertCLIOK(cli(s, "describe-cache-parameters", "--cache-parameter-group-name", "cli-params",
                                   "--source", "user"))
        self.assertEqual({p["ParameterName"]: (p["ParameterValue"], p["Source"]) for p in out["Parameters"]},
                         {"maxmemory-policy": ("volatile-lru", "user"), "timeout": ("120", "user")})
        # All parameters, merged from pages of 20, the same names as the
        # family's engine defaults.
        out = self.assertCLIOK(cli(s, "describe-cache-parameters", "--cache-parameter-group-name", "cli-params",
                                   "--page-size", "20"))
        names = [p["ParameterName"] for p in out["Parameters"]]
        self.assertGreater(len(names), 20)
        self.assertEqual(names, sorted(set(names)))
        # The CLI merges the pages of EngineDefaults.Parameters and keeps
        # nothing else of EngineDefaults (its paginator has no
        # non-aggregate keys); --no-paginate shows the whole answer.
        out = self.assertCLIOK(cli(s, "describe-engine-default-parameters", "--cache-parameter-group-family", "valkey8",
                                   "--page-size", "20"))
        self.assertEqual(list(out), ["EngineDefaults"])
        self.assertEqual(list(out["EngineDefaults"]), ["Parameters"])
        self.assertEqual([p["ParameterName"] for p in out["EngineDefaults"]["Parameters"]], names)
        d = self.assertCLIOK(cli(s, "describe-engine-default-parameters", "--cache-parameter-group-family", "valkey8",
                                 "--no-paginate"))["EngineDefaults"]
        self.assertEqual(d["CacheParameterGroupFamily"], "valkey8")
        self.assertNotIn("Marker", d)
        self.assertEqual([p["ParameterName"] for p in d["Parameters"]], names)
        self.assertTrue(d["CacheNodeTypeSpecificParameters"], d)

        self.assertEqual(self.assertCLIOK(cli(s, "reset-cache-parameter-group", "--cache-parameter-group-name",
                                              "cli-params", "--parameter-name-values", "ParameterName=timeout")),
                         {"CacheParameterGroupName": "cli-params"})
        out = self.assertCLIOK(cli(s, "describe-cache-parameters", "--cache-parameter-group-name", "cli-params",
                                   "--source", "user"))
        self.assertEqual([p["ParameterName"] for p in out["Parameters"]], ["maxmemory-policy"])
        self.assertEqual(self.assertCLIOK(cli(s, "reset-cache-parameter-group", "--cache-parameter-group-name",
                                              "cli-params", "--reset-all-parameters")),
                         {"CacheParameterGroupName": "cli-params"})
        out = self.assertCLIOK(cli(s, "describe-cache-parameters", "--cache-parameter-group-name", "cli-params",
                                   "--source", "user"))
        self.assertEqual(out["Parameters"], [])

        self.assertEqual(self.assertCLIOK(cli(s, "list-tags-for-resource", "--resource-name", pg_arn("cli-params"))),
                         {"TagList": [{"Key": "env", "Value": "test"}]})
        out = self.assertCLIOK(cli(s, "describe-cache-engine-versions", "--engine", "valkey", "--default-only"))
        self.assertEqual(len(out["CacheEngineVersions"]), 1, out)
        self.assertEqual(out["CacheEngineVersions"][0]["Engine"], "valkey")
        out = self.assertCLIOK(cli(s, "describe-cache-engine-versions", "--cache-parameter-group-family", "redis7"))
        self.assertEqual(versions(out), [("redis", "7.0", "redis7"), ("redis", "7.1", "redis7")])

        # delete prints nothing: the answer has no fields.
        self.assertIsNone(self.assertCLIOK(cli(s, "delete-cache-parameter-group", "--cache-parameter-group-name",
                                               "cli-params")))
        self.assertCLIError(cli(s, "describe-cache-parameter-groups", "--cache-parameter-group-name", "cli-params"),
                            "DescribeCacheParameterGroups", "CacheParameterGroupNotFound", not_found("cli-params"))

    def test_faults_cli(self):
        s = self.server
        # The group itself through boto3: these are about the CLI's errors.
        c = b3(s)
        self.ok(c.create_cache_parameter_group, CacheParameterGroupName="p", CacheParameterGroupFamily="redis7",
                Description="d")

        def create(name, family="redis7"):
            return cli(s, "create-cache-parameter-group", "--cache-parameter-group-name", name,
                       "--cache-parameter-group-family", family, "--description", "d")

        self.assertCLIError(create("P"), "CreateCacheParameterGroup", "CacheParameterGroupAlreadyExists",
                            already_exists("p"))
        self.assertCLIError(create("q", "redis99"), "CreateCacheParameterGroup", "InvalidParameterValue",
                            CREATE_UNKNOWN_FAMILY)
        self.assertCLIError(cli(s, "delete-cache-parameter-group", "--cache-parameter-group-name", "nobody"),
                            "DeleteCacheParameterGroup", "CacheParameterGroupNotFound", delete_not_found("nobody"))
        self.assertCLIError(cli(s, "delete-cache-parameter-group", "--cache-parameter-group-name", "default.redis7"),
                            "DeleteCacheParameterGroup", "InvalidParameterValue", DEFAULT_DELETE_MSG)
        self.assertCLIError(cli(s, "modify-cache-parameter-group", "--cache-parameter-group-name", "p",
                                "--parameter-name-values", "ParameterName=cluster-enabled,ParameterValue=yes"),
                            "ModifyCacheParameterGroup", "InvalidParameterValue", cannot_modify("cluster-enabled"))
        self.assertCLIError(cli(s, "modify-cache-parameter-group", "--cache-parameter-group-name", "default.redis7",
                                "--parameter-name-values", "ParameterName=timeout,ParameterValue=30"),
                            "ModifyCacheParameterGroup", "InvalidParameterValue", DEFAULT_MODIFY_MSG)
        self.assertCLIError(cli(s, "reset-cache-parameter-group", "--cache-parameter-group-name", "nobody",
                                "--reset-all-parameters"),
                            "ResetCacheParameterGroup", "CacheParameterGroupNotFound", not_found("nobody"))
        self.assertCLIError(cli(s, "describe-cache-parameters", "--cache-parameter-group-name", "p",
                                "--source", "mine"),
                            "DescribeCacheParameters", "InvalidParameterValue", SOURCE_MSG)
        self.assertCLIError(cli(s, "describe-cache-parameter-groups", "--page-size", "19"),
                            "DescribeCacheParameterGroups", "InvalidParameterValue", MAX_RECORDS_MSG)
        self.assertCLIError(cli(s, "add-tags-to-resource", "--resource-name", pg_arn("default.redis7"),
                                "--tags", "Key=k,Value=v"),
                            "AddTagsToResource", "InvalidParameterValue", DEFAULT_TAG_MSG)
        self.assertCLIError(cli(s, "describe-cache-engine-versions", "--engine", "mongodb"),
                            "DescribeCacheEngineVersions", "InvalidParameterValue", ENGINE_MSG)
        self.assertEqual(self.user_values(c, "p"), {})


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
