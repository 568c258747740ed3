"""Authentication and grants on the real binaries, over both transports: the
ZeroMQ protocol through sluice-producer (CURVE keys, admitted by the broker's
ZAP handler) and SQS's HTTP protocol through Debian's boto3 (SigV4 access
keys). One principals file names who may do what (docs/auth.md).

Each refusal is checked for its error, for the queue it left untouched, and
for its log line and metric; each grant for working.
"""
import json
import os
import signal
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
from botocore import UNSIGNED

from broker_fixture import (BROKER_BIN, PRODUCER_BIN, REGION, Broker, free_port, metric_samples,
                            wait_for)

# The CLI's exit codes (producer/cli/exit_codes.h).
EXIT_BROKER_ERROR = 254
EXIT_UNAVAILABLE = 255

QUEUE = "photos"
OTHER = "payments"


def keygen(directory, name):
    """A CURVE key pair written by `sluice-broker keygen`: (public, secret path)."""
    public, secret = (os.path.join(directory, f"{name}.{ext}") for ext in ("pub", "key"))
    subprocess.run([BROKER_BIN, "keygen", "--public-key-file", public, "--secret-key-file", secret],
                   check=True)
    with open(public) as f:
        return f.read().strip(), secret


ROLES = {
    "admin": [{"actions": ["*"], "queues": ["*"]}],
    "producer": [{"actions": ["SendMessage", "GetQueueUrl", "GetQueueAttributes"],
                  "queues": [QUEUE]}],
    "worker": [{"actions": ["ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
                            "GetQueueAttributes", "GetQueueUrl"], "queues": [QUEUE]}],
    "scaler": [{"actions": ["sqs:GetQueueAttributes"], "queues": ["*"]}],
}


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys_dir = tempfile.mkdtemp(prefix="sluice-auth-keys-")
        cls.broker_public, cls.broker_secret = keygen(cls.keys_dir, "broker")
        cls.keys = {name: keygen(cls.keys_dir, name)
                    for name in ("admin", "producer", "worker", "nogrant", "stranger")}
        cls.access = {name: (f"AKID{name.upper()}", f"secret-of-{name}")
                      for name in ("admin", "producer", "worker", "scaler", "nogrant")}
        cls.principals_path = os.path.join(cls.keys_dir, "principals.json")
        cls.write_principals(cls.principals_doc())
        cls.events_token = "token-of-the-s3-pusher"
        token_path = os.path.join(cls.keys_dir, "s3-events-token")
        with open(token_path, "w") as f:
            f.write(cls.events_token + "\n")
        cls.broker = Broker(extra_args=["--principals", cls.principals_path,
                                        "--secret-key-file", cls.broker_secret,
                                        "--s3-events-token-file", token_path]).start()
        cls.sqs = {name: cls.sqs_client(name) for name in cls.access}
        cls.cli_ok("admin", "create-queue", "--queue-name", QUEUE)
        cls.cli_ok("admin", "create-queue", "--queue-name", OTHER)

    @classmethod
    def tearDownClass(cls):
        cls.broker.cleanup()

    @classmethod
    def principals_doc(cls, revoke=()):
        principals = {}
        for name in ("admin", "producer", "worker", "scaler", "nogrant"):
            entry = {"roles": [name] if name in ROLES else []}
            if name in cls.keys and name not in revoke:
                entry["curve_public_keys"] = [cls.keys[name][0]]
            if name not in revoke:
                key_id, secret = cls.access[name]
                entry["access_keys"] = [{"access_key_id": key_id, "secret_access_key": secret}]
            principals[name] = entry
        return {"roles": ROLES, "principals": principals}

    @classmethod
    def write_principals(cls, doc):
        tmp = cls.principals_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        os.replace(tmp, cls.principals_path)

    @classmethod
    def sqs_client(cls, name, secret=None, signed=True):
        key_id, right_secret = cls.access.get(name, ("AKIDNOBODY", "nothing"))
        config = botocore.config.Config(retries={"max_attempts": 1},
                                        signature_version=None if signed else UNSIGNED)
        return boto3.client("sqs", endpoint_url=cls.broker.endpoint_url, region_name=REGION,
                            aws_access_key_id=key_id,
                            aws_secret_access_key=secret or right_secret, config=config)

    @classmethod
    def cli(cls, who, *args, broker_key=None):
        """sluice-producer as principal `who` (None: no keys at all)."""
        argv = [PRODUCER_BIN, "--broker", cls.broker.zmq_endpoint, "--timeout-ms", "5000"]
        if who is not None:
            argv += ["--broker-public-key", broker_key or cls.broker_public,
                     "--secret-key-file", cls.keys[who][1]]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=60,
                              env=env)

    @classmethod
    def cli_ok(cls, who, *args):
        r = cls.cli(who, *args)
        if r.returncode != 0:
            raise AssertionError(f"{who} {args}: exit {r.returncode}: {r.stderr}")
        return json.loads(r.stdout) if r.stdout.strip() else None

    def depth(self, queue):
        attrs = self.cli_ok("admin", "get-queue-attributes", "--queue-url", queue,
                            "--attribute-names", "ApproximateNumberOfMessages")["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])

    def denied(self, principal, action):
        samples = metric_samples(self.broker.metrics(), "sluice_access_denied_total")
        return sum(v for labels, v in samples
                   if labels.get("principal") == principal and labels.get("action") == action)

    def reload(self, doc, result="ok"):
        series = f'sluice_broker_principals_reloads_total{{result="{result}"}}'
        before = self.broker.metric(series) or 0
        self.write_principals(doc)
        self.broker.process.send_signal(signal.SIGHUP)
        wait_for(lambda: (self.broker.metric(series) or 0) > before, 10, f"a {result} reload")

    # ZeroMQ

    def test_zmq_client_without_keys_is_refused_and_the_queue_untouched(self):
        before = self.depth(QUEUE)
        r = self.cli(None, "send-message", "--queue-url", QUEUE, "--message-body", "x")
        self.assertEqual(r.returncode, EXIT_UNAVAILABLE, r.stderr)
        # Depending on who hangs up first, the client sees the mismatch of
        # mechanisms or only the end of the connection; either way it says
        # what to give.
        self.assertIn("CURVE", r.stderr)
        self.assertIn("--broker-public-key-file", r.stderr)
        self.assertEqual(self.depth(QUEUE), before)

    def test_zmq_unknown_key_is_refused_at_the_handshake(self):
        before = self.broker.metric(
            'sluice_broker_zmq_connections_refused_total{reason="unknown_key"}') or 0
        r = self.cli("stranger", "purge-queue", "--queue-url", QUEUE)
        self.assertEqual(r.returncode, EXIT_BROKER_ERROR, r.stderr)
        self.assertIn("AccessDenied", r.stderr)
        self.assertIn(self.keys["stranger"][0], r.stderr)  # the key to add, named
        self.assertGreater(self.broker.metric(
            'sluice_broker_zmq_connections_refused_total{reason="unknown_key"}'), before)
        self.assertIn("event=connection_refused reason=unknown_key", self.broker.logs())

    def test_zmq_wrong_broker_key_fails_the_handshake(self):
        other_public, _ = keygen(tempfile.mkdtemp(dir=self.keys_dir), "other")
        r = self.cli("admin", "list-queues", broker_key=other_public)
        self.assertEqual(r.returncode, EXIT_UNAVAILABLE, r.stderr)
        self.assertIn("--broker-public-key", r.stderr)

    def test_zmq_principal_without_a_grant_is_refused(self):
        before_depth, before_denied = self.depth(QUEUE), self.denied("nogrant", "SendMessage")
        r = self.cli("nogrant", "send-message", "--queue-url", QUEUE, "--message-body", "x")
        self.assertEqual(r.returncode, EXIT_BROKER_ERROR, r.stderr)
        self.assertIn("(AccessDenied)", r.stderr)
        self.assertIn("nogrant is not authorized to perform: sqs:SendMessage", r.stderr)
        self.assertEqual(self.depth(QUEUE), before_depth)
        self.assertEqual(self.denied("nogrant", "SendMessage"), before_denied + 1)
        self.assertIn("event=access_denied principal=nogrant action=SendMessage queue=photos "
                      "transport=zmq", self.broker.logs())

    def test_zmq_worker_role_receives_and_deletes_but_cannot_purge_or_send_elsewhere(self):
        body = "job-for-the-worker"
        self.cli_ok("producer", "send-message", "--queue-url", QUEUE, "--message-body", body)
        got = self.cli_ok("worker", "receive-message", "--queue-url", QUEUE,
                          "--max-number-of-messages", "10", "--wait-time-seconds", "5")
        mine = [m for m in got["Messages"] if m["Body"] == body]
        self.assertEqual(len(mine), 1, got)
        self.cli_ok("worker", "delete-message", "--queue-url", QUEUE,
                    "--receipt-handle", mine[0]["ReceiptHandle"])
        self.cli_ok("producer", "send-message", "--queue-url", QUEUE, "--message-body", "kept")
        depth = self.depth(QUEUE)
        r = self.cli("worker", "purge-queue", "--queue-url", QUEUE)
        self.assertEqual(r.returncode, EXIT_BROKER_ERROR, r.stderr)
        self.assertIn("sqs:PurgeQueue", r.stderr)
        self.assertEqual(self.depth(QUEUE), depth)
        other_depth = self.depth(OTHER)
        for args in (["send-message", "--queue-url", OTHER, "--message-body", "x"],
                     ["send-message-batch", "--queue-url", OTHER, "--entries",
                      json.dumps([{"Id": "1", "MessageBody": "x"}])]):
            r = self.cli("worker", *args)
            self.assertEqual(r.returncode, EXIT_BROKER_ERROR, r.stderr)
            self.assertIn("sqs:SendMessage on resource: payments", r.stderr)
        self.assertEqual(self.depth(OTHER), other_depth)
        # The producer may not take what it sent.
        r = self.cli("producer", "receive-message", "--queue-url", QUEUE)
        self.assertEqual(r.returncode, EXIT_BROKER_ERROR, r.stderr)

    def test_zmq_list_queues_lists_only_what_the_grants_match(self):
        r = self.cli("worker", "list-queues")
        self.assertEqual(r.returncode, EXIT_BROKER_ERROR, r.stderr)  # no ListQueues grant
        urls = self.cli_ok("admin", "list-queues")["QueueUrls"]
        self.assertEqual(sorted(u.rsplit("/", 1)[1] for u in urls), [OTHER, QUEUE])

    # HTTP

    def test_http_unsigned_and_badly_signed_calls_are_refused(self):
        url = self.broker.queue_url(QUEUE)
        before = self.depth(QUEUE)
        cases = [(self.sqs_client("admin", signed=False), "MissingAuthenticationToken"),
                 (self.sqs_client("admin", secret="not-the-secret"), "SignatureDoesNotMatch"),
                 (self.sqs_client("nobody"), "InvalidClientTokenId")]
        for client, code in cases:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                client.send_message(QueueUrl=url, MessageBody="x")
            self.assertEqual(e.exception.response["Error"]["Code"], code)
            self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertEqual(self.depth(QUEUE), before)

    def test_http_grants_are_the_same_principals(self):
        url = self.broker.queue_url(QUEUE)
        before, denied = self.depth(QUEUE), self.denied("nogrant", "PurgeQueue")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sqs["nogrant"].purge_queue(QueueUrl=url)
        error = e.exception.response["Error"]
        self.assertEqual(error["Code"], "AccessDenied")
        self.assertIn("nogrant is not authorized to perform: sqs:PurgeQueue", error["Message"])
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertEqual(self.denied("nogrant", "PurgeQueue"), denied + 1)
        self.assertIn("principal=nogrant action=PurgeQueue queue=photos transport=http",
                      self.broker.logs())
        self.sqs["producer"].send_message(QueueUrl=url, MessageBody="over http")
        self.assertEqual(self.depth(QUEUE), before + 1)
        # KEDA's scaler: the queue's attributes, and nothing else.
        attrs = self.sqs["scaler"].get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        self.assertEqual(int(attrs["ApproximateNumberOfMessages"]), before + 1)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sqs["scaler"].receive_message(QueueUrl=url)
        self.assertEqual(e.exception.response["Error"]["Code"], "AccessDenied")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sqs["worker"].send_message_batch(
                QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "x"}])
        self.assertEqual(e.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(self.depth(QUEUE), before + 1)

    def test_http_add_permission_explains_where_grants_live(self):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sqs["admin"].add_permission(QueueUrl=self.broker.queue_url(QUEUE), Label="l",
                                             AWSAccountIds=["000000000000"],
                                             Actions=["SendMessage"])
        self.assertIn("--principals", e.exception.response["Error"]["Message"])

    def test_s3_event_pushes_act_as_the_s3_events_principal(self):
        event = {"Records": [{"eventVersion": "2.2", "eventSource": "ceph:s3",
                              "eventName": "ObjectCreated:Put",
                              "s3": {"bucket": {"name": "photos"},
                                     "object": {"key": "pending/a.jpg", "eTag": "abc",
                                                "sequencer": "1"}}}]}
        before = self.depth(QUEUE)
        request = urllib.request.Request(
            f"{self.broker.endpoint_url}/s3-events/{QUEUE}?token={self.events_token}",
            data=json.dumps(event).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(request, timeout=10)
        self.assertEqual(e.exception.code, 403)  # no grant for principal s3-events here
        self.assertIn("AccessDenied", e.exception.read().decode())
        self.assertEqual(self.depth(QUEUE), before)
        self.assertIn("principal=s3-events action=SendMessage queue=photos transport=http",
                      self.broker.logs())

    # Reloads, last: they change the principals for the tests after them.

    def test_z1_a_file_that_does_not_parse_keeps_the_old_principals(self):
        self.reload("{ not json", result="failed")
        self.assertIn("event=principals_reload_failed", self.broker.logs())
        self.cli_ok("admin", "list-queues")
        self.sqs["producer"].send_message(QueueUrl=self.broker.queue_url(QUEUE), MessageBody="y")

    def test_z2_revoked_keys_are_refused_after_sighup(self):
        self.reload(self.principals_doc(revoke=("producer",)))
        before = self.depth(QUEUE)
        r = self.cli("producer", "send-message", "--queue-url", QUEUE, "--message-body", "x")
        self.assertEqual(r.returncode, EXIT_BROKER_ERROR, r.stderr)
        self.assertIn("AccessDenied", r.stderr)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sqs["producer"].send_message(QueueUrl=self.broker.queue_url(QUEUE),
                                              MessageBody="x")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidClientTokenId")
        self.assertEqual(self.depth(QUEUE), before)
        # The others are untouched by the reload.
        self.cli_ok("admin", "list-queues")
        self.sqs["scaler"].get_queue_attributes(QueueUrl=self.broker.queue_url(QUEUE))
        self.reload(self.principals_doc())
        self.cli_ok("producer", "send-message", "--queue-url", QUEUE, "--message-body", "back")


class ProtectedModeTest(unittest.TestCase):
    """Without principals the broker serves loopback only, unless --insecure."""

    def run_broker(self, *args):
        data = tempfile.mkdtemp(prefix="sluice-protected-")
        argv = [BROKER_BIN, "--data-dir", data, "--metrics-listen", f"127.0.0.1:{free_port()}"]
        if "--http-listen" not in args:
            argv += ["--http-listen", f"127.0.0.1:{free_port()}"]
        argv += args
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)

    def test_a_public_address_without_principals_is_refused_with_the_reason(self):
        for flag in (["--listen", f"tcp://0.0.0.0:{free_port()}"],
                     ["--listen", f"tcp://127.0.0.1:{free_port()}",
                      "--http-listen", f"0.0.0.0:{free_port()}"]):
            p = self.run_broker(*flag)
            out, _ = p.communicate(timeout=30)
            self.assertEqual(p.returncode, 2, out)
            self.assertIn("refusing to serve", out)
            self.assertIn("without authentication", out)
            self.assertIn("--insecure", out)

    def test_insecure_serves_it_with_a_warning(self):
        port = free_port()
        p = self.run_broker("--listen", f"tcp://0.0.0.0:{port}", "--insecure")
        try:
            r = wait_for(lambda: subprocess.run(
                [PRODUCER_BIN, "--broker", f"tcp://127.0.0.1:{port}", "--timeout-ms", "1000",
                 "list-queues"], capture_output=True).returncode == 0, 30, "the broker")
            self.assertTrue(r)
        finally:
            p.send_signal(signal.SIGTERM)
            out, _ = p.communicate(timeout=30)
        self.assertIn("event=insecure", out)


if __name__ == "__main__":
    unittest.main()
