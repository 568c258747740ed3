"""The Kubernetes manifests match the binaries: every command, flag, port, probe,
environment variable and reference in what `kubectl kustomize` renders is one
that exists (issue #7). The fleet test runs them; this one reads them."""
import json
import os
import subprocess
import unittest

import yaml

from deploy_support import (BINARIES, KUSTOMIZATIONS, SOURCE_DIR, SYSTEM_COMMANDS,
                            accepted_flags, binary_contains, containers, environment_read_by, flag_values,
                            listen_ports, metrics_port, pod_spec, render, subcommands, workloads)


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

    def test_volumes_and_claims_exist(self):
        claims = {o["metadata"]["name"] for o in self.base if o["kind"] == "PersistentVolumeClaim"}
        for w in workloads(self.base):
            spec = pod_spec(w)
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            templates = {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
            for c in containers(w):
                for m in c.get("volumeMounts", []):
                    self.assertTrue(m["name"] in volumes or m["name"] in templates, m["name"])
            for v in volumes.values():
                if "persistentVolumeClaim" in v:
                    self.assertIn(v["persistentVolumeClaim"]["claimName"], claims)

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
