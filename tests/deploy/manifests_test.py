"""The Kubernetes manifests match the binaries: every command, flag, port, probe,
environment variable and reference in what `kubectl kustomize` renders is one
that exists (issue #7). The fleet test runs them; this one reads them, and
runs only the S3 overlay's producer and worker, on a local broker and a fake
S3 endpoint, to see its flags and environment reach the binaries (issue #17).

Authentication (issue #18): the broker runs with a principals file and its
key, every client with its key, all from the Secrets that
deploy/k8s/make-secrets.sh makes; every container has requests and limits.
The broker and the clients' calls run with their args and environment as
rendered, on those Secrets: each role may do what its process needs and no
more."""
import http.server
import json
import os
import posixpath
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

from deploy_support import (BINARIES, BROKER_HTTP_DEFAULTS, KUSTOMIZATIONS, MAKE_SECRETS,
                            S3_KUSTOMIZATIONS, SOURCE_DIR, SYSTEM_COMMANDS, accepted_flags,
                            binary_contains, containers, env_references, environment_read_by,
                            expand_env_references, find, flag_values, listen_ports, localize,
                            make_secrets, metrics_port, mount_locally, pod_spec, read_secrets,
                            render, secret_value, secrets_to_create, sqs_call, subcommands,
                            workloads)

S3_OVERLAY = "deploy/k8s/overlays/s3"


def broker_container(objects):
    return pod_spec(find(objects, "StatefulSet", "sluice-broker"))["containers"][0]


def service_port_to(objects, service_name, container, port_name):
    """The port of a Service whose targetPort is a container's named port."""
    service = find(objects, "Service", service_name)
    number = next(p["containerPort"] for p in container["ports"] if p["name"] == port_name)
    return next(p["port"] for p in service["spec"]["ports"]
                if p["targetPort"] in (port_name, number))


def env_entry(container, variable):
    return next((e for e in container.get("env", []) if e["name"] == variable), None)


def env_values(objects, container, secrets):
    """A container's variables as Kubernetes sets them: literal values, keys of
    the rendered ConfigMaps, and keys of the Secrets in `secrets` ({name: {key:
    value}}, standing for the ones the user creates); a key of a Secret not
    there is left unset."""
    values = {}
    for e in container.get("env", []):
        if "value" in e:
            values[e["name"]] = e["value"]
            continue
        source = e["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            values[e["name"]] = find(objects, "ConfigMap", ref["name"])["data"][ref["key"]]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            if ref["key"] in secrets.get(ref["name"], {}):
                values[e["name"]] = secrets[ref["name"]][ref["key"]]
    return values


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_args(args):
    """A container's args for a process on this machine: its listening flags
    on free loopback ports."""
    out = []
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in ("--metrics-listen", "--http-listen") and "=" in arg:
            arg = f"{name}=127.0.0.1:{free_port()}"
        out.append(arg)
    return out


class FakeS3(http.server.ThreadingHTTPServer):
    """Enough of S3 for a producer and a worker to start on a bucket: a
    listing of pending/ with one upload, an empty one of anything else, PUT
    and DELETE accepted, and 404 for every object. Records every request."""

    UPLOAD = "pending/a.jpg"

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeS3Handler)
        self.requests = []
        self.lock = threading.Lock()

    def seen(self):
        with self.lock:
            return list(self.requests)


class FakeS3Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with self.server.lock:
            self.server.requests.append({
                "method": self.command, "path": self.path, "host": self.headers.get("Host"),
                "authorization": self.headers.get("Authorization", ""),
                "token": self.headers.get("X-Amz-Security-Token")})

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self.record()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if "list-type" not in query:
            return self.reply(404, b"<Error><Code>NoSuchKey</Code><Message>none</Message></Error>",
                              [("Content-Type", "application/xml")])
        contents = ""
        if FakeS3.UPLOAD.startswith(query.get("prefix", [""])[0]):
            contents = (f"<Contents><Key>{FakeS3.UPLOAD}</Key>"
                        "<LastModified>2026-01-02T03:04:05.000Z</LastModified>"
                        "<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>"
                        "<Size>12345</Size></Contents>")
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"{contents}<IsTruncated>false</IsTruncated></ListBucketResult>").encode()
        self.reply(200, body, [("Content-Type", "application/xml")])

    def do_HEAD(self):
        self.record()
        self.reply(404)

    def do_PUT(self):
        self.record()
        self.reply(200, b"", [("ETag", '"fedcba9876543210fedcba9876543210"')])

    def do_DELETE(self):
        self.record()
        self.reply(204)


# The clients of the broker, and how each takes its two keys: the broker's
# public key and its own secret key, each as a value (a flag, a variable) or
# as a file holding it (the same).
CLIENTS = {"sluice-producer", "sluice-worker"}
CLIENT_KEYS = {
    "the broker's public key": {
        "value": ("--broker-public-key", "SLUICE_BROKER_PUBLIC_KEY"),
        "file": ("--broker-public-key-file", "SLUICE_BROKER_PUBLIC_KEY_FILE")},
    "its secret key": {
        "value": ("--secret-key", "SLUICE_SECRET_KEY"),
        "file": ("--secret-key-file", "SLUICE_SECRET_KEY_FILE")},
}


def secret_file(workload, container, path):
    """What a file of a container is, if it is a key of a mounted Secret
    volume: (volume, mount, key); else None."""
    volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
    for m in container.get("volumeMounts", []):
        root = m["mountPath"].rstrip("/") + "/"
        volume = volumes.get(m["name"], {})
        if not path.startswith(root) or "secret" not in volume:
            continue
        relative = posixpath.relpath(path, m["mountPath"])
        items = {i["path"]: i["key"] for i in volume["secret"].get("items", [])}
        if items and relative not in items:
            return None  # the volume has only its items
        return volume, m, items.get(relative, relative)
    return None


def cli(env, *args):
    """sluice-producer with a client's environment."""
    return subprocess.run([BINARIES["sluice-producer"], *args], env=env, capture_output=True,
                          text=True, timeout=60)


