#!/usr/bin/python3
"""bench/s3_bench.py: issue 17's figures, on this machine, in one run.

1. Worker throughput on 12-megapixel photos, an S3 bucket on Ceph RGW
   (loopback, memstore OSD) against a directory bucket, runs interleaved
   (directory, S3, directory, S3, ...): photos/s and the ratio S3/directory.
   Each run: a fresh broker (--fsync always), N photos placed in pending/, the
   producer's enqueue, then one sluice-worker (--concurrency 2) timed from its
   start until the queue is empty (every job done: outputs written, original
   moved, message deleted), with its CPU time and radosgw's.
2. S3 requests per job, from the worker's sluice_s3_requests_total.
3. The producer listing and enqueuing 10,000 objects on RGW: jobs/s of
   `sluice-producer enqueue --s3`, against a fresh queue and no journal.

Usage: bench/s3_bench.py          (about 6 minutes after the build)
Knobs (environment): BUILD (build-bench, else build), PHOTOS (48), REPEAT (3),
OBJECTS (10000), CONCURRENCY (the worker's default).
Prints a markdown table and writes it to .run/bench/s3-<timestamp>.md.
"""
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD") or (
    os.path.join(ROOT, "build-bench") if os.path.exists(os.path.join(ROOT, "build-bench", "worker",
                                                                     "sluice-worker"))
    else os.path.join(ROOT, "build"))
os.environ.setdefault("SLUICE_BROKER_BIN", os.path.join(BUILD, "broker", "sluice-broker"))
os.environ.setdefault("SLUICE_WORKER_BIN", os.path.join(BUILD, "worker", "sluice-worker"))
os.environ.setdefault("SLUICE_PRODUCER_BIN", os.path.join(BUILD, "producer", "sluice-producer"))
os.environ.setdefault("SLUICE_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
sys.path.insert(0, os.path.join(ROOT, "tests", "s3"))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))

import boto3  # noqa: E402

from broker_fixture import (PRODUCER_BIN, REGION, SHARED_DIR, WORKER_BIN, Broker,  # noqa: E402
                            free_port, metric_samples, wait_for)
from rgw_fixture import Rgw  # noqa: E402

PHOTOS = int(os.environ.get("PHOTOS", "48"))
REPEAT = int(os.environ.get("REPEAT", "3"))
OBJECTS = int(os.environ.get("OBJECTS", "10000"))
# The worker's own default (its cores) unless CONCURRENCY is set.
CONCURRENCY = ["--concurrency", os.environ["CONCURRENCY"]] if os.environ.get("CONCURRENCY") else []
CONCURRENCY_NAME = os.environ.get("CONCURRENCY") or "the worker's default (cores; on S3, cores + 1)"


def twelve_megapixels(directory):
    """bridge.jpg (4352x2448) made 4000x3000, as a phone's 12 MP photo."""
    path = os.path.join(directory, "photo-12mp.jpg")
    subprocess.run(["convert", os.path.join(SHARED_DIR, "photos", "bridge.jpg"), "-resize",
                    "4000x3000!", "-quality", "92", path], check=True)
    with open(path, "rb") as f:
        return f.read()


def start_broker():
    broker = Broker(fsync="always").start()
    broker.sqs = boto3.client("sqs", endpoint_url=broker.endpoint_url, region_name=REGION,
                              aws_access_key_id="bench", aws_secret_access_key="bench")
    broker.sqs.create_queue(QueueName="photos")
    return broker


def queue_empty(broker):
    """Whether every job is done: its message deleted, after the original's move."""
    attrs = broker.sqs.get_queue_attributes(
        QueueUrl=broker.queue_url("photos"),
        AttributeNames=["ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return attrs["ApproximateNumberOfMessages"] == "0" and \
        attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_worker(broker, store_args, env, photos, watch=None):
    """Runs one worker until the queue is empty; (seconds, its metrics, its
    CPU seconds, the CPU seconds of `watch`'s process meanwhile)."""
    port = free_port()
    log = open(os.path.join(broker.dir, "worker.log"), "w")
    watched_before = cpu_seconds(watch) if watch else 0
    started = time.monotonic()
    worker = subprocess.Popen(
        [WORKER_BIN, "--broker", broker.zmq_endpoint, "--queue-name", "photos", *store_args,
         "--metrics-listen", f"127.0.0.1:{port}", *CONCURRENCY],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: queue_empty(broker), 600, f"{photos} photos resized", interval=0.05)
        seconds = time.monotonic() - started
        worker_cpu = cpu_seconds(worker.pid)
        watched = (cpu_seconds(watch) - watched_before) if watch else 0
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            metrics = r.read().decode()
    finally:
        worker.terminate()
        worker.wait()
        log.close()
    return seconds, metrics, worker_cpu, watched


def producer(broker, *args, env=None):
    run = subprocess.run([PRODUCER_BIN, "enqueue", "--queue-name", "photos", "--broker",
                          broker.zmq_endpoint, *args], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(run.stdout)


def directory_run(photo, work):
    root = tempfile.mkdtemp(dir=work)
    pending = os.path.join(root, "photos", "pending")
    os.makedirs(pending)
    for i in range(PHOTOS):
        with open(os.path.join(pending, f"p{i:03}.jpg"), "wb") as f:
            f.write(photo)
    broker = start_broker()
    try:
        summary = producer(broker, "--bucket-root", root, "--bucket", "photos")
        assert summary["Enqueued"] == PHOTOS, summary
        seconds, _, worker_cpu, _ = run_worker(broker, ["--bucket-root", root], os.environ,
                                               PHOTOS)
        assert len(os.listdir(os.path.join(root, "photos", "originals"))) == PHOTOS
    finally:
        broker.stop()
        broker.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    return PHOTOS / seconds, worker_cpu / PHOTOS


def s3_env(rgw):
    return dict(os.environ, AWS_ACCESS_KEY_ID=rgw.access_key,
                AWS_SECRET_ACCESS_KEY=rgw.secret_key, AWS_REGION=rgw.region)


def put_all(s3, bucket, keys, data, threads=8):
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=data), keys))


