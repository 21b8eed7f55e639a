"""The harness the Python client suites of this directory share.

test_boto3_cli.py, test_subnet_groups.py, test_parameter_groups.py,
test_users.py, test_clusters.py, test_replication_groups.py, test_sigv4.py and
test_faults.py each import it first (from their own
directory, which Python puts on sys.path for a script) and keep only their
scenarios and what differs between them. What it gives:

- the boto3/botocore import check, done when it is imported: a missing
  boto3 is a loud failure ("0 passed, 1 failed"), never a skip;
- Suite, made once at the top of a script: the aws CLI check, the server
  binary and the test selection from argv, the temp dir with empty AWS
  config and credential files, hermetic client environments, the servers
  and CLI processes the script starts (none outlives it);
- Server: one elasticache-server process on 127.0.0.1:0 with a JSON log;
- ClientCase: the assertions on what boto3 and the CLI report (an API
  error's code, message and envelope; a CLI run's exit code and output);
- the unittest result that counts tests (a skip is a failure) and Tally,
  which runs the units and prints the final "N passed, M failed" line that
  the Go runner (e2e/clients_test.go runClientsScript) parses.

Nothing here starts a process or a thread when imported.
"""

import concurrent.futures
import io
import json
import os
import re
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
    """Ends the script before any test ran, with a line the Go runner
    parses as a failure."""
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
except ImportError as exc:  # never skip: the suites exist to run these clients
    fatal(f"cannot import boto3/botocore with {sys.executable}: {exc}. "
          "Run this script with the python3 on PATH that has boto3 installed.")

START_DEADLINE = 15.0   # seconds for a server to log its address and answer /health
STOP_DEADLINE = 20.0    # seconds for SIGTERM to drain and exit
CLI_TIMEOUT = 60.0      # a CLI call that takes longer is a hang (generous: CI machines get loaded)

