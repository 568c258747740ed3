"""The photo pipeline on S3, against a real Ceph RGW: uploads under pending/
become resized outputs, through RGW's own bucket notifications pushed to
the broker and through the producer's listing; a worker killed between the
copy and the delete of a move; and the failures a worker must survive.
"""
import concurrent.futures
import json
import unittest
import urllib.error
import urllib.request

from s3_support import (DEAD_LETTERS, JOB_TIMEOUT, QUEUE, TOKEN, KillingProxy, S3Case,
                        image_size, outputs_of, photo, rgw, s3_env, stop_rgw, wait_for)

# Keys that an encoding mistake anywhere would corrupt: a space, '+', '%',
# and non-ASCII letters.
SPECIAL_KEYS = ["pending/trip/a b+c%.jpg", "pending/ñandú/東京 1.jpg", "pending/100%25+x.jpg"]
# One persistent topic for every test, made again with each test's endpoint:
# RGW 16.2 takes up a new topic's queue only every 30 s, an old one at once.
TOPIC = "sluice-events"


def tearDownModule():
    stop_rgw()


class NotificationPipelineTest(S3Case):
    def test_rgw_notifications_become_resized_outputs(self):
        rgw().notify(self.bucket, self.events_url(), prefix="pending/", persistent=True,
                     topic=TOPIC)
        worker = self.start_worker()
        uploads = {"pending/bridge.jpg": "bridge.jpg", SPECIAL_KEYS[0]: "friends.jpg",
                   SPECIAL_KEYS[1]: "picture-1a.jpg", SPECIAL_KEYS[2]: "umang.jpg"}
        for key, name in uploads.items():
            self.put(key, photo(name))
        self.wait_resized(uploads, "every upload resized through RGW's notifications")

        self.assertEqual(self.keys("pending/"), [])
        for key, name in uploads.items():
            outputs = sorted(outputs_of(key))
            self.assertEqual(self.get(outputs[0]), photo(name), "the original moved intact")
            big, small = image_size(self.get(outputs[1])), image_size(self.get(outputs[2]))
            self.assertEqual(max(big), min(1000, max(image_size(photo(name)))), key)
            self.assertEqual(max(small), 200, key)
        # Exactly one set of outputs each: nothing else was written.
        self.assertEqual(len(self.keys("resized/")), 2 * len(uploads))
        # Each job cost one GET, two PUTs, one COPY and one DELETE.
        jobs = len(uploads)
        self.assertEqual(worker.total("sluice_worker_jobs_total", result="ok"), jobs)
        for operation, per_job in (("GetObject", 1), ("PutObject", 2), ("CopyObject", 1),
                                   ("DeleteObject", 1)):
            self.assertEqual(worker.total("sluice_s3_requests_total", operation=operation),
                             per_job * jobs, operation)
        self.assertEqual(self.queue_counts(), (0, 0))
        records = self.broker.metric('sluice_s3_event_records_total{result="enqueued"}')
        self.assertEqual(records, jobs)

    def test_pushed_event_retried_makes_no_duplicate_job(self):
        # No worker: the jobs stay in the queue to be counted.
        rgw().notify(self.bucket, self.events_url(), prefix="pending/", persistent=True,
                     topic=TOPIC)
        self.put("pending/once.jpg", photo("picture-1a.jpg"))
        wait_for(lambda: self.queue_counts() == (1, 0), JOB_TIMEOUT, "the notification's job")
        # The pusher retries when it got no answer: the same event again, as
        # the broker stored it, twice.
        body = self.sqs.receive_message(QueueUrl=self.broker.queue_url(QUEUE),
                                        VisibilityTimeout=0)["Messages"][0]["Body"]
        for _ in range(2):
            answer = self.post_event(body)
            self.assertEqual(answer, {"Enqueued": 1, "Skipped": 0})
        self.assertEqual(self.queue_counts(), (1, 0))
        # A new upload at the same key, with the same bytes, is a new job.
        self.put("pending/once.jpg", photo("picture-1a.jpg"))
        wait_for(lambda: self.queue_counts() == (2, 0), JOB_TIMEOUT, "the second upload's job")

    def test_events_before_the_queue_exists_are_retried_by_rgw(self):
        rgw().notify(self.bucket, self.events_url("later"), prefix="pending/", persistent=True,
                     topic=TOPIC)
        self.put("pending/late.jpg", photo("picture-1a.jpg"))
        refused = 'sluice_http_requests_total{action="S3Event",code="QueueDoesNotExist",' \
                  'protocol="s3-events"}'
        wait_for(lambda: self.broker.metric(refused), JOB_TIMEOUT, "RGW's push to be refused")
        self.sqs.create_queue(QueueName="later")
        wait_for(lambda: self.queue_counts("later") == (1, 0), JOB_TIMEOUT,
                 "RGW's retry to enqueue the job")

    def post_event(self, body, token=TOKEN, queue=QUEUE):
        request = urllib.request.Request(
            f"{self.broker.endpoint_url}/s3-events/{queue}",
            data=body.encode() if isinstance(body, str) else body, method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read())

    def test_endpoint_refuses_a_wrong_token_and_a_body_that_is_not_an_event(self):
        event = json.dumps({"Records": [{"eventSource": "ceph:s3", "eventName": "ObjectCreated:Put",
                                         "s3": {"bucket": {"name": self.bucket},
                                                "object": {"key": "pending/x.jpg"}}}]})
        with self.assertRaises(urllib.error.HTTPError) as wrong:
            self.post_event(event, token="not-the-token-at-all")
        self.assertEqual(wrong.exception.code, 401)
        with self.assertRaises(urllib.error.HTTPError) as garbage:
            self.post_event("{not json")
        self.assertEqual(garbage.exception.code, 400)
        self.assertEqual(self.queue_counts(), (0, 0))
        # A test event and a record of another kind enqueue nothing.
        self.assertEqual(self.post_event(json.dumps({"Service": "Amazon S3",
                                                     "Event": "s3:TestEvent"})),
                         {"Enqueued": 0, "Skipped": 0})
        removed = json.loads(event)
        removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
        self.assertEqual(self.post_event(json.dumps(removed)), {"Enqueued": 0, "Skipped": 1})
        self.assertEqual(self.queue_counts(), (0, 0))


