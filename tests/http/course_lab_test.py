"""The course lab: an SQS tutorial's boto3 producer and consumer, unchanged but
for endpoint_url, against Sluice; then the photo pipeline, where the boto3
producer sends S3 event notifications (as S3 itself would send them to SQS)
over HTTP, and sluice-worker, a ZeroMQ client of the same broker, resizes the
photos they name. Both protocols see one queue.

Bucket layout (docs/worker.md): bucket NAME is the directory
BUCKET_ROOT/NAME; an upload pending/<p>/<n>.<ext> gives
resized/<p>/<n>-1000.<ext> and resized/<p>/<n>-200.<ext>, and the original
moves to originals/<p>/<n>.<ext>.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
import urllib.request

import boto3

from broker_fixture import REGION, SHARED_DIR, WORKER_BIN, Broker, free_port, wait_for

PHOTOS = ["bridge.jpg", "friends.jpg", "picture-1a.jpg"]  # landscape, portrait, small
BUCKET = "photos"
# Generous for a loaded machine: three photos take a few seconds.
JOBS_TIMEOUT = 120


def jpeg_size(path):
    """(width, height) from a JPEG's start-of-frame marker."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\xff\xd8":
        raise AssertionError(f"{path} is not a JPEG")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise AssertionError(f"{path}: no marker at {i}")
        while data[i] == 0xFF:
            i += 1
        marker = data[i]
        i += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue  # markers without a length
        (length,) = struct.unpack(">H", data[i:i + 2])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 3:i + 7])
            return width, height
        i += length
    raise AssertionError(f"{path}: no start-of-frame marker")


def identify_size(path):
    out = subprocess.run(["identify", "-format", "%w %h", path], check=True,
                         capture_output=True, text=True).stdout
    width, height = out.split()
    return int(width), int(height)