# The CLI's retry settings of the suites that want a 5xx to fail at once:
# one attempt instead of seconds of backoff. Legacy mode (the CLI's default)
# keeps the error line exactly as users see it; standard mode with one
# attempt would add "(reached max retries: 0)" to it.
ONE_ATTEMPT = {"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "legacy"}

# Servers, /health and plain HTTP requests to them never go through a proxy.
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def clean_base_env():
    """The caller's environment without anything that could reach AWS
    settings, the server's own settings or a proxy."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("AWS_") and not k.startswith("ELASTICACHE_")
            and not k.startswith("BOTO_") and k.lower() not in _PROXY_VARS}


def make_process_hermetic(env):
    """boto3 runs in the script's own process: its environment becomes env
    (a Suite.client_env), so that nothing of the caller's reaches it."""
    os.environ.clear()
    os.environ.update(env)


def client_config(retries=None):
    """A botocore Config with the suites' timeouts and the given retries
    (None: botocore's default, legacy mode)."""
    return Config(connect_timeout=5, read_timeout=30, **({"retries": retries} if retries else {}))


# One attempt, standard mode: a boto3 error is the server's first answer.
NO_RETRY = client_config({"total_max_attempts": 1, "mode": "standard"})


def b3_client(url, key, secret, region, config, token=None):
    """A fresh boto3 ElastiCache client for url with static credentials."""
    return boto3.session.Session().client(
        "elasticache", endpoint_url=url, region_name=region,
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        config=config)


class Suite:
    """One run of a suite script: what it was given and what it made.

    needs names the suite in the message when the aws CLI is missing;
    tmp_prefix names its temp dir, which holds the empty AWS config files,
    the servers' data directories and logs. Made at import time of the
    script, like the checks it replaces; it starts nothing."""

    def __init__(self, needs, tmp_prefix):
        self.aws = shutil.which("aws")
        if self.aws is None:
            fatal(f"the aws CLI is not on PATH; {needs} needs it.")
        server_bin = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SERVER_BIN", "")
        if not server_bin or not os.access(server_bin, os.X_OK):
            fatal(f"server binary not given or not executable: {server_bin!r} "
                  "(pass it as the first argument or in SERVER_BIN)")
        self.server_bin = os.path.abspath(server_bin)
        self.select = sys.argv[2:]
        self.tmp = tempfile.mkdtemp(prefix=tmp_prefix)
        self.empty_config = os.path.join(self.tmp, "aws-config")
        self.empty_credentials = os.path.join(self.tmp, "aws-credentials")
        for p in (self.empty_config, self.empty_credentials):
            open(p, "w").close()
        self.procs = []  # every process started, so that none outlives the script

    def selected(self, test):
        """Whether test is to run: no PATTERN given, or its id contains one."""
        return not self.select or any(p in test.id() for p in self.select)

    def client_env(self, key, secret, region, token=None, extra=None):
        """A hermetic environment for an AWS client: static credentials, a
        region, empty config and credential files, no instance metadata, no
        pager, no proxy for 127.0.0.1; extra adds settings (retries)."""
        env = clean_base_env()
        env.update({
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": self.empty_config,
            "AWS_SHARED_CREDENTIALS_FILE": self.empty_credentials,
            "AWS_PAGER": "",
            "NO_PROXY": "127.0.0.1,localhost",
        })
        env.update(extra or {})
        if token:
            env["AWS_SESSION_TOKEN"] = token
        return env

    def server(self, name, data_dir=None, extra=()):
        """A Server (not started) in a fresh data directory, or data_dir."""
        return Server(self, name, data_dir, extra)

    def cli(self, url, env, op, *args, timeout=CLI_TIMEOUT):
        """Runs `aws elasticache op args` against url with env; a run that
        takes longer than timeout is a hang."""
        argv = ["elasticache", op, *args, "--endpoint-url", url, "--output", "json"]
        t0 = time.monotonic()
        try:
            p = subprocess.run([self.aws, *argv], env=env, capture_output=True,
                               text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"aws {' '.join(argv)} did not finish within {timeout}s (hang)")
        return CLIResult(argv, p, time.monotonic() - t0)

    def kill_all(self):
        """Kills every process the script started that still runs."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


class Server:
    """One elasticache-server process on 127.0.0.1:0 with a JSON log; a
    restart (start again) keeps the data directory and logs to a new file."""

    def __init__(self, suite, name, data_dir=None, extra=()):
        self.suite = suite
        self.name = name
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=name + "-", dir=suite.tmp)
        self.extra = list(extra)
        self.proc = None
        self.url = None
        self.addr = None
        self.log_path = None
        self.starts = 0

    def argv(self):
        return [self.suite.server_bin, "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
                "--log-format", "json", *self.extra]

    def spawn(self):
        """Starts the process without waiting for it; returns the Popen."""
        self.starts += 1
        self.log_path = os.path.join(self.suite.tmp, f"{self.name}-{self.starts}.log")
        logf = open(self.log_path, "wb")
        proc = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=clean_base_env())
        logf.close()
        self.suite.procs.append(proc)
        return proc

    def start(self):
        """Starts the process and waits, with a deadline, until it has
        logged its address and answers /health with 200."""
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
                with NO_PROXY_OPENER.open(self.url + "/health", timeout=2) as r:
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
        with NO_PROXY_OPENER.open(self.url + "/health", timeout=5) as r:
            return r.status, json.load(r)

    def log_text(self):
        """The log of the latest start ("" before the first)."""
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_records(self):
        """The JSON records of log_text; other lines are left out."""
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


class CLIResult:
    """One finished aws CLI run: exit code, stdout, stderr, seconds taken."""

    def __init__(self, argv, proc, took):
        self.argv, self.rc, self.out, self.err, self.took = argv, proc.returncode, proc.stdout, proc.stderr, took

    def json(self):
        return json.loads(self.out) if self.out.strip() else None

    def __repr__(self):
        return (f"aws {' '.join(self.argv)}\n  exit {self.rc} in {self.took:.2f}s\n"
                f"  stdout: {self.out!r}\n  stderr: {self.err!r}")


class ClientCase(unittest.TestCase):
    """The assertions every suite makes about what a client reports."""

    maxDiff = None

    def assertB3Error(self, fn, exc_name, code, message, status, **kwargs):
        """Calls fn(**kwargs) and checks the modeled exception (exc_name in
        the client's exceptions; None: any ClientError, for errors the model
        does not have), Code, Message (exact string, or a compiled regex),
        HTTP status, and the envelope: a Sender error whose RequestId is the
        x-amzn-requestid header's."""
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
        """res (a CLIResult) failed as the CLI reports an API error: exit
        code 255, nothing on stdout, and on stderr the line naming code, op
        and message (exact string, or a compiled regex)."""
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
        """res exited 0; returns its JSON output (None when empty)."""
        self.assertEqual(res.rc, 0, repr(res))
        return res.json()


# ----------------------------------------------------------------- runner

class TimedResult(unittest.TextTestResult):
    """Prints each test's duration and counts tests, not subtests: a test
    passes only if it and all its subtests pass; a skip is a failure."""

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


def run_unit(unit):
    """Runs one test or suite with its own result; returns (result, its
    output). A fresh result per unit: run() also runs the class fixtures'
    teardown, and units run in parallel."""
    stream = io.StringIO()
    result = TimedResult(unittest.runner._WritelnDecorator(stream), True, 2)
    unit.run(result)
    result.printErrors()
    return result, stream.getvalue()


def kill_left_engines(suite, tally):
    """Kills, by their pid files under suite.tmp, the engines that servers
    killed with SIGKILL (Suite.kill_all) left behind; each is a failure. An
    engine runs in a process group of its own (engine/runner.go, Setpgid)."""
    for root, _, files in os.walk(suite.tmp):
        if "pid" not in files or os.sep + "engines" + os.sep not in root + os.sep:
            continue
        path = os.path.join(root, "pid")
        try:
            with open(path) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError):
            continue  # no such process any more
        if b"redis-server" not in cmdline and b"memcached" not in cmdline:
            continue  # the pid is another process's now
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue  # it ended meanwhile
        tally.fail("engine left running", f"engine {pid} ({path}) outlived its server; killed")


