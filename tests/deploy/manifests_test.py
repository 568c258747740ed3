"""The Kubernetes manifests match the binaries: every command, flag, port, probe,
environment variable and reference in what `kubectl kustomize` renders is one
that exists (issue #7). The fleet test runs them; this one reads them, and
runs only the S3 overlay's producer and worker, on a local broker and a fake
S3 endpoint, to see its flags and environment reach the binaries (issue #17)."""
import configparser
import http.server
import json
import os
import posixpath
import re
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import yaml

from deploy_support import (BINARIES, BROKER_HTTP_DEFAULTS, KUSTOMIZATIONS, S3_KUSTOMIZATIONS,
                            SOURCE_DIR, SYSTEM_COMMANDS, accepted_flags, binary_contains,
                            containers, env_references, environment_read_by,
                            expand_env_references, find, flag_values, listen_ports, metrics_port,
                            pod_spec, render, secret_value, secrets_to_create, subcommands,
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


def queues_created(objects):
    """The queues the queue-setup Job's containers create."""
    job = find(objects, "Job", "sluice-queue-setup")
    return {flag_values(c["args"][1:])["--queue-name"] for c in containers(job)
            if c["command"] == ["sluice-producer"] and c["args"][0] == "create-queue"}


class LocalBroker:
    """A broker on loopback with the queues of the queue-setup Job, made by
    that Job's own containers."""

    def __init__(self, objects):
        self.objects = objects

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [BINARIES["sluice-broker"], f"--listen={self.address}",
             f"--metrics-listen=127.0.0.1:{free_port()}",
             f"--http-listen=127.0.0.1:{free_port()}", f"--data-dir={self.dir.name}/broker",
             "--fsync=never"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.__exit__()
                    raise AssertionError("the broker did not start")
                time.sleep(0.05)
        for c in containers(find(self.objects, "Job", "sluice-queue-setup")):
            subprocess.run([BINARIES[c["command"][0]], *c["args"]], check=True,
                           capture_output=True, timeout=60,
                           env={"SLUICE_BROKER": self.address, "PATH": os.environ["PATH"]})
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()
        self.dir.cleanup()


class RenderedManifestsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rendered = {k: render(k) for k in KUSTOMIZATIONS}
        cls.base = cls.rendered["deploy/k8s"]

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
        """The key is in a Secret the kustomization renders, or in one its
        comments tell the user to create (and so that applying it again
        never overwrites)."""
        if any(o["kind"] == "Secret" and o["metadata"]["name"] == secret for o in objects):
            secret_value(objects, secret, key)
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

    def test_sqs_scaler_signs_with_an_entry_of_the_brokers_credentials_file(self):
        objects = self.rendered["deploy/k8s/overlays/keda-sqs"]
        [trigger] = find(objects, "ScaledObject", "sluice-worker")["spec"]["triggers"]
        auth = find(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
        refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
        self.assertLessEqual({"awsAccessKeyID", "awsSecretAccessKey"}, set(refs))
        key_id, secret = (secret_value(objects, refs[p]["name"], refs[p]["key"])
                          for p in ("awsAccessKeyID", "awsSecretAccessKey"))

        # The broker verifies signatures against --credentials, a file from a
        # Secret mounted read-only.
        broker_set = find(objects, "StatefulSet", "sluice-broker")
        broker = pod_spec(broker_set)["containers"][0]
        path = flag_values(broker["args"])["--credentials"]
        mount = next(m for m in broker["volumeMounts"]
                     if path.startswith(m["mountPath"].rstrip("/") + "/"))
        self.assertIs(mount.get("readOnly"), True)
        volume = next(v for v in pod_spec(broker_set)["volumes"] if v["name"] == mount["name"])
        relative = posixpath.relpath(path, mount["mountPath"])
        items = {i["path"]: i["key"] for i in volume["secret"].get("items", [])}
        text = secret_value(objects, volume["secret"]["secretName"], items.get(relative, relative))

        credentials = configparser.ConfigParser(interpolation=None)
        credentials.read_string(text)
        entries = {(credentials[s]["aws_access_key_id"], credentials[s]["aws_secret_access_key"])
                   for s in credentials.sections()}
        self.assertIn((key_id, secret), entries, "KEDA's key pair is one the broker accepts")

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

    def test_s3_every_container_has_requests_and_limits(self):
        objects = self.rendered[S3_OVERLAY]
        for w in workloads(objects):
            for c in containers(w):
                where = f"{w['metadata']['name']}/{c['name']}"
                if w["kind"] == "Job":
                    # The queue-setup Job is the base's, unchanged (its
                    # containers have no resources there either).
                    base = find(self.base, "Job", w["metadata"]["name"])
                    same = next(b for b in containers(base) if b["name"] == c["name"])
                    self.assertEqual(c.get("resources"), same.get("resources"), where)
                    continue
                self.assertTrue(c.get("resources", {}).get("requests"), where)
                self.assertTrue(c.get("resources", {}).get("limits"), where)

    def test_s3_args_as_expanded_are_accepted_by_the_binaries(self):
        # The shipped s3.env (an empty S3_ENDPOINT: Amazon S3) and an RGW-like
        # one, expanded as Kubernetes expands them. With no credentials both
        # binaries must get as far as asking for them: the flags parsed, the
        # endpoint valid.
        objects = self.rendered[S3_OVERLAY]
        with LocalBroker(objects) as broker:
            for overrides in ({}, {"S3_ENDPOINT": "http://rgw.example:7480",
                                   "S3_PATH_STYLE": "true"}):
                for w in self.s3_workloads():
                    c = pod_spec(w)["containers"][0]
                    values = dict(env_values(objects, c, {}), **overrides)
                    self.assertFalse({v for v in values if v.startswith("AWS_") and
                                      v != "AWS_REGION"})
                    args = expand_env_references(local_args(c["args"]), values)
                    result = subprocess.run(
                        [BINARIES[c["command"][0]], *args], capture_output=True, text=True,
                        timeout=60, env=dict(values, SLUICE_BROKER=broker.address,
                                             PATH=os.environ["PATH"]))
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
            with LocalBroker(objects) as broker:
                for w in self.s3_workloads():
                    c = pod_spec(w)["containers"][0]
                    values = dict(env_values(objects, c, secrets))
                    values.update({k: v for k, v in overrides.items() if k in values})
                    args = expand_env_references(local_args(c["args"]), values)
                    processes.append(subprocess.Popen(
                        [BINARIES[c["command"][0]], *args], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True,
                        env=dict(values, SLUICE_BROKER=broker.address, PATH=os.environ["PATH"])))
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
