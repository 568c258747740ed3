"""Shared by the deploy tests: the rendered manifests and facts about our
binaries, read from the binaries themselves rather than written down twice.

Environment (set by CMake's add_test): SLUICE_SOURCE_DIR, SLUICE_BROKER_BIN,
SLUICE_WORKER_BIN, SLUICE_PRODUCER_BIN.
"""
import base64
import os
import re
import subprocess

import yaml

SOURCE_DIR = os.environ["SLUICE_SOURCE_DIR"]
BINARIES = {
    "sluice-broker": os.environ["SLUICE_BROKER_BIN"],
    "sluice-worker": os.environ["SLUICE_WORKER_BIN"],
    "sluice-producer": os.environ["SLUICE_PRODUCER_BIN"],
}
# What containers may run besides our binaries, and why.
SYSTEM_COMMANDS = {"mkdir"}  # the producer's init container makes the bucket directory
KUSTOMIZATIONS = ["deploy/k8s", "deploy/k8s/overlays/keda", "deploy/k8s/overlays/keda-sqs",
                  "deploy/k8s/overlays/hpa", "deploy/k8s/overlays/prometheus-operator",
                  "deploy/k8s/overlays/s3"]
# The kustomizations whose buckets are on S3: no bucket volume, no claim.
S3_KUSTOMIZATIONS = ["deploy/k8s/overlays/s3"]
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
# What the broker's SQS HTTP API uses when the manifests leave a flag out: the
# account id in its queue URLs and the region a request's signature is scoped to.
BROKER_HTTP_DEFAULTS = {"--account-id": "000000000000", "--region": "us-east-1"}


def render(kustomization):
    """The objects `kubectl kustomize` makes of a kustomization directory."""
    out = subprocess.run(["kubectl", "kustomize", os.path.join(SOURCE_DIR, kustomization)],
                         check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def find(objects, kind, name):
    """The one object of that kind and name (AssertionError if there is none)."""
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} objects {kind}/{name}")
    return found[0]


def secret_value(objects, name, key):
    """A key of a rendered Secret, from stringData or (base64) data."""
    secret = find(objects, "Secret", name)
    if key in secret.get("stringData", {}):
        return secret["stringData"][key]
    if key in secret.get("data", {}):
        return base64.b64decode(secret["data"][key]).decode()
    raise AssertionError(f"Secret {name} has no key {key}")


def workloads(objects):
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def containers(workload):
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def _help(binary, *subcommand):
    return subprocess.run([BINARIES[binary], *subcommand, "--help"], check=True,
                          capture_output=True, text=True).stdout


def accepted_flags(binary, subcommand=None):
    """The long flags a binary (and subcommand) takes, from its --help."""
    flags = set(re.findall(r"(--[a-z][a-z0-9-]*)", _help(binary)))
    if subcommand:
        flags |= set(re.findall(r"(--[a-z][a-z0-9-]*)", _help(binary, subcommand)))
    return flags


def subcommands(binary):
    text = _help(binary)
    section = text.split("Subcommands:", 1)[1] if "Subcommands:" in text else ""
    return set(re.findall(r"^  ([a-z][a-z-]+)", section, re.M))


def environment_read_by(binary):
    """The SLUICE_* and AWS_* names in a binary: what getenv can be asked for."""
    with open(BINARIES[binary], "rb") as f:
        data = f.read()
    return {m.decode() for m in re.findall(rb"(?:SLUICE|AWS)_[A-Z_]+", data)}


def env_references(container):
    """The $(NAME) references in a container's command and args, which
    Kubernetes replaces with the value of the container's variable NAME
    ($$ escapes a $)."""
    text = "\n".join(container.get("command", []) + container.get("args", []))
    return set(re.findall(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)", text))


def expand_env_references(args, values):
    """args with $(NAME) replaced by values[NAME], as Kubernetes does; an
    unknown name stays as written, as Kubernetes leaves it."""
    return [re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                   lambda m: "$" if m.group(0) == "$$" else values.get(m.group(1), m.group(0)),
                   arg) for arg in args]


def secrets_to_create(kustomization):
    """The Secrets that a kustomization's comments tell the user to create,
    `kubectl create secret generic NAME --from-literal=KEY=...`: {NAME: {KEY}}."""
    with open(os.path.join(SOURCE_DIR, kustomization, "kustomization.yaml")) as f:
        text = f.read()
    text = re.sub(r"\\\n#\s*", " ", text)  # a command continued over comment lines
    return {m.group(1): set(re.findall(r"--from-literal=(\w+)=", m.group(2)))
            for m in re.finditer(r"kubectl create secret generic (\S+)([^\n]*)", text)}


def flag_values(args):
    """--name=value and --name value pairs of an argument list."""
    values = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            if "=" in arg:
                name, value = arg.split("=", 1)
            elif i + 1 < len(args) and not args[i + 1].startswith("--"):
                name, value = arg, args[i + 1]
                i += 1
            else:
                name, value = arg, None
            values[name] = value
        i += 1
    return values


def listen_ports(args):
    """The TCP ports a container's process listens on, from its flags."""
    values = flag_values(args)
    ports = set()
    for flag in ("--listen", "--metrics-listen", "--http-listen"):
        value = values.get(flag)
        if value:
            ports.add(int(value.rsplit(":", 1)[1]))
    return ports


def binary_contains(binary, text):
    with open(BINARIES[binary], "rb") as f:
        return text.encode() in f.read()


def metrics_port(args):
    value = flag_values(args).get("--metrics-listen")
    return int(value.rsplit(":", 1)[1]) if value else None