def s3_event(bucket, key, size):
    """An S3 ObjectCreated:Put notification, as S3 sends it to SQS (the key
    URL-encoded, a space as +)."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2024-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "photo-uploads",
               "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size}}}]}


class CourseLabTest(unittest.TestCase):
    def setUp(self):
        self.broker = Broker().start()
        # As the tutorial makes its client, pointed at Sluice.
        self.sqs = boto3.client("sqs", endpoint_url=self.broker.endpoint_url,
                                region_name="us-east-1", aws_access_key_id="x",
                                aws_secret_access_key="y")
        self.dir = tempfile.mkdtemp(prefix="sluice-course-lab-")
        self.worker = None

    def tearDown(self):
        if self.worker is not None:
            if self.worker.poll() is None:
                self.worker.kill()
                self.worker.wait()
            self.worker_log_file.close()
        self.sqs.close()
        code = self.broker.stop()
        logs = self.broker.logs()
        self.broker.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertEqual(code, 0, logs[-4000:])

    def queue_counts(self, url):
        a = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                          "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def test_tutorial_producer_and_consumer(self):
        queue_url = self.sqs.create_queue(QueueName="tutorial-queue",
                                          Attributes={"ReceiveMessageWaitTimeSeconds": "5"}
                                          )["QueueUrl"]
        consumed, done = [], threading.Event()

        def consumer():
            sqs = boto3.client("sqs", endpoint_url=self.broker.endpoint_url,
                               region_name="us-east-1", aws_access_key_id="x",
                               aws_secret_access_key="y")
            while not done.is_set():
                response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                               MessageAttributeNames=["All"])
                for message in response.get("Messages", []):
                    consumed.append((message["Body"],
                                     message["MessageAttributes"]["Author"]["StringValue"]))
                    sqs.delete_message(QueueUrl=queue_url,
                                       ReceiptHandle=message["ReceiptHandle"])
            sqs.close()
        thread = threading.Thread(target=consumer)
        thread.start()
        try:
            for i in range(5):
                response = self.sqs.send_message(
                    QueueUrl=queue_url, MessageBody=f"Information about pick {i}",
                    MessageAttributes={"Author": {"DataType": "String",
                                                  "StringValue": "John Grisham"}})
                self.assertIn("MessageId", response)
            wait_for(lambda: len(consumed) >= 5, 30, "the consumer to take all five")
        finally:
            done.set()
            thread.join(30)
        self.assertEqual(sorted(consumed),
                         [(f"Information about pick {i}", "John Grisham") for i in range(5)])
        self.assertEqual(self.queue_counts(queue_url), (0, 0))

    def start_worker(self, bucket_root, queue_name):
        metrics_port = free_port()
        log = self.worker_log_file = open(os.path.join(self.dir, "worker.log"), "w")
        self.worker = subprocess.Popen(
            [WORKER_BIN, "--broker", self.broker.zmq_endpoint, "--queue-name", queue_name,
             "--bucket-root", bucket_root, "--concurrency", "2", "--visibility-timeout", "60",
             "--grace-period", "10", "--metrics-listen", f"127.0.0.1:{metrics_port}"],
            stdout=log, stderr=subprocess.STDOUT)
        self.worker_log = log.name

        def metrics():
            if self.worker.poll() is not None:
                raise AssertionError(f"sluice-worker exited with {self.worker.returncode}:\n"
                                     + self.worker_logs())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics",
                                            timeout=2) as r:
                    return r.read().decode()
            except OSError:
                return ""
        wait_for(lambda: "sluice_worker_concurrency" in metrics(), 30, "the worker's metrics")
        return metrics

    def worker_logs(self):
        with open(self.worker_log) as f:
            return f.read()

    def test_photo_pipeline_boto3_producer_and_sluice_worker(self):
        bucket_root = os.path.join(self.dir, "buckets")
        pending = os.path.join(bucket_root, BUCKET, "pending", "lab 1")
        os.makedirs(pending)

        # The producer: a dead-letter queue, the jobs queue, and one S3 event per upload.
        dlq_url = self.sqs.create_queue(QueueName="photo-jobs-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"]
                                                )["Attributes"]["QueueArn"]
        queue_url = self.sqs.create_queue(QueueName="photo-jobs", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": "5"})})["QueueUrl"]
        for name in PHOTOS:
            source = os.path.join(SHARED_DIR, "photos", name)
            shutil.copyfile(source, os.path.join(pending, name))
            event = s3_event(BUCKET, f"pending/lab 1/{name}", os.path.getsize(source))
            response = self.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
            self.assertIn("MessageId", response)
        self.assertEqual(self.queue_counts(queue_url), (len(PHOTOS), 0))

        # The consumer: sluice-worker over ZeroMQ.
        metrics = self.start_worker(bucket_root, "photo-jobs")
        ok = 'sluice_worker_jobs_total{result="ok"} '
        try:
            wait_for(lambda: f'{ok}{len(PHOTOS)}' in metrics(), JOBS_TIMEOUT,
                     f"{len(PHOTOS)} jobs done")
        except AssertionError as e:
            raise AssertionError(f"{e}\nworker:\n{self.worker_logs()[-4000:]}") from None
        self.worker.send_signal(signal.SIGTERM)
        self.assertEqual(self.worker.wait(timeout=30), 0, self.worker_logs()[-4000:])

        resized = os.path.join(bucket_root, BUCKET, "resized", "lab 1")
        for name in PHOTOS:
            stem, ext = os.path.splitext(name)
            source_w, source_h = jpeg_size(os.path.join(SHARED_DIR, "photos", name))
            for box in (1000, 200):
                path = os.path.join(resized, f"{stem}-{box}{ext}")
                with self.subTest(output=path):
                    self.assertTrue(os.path.isfile(path))
                    width, height = jpeg_size(path)
                    self.assertEqual((width, height), identify_size(path))
                    self.assertLessEqual(max(width, height), box)
                    self.assertEqual(max(width, height), box, "the sources are all larger")
                    self.assertEqual(width >= height, source_w >= source_h, "turned")
                    expected_short = min(source_w, source_h) * box / max(source_w, source_h)
                    self.assertLessEqual(abs(min(width, height) - expected_short), 1.0)
            self.assertTrue(os.path.isfile(os.path.join(bucket_root, BUCKET, "originals",
                                                        "lab 1", name)))
            self.assertFalse(os.path.exists(os.path.join(pending, name)))
        self.assertEqual(sorted(os.listdir(resized)),
                         sorted(f"{os.path.splitext(n)[0]}-{b}.jpg"
                                for n in PHOTOS for b in (1000, 200)))

        # Nothing left behind, as boto3 sees the queue.
        self.assertEqual(self.queue_counts(queue_url), (0, 0))
        self.assertEqual(self.queue_counts(dlq_url), (0, 0))


if __name__ == "__main__":
    unittest.main()
