"""The Kubernetes manifests match the binaries: every command, flag, port, probe,
environment variable and reference in what `kubectl kustomize` renders is one
that exists (issue #7). The fleet test runs them; this one reads them."""
import configparser
import json
import os
import posixpath
import re
import subprocess
import unittest
import urllib.parse

import yaml

from deploy_support import (BINARIES, BROKER_HTTP_DEFAULTS, KUSTOMIZATIONS, SOURCE_DIR,
                            SYSTEM_COMMANDS, accepted_flags, binary_contains, containers,
                            environment_read_by, find, flag_values, listen_ports, metrics_port,
                            pod_spec, render, secret_value, subcommands, workloads)


def broker_container(objects):
    return pod_spec(find(objects, "StatefulSet", "sluice-broker"))["containers"][0]


def service_port_to(objects, service_name, container, port_name):
    """The port of a Service whose targetPort is a container's named port."""
    service = find(objects, "Service", service_name)
    number = next(p["containerPort"] for p in container["ports"] if p["name"] == port_name)
    return next(p["port"] for p in service["spec"]["ports"]
                if p["targetPort"] in (port_name, number))


def queues_created(objects):
    """The queues the queue-setup Job's containers create."""
    job = find(objects, "Job", "sluice-queue-setup")
    return {flag_values(c["args"][1:])["--queue-name"] for c in containers(job)
            if c["command"] == ["sluice-producer"] and c["args"][0] == "create-queue"}


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
                             ("PersistentVolumeClaim", "sluice-buckets"),
                             ("PodDisruptionBudget", "sluice-worker")]:
                self.assertIn(expected, kinds, name)

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
        for name, w, c in self.each_container():
            if c["command"][0] in SYSTEM_COMMANDS:
                self.assertNotIn("env", c)
                continue
            read = environment_read_by(c["command"][0])
            for env in c.get("env", []):
                self.assertIn(env["name"], read, f"{name}: {c['name']} sets {env['name']}")

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
                            secret_value(objects, v["secret"]["secretName"], item["key"])

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
            if c in pod_spec(w)["containers"] and w["kind"] != "Job":
                self.assertIn("requests", c["resources"], where)
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
