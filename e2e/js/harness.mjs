// What every JS SDK suite shares: the environment checks, a hermetic
// process environment, loading the SDK from JS_SDK_DIR, and the Server
// class that starts elasticache-server from SERVER_BIN on 127.0.0.1:0.
//
// How the SDK is loaded: the SDK lives outside the repo, so a bare
// `import '@aws-sdk/client-elasticache'` cannot resolve it from this file, and
// NODE_PATH does not apply to ESM. createRequire() anchored at
// ${JS_SDK_DIR}/package.json resolves the package from JS_SDK_DIR/node_modules
// exactly as a script in that directory would (its CommonJS build, dist-cjs);
// every class then comes from that one module instance, so `instanceof` holds.
//
// Importing this module has effects, on purpose and before any client
// exists: it checks SERVER_BIN and JS_SDK_DIR, creates the run's temp
// directory, and empties process.env of every AWS_* setting.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function fatal(msg) {
  throw new Error(`\n${'!'.repeat(78)}\nFATAL: ${msg}\n${'!'.repeat(78)}`);
}

export const SERVER_BIN = process.env.SERVER_BIN ?? '';
export const JS_SDK_DIR = process.env.JS_SDK_DIR ?? '';
if (!SERVER_BIN) fatal('SERVER_BIN is not set: the path of the elasticache-server binary');
try {
  fs.accessSync(SERVER_BIN, fs.constants.X_OK);
} catch {
  fatal(`SERVER_BIN=${SERVER_BIN} is not an executable file`);
}
if (!JS_SDK_DIR) fatal('JS_SDK_DIR is not set: run scripts/install-js-sdk.sh and pass the directory holding its node_modules');

export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'elasticache-e2e-js-'));
const EMPTY_CONFIG = path.join(TMP, 'aws-config');
const EMPTY_CREDENTIALS = path.join(TMP, 'aws-credentials');
fs.writeFileSync(EMPTY_CONFIG, '');
fs.writeFileSync(EMPTY_CREDENTIALS, '');

// The SDK reads these from process.env: nothing may come from the caller's
// AWS settings, and no credential provider may reach for instance metadata.
for (const k of Object.keys(process.env)) {
  if (k.startsWith('AWS_')) delete process.env[k];
}
Object.assign(process.env, {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: EMPTY_CONFIG,
  AWS_SHARED_CREDENTIALS_FILE: EMPTY_CREDENTIALS,
  // Node 20 is supported by this SDK version; its notice about future
  // versions needing Node 22 is noise in the test output.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

const requireSDK = createRequire(path.join(path.resolve(JS_SDK_DIR), 'package.json'));
let loaded;
try {
  loaded = requireSDK('@aws-sdk/client-elasticache');
} catch (e) {
  fatal(`cannot load @aws-sdk/client-elasticache from ${JS_SDK_DIR}/node_modules (${e.message}); run scripts/install-js-sdk.sh`);
}
/** The @aws-sdk/client-elasticache module. */
export const sdk = loaded;
export const SDK_VERSION = requireSDK('@aws-sdk/client-elasticache/package.json').version;

export const START_DEADLINE_MS = 15_000;
export const STOP_DEADLINE_MS = 20_000;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The line a suite prints first: what ran against what. */
export const runLine = () =>
  `# @aws-sdk/client-elasticache ${SDK_VERSION} from ${JS_SDK_DIR}, node ${process.version}, server ${SERVER_BIN}, tmp ${TMP}`;

// ------------------------------------------------------------------ servers

/** Every server started and not yet stopped; none outlives the run. */
export const ALL_SERVERS = new Set();

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AWS_') || k.startsWith('ELASTICACHE_') || /_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/**
 * One elasticache-server process with a JSON log in TMP. start() reads the
 * address from the log and polls /health; stop() sends SIGTERM and checks a
 * clean exit.
 */
export class Server {
  constructor(name, extra = []) {
    this.name = name;
    this.extra = extra;
    this.dataDir = fs.mkdtempSync(path.join(TMP, `${name}-`));
    this.logPath = path.join(TMP, `${name}.log`);
    this.proc = null;
    this.exit = null; // a promise of {code, signal}
    this.url = null;
    this.startRecord = null; // the log record that gave the address
  }

  async start() {
    const fd = fs.openSync(this.logPath, 'w');
    const argv = ['--listen', '127.0.0.1:0', '--data-dir', this.dataDir, '--log-format', 'json', ...this.extra];
    this.proc = spawn(SERVER_BIN, argv, { stdio: ['ignore', fd, fd], env: cleanEnv() });
    fs.closeSync(fd);
    ALL_SERVERS.add(this);
    this.exit = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    let exited = null;
    this.exit.then((e) => { exited = e; });
    const deadline = Date.now() + START_DEADLINE_MS;
    let rec;
    while (!(rec = this.logRecords().find((r) => r.addr))) {
      if (exited) throw new Error(`${this.name} exited (${JSON.stringify(exited)}) before listening:\n${this.logText()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} logged no addr within ${START_DEADLINE_MS} ms:\n${this.logText()}`);
      await sleep(10);
    }
    this.startRecord = rec;
    this.url = `http://${rec.addr}`;
    for (;;) {
      try {
        const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) {
          await r.json();
          return this;
        }
      } catch { /* not yet */ }
      if (exited) throw new Error(`${this.name} exited before /health answered:\n${this.logText()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: /health not 200 within ${START_DEADLINE_MS} ms`);
      await sleep(10);
    }
  }

  logText() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  logRecords() {
    const out = [];
    for (const line of this.logText().split('\n')) {
      try {
        const r = JSON.parse(line);
        if (r && typeof r === 'object') out.push(r);
      } catch { /* a partial line */ }
    }
    return out;
  }

  // SIGTERM; the server must exit 0 within STOP_DEADLINE_MS, log no error and
  // close its store cleanly.
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) {
      const e = this.proc ? await this.exit : null;
      throw new Error(`${this.name} was not running at stop (${JSON.stringify(e)}):\n${this.logText()}`);
    }
    this.proc.kill('SIGTERM');
    // A pending timer would keep node alive after the last test: cancel it.
    const ac = new AbortController();
    const timer = sleep(STOP_DEADLINE_MS, 'timeout', { signal: ac.signal }).catch(() => 'cancelled');
    const res = await Promise.race([this.exit, timer]);
    ac.abort();
    if (res === 'timeout') {
      this.proc.kill('SIGKILL');
      throw new Error(`${this.name} did not exit within ${STOP_DEADLINE_MS} ms of SIGTERM`);
    }
    ALL_SERVERS.delete(this);
    assert.deepEqual(res, { code: 0, signal: null }, `${this.name}: exit after SIGTERM\n${this.logText()}`);
    const recs = this.logRecords();
    assert.ok(recs.some((r) => r.msg === 'store closed'), `${this.name}: no clean store close logged\n${this.logText()}`);
    assert.deepEqual(recs.filter((r) => r.level === 'ERROR'), [], `${this.name}: errors logged`);
  }
}

