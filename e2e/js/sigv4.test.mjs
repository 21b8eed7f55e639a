// End-to-end suite: the AWS SDK for JavaScript v3 (@aws-sdk/client-elasticache,
// pinned in package.json / package-lock.json) against elasticache-server
// started with --auth sigv4.
//
// The server verifies Signature Version 4 against the credentials of its
// --config file (two accounts, one key each) and serves only --regions
// us-east-1,eu-west-1 (SPEC §1, §3). With the right keys all nine operations
// succeed and act as the key's account (OwnerId, ARN); a wrong secret is
// SignatureDoesNotMatch, an unknown key or a session token
// InvalidClientTokenId, a region not served SignatureDoesNotMatch — on every
// operation. None of these codes is in the model: the SDK surfaces each as
// an ElastiCacheServiceException whose `name` is the wire code.
//
// Run:  SERVER_BIN=/path/to/elasticache-server JS_SDK_DIR=/path/to/js-sdk \
//         node --test --test-reporter=spec e2e/js/sigv4.test.mjs
// (e2e/js_sigv4_test.go does this; see harness.mjs for how the SDK
// is loaded from JS_SDK_DIR.) The suite starts its own server from
// SERVER_BIN on 127.0.0.1:0 and stops it with SIGTERM; it never skips.
// Clients are hermetic: credentials given explicitly, maxAttempts 1, no
// instance metadata, empty AWS config and credential files.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Server, TMP, UUID, runLine, sdk } from './harness.mjs';

const {
  ElastiCacheClient, ElastiCacheServiceException,
  CreateCacheSecurityGroupCommand, DescribeCacheSecurityGroupsCommand, DeleteCacheSecurityGroupCommand,
  AuthorizeCacheSecurityGroupIngressCommand, RevokeCacheSecurityGroupIngressCommand,
  AddTagsToResourceCommand, ListTagsForResourceCommand, RemoveTagsFromResourceCommand,
  DescribeEventsCommand, CacheSecurityGroupNotFoundFault,
} = sdk;

// ---------------------------------------------------------------- constants

const ACCOUNT1 = '111111111111';
const KEY1 = 'AKIAEXAMPLE1111111';
const SECRET1 = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const ACCOUNT2 = '222222222222';
const KEY2 = 'AKIAEXAMPLE2222222';
const SECRET2 = 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY';
const UNKNOWN_KEY = 'AKIAUNKNOWN0000000';
const CONFIG_YAML = `# e2e (JS): two accounts with credentials, for --auth sigv4
accounts:
  - id: "${ACCOUNT1}"
    credentials:
      - {accessKeyId: ${KEY1}, secretAccessKey: "${SECRET1}"}
  - id: "${ACCOUNT2}"
    credentials:
      - {accessKeyId: ${KEY2}, secretAccessKey: "${SECRET2}"}
`;
const MISMATCH_MSG = 'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const UNKNOWN_KEY_MSG = 'The security token included in the request is invalid.';
const regionMsg = (r) => `Credential should be scoped to a valid region, not '${r}'.`;
const OWNER = '123456789012';
const T = { timeout: 60_000 };

let SERVER;

// ------------------------------------------------------------------ clients

function client(accessKeyId, secretAccessKey, region = 'us-east-1', sessionToken = undefined) {
  return new ElastiCacheClient({
    endpoint: SERVER.url,
    region,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts: 1,
  });
}

const arn = (region, account, name) => `arn:aws:elasticache:${region}:${account}:securitygroup:${name}`;
const group = (account, region, name, description, ec2s = []) =>
  ({ OwnerId: account, CacheSecurityGroupName: name, Description: description, EC2SecurityGroups: ec2s, ARN: arn(region, account, name) });
const ec2 = (name, owner, status) => ({ Status: status, EC2SecurityGroupName: name, EC2SecurityGroupOwnerId: owner });

async function ok(c, cmd) {
  const { $metadata, ...rest } = await c.send(cmd);
  assert.equal($metadata.httpStatusCode, 200);
  assert.match($metadata.requestId ?? '', UUID);
  return rest;
}

/**
 * Sends cmd and checks the refusal: an ElastiCacheServiceException named
 * after the wire code (no modeled class has these codes), the exact message,
 * the HTTP status, $fault 'client' and a UUID request ID.
 */