class ProducerListingTest(S3Case):
    def test_producer_lists_pending_and_enqueues_each_upload_once(self):
        uploads = {SPECIAL_KEYS[0]: "friends.jpg", SPECIAL_KEYS[1]: "picture-1a.jpg",
                   "pending/bridge.jpg": "bridge.jpg"}
        for key, name in uploads.items():
            self.put(key, photo(name))
        self.put("pending/.hidden/skip.jpg", b"not an upload")
        self.put("pending/partial.jpg.part", b"not yet an upload")
        args = ["enqueue", "--queue-name", QUEUE, "--s3-endpoint", rgw().endpoint,
                "--s3-path-style", "--bucket", self.bucket]
        summary, code, err = self.producer(*args)
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["Enqueued"], 3, summary)
        # Run again: the journal in the bucket says all three were sent.
        summary, code, err = self.producer(*args)
        self.assertEqual((code, summary["Enqueued"]), (0, 0), err)
        self.assertEqual(self.queue_counts(), (3, 0))
        self.assertTrue(self.keys("queued/.sluice-sent/"), "the journal is in the bucket")

        self.start_worker()
        self.wait_resized(uploads, "the listed uploads resized")
        self.assertEqual(len(self.keys("resized/")), 6)
        # A new upload at a key that was done is a new job.
        self.put("pending/bridge.jpg", photo("umang.jpg"))
        summary, code, err = self.producer(*args)
        self.assertEqual((code, summary["Enqueued"]), (0, 1), err)
        wait_for(lambda: image_size(self.get("originals/bridge.jpg")) == (3840, 2160),
                 JOB_TIMEOUT, "the new upload done")

    def test_producer_pages_through_a_long_listing(self):
        # ListObjectsV2 answers 1,000 keys a page: 1,234 uploads take two.
        keys = [f"pending/many/{i:05}.jpg" for i in range(1234)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: self.put(k, b"\xff\xd8 not resized here"), keys))
        args = ["enqueue", "--queue-name", QUEUE, "--s3-endpoint", rgw().endpoint,
                "--s3-path-style", "--bucket", self.bucket]
        summary, code, err = self.producer(*args)
        self.assertEqual((code, summary["Enqueued"]), (0, len(keys)), err)
        self.assertEqual(self.queue_counts(), (len(keys), 0))
        summary, code, err = self.producer(*args)
        self.assertEqual((code, summary["Enqueued"]), (0, 0), err)

    def test_virtual_host_addressing(self):
        # http://BUCKET.localhost:PORT/KEY: RGW's DNS name is "localhost", and
        # libcurl resolves *.localhost to loopback itself.
        endpoint = rgw().virtual_host_endpoint
        self.put("pending/virtual host.jpg", photo("picture-1a.jpg"))
        summary, code, err = self.producer("enqueue", "--queue-name", QUEUE, "--s3-endpoint",
                                           endpoint, "--bucket", self.bucket)
        self.assertEqual((code, summary and summary["Enqueued"]), (0, 1), err)
        self.start_worker(endpoint=endpoint, path_style=False)
        self.wait_resized({"pending/virtual host.jpg": None}, "the job done virtual-host style")

    def test_producer_with_a_missing_bucket_or_wrong_secret_fails_clearly(self):
        args = ["enqueue", "--queue-name", QUEUE, "--s3-endpoint", rgw().endpoint,
                "--s3-path-style"]
        _, code, err = self.producer(*args, "--bucket", "no-such-bucket-here")
        self.assertEqual(code, 253, err)
        self.assertIn("NoSuchBucket", err)
        _, code, err = self.producer(*args, "--bucket", self.bucket,
                                     env=s3_env(AWS_SECRET_ACCESS_KEY="wrong"))
        self.assertNotEqual(code, 0)
        self.assertIn("403", err)

    def test_upload_puts_and_enqueues(self):
        import os
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "a b.jpg")
            with open(path, "wb") as f:
                f.write(photo("picture-1a.jpg"))
            summary, code, err = self.producer(
                "upload", path, "--prefix", "alice/", "--queue-name", QUEUE, "--s3-endpoint",
                rgw().endpoint, "--s3-path-style", "--bucket", self.bucket)
        self.assertEqual(code, 0, err)
        self.assertEqual((summary["Uploaded"], summary["Enqueued"]), (1, 1))
        self.assertEqual(self.keys("pending/"), ["pending/alice/a b.jpg"])
        # An enqueue run after it knows the upload was sent.
        summary, code, err = self.producer(
            "enqueue", "--queue-name", QUEUE, "--s3-endpoint", rgw().endpoint, "--s3-path-style",
            "--bucket", self.bucket)
        self.assertEqual((code, summary["Enqueued"]), (0, 0), err)


