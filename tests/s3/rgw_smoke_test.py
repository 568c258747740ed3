"""A quick check of rgw_fixture.py: a real radosgw starts, takes SigV4 requests
path-style and virtual-host-style, refuses a wrong secret, and pushes a
bucket notification for an upload under pending/ (and none for one
elsewhere) to a local HTTP server.

    /usr/bin/python3 tests/s3/rgw_smoke_test.py -v
"""
import json
import os
import subprocess
import sys
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

from rgw_fixture import Rgw, Webhook  # noqa: E402


class RgwSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rgw = Rgw().start()
        print(f"\nRGW ready in {cls.rgw.startup_seconds:.2f} s", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.rgw.stop()

    def setUp(self):
        # boto3's pooled connections outlive its clients.
        warnings.filterwarnings("ignore", category=ResourceWarning)

    def test_put_get_list(self):
        s3 = self.rgw.client()
        s3.create_bucket(Bucket="smoke-basic")
        body = os.urandom(100_000)
        s3.put_object(Bucket="smoke-basic", Key="pending/a b+c%.jpg", Body=body)
        got = s3.get_object(Bucket="smoke-basic", Key="pending/a b+c%.jpg")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentLength"], len(body))
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="smoke-basic")["Contents"]]
        self.assertEqual(keys, ["pending/a b+c%.jpg"])
        with self.assertRaises(botocore.exceptions.ClientError) as missing:
            s3.head_object(Bucket="smoke-basic", Key="pending/nothing.jpg")
        self.assertEqual(missing.exception.response["Error"]["Code"], "404")

    def test_wrong_secret_is_refused(self):
        self.rgw.client().create_bucket(Bucket="smoke-auth")
        s3 = self.rgw.session().client(
            "s3", endpoint_url=self.rgw.endpoint, aws_access_key_id=self.rgw.access_key,
            aws_secret_access_key="not-the-secret",
            config=botocore.config.Config(signature_version="s3v4",
                                          s3={"addressing_style": "path"}))
        with self.assertRaises(botocore.exceptions.ClientError) as refused:
            s3.get_object(Bucket="smoke-auth", Key="anything")
        self.assertEqual(refused.exception.response["Error"]["Code"], "SignatureDoesNotMatch")

    def test_virtual_host_style(self):
        self.rgw.client().create_bucket(Bucket="smoke-vhost")
        s3 = self.rgw.client(addressing_style="virtual")
        s3.put_object(Bucket="smoke-vhost", Key="pending/v.jpg", Body=b"virtual")
        self.assertEqual(self.rgw.client().get_object(Bucket="smoke-vhost",
                                                      Key="pending/v.jpg")["Body"].read(),
                         b"virtual")
        # curl resolves *.localhost to loopback by itself: an unsigned request
        # to http://BUCKET.localhost:PORT/ reaches the bucket (and is denied).
        url = f"http://smoke-vhost.{self.rgw.dns_name}:{self.rgw.port}/pending/v.jpg"
        out = subprocess.run(["curl", "-sS", url], capture_output=True, text=True,
                             timeout=30).stdout
        self.assertIn("<Code>AccessDenied</Code>", out)
        self.assertIn("<BucketName>smoke-vhost</BucketName>", out)

    def test_notification_for_pending_upload(self):
        s3 = self.rgw.client()
        s3.create_bucket(Bucket="smoke-events")
        with Webhook() as hook:
            self.rgw.notify("smoke-events", hook.url("/sluice/s3-events?token=abc"),
                            prefix="pending/")
            s3.put_object(Bucket="smoke-events", Key="elsewhere/skip.jpg", Body=b"no event")
            put = s3.put_object(Bucket="smoke-events", Key="pending/ñandú/東京.jpg",
                                Body=b"an event")
            (push,) = hook.wait_for(1)
            time.sleep(0.3)  # nothing else comes
            self.assertEqual(len(hook.requests), 1, hook.requests)
        self.assertEqual(push["method"], "POST")
        self.assertEqual(push["path"], "/sluice/s3-events?token=abc")
        self.assertEqual(dict(push["headers"])["Content-Type"], "application/json")
        (record,) = json.loads(push["body"])["Records"]
        self.assertEqual(record["eventSource"], "ceph:s3")
        self.assertEqual(record["eventName"], "ObjectCreated:Put")
        self.assertEqual(record["s3"]["bucket"]["name"], "smoke-events")
        self.assertEqual(record["s3"]["object"]["key"], "pending/ñandú/東京.jpg")
        self.assertEqual(record["s3"]["object"]["eTag"], put["ETag"].strip('"'))


if __name__ == "__main__":
    unittest.main()