async function refused(c, cmd, code, message, status = 403) {
  let err;
  try {
    const out = await c.send(cmd);
    assert.fail(`${cmd.constructor.name} succeeded, expected ${code}: ${JSON.stringify(out)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  const shown = `${cmd.constructor.name}(${JSON.stringify(cmd.input)}) -> ${err?.name}: ${err?.message} ` +
    `(Code ${err?.Code}, ${JSON.stringify(err?.$metadata)}, $fault ${err?.$fault})`;
  assert.ok(err instanceof ElastiCacheServiceException, `not an ElastiCacheServiceException: ${shown}\n${err?.stack}`);
  assert.equal(err.name, code, shown);
  assert.equal(err.message, message, shown);
  assert.equal(err.$fault, 'client', shown);
  assert.equal(err.$metadata.httpStatusCode, status, shown);
  assert.match(err.$metadata.requestId ?? '', UUID, shown);
  assert.equal(err.$metadata.attempts, 1, shown);
}

/** The nine operations on group `name` of account/region. */
function nineOps(account, region, name) {
  const a = arn(region, account, name);
  const ingress = { CacheSecurityGroupName: name, EC2SecurityGroupName: 'web', EC2SecurityGroupOwnerId: OWNER };
  return [
    new CreateCacheSecurityGroupCommand({ CacheSecurityGroupName: name, Description: 'signed' }),
    new DescribeCacheSecurityGroupsCommand({ CacheSecurityGroupName: name }),
    new AuthorizeCacheSecurityGroupIngressCommand(ingress),
    new RevokeCacheSecurityGroupIngressCommand(ingress),
    new AddTagsToResourceCommand({ ResourceName: a, Tags: [{ Key: 'k', Value: 'v' }] }),
    new ListTagsForResourceCommand({ ResourceName: a }),
    new RemoveTagsFromResourceCommand({ ResourceName: a, TagKeys: ['k'] }),
    new DescribeEventsCommand({ SourceType: 'cache-security-group', SourceIdentifier: name }),
    new DeleteCacheSecurityGroupCommand({ CacheSecurityGroupName: name }),
  ];
}

async function refusedEverywhere(c, account, region, name, code, message) {
  for (const cmd of nineOps(account, region, name)) await refused(c, cmd, code, message);
}

// ------------------------------------------------------------------- tests

before(async () => {
  console.log(runLine());
  const config = path.join(TMP, 'elasticache.yaml');
  fs.writeFileSync(config, CONFIG_YAML);
  SERVER = await new Server('sigv4', ['--auth', 'sigv4', '--config', config, '--regions', 'us-east-1,eu-west-1']).start();
  assert.equal(SERVER.startRecord.auth, 'sigv4', `start line: ${JSON.stringify(SERVER.startRecord)}`);
});

after(async () => {
  if (SERVER) await SERVER.stop();
});

describe('the right keys', () => {
  for (const [key, secret, account, region] of [[KEY1, SECRET1, ACCOUNT1, 'us-east-1'], [KEY2, SECRET2, ACCOUNT2, 'eu-west-1']]) {
    test(`every operation acts as the key's account: ${key} in ${region}`, T, async () => {
      const c = client(key, secret, region);
      const name = `signed-js-${account.slice(0, 1)}`;
      const a = arn(region, account, name);
      const t0 = Date.now() - 1000;
      const want = group(account, region, name, 'by JS');
      assert.deepEqual(await ok(c, new CreateCacheSecurityGroupCommand({ CacheSecurityGroupName: name, Description: 'by JS', Tags: [{ Key: 'by', Value: 'js' }] })),
        { CacheSecurityGroup: want });
      assert.deepEqual(await ok(c, new DescribeCacheSecurityGroupsCommand({ CacheSecurityGroupName: name })), { CacheSecurityGroups: [want] });
      const ingress = { CacheSecurityGroupName: name, EC2SecurityGroupName: 'web', EC2SecurityGroupOwnerId: OWNER };
      assert.deepEqual(await ok(c, new AuthorizeCacheSecurityGroupIngressCommand(ingress)),
        { CacheSecurityGroup: group(account, region, name, 'by JS', [ec2('web', OWNER, 'authorizing')]) });
      assert.deepEqual(await ok(c, new RevokeCacheSecurityGroupIngressCommand(ingress)),
        { CacheSecurityGroup: group(account, region, name, 'by JS', [ec2('web', OWNER, 'revoking')]) });
      assert.deepEqual(await ok(c, new AddTagsToResourceCommand({ ResourceName: a, Tags: [{ Key: 'env', Value: 'prod' }] })),
        { TagList: [{ Key: 'by', Value: 'js' }, { Key: 'env', Value: 'prod' }] });
      assert.deepEqual(await ok(c, new ListTagsForResourceCommand({ ResourceName: a })),
        { TagList: [{ Key: 'by', Value: 'js' }, { Key: 'env', Value: 'prod' }] });
      assert.deepEqual(await ok(c, new RemoveTagsFromResourceCommand({ ResourceName: a, TagKeys: ['by'] })),
        { TagList: [{ Key: 'env', Value: 'prod' }] });
      assert.deepEqual(await ok(c, new DeleteCacheSecurityGroupCommand({ CacheSecurityGroupName: name })), {});
      const { Events } = await ok(c, new DescribeEventsCommand({ SourceType: 'cache-security-group', SourceIdentifier: name }));
      assert.deepEqual(Events.map((e) => [e.SourceType, e.SourceIdentifier, e.Message]), [
        ['cache-security-group', name, 'Cache security group deleted'],
        ['cache-security-group', name, `Revoked EC2 security group web (owner ${OWNER})`],
        ['cache-security-group', name, `Authorized EC2 security group web (owner ${OWNER})`],
        ['cache-security-group', name, 'Cache security group created'],
      ]);
      for (const e of Events) assert.ok(e.Date.getTime() >= t0 && e.Date.getTime() <= Date.now() + 1000, JSON.stringify(e));
    });
  }

  test('each key sees only its account', T, async () => {
    await ok(client(KEY1, SECRET1, 'eu-west-1'), new CreateCacheSecurityGroupCommand({ CacheSecurityGroupName: 'only-a1', Description: 'a1' }));
    const { CacheSecurityGroups } = await ok(client(KEY2, SECRET2, 'eu-west-1'), new DescribeCacheSecurityGroupsCommand({}));
    for (const g of CacheSecurityGroups) assert.equal(g.OwnerId, ACCOUNT2, JSON.stringify(CacheSecurityGroups));
    try {
      await client(KEY2, SECRET2, 'eu-west-1').send(new DescribeCacheSecurityGroupsCommand({ CacheSecurityGroupName: 'only-a1' }));
      assert.fail('account 2 sees account 1\'s group');
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(e instanceof CacheSecurityGroupNotFoundFault, `${e.name}: ${e.message}`);
      assert.equal(e.message, 'CacheSecurityGroup only-a1 not found.');
    }
  });
});

