"""The real sluice-broker for the HTTP tests: free ports for its three
listeners (ZeroMQ, SQS HTTP, Prometheus), a temporary data directory, and
optionally a credentials file that makes it verify every SigV4 signature.

Broker.start() returns once the HTTP port accepts connections (polled, with a
deadline); stop() sends SIGTERM and checks the exit code is 0; kill() is
`kill -9`; restart() starts it again on the same ports and data directory, so
queue URLs stay valid across restarts.

Environment (set by CMake's add_test): SLUICE_BROKER_BIN, SLUICE_WORKER_BIN,
SLUICE_PRODUCER_BIN, SLUICE_SOURCE_DIR, SLUICE_SHARED_DIR.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

BROKER_BIN = os.environ["SLUICE_BROKER_BIN"]
WORKER_BIN = os.environ.get("SLUICE_WORKER_BIN", "")
PRODUCER_BIN = os.environ.get("SLUICE_PRODUCER_BIN", "")
SOURCE_DIR = os.environ.get("SLUICE_SOURCE_DIR", "")
SHARED_DIR = os.environ.get("SLUICE_SHARED_DIR", "")

ACCOUNT_ID = "000000000000"  # the broker's default --account-id
REGION = "us-east-1"  # the broker's default --region
# Generous for a loaded machine; a healthy broker is ready in well under a second.
START_TIMEOUT = 30
STOP_TIMEOUT = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout, what, interval=0.05):
    """Polls condition() until it returns something truthy, which it returns;
    AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def tcp_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def write_credentials(path, profiles):
    """An AWS shared-credentials INI file: {profile: (key id, secret)}."""
    with open(path, "w") as f:
        for name, (key_id, secret) in profiles.items():
            f.write(f"[{name}]\naws_access_key_id = {key_id}\n"
                    f"aws_secret_access_key = {secret}\n\n")


class Broker:
    """One sluice-broker process (and its restarts) on fixed free ports."""

    def __init__(self, fsync="never", credentials=None, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="sluice-http-test-")
        self.data_dir = os.path.join(self.dir, "data")
        self.zmq_port, self.http_port, self.metrics_port = free_port(), free_port(), free_port()
        self.fsync = fsync
        self.credentials = credentials  # a path, or None
        self.extra_args = list(extra_args)
        self.process = None
        self.log = None
        self.starts = 0

    @property
    def endpoint_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def zmq_endpoint(self):
        return f"tcp://127.0.0.1:{self.zmq_port}"

    def queue_url(self, name):
        return f"{self.endpoint_url}/{ACCOUNT_ID}/{name}"

    @staticmethod
    def queue_arn(name):
        return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"

    def argv(self):
        argv = [BROKER_BIN,
                "--listen", self.zmq_endpoint,
                "--http-listen", f"127.0.0.1:{self.http_port}",
                "--metrics-listen", f"127.0.0.1:{self.metrics_port}",
                "--data-dir", self.data_dir,
                "--fsync", self.fsync]
        if self.credentials:
            argv += ["--credentials", self.credentials]
        return argv + self.extra_args

    def start(self):
        assert self.process is None, "already running"
        self.starts += 1
        self.log_path = os.path.join(self.dir, f"broker-{self.starts}.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"sluice-broker exited with {self.process.returncode} "
                                     f"before it was ready:\n{self.logs()}")
            return tcp_open(self.http_port)
        try:
            wait_for(ready, START_TIMEOUT, "the broker's HTTP port")
        except AssertionError:
            self._reap(signal.SIGKILL)
            raise
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def logs(self):
        if self.log and not self.log.closed:
            self.log.flush()
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def _reap(self, sig):
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = "still running after SIGTERM"
        self.process = None
        self.log.close()
        return code

    def stop(self):
        """SIGTERM; returns the exit code (0 for a clean shutdown)."""
        return self._reap(signal.SIGTERM)

    def kill(self):
        """kill -9: nothing after the last acknowledged fsync may be relied on."""
        self._reap(signal.SIGKILL)

    def restart(self):
        code = self.stop()
        if code != 0:
            raise AssertionError(f"broker exit code {code} after SIGTERM:\n{self.logs()}")
        return self.start()

    def cleanup(self):
        """Kills a broker left running (a failed test) and removes the directory."""
        if self.running():
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as r:
            return r.read().decode()

    def metric(self, series):
        """The value of one exact series (`name{labels}`) in /metrics, or None."""
        for line in self.metrics().splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
        return None


def metric_samples(text, name):
    """[(labels dict, value)] of a metric's samples in a /metrics page."""
    samples = []
    for labels, value in re.findall(rf"^{name}(?:{{(.*)}})? (\S+)", text, re.M):
        samples.append((dict(re.findall(r'(\w+)="([^"]*)"', labels or "")), float(value)))
    return samples