// No server outlives the run; the temp dir goes when everything passed.
process.on('exit', (code) => {
  for (const s of ALL_SERVERS) {
    try { s.proc.kill('SIGKILL'); } catch { /* gone */ }
  }
  if (code === 0 && !process.exitCode) {
    fs.rmSync(TMP, { recursive: true, force: true });
  } else {
    console.log(`# logs and data kept in ${TMP}`);
  }
});

/** Sends cmd; checks the success metadata and returns the output without $metadata. */
export async function ok(c, cmd) {
  const out = await c.send(cmd);
  const { $metadata, ...rest } = out;
  assert.equal($metadata.httpStatusCode, 200, `${cmd.constructor.name}: status`);
  assert.match($metadata.requestId ?? '', UUID, `${cmd.constructor.name}: $metadata.requestId`);
  assert.equal($metadata.attempts, 1);
  return rest;
}

/**
 * Sends cmd and checks that it fails with the modeled class Cls (by
 * instanceof; name is the shape name), the wire Code, the exact message,
 * the HTTP status, $fault 'client', a UUID request ID and one attempt.
 */
export async function fault(c, cmd, Cls, code, message, status = 400) {
  let err;
  try {
    const out = await c.send(cmd);
    assert.fail(`${cmd.constructor.name}(${JSON.stringify(cmd.input)}) succeeded, expected ${Cls.name}: ${JSON.stringify(out)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  const shown = `${cmd.constructor.name}(${JSON.stringify(cmd.input)}) -> ${err?.name}: ${err?.message} ` +
    `(Code ${err?.Code}, ${JSON.stringify(err?.$metadata)}, $fault ${err?.$fault})`;
  assert.ok(err instanceof Cls, `not an instance of ${Cls.name}: ${shown}\n${err?.stack}`);
  assert.ok(err instanceof sdk.ElastiCacheServiceException, shown);
  assert.equal(err.name, Cls.name, shown);
  assert.equal(err.Code, code, shown);
  assert.equal(err.message, message, shown);
  assert.equal(err.$fault, 'client', shown);
  assert.equal(err.$metadata.httpStatusCode, status, shown);
  assert.match(err.$metadata.requestId ?? '', UUID, shown);
  assert.equal(err.$metadata.attempts, 1, shown);
  return err;
}

/** How long a socket of refuses may take to connect. */
const SOCKET_TIMEOUT_MS = 5_000;

/** Resolves to whether a connection to the endpoint is refused (nothing listens). */
export function refuses({ Address, Port }) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ host: Address, port: Port });
    sock.setTimeout(SOCKET_TIMEOUT_MS, () => sock.destroy(new Error(`${Address}:${Port}: connect timed out`)));
    sock.once('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', (e) => (e.code === 'ECONNREFUSED' ? resolve(true) : reject(e)));
  });
}

/** The engine pid files under dir: one per engine process that runs (the runner removes it at stop). */
export function enginePidFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true })
    .filter((f) => path.basename(f) === 'pid' && f.split(path.sep).includes('engines'))
    .map((f) => path.join(dir, f));
}

/**
 * Kills, by their pid files under TMP, the engines that servers whose stop
 * failed (and were killed) left behind, in process groups of their own
 * (engine/runner.go), and returns the pid files of those it killed.
 */
export function killLeftEngines() {
  const left = [];
  for (const file of enginePidFiles(TMP)) {
    let pid;
    let cmdline;
    try {
      pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      continue; // no such process any more
    }
    if (!/redis-server|memcached/.test(cmdline)) continue; // the pid is another process's now
    try {
      process.kill(-pid, 'SIGKILL');
    } catch { /* it ended meanwhile */ }
    left.push(file);
  }
  return left;
}
