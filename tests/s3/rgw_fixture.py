"""A real Ceph RGW (radosgw) on loopback for the S3 tests: one monitor and one
memstore OSD, in a temporary directory, ready in about 1.5 s.

    with Rgw() as rgw:
        s3 = rgw.client()                  # boto3, path-style, SigV4
        s3.create_bucket(Bucket="photos")
        with Webhook() as hook:
            rgw.notify("photos", hook.url("/events?token=abc"), prefix="pending/")
            s3.put_object(Bucket="photos", Key="pending/a.jpg", Body=b"...")
            hook.wait_for(1)

Rgw.start() writes a keyring and a ceph.conf (cephx, msgr v1 only, one
replica, 8 PGs a pool, `paxos propose interval = 0.05`, which takes the start
from ~45 s to ~1.5), makes the monitor's store, starts ceph-mon, registers and
starts one memstore ceph-osd and radosgw (all in the foreground, as children
of this process that die with it, with their logs in the temporary
directory), waits until RGW answers HTTP, and creates an S3 user with a fixed
key. stop() (or leaving the `with`) stops them all (SIGTERM, then SIGKILL)
and removes the directory. A failed start raises RgwError with the tails of
the daemons' logs.

Attributes once started: endpoint (http://127.0.0.1:PORT), port, access_key,
secret_key, region, dns_name ("localhost": virtual-host-style requests go to
http://BUCKET.localhost:PORT, which curl resolves by itself),
virtual_host_endpoint, startup_seconds, timings, dir.

What RGW 16.2 does with bucket notifications (measured; see
tests/unit/common/s3/testdata/README.md for the bodies):
  - It POSTs to the push-endpoint exactly as given, path and query string
    kept, with Content-Type: application/json and no other header of note;
    one record per POST; eventSource "ceph:s3", eventName without "s3:"
    ("ObjectCreated:Put", ":Copy", ":CompleteMultipartUpload"); the key
    literally, not URL-encoded. No test event.
  - A topic that is not persistent pushes once, during the upload (which
    waits for it), and drops the event if the endpoint refuses or is down.
  - A persistent topic queues the event and answers the upload at once. Its
    queue is taken up only at RGW's next 30 s round (Pacific's fixed period),
    so the first event of a new persistent topic arrives up to ~30 s late:
    wait_topic_owned() waits for that. A topic created again under the same
    name, with another endpoint say, stays taken up (and every bucket that
    names it follows it): reuse one name, notify(..., persistent=True,
    topic="events"), to wait only once per RGW. A refused push (non-2xx, or
    no connection) is retried at once, without backoff (~1,000 tries a
    second), until it succeeds; and now and then (3 of 7 tries here, after
    1,000 to 10,000 refusals) the queue stops for good until RGW restarts.

Python: Debian's /usr/bin/python3 with python3-boto3 (boto3 1.26); newer
boto3 works too. Packages: radosgw ceph-mon ceph-osd (Ceph 16.2 Pacific).
"""
import base64
import ctypes
import http.server
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ACCESS_KEY = "SLUICETESTACCESSKEY0"
SECRET_KEY = "sluice/test/secret/key/0123456789abcdefghij"
USER_ID = "sluice"
# RGW checks a SigV4 signature with whatever region the client signs for (its
# zonegroup, "default", is only checked against CreateBucket's
# LocationConstraint, which boto3 leaves out for us-east-1).
REGION = "us-east-1"
DNS_NAME = "localhost"
START_TIMEOUT = 60  # generous for a loaded CI machine; a healthy start takes 1.5 s
STOP_TIMEOUT = 5
# How long a persistent topic's queue may wait for RGW to take it up: its
# manager looks for new queues every 30 s (a constant in Pacific).
QUEUE_OWNERSHIP_TIMEOUT = 45