describe('refused keys', () => {
  test('a wrong secret is SignatureDoesNotMatch on every operation', T, async () => {
    await ok(client(KEY1, SECRET1), new CreateCacheSecurityGroupCommand({ CacheSecurityGroupName: 'target-js', Description: 'exists' }));
    for (const secret of [SECRET2, `${SECRET1}x`]) {
      await refusedEverywhere(client(KEY1, secret), ACCOUNT1, 'us-east-1', 'target-js', 'SignatureDoesNotMatch', MISMATCH_MSG);
    }
    assert.deepEqual(await ok(client(KEY1, SECRET1), new DescribeCacheSecurityGroupsCommand({ CacheSecurityGroupName: 'target-js' })),
      { CacheSecurityGroups: [group(ACCOUNT1, 'us-east-1', 'target-js', 'exists')] });
  });

  test('an unknown key is InvalidClientTokenId on every operation', T, async () => {
    for (const key of [UNKNOWN_KEY, ACCOUNT1]) {
      await refusedEverywhere(client(key, SECRET1), ACCOUNT1, 'us-east-1', 'target-js', 'InvalidClientTokenId', UNKNOWN_KEY_MSG);
    }
  });

  test('a session token is InvalidClientTokenId on every operation', T, async () => {
    await refusedEverywhere(client(KEY1, SECRET1, 'us-east-1', 'FwoGZXIvYXdzEXAMPLE'), ACCOUNT1, 'us-east-1', 'target-js',
      'InvalidClientTokenId', UNKNOWN_KEY_MSG);
  });

  test('a region not served is SignatureDoesNotMatch on every operation', T, async () => {
    await refusedEverywhere(client(KEY1, SECRET1, 'ap-south-1'), ACCOUNT1, 'ap-south-1', 'target-js',
      'SignatureDoesNotMatch', regionMsg('ap-south-1'));
  });

  test('authentication answers before parameter validation', T, async () => {
    for (const [c, code, msg] of [[client(KEY1, SECRET2), 'SignatureDoesNotMatch', MISMATCH_MSG],
      [client(UNKNOWN_KEY, SECRET1), 'InvalidClientTokenId', UNKNOWN_KEY_MSG]]) {
      await refused(c, new CreateCacheSecurityGroupCommand({ CacheSecurityGroupName: '', Description: 'd' }), code, msg);
      await refused(c, new DescribeCacheSecurityGroupsCommand({ MaxRecords: 5 }), code, msg);
      await refused(c, new ListTagsForResourceCommand({ ResourceName: 'arn:aws:elasticache' }), code, msg);
    }
  });
});
