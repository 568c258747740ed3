"""Shared by the deploy tests: the rendered manifests and facts about our
binaries, read from the binaries themselves rather than written down twice;
the Secrets make-secrets.sh makes, a pod's mounts and arguments mapped to
this machine, and SigV4-signed SQS calls.

Environment (set by CMake's add_test): SLUICE_SOURCE_DIR, SLUICE_BROKER_BIN,
SLUICE_WORKER_BIN, SLUICE_PRODUCER_BIN.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import stat
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree

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
# What makes the Secrets holding every process's keys (docs/kubernetes-auth.md).
MAKE_SECRETS = os.path.join(SOURCE_DIR, "deploy/k8s/make-secrets.sh")
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


def make_secrets(directory, *args):
    """The Secrets `deploy/k8s/make-secrets.sh --out directory` makes, with key
    pairs from our sluice-broker's keygen: {name: {key: value}}."""
    result = subprocess.run(
        [MAKE_SECRETS, "--out", directory, *args], capture_output=True, text=True, timeout=60,
        env=dict(os.environ, SLUICE_BIN=os.path.dirname(BINARIES["sluice-broker"])))
    if result.returncode != 0:
        raise AssertionError(f"make-secrets.sh --out {directory} {args}: {result.stderr}")
    return read_secrets(directory)


def read_secrets(directory):
    """Secrets as make-secrets.sh --out writes them: a directory per Secret, a
    file per key."""
    secrets = {}
    for name in sorted(os.listdir(directory)):
        for key in sorted(os.listdir(os.path.join(directory, name))):
            with open(os.path.join(directory, name, key)) as f:
                secrets.setdefault(name, {})[key] = f.read()
    return secrets


def mount_locally(workload, secrets, directory, claims=None):
    """Where a pod's volume mounts are on this machine: {mountPath: local
    directory}. A Secret volume holds a file per item (per key without items)
    of secrets ({name: {key: value}}) with the volume's defaultMode, as the
    kubelet writes it; with claims ({claim name: local directory}), a claim is
    a directory beside directory that the pods share like the real volume; the
    rest (emptyDirs, volumeClaimTemplates) are the pod's own, under directory."""
    volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
    mounts = {}
    for c in containers(workload):
        for m in c.get("volumeMounts", []):
            v = volumes.get(m["name"], {})
            if "persistentVolumeClaim" in v and claims is not None:
                claim = v["persistentVolumeClaim"]["claimName"]
                local = claims.setdefault(
                    claim, os.path.join(os.path.dirname(os.path.normpath(directory)), "pvc-" + claim))
            else:
                local = os.path.join(directory, m["name"])
            os.makedirs(local, exist_ok=True)
            if "secret" in v:
                name = v["secret"]["secretName"]
                if name not in secrets:
                    if v["secret"].get("optional"):
                        continue
                    raise AssertionError(f"nothing makes Secret {name}")
                items = v["secret"].get("items") or [{"key": k, "path": k} for k in secrets[name]]
                for item in items:
                    path = os.path.join(local, item["path"])
                    if os.path.exists(path):  # two containers of a pod, one volume
                        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
                    with open(path, "w") as f:
                        f.write(secrets[name][item["key"]])
                    os.chmod(path, item.get("mode", v["secret"].get("defaultMode", 0o644)))
            mounts[m["mountPath"]] = local
    return mounts


def localize(text, mounts, ports):
    """An argument or a variable's value for a process on this machine: a path
    in a volume mount to the local directory of mounts ({mountPath: local}),
    and 0.0.0.0:PORT to 127.0.0.1 and the local port of ports ({containerPort:
    local port}); in --flag=value, the value."""
    if text.startswith("--") and "=" in text:
        flag, value = text.split("=", 1)
        return flag + "=" + localize(value, mounts, ports)
    for path, local in sorted(mounts.items(), key=lambda m: -len(m[0])):
        if text == path or text.startswith(path.rstrip("/") + "/"):
            text = local + text[len(path):]
            break  # once: a local path may itself start with a mount path (/tmp)
    for port, local in ports.items():
        text = text.replace(f"0.0.0.0:{port}", f"127.0.0.1:{local}")
    return text


def sigv4_headers(url, region, key_id, secret, headers, body, now=None):
    """headers plus Host, X-Amz-Date and an AWS Signature Version 4 Authorization
    for a POST of body to url, for service sqs (docs.aws.amazon.com, "Signature
    Version 4 signing process")."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    target = urllib.parse.urlsplit(url)
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed.update({"host": target.netloc, "x-amz-date": amz_date})
    names = ";".join(sorted(signed))
    canonical = "\n".join(["POST", target.path or "/", ""]
                          + [f"{k}:{signed[k]}" for k in sorted(signed)]
                          + ["", names, hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/sqs/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, "sqs", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return dict(headers, **{
        "Host": target.netloc, "X-Amz-Date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
                         f"SignedHeaders={names}, Signature={signature}"})


def sqs_call(endpoint, action, params, region, key_id, secret):
    """An SQS call in the JSON 1.0 protocol, signed: (HTTP status, answer)."""
    body = json.dumps(params).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": f"AmazonSQS.{action}"}
    request = urllib.request.Request(
        endpoint + "/", data=body, method="POST",
        headers=sigv4_headers(endpoint + "/", region, key_id, secret, headers, body))
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def get_queue_attributes(endpoint, protocol, queue_url, names, region, key_id, secret):
    """GetQueueAttributes as an AWS SDK sends it, in the JSON 1.0 protocol (KEDA's
    aws-sdk-go-v2) or the query protocol (older SDKs): (HTTP status, attributes)."""
    if protocol == "json":
        status, answer = sqs_call(endpoint, "GetQueueAttributes",
                                  {"QueueUrl": queue_url, "AttributeNames": names},
                                  region, key_id, secret)
        return status, answer.get("Attributes", {}) if status == 200 else {}
    form = {"Action": "GetQueueAttributes", "Version": "2012-11-05", "QueueUrl": queue_url}
    form.update({f"AttributeName.{i}": n for i, n in enumerate(names, 1)})
    body = urllib.parse.urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = urllib.request.Request(
        endpoint + "/", data=body, method="POST",
        headers=sigv4_headers(endpoint + "/", region, key_id, secret, headers, body))
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {}
    root = xml.etree.ElementTree.fromstring(text)
    attributes = {}
    for a in root.iter():
        if a.tag.rsplit("}", 1)[-1] == "Attribute":
            fields = {f.tag.rsplit("}", 1)[-1]: f.text for f in a}
            attributes[fields["Name"]] = fields["Value"]
    return status, attributes
