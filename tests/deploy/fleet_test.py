"""The fleet as the manifests describe it, run as local processes (issue #7).

Every container runs its command, args and env from `kubectl kustomize
deploy/k8s`, with only what a cluster would provide mapped to this machine:
volume mount paths to temporary directories, Service names to 127.0.0.1, and
each pod's container ports to free local ports (so that several workers fit on
one host). Then: the queue-setup Job's containers run in order; the broker, the
producer and two workers start and pass their own readiness probes; real
photos are uploaded; a third worker is added and one removed with SIGTERM
while jobs flow, as `kubectl scale` does; every photo must come out whole and
nothing may be left behind. A real Prometheus scrapes every pod meanwhile and
then evaluates every dashboard panel's query and every rule's expression.

Every pod's Secrets are those `deploy/k8s/make-secrets.sh` makes: the broker
runs with its principals file, and each process connects with its own key.

A second test starts the broker as overlays/keda-sqs runs it and sends it
KEDA's aws-sqs-queue request, SigV4-signed with the access key of the
TriggerAuthentication's Secret, as KEDA's operator would; and a call the
scaler's role does not allow, which is refused.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import yaml

from deploy_support import (BINARIES, BROKER_HTTP_DEFAULTS, SOURCE_DIR, SYSTEM_COMMANDS,
                            containers, find, flag_values, get_queue_attributes, localize,
                            make_secrets, mount_locally, pod_spec, render, sqs_call)

PHOTOS = sorted(glob.glob(os.path.join(SOURCE_DIR, "examples/pending/*.jpg")))
COPIES = 3  # of each photo, in folders, so that jobs are still flowing when scaling


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status, r.read().decode()
    except OSError:
        return None, ""


def metric_samples(text, name):
    """The label sets of a metric's samples in a /metrics page."""
    return [dict(re.findall(r'(\w+)="([^"]*)"', labels))
            for labels in re.findall(rf"^{name}(?:{{(.*)}})? \S+(?: \S+)?$", text, re.M)]


def tcp_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Pod:
    """One replica of a workload, its containers run as local processes."""

    def __init__(self, fleet, workload, index):
        self.fleet = fleet
        self.workload = workload
        self.name = f"{workload['metadata']['name']}-{index}"
        self.ports = {}  # containerPort -> local port
        for c in containers(workload):
            for p in c.get("ports", []):
                self.ports[p["containerPort"]] = free_port()
        self.mounts = fleet.mounts_for(workload, self.name)
        self.process = None

    def localize(self, text):
        return localize(text, self.mounts, self.ports)

    def command(self, c):
        argv = [self.localize(a) for a in c["command"] + c.get("args", [])]
        if argv[0] in BINARIES:
            argv[0] = BINARIES[argv[0]]
        else:
            self.fleet.test.assertIn(argv[0], SYSTEM_COMMANDS)
        # Nothing of this machine's own Sluice settings (a broker, keys).
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        for e in c.get("env", []):
            env[e["name"]] = self.fleet.resolve_service_address(self.localize(e["value"]))
        return argv, env

    def run_init_containers(self):
        for c in pod_spec(self.workload).get("initContainers", []):
            argv, env = self.command(c)
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
            self.fleet.test.assertEqual(result.returncode, 0, f"{self.name}/{c['name']}: {result}")

    def start(self):
        self.run_init_containers()
        c = pod_spec(self.workload)["containers"][0]
        argv, env = self.command(c)
        self.log = open(os.path.join(self.fleet.dir, self.name + ".log"), "w")
        self.process = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.container = c

    def probe(self, kind):
        probe = self.container.get(kind)
        action = probe.get("httpGet") or probe.get("tcpSocket")
        named = {p["name"]: p["containerPort"] for p in self.container.get("ports", [])}
        port = self.ports[named.get(action["port"], action["port"])]
        if "httpGet" in probe:
            return http_get(port, probe["httpGet"]["path"])[0] == 200
        return tcp_open(port)

    def wait_ready(self):
        try:
            wait_for(lambda: self.process.poll() is not None or self.probe("readinessProbe"), 30,
                     f"{self.name} to pass its readiness probe")
            self.fleet.test.assertIsNone(self.process.poll(), f"{self.name} exited")
        except AssertionError as e:  # with the pod's log, to say why
            self.log.flush()
            with open(self.log.name) as f:
                raise AssertionError(f"{e}; exit code {self.process.poll()}; its log:\n{f.read()}")
        self.fleet.test.assertTrue(self.probe("livenessProbe"), f"{self.name} liveness")

    def metrics_port(self):
        port = int(self.workload["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"])
        return self.ports[port]

    def stop(self, grace):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=grace)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.log.close()


