"""The container image matches the binaries (issue #7): its runtime stage
installs a package for every shared library the three binaries load, runs as
a non-root user, and holds ImageMagick to the worker's own policy; its
default command is the broker as the manifests run it, authenticated (issue
#18). (No image is built here: this machine has no container daemon.)"""
import json
import os
import re
import subprocess
import unittest

from deploy_support import BINARIES, SOURCE_DIR, find, flag_values, pod_spec, render

DOCKERFILE = os.path.join(SOURCE_DIR, "deploy/docker/Dockerfile")


def runtime_stage():
    with open(DOCKERFILE) as f:
        text = f.read()
    stages = re.split(r"^FROM ", text, flags=re.M)
    return stages[-1]


def runtime_packages():
    stage = runtime_stage().replace("\\\n", " ")
    install = re.search(r"apt-get install ([^&]*)", stage).group(1)
    return {w for w in install.split() if not w.startswith("-")}


def package_of(path):
    for candidate in (os.path.realpath(path), path):
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0]
    raise AssertionError(f"no package holds {path}")


def libraries_needed():
    needed = set()
    for binary in BINARIES.values():
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
        needed |= set(re.findall(r"=> (/\S+)", out))
    return needed


def dependency_closure(packages):
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                          "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                          *packages], capture_output=True, text=True, check=True).stdout
    closure = set(packages)
    for line in out.splitlines():
        m = re.match(r"\s+(?:\|)?(?:Pre)?Depends: <?([^ <>]+)>?", line)
        if m:
            closure.add(m.group(1).split(":")[0])
        elif line and not line.startswith(" "):
            closure.add(line.split(":")[0])
    return closure


class DockerfileTest(unittest.TestCase):
    def test_runtime_stage_installs_every_library_the_binaries_load(self):
        closure = dependency_closure(sorted(runtime_packages())) | {"libc6", "libgcc-s1",
                                                                    "libstdc++6"}
        for library in sorted(libraries_needed()):
            self.assertIn(package_of(library), closure, library)

    def test_runtime_stage_has_no_build_tools(self):
        for package in runtime_packages():
            self.assertFalse(package.endswith("-dev"), package)
            self.assertNotIn(package, {"build-essential", "cmake", "ninja-build", "g++"})

    def test_runs_as_a_numeric_non_root_user(self):
        user = re.findall(r"^USER (\S+)", runtime_stage(), re.M)
        self.assertTrue(user)
        uid = user[-1].split(":")[0]
        self.assertTrue(uid.isdigit() and int(uid) != 0, user)

    def test_every_binary_is_copied_into_the_image(self):
        stage = runtime_stage().replace("\\\n", " ")
        for name in BINARIES:
            self.assertRegex(stage, rf"COPY --from=build [^\n]*{name}")

    def test_the_image_policy_has_the_workers_rules(self):
        with open(os.path.join(SOURCE_DIR, "worker/magick_setup.cc")) as f:
            code = f.read()
        with open(os.path.join(SOURCE_DIR, "deploy/docker/policy.xml")) as f:
            image = f.read()
        rules = re.findall(r"<policy [^>]*/>", code)
        self.assertTrue(rules)
        for rule in rules:
            self.assertIn(rule, image)
        self.assertIn("policy.xml /etc/ImageMagick-6/policy.xml", runtime_stage())

    def test_default_command_is_the_broker_of_the_manifests_authenticated(self):
        [command] = re.findall(r"^CMD (\[.*\])$", runtime_stage(), re.M)
        command = json.loads(command)
        self.assertEqual(command[0], "sluice-broker")
        args = flag_values(command[1:])
        broker = pod_spec(find(render("deploy/k8s"), "StatefulSet", "sluice-broker"))
        manifest = flag_values(broker["containers"][0]["args"])
        # The same files at the same paths, so that the Secrets' directories
        # of make-secrets.sh --out mount as they do in a pod.
        for flag in ("--principals", "--secret-key-file", "--data-dir"):
            self.assertEqual(args.get(flag), manifest[flag], flag)
        self.assertNotIn("--insecure", args)


if __name__ == "__main__":
    unittest.main()