class RgwError(RuntimeError):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tcp_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _die_with_parent():
    """In the child before exec: SIGKILL when the test process dies, so that
    a crashed or killed test leaves no daemons behind."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _tail(path, lines=25):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no file)\n"


def _connect_to_loopback(request, **_):
    """botocore before-send: a request to *.localhost goes to 127.0.0.1 with
    its Host header (what it was signed with) kept."""
    url = urllib.parse.urlsplit(request.url)
    if url.hostname and url.hostname.endswith(".localhost"):
        request.headers["Host"] = url.netloc
        request.url = urllib.parse.urlunsplit(
            (url.scheme, f"127.0.0.1:{url.port}", url.path, url.query, url.fragment))


def _boto_config(**kwargs):
    import botocore.config
    # boto3 >= 1.36 adds CRC checksums (and aws-chunked bodies) by default,
    # which RGW 16.2 does not understand; 1.26 has neither the default nor
    # these options.
    for extra in ({"request_checksum_calculation": "when_required",
                   "response_checksum_validation": "when_required"}, {}):
        try:
            return botocore.config.Config(**kwargs, **extra)
        except TypeError:
            continue
    raise AssertionError("unreachable")


class Rgw:
    """One throwaway Ceph cluster (mon + memstore OSD) and radosgw on it."""

    def __init__(self, start_timeout=START_TIMEOUT, memstore_bytes=8 << 30, conf=None,
                 debug=False):
        """conf: extra ceph.conf lines {option: value}, in [global].
        debug: RGW logs at level 20 (every request, every notification)."""
        self.start_timeout = start_timeout
        self.memstore_bytes = memstore_bytes
        self.extra_conf = dict(conf or {})
        self.debug = debug
        self.access_key, self.secret_key = ACCESS_KEY, SECRET_KEY
        self.region, self.dns_name, self.user_id = REGION, DNS_NAME, USER_ID
        self.dir = None
        self.port = None
        self.mon_port = None
        self.processes = {}  # name -> Popen
        self._log_files = []
        self._rgw_starts = 0
        self.startup_seconds = None
        self._topics = 0

    # -- lifetime -----------------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def virtual_host_endpoint(self):
        """The endpoint with the DNS name: buckets go to BUCKET.localhost:PORT."""
        return f"http://{self.dns_name}:{self.port}"

    @property
    def conf_path(self):
        return os.path.join(self.dir, "ceph.conf")

    def start(self):
        assert self.dir is None, "already started"
        self._began = began = time.monotonic()
        self.timings = []  # (step, seconds since start()) for a slow start's diagnosis
        self.dir = tempfile.mkdtemp(prefix="sluice-rgw-")
        try:
            self._start()
        except BaseException:
            self.stop(keep_dir=bool(os.environ.get("SLUICE_RGW_KEEP")))
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _start(self):
        self.mon_port, self.port = free_port(), free_port()
        fsid = str(uuid.uuid4())
        os.makedirs(os.path.join(self.dir, "run"))
        self._write_keyring()
        self._write_conf(fsid)
        # The monitor's map names its address as msgr v1 explicitly:
        # monmaptool --add would make a port other than 6789 a v2 address.
        monmap = os.path.join(self.dir, "monmap")
        self._run(["monmaptool", "--create", "--fsid", fsid,
                   "--addv", "a", f"[v1:127.0.0.1:{self.mon_port}]", monmap])
        # The monitor's first auth database is the keyring: every key in it.
        self._run(["ceph-mon", "-c", self.conf_path, "--mkfs", "-i", "a", "--monmap", monmap,
                   "--keyring", self.keyring_path])
        self._spawn("ceph-mon", ["ceph-mon", "-c", self.conf_path, "-i", "a", "-f"])
        # Make the OSD's store while the monitor starts (--no-mon-config: it
        # needs nothing from the monitor, whose config database is empty
        # anyway).
        osd_uuid = str(uuid.uuid4())
        os.makedirs(os.path.join(self.dir, "osd.0"))
        mkfs = self._popen(["ceph-osd", "-c", self.conf_path, "--no-mon-config", "-i", "0",
                            "--mkfs", "--osd-uuid", osd_uuid], "ceph-osd-mkfs")
        # A client that finds the monitor's port closed tries again only
        # after mon_client_hunt_interval (3 s): wait until it listens.
        self._wait(lambda: self._check_running() or _tcp_open(self.mon_port),
                   "ceph-mon to listen")
        self._mark("mon listening")
        osd_id = self._ceph("osd", "new", osd_uuid).strip()
        self._mark("osd registered")
        if osd_id != "0":
            raise self._error(f"`ceph osd new` gave id {osd_id!r}, not 0")
        if mkfs.wait(timeout=self.start_timeout) != 0:
            raise self._error(f"ceph-osd --mkfs exited with {mkfs.returncode}")
        self._spawn("ceph-osd", ["ceph-osd", "-c", self.conf_path, "--no-mon-config",
                                 "-i", "0", "-f"])
        # radosgw would wait for the OSD by itself, but one started before
        # the OSD is up now and then stalls for the objecter's 5 s tick.
        self._wait(self._osd_active, "ceph-osd to boot")
        self._mark("osd active")
        self.start_rgw()
        self._mark("rgw answers")
        self.admin("user", "create", f"--uid={self.user_id}", "--display-name=Sluice tests",
                   f"--access-key={self.access_key}", f"--secret={self.secret_key}")
        self._mark("user created")

    def _mark(self, what):
        self.timings.append((what, time.monotonic() - self._began))

    @property
    def keyring_path(self):
        return os.path.join(self.dir, "keyring")

    def _write_keyring(self):
        """One keyring with every daemon's and the admin's key, read by all."""
        def key():
            # A CryptoKey: type 1 (AES), created (sec, nsec), length, secret.
            raw = struct.pack("<HIIH", 1, int(time.time()), 0, 16) + os.urandom(16)
            return base64.b64encode(raw).decode()
        entities = {
            "mon.": {"mon": "allow *"},
            "client.admin": {"mon": "allow *", "osd": "allow *", "mgr": "allow *"},
            "osd.0": {"mon": "allow profile osd", "osd": "allow *", "mgr": "allow profile osd"},
            "client.rgw": {"mon": "allow rw", "osd": "allow rwx", "mgr": "allow rw"},
        }
        with open(self.keyring_path, "w") as f:
            for name, caps in entities.items():
                f.write(f"[{name}]\n\tkey = {key()}\n")
                f.writelines(f'\tcaps {k} = "{v}"\n' for k, v in caps.items())

    def _write_conf(self, fsid):
        d = self.dir
        conf = {
            "fsid": fsid,
            "mon host": f"[v1:127.0.0.1:{self.mon_port}]",
            "mon initial members": "a",
            "public addr": "127.0.0.1",
            # msgr v1 only: v2 would want the monitor on 3300 as well.
            "ms bind msgr2": "false",
            "ms bind ipv6": "false",
            # cephx, not none: with auth none over msgr v1 a client's first
            # command can reach the monitor before the monmap reached the
            # client, with a zero fsid, and fail ("wrong fsid") -- ~1 start
            # in 10 lost its OSD that way.
            "auth cluster required": "cephx",
            "auth service required": "cephx",
            "auth client required": "cephx",
            "mon warn on insecure global id reclaim allowed": "false",
            "run dir": f"{d}/run",
            "admin socket": f"{d}/run/$name.asok",
            "pid file": f"{d}/run/$name.pid",
            "log file": f"{d}/$name.log",
            "keyring": self.keyring_path,
            "mon data": f"{d}/mon.$id",
            "osd data": f"{d}/osd.$id",
            "mon cluster log file": f"{d}/cluster.log",
            # Speed: the monitor proposes every 50 ms instead of every 1 s
            # (each RGW pool is a few proposals); small pools, no autoscaler.
            "paxos propose interval": "0.05",
            "paxos min wait": "0.01",
            "osd pool default size": "1",
            "osd pool default min size": "1",
            "osd pool default pg num": "8",
            "osd pool default pgp num": "8",
            "osd pool default pg autoscale mode": "off",
            "mon allow pool size one": "true",
            "mon allow pool delete": "true",
            "mon warn on pool no redundancy": "false",
            "mon data avail crit": "1",
            "mon data avail warn": "2",
            "osd crush chooseleaf type": "0",
            "osd objectstore": "memstore",
            "memstore device bytes": str(self.memstore_bytes),
            "osd fast shutdown": "true",
            "osd fast shutdown notify mon": "false",
        }
        conf.update(self.extra_conf)
        rgw = {
            # tcp_nodelay: without it, Nagle's algorithm holds the end of
            # every CopyObject answer until the client's delayed ACK, 40 ms.
            "rgw frontends": f"beast endpoint=127.0.0.1:{self.port} tcp_nodelay=1",
            "rgw dns name": self.dns_name,
            "rgw thread pool size": "64",
            "rgw dynamic resharding": "false",
            "rgw enable lc threads": "false",
            "rgw enable usage log": "false",
            "rgw data": f"{d}/rgw",
        }
        if self.debug:
            rgw["debug rgw"] = "20"
        with open(self.conf_path, "w") as f:
            f.write("[global]\n")
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())
            f.write("\n[client.rgw]\n")
            f.writelines(f"{k} = {v}\n" for k, v in rgw.items())

    def stop(self, keep_dir=False):
        """SIGTERM (radosgw, then the OSD, then the monitor), SIGKILL what is
        left after a few seconds; then removes the directory."""
        for name in reversed(list(self.processes)):
            p = self.processes[name]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.processes.clear()
        for f in self._log_files:
            f.close()
        self._log_files.clear()
        if self.dir and not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def stop_rgw(self, sig=signal.SIGTERM):
        """Stops radosgw alone (SIGKILL for `kill -9`); the cluster stays."""
        p = self.processes.pop("radosgw")
        if p.poll() is None:
            p.send_signal(sig)
        try:
            p.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def start_rgw(self):
        """Starts radosgw again on the same port; returns when it answers."""
        assert "radosgw" not in self.processes, "radosgw is running"
        self._rgw_starts += 1
        name = "radosgw" if self._rgw_starts == 1 else f"radosgw-{self._rgw_starts}"
        self.processes["radosgw"] = self._popen(
            ["radosgw", "-c", self.conf_path, "--no-mon-config", "-n", "client.rgw", "-f"], name)
        self._wait(self._http_up, "radosgw to answer HTTP")

    def restart_rgw(self, sig=signal.SIGTERM):
        """Note: the new radosgw takes up persistent topics' queues only once
        the old one's locks have lapsed (30 s)."""
        self.stop_rgw(sig)
        self.start_rgw()

    # -- processes ----------------------------------------------------------

    def _popen(self, argv, name):
        out = open(os.path.join(self.dir, f"{name}.out"), "w")
        self._log_files.append(out)
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=self.dir,
                                preexec_fn=_die_with_parent)

    def _spawn(self, name, argv):
        self.processes[name] = self._popen(argv, name)

    def _run(self, argv, timeout=None):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, cwd=self.dir,
                               timeout=timeout or self.start_timeout,
                               preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired:
            raise self._error(f"{' '.join(argv)} took more than {timeout} s")
        if r.returncode != 0:
            raise self._error(f"{' '.join(argv)} exited with {r.returncode}:\n{r.stderr}{r.stdout}")
        return r.stdout

    def _ceph(self, *args):
        return self._run(["ceph", "-c", self.conf_path, "--connect-timeout",
                          str(self.start_timeout), *args])

    def admin(self, *args):
        """radosgw-admin ARGS; its JSON answer parsed (or the text, or None)."""
        out = self._run(["radosgw-admin", "-c", self.conf_path, *args])
        try:
            return json.loads(out) if out.strip() else None
        except ValueError:
            return out

    def _osd_active(self):
        self._check_running()
        return "state: booting -> active" in _tail(os.path.join(self.dir, "osd.0.log"), 200)

    def _check_running(self):
        for name, p in self.processes.items():
            if p.poll() is not None:
                raise self._error(f"{name} exited with {p.returncode} during start-up")

    def _http_up(self):
        self._check_running()
        try:
            with urllib.request.urlopen(self.endpoint + "/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer: the frontend is serving
        except OSError:
            return False

    def _wait(self, condition, what, interval=0.02):
        deadline = time.monotonic() + self.start_timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise self._error(f"timed out after {self.start_timeout} s waiting for {what}")
            time.sleep(interval)

    def logs(self, lines=25):
        """The tails of every daemon's log and output, for a failure message."""
        if not self.dir:
            return ""
        parts = []
        for name in ("mon.a", "osd.0", "client.rgw"):
            log = os.path.join(self.dir, name + ".log")
            parts.append(f"--- {name}.log ---\n{_tail(log, lines)}")
        for f in sorted(os.listdir(self.dir)):
            if f.endswith(".out") and os.path.getsize(os.path.join(self.dir, f)):
                parts.append(f"--- {f} ---\n{_tail(os.path.join(self.dir, f), lines)}")
        return "".join(parts)

    def _error(self, message):
        keep = "" if os.environ.get("SLUICE_RGW_KEEP") else \
            " (removed at stop; SLUICE_RGW_KEEP=1 keeps it after a failed start)"
        return RgwError(f"{message}\nlogs in {self.dir}{keep}:\n{self.logs()}")

    # -- clients ------------------------------------------------------------

    def session(self):
        import boto3
        return boto3.session.Session(aws_access_key_id=self.access_key,
                                     aws_secret_access_key=self.secret_key,
                                     region_name=self.region)

    def client(self, addressing_style="path", service="s3", **config):
        """A boto3 client for RGW, SigV4; config: more botocore Config
        options. addressing_style "virtual" sends to BUCKET.localhost:PORT,
        signed for that host; since Python's resolver does not know
        *.localhost, the connection goes to 127.0.0.1 with that Host header."""
        endpoint = self.endpoint if addressing_style == "path" else self.virtual_host_endpoint
        cfg = _boto_config(signature_version="s3v4", s3={"addressing_style": addressing_style},
                           retries={"max_attempts": 2}, **config)
        client = self.session().client(service, endpoint_url=endpoint, config=cfg)
        if addressing_style == "virtual":
            client.meta.events.register("before-send", _connect_to_loopback)
        return client

    def sns(self):
        """boto3's SNS client on RGW: topics for bucket notifications."""
        return self.session().client("sns", endpoint_url=self.endpoint,
                                     config=_boto_config(retries={"max_attempts": 2}))

    # -- bucket notifications -----------------------------------------------

    def create_topic(self, name, push_endpoint, persistent=False, **attributes):
        """A topic that POSTs events to push_endpoint (http://…, its query
        string kept). persistent: RGW queues the event and pushes it after
        answering the upload, retrying until the endpoint answers 2xx;
        otherwise it pushes once, during the upload, and drops failures.
        Returns the topic's ARN (arn:aws:sns:default::NAME)."""
        attrs = {"push-endpoint": push_endpoint, **attributes}
        if persistent:
            attrs["persistent"] = "true"
        return self.sns().create_topic(Name=name, Attributes=attrs)["TopicArn"]

    def notify(self, bucket, push_endpoint, prefix="pending/", events=("s3:ObjectCreated:*",),
               persistent=False, topic=None, wait=False, **attributes):
        """Sends bucket's events (ObjectCreated under prefix by default) to
        push_endpoint through a new topic (or `topic`, created again with
        this endpoint); returns the topic's ARN. Replaces the bucket's
        notification configuration. wait (persistent topics):
        returns only once RGW has taken up the topic's queue (up to ~30 s),
        so that pushes start as soon as there are events."""
        self._topics += 1
        topic = topic or f"{bucket}-events-{self._topics}"
        arn = self.create_topic(topic, push_endpoint, persistent=persistent, **attributes)
        config = {"Id": topic, "TopicArn": arn, "Events": list(events)}
        if prefix:
            config["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}
        self.client().put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [config]})
        if persistent and wait:
            self.wait_topic_owned(topic)
        return arn

    def topic_owned(self, topic):
        """Whether a radosgw holds the lock on a persistent topic's queue
        (the object TOPIC in the log pool's "notif" namespace), i.e. pushes
        its events."""
        topic = topic.rsplit(":", 1)[-1]  # a name or an ARN
        out = self._run(["rados", "-c", self.conf_path, "-p", "default.rgw.log", "-N", "notif",
                         "lock", "info", topic, f"{topic}_lock"])
        return bool(json.loads(out).get("lockers"))

    def wait_topic_owned(self, topic, timeout=QUEUE_OWNERSHIP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.topic_owned(topic):
            if time.monotonic() >= deadline:
                raise self._error(f"radosgw did not take up topic {topic}'s queue "
                                  f"in {timeout} s")
            time.sleep(0.25)


class Webhook:
    """A loopback HTTP server that records every request (bucket notification
    pushes) and answers `status` (200; set it to 500 to refuse).

    RGW keeps its connection open between pushes, and an open connection
    outlives the server's listening socket: keep_alive=False closes each
    connection after its answer, so that stopping the server (leaving the
    `with`) really makes the endpoint unreachable."""

    def __init__(self, status=200, keep_alive=True, port=0):
        self.status = status
        self.keep_alive = keep_alive
        # dicts: method, path, version, headers [(k, v)], body (bytes), time,
        # status (the answer), peer (the client's port: one per connection)
        self.requests = []
        self._cond = threading.Condition()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with hook._cond:
                    hook.requests.append({
                        "method": self.command, "path": self.path,
                        "version": self.request_version,
                        "headers": list(self.headers.items()), "body": body,
                        "time": time.monotonic(), "status": hook.status,
                        "peer": self.client_address[1]})
                    hook._cond.notify_all()
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                if not hook.keep_alive:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()

            do_PUT = do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count, timeout=10):
        """Waits until `count` requests have arrived; returns them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} of {count} pushes arrived "
                                         f"in {timeout} s: {self.requests}")
                self._cond.wait(left)
            return list(self.requests)

    def events(self):
        """The S3 event records of every push so far, in arrival order."""
        with self._cond:
            bodies = [r["body"] for r in self.requests]
        return [rec for b in bodies for rec in json.loads(b).get("Records", [])]


def capture(out_dir):
    """Records what RGW POSTs for the uploads the worker's tests care about
    and writes each body, as sent (plus a newline), under out_dir; prints
    each request's line and headers."""
    os.makedirs(out_dir, exist_ok=True)
    uploads = [("rgw_put.json", "pending/plain.jpg"),
               # a space, "+", "%" and non-ASCII in one key
               ("rgw_special_keys.json", "pending/\u00f1and\u00fa/\u6771\u4eac a b+c%.jpg"),
               ("rgw_space_plus_percent.json", "pending/a b+c%.jpg"),
               ("rgw_unicode_key.json", "pending/\u00f1and\u00fa/\u6771\u4eac.jpg")]
    with Rgw() as rgw, Webhook() as hook:
        s3 = rgw.client()
        s3.create_bucket(Bucket="photos")
        rgw.notify("photos", hook.url("/sluice/s3-events?token=abc"), prefix="pending/")
        time.sleep(1)
        if hook.requests:
            uploads.insert(0, ("rgw_test_event.json", None))
        for _, key in uploads:
            if key:
                s3.put_object(Bucket="photos", Key=key, Body=b"\xff\xd8 not really a JPEG")
        s3.put_object(Bucket="photos", Key="other/not-notified.jpg", Body=b"x")
        upload = s3.create_multipart_upload(Bucket="photos", Key="pending/multipart.jpg")
        parts = []
        for number, body in ((1, b"1" * (5 << 20)), (2, b"2" * 1000)):
            etag = s3.upload_part(Bucket="photos", Key="pending/multipart.jpg",
                                  PartNumber=number, UploadId=upload["UploadId"],
                                  Body=body)["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        s3.complete_multipart_upload(Bucket="photos", Key="pending/multipart.jpg",
                                     UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": parts})
        uploads.append(("rgw_multipart.json", "pending/multipart.jpg"))
        requests = hook.wait_for(len(uploads))
        time.sleep(1)
        assert len(hook.requests) == len(uploads), hook.requests
        for (name, _), request in zip(uploads, requests):
            print(f"{name}: {request['method']} {request['path']} {request['version']} "
                  f"(connection from port {request['peer']})")
            for k, v in request["headers"]:
                print(f"  {k}: {v}")
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(request["body"] + b"\n")


if __name__ == "__main__":
    import sys
    if sys.argv[1:2] == ["capture"]:
        # python3 rgw_fixture.py capture ../unit/common/s3/testdata
        capture(sys.argv[2])
        sys.exit(0)
    # A quick look: start, report the time and its steps, list buckets, stop.
    began = time.monotonic()
    with Rgw() as r:
        print(f"RGW at {r.endpoint} ready in {r.startup_seconds:.2f} s: "
              + ", ".join(f"{step} {t:.2f}" for step, t in r.timings))
        print(r.client().list_buckets()["Buckets"])
    print(f"stopped; {time.monotonic() - began:.2f} s in all")
