#!/usr/bin/python3
"""Hostile and careless HTTP clients against a real sluice-broker.

One broker (--fsync always, --http-max-connections 1100) takes garbage,
truncated requests, an oversized Content-Length, a slowloris trickle, 1,000
idle connections and malformed bodies, while an ordinary client keeps sending.
A second broker (--http-max-connections 5) shows the connection cap. At the
end the first broker is killed (SIGKILL) and restarted on its data directory:
every message whose send was answered 200 must still be there.

Stdlib only. SLUICE_BROKER_BIN names the broker binary.
Run: /usr/bin/python3 tests/http/hostile_test.py -v
"""

import collections
import http.client
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
BROKER_BIN = os.environ.get(
    "SLUICE_BROKER_BIN", os.path.join(HERE, "..", "..", "build", "broker", "sluice-broker"))

START_DEADLINE_S = 20
STOP_DEADLINE_S = 20
# The broker's limits under test (see the broker's HTTP docs).
REQUEST_DEADLINE_S = 10     # first byte of a request to its last
IDLE_CONNECTIONS = 1000
# What an ordinary call may take while the broker is under attack. A normal
# call takes milliseconds; a second means the loop was blocked.
NORMAL_LATENCY_S = 1.0

JSON_TYPE = "application/x-amz-json-1.0"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(probe, timeout, what, interval=0.05):
    """Polls probe() until it returns something truthy; fails at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def raise_nofile_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


class Broker:
    """A sluice-broker child process on free ports with its own data dir."""

    def __init__(self, extra_args=(), root=None):
        """root: an earlier broker's directory, to restart on its data."""
        self.extra_args = list(extra_args)
        self.root = root or tempfile.mkdtemp(prefix="sluice-hostile-")
        self.data_dir = os.path.join(self.root, "data")
        self.proc = None

    def start(self):
        self.http_port = free_port()
        self.metrics_port = free_port()
        self.zmq_port = free_port()
        self.log_path = os.path.join(self.root, f"broker-{self.http_port}.log")
        args = [BROKER_BIN,
                "--listen", f"tcp://127.0.0.1:{self.zmq_port}",
                "--metrics-listen", f"127.0.0.1:{self.metrics_port}",
                "--http-listen", f"127.0.0.1:{self.http_port}",
                "--data-dir", self.data_dir] + self.extra_args
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

        def accepts():
            if self.proc.poll() is not None:
                raise AssertionError(f"broker exited at start ({self.proc.returncode}):\n"
                                     + self.output())
            try:
                socket.create_connection(("127.0.0.1", self.http_port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(accepts, START_DEADLINE_S, f"the broker's HTTP port {self.http_port}")
        return self

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read()[-8000:].decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Signals the broker and returns its exit status."""
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
            raise AssertionError(f"broker ignored {sig!r} for {STOP_DEADLINE_S} s:\n"
                                 + self.output())
        finally:
            self.log.close()
        return code

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)

    # --- HTTP helpers -----------------------------------------------------

    def json_call(self, action, payload, timeout=15):
        """A JSON-protocol call: (status, headers, parsed body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            conn.request("POST", "/", json.dumps(payload).encode(), {
                "Content-Type": JSON_TYPE,
                "X-Amz-Target": f"AmazonSQS.{action}",
                "x-amzn-query-mode": "true",
            })
            r = conn.getresponse()
            data = r.read()
            return r.status, r.headers, json.loads(data) if data else None
        finally:
            conn.close()

    def raw_post(self, body, headers, timeout=15):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            conn.request("POST", "/", body, headers)
            r = conn.getresponse()
            return r.status, r.headers, r.read()
        finally:
            conn.close()

    def metrics(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            r = conn.getresponse()
            assert r.status == 200, r.status
            return r.read().decode()
        finally:
            conn.close()

    def metric(self, name):
        """The sum of all samples of `name` (over its labels); None if absent."""
        total, seen = 0.0, False
        for line in self.metrics().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            sample = line.split("{", 1)[0].split(" ", 1)[0]
            if sample == name:
                total += float(line.rsplit(" ", 1)[1])
                seen = True
        return total if seen else None


def read_until_close(sock, timeout):
    """Everything the peer sends until it closes (or resets, or the timeout)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, "closed"
            data += chunk
    except socket.timeout:
        return data, "open"
    except ConnectionResetError:
        return data, "reset"


class HostileClientsTest(unittest.TestCase):
    """Test names are ordered: test_z_* checks what all the others sent."""

    broker = None
    queue_url = None
    acked = collections.Counter()     # bodies answered 200
    attempted = collections.Counter()  # bodies whose answer was not a 200

    @classmethod
    def setUpClass(cls):
        soft, _ = raise_nofile_limit()
        if soft != resource.RLIM_INFINITY and soft < IDLE_CONNECTIONS + 200:
            raise unittest.SkipTest(f"RLIMIT_NOFILE {soft} is below {IDLE_CONNECTIONS + 200}")
        cls.broker = Broker(["--fsync", "always", "--http-max-connections", "1100"]).start()
        try:
            status, _, body = cls.broker.json_call("CreateQueue", {"QueueName": "acked"})
            assert status == 200, (status, body)
        except BaseException:
            # tearDownClass does not run after a failed setUpClass.
            cls.broker.stop(signal.SIGKILL)
            cls.broker.cleanup()
            raise
        cls.queue_url = body["QueueUrl"]
        cls.seq = 0

    @classmethod
    def tearDownClass(cls):
        if cls.broker is None:
            return
        try:
            if cls.broker.alive():
                code = cls.broker.stop()
                assert code == 0, f"broker exit status {code} after SIGTERM:\n{cls.broker.output()}"
        finally:
            cls.broker.cleanup()

    # --- helpers ------------------------------------------------------------

    def send_acked(self, tag, broker=None):
        """Sends one message; returns the call's latency. Counts what was acked."""
        broker = broker or self.broker
        type(self).seq += 1
        body = f"{tag} #{self.seq} <&> ünï\r\n"
        t0 = time.monotonic()
        try:
            status, _, out = broker.json_call("SendMessage", {"QueueUrl": self.queue_url,
                                                              "MessageBody": body})
        except OSError as e:
            self.attempted[body] += 1
            self.fail(f"SendMessage ({tag}) failed: {e!r}")
        latency = time.monotonic() - t0
        if status != 200:
            self.attempted[body] += 1
            self.fail(f"SendMessage ({tag}): {status} {out}")
        self.acked[body] += 1
        return latency

    def assert_still_serving(self, tag):
        self.assertTrue(self.broker.alive(), "the broker died:\n" + self.broker.output())
        latency = self.send_acked(tag)
        self.assertLess(latency, NORMAL_LATENCY_S, f"{tag}: SendMessage took {latency:.2f} s")

    def connect(self, port=None):
        return socket.create_connection(("127.0.0.1", port or self.broker.http_port), timeout=10)

    # --- (a) garbage ------------------------------------------------------

    def test_a_garbage_bytes_get_400_or_close(self):
        bad_before = self.broker.metric("sluice_http_bad_requests_total") or 0
        garbage = [
            b"\x00\xff\xfe garbage \x01\x02\r\n\r\n",
            b"HELLO WORLD\r\n\r\n",
            b"GET\r\n\r\n",
            b"POST / HTTP/9.9\r\nHost: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: banana\r\n\r\n",
            b"POST / HTTP/1.1\r\nno colon here\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200),  # a TLS hello
            os.urandom(4096),
            b"A" * 20000 + b"\r\n\r\n",  # a request line past the header limit
            b"POST / HTTP/1.1\r\nX: " + b"y" * 20000 + b"\r\n\r\n",  # headers > 16 KiB
        ]
        for g in garbage:
            with self.subTest(garbage=g[:40]):
                with self.connect() as s:
                    try:
                        s.sendall(g)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # closed on us mid-send: allowed
                    data, how = read_until_close(s, 12)
                if data:
                    status_line = data.split(b"\r\n", 1)[0]
                    self.assertRegex(status_line, rb"^HTTP/1\.[01] (400|413|431) ",
                                     f"answer to garbage: {data[:300]!r}")
                self.assertNotEqual(how, "open", f"still open after garbage, answered {data[:200]!r}")
                self.assert_still_serving("after garbage")
        bad_after = self.broker.metric("sluice_http_bad_requests_total")
        self.assertIsNotNone(bad_after, "sluice_http_bad_requests_total is not exported")
        self.assertGreater(bad_after, bad_before)

    # --- (b) truncated ----------------------------------------------------

    def test_b_truncated_requests_do_not_crash(self):
        body = json.dumps({"QueueUrl": self.queue_url, "MessageBody": "never complete"}).encode()
        head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {JSON_TYPE}\r\n"
                f"X-Amz-Target: AmazonSQS.SendMessage\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        for cut in [head[:10], head[:-2], head, head + body[:len(body) // 2], head + body[:-1]]:
            with self.subTest(cut=len(cut)):
                with self.connect() as s:
                    s.sendall(cut)
                    s.shutdown(socket.SHUT_WR)
                    data, _ = read_until_close(s, 12)
                if data:
                    self.assertRegex(data.split(b"\r\n", 1)[0], rb"^HTTP/1\.[01] 4\d\d ",
                                     f"answer to a truncated request: {data[:300]!r}")
                self.assert_still_serving("after a truncated request")
        # Sent and dropped without even a FIN: a reset mid-request.
        s = self.connect()
        s.sendall(head + body[:5])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
        self.assert_still_serving("after a reset")
        # None of the incomplete sends was enqueued (checked at the end by count).

    # --- (c) oversized ----------------------------------------------------

    def test_c_huge_content_length_is_413_before_the_body(self):
        for ctype, extra in [(JSON_TYPE, "X-Amz-Target: AmazonSQS.SendMessage\r\n"), (FORM_TYPE, "")]:
            with self.subTest(content_type=ctype):
                with self.connect() as s:
                    t0 = time.monotonic()
                    s.sendall((f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
                               f"{extra}Content-Length: 100000000\r\n\r\n").encode())
                    s.settimeout(3)
                    try:
                        first = s.recv(65536)
                    except socket.timeout:
                        self.fail("no answer within 3 s to Content-Length: 100000000 "
                                  "(the broker waits for the body)")
                    took = time.monotonic() - t0
                    self.assertRegex(first.split(b"\r\n", 1)[0], rb"^HTTP/1\.[01] 413 ",
                                     f"answer: {first[:300]!r}")
                    self.assertLess(took, 2.0)
                    # The body was never read, so the connection cannot go on.
                    rest, how = read_until_close(s, 5)
                    self.assertNotEqual(how, "open", "connection left open after a 413")
        # Just over the 4 MiB limit, and just under it (a body too large for a message).
        with self.connect() as s:
            s.sendall((f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: {JSON_TYPE}\r\n"
                       f"X-Amz-Target: AmazonSQS.SendMessage\r\n"
                       f"Content-Length: {4 * 1024 * 1024 + 1}\r\n\r\n").encode())
            data, _ = read_until_close(s, 5)
            self.assertRegex(data.split(b"\r\n", 1)[0], rb"^HTTP/1\.[01] 413 ", repr(data[:200]))
        self.assert_still_serving("after 413s")

    # --- (d) slowloris ----------------------------------------------------

    def test_d_slowloris_is_cut_off_and_others_are_served(self):
        request = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {JSON_TYPE}\r\n"
                   "X-Amz-Target: AmazonSQS.ListQueues\r\nx-amzn-query-mode: true\r\n"
                   "Content-Length: 2\r\n\r\n{}").encode()
        result = {}

        def trickle():
            s = self.connect()
            try:
                for i, byte in enumerate(request):
                    try:
                        s.send(bytes([byte]))
                    except (BrokenPipeError, ConnectionResetError) as e:
                        result["closed"] = time.monotonic()
                        result["how"] = repr(e)
                        return
                    if i == 0:
                        result["first"] = time.monotonic()
                    readable, _, _ = select.select([s], [], [], 0.5)
                    if readable:
                        try:
                            data = s.recv(65536)
                        except ConnectionResetError:
                            data = b"<reset>"
                        result["closed"] = time.monotonic()
                        result["how"] = data[:200]
                        return
                    if time.monotonic() - result["first"] > 20:
                        return
            finally:
                s.close()

        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        latencies = []
        while t.is_alive():
            latencies.append(self.send_acked("during slowloris"))
            t.join(0.25)
        self.assertIn("closed", result, "the broker let a trickled request run for 20 s")
        took = result["closed"] - result["first"]
        self.assertGreaterEqual(took, REQUEST_DEADLINE_S - 1, f"cut off early, after {took:.1f} s")
        self.assertLessEqual(took, REQUEST_DEADLINE_S + 2.5,
                             f"cut off after {took:.1f} s ({result['how']!r})")
        self.assertGreater(len(latencies), 20)
        self.assertLess(max(latencies), NORMAL_LATENCY_S,
                        f"slowest call during the trickle: {max(latencies):.2f} s")

    # --- (e) 1,000 idle connections ------------------------------------------

    def test_e_thousand_idle_connections(self):
        idle = []
        try:
            for _ in range(IDLE_CONNECTIONS):
                idle.append(self.connect())
            wait_for(lambda: (self.broker.metric("sluice_http_connections") or 0) >= IDLE_CONNECTIONS,
                     15, f"sluice_http_connections >= {IDLE_CONNECTIONS}")

            # An ordinary client: its own queue for a send/receive round trip,
            # and sends to the checked queue.
            status, _, out = self.broker.json_call("CreateQueue", {"QueueName": "beside-idle"})
            self.assertEqual(status, 200, out)
            url = out["QueueUrl"]
            t0 = time.monotonic()
            status, _, sent = self.broker.json_call("SendMessage", {"QueueUrl": url,
                                                                    "MessageBody": "among idlers"})
            self.assertEqual(status, 200, sent)
            status, _, got = self.broker.json_call("ReceiveMessage", {"QueueUrl": url,
                                                                      "WaitTimeSeconds": 5})
            self.assertEqual(status, 200, got)
            self.assertLess(time.monotonic() - t0, 2 * NORMAL_LATENCY_S)
            self.assertEqual([m["MessageId"] for m in got.get("Messages", [])], [sent["MessageId"]])
            status, _, _ = self.broker.json_call("DeleteMessage", {
                "QueueUrl": url, "ReceiptHandle": got["Messages"][0]["ReceiptHandle"]})
            self.assertEqual(status, 200)
            for _ in range(20):
                self.assertLess(self.send_acked("beside 1000 idle"), NORMAL_LATENCY_S)
            # The idle ones were kept, not dropped to make room.
            self.assertGreaterEqual(self.broker.metric("sluice_http_connections"), IDLE_CONNECTIONS)
        finally:
            for s in idle:
                s.close()
        wait_for(lambda: (self.broker.metric("sluice_http_connections") or 0) < 50, 15,
                 "sluice_http_connections to fall after the idle connections closed")

    # --- (f) the connection cap ---------------------------------------------

    def test_f_over_the_cap_is_503(self):
        capped = Broker(["--fsync", "never", "--http-max-connections", "5"]).start()
        held = []
        try:
            for _ in range(5):
                c = http.client.HTTPConnection("127.0.0.1", capped.http_port, timeout=10)
                c.request("POST", "/", b"{}", {"Content-Type": JSON_TYPE,
                                               "X-Amz-Target": "AmazonSQS.ListQueues"})
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                held.append(c)  # kept alive
            with self.connect(capped.http_port) as s:
                # The answer may come before any request; otherwise send one.
                readable, _, _ = select.select([s], [], [], 1)
                if not readable:
                    try:
                        s.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: {JSON_TYPE}\r\n"
                                  "X-Amz-Target: AmazonSQS.ListQueues\r\nContent-Length: 2\r\n\r\n{}"
                                  .encode())
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                data, how = read_until_close(s, 5)
            self.assertRegex(data.split(b"\r\n", 1)[0], rb"^HTTP/1\.[01] 503 ",
                             f"6th connection got {data[:300]!r} ({how})")
            self.assertNotEqual(how, "open", "a refused connection must be closed")
            self.assertGreaterEqual(capped.metric("sluice_http_connections_refused_total") or 0, 1)
            # The held connections still work...
            c = held[0]
            c.request("POST", "/", b"{}", {"Content-Type": JSON_TYPE,
                                           "X-Amz-Target": "AmazonSQS.ListQueues"})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            # ...and when one goes, a newcomer gets its place.
            held.pop().close()

            def newcomer_served():
                try:
                    status, _, _ = capped.json_call("ListQueues", {}, timeout=5)
                except OSError:
                    return False
                return status == 200

            wait_for(newcomer_served, 10, "a new connection to be served below the cap")
        finally:
            for c in held:
                c.close()
            code = capped.stop()
            capped.cleanup()
        self.assertEqual(code, 0, "capped broker's exit status after SIGTERM")

    # --- (h) malformed bodies -------------------------------------------------

    def assert_json_error(self, status, headers, body, want_code=None):
        self.assertEqual(status, 400, body)
        ctype = headers.get("Content-Type", "")
        self.assertTrue(ctype.startswith(JSON_TYPE), ctype)
        doc = json.loads(body)
        self.assertIsInstance(doc.get("__type"), str, doc)
        self.assertTrue(doc["__type"])
        self.assertTrue(doc.get("message") or doc.get("Message"), f"no message: {doc}")
        qe = headers.get("x-amzn-query-error")
        self.assertIsNotNone(qe, f"no x-amzn-query-error header: {dict(headers)}")
        code, _, fault = qe.partition(";")
        self.assertTrue(code)
        self.assertEqual(fault, "Sender", qe)
        if want_code:
            self.assertEqual(code, want_code, qe)
            self.assertTrue(doc["__type"].endswith(want_code), doc["__type"])

    def assert_xml_error(self, status, headers, body, want_code=None):
        self.assertEqual(status, 400, body)
        root = ET.fromstring(body)
        self.assertEqual(root.tag.split("}")[-1], "ErrorResponse", body)
        ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        err = root.find(f"{ns}Error")
        self.assertIsNotNone(err, body)
        code = err.findtext(f"{ns}Code")
        self.assertTrue(code, body)
        self.assertTrue(err.findtext(f"{ns}Message"), body)
        typ = err.findtext(f"{ns}Type")
        if typ is not None:
            self.assertEqual(typ, "Sender", body)
        self.assertTrue(root.findtext(f"{ns}RequestId"), body)
        if want_code:
            self.assertEqual(code, want_code, body)

    def test_h_malformed_bodies(self):
        # Its own queue, so nothing a broken parser accepts lands in the checked one.
        status, _, out = self.broker.json_call("CreateQueue", {"QueueName": "malformed"})
        self.assertEqual(status, 200, out)
        url = out["QueueUrl"]
        json_headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": "AmazonSQS.SendMessage",
                        "x-amzn-query-mode": "true"}
        for bad in [b'{"QueueUrl": ', b"{not json}", b"[1, 2, 3]", b'"a string"', b"",
                    b'{"QueueUrl": "' + url.encode() + b'", "MessageBody": "\xff\xfe"}']:
            with self.subTest(json=bad):
                self.assert_json_error(*self.broker.raw_post(bad, json_headers))
        with self.subTest("wrong member type"):
            self.assert_json_error(*self.broker.raw_post(
                json.dumps({"QueueUrl": url, "MessageBody": "x",
                            "DelaySeconds": "soon"}).encode(), json_headers))

        with self.subTest("unknown JSON action"):
            self.assert_json_error(*self.broker.raw_post(b"{}", dict(
                json_headers, **{"X-Amz-Target": "AmazonSQS.NoSuchAction"})), "InvalidAction")
        with self.subTest("unknown query action"):
            self.assert_xml_error(*self.broker.raw_post(
                b"Action=NoSuchAction&Version=2012-11-05", {"Content-Type": FORM_TYPE}),
                "InvalidAction")
        with self.subTest("malformed form encoding"):
            self.assert_xml_error(*self.broker.raw_post(
                b"Action=SendMessage&Version=2012-11-05&QueueUrl="
                + urllib.parse.quote(url, safe="").encode()
                + b"&MessageBody=%zz", {"Content-Type": FORM_TYPE}))
        with self.subTest("truncated percent escape"):
            self.assert_xml_error(*self.broker.raw_post(
                b"Action=ListQueues&Version=2012-11-05&QueueNamePrefix=%4", {"Content-Type": FORM_TYPE}))
        self.assert_still_serving("after malformed bodies")

    # --- (g) nothing acknowledged is lost -------------------------------------

    def test_z_nothing_acknowledged_is_lost(self):
        for i in range(40):
            self.send_acked("final")
        # A crash, not a shutdown: with --fsync always every 200 was on disk.
        old = type(self).broker
        self.assertEqual(old.stop(signal.SIGKILL), -signal.SIGKILL)
        new = Broker(["--fsync", "always", "--http-max-connections", "1100"], root=old.root)
        type(self).broker = new.start()

        received = collections.Counter()
        expected = sum(self.acked.values())
        give_up = time.monotonic() + 30

        def drain():
            status, _, out = new.json_call("ReceiveMessage", {
                "QueueUrl": self.queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1})
            self.assertEqual(status, 200, out)
            msgs = out.get("Messages", [])
            for m in msgs:
                received[m["Body"]] += 1
            if msgs:
                status, _, res = new.json_call("DeleteMessageBatch", {
                    "QueueUrl": self.queue_url,
                    "Entries": [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                for i, m in enumerate(msgs)]})
                self.assertEqual(status, 200, res)
                self.assertEqual(res.get("Failed", []), [])
            # Done at the first empty answer once all came (or time is up).
            return not msgs and (sum(received.values()) >= expected
                                 or time.monotonic() > give_up)

        wait_for(drain, 60, "the queue to be drained")
        missing = self.acked - received
        self.assertEqual(missing, collections.Counter(),
                         f"{sum(missing.values())} acknowledged messages lost, e.g. "
                         f"{list(missing)[:5]}")
        unexpected = received - self.acked - self.attempted
        self.assertEqual(unexpected, collections.Counter(), "messages nobody sent")
        self.assertGreaterEqual(expected, 100)


if __name__ == "__main__":
    unittest.main()
