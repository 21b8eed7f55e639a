#!/usr/bin/env python3
"""End-to-end suite: users and user groups through boto3 and the AWS CLI.

A wire smoke test of the family (service/users.go, service/usergroups.go):
the happy path of Create/Describe/Modify/DeleteUser and
Create/Describe/Modify/DeleteUserGroup (users with passwords, without, with
IAM authentication; DescribeUsers by ID, filtered and paged with the virtual
`default` user among the pages; access strings and passwords changed; a
group of the default user, members added, removed and the default user
swapped; tags on user and usergroup ARNs; deletes), with the statuses the
server shows at its default (immediate) timing: a Create answers creating, a
Modify modifying, a Delete deleting, every later read active or NotFound.

And every fault: UserAlreadyExists, UserNotFound (404), UserQuotaExceeded,
InvalidParameterValue (malformed access strings, a password too short or
too long, three passwords, no password, the default user modified, deleted
or tagged, bad IDs, a member removed that is not one, a no-password user in
a valkey group), InvalidParameterCombination (an iam user named otherwise,
passwords with NoPasswordRequired, nothing to modify), DefaultUserRequired,
DuplicateUserName, DefaultUserAssociatedToUserGroup, UserGroupAlreadyExists,
UserGroupNotFound (404), UserGroupQuotaExceeded, and InvalidUserState /
InvalidUserGroupState on a server with --user-transition-delay.

Passwords never appear in an answer: every boto3 client of this suite
records the raw body of every answer (errors too) and every test ends by
checking that none holds any password this suite ever sent, nor the aws
CLI's output, nor the server's log.

boto3 errors are checked as the modeled exception when the operation's model
lists the fault, and by Code otherwise; always with the HTTP status, the
message and the Sender/RequestId envelope (harness.ClientCase.assertB3Error).
Each test starts a server of its own (config: account 222222222222 has a
quota of 2 users and 1 user group) and stops it with SIGTERM.

Usage:  python3 test_users.py SERVER_BIN [PATTERN...]   (or SERVER_BIN=... in the env)

Never skips: a missing boto3 or aws CLI is a loud failure. The last line
printed is "N passed, M failed"; the exit code is non-zero on any failure.
"""

import os
import sys
import unittest

# harness.py lives next to this script: importable whatever the cwd.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  first: it checks boto3 (see harness.py)
from harness import NO_RETRY  # noqa: E402

SUITE = harness.Suite("the boto3/AWS CLI users suite", "elasticache-e2e-users-")

SECRET = "e2e-secret-key"
REGION = "us-east-1"


def client_env(key, region=REGION):
    return SUITE.client_env(key, SECRET, region, extra=harness.ONE_ATTEMPT)


# boto3 runs in this process: make its environment hermetic too.
harness.make_process_hermetic(client_env("AKIDNOTUSED"))

ACCOUNT = "111111111111"        # no quota: the happy paths
QUOTA_ACCOUNT = "222222222222"  # 2 users, 1 user group
PAGES_ACCOUNT = "444444444444"  # the paged describes
CONFIG_YAML = """
accounts:
  - id: "222222222222"
    quotas:
      users: 2
      userGroups: 1
"""
CONFIG_PATH = os.path.join(SUITE.tmp, "users.yaml")
with open(CONFIG_PATH, "w") as _f:
    _f.write(CONFIG_YAML)

# Every password this suite sends, accepted or refused: none may ever come
# back in an answer, a CLI output or the server's log.
PW1 = "e2e-first-password-0001"
PW2 = "e2e-second-password-0002"
PW3 = "e2e-third-password-0003"
PW_CLI = "e2e-cli-password-00004"
PW_SHORT = "e2e-short-pw-15"  # 15 characters
PW_LONG = "e2e-long-password-" + "z" * 111  # 129 characters
PASSWORDS = (PW1, PW2, PW3, PW_CLI, PW_SHORT, PW_LONG)
assert len(PW_SHORT) == 15 and len(PW_LONG) == 129

ALL_ACCESS = "on ~* +@all"
PW_LEN_MSG = "Passwords length must be between 16-128 characters."
NO_PW_MSG = ("No password was provided. If you want to create/update the user without password, "
             "please use the NoPasswordRequired flag.")
PW_IN_ACL_MSG = ("Invalid value for parameter AccessString: passwords cannot be set in an access string; "
                 "use Passwords or AuthenticationMode.")
RESET_MSG = "Invalid value for parameter AccessString: reset cannot be used: ElastiCache manages the user's passwords."
IAM_NAME_MSG = "User Id and User name must be same for authentication type: iam"
NO_MODS_MSG = "No modifications were requested."
DEFAULT_REQUIRED_MSG = "User group needs to contain a user with the user name default."
DEFAULT_MODIFY_MSG = "The default user cannot be modified."
DEFAULT_DELETE_MSG = "The default user cannot be deleted."
DEFAULT_TAG_MSG = "The default user cannot be tagged."
USER_QUOTA_MSG = "The quota of users has been exceeded."
GROUP_QUOTA_MSG = "Quota exceeded for user groups."


def user_arn(uid, account=ACCOUNT):
    return f"arn:aws:elasticache:{REGION}:{account}:user:{uid}"


def group_arn(gid, account=ACCOUNT):
    return f"arn:aws:elasticache:{REGION}:{account}:usergroup:{gid}"