def count(s3, bucket, prefix):
    n, token = 0, None
    while True:
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        n += page.get("KeyCount", 0)
        token = page.get("NextContinuationToken")
        if not token:
            return n


def s3_run(rgw, photo):
    s3 = rgw.client(max_pool_connections=16)
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    put_all(s3, bucket, [f"pending/p{i:03}.jpg" for i in range(PHOTOS)], photo)
    broker = start_broker()
    env = s3_env(rgw)
    store = ["--s3-endpoint", rgw.endpoint, "--s3-path-style"]
    try:
        summary = producer(broker, *store, "--bucket", bucket, env=env)
        assert summary["Enqueued"] == PHOTOS, summary
        seconds, metrics, worker_cpu, rgw_cpu = run_worker(
            broker, store, env, PHOTOS, watch=rgw.processes["radosgw"].pid)
        assert count(s3, bucket, "originals/") == PHOTOS
    finally:
        broker.stop()
        broker.cleanup()
    requests = {}
    for labels, value in metric_samples(metrics, "sluice_s3_requests_total"):
        requests[labels["operation"]] = requests.get(labels["operation"], 0) + value
    for labels, value in metric_samples(metrics, "sluice_s3_request_duration_seconds_sum"):
        print(f"  {labels['operation']}: {1000 * value / requests[labels['operation']]:.1f} ms "
              "a request", file=sys.stderr)
    return (PHOTOS / seconds, {op: n / PHOTOS for op, n in sorted(requests.items())},
            worker_cpu / PHOTOS, rgw_cpu / PHOTOS)


def producer_run(rgw, bucket):
    broker = start_broker()
    try:
        started = time.monotonic()
        summary = producer(broker, "--s3-endpoint", rgw.endpoint, "--s3-path-style", "--bucket",
                           bucket, env=s3_env(rgw))
        seconds = time.monotonic() - started
        assert summary["Enqueued"] == OBJECTS, summary
    finally:
        broker.stop()
        broker.cleanup()
    # The next run starts with no journal, as a first run does.
    s3 = rgw.client()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                             Prefix="queued/.sluice-sent/"):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=o["Key"])
    return OBJECTS / seconds


def spread(values):
    return f"{statistics.median(values):,.2f} [{min(values):,.2f}-{max(values):,.2f}]"


def main():
    work = tempfile.mkdtemp(prefix="sluice-s3-bench-")
    lines = []
    try:
        photo = twelve_megapixels(work)
        with Rgw() as rgw:
            print(f"RGW ready in {rgw.startup_seconds:.1f} s", file=sys.stderr)
            directory, s3, per_job = [], [], None
            dir_cpu, s3_cpu, rgw_cpu = [], [], []
            for round_ in range(REPEAT):
                rate, cpu = directory_run(photo, work)
                directory.append(rate)
                dir_cpu.append(cpu)
                rate, per_job, cpu, rgw_seconds = s3_run(rgw, photo)
                s3.append(rate)
                s3_cpu.append(cpu)
                rgw_cpu.append(rgw_seconds)
                print(f"round {round_ + 1}: directory {directory[-1]:.2f} photos/s, "
                      f"S3 {s3[-1]:.2f} photos/s", file=sys.stderr)
            ratios = [b / a for a, b in zip(directory, s3)]

            client = rgw.client(max_pool_connections=32)
            bucket = f"listing-{uuid.uuid4().hex[:8]}"
            client.create_bucket(Bucket=bucket)
            put_all(client, bucket, [f"pending/u{i // 100:03}/{i:05}.jpg" for i in range(OBJECTS)],
                    b"x" * 1024, threads=16)
            listing = [producer_run(rgw, bucket) for _ in range(REPEAT)]

        lines += [
            f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: "
            f"{os.cpu_count()} cores ({platform_cpu()}); {REPEAT} interleaved runs; median "
            "[min-max].",
            "",
            "| figure | directory | S3 (RGW) | S3/directory |",
            "|---|---|---|---|",
            f"| worker, {PHOTOS} photos of 12 MP, concurrency {CONCURRENCY_NAME} (photos/s) "
            f"| {spread(directory)} "
            f"| {spread(s3)} | {spread(ratios)} |",
            f"| worker CPU per photo (s) | {spread(dir_cpu)} | {spread(s3_cpu)} | |",
            f"| radosgw CPU per photo (s) | | {spread(rgw_cpu)} | |",
            "",
            "S3 requests per job (last S3 run): " +
            ", ".join(f"{op} {n:.2f}" for op, n in per_job.items()),
            "",
            f"Producer, {OBJECTS:,} objects listed and enqueued on RGW (jobs/s): "
            f"{spread(listing)}",
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text)
    out_dir = os.path.join(ROOT, ".run", "bench")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"s3-{time.strftime('%Y%m%d-%H%M%S')}.md"), "w") as f:
        f.write(text)


def platform_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