class Tally:
    """One run of a script's tests, from its banner to its last line: the
    tests' outcomes, failures found outside them, the elapsed time."""

    def __init__(self, suite):
        self.suite = suite
        self.t0 = time.monotonic()
        self.passed_ids, self.failed_ids = set(), set()
        print(f"server: {suite.server_bin}\npython: {sys.executable}\nboto3 {boto3.__version__}, "
              f"botocore {botocore.__version__}, aws: {suite.aws}\ntmp: {suite.tmp}", flush=True)

    def not_started(self, what, err, total):
        """The end of a run whose server did not start: all total tests failed."""
        print(f"FATAL: {what} did not start: {err}", file=sys.stderr)
        print(f"0 passed, {total} failed")
        return 1

    def collect(self, result, text):
        """Prints a unit's output and counts its outcome."""
        sys.stderr.write(text)
        sys.stderr.flush()
        self.passed_ids.update(result.passed_ids)
        self.failed_ids.update(result.failed_ids)

    def run(self, units, workers):
        """Runs units (tests or suites) workers at a time."""
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for fut in concurrent.futures.as_completed([pool.submit(run_unit, u) for u in units]):
                self.collect(*fut.result())

    def fail(self, what, msg):
        """A failure outside the tests, counted as one failed test."""
        print("FAIL: " + msg, file=sys.stderr)
        self.failed_ids.add(what)

    def check_clean_stop(self, server, what):
        """SIGTERMs server: it must exit 0 and have logged no error."""
        rc, _ = server.stop()
        if rc != 0:
            self.fail("server exit code", f"{what} exited {rc} after SIGTERM:\n{server.log_text()}")
        errors = [r for r in server.log_records() if r.get("level") == "ERROR"]
        if errors:
            self.fail("server errors logged", f"{what} logged errors: {errors}")

    def finish(self, total, notes=()):
        """Prints the notes, the elapsed time and the final "N passed, M
        failed" line (tests that never ran, say after a failed setUpClass,
        count as failed); removes the temp dir unless something failed.
        Returns the script's exit code."""
        passed = len(self.passed_ids - self.failed_ids)
        failed = len(self.failed_ids)
        failed += max(0, total - passed - failed)
        for note in notes:
            print("note: " + note, flush=True)
        print(f"elapsed {time.monotonic() - self.t0:.1f}s", flush=True)
        if failed == 0:
            shutil.rmtree(self.suite.tmp, ignore_errors=True)
        else:
            print(f"logs and data kept in {self.suite.tmp}", flush=True)
        print(f"{passed} passed, {failed} failed", flush=True)
        return 0 if failed == 0 else 1