def user(uid, name, status, auth, pw_count=None, engine="redis", access=ALL_ACCESS, groups=(), account=ACCOUNT):
    """The User a client should parse."""
    a = {"Type": auth}
    if pw_count is not None:
        a["PasswordCount"] = pw_count
    return {"UserId": uid, "UserName": name, "Status": status, "Engine": engine,
            "MinimumEngineVersion": "7.2" if engine == "valkey" else "6.0", "AccessString": access,
            "UserGroupIds": list(groups), "Authentication": a, "ARN": user_arn(uid, account)}


def default_user(account=ACCOUNT, groups=()):
    return user("default", "default", "active", "no-password", groups=groups, account=account)


def group(gid, status, members, engine="redis", pending=None, account=ACCOUNT):
    """The UserGroup a client should parse."""
    g = {"UserGroupId": gid, "Status": status, "Engine": engine, "UserIds": list(members),
         "MinimumEngineVersion": "7.2" if engine == "valkey" else "6.0",
         "ReplicationGroups": [], "ServerlessCaches": [], "ARN": group_arn(gid, account)}
    if pending is not None:
        g["PendingChanges"] = {"UserIdsToAdd": list(pending[0]), "UserIdsToRemove": list(pending[1])}
    return g


def user_not_found(uid):
    return ("UserNotFoundFault", "UserNotFound", f"User {uid} not found.", 404)


def group_not_found(gid):
    return ("UserGroupNotFoundFault", "UserGroupNotFound", f"UserGroup {gid} not found.", 404)


def invalid(param, rule):
    return f"Invalid value for parameter {param}: {rule}"


class Case(harness.ClientCase):

    # Extra server flags of the tests of a class.
    EXTRA = ()

    def setUp(self):
        """A server of this test's own; SIGTERMed at the end of the test,
        and checked to stop cleanly and to have logged no password."""
        self.server = SUITE.server(self.id().rsplit(".", 1)[-1].replace("_", "-"),
                                   extra=["--config", CONFIG_PATH, *self.EXTRA]).start()
        self.answers = []  # (operation, raw body) of every boto3 answer
        self.cli_outputs = []

    def tearDown(self):
        self.assertNoPasswords()
        if self.server.running():
            rc, _ = self.server.stop()
            self.assertEqual(rc, 0, f"exit code after SIGTERM\n{self.server.log_text()}")
            errors = [r for r in self.server.log_records() if r.get("level") == "ERROR"]
            self.assertEqual(errors, [], "errors logged")
        log = self.server.log_text()
        for pw in PASSWORDS:
            self.assertNotIn(pw, log, "the server's log holds a password")

    def assertNoPasswords(self):
        """No answer (raw body, success or error), CLI output or error line
        of this test holds a password; and there were answers to check."""
        self.assertTrue(self.answers or self.cli_outputs, "no answer recorded")
        for op, body in self.answers:
            # The recorder saw the body itself, not a consumed stream.
            self.assertIn(b"<RequestId>", body, f"the answer to {op} was not recorded whole")
            for pw in PASSWORDS:
                self.assertNotIn(pw.encode(), body, f"the answer to {op} holds a password:\n{body!r}")
        for res in self.cli_outputs:
            for pw in PASSWORDS:
                self.assertNotIn(pw, res.out + res.err, f"the CLI shows a password:\n{res!r}")

    def b3(self, key=ACCOUNT, server=None):
        """A fresh boto3 client (one attempt) whose every answer's raw body
        is recorded for assertNoPasswords."""
        c = harness.b3_client((server or self.server).url, key, SECRET, REGION, NO_RETRY)

        def record(http_response, model, **_):
            self.answers.append((model.name, http_response.content))

        c.meta.events.register("after-call.elasticache", record)
        return c

    def cli(self, op, *args, key=ACCOUNT):
        res = SUITE.cli(self.server.url, client_env(key), op, *args)
        self.cli_outputs.append(res)
        return res

    def ok(self, fn, **kwargs):
        """fn(**kwargs) answered 200 with a RequestId; returns the output
        without its ResponseMetadata."""
        out = fn(**kwargs)
        meta = out.pop("ResponseMetadata")
        self.assertEqual(meta["HTTPStatusCode"], 200, f"{fn.__name__}({kwargs!r})")
        self.assertTrue(meta.get("RequestId"), meta)
        self.assertEqual(meta["HTTPHeaders"].get("x-amzn-requestid"), meta["RequestId"], meta)
        return out

    def create_user(self, c, uid, name=None, **kw):
        args = {"UserId": uid, "UserName": name or uid, "Engine": "redis", "AccessString": ALL_ACCESS}
        if not ({"Passwords", "NoPasswordRequired", "AuthenticationMode"} & kw.keys()):
            args["Passwords"] = [PW1]
        args.update(kw)
        return self.ok(c.create_user, **args)

    def describe_user(self, c, uid):
        out = self.ok(c.describe_users, UserId=uid)
        self.assertEqual(len(out["Users"]), 1, out)
        self.assertNotIn("Marker", out)
        return out["Users"][0]

    def describe_group(self, c, gid):
        out = self.ok(c.describe_user_groups, UserGroupId=gid)
        self.assertEqual(len(out["UserGroups"]), 1, out)
        return out["UserGroups"][0]


# ------------------------------------------------------------------ boto3