class WorkerFailureTest(S3Case):
    def send_job(self, key):
        self.sqs.send_message(QueueUrl=self.broker.queue_url(QUEUE),
                              MessageBody=json.dumps({"bucket": self.bucket, "key": key}))

    def dead_letters(self):
        messages = self.sqs.receive_message(
            QueueUrl=self.broker.queue_url(DEAD_LETTERS), MaxNumberOfMessages=10,
            VisibilityTimeout=0, MessageAttributeNames=["All"]).get("Messages", [])
        return messages

    def test_killed_between_copy_and_delete_ends_with_one_set_of_outputs(self):
        proxy = KillingProxy(lambda method, path: method == "DELETE" and "/pending/" in path)
        self.addCleanup(proxy.close)
        proxy.victim = self.start_worker(endpoint=proxy.endpoint)
        uploads = {"pending/kill/bridge.jpg": "bridge.jpg"}
        self.put("pending/kill/bridge.jpg", photo("bridge.jpg"))
        self.send_job("pending/kill/bridge.jpg")
        self.assertTrue(proxy.killed.wait(JOB_TIMEOUT), "the worker reached the delete")
        # Killed after the copy: the original is in both places.
        self.assertIn("pending/kill/bridge.jpg", self.keys())
        self.assertIn("originals/kill/bridge.jpg", self.keys())
        self.start_worker()
        self.wait_resized(uploads, "the job redone by another worker")
        self.assertEqual(self.keys("resized/"), ["resized/kill/bridge-1000.jpg",
                                                 "resized/kill/bridge-200.jpg"])
        self.assertEqual(self.keys("originals/"), ["originals/kill/bridge.jpg"])
        self.assertEqual(self.get("originals/kill/bridge.jpg"), photo("bridge.jpg"))
        wait_for(lambda: self.queue_counts() == (0, 0), JOB_TIMEOUT, "the job deleted")

    def test_wrong_secret_is_retried_and_the_message_kept(self):
        worker = self.start_worker(env=s3_env(AWS_SECRET_ACCESS_KEY="not-the-secret"))
        self.put("pending/secret.jpg", photo("picture-1a.jpg"))
        self.send_job("pending/secret.jpg")
        wait_for(lambda: worker.total("sluice_worker_job_failures_total",
                                      reason="access_denied") >= 1,
                 JOB_TIMEOUT, "the job to fail as access_denied")
        self.assertTrue(worker.alive())
        self.assertIn("SignatureDoesNotMatch", worker.logs())
        # Handed back, not dropped: once the secret is right, it is done.
        self.assertEqual(sum(self.queue_counts()), 1)
        worker.stop()
        self.workers.remove(worker)
        self.start_worker()
        self.wait_resized({"pending/secret.jpg": None}, "the job done with the right secret")

    def test_missing_object_and_object_over_the_cap_are_dead_lettered(self):
        worker = self.start_worker()
        self.send_job("pending/not-there.jpg")
        # 70 MB, over the worker's 64 MiB input cap, uploaded in parts.
        big = b"\xff\xd8\xff\xe0" + bytes(70 * 1000 * 1000)
        rgw().client().upload_fileobj(__import__("io").BytesIO(big), self.bucket,
                                      "pending/huge.jpg")
        self.send_job("pending/huge.jpg")
        # Nothing decodes: the copy to originals/ that the move began while
        # the image was decoded is undone.
        self.put("pending/corrupt.jpg", b"\xff\xd8\xff" + b"not a photo" * 100)
        self.send_job("pending/corrupt.jpg")
        wait_for(lambda: worker.total("sluice_worker_jobs_total", result="dead_lettered") == 3,
                 JOB_TIMEOUT, "the three jobs dead-lettered")
        reasons = sorted(m["MessageAttributes"]["SluiceFailureReason"]["StringValue"]
                         for m in self.dead_letters())
        self.assertEqual(reasons, ["corrupt_image", "no_such_key", "too_large"])
        self.assertEqual(self.keys("originals/"), [])
        self.assertEqual(self.keys("resized/"), [])
        # Refused from its Content-Length, not read.
        self.assertLess(worker.total("sluice_worker_read_bytes_total"), 1 << 20)
        # The worker keeps serving.
        self.put("pending/after.jpg", photo("picture-1a.jpg"))
        self.send_job("pending/after.jpg")
        self.wait_resized({"pending/after.jpg": None}, "a good job after the failures")
        self.assertEqual(self.keys("pending/"), ["pending/corrupt.jpg", "pending/huge.jpg"])


if __name__ == "__main__":
    unittest.main()
