"""What the S3 tests share: one Ceph RGW for the whole module (rgw_fixture.py),
a broker per test (tests/http/broker_fixture.py) with the S3 event endpoint
on, sluice-worker processes on S3, the producer, and a proxy that kills a
worker at a chosen S3 request.

Environment (set by CMake's add_test): SLUICE_BROKER_BIN, SLUICE_WORKER_BIN,
SLUICE_PRODUCER_BIN, SLUICE_SHARED_DIR.
"""
import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import unittest
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))

import boto3  # noqa: E402

from broker_fixture import (PRODUCER_BIN, REGION, SHARED_DIR, WORKER_BIN, Broker,  # noqa: E402
                            free_port, metric_samples, wait_for)
from rgw_fixture import Rgw  # noqa: E402

TOKEN = "s3-events-token-for-tests-0123456789"
QUEUE = "photos"
DEAD_LETTERS = "photos-dlq"
# Generous for a loaded machine: a photo takes well under a second.
JOB_TIMEOUT = 120

_rgw = None


def rgw():
    """The module's RGW, started on first use (about 3 s)."""
    global _rgw
    if _rgw is None:
        _rgw = Rgw().start()
    return _rgw


def stop_rgw():
    global _rgw
    if _rgw is not None:
        _rgw.stop()
        _rgw = None


def photo(name):
    with open(os.path.join(SHARED_DIR, "photos", name), "rb") as f:
        return f.read()


def s3_env(**overrides):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=rgw().access_key,
               AWS_SECRET_ACCESS_KEY=rgw().secret_key, AWS_REGION=rgw().region)
    env.pop("AWS_SESSION_TOKEN", None)
    env.update(overrides)
    return env


class Worker:
    """One sluice-worker on S3, with its own metrics port and log."""

    def __init__(self, case, endpoint=None, env=None, extra=(), path_style=True):
        self.metrics_port = free_port()
        self.log_path = os.path.join(case.broker.dir, f"worker-{self.metrics_port}.log")
        argv = [WORKER_BIN, "--broker", case.broker.zmq_endpoint, "--queue-name", QUEUE,
                "--s3-endpoint", endpoint or rgw().endpoint,
                *(["--s3-path-style"] if path_style else []),
                "--metrics-listen", f"127.0.0.1:{self.metrics_port}",
                "--visibility-timeout", "3", "--concurrency", "2", "--grace-period", "2",
                *extra]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                        env=env or s3_env())
        wait_for(lambda: self._metrics_up(), 30, "the worker's metrics port")

    def _metrics_up(self):
        if self.process.poll() is not None:
            raise AssertionError(f"sluice-worker exited with {self.process.returncode}:\n"
                                 f"{self.logs()}")
        try:
            self.metrics()
            return True
        except OSError:
            return False

    def alive(self):
        return self.process.poll() is None

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as r:
            return r.read().decode()

    def total(self, name, **labels):
        """The sum of `name`'s samples whose labels include `labels`."""
        return sum(v for l, v in metric_samples(self.metrics(), name)
                   if all(l.get(k) == str(x) for k, x in labels.items()))

    def logs(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def kill(self):
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class KillingProxy:
    """Forwards S3 requests to RGW as they are (the Host header too, so
    signatures still match) until `should_kill(method, path)` says so; then it
    kills `victim` with SIGKILL before forwarding, and drops the request."""

    def __init__(self, should_kill):
        self.should_kill = should_kill
        self.victim = None
        self.killed = threading.Event()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if not proxy.killed.is_set() and proxy.should_kill(self.command, self.path):
                    proxy.victim.kill()
                    proxy.killed.set()
                    self.close_connection = True
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", rgw().port, timeout=30)
                upstream.putrequest(self.command, self.path, skip_host=True,
                                    skip_accept_encoding=True)
                for name, value in self.headers.items():
                    upstream.putheader(name, value)
                upstream.endheaders(body)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response_only(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class S3Case(unittest.TestCase):
    """A fresh bucket, and a fresh broker with queue `photos` (dead letters to
    `photos-dlq` after 5 receives) and the S3 event endpoint on."""

    def setUp(self):
        self.bucket = f"photos-{uuid.uuid4().hex[:10]}"
        self.s3 = rgw().client()
        self.s3.create_bucket(Bucket=self.bucket)
        self.broker = Broker(fsync="always")
        token_path = os.path.join(self.broker.dir, "s3-events-token")
        with open(token_path, "w") as f:
            f.write(TOKEN + "\n")
        self.broker.extra_args = ["--s3-events-token-file", token_path]
        self.broker.start()
        self.addCleanup(self.broker.cleanup)
        self.sqs = boto3.client("sqs", endpoint_url=self.broker.endpoint_url, region_name=REGION,
                                aws_access_key_id="test", aws_secret_access_key="test")
        self.sqs.create_queue(QueueName=DEAD_LETTERS)
        self.sqs.create_queue(QueueName=QUEUE, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": Broker.queue_arn(DEAD_LETTERS), "maxReceiveCount": "5"})})
        self.workers = []

    def tearDown(self):
        for w in self.workers:
            w.stop()

    def start_worker(self, **kwargs):
        worker = Worker(self, **kwargs)
        self.workers.append(worker)
        return worker

    def events_url(self, queue=QUEUE):
        return f"{self.broker.endpoint_url}/s3-events/{queue}?token={TOKEN}"

    def put(self, key, data):
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    def keys(self, prefix=""):
        keys, token = [], None
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self.s3.list_objects_v2(**kwargs)
            keys += [o["Key"] for o in page.get("Contents", [])]
            token = page.get("NextContinuationToken")
            if not token:
                return sorted(keys)

    def get(self, key):
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def queue_counts(self, queue=QUEUE):
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.broker.queue_url(queue),
            AttributeNames=["ApproximateNumberOfMessages",
                            "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return (int(attrs["ApproximateNumberOfMessages"]),
                int(attrs["ApproximateNumberOfMessagesNotVisible"]))

    def wait_resized(self, uploads, what="the outputs"):
        """Waits until each upload `pending/<p>.<ext>` has its two outputs and
        its original in originals/, and pending/ holds none of them."""
        def done():
            present = set(self.keys())
            return all(expected <= present and key not in present
                       for key, expected in ((k, outputs_of(k)) for k in uploads))
        wait_for(done, JOB_TIMEOUT, what, interval=0.2)

    def producer(self, *args, env=None):
        """Runs sluice-producer on this bucket; its parsed JSON summary and exit code."""
        argv = [PRODUCER_BIN, *args, "--broker", self.broker.zmq_endpoint]
        run = subprocess.run(argv, capture_output=True, text=True, env=env or s3_env(),
                             timeout=120)
        try:
            summary = json.loads(run.stdout) if run.stdout.strip() else None
        except json.JSONDecodeError:
            summary = None
        return summary, run.returncode, run.stderr


def outputs_of(key):
    """pending/a/cat.jpg -> {resized/a/cat-1000.jpg, resized/a/cat-200.jpg, originals/a/cat.jpg}"""
    relative = key[len("pending/"):]
    stem, dot, ext = relative.rpartition(".")
    return {f"resized/{stem}-1000.{ext}", f"resized/{stem}-200.{ext}", f"originals/{relative}"}


def image_size(data):
    """(width, height) of image bytes, by ImageMagick's identify."""
    out = subprocess.run(["identify", "-format", "%w %h", "-"], input=data, check=True,
                         capture_output=True).stdout.decode()
    w, h = out.split()
    return int(w), int(h)