class T01Boto3(Case):

    def test_users_lifecycle_boto3(self):
        c = self.b3()
        # Create with two passwords: the ID lowercase, the engine as well,
        # the answer creating and no password, only their count.
        out = self.ok(c.create_user, UserId="App-User", UserName="app user", Engine="REDIS",
                      AccessString="on ~app:* +@read", Passwords=[PW1, PW2],
                      Tags=[{"Key": "env", "Value": "test"}])
        self.assertEqual(out, user("app-user", "app user", "creating", "password", 2, access="on ~app:* +@read"))
        self.assertEqual(self.describe_user(c, "APP-USER"),
                         user("app-user", "app user", "active", "password", 2, access="on ~app:* +@read"))
        # Without a password; with IAM (its name is its ID); through
        # AuthenticationMode password; the same password twice counts once.
        self.assertEqual(self.create_user(c, "open", NoPasswordRequired=True, Engine="valkey"),
                         user("open", "open", "creating", "no-password", engine="valkey"))
        self.assertEqual(self.create_user(c, "iam-user", AuthenticationMode={"Type": "iam"}, NoPasswordRequired=False),
                         user("iam-user", "iam-user", "creating", "iam"))
        self.assertEqual(self.create_user(c, "moded", AuthenticationMode={"Type": "password", "Passwords": [PW3]}),
                         user("moded", "moded", "creating", "password", 1))
        self.assertEqual(self.create_user(c, "twice", Passwords=[PW1, PW1]),
                         user("twice", "twice", "creating", "password", 1))
        self.assertEqual(self.create_user(c, "nopw-mode", AuthenticationMode={"Type": "no-password-required"}),
                         user("nopw-mode", "nopw-mode", "creating", "no-password"))

        # All of them, `default` among them in ID order, every one active.
        everyone = self.ok(c.describe_users)
        self.assertNotIn("Marker", everyone)
        self.assertEqual([(u["UserId"], u["Status"]) for u in everyone["Users"]],
                         [(u, "active") for u in ("app-user", "default", "iam-user", "moded", "nopw-mode", "open", "twice")])
        self.assertEqual(everyone["Users"][1], default_user())
        self.assertEqual(self.describe_user(c, "default"), default_user())
        # Engine and the user-id filter.
        self.assertEqual([u["UserId"] for u in self.ok(c.describe_users, Engine="valkey")["Users"]], ["open"])
        self.assertEqual([u["UserId"] for u in self.ok(c.describe_users, Filters=[
            {"Name": "user-id", "Values": ["OPEN", "default"]}])["Users"]], ["default", "open"])

        # Modify the access string (answer modifying, then active), append
        # to it, then the passwords: one, two, none, and back to one.
        out = self.ok(c.modify_user, UserId="app-user", AccessString="on ~app:* -@all +@read +@write")
        self.assertEqual(out, user("app-user", "app user", "modifying", "password", 2,
                                   access="on ~app:* -@all +@read +@write"))
        out = self.ok(c.modify_user, UserId="app-user", AppendAccessString="-flushall")
        acl = "on ~app:* -@all +@read +@write -flushall"
        self.assertEqual(out, user("app-user", "app user", "modifying", "password", 2, access=acl))
        self.assertEqual(self.describe_user(c, "app-user"), user("app-user", "app user", "active", "password", 2, access=acl))
        out = self.ok(c.modify_user, UserId="app-user", AuthenticationMode={"Type": "password", "Passwords": [PW3]})
        self.assertEqual(out["Authentication"], {"Type": "password", "PasswordCount": 1})
        out = self.ok(c.modify_user, UserId="app-user", Passwords=[PW1, PW2], NoPasswordRequired=False)
        self.assertEqual(out["Authentication"], {"Type": "password", "PasswordCount": 2})
        out = self.ok(c.modify_user, UserId="app-user", NoPasswordRequired=True)
        self.assertEqual(out, user("app-user", "app user", "modifying", "no-password", access=acl))
        out = self.ok(c.modify_user, UserId="open", Passwords=[PW2], Engine="redis")
        self.assertEqual(out, user("open", "open", "modifying", "password", 1))
        self.assertEqual(self.describe_user(c, "open"), user("open", "open", "active", "password", 1))

        # Tags on the user's ARN; the default user's list is empty.
        a = user_arn("app-user")
        self.assertEqual(self.ok(c.list_tags_for_resource, ResourceName=a), {"TagList": [{"Key": "env", "Value": "test"}]})
        self.assertEqual(self.ok(c.add_tags_to_resource, ResourceName=a, Tags=[{"Key": "team", "Value": "core"}]),
                         {"TagList": [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "core"}]})
        self.assertEqual(self.ok(c.remove_tags_from_resource, ResourceName=a, TagKeys=["env"]),
                         {"TagList": [{"Key": "team", "Value": "core"}]})
        self.assertEqual(self.ok(c.list_tags_for_resource, ResourceName=user_arn("default")), {"TagList": []})

        # Delete: the answer deleting, then the user is gone for every
        # operation, its tags with it.
        self.assertEqual(self.ok(c.delete_user, UserId="App-User"),
                         user("app-user", "app user", "deleting", "no-password", access=acl))
        nf = user_not_found("app-user")
        self.assertB3Error(c.describe_users, *nf, UserId="app-user")
        self.assertB3Error(c.modify_user, *nf, UserId="app-user", AccessString="on")
        self.assertB3Error(c.delete_user, *nf, UserId="app-user")
        self.assertB3Error(c.list_tags_for_resource, *nf, ResourceName=a)
        self.assertB3Error(c.add_tags_to_resource, *nf, ResourceName=a, Tags=[{"Key": "k", "Value": "v"}])
        self.assertB3Error(c.remove_tags_from_resource, *nf, ResourceName=a, TagKeys=["team"])
        for uid in ("iam-user", "moded", "nopw-mode", "open", "twice"):
            self.assertEqual(self.ok(c.delete_user, UserId=uid)["Status"], "deleting")
        self.assertEqual(self.ok(c.describe_users), {"Users": [default_user()]})

    def test_user_groups_lifecycle_boto3(self):
        c = self.b3()
        self.create_user(c, "app")
        self.create_user(c, "ops", Passwords=[PW2, PW3])
        self.create_user(c, "my-default", "default", Passwords=[PW3])
        # A group of the default user and one more: the IDs sorted.
        out = self.ok(c.create_user_group, UserGroupId="Web", Engine="REDIS", UserIds=["default", "app", "app"],
                      Tags=[{"Key": "team", "Value": "core"}])
        self.assertEqual(out, group("web", "creating", ["app", "default"]))
        self.assertEqual(self.describe_group(c, "WEB"), group("web", "active", ["app", "default"]))
        self.assertEqual(self.describe_user(c, "app")["UserGroupIds"], ["web"])
        self.assertEqual(self.describe_user(c, "default"), default_user(groups=["web"]))
        # A valkey group of users that authenticate.
        self.assertEqual(self.ok(c.create_user_group, UserGroupId="kv", Engine="valkey", UserIds=["my-default"]),
                         group("kv", "creating", ["my-default"], engine="valkey"))
        self.assertEqual(self.ok(c.describe_user_groups),
                         {"UserGroups": [group("kv", "active", ["my-default"], engine="valkey"),
                                         group("web", "active", ["app", "default"])]})

        # Add and remove: the answer modifying with the pending change; the
        # next read active, the new members, no pending change.
        out = self.ok(c.modify_user_group, UserGroupId="web", UserIdsToAdd=["ops"], UserIdsToRemove=["app"])
        self.assertEqual(out, group("web", "modifying", ["default", "ops"], pending=(["ops"], ["app"])))
        self.assertEqual(self.describe_group(c, "web"), group("web", "active", ["default", "ops"]))
        self.assertEqual(self.describe_user(c, "app")["UserGroupIds"], [])
        self.assertEqual(self.describe_user(c, "ops")["UserGroupIds"], ["web"])
        # Swap AWS's default user for the account's own in one call.
        out = self.ok(c.modify_user_group, UserGroupId="web", UserIdsToAdd=["my-default", "app"],
                      UserIdsToRemove=["default"])
        self.assertEqual(out, group("web", "modifying", ["app", "my-default", "ops"],
                                    pending=(["app", "my-default"], ["default"])))
        self.assertEqual(self.describe_user(c, "my-default")["UserGroupIds"], ["kv", "web"])
        # Adding a member is no change; the engine may change.
        out = self.ok(c.modify_user_group, UserGroupId="web", UserIdsToAdd=["ops"], Engine="valkey")
        self.assertEqual(out, group("web", "modifying", ["app", "my-default", "ops"], engine="valkey", pending=([], [])))

        # Tags on the group's ARN.
        a = group_arn("web")
        self.assertEqual(self.ok(c.list_tags_for_resource, ResourceName=a), {"TagList": [{"Key": "team", "Value": "core"}]})
        self.assertEqual(self.ok(c.add_tags_to_resource, ResourceName=a, Tags=[{"Key": "env", "Value": "prod"}]),
                         {"TagList": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "core"}]})
        self.assertEqual(self.ok(c.remove_tags_from_resource, ResourceName=a, TagKeys=["team"]),
                         {"TagList": [{"Key": "env", "Value": "prod"}]})

        # Deleting a member takes it out of its groups.
        self.assertEqual(self.ok(c.delete_user, UserId="ops"),
                         user("ops", "ops", "deleting", "password", 2, groups=["web"]))
        self.assertEqual(self.describe_group(c, "web")["UserIds"], ["app", "my-default"])

        # Delete the groups: the answer deleting, then NotFound everywhere;
        # the users stay.
        self.assertEqual(self.ok(c.delete_user_group, UserGroupId="Web"),
                         group("web", "deleting", ["app", "my-default"], engine="valkey"))
        nf = group_not_found("web")
        self.assertB3Error(c.describe_user_groups, *nf, UserGroupId="web")
        self.assertB3Error(c.modify_user_group, *nf, UserGroupId="web", UserIdsToAdd=["app"])
        self.assertB3Error(c.delete_user_group, *nf, UserGroupId="web")
        self.assertB3Error(c.list_tags_for_resource, *nf, ResourceName=a)
        self.assertB3Error(c.add_tags_to_resource, *nf, ResourceName=a, Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(self.ok(c.delete_user_group, UserGroupId="kv")["Status"], "deleting")
        self.assertEqual(self.ok(c.describe_user_groups), {"UserGroups": []})
        self.assertEqual([u["UserId"] for u in self.ok(c.describe_users)["Users"]], ["app", "default", "my-default"])
        self.assertEqual(self.describe_user(c, "my-default")["UserGroupIds"], [])

    def test_paginated_describes_boto3(self):
        # 21 users besides `default`, 21 groups: two pages of each.
        c = self.b3(PAGES_ACCOUNT)
        uids = [f"u{i:02d}" for i in range(1, 22)]
        for uid in uids:
            self.create_user(c, uid, NoPasswordRequired=True)
        want = sorted(uids + ["default"])
        first = self.ok(c.describe_users, MaxRecords=20)
        self.assertEqual([u["UserId"] for u in first["Users"]], want[:20])
        self.assertTrue(first.get("Marker"), first)
        second = self.ok(c.describe_users, MaxRecords=20, Marker=first["Marker"])
        self.assertEqual([u["UserId"] for u in second["Users"]], want[20:])
        self.assertNotIn("Marker", second)
        pages = list(c.get_paginator("describe_users").paginate(PaginationConfig={"PageSize": 20}))
        self.assertEqual([len(p["Users"]) for p in pages], [20, 2])
        users = [u for p in pages for u in p["Users"]]
        self.assertEqual([u["UserId"] for u in users], want)
        self.assertIn(default_user(PAGES_ACCOUNT), users)
        self.assertEqual({u["Status"] for u in users}, {"active"})

        gids = [f"g{i:02d}" for i in range(1, 22)]
        for gid in gids:
            self.ok(c.create_user_group, UserGroupId=gid, Engine="redis", UserIds=["default"])
        pages = list(c.get_paginator("describe_user_groups").paginate(PaginationConfig={"PageSize": 20}))
        self.assertEqual([len(p["UserGroups"]) for p in pages], [20, 1])
        self.assertEqual([g["UserGroupId"] for p in pages for g in p["UserGroups"]], gids)
        self.assertEqual(pages[0]["UserGroups"][0], group("g01", "active", ["default"], account=PAGES_ACCOUNT))
        self.assertEqual(self.describe_user(c, "default")["UserGroupIds"], gids)

    def test_user_faults_boto3(self):
        c = self.b3()
        self.create_user(c, "app")
        create, modify = c.create_user, c.modify_user
        IPV = ("InvalidParameterValueException", "InvalidParameterValue")
        IPC = ("InvalidParameterCombinationException", "InvalidParameterCombination")
        base = {"UserName": "n", "Engine": "redis", "AccessString": ALL_ACCESS}

        # Already exists, in any case; the default user too.
        self.assertB3Error(create, "UserAlreadyExistsFault", "UserAlreadyExists", "User app already exists.", 400,
                           UserId="APP", Passwords=[PW2], **base)
        self.assertB3Error(create, "UserAlreadyExistsFault", "UserAlreadyExists", "User default already exists.", 400,
                           UserId="Default", NoPasswordRequired=True, **base)
        # Malformed access strings, a password in one among them.
        for acl, msg in ((f"on >{PW2} ~* +@all", PW_IN_ACL_MSG), ("on nopass ~*", PW_IN_ACL_MSG),
                         ("on ~* +@all reset", RESET_MSG),
                         ("on ~* +@nosuch", invalid("AccessString", "+@nosuch names no command category.")),
                         ("on ~* bogus", invalid("AccessString", "bogus is not an access rule.")),
                         ("on (~* +get", invalid("AccessString", "a selector opened with ( is not closed with ).")),
                         ("   ", invalid("AccessString", "must not be empty."))):
            with self.subTest(acl=acl):
                self.assertB3Error(create, *IPV, msg, 400, UserId="acl", Passwords=[PW1],
                                   **{**base, "AccessString": acl})
        # Passwords: too short, too long, three, none at all.
        for pws, msg in (([PW_SHORT], PW_LEN_MSG), ([PW1, PW_LONG], PW_LEN_MSG),
                         ([PW1, PW2, PW3], invalid("Passwords", "a user has at most 2 passwords."))):
            with self.subTest(passwords=len(pws)):
                self.assertB3Error(create, *IPV, msg, 400, UserId="pw", Passwords=pws, **base)
        self.assertB3Error(create, *IPV, PW_LEN_MSG, 400, UserId="pw",
                           AuthenticationMode={"Type": "password", "Passwords": [PW_SHORT]}, **base)
        self.assertB3Error(create, *IPV, NO_PW_MSG, 400, UserId="pw", **base)
        self.assertB3Error(create, *IPV, NO_PW_MSG, 400, UserId="pw", NoPasswordRequired=False, **base)
        # Combinations that contradict themselves.
        self.assertB3Error(create, *IPC, IAM_NAME_MSG, 400, UserId="iam-user", AuthenticationMode={"Type": "iam"},
                           **base)
        self.assertB3Error(create, *IPC, "Passwords cannot be specified when NoPasswordRequired is true.", 400,
                           UserId="pw", Passwords=[PW1], NoPasswordRequired=True, **base)
        self.assertB3Error(create, *IPC, "Passwords cannot be specified together with AuthenticationMode.", 400,
                           UserId="pw", Passwords=[PW1], AuthenticationMode={"Type": "password", "Passwords": [PW2]},
                           **base)
        self.assertB3Error(create, *IPC, "Passwords cannot be provided for authentication type iam.", 400,
                           UserId="n", AuthenticationMode={"Type": "iam", "Passwords": [PW2]}, **base)
        # Bad IDs and engines.
        self.assertB3Error(create, *IPV, invalid("UserId", "must begin with a letter."), 400,
                           UserId="1st", Passwords=[PW1], **base)
        self.assertB3Error(create, *IPV, invalid("UserId", "must not end with a hyphen or contain two consecutive hyphens."),
                           400, UserId="a--b", Passwords=[PW1], **base)
        self.assertB3Error(create, *IPV, invalid("Engine", "must be redis or valkey."), 400,
                           UserId="mc", Passwords=[PW1], **{**base, "Engine": "memcached"})

        # Not found (404) and the default user, which cannot change.
        nf = user_not_found("nobody")
        self.assertB3Error(c.describe_users, *nf, UserId="nobody")
        self.assertB3Error(modify, *nf, UserId="nobody", AccessString="on")
        self.assertB3Error(c.delete_user, *nf, UserId="Nobody")
        self.assertB3Error(c.list_tags_for_resource, *nf, ResourceName=user_arn("nobody"))
        self.assertB3Error(modify, *IPV, DEFAULT_MODIFY_MSG, 400, UserId="default", AccessString="off")
        self.assertB3Error(modify, *IPV, DEFAULT_MODIFY_MSG, 400, UserId="default", Passwords=[PW2])
        self.assertB3Error(c.delete_user, *IPV, DEFAULT_DELETE_MSG, 400, UserId="default")
        # Not in AddTagsToResource's model: by Code.
        self.assertB3Error(c.add_tags_to_resource, None, "InvalidParameterValue", DEFAULT_TAG_MSG, 400,
                           ResourceName=user_arn("default"), Tags=[{"Key": "k", "Value": "v"}])
        # Nor is InvalidParameterValue in DescribeUsers'.
        self.assertB3Error(c.describe_users, None, "InvalidParameterValue",
                           invalid("Filters", "unknown filter name engine; the filter known is user-id."), 400,
                           Filters=[{"Name": "engine", "Values": ["redis"]}])
        self.assertB3Error(c.describe_users, None, "InvalidParameterValue", invalid("UserId", "must begin with a letter."),
                           400, UserId="-x")

        # ModifyUser's own.
        self.assertB3Error(modify, *IPC, NO_MODS_MSG, 400, UserId="app")
        self.assertB3Error(modify, *IPC, "AccessString and AppendAccessString cannot both be specified.", 400,
                           UserId="app", AccessString="on", AppendAccessString="-get")
        self.assertB3Error(modify, *IPV, PW_IN_ACL_MSG.replace("AccessString", "AppendAccessString", 1), 400,
                           UserId="app", AppendAccessString=f">{PW3}")
        self.assertB3Error(modify, *IPV, PW_LEN_MSG, 400, UserId="app", Passwords=[PW_LONG])
        self.assertB3Error(modify, *IPV, invalid("Passwords", "a user has at most 2 passwords."), 400,
                           UserId="app", Passwords=[PW1, PW2, PW3])
        self.create_user(c, "alias", "someone else", Passwords=[PW2])
        self.assertB3Error(modify, *IPC, IAM_NAME_MSG, 400, UserId="alias", AuthenticationMode={"Type": "iam"})
        self.create_user(c, "open", NoPasswordRequired=True)
        self.assertB3Error(modify, *IPV, NO_PW_MSG, 400, UserId="open", NoPasswordRequired=False)
        # The refused changes left the user as it was.
        self.assertEqual(self.describe_user(c, "app"), user("app", "app", "active", "password", 1))

        # The quota of the config file: 2 users in that account, `default`
        # not counted.
        q = self.b3(QUOTA_ACCOUNT)
        self.create_user(q, "one")
        self.create_user(q, "two")
        self.assertB3Error(q.create_user, "UserQuotaExceededFault", "UserQuotaExceeded", USER_QUOTA_MSG, 400,
                           UserId="three", Passwords=[PW1], **base)
        self.assertEqual([u["UserId"] for u in self.ok(q.describe_users)["Users"]], ["default", "one", "two"])

    def test_user_group_faults_boto3(self):
        c = self.b3()
        self.create_user(c, "app")
        self.create_user(c, "open", NoPasswordRequired=True)
        self.create_user(c, "my-default", "default", Passwords=[PW2])
        self.create_user(c, "app-twin", "app", Passwords=[PW3])
        create, modify = c.create_user_group, c.modify_user_group
        IPV = ("InvalidParameterValueException", "InvalidParameterValue")
        IPC = ("InvalidParameterCombinationException", "InvalidParameterCombination")
        DUR = ("DefaultUserRequired", "DefaultUserRequired", DEFAULT_REQUIRED_MSG, 400)

        # CreateUserGroup: no user named default, two of one name, a user
        # that does not exist, a no-password user in a valkey group.
        self.assertB3Error(create, *DUR, UserGroupId="g", Engine="redis", UserIds=["app"])
        self.assertB3Error(create, "DuplicateUserNameFault", "DuplicateUserName",
                           "Users default and my-default have the same user name default; "
                           "a user group holds one user of each name.", 400,
                           UserGroupId="g", Engine="redis", UserIds=["default", "my-default"])
        self.assertB3Error(create, "DuplicateUserNameFault", "DuplicateUserName",
                           "Users app and app-twin have the same user name app; a user group holds one user of each name.",
                           400, UserGroupId="g", Engine="redis", UserIds=["default", "app", "app-twin"])
        self.assertB3Error(create, *user_not_found("nobody"), UserGroupId="g", Engine="redis",
                           UserIds=["default", "nobody"])
        self.assertB3Error(create, *IPV, "No password user default cannot be added to user group with engine Valkey", 400,
                           UserGroupId="g", Engine="valkey", UserIds=["default"])
        self.assertB3Error(create, *IPV, "No password user open cannot be added to user group with engine Valkey", 400,
                           UserGroupId="g", Engine="valkey", UserIds=["my-default", "open"])
        self.assertB3Error(create, *IPV, invalid("UserGroupId", "must begin with a letter."), 400,
                           UserGroupId="9g", Engine="redis", UserIds=["default"])
        self.assertB3Error(create, *IPV, invalid("Engine", "must be redis or valkey."), 400,
                           UserGroupId="g", Engine="memcached", UserIds=["default"])
        self.ok(create, UserGroupId="g", Engine="redis", UserIds=["default", "app"])
        self.assertB3Error(create, "UserGroupAlreadyExistsFault", "UserGroupAlreadyExists",
                           "User group g already exists.", 400, UserGroupId="G", Engine="redis", UserIds=["default"])

        # ModifyUserGroup: the result must still hold a user named default,
        # one of each name, existing users.
        self.assertB3Error(modify, *DUR, UserGroupId="g", UserIdsToRemove=["default"])
        self.assertB3Error(modify, "DuplicateUserNameFault", "DuplicateUserName",
                           "Users default and my-default have the same user name default; "
                           "a user group holds one user of each name.", 400,
                           UserGroupId="g", UserIdsToAdd=["my-default"])
        self.assertB3Error(modify, *user_not_found("nobody"), UserGroupId="g", UserIdsToAdd=["nobody"])
        self.assertB3Error(modify, *IPV, "User open is not a member of user group g.", 400,
                           UserGroupId="g", UserIdsToRemove=["open"])
        self.assertB3Error(modify, *IPV, "No password user default cannot be added to user group with engine Valkey", 400,
                           UserGroupId="g", Engine="valkey")
        self.assertB3Error(modify, *IPC, NO_MODS_MSG, 400, UserGroupId="g")
        self.assertB3Error(modify, *IPC, "User app cannot be both added to and removed from a user group.", 400,
                           UserGroupId="g", UserIdsToAdd=["app"], UserIdsToRemove=["APP"])
        self.assertB3Error(modify, *group_not_found("nobody"), UserGroupId="nobody", UserIdsToAdd=["app"])
        self.assertB3Error(c.describe_user_groups, *group_not_found("nobody"), UserGroupId="nobody")
        self.assertB3Error(c.delete_user_group, *group_not_found("nobody"), UserGroupId="Nobody")
        self.assertB3Error(c.list_tags_for_resource, *group_not_found("nobody"), ResourceName=group_arn("nobody"))
        # The refused changes left the group as it was.
        self.assertEqual(self.describe_group(c, "g"), group("g", "active", ["app", "default"]))

        # A user named default that a group holds cannot be deleted; a
        # valkey group's member cannot become a no-password user.
        self.ok(create, UserGroupId="kv", Engine="valkey", UserIds=["my-default", "app"])
        self.assertB3Error(c.delete_user, "DefaultUserAssociatedToUserGroupFault", "DefaultUserAssociatedToUserGroup",
                           "User my-default is the default user of user group kv.", 400, UserId="my-default")
        self.assertB3Error(c.delete_user, *IPV, DEFAULT_DELETE_MSG, 400, UserId="default")
        self.assertB3Error(c.modify_user, *IPV,
                           "User app is in user group kv with engine valkey, which holds only users that authenticate.",
                           400, UserId="app", NoPasswordRequired=True)

        # More than 100 users in one group (the count is checked first).
        many = ["default"] + [f"user-{i:03d}" for i in range(100)]
        self.assertB3Error(create, "UserGroupQuotaExceededFault", "UserGroupQuotaExceeded",
                           "The number of users exceeds the user group limit.", 400,
                           UserGroupId="big", Engine="redis", UserIds=many)
        self.assertB3Error(modify, *IPV, invalid("UserIdsToAdd", "must begin with a letter."), 400,
                           UserGroupId="g", UserIdsToAdd=["0x"])

        # The quota of the config file: 1 group in that account.
        q = self.b3(QUOTA_ACCOUNT)
        self.ok(q.create_user_group, UserGroupId="one", Engine="redis", UserIds=["default"])
        self.assertB3Error(q.create_user_group, "UserGroupQuotaExceededFault", "UserGroupQuotaExceeded",
                           GROUP_QUOTA_MSG, 400, UserGroupId="two", Engine="redis", UserIds=["default"])
        self.assertEqual([g["UserGroupId"] for g in self.ok(q.describe_user_groups)["UserGroups"]], ["one"])


class T02Delayed(Case):
    """A server whose users and groups stay creating or modifying for an
    hour: the faults of changing them meanwhile."""

    EXTRA = ("--user-transition-delay", "1h")

    def test_not_active_boto3(self):
        c = self.b3()
        self.assertEqual(self.create_user(c, "app")["Status"], "creating")
        self.assertEqual(self.describe_user(c, "app")["Status"], "creating")
        st = ("InvalidUserStateFault", "InvalidUserState", "User app has status creating. Only active users can be %s.", 400)
        self.assertB3Error(c.modify_user, st[0], st[1], st[2] % "modified", st[3], UserId="app", AccessString="off")
        self.assertB3Error(c.delete_user, st[0], st[1], st[2] % "deleted", st[3], UserId="app")
        self.assertEqual(self.describe_user(c, "default")["Status"], "active")
        self.assertEqual(self.ok(c.create_user_group, UserGroupId="g", Engine="redis", UserIds=["default"])["Status"],
                         "creating")
        self.assertEqual(self.describe_group(c, "g")["Status"], "creating")
        gst = ("InvalidUserGroupStateFault", "InvalidUserGroupState",
               "User group g has status creating. Only active user groups can be %s.", 400)
        self.assertB3Error(c.modify_user_group, gst[0], gst[1], gst[2] % "modified", gst[3], UserGroupId="g",
                           UserIdsToAdd=["app"])
        self.assertB3Error(c.delete_user_group, gst[0], gst[1], gst[2] % "deleted", gst[3], UserGroupId="g")


# -------------------------------------------------------------------- CLI

class T03CLI(Case):

    def test_lifecycle_cli(self):
        out = self.assertCLIOK(self.cli("create-user", "--user-id", "App", "--user-name", "app", "--engine", "redis",
                                        "--access-string", "on ~* +@all", "--passwords", PW_CLI, PW1,
                                        "--tags", "Key=env,Value=test"))
        self.assertEqual(out, user("app", "app", "creating", "password", 2))
        self.create_user(self.b3(), "open", NoPasswordRequired=True, AccessString="on ~* +@read")
        out = self.assertCLIOK(self.cli("create-user", "--user-id", "iam-user", "--user-name", "iam-user",
                                        "--engine", "valkey", "--access-string", "on ~* +@all",
                                        "--authentication-mode", "Type=iam"))
        self.assertEqual(out, user("iam-user", "iam-user", "creating", "iam", engine="valkey"))
        self.assertEqual(self.assertCLIOK(self.cli("describe-users", "--user-id", "APP")),
                         {"Users": [user("app", "app", "active", "password", 2)]})
        out = self.assertCLIOK(self.cli("describe-users", "--page-size", "20"))
        self.assertEqual([u["UserId"] for u in out["Users"]], ["app", "default", "iam-user", "open"])
        self.assertEqual(out["Users"][1], default_user())

        out = self.assertCLIOK(self.cli("modify-user", "--user-id", "app", "--access-string", "on ~app:* +@read",
                                        "--authentication-mode", f"Type=password,Passwords={PW2}"))
        self.assertEqual(out, user("app", "app", "modifying", "password", 1, access="on ~app:* +@read"))

        out = self.assertCLIOK(self.cli("create-user-group", "--user-group-id", "Web", "--engine", "redis",
                                        "--user-ids", "default", "app", "--tags", "Key=team,Value=core"))
        self.assertEqual(out, group("web", "creating", ["app", "default"]))
        out = self.assertCLIOK(self.cli("modify-user-group", "--user-group-id", "web",
                                        "--user-ids-to-add", "open", "--user-ids-to-remove", "app"))
        self.assertEqual(out, group("web", "modifying", ["default", "open"], pending=(["open"], ["app"])))
        self.assertEqual(self.assertCLIOK(self.cli("describe-user-groups")),
                         {"UserGroups": [group("web", "active", ["default", "open"])]})

        self.assertEqual(self.assertCLIOK(self.cli("delete-user-group", "--user-group-id", "web"))["Status"], "deleting")
        out = self.assertCLIOK(self.cli("delete-user", "--user-id", "app"))
        self.assertEqual(out, user("app", "app", "deleting", "password", 1, access="on ~app:* +@read"))
        self.assertCLIError(self.cli("describe-user-groups", "--user-group-id", "web"),
                            "DescribeUserGroups", "UserGroupNotFound", "UserGroup web not found.")
        c = self.b3()
        self.assertB3Error(c.describe_users, *user_not_found("app"), UserId="app")
        self.assertB3Error(c.list_tags_for_resource, *group_not_found("web"), ResourceName=group_arn("web"))

    def test_faults_cli(self):
        c = self.b3()
        self.create_user(c, "app")
        self.create_user(c, "my-default", "default", Passwords=[PW2])

        def create_user(uid, *args):
            return self.cli("create-user", "--user-id", uid, "--user-name", uid, "--engine", "redis",
                            "--access-string", "on ~* +@all", *args)

        self.assertCLIError(create_user("app", "--passwords", PW_CLI), "CreateUser", "UserAlreadyExists",
                            "User app already exists.")
        self.assertCLIError(create_user("short", "--passwords", PW_SHORT), "CreateUser", "InvalidParameterValue",
                            PW_LEN_MSG)
        self.assertCLIError(create_user("none"), "CreateUser", "InvalidParameterValue", NO_PW_MSG)
        self.assertCLIError(self.cli("create-user", "--user-id", "acl", "--user-name", "acl", "--engine", "redis",
                                     "--access-string", f"on >{PW_CLI} ~*", "--passwords", PW1),
                            "CreateUser", "InvalidParameterValue", PW_IN_ACL_MSG)
        self.assertCLIError(self.cli("delete-user", "--user-id", "default"),
                            "DeleteUser", "InvalidParameterValue", DEFAULT_DELETE_MSG)
        self.assertCLIError(self.cli("create-user-group", "--user-group-id", "g", "--engine", "redis",
                                     "--user-ids", "app"),
                            "CreateUserGroup", "DefaultUserRequired", DEFAULT_REQUIRED_MSG)
        self.assertCLIError(self.cli("create-user-group", "--user-group-id", "g", "--engine", "redis",
                                     "--user-ids", "default", "my-default"),
                            "CreateUserGroup", "DuplicateUserName",
                            "Users default and my-default have the same user name default; "
                            "a user group holds one user of each name.")
        self.assertCLIError(self.cli("modify-user-group", "--user-group-id", "nobody", "--user-ids-to-add", "app"),
                            "ModifyUserGroup", "UserGroupNotFound", "UserGroup nobody not found.")
        self.assertEqual([u["UserId"] for u in self.ok(c.describe_users)["Users"]], ["app", "default", "my-default"])


# ----------------------------------------------------------------- runner

# Every test has a server of its own; most of the time goes to starting aws
# CLI processes, so a few tests run at once.
CLASSES = (T03CLI, T01Boto3, T02Delayed)
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
