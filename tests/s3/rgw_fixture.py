"""A real Ceph RGW (radosgw) on loopback for the S3 tests: one monitor and one
memstore OSD, in a temporary directory, ready in a few seconds.

    with Rgw() as rgw:
        s3 = rgw.client()                  # boto3, path-style, SigV4
        s3.create_bucket(Bucket="photos")
        with Webhook() as hook:
            rgw.notify("photos", hook.url("/events?token=abc"), prefix="pending/")
            s3.put_object(Bucket="photos", Key="pending/a.jpg", Body=b"...")
            hook.wait_for(1)

Rgw.start() writes a keyring and a ceph.conf (cephx, msgr v1 only, one replica, 8 PGs a
pool, `paxos propose interval = 0.05`, which takes the start from ~45 s to ~3),
makes the monitor's store, starts ceph-mon, registers and starts one memstore
ceph-osd and radosgw (all in the foreground, as children of this process, with
their logs in the temporary directory), waits until RGW answers HTTP, and
creates an S3 user with a fixed key. stop() (or leaving the `with`) kills them
all and removes the directory. A failed start raises RgwError with the tails
of the daemons' logs.

Attributes once started: endpoint (http://127.0.0.1:PORT), port, access_key,
secret_key, region, dns_name ("localhost": virtual-host-style requests go to
http://BUCKET.localhost:PORT), startup_seconds, dir.

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
START_TIMEOUT = 60  # generous for a loaded CI machine; a healthy start is ~3 s
STOP_TIMEOUT = 5
DAEMONS = ("ceph-mon", "ceph-osd", "radosgw")


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
            self.stop()
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
            "rgw frontends": f"beast endpoint=127.0.0.1:{self.port}",
            "rgw dns name": self.dns_name,
            "rgw thread pool size": "64",
            "rgw dynamic resharding": "false",
            "rgw enable lc threads": "false",
            "rgw enable usage log": "false",
            "rgw data": f"{d}/rgw",
        }
        if self.debug:
            rgw["debug rgw"] = "20"
            rgw["debug rgw notification"] = "20"
        with open(self.conf_path, "w") as f:
            f.write("[global]\n")
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())
            f.write("\n[client.rgw]\n")
            f.writelines(f"{k} = {v}\n" for k, v in rgw.items())

    def stop(self):
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
        if self.dir:
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
            parts.append(f"--- {name}.log ---\n{_tail(os.path.join(self.dir, name + '.log'), lines)}")
        for f in sorted(os.listdir(self.dir)):
            if f.endswith(".out") and os.path.getsize(os.path.join(self.dir, f)):
                parts.append(f"--- {f} ---\n{_tail(os.path.join(self.dir, f), lines)}")
        return "".join(parts)

    def _error(self, message):
        return RgwError(f"{message}\nlogs in {self.dir}:\n{self.logs()}")

    # -- clients ------------------------------------------------------------

    def session(self):
        import boto3
        return boto3.session.Session(aws_access_key_id=self.access_key,
                                     aws_secret_access_key=self.secret_key,
                                     region_name=self.region)

    def client(self, addressing_style="path", service="s3", **config):
        """A boto3 client for RGW, SigV4. addressing_style "virtual" sends to
        http://BUCKET.localhost:PORT (needs a resolver that knows *.localhost;
        glibc does with libnss-myhostname, curl always does)."""
        endpoint = self.endpoint if addressing_style == "path" else self.virtual_host_endpoint
        cfg = _boto_config(signature_version="s3v4", s3={"addressing_style": addressing_style},
                           retries={"max_attempts": 2}, **config)
        return self.session().client(service, endpoint_url=endpoint, config=cfg)

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
               persistent=False, topic=None, **attributes):
        """Sends bucket's events (ObjectCreated under prefix by default) to
        push_endpoint through a new topic; returns the topic's ARN. Replaces
        the bucket's notification configuration."""
        self._topics += 1
        topic = topic or f"{bucket}-events-{self._topics}"
        arn = self.create_topic(topic, push_endpoint, persistent=persistent, **attributes)
        config = {"Id": topic, "TopicArn": arn, "Events": list(events)}
        if prefix:
            config["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}
        self.client().put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [config]})
        return arn


class Webhook:
    """A loopback HTTP server that records every request (bucket notification
    pushes) and answers `status` (200; set it to 500 to refuse)."""

    def __init__(self, status=200):
        self.status = status
        self.requests = []  # dicts: method, path, version, headers [(k, v)], body (bytes), time
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
                        "time": time.monotonic(), "status": hook.status})
                    hook._cond.notify_all()
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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


if __name__ == "__main__":
    # A quick look: start, report the time, list buckets, stop.
    with Rgw() as r:
        print(f"RGW at {r.endpoint} ready in {r.startup_seconds:.2f} s (dir {r.dir})")
        print(r.client().list_buckets()["Buckets"])