class Fleet:
    def __init__(self, test, objects, directory, secrets=None):
        self.test = test
        self.objects = objects
        self.dir = directory
        self.pods = {}
        self.claims = {}  # PVC name -> local directory, shared like a real volume
        # The Secrets, as `make-secrets.sh` makes them for a namespace.
        self.secrets = secrets or make_secrets(os.path.join(directory, "secrets"))

    def workload(self, name):
        return next(o for o in self.objects
                    if o["kind"] in ("Deployment", "StatefulSet", "Job")
                    and o["metadata"]["name"] == name)

    def mounts_for(self, workload, pod_name):
        return mount_locally(workload, self.secrets, os.path.join(self.dir, pod_name),
                             self.claims)

    def client_environment(self, workload_name, container_name):
        """The environment of a container of a workload, for a command of ours
        run beside the fleet with that container's keys."""
        workload = self.workload(workload_name)
        pod = Pod(self, workload, "client")
        c = next(c for c in containers(workload) if c["name"] == container_name)
        return pod.command(c)[1]

    def resolve_service_address(self, value):
        """tcp://SERVICE:PORT -> tcp://127.0.0.1:<the selected pod's local port>."""
        for svc in (o for o in self.objects if o["kind"] == "Service"):
            name = svc["metadata"]["name"]
            for p in svc["spec"]["ports"]:
                if f"{name}:{p['port']}" not in value:
                    continue
                pod = next(pod for pod in self.pods.values()
                           if svc["spec"]["selector"].items()
                           <= pod.workload["spec"]["template"]["metadata"]["labels"].items())
                named = {cp["name"]: cp["containerPort"]
                         for cp in pod_spec(pod.workload)["containers"][0]["ports"]}
                local = pod.ports[named.get(p["targetPort"], p["targetPort"])]
                return value.replace(f"{name}:{p['port']}", f"127.0.0.1:{local}")
        return value

    def start(self, workload_name, index):
        pod = Pod(self, self.workload(workload_name), index)
        self.pods[pod.name] = pod
        pod.start()
        pod.wait_ready()
        return pod

    def run_job(self, name):
        job = self.workload(name)
        pod = Pod(self, job, 0)
        self.pods[pod.name] = pod
        pod.run_init_containers()
        for c in pod_spec(job)["containers"]:
            argv, env = pod.command(c)
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
            self.test.assertEqual(result.returncode, 0, f"{name}/{c['name']}: {result}")
        del self.pods[pod.name]


def upload(bucket, relative, source):
    """As a well-behaved uploader does: a temporary name, then a rename."""
    final = os.path.join(bucket, "pending", relative)
    os.makedirs(os.path.dirname(final), exist_ok=True)
    temp = os.path.join(os.path.dirname(final), "." + os.path.basename(final) + ".part")
    shutil.copyfile(source, temp)
    os.rename(temp, final)