def keygen():
    """A new CURVE key pair from sluice-broker keygen: (public, secret)."""
    out = subprocess.run([BINARIES["sluice-broker"], "keygen"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    pair = json.loads(out)
    return pair["PublicKey"], pair["SecretKey"]


def queues_created(objects):
    """The queues the queue-setup Job's containers create."""
    job = find(objects, "Job", "sluice-queue-setup")
    return {flag_values(c["args"][1:])["--queue-name"] for c in containers(job)
            if c["command"] == ["sluice-producer"] and c["args"][0] == "create-queue"}


class LocalBroker:
    """The broker as a kustomization runs it, on loopback: its args as rendered,
    with its mounts on local directories holding secrets ({name: {key:
    value}}), its listening addresses on free local ports, and --fsync=never
    for speed. Entering runs the queue-setup Job's containers against it, with
    their own environment and keys, so that its queues exist."""

    def __init__(self, objects, secrets):
        self.objects = objects
        self.secrets = secrets

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        self.broker_set = broker_set = find(self.objects, "StatefulSet", "sluice-broker")
        c = pod_spec(broker_set)["containers"][0]
        self.ports = {p["containerPort"]: free_port() for p in c["ports"]}
        mounts = mount_locally(broker_set, self.secrets, os.path.join(self.dir.name, "broker"))
        self.args = [localize(a, mounts, self.ports) for a in c["args"]] + ["--fsync=never"]
        named = {p["name"]: self.ports[p["containerPort"]] for p in c["ports"]}
        self.address = f"tcp://127.0.0.1:{named['zmq']}"
        self.http = f"http://127.0.0.1:{named['http']}"
        self.log = open(os.path.join(self.dir.name, "broker.log"), "w+")
        self.process = subprocess.Popen([BINARIES["sluice-broker"], *self.args],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", named["zmq"]), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    log = self.output()
                    self.__exit__()
                    raise AssertionError(f"the broker did not start: {self.args}\n{log}")
                time.sleep(0.05)
        job = find(self.objects, "Job", "sluice-queue-setup")
        for c in containers(job):
            result = subprocess.run([BINARIES[c["command"][0]], *c["args"]],
                                    capture_output=True, text=True, timeout=60,
                                    env=self.environment(job, c))
            if result.returncode != 0:
                log = self.output()
                self.__exit__()
                raise AssertionError(f"sluice-queue-setup/{c['name']}: {result}\n{log}")
        return self

    def environment(self, workload, container, secrets=None):
        """A container's environment for a process on this machine talking to
        this broker: its variables (Secret references from secrets, else this
        broker's), the paths in them mapped to its pod's mounts, made here."""
        mounts = mount_locally(workload, self.secrets,
                               os.path.join(self.dir.name, workload["metadata"]["name"]))
        values = env_values(self.objects, container,
                            self.secrets if secrets is None else secrets)
        env = {name: localize(value, mounts, {}) for name, value in values.items()}
        return dict(env, SLUICE_BROKER=self.address, PATH=os.environ["PATH"])

    def reload(self, secrets):
        """New Secrets in the broker's mounts, and SIGHUP, as after `kubectl
        exec sluice-broker-0 -- sh -c 'kill -HUP 1'` once the kubelet wrote them."""
        self.secrets = secrets
        mount_locally(self.broker_set, secrets, os.path.join(self.dir.name, "broker"))
        self.process.send_signal(signal.SIGHUP)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()
        self.log.close()
        self.dir.cleanup()


class RenderedManifestsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rendered = {k: render(k) for k in KUSTOMIZATIONS}
        cls.base = cls.rendered["deploy/k8s"]
        cls.secrets_dir = tempfile.TemporaryDirectory()
        cls.made = None

    @classmethod
    def tearDownClass(cls):
        cls.secrets_dir.cleanup()

    def made_secrets(self):
        """The Secrets make-secrets.sh makes (once for all tests)."""
        cls = type(self)
        if cls.made is None:
            cls.made = make_secrets(os.path.join(cls.secrets_dir.name, "made"))
        return cls.made

    def all_secrets(self, kustomization):
        """make-secrets.sh's Secrets, and those the kustomization's comments
        tell the user to create, with a made-up value (hex, 32 characters) for
        each key."""
        secrets = dict(self.made_secrets())
        for name, keys in secrets_to_create(kustomization).items():
            secrets[name] = {k: "0123456789abcdef" * 2 for k in keys}
        return secrets

    def each_container(self):
        for name, objects in self.rendered.items():
            for w in workloads(objects):
                for c in containers(w):
                    yield name, w, c

    def test_every_kustomization_renders_the_base_workloads(self):
        for name, objects in self.rendered.items():
            kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
            for expected in [("StatefulSet", "sluice-broker"), ("Deployment", "sluice-worker"),
                             ("Deployment", "sluice-producer"), ("Job", "sluice-queue-setup"),
                             ("Service", "sluice-broker"),
                             ("PodDisruptionBudget", "sluice-worker")]:
                self.assertIn(expected, kinds, name)
            # The bucket volume's claim, except where the buckets are on S3.
            bucket_claim = ("PersistentVolumeClaim", "sluice-buckets")
            if name in S3_KUSTOMIZATIONS:
                self.assertNotIn(bucket_claim, kinds, name)
            else:
                self.assertIn(bucket_claim, kinds, name)

    def test_commands_are_our_binaries_with_flags_they_accept(self):
        for name, w, c in self.each_container():
            where = f"{name}: {w['metadata']['name']}/{c['name']}"
            command = c["command"][0]
            if command in SYSTEM_COMMANDS:
                continue
            self.assertIn(command, BINARIES, where)
            args = c.get("args", [])
            subcommand = None
            if command == "sluice-producer":
                subcommand = args[0]
                self.assertIn(subcommand, subcommands(command), where)
                args = args[1:]
            known = accepted_flags(command, subcommand)
            for flag in flag_values(args):
                self.assertIn(flag, known, f"{where}: {flag} is not a flag of {command}")

    def test_environment_is_what_the_binary_reads(self):
        # A variable is read by the binary, or named in its args as $(NAME),
        # which Kubernetes replaces with the variable's value.
        for name, w, c in self.each_container():
            if c["command"][0] in SYSTEM_COMMANDS:
                self.assertNotIn("env", c)
                continue
            read = environment_read_by(c["command"][0]) | env_references(c)
            for env in c.get("env", []):
                self.assertIn(env["name"], read, f"{name}: {c['name']} sets {env['name']}")

    def test_variables_named_in_args_are_set(self):
        # Kubernetes leaves $(NAME) as it is written when the container has no
        # variable NAME, so the flag would get that text as its value.
        for name, w, c in self.each_container():
            defined = {e["name"] for e in c.get("env", [])}
            for reference in env_references(c):
                self.assertIn(reference, defined, f"{name}: {c['name']} names $({reference})")
                env = next(e for e in c["env"] if e["name"] == reference)
                source = env.get("valueFrom", {})
                ref = source.get("configMapKeyRef") or source.get("secretKeyRef") or {}
                self.assertFalse(ref.get("optional", False),
                                 f"{name}: {c['name']}: $({reference}) may be unset")

    def test_broker_address_names_a_service_port(self):
        services = {(o["metadata"]["name"], p["port"])
                    for o in self.base if o["kind"] == "Service" for p in o["spec"]["ports"]}
        for name, w, c in self.each_container():
            for env in c.get("env", []):
                if env["name"] == "SLUICE_BROKER":
                    host, port = env["value"].removeprefix("tcp://").rsplit(":", 1)
                    self.assertIn((host, int(port)), services, f"{name}: {c['name']}")

    def test_container_ports_and_probes_are_ports_the_process_listens_on(self):
        for name, w, c in self.each_container():
            if c["command"][0] in SYSTEM_COMMANDS:
                continue
            where = f"{name}: {w['metadata']['name']}/{c['name']}"
            listening = listen_ports(c.get("args", []))
            named = {}
            for p in c.get("ports", []):
                self.assertIn(p["containerPort"], listening, where)
                named[p["name"]] = p["containerPort"]
            for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
                probe = c.get(probe_name)
                if probe is None:
                    continue
                action = probe.get("httpGet") or probe.get("tcpSocket")
                port = named.get(action["port"], action["port"])
                self.assertIn(port, listening, f"{where}: {probe_name}")
                if "httpGet" in probe:
                    self.assertEqual(port, metrics_port(c["args"]), f"{where}: {probe_name}")
                    self.assertEqual(probe["httpGet"]["path"], "/metrics", where)

    def test_long_running_containers_have_probes(self):
        for name, w, c in self.each_container():
            if w["kind"] == "Job" or c in pod_spec(w).get("initContainers", []):
                continue
            self.assertIn("readinessProbe", c, f"{name}: {c['name']}")
            self.assertIn("livenessProbe", c, f"{name}: {c['name']}")

    def test_scrape_annotations_name_the_metrics_port(self):
        for w in workloads(self.base):
            annotations = w["spec"]["template"]["metadata"].get("annotations", {})
            if w["kind"] == "Job":
                continue
            self.assertEqual(annotations.get("prometheus.io/scrape"), "true", w["metadata"]["name"])
            main = pod_spec(w)["containers"][0]
            self.assertEqual(int(annotations["prometheus.io/port"]), metrics_port(main["args"]))
            self.assertEqual(annotations["prometheus.io/path"], "/metrics")

    def test_services_select_pods_and_target_their_ports(self):
        for svc in (o for o in self.base if o["kind"] == "Service"):
            selected = [w for w in workloads(self.base)
                        if svc["spec"]["selector"].items()
                        <= w["spec"]["template"]["metadata"]["labels"].items()]
            self.assertTrue(selected, svc["metadata"]["name"])
            port_names = {p["name"] for w in selected for c in containers(w)
                          for p in c.get("ports", [])}
            for p in svc["spec"]["ports"]:
                self.assertIn(p["targetPort"], port_names)

    def test_volumes_claims_and_secrets_exist(self):
        for name, objects in self.rendered.items():
            claims = {o["metadata"]["name"] for o in objects
                      if o["kind"] == "PersistentVolumeClaim"}
            for w in workloads(objects):
                spec = pod_spec(w)
                volumes = {v["name"]: v for v in spec.get("volumes", [])}
                templates = {t["metadata"]["name"]
                             for t in w["spec"].get("volumeClaimTemplates", [])}
                for c in containers(w):
                    for m in c.get("volumeMounts", []):
                        self.assertTrue(m["name"] in volumes or m["name"] in templates,
                                        f"{name}: {m['name']}")
                for v in volumes.values():
                    if "persistentVolumeClaim" in v:
                        self.assertIn(v["persistentVolumeClaim"]["claimName"], claims, name)
                    if "secret" in v:
                        for item in v["secret"].get("items", []):
                            self.assert_secret_key(name, objects, v["secret"]["secretName"],
                                                   item["key"])
                for c in containers(w):
                    for env in c.get("env", []):
                        source = env.get("valueFrom", {})
                        if "configMapKeyRef" in source:
                            ref = source["configMapKeyRef"]
                            config = find(objects, "ConfigMap", ref["name"])
                            if not ref.get("optional"):
                                self.assertIn(ref["key"], config.get("data", {}), name)
                        if "secretKeyRef" in source and not source["secretKeyRef"].get("optional"):
                            ref = source["secretKeyRef"]
                            self.assert_secret_key(name, objects, ref["name"], ref["key"])

    def assert_secret_key(self, kustomization, objects, secret, key):
        """The key is in a Secret the kustomization renders, or in one that
        make-secrets.sh makes or the kustomization's comments tell the user to
        create (and so that applying it again never overwrites)."""
        if any(o["kind"] == "Secret" and o["metadata"]["name"] == secret for o in objects):
            secret_value(objects, secret, key)
            return
        if secret in self.made_secrets():
            self.assertIn(key, self.made_secrets()[secret],
                          f"{kustomization}: make-secrets.sh makes Secret {secret} without {key}")
            return
        to_create = secrets_to_create(kustomization)
        self.assertIn(secret, to_create, f"{kustomization}: nothing creates Secret {secret}")
        self.assertIn(key, to_create[secret],
                      f"{kustomization}: `kubectl create secret generic {secret}` lacks {key}")

    def test_bucket_volume_is_shared_read_write_many(self):
        claim = next(o for o in self.base if o["kind"] == "PersistentVolumeClaim")
        self.assertEqual(claim["spec"]["accessModes"], ["ReadWriteMany"])

    def test_worker_grace_period_covers_its_drain(self):
        worker = next(w for w in workloads(self.base) if w["metadata"]["name"] == "sluice-worker")
        drain = int(flag_values(pod_spec(worker)["containers"][0]["args"])["--grace-period"])
        self.assertGreater(pod_spec(worker)["terminationGracePeriodSeconds"], drain + 5)

    def test_every_container_is_locked_down_and_bounded(self):
        for name, w, c in self.each_container():
            where = f"{name}: {w['metadata']['name']}/{c['name']}"
            self.assertTrue(pod_spec(w)["securityContext"]["runAsNonRoot"], where)
            self.assertIs(c["securityContext"]["allowPrivilegeEscalation"], False, where)
            self.assertIs(c["securityContext"]["readOnlyRootFilesystem"], True, where)
            self.assertEqual(c["securityContext"]["capabilities"]["drop"], ["ALL"], where)
            # Every container, init containers and Jobs' included: a
            # namespace with a ResourceQuota admits no pod without them.
            self.assertIn("cpu", c["resources"]["requests"], where)
            self.assertIn("memory", c["resources"]["requests"], where)
            self.assertIn("memory", c["resources"]["limits"], where)

    # Authentication (issue #18).

    def key_source(self, where, workload, container, names):
        """The (Secret, key) a client's key comes from, given the flag and
        variable that take it (names["value"]) or a file of it
        (names["file"]). Exactly one is set, from a Secret that is there
        (not optional), never a value written in the manifest."""
        args = flag_values(container.get("args", []))
        env = {e["name"]: e for e in container.get("env", [])}
        (value_flag, value_variable), (file_flag, file_variable) = names["value"], names["file"]
        self.assertNotIn(value_flag, args, f"{where}: a key written in the manifest")
        sources = []
        if value_variable in env:
            ref = env[value_variable].get("valueFrom", {}).get("secretKeyRef")
            self.assertIsNotNone(ref, f"{where}: {value_variable} is written in the manifest")
            self.assertFalse(ref.get("optional", False), f"{where}: {value_variable}")
            sources.append((ref["name"], ref["key"]))
        paths = [args[file_flag]] if file_flag in args else []
        if file_variable in env:
            self.assertIn("value", env[file_variable], f"{where}: {file_variable}")
            paths.append(env[file_variable]["value"])
        for path in paths:
            found = secret_file(workload, container, path)
            self.assertIsNotNone(found, f"{where}: {path} is in no mounted Secret")
            volume, mount, key = found
            self.assertIs(mount.get("readOnly"), True, f"{where}: {path}")
            # Optional, a missing Secret would start the process without its key.
            self.assertFalse(volume["secret"].get("optional", False), f"{where}: {path}")
            sources.append((volume["secret"]["secretName"], key))
        self.assertEqual(len(sources), 1, f"{where}: {names} given {len(sources)} times")
        return sources[0]

    def test_every_client_of_the_broker_gets_its_keys_from_a_secret(self):
        made = self.made_secrets()
        principals = json.loads(made["sluice-principals"]["principals.json"])["principals"]
        listed = {k for p in principals.values() for k in p.get("curve_public_keys", [])}
        clients = 0
        for name, w, c in self.each_container():
            if c["command"][0] not in CLIENTS:
                self.assertIn(c["command"][0], SYSTEM_COMMANDS | {"sluice-broker"})
                continue
            clients += 1
            where = f"{name}: {w['metadata']['name']}/{c['name']}"
            objects = self.rendered[name]
            broker_key, secret_key = (self.key_source(where, w, c, CLIENT_KEYS[k])
                                      for k in ("the broker's public key", "its secret key"))
            for secret, key in (broker_key, secret_key):
                self.assert_secret_key(name, objects, secret, key)
            # One Secret per client role: its key pair, whose public key the
            # principals file lists, and the broker's public key.
            self.assertEqual(broker_key[0], secret_key[0], where)
            client = made[secret_key[0]]
            self.assertEqual(client[broker_key[1]], made["sluice-broker-key"]["public-key"], where)
            self.assertIn(client["public-key"], listed, where)
        self.assertGreaterEqual(clients, 4 * len(self.rendered))  # Job (2), producer, worker

    def test_broker_runs_with_a_principals_file_and_its_key_from_secrets(self):
        for name, objects in self.rendered.items():
            broker_set = find(objects, "StatefulSet", "sluice-broker")
            c = pod_spec(broker_set)["containers"][0]
            args = flag_values(c["args"])
            # No way around the principals file: not --insecure, and not the
            # HTTP-only credentials file it replaces; no key in the manifest.
            for flag in ("--insecure", "--credentials", "--secret-key"):
                self.assertNotIn(flag, args, f"{name}: {flag}")
            self.assertNotIn("SLUICE_SECRET_KEY", {e["name"] for e in c.get("env", [])}, name)
            made = {}
            for flag in ("--principals", "--secret-key-file"):
                self.assertIn(flag, args, name)
                found = secret_file(broker_set, c, args[flag])
                self.assertIsNotNone(found, f"{name}: {flag} {args[flag]} is in no mounted Secret")
                volume, mount, key = found
                self.assertIs(mount.get("readOnly"), True, f"{name}: {flag}")
                # Not optional: the broker refuses to start without the file,
                # so the pod waits for the Secret rather than crash.
                self.assertFalse(volume["secret"].get("optional", False), f"{name}: {flag}")
                # No subPath: a subPath mount never sees the Secret's updates,
                # and the principals file is reloaded on SIGHUP.
                self.assertNotIn("subPath", mount, f"{name}: {flag}")
                secret = volume["secret"]["secretName"]
                self.assert_secret_key(name, objects, secret, key)
                made[flag] = self.made_secrets()[secret], key
            secret, key = made["--secret-key-file"]
            self.assertEqual(key, "secret-key", name)
            self.assertIn("public-key", secret, "the clients' copy of the public key is beside it")
            secret, key = made["--principals"]
            self.assertIn("principals", json.loads(secret[key]), name)

    def test_mounted_secrets_are_readable_by_the_pods_group_only(self):
        for name, w, c in self.each_container():
            spec = pod_spec(w)
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            for m in c.get("volumeMounts", []):
                secret = volumes.get(m["name"], {}).get("secret")
                if secret is None:
                    continue
                where = f"{name}: {w['metadata']['name']}/{c['name']}: {m['name']}"
                modes = {secret.get("defaultMode", 0o644)}
                modes |= {i["mode"] for i in secret.get("items", []) if "mode" in i}
                for mode in modes:
                    self.assertEqual(mode & 0o007, 0, f"{where}: mode {mode:o}")
                    self.assertEqual(mode & 0o040, 0o040, f"{where}: mode {mode:o}")
                # The kubelet gives the files to fsGroup, a group of the pod's
                # processes: without it they would be root's, unreadable.
                self.assertIn("fsGroup", spec["securityContext"], where)

    def test_make_secrets_gives_each_principal_its_keys_and_its_role(self):
        made = self.made_secrets()
        principals_file = json.loads(made["sluice-principals"]["principals.json"])
        roles, principals = principals_file["roles"], principals_file["principals"]
        for secret, keys in made.items():
            for key, value in keys.items():
                # Taken whole, as a variable takes it: no newline.
                self.assertEqual(value, value.strip(), f"{secret}/{key}")
        broker = made["sluice-broker-key"]
        self.assertEqual([len(broker["public-key"]), len(broker["secret-key"])], [40, 40])
        self.assertEqual(set(principals), {"producer", "worker", "scaler", "admin", "s3-events"})
        # The pusher of bucket notifications: its token is its credential.
        self.assertEqual(principals.pop("s3-events"), {"roles": ["s3-events"]})
        self.assertEqual(roles["s3-events"], [{"actions": ["SendMessage"], "queues": ["photos"]}])
        for name, principal in principals.items():
            keys = made[f"sluice-{name}-key"]
            self.assertEqual(principal["roles"], [name])
            self.assertIn(name, roles)
            if "secret-key" in keys:
                self.assertEqual(principal["curve_public_keys"], [keys["public-key"]], name)
                self.assertEqual(keys["broker-public-key"], broker["public-key"], name)
                self.assertEqual(len(keys["secret-key"]), 40, name)
            else:
                self.assertFalse(principal.get("curve_public_keys"), name)
            if "AWS_ACCESS_KEY_ID" in keys:
                self.assertEqual(principal["access_keys"], [
                    {"access_key_id": keys["AWS_ACCESS_KEY_ID"],
                     "secret_access_key": keys["AWS_SECRET_ACCESS_KEY"]}], name)
            else:
                self.assertFalse(principal.get("access_keys"), name)
        # The scaler only speaks SigV4 (KEDA), and only asks for a depth.
        self.assertNotIn("secret-key", made["sluice-scaler-key"])
        self.assertEqual(roles["scaler"], [{"actions": ["GetQueueAttributes"],
                                            "queues": ["photos"]}])
        self.assertEqual(roles["admin"], [{"actions": ["*"], "queues": ["*"]}])
        # No other principal may create, delete or purge queues.
        for name in ("producer", "worker", "scaler", "s3-events"):
            actions = {a for grant in roles[name] for a in grant["actions"]}
            self.assertFalse(actions & {"*", "CreateQueue", "DeleteQueue", "PurgeQueue",
                                        "SetQueueAttributes"}, name)

    def test_make_secrets_rotates_a_key_beside_the_old_then_retires_the_old(self):
        env = dict(os.environ, SLUICE_BIN=os.path.dirname(BINARIES["sluice-broker"]))

        def run(*args):
            return subprocess.run([MAKE_SECRETS, *args, "--out", out], capture_output=True,
                                  text=True, env=env, timeout=60)

        def principal(secrets, name):
            return json.loads(secrets["sluice-principals"]["principals.json"])["principals"][name]

        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "secrets")
            first = make_secrets(out)
            # create again would replace every key: refused without --force.
            self.assertNotEqual(run("create").returncode, 0)
            self.assertEqual(read_secrets(out), first)
            for name, curve, sigv4 in (("worker", True, False), ("scaler", False, True),
                                       ("admin", True, True)):
                old = read_secrets(out)[f"sluice-{name}-key"]
                result = run("rotate", name)
                self.assertEqual(result.returncode, 0, result.stderr)
                rotated = read_secrets(out)
                new = rotated[f"sluice-{name}-key"]
                if curve:
                    self.assertNotEqual(new["secret-key"], old["secret-key"])
                    self.assertEqual(principal(rotated, name)["curve_public_keys"],
                                     [old["public-key"], new["public-key"]])
                if sigv4:
                    self.assertNotEqual(new["AWS_ACCESS_KEY_ID"], old["AWS_ACCESS_KEY_ID"])
                    self.assertEqual([k["access_key_id"] for k in
                                      principal(rotated, name)["access_keys"]],
                                     [old["AWS_ACCESS_KEY_ID"], new["AWS_ACCESS_KEY_ID"]])
                result = run("retire", name)
                self.assertEqual(result.returncode, 0, result.stderr)
                retired = read_secrets(out)
                self.assertEqual(retired[f"sluice-{name}-key"], new)
                if curve:
                    self.assertEqual(principal(retired, name)["curve_public_keys"],
                                     [new["public-key"]])
                if sigv4:
                    self.assertEqual(principal(retired, name)["access_keys"], [
                        {"access_key_id": new["AWS_ACCESS_KEY_ID"],
                         "secret_access_key": new["AWS_SECRET_ACCESS_KEY"]}])
            # The broker's key: one at a time, copied into every client's Secret.
            before = read_secrets(out)
            result = run("rotate", "broker")
            self.assertEqual(result.returncode, 0, result.stderr)
            after = read_secrets(out)
            self.assertNotEqual(after["sluice-broker-key"], before["sluice-broker-key"])
            for name in ("producer", "worker", "admin"):
                self.assertEqual(after[f"sluice-{name}-key"]["broker-public-key"],
                                 after["sluice-broker-key"]["public-key"])
            self.assertEqual(after["sluice-principals"], before["sluice-principals"])

    def role_environments(self, broker):
        """The environments of the producer, the worker, and the queue-setup
        Job (admin), as deployed, for clients of a LocalBroker."""
        objects = broker.objects
        envs = {}
        for kind, name, container in (("Deployment", "sluice-producer", "producer"),
                                      ("Deployment", "sluice-worker", "worker"),
                                      ("Job", "sluice-queue-setup", "queue")):
            w = find(objects, kind, name)
            c = next(c for c in containers(w) if c["name"] == container)
            envs[container if container != "queue" else "admin"] = broker.environment(w, c)
        return envs

    def assert_allowed(self, result, what):
        self.assertEqual(result.returncode, 0, f"{what}: {result.stdout}{result.stderr}")

    def assert_denied(self, result, what):
        self.assertNotEqual(result.returncode, 0, f"{what} was allowed")
        self.assertIn("AccessDenied", result.stdout + result.stderr, what)

    def assert_depths(self, admin, expected):
        """The queues' messages, visible and in flight: {queue: (n, n)}."""
        for queue, depth in expected.items():
            result = cli(admin, "get-queue-attributes", "--queue-name", queue,
                         "--attribute-names", "All")
            self.assert_allowed(result, f"admin: get-queue-attributes {queue}")
            attributes = json.loads(result.stdout)["Attributes"]
            self.assertEqual((int(attributes["ApproximateNumberOfMessages"]),
                              int(attributes["ApproximateNumberOfMessagesNotVisible"])), depth,
                             queue)

    def test_each_role_as_deployed_may_do_what_its_process_needs_and_no_more(self):
        # The broker with its args as rendered, its principals file and key
        # from make-secrets.sh; the queue-setup Job made the queues, as admin.
        objects = self.base
        with LocalBroker(objects, self.made_secrets()) as broker:
            env = self.role_environments(broker)
            producer, worker, admin = env["producer"], env["worker"], env["admin"]
            worker_set = find(objects, "Deployment", "sluice-worker")
            queue = flag_values(pod_spec(worker_set)["containers"][0]["args"])["--queue-name"]
            [dead_letters] = queues_created(objects) - {queue}

            # The producer sends jobs and reads the queue's attributes.
            self.assert_allowed(cli(producer, "send-message", "--queue-name", queue,
                                    "--message-body", "job"), "producer: send")
            self.assert_allowed(cli(producer, "get-queue-attributes", "--queue-name", queue),
                                "producer: get-queue-attributes")
            for what in (["receive-message", "--queue-name", queue],
                         ["purge-queue", "--queue-name", queue],
                         ["send-message", "--queue-name", dead_letters, "--message-body", "x"],
                         ["create-queue", "--queue-name", "other"]):
                self.assert_denied(cli(producer, *what), f"producer: {what}")

            # The worker receives, extends, dead-letters and deletes.
            result = cli(worker, "receive-message", "--queue-name", queue)
            self.assert_allowed(result, "worker: receive")
            [message] = json.loads(result.stdout)["Messages"]
            self.assertEqual(message["Body"], "job")
            handle = message["ReceiptHandle"]
            for what in (["change-message-visibility", "--queue-name", queue,
                          "--receipt-handle", handle, "--visibility-timeout", "60"],
                         ["get-queue-attributes", "--queue-name", queue],
                         ["send-message", "--queue-name", dead_letters, "--message-body", "job"]):
                self.assert_allowed(cli(worker, *what), f"worker: {what}")
            for what in (["purge-queue", "--queue-name", queue],
                         ["send-message", "--queue-name", queue, "--message-body", "x"],
                         ["receive-message", "--queue-name", dead_letters],
                         ["delete-queue", "--queue-name", queue],
                         ["set-queue-attributes", "--queue-name", queue,
                          "--attributes", '{"VisibilityTimeout": "1"}']):
                self.assert_denied(cli(worker, *what), f"worker: {what}")
            self.assert_depths(admin, {queue: (0, 1), dead_letters: (1, 0)})
            self.assert_allowed(cli(worker, "delete-message", "--queue-name", queue,
                                    "--receipt-handle", handle), "worker: delete")

            # Without a key, or with one of no principal: refused, and the
            # queues are untouched.
            keyless = {k: v for k, v in worker.items() if not k.startswith("SLUICE_")
                       or k == "SLUICE_BROKER"}
            stranger = dict(worker, SLUICE_SECRET_KEY=keygen()[1])
            del stranger["SLUICE_SECRET_KEY_FILE"]
            for who, env in (("no key", keyless), ("an unknown key", stranger)):
                result = cli(env, "--timeout-ms", "3000", "purge-queue", "--queue-name",
                             dead_letters)
                self.assertNotEqual(result.returncode, 0, f"{who}: {result}")
            self.assert_denied(cli(stranger, "--timeout-ms", "3000", "get-queue-attributes",
                                   "--queue-name", queue), "an unknown key")
            self.assert_depths(admin, {queue: (0, 0), dead_letters: (1, 0)})

            # Over HTTP: the admin's and the scaler's access keys, SigV4.
            url = f"{broker.http}/000000000000/{queue}"
            region = BROKER_HTTP_DEFAULTS["--region"]
            made = self.made_secrets()
            for name in ("admin", "scaler"):
                keys = made[f"sluice-{name}-key"]
                status, answer = sqs_call(broker.http, "GetQueueAttributes",
                                          {"QueueUrl": url, "AttributeNames": ["All"]}, region,
                                          keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
                self.assertEqual(status, 200, f"{name}: {answer}")
            keys = made["sluice-scaler-key"]
            status, answer = sqs_call(broker.http, "PurgeQueue", {"QueueUrl": url}, region,
                                      keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
            self.assertEqual(status, 403, answer)
            self.assertIn("AccessDenied", answer.get("__type", ""))

    def test_a_rotated_key_works_beside_the_old_until_retired_and_reloaded(self):
        # make-secrets.sh rotate, then retire, on a copy of the Secrets; the
        # broker rereads its mounted principals file on SIGHUP, as after
        # `kubectl exec sluice-broker-0 -- sh -c 'kill -HUP 1'`.
        objects = self.base
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "secrets")
            make_secrets(out)
            env = dict(os.environ, SLUICE_BIN=os.path.dirname(BINARIES["sluice-broker"]))

            def make(*args):
                subprocess.run([MAKE_SECRETS, *args, "--out", out], check=True,
                               capture_output=True, env=env, timeout=60)

            with LocalBroker(objects, read_secrets(out)) as broker:
                old = self.role_environments(broker)["worker"]
                worker_set = find(objects, "Deployment", "sluice-worker")
                queue = flag_values(pod_spec(worker_set)["containers"][0]["args"])["--queue-name"]
                ask = ["--timeout-ms", "3000", "get-queue-attributes", "--queue-name", queue]
                make("rotate", "worker")
                new = dict(old, SLUICE_SECRET_KEY=read_secrets(out)["sluice-worker-key"]
                           ["secret-key"])
                del new["SLUICE_SECRET_KEY_FILE"]
                self.assertNotEqual(cli(new, *ask).returncode, 0, "not before the reload")
                broker.reload(read_secrets(out))
                self.wait_until(lambda: cli(new, *ask).returncode == 0, "the new key works")
                self.assert_allowed(cli(old, *ask), "the old key, until retired")
                make("retire", "worker")
                broker.reload(read_secrets(out))
                self.wait_until(lambda: cli(old, *ask).returncode != 0, "the old key refused")
                self.assert_allowed(cli(new, *ask), "the new key")

    def wait_until(self, condition, what, timeout=20):
        deadline = time.monotonic() + timeout
        while not condition():
            self.assertLess(time.monotonic(), deadline, f"timed out waiting: {what}")
            time.sleep(0.2)

    def test_autoscalers_target_the_workers_on_a_broker_metric(self):
        keda = next(o for o in self.rendered["deploy/k8s/overlays/keda"]
                    if o["kind"] == "ScaledObject")
        self.assertEqual(keda["spec"]["scaleTargetRef"]["name"], "sluice-worker")
        query = keda["spec"]["triggers"][0]["metadata"]["query"]
        self.assertIn("sluice_queue_messages", query)
        hpa = next(o for o in self.rendered["deploy/k8s/overlays/hpa"]
                   if o["kind"] == "HorizontalPodAutoscaler")
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], "sluice-worker")
        metric = hpa["spec"]["metrics"][0]["external"]["metric"]["name"]
        self.assertTrue(binary_contains("sluice-broker", metric), metric)
        # Both scale on the queue the workers take jobs from.
        worker = next(w for w in workloads(self.base) if w["metadata"]["name"] == "sluice-worker")
        queue = flag_values(pod_spec(worker)["containers"][0]["args"])["--queue-name"]
        self.assertIn(f'queue="{queue}"', query)
        self.assertEqual(hpa["spec"]["metrics"][0]["external"]["metric"]["selector"]
                         ["matchLabels"]["queue"], queue)

    def test_broker_public_url_is_its_http_service_port(self):
        # The host part of the queue URLs the broker hands out: clients in its
        # namespace reach it there.
        for name, objects in self.rendered.items():
            broker = broker_container(objects)
            args = flag_values(broker["args"])
            http = int(args["--http-listen"].rsplit(":", 1)[1])
            self.assertIn({"name": "http", "containerPort": http}, broker["ports"], name)
            url = urllib.parse.urlsplit(args["--http-public-url"])
            self.assertEqual(url.scheme, "http", name)
            self.assertIn(url.path, ("", "/"), name)
            self.assertEqual(url.port, service_port_to(objects, url.hostname, broker, "http"), name)

    def test_sqs_scaler_asks_the_brokers_http_api_for_the_workers_queue(self):
        objects = self.rendered["deploy/k8s/overlays/keda-sqs"]
        scaled = find(objects, "ScaledObject", "sluice-worker")
        self.assertEqual(scaled["spec"]["scaleTargetRef"]["name"], "sluice-worker")
        self.assertEqual(scaled["spec"]["scaleTargetRef"].get("kind", "Deployment"), "Deployment")
        find(objects, "Deployment", "sluice-worker")
        [trigger] = scaled["spec"]["triggers"]
        self.assertEqual(trigger["type"], "aws-sqs-queue")
        metadata = trigger["metadata"]
        for key, value in metadata.items():  # KEDA's trigger metadata is string to string
            self.assertIsInstance(value, str, key)
        self.assertGreater(int(metadata["queueLength"]), 0)
        self.assertIn(metadata.get("scaleOnInFlight", "true"), ("true", "false"))
        broker = broker_container(objects)
        args = flag_values(broker["args"])
        self.assertEqual(metadata["awsRegion"],
                         args.get("--region", BROKER_HTTP_DEFAULTS["--region"]))

        # KEDA's operator sends its requests to awsEndpoint from its own
        # namespace, so that is the broker Service's full name and http port.
        service = find(objects, "Service", "sluice-broker")
        namespace = service["metadata"].get("namespace")
        self.assertTrue(namespace, "the overlay sets the namespace that awsEndpoint names")
        self.assertEqual(scaled["metadata"].get("namespace"), namespace)
        endpoint = urllib.parse.urlsplit(metadata["awsEndpoint"])
        self.assertEqual(endpoint.scheme, "http")
        self.assertIn(endpoint.hostname, (f"sluice-broker.{namespace}.svc",
                                          f"sluice-broker.{namespace}.svc.cluster.local"))
        self.assertEqual(endpoint.port, service_port_to(objects, "sluice-broker", broker, "http"))
        self.assertIn(endpoint.path, ("", "/"))

        # queueURL is the URL the broker hands out for the workers' queue; KEDA
        # takes the queue's name from a path of exactly /<account-id>/<name>.
        url = urllib.parse.urlsplit(metadata["queueURL"])
        self.assertEqual(f"{url.scheme}://{url.netloc}", args["--http-public-url"].rstrip("/"))
        parts = url.path.split("/")
        self.assertEqual(len(parts), 3, url.path)
        _, account, queue = parts
        self.assertEqual(account, args.get("--account-id", BROKER_HTTP_DEFAULTS["--account-id"]))
        self.assertIn(queue, queues_created(objects))
        worker = pod_spec(find(objects, "Deployment", "sluice-worker"))["containers"][0]
        self.assertEqual(queue, flag_values(worker["args"])["--queue-name"])

    def test_sqs_scaler_signs_with_an_access_key_of_principal_scaler(self):
        objects = self.rendered["deploy/k8s/overlays/keda-sqs"]
        scaled = find(objects, "ScaledObject", "sluice-worker")
        [trigger] = scaled["spec"]["triggers"]
        auth = find(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
        refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
        self.assertLessEqual({"awsAccessKeyID", "awsSecretAccessKey"}, set(refs))
        for ref in refs.values():
            self.assert_secret_key("deploy/k8s/overlays/keda-sqs", objects, ref["name"], ref["key"])
        made = self.made_secrets()
        key = {"access_key_id": made[refs["awsAccessKeyID"]["name"]][refs["awsAccessKeyID"]["key"]],
               "secret_access_key": made[refs["awsSecretAccessKey"]["name"]]
               [refs["awsSecretAccessKey"]["key"]]}

        # The broker verifies signatures against the access keys of its
        # principals file (test_broker_runs_with_a_principals_file_...): KEDA's
        # is principal scaler's, whose roles allow GetQueueAttributes on the
        # scaled queue and nothing else.
        broker_set = find(objects, "StatefulSet", "sluice-broker")
        broker = pod_spec(broker_set)["containers"][0]
        volume, _, file_key = secret_file(broker_set, broker,
                                          flag_values(broker["args"])["--principals"])
        principals = json.loads(made[volume["secret"]["secretName"]][file_key])
        [name] = [n for n, p in principals["principals"].items() if key in p.get("access_keys", [])]
        self.assertEqual(name, "scaler")
        queue = trigger["metadata"]["queueURL"].rsplit("/", 1)[1]
        grants = [g for r in principals["principals"][name]["roles"]
                  for g in principals["roles"][r]] + principals["principals"][name].get("grants", [])
        self.assertEqual(grants, [{"actions": ["GetQueueAttributes"], "queues": [queue]}])
        # Nowhere else: the TriggerAuthentication is in the namespace of the
        # ScaledObject, which is the broker's.
        self.assertEqual(auth["metadata"].get("namespace"), scaled["metadata"].get("namespace"))
        self.assertNotIn("Secret", {o["kind"] for o in objects}, "the overlay holds no Secret")

    # The S3 overlay: buckets on S3-compatible storage, credentials from a
    # Secret, bucket notifications into the broker.

    def s3_workloads(self):
        objects = self.rendered[S3_OVERLAY]
        return [find(objects, "Deployment", n) for n in ("sluice-worker", "sluice-producer")]

    def test_s3_workers_and_producer_have_no_bucket_volume(self):
        objects = self.rendered[S3_OVERLAY]
        # Where the base mounts its bucket claim.
        bucket_paths = {m["mountPath"] for w in workloads(self.base) for c in containers(w)
                        for m in c.get("volumeMounts", [])
                        for v in pod_spec(w).get("volumes", [])
                        if v["name"] == m["name"] and "persistentVolumeClaim" in v}
        self.assertTrue(bucket_paths)
        for w in self.s3_workloads():
            where = w["metadata"]["name"]
            spec = pod_spec(w)
            self.assertEqual([v for v in spec.get("volumes", []) if "persistentVolumeClaim" in v],
                             [], where)
            for c in containers(w):
                self.assertNotIn(c["command"][0], SYSTEM_COMMANDS, f"{where}/{c['name']}")
                self.assertFalse({m["mountPath"] for m in c.get("volumeMounts", [])} & bucket_paths,
                                 f"{where}/{c['name']}")
        for w in workloads(objects):
            for c in containers(w):
                self.assertNotIn("--bucket-root", flag_values(c.get("args", [])),
                                 f"{w['metadata']['name']}/{c['name']}")

    def test_s3_workers_and_producer_use_s3_with_credentials_from_a_secret(self):
        objects = self.rendered[S3_OVERLAY]
        for w in self.s3_workloads():
            c = pod_spec(w)["containers"][0]
            where = f"{w['metadata']['name']}/{c['name']}"
            flags = flag_values(c["args"])
            self.assertTrue("--s3" in flags or "--s3-endpoint" in flags, where)
            for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                env = env_entry(c, variable)
                self.assertIsNotNone(env, f"{where}: {variable}")
                self.assertNotIn("value", env, f"{where}: {variable} is written in the manifest")
                ref = env["valueFrom"]["secretKeyRef"]
                self.assertFalse(ref.get("optional", False), f"{where}: {variable}")
            token = env_entry(c, "AWS_SESSION_TOKEN")
            if token is not None:
                self.assertIn("secretKeyRef", token.get("valueFrom", {}), where)
        # No credential is written into any manifest of the overlay.
        for w in workloads(objects):
            for c in containers(w):
                for env in c.get("env", []):
                    if env["name"] in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN"):
                        self.assertNotIn("value", env, f"{c['name']}: {env['name']}")

    def test_s3_broker_reads_its_events_token_from_a_secret(self):
        objects = self.rendered[S3_OVERLAY]
        broker_set = find(objects, "StatefulSet", "sluice-broker")
        broker = pod_spec(broker_set)["containers"][0]
        path = flag_values(broker["args"])["--s3-events-token-file"]
        mount = next(m for m in broker["volumeMounts"]
                     if path.startswith(m["mountPath"].rstrip("/") + "/"))
        self.assertIs(mount.get("readOnly"), True)
        volume = next(v for v in pod_spec(broker_set)["volumes"] if v["name"] == mount["name"])
        # The broker refuses to start without the file: an optional volume
        # would turn a missing Secret into a crash loop rather than a pod
        # waiting for it.
        self.assertFalse(volume["secret"].get("optional", False))
        relative = posixpath.relpath(path, mount["mountPath"])
        items = {i["path"]: i["key"] for i in volume["secret"].get("items", [])}
        self.assert_secret_key(S3_OVERLAY, objects, volume["secret"]["secretName"],
                               items.get(relative, relative))
        # The webhook is on the broker's HTTP API, which its Service serves.
        self.assertIn("--http-listen", flag_values(broker["args"]))
        service_port_to(objects, "sluice-broker", broker, "http")

    def test_s3_events_pushed_with_the_token_are_enqueued(self):
        # The broker as the overlay runs it, with its principals file: a push
        # with the token is principal s3-events, whose role may send to the
        # job queue; a push without it, or with another, is refused.
        objects = self.rendered[S3_OVERLAY]
        secrets = self.all_secrets(S3_OVERLAY)
        token = secrets["sluice-s3-events"]["token"]
        with open(os.path.join(SOURCE_DIR, "tests/unit/common/s3/testdata/rgw_put.json"),
                  "rb") as f:
            event = f.read()
        with LocalBroker(objects, secrets) as broker:
            env = self.role_environments(broker)
            queue = flag_values(pod_spec(find(objects, "Deployment", "sluice-worker"))
                                ["containers"][0]["args"])["--queue-name"]

            def push(query):
                request = urllib.request.Request(
                    f"{broker.http}/s3-events/{queue}{query}", data=event, method="POST",
                    headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=10) as r:
                        return r.status
                except urllib.error.HTTPError as e:
                    return e.code

            for query in ("", "?token=" + "f" * len(token)):
                self.assertIn(push(query), (401, 403), query)
            self.assert_depths(env["admin"], {queue: (0, 0)})
            self.assertEqual(push(f"?token={token}"), 200)
            self.assert_depths(env["admin"], {queue: (1, 0)})

    def test_s3_every_container_has_requests_and_limits(self):
        objects = self.rendered[S3_OVERLAY]
        for w in workloads(objects):
            for c in containers(w):
                where = f"{w['metadata']['name']}/{c['name']}"
                self.assertTrue(c.get("resources", {}).get("requests"), where)
                self.assertTrue(c.get("resources", {}).get("limits"), where)

    def test_s3_args_as_expanded_are_accepted_by_the_binaries(self):
        # The shipped s3.env (an empty S3_ENDPOINT: Amazon S3) and an RGW-like
        # one, expanded as Kubernetes expands them. With no credentials both
        # binaries must get as far as asking for them: the flags parsed, the
        # endpoint valid.
        objects = self.rendered[S3_OVERLAY]
        with LocalBroker(objects, self.all_secrets(S3_OVERLAY)) as broker:
            for overrides in ({}, {"S3_ENDPOINT": "http://rgw.example:7480",
                                   "S3_PATH_STYLE": "true"}):
                for w in self.s3_workloads():
                    c = pod_spec(w)["containers"][0]
                    values = dict(broker.environment(w, c, {}), **overrides)
                    self.assertFalse({v for v in values if v.startswith("AWS_") and
                                      v != "AWS_REGION"})
                    args = expand_env_references(local_args(c["args"]), values)
                    result = subprocess.run(
                        [BINARIES[c["command"][0]], *args], capture_output=True, text=True,
                        timeout=60, env=values)
                    where = f"{w['metadata']['name']} {args}"
                    self.assertNotEqual(result.returncode, 0, where)
                    self.assertIn("needs AWS_ACCESS_KEY_ID", result.stderr, where)
                    self.assertNotIn("--help", result.stderr, f"{where}: a CLI11 parse error")

    def test_s3_fleet_signs_path_style_requests_with_the_secrets_key(self):
        # The producer and a worker, from the overlay's manifests, on a local
        # broker and a fake S3 endpoint: the producer lists the bucket and
        # enqueues its upload, the worker fetches it. Every request goes to
        # the endpoint, path-style, signed with the Secret's key for the
        # ConfigMap's region.
        objects = self.rendered[S3_OVERLAY]
        secrets = {}
        for w in self.s3_workloads():
            for env in pod_spec(w)["containers"][0].get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    secrets.setdefault(ref["name"], {})[ref["key"]] = f"test-{ref['key'].lower()}"
        s3 = FakeS3()
        threading.Thread(target=s3.serve_forever, daemon=True).start()
        overrides = {"S3_ENDPOINT": f"http://127.0.0.1:{s3.server_port}",
                     "S3_PATH_STYLE": "true", "S3_BUCKET": "photos", "AWS_REGION": "eu-test-1"}
        processes = []
        try:
            with LocalBroker(objects, self.all_secrets(S3_OVERLAY)) as broker:
                for w in self.s3_workloads():
                    c = pod_spec(w)["containers"][0]
                    values = broker.environment(w, c, secrets)
                    values.update({k: v for k, v in overrides.items() if k in values})
                    args = expand_env_references(local_args(c["args"]), values)
                    processes.append(subprocess.Popen(
                        [BINARIES[c["command"][0]], *args], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True, env=values))
                upload = f"/photos/{FakeS3.UPLOAD}"
                deadline = time.monotonic() + 30
                while (time.monotonic() < deadline and
                       not any(r["path"] == upload for r in s3.seen())):
                    for p in processes:
                        self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None else "")
                    time.sleep(0.05)
        finally:
            for p in processes:
                p.kill()
                p.wait()
                p.stderr.close()
            s3.shutdown()
            s3.server_close()
        requests = s3.seen()
        self.assertTrue(any(r["method"] == "GET" and "list-type=2" in r["path"]
                            for r in requests), requests)
        self.assertTrue(any(r["path"] == upload for r in requests), "the worker fetched the upload")
        key_id = secrets["sluice-s3"]["AWS_ACCESS_KEY_ID"]
        for r in requests:
            self.assertEqual(r["host"], f"127.0.0.1:{s3.server_port}", r)
            self.assertRegex(r["path"], r"^/photos(/|\?|$)", r)
            self.assertRegex(r["authorization"],
                             rf"^AWS4-HMAC-SHA256 Credential={key_id}/\d{{8}}/eu-test-1/s3/"
                             r"aws4_request,", r)
            self.assertEqual(r["token"], secrets["sluice-s3"].get("AWS_SESSION_TOKEN"), r)

    def test_dashboard_and_rules_name_metrics_the_binaries_export(self):
        with open(os.path.join(SOURCE_DIR, "deploy/grafana/sluice-dashboard.json")) as f:
            exprs = [t["expr"] for p in json.load(f)["panels"] for t in p.get("targets", [])]
        with open(os.path.join(SOURCE_DIR, "deploy/prometheus/rules.yml")) as f:
            exprs += [r["expr"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        names = {n for e in exprs for n in re.findall(r"(?<![\w:])sluice_[a-z0-9_]+", e)}
        self.assertTrue(names)
        for name in sorted(names):
            # A histogram's series are named after it: _bucket, _sum, _count.
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            self.assertTrue(any(binary_contains(b, family) for b in BINARIES), name)

    def test_prometheus_rule_is_the_rules_file(self):
        rule = next(o for o in self.rendered["deploy/k8s/overlays/prometheus-operator"]
                    if o["kind"] == "PrometheusRule")
        with open(os.path.join(SOURCE_DIR, "deploy/prometheus/rules.yml")) as f:
            self.assertEqual(rule["spec"], yaml.safe_load(f))

    def test_promtool_accepts_the_rules(self):
        result = subprocess.run(["promtool", "check", "rules",
                                 os.path.join(SOURCE_DIR, "deploy/prometheus/rules.yml")],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("SUCCESS", result.stdout)

    def test_dashboard_config_map_is_the_dashboard(self):
        config = next(o for o in self.base if o["kind"] == "ConfigMap"
                      and o["metadata"]["name"] == "sluice-grafana-dashboard")
        with open(os.path.join(SOURCE_DIR, "deploy/grafana/sluice-dashboard.json")) as f:
            self.assertEqual(json.loads(config["data"]["sluice-dashboard.json"]), json.load(f))


if __name__ == "__main__":
    unittest.main()