def image_size(path):
    out = subprocess.run(["/usr/bin/identify", "-format", "%w %h %m", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None
    w, h, fmt = out.stdout.split()
    return int(w), int(h), fmt


class FleetTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-fleet-")
        self.fleet = Fleet(self, render("deploy/k8s"), self.dir)
        self.prometheus = None

    def tearDown(self):
        for pod in self.fleet.pods.values():
            if pod.process is not None and pod.process.poll() is None:
                pod.process.kill()
        if self.prometheus is not None:
            self.prometheus.kill()
            self.prometheus.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_prometheus(self, scraped):
        port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [os.path.join(SOURCE_DIR, "deploy/prometheus/rules.yml")],
            "scrape_configs": [{"job_name": "sluice", "static_configs": [
                {"targets": [f"127.0.0.1:{p.metrics_port()}" for p in scraped]}]}],
        }
        path = os.path.join(self.dir, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        self.prometheus_log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={self.dir}/tsdb",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=self.prometheus_log, stderr=subprocess.STDOUT)
        wait_for(lambda: http_get(port, "/-/ready")[0] == 200, 60, "Prometheus to be ready")
        self.prometheus_port = port

    def add_prometheus_target(self, pod):
        """Prometheus re-reads its configuration on SIGHUP, as after a scale-up."""
        path = os.path.join(self.dir, "prometheus.yml")
        with open(path) as f:
            config = yaml.safe_load(f)
        config["scrape_configs"][0]["static_configs"][0]["targets"].append(
            f"127.0.0.1:{pod.metrics_port()}")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        self.prometheus.send_signal(signal.SIGHUP)

    def query(self, expr):
        url = (f"http://127.0.0.1:{self.prometheus_port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expr}))
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def test_fleet_processes_photos_while_scaled_and_prometheus_evaluates_every_query(self):
        fleet = self.fleet
        broker = fleet.start("sluice-broker", 0)
        fleet.run_job("sluice-queue-setup")
        producer = fleet.start("sluice-producer", 0)
        workers = [fleet.start("sluice-worker", i) for i in range(2)]
        self.start_prometheus([broker, producer] + workers)

        self.assertTrue(PHOTOS, "the sample photos are there")
        bucket = os.path.join(fleet.claims["sluice-buckets"], "photos")
        expected = []

        def upload_copy(copy):
            for photo in PHOTOS:
                relative = f"user{copy}/{os.path.basename(photo)}"
                upload(bucket, relative, photo)
                expected.append(relative)

        for copy in range(COPIES):
            upload_copy(copy)
        resized = os.path.join(bucket, "resized")

        def outputs():
            return glob.glob(os.path.join(resized, "*", "*.jpg"))

        # Scale while jobs flow: one more worker, then one fewer (SIGTERM).
        wait_for(lambda: len(outputs()) >= 2, 120, "the first outputs")
        third = fleet.start("sluice-worker", 2)
        self.add_prometheus_target(third)
        grace = pod_spec(workers[0].workload)["terminationGracePeriodSeconds"]
        self.assertEqual(workers[0].stop(grace), 0, "a worker drains and exits 0 on SIGTERM")
        upload_copy(COPIES)  # uploads keep coming after the scale-down

        def leftovers():
            # claimed/ only as producers before the sent journal used it.
            return [p for state in ("pending", "claimed", "queued")
                    for p in glob.glob(os.path.join(bucket, state, "**", "*"), recursive=True)
                    if os.path.isfile(p)]

        wait_for(lambda: len(outputs()) == 2 * len(expected) and not leftovers(), 240,
                 "every upload's outputs")
        for relative in expected:
            stem = relative.rsplit(".", 1)[0]
            original = image_size(os.path.join(SOURCE_DIR, "examples/pending",
                                               os.path.basename(relative)))
            for box in (1000, 200):
                got = image_size(os.path.join(resized, f"{stem}-{box}.jpg"))
                self.assertIsNotNone(got, f"{stem}-{box}.jpg is not a whole image")
                self.assertEqual(got[2], "JPEG")
                self.assertEqual(max(got[0], got[1]), min(box, max(original[:2])))
            self.assertTrue(os.path.isfile(os.path.join(bucket, "originals", relative)))
        self.assertEqual(glob.glob(os.path.join(resized, "**", ".*"), recursive=True), [],
                         "no temporary files left")

        # The queue is empty and nothing was dead-lettered. Asked as the
        # queue-setup Job asks, as principal admin.
        admin = fleet.client_environment("sluice-queue-setup", "queue")
        for queue in ("photos", "photos-dlq"):
            out = subprocess.run(
                [BINARIES["sluice-producer"], "get-queue-attributes", "--queue-name", queue,
                 "--attribute-names", "All"], env=admin, capture_output=True, text=True,
                check=True)
            attributes = json.loads(out.stdout)["Attributes"]
            self.assertEqual(attributes["ApproximateNumberOfMessages"], "0", queue)
            self.assertEqual(attributes["ApproximateNumberOfMessagesNotVisible"], "0", queue)

        # Prometheus: every dashboard query and every rule evaluates without
        # error, and throughput and queue depth have data.
        wait_for(lambda: self.query("sum(rate(sluice_worker_jobs_total{result=\"ok\"}[1m]))")
                 ["data"]["result"], 30, "a throughput figure in Prometheus")
        with open(os.path.join(SOURCE_DIR, "deploy/grafana/sluice-dashboard.json")) as f:
            dashboard = json.load(f)
        exprs = {t["expr"]: p["title"] for p in dashboard["panels"] for t in p.get("targets", [])}
        with open(os.path.join(SOURCE_DIR, "deploy/prometheus/rules.yml")) as f:
            rules = yaml.safe_load(f)
        for group in rules["groups"]:
            for rule in group["rules"]:
                exprs[rule["expr"]] = rule.get("record") or rule.get("alert")
        for expr, title in exprs.items():
            answer = self.query(expr)
            self.assertEqual(answer["status"], "success", f"{title}: {expr}: {answer}")
        must_have_data = [
            "sum(rate(sluice_worker_jobs_total{result=\"ok\"}[1m]))",
            "sum by (queue, state) (sluice_queue_messages)",
            "count(sluice_worker_concurrency)",
            "sum(rate(sluice_producer_uploads_enqueued_total[1m]))",
        ]
        for expr in must_have_data:
            self.assertIn(expr, exprs, "the dashboard shows it")
            # A rate needs two scrapes of its series, which a quick run of
            # the fleet may not have had yet.
            wait_for(lambda: self.query(expr)["data"]["result"], 30, f"data for {expr}")
        rule_groups = json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{self.prometheus_port}/api/v1/rules"))["data"]["groups"]
        self.assertEqual(len(rule_groups), len(rules["groups"]), "Prometheus loaded the rules")
        for group in rule_groups:
            for rule in group["rules"]:
                self.assertNotEqual(rule.get("health"), "err", rule)

        for pod in [workers[1], third, producer, broker]:
            grace = pod_spec(pod.workload).get("terminationGracePeriodSeconds", 30)
            self.assertEqual(pod.stop(grace), 0, f"{pod.name} exits 0 on SIGTERM")

    def test_broker_answers_the_keda_sqs_scalers_signed_request(self):
        objects = render("deploy/k8s/overlays/keda-sqs")
        self.fleet = fleet = Fleet(self, objects, self.dir, self.fleet.secrets)
        broker = fleet.start("sluice-broker", 0)
        fleet.run_job("sluice-queue-setup")
        args = flag_values(broker.container["args"])
        self.assertIn("--principals", args, "this broker verifies signatures")
        [trigger] = find(objects, "ScaledObject", "sluice-worker")["spec"]["triggers"]
        metadata = trigger["metadata"]
        auth = find(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
        refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
        key_id, secret = (fleet.secrets[refs[p]["name"]][refs[p]["key"]]
                          for p in ("awsAccessKeyID", "awsSecretAccessKey"))
        names = ["ApproximateNumberOfMessages"]
        if metadata.get("scaleOnInFlight", "true") == "true":
            names.append("ApproximateNumberOfMessagesNotVisible")
        # awsEndpoint is the Service's http port: here, the pod's local port.
        http = int(args["--http-listen"].rsplit(":", 1)[1])
        endpoint = f"http://127.0.0.1:{broker.ports[http]}"
        self.assertEqual(metadata["awsRegion"],
                         args.get("--region", BROKER_HTTP_DEFAULTS["--region"]))

        def ask(protocol, secret):
            return get_queue_attributes(endpoint, protocol, metadata["queueURL"], names,
                                        metadata["awsRegion"], key_id, secret)

        for protocol in ("json", "query"):
            status, attributes = ask(protocol, secret)
            self.assertEqual(status, 200, protocol)
            self.assertEqual({n: attributes.get(n) for n in names}, {n: "0" for n in names},
                             protocol)
            wrong, _ = ask(protocol, secret + "-not")
            self.assertTrue(400 <= wrong < 500, f"{protocol}: a bad signature answered {wrong}")
        # The scaler's key may ask for the depth of the queue and nothing else.
        for action, params in (("ReceiveMessage", {"QueueUrl": metadata["queueURL"]}),
                               ("PurgeQueue", {"QueueUrl": metadata["queueURL"]})):
            status, answer = sqs_call(endpoint, action, params, metadata["awsRegion"], key_id,
                                      secret)
            self.assertEqual(status, 403, f"{action}: {answer}")
            self.assertIn("AccessDenied", answer.get("__type", ""), action)

        # The dashboard's and the alert's metrics, as the broker exports them.
        status, text = http_get(broker.metrics_port(), "/metrics")
        self.assertEqual(status, 200)
        requests = metric_samples(text, "sluice_http_requests_total")
        for protocol in ("json", "query"):
            ok = {"protocol": protocol, "action": "GetQueueAttributes", "code": "OK"}
            self.assertTrue([r for r in requests if r.items() >= ok.items()], protocol)
            self.assertTrue([r for r in requests
                             if r.get("protocol") == protocol and r.get("code") != "OK"], protocol)
        self.assertTrue(metric_samples(text, "sluice_http_request_duration_seconds_bucket"))
        self.assertTrue(metric_samples(text, "sluice_http_connections"))
        self.assertTrue(metric_samples(text, "sluice_http_connections_refused_total"))
        self.assertEqual(broker.stop(30), 0, "the broker exits 0 on SIGTERM")


if __name__ == "__main__":
    unittest.main()
