"""The broker's SQS query protocol through Debian's unmodified boto3 1.26 /
botocore 1.29 (`"protocol": "query"`): every operation of that model, the
answers boto3 parses (URLs, ARNs, attribute defaults, MD5s computed here from
AWS's algorithm), the error codes that pick boto3's exception classes, FIFO,
dead-letter queues, delays, tags, SigV4 verification and durability across a
`kill -9`. The wire reference is ../shared/sqs-http-api.md.

Run: SLUICE_BROKER_BIN=build/broker/sluice-broker /usr/bin/python3 boto3_test.py -v
"""
import datetime
import hashlib
import json
import os
import struct
import tempfile
import socket
import threading
import time
import types
import unittest
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree
from unittest import mock

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config
from botocore.exceptions import ClientError

from broker_fixture import REGION, Broker, metric_samples, wait_for, write_credentials

# For waits on the broker's timers (visibility, delays): they run out in 1-2 s.
TIMER_SLACK = 5


def sqs_client(endpoint_url, key_id="x", secret="y"):
    """boto3's SQS client as a tutorial makes it, with retries off so that a
    broker's failure shows as it is."""
    return boto3.session.Session().client(
        "sqs", endpoint_url=endpoint_url, region_name=REGION,
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=int(os.environ.get("SQS_READ_TIMEOUT", "40"))))


def md5_hex(data):
    return hashlib.md5(data if isinstance(data, bytes) else data.encode()).hexdigest()


def md5_of_attributes(attributes):
    """MD5OfMessageAttributes (and MD5OfMessageSystemAttributes) as AWS computes
    it: for each attribute sorted by name, length-prefixed (4-byte big-endian)
    name and data type, then 1 and the UTF-8 string value (String, Number and
    their custom .label types) or 2 and the bytes (Binary)."""
    def field(b):
        return struct.pack(">I", len(b)) + b
    out = b""
    for name in sorted(attributes):
        value = attributes[name]
        out += field(name.encode()) + field(value["DataType"].encode())
        if "BinaryValue" in value:
            out += b"\x02" + field(value["BinaryValue"])
        else:
            out += b"\x01" + field(value["StringValue"].encode())
    return hashlib.md5(out).hexdigest()


def error_code(e):
    return e.response["Error"]["Code"]


class BrokerTestCase(unittest.TestCase):
    """One broker per class; each test uses queues named after itself."""
    broker_options = {}

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(**cls.broker_options).start()
        cls.sqs = sqs_client(cls.broker.endpoint_url)

    @classmethod
    def tearDownClass(cls):
        cls.sqs.close()
        code = cls.broker.stop()
        logs = cls.broker.logs()
        cls.broker.cleanup()
        if code != 0:
            raise AssertionError(f"broker exit code {code} after SIGTERM:\n{logs[-4000:]}")

    def name(self, suffix=""):
        base = self._testMethodName.removeprefix("test_").replace("_", "-")
        return (base + ("-" + suffix if suffix else ""))[:75]

    def create(self, suffix="", attributes=None, tags=None, fifo=False):
        name = self.name(suffix) + (".fifo" if fifo else "")
        kwargs = {"QueueName": name}
        attributes = dict(attributes or {})
        if fifo:
            attributes["FifoQueue"] = "true"
        if attributes:
            kwargs["Attributes"] = attributes
        if tags:
            kwargs["tags"] = tags
        url = self.sqs.create_queue(**kwargs)["QueueUrl"]
        self.assertEqual(url, self.broker.queue_url(name))
        return url

    def attributes(self, url, *names):
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"]
                                             )["Attributes"]

    def counts(self, url):
        a = self.attributes(url, "ApproximateNumberOfMessages",
                            "ApproximateNumberOfMessagesNotVisible",
                            "ApproximateNumberOfMessagesDelayed")
        return (int(a["ApproximateNumberOfMessages"]),
                int(a["ApproximateNumberOfMessagesNotVisible"]),
                int(a["ApproximateNumberOfMessagesDelayed"]))

    def receive(self, url, **kwargs):
        return self.sqs.receive_message(QueueUrl=url, **kwargs).get("Messages", [])

    def receive_n(self, url, n, timeout=10, **kwargs):
        """Short polls until n messages arrived (fails on more or on the deadline)."""
        got = []

        def enough():
            got.extend(self.receive(url, MaxNumberOfMessages=10, **kwargs))
            return len(got) >= n
        wait_for(enough, timeout, f"{n} messages from {url}")
        self.assertEqual(len(got), n, [m["Body"] for m in got])
        return got

    def assert_error(self, expected_codes, call, status=400, exception=None, **kwargs):
        """call(**kwargs) must fail with one of expected_codes (a str or a
        tuple); if exception is given and the code is the first one, boto3
        must have raised that class. Returns the ClientError."""
        codes = (expected_codes,) if isinstance(expected_codes, str) else expected_codes
        with self.assertRaises(ClientError) as cm:
            call(**kwargs)
        e = cm.exception
        self.assertIn(error_code(e), codes, e.response)
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], status, e.response)
        self.assertTrue(e.response["Error"].get("Message"), f"an error needs a Message: {e.response}")
        if e.response["Error"].get("Type") is not None:
            self.assertEqual(e.response["Error"]["Type"], "Sender", e.response)
        if exception is not None and error_code(e) == codes[0]:
            self.assertIsInstance(e, exception)
        return e


class QueueTest(BrokerTestCase):
    def test_create_queue_is_idempotent_for_the_same_attributes(self):
        url = self.create(attributes={"VisibilityTimeout": "5"})
        again = self.sqs.create_queue(QueueName=self.name(), Attributes={"VisibilityTimeout": "5"})
        self.assertEqual(again["QueueUrl"], url)
        e = self.assert_error("QueueAlreadyExists", self.sqs.create_queue,
                              exception=self.sqs.exceptions.QueueNameExists,
                              QueueName=self.name(), Attributes={"VisibilityTimeout": "6"})
        self.assertIsInstance(e, self.sqs.exceptions.QueueNameExists)
        # Names are case-sensitive: another case is another queue.
        other = self.sqs.create_queue(QueueName=self.name().upper())["QueueUrl"]
        self.assertNotEqual(other, url)

    def test_create_queue_refuses_invalid_names(self):
        for name in ["has space", "dot.in.name", "x" * 81, "", "star*"]:
            with self.subTest(name=name):
                self.assert_error("InvalidParameterValue", self.sqs.create_queue, QueueName=name)
        # A FIFO queue's name ends in .fifo, and only a FIFO queue's may. Sluice
        # takes the name alone to ask for a FIFO queue, where SQS also wants
        # FifoQueue=true (docs/http-api.md, "Differences from SQS").
        with self.subTest(name=".fifo without FifoQueue"):
            url = self.sqs.create_queue(QueueName=self.name("a") + ".fifo")["QueueUrl"]
            attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue"])
            self.assertEqual(attrs["Attributes"], {"FifoQueue": "true"})
        with self.subTest(name=".fifo with FifoQueue=false"):
            self.assert_error("InvalidParameterValue", self.sqs.create_queue,
                              QueueName=self.name("b") + ".fifo",
                              Attributes={"FifoQueue": "false"})
        with self.subTest(name="FifoQueue=true without .fifo"):
            self.assert_error(("InvalidParameterValue", "InvalidAttributeName"),
                              self.sqs.create_queue, QueueName=self.name("c"),
                              Attributes={"FifoQueue": "true"})

    def test_get_queue_url(self):
        url = self.create()
        self.assertEqual(self.sqs.get_queue_url(QueueName=self.name())["QueueUrl"], url)
        self.assertEqual(self.sqs.get_queue_url(QueueName=self.name(),
                                                QueueOwnerAWSAccountId="000000000000")["QueueUrl"],
                         url)
        e = self.assert_error("AWS.SimpleQueueService.NonExistentQueue", self.sqs.get_queue_url,
                              exception=self.sqs.exceptions.QueueDoesNotExist,
                              QueueName=self.name("missing"))
        self.assertIsInstance(e, self.sqs.exceptions.QueueDoesNotExist)
        self.assertTrue(e.response["ResponseMetadata"].get("RequestId"), e.response)

    def test_unknown_queue_is_queue_does_not_exist_for_every_operation(self):
        url = self.broker.queue_url(self.name("never-created"))
        calls = {
            "SendMessage": lambda: self.sqs.send_message(QueueUrl=url, MessageBody="x"),
            "SendMessageBatch": lambda: self.sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}]),
            "ReceiveMessage": lambda: self.sqs.receive_message(QueueUrl=url),
            "DeleteMessage": lambda: self.sqs.delete_message(QueueUrl=url, ReceiptHandle="h"),
            "GetQueueAttributes": lambda: self.sqs.get_queue_attributes(QueueUrl=url,
                                                                        AttributeNames=["All"]),
            "SetQueueAttributes": lambda: self.sqs.set_queue_attributes(
                QueueUrl=url, Attributes={"DelaySeconds": "1"}),
            "PurgeQueue": lambda: self.sqs.purge_queue(QueueUrl=url),
            "DeleteQueue": lambda: self.sqs.delete_queue(QueueUrl=url),
            "ListQueueTags": lambda: self.sqs.list_queue_tags(QueueUrl=url),
            "TagQueue": lambda: self.sqs.tag_queue(QueueUrl=url, Tags={"a": "b"}),
            "ListDeadLetterSourceQueues": lambda: self.sqs.list_dead_letter_source_queues(
                QueueUrl=url),
        }
        for op, call in calls.items():
            with self.subTest(op=op):
                e = self.assert_error("AWS.SimpleQueueService.NonExistentQueue", call,
                                      exception=self.sqs.exceptions.QueueDoesNotExist)
                self.assertIsInstance(e, self.sqs.exceptions.QueueDoesNotExist)

    def test_queue_url_is_resolved_by_name_whatever_its_host(self):
        self.create()
        foreign = f"https://sqs.us-east-1.amazonaws.com/000000000000/{self.name()}"
        sent = self.sqs.send_message(QueueUrl=foreign, MessageBody="via a foreign host")
        [m] = self.receive_n(self.broker.queue_url(self.name()), 1)
        self.assertEqual(m["MessageId"], sent["MessageId"])

    def test_list_queues_by_prefix_with_pagination(self):
        prefix = self.name()
        urls = {self.create(f"{i}") for i in range(5)}
        outside = self.sqs.create_queue(QueueName="x" + prefix)["QueueUrl"]
        self.assertEqual(set(self.sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]), urls)
        self.assertNotIn("QueueUrls", self.sqs.list_queues(QueueNamePrefix=prefix.upper()))
        self.assertIn(outside, self.sqs.list_queues()["QueueUrls"])

        pages, token = [], None
        while True:
            kwargs = {"QueueNamePrefix": prefix, "MaxResults": 2}
            if token:
                kwargs["NextToken"] = token
            page = self.sqs.list_queues(**kwargs)
            pages.append(page.get("QueueUrls", []))
            self.assertLessEqual(len(pages[-1]), 2)
            token = page.get("NextToken")
            if not token:
                break
            self.assertLess(len(pages), 10, "pagination does not end")
        listed = [u for p in pages for u in p]
        self.assertEqual(sorted(listed), sorted(urls), pages)
        self.assertGreaterEqual(len(pages), 3)

    def test_delete_queue(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        self.sqs.delete_queue(QueueUrl=url)
        self.assert_error("AWS.SimpleQueueService.NonExistentQueue", self.sqs.get_queue_url,
                          exception=self.sqs.exceptions.QueueDoesNotExist, QueueName=self.name())
        self.assert_error("AWS.SimpleQueueService.NonExistentQueue", self.sqs.send_message,
                          exception=self.sqs.exceptions.QueueDoesNotExist,
                          QueueUrl=url, MessageBody="x")
        self.assertNotIn(url, self.sqs.list_queues().get("QueueUrls", []))

    def test_queue_attribute_defaults(self):
        before = int(time.time())
        url = self.create()
        after = int(time.time())
        a = self.attributes(url)
        for name, value in a.items():
            self.assertIsInstance(value, str, name)
        expected = {"VisibilityTimeout": "30", "MessageRetentionPeriod": "345600",
                    "DelaySeconds": "0", "ReceiveMessageWaitTimeSeconds": "0",
                    "ApproximateNumberOfMessages": "0",
                    "ApproximateNumberOfMessagesNotVisible": "0",
                    "ApproximateNumberOfMessagesDelayed": "0",
                    "QueueArn": f"arn:aws:sqs:us-east-1:000000000000:{self.name()}"}
        for name, value in expected.items():
            self.assertEqual(a.get(name), value, name)
        self.assertIn(a.get("MaximumMessageSize"), ("262144", "1048576"))
        for name in ("CreatedTimestamp", "LastModifiedTimestamp"):
            self.assertRegex(a.get(name, ""), r"^\d+$", name)
            self.assertTrue(before - 1 <= int(a[name]) <= after + 1,
                            f"{name}={a[name]} is not epoch seconds near {before}")
        self.assertIn(a.get("FifoQueue", "false"), ("false",))

        some = self.attributes(url, "VisibilityTimeout", "QueueArn")
        self.assertEqual(set(some), {"VisibilityTimeout", "QueueArn"})
        # No names: no attributes (an empty result, no Attributes key).
        self.assertNotIn("Attributes", self.sqs.get_queue_attributes(QueueUrl=url))

    def test_get_queue_attributes_unknown_name(self):
        url = self.create()
        e = self.assert_error("InvalidAttributeName", self.sqs.get_queue_attributes,
                              exception=self.sqs.exceptions.InvalidAttributeName,
                              QueueUrl=url, AttributeNames=["NoSuchAttribute"])
        self.assertIsInstance(e, self.sqs.exceptions.InvalidAttributeName)

    def test_set_queue_attributes(self):
        url = self.create()
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={
            "VisibilityTimeout": "7", "DelaySeconds": "3", "MaximumMessageSize": "2048",
            "MessageRetentionPeriod": "600", "ReceiveMessageWaitTimeSeconds": "2"})
        a = self.attributes(url)
        self.assertEqual((a["VisibilityTimeout"], a["DelaySeconds"], a["MaximumMessageSize"],
                          a["MessageRetentionPeriod"], a["ReceiveMessageWaitTimeSeconds"]),
                         ("7", "3", "2048", "600", "2"))
        for attribute, value in [("VisibilityTimeout", "43201"), ("DelaySeconds", "901"),
                                 ("MaximumMessageSize", "1023"),
                                 ("MessageRetentionPeriod", "59"),
                                 ("ReceiveMessageWaitTimeSeconds", "21"),
                                 ("VisibilityTimeout", "soon")]:
            with self.subTest(attribute=attribute, value=value):
                self.assert_error(("InvalidAttributeValue", "InvalidParameterValue"),
                                  self.sqs.set_queue_attributes,
                                  QueueUrl=url, Attributes={attribute: value})
        self.assertEqual(self.attributes(url, "VisibilityTimeout")["VisibilityTimeout"], "7")
        self.assert_error(("InvalidAttributeName",), self.sqs.set_queue_attributes,
                          QueueUrl=url, Attributes={"NoSuchAttribute": "1"})

    def test_purge_queue_removes_in_flight_messages_too(self):
        url = self.create()
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        wait_for(lambda: self.receive(url, VisibilityTimeout=60), 5, "one message in flight")
        self.assertEqual(self.counts(url), (2, 1, 0))
        self.sqs.purge_queue(QueueUrl=url)
        wait_for(lambda: self.counts(url) == (0, 0, 0), 5, "the purge")
        self.assertEqual(self.receive(url, MaxNumberOfMessages=10), [])

    def test_add_and_remove_permission_are_unsupported(self):
        url = self.create()
        e = self.assert_error("AWS.SimpleQueueService.UnsupportedOperation",
                              self.sqs.add_permission,
                              exception=self.sqs.exceptions.UnsupportedOperation,
                              QueueUrl=url, Label="l", AWSAccountIds=["111122223333"],
                              Actions=["SendMessage"])
        self.assertIsInstance(e, self.sqs.exceptions.UnsupportedOperation)
        self.assert_error("AWS.SimpleQueueService.UnsupportedOperation",
                          self.sqs.remove_permission,
                          exception=self.sqs.exceptions.UnsupportedOperation,
                          QueueUrl=url, Label="l")

    def test_tags(self):
        url = self.create(tags={"team": "photos", "env": "test"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"],
                         {"team": "photos", "env": "test"})
        self.sqs.tag_queue(QueueUrl=url, Tags={"env": "prod", "cost-center": "42"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"],
                         {"team": "photos", "env": "prod", "cost-center": "42"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["team", "cost-center"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"env": "prod"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
        self.assertNotIn("Tags", self.sqs.list_queue_tags(QueueUrl=url))

    def test_http_metrics(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        with self.assertRaises(self.sqs.exceptions.QueueDoesNotExist):
            self.sqs.get_queue_url(QueueName=self.name("missing"))
        self.sqs.get_queue_url(QueueName=self.name())
        text = self.broker.metrics()
        requests = metric_samples(text, "sluice_http_requests_total")
        sends = [(l, v) for l, v in requests if l.get("action") == "SendMessage"]
        self.assertTrue(sends, requests)
        self.assertTrue(all(l.get("protocol") for l, _ in sends), sends)
        lookups = {l.get("code") for l, _ in requests if l.get("action") == "GetQueueUrl"}
        self.assertGreaterEqual(len(lookups), 2, f"success and error not told apart: {requests}")
        self.assertTrue(metric_samples(text, "sluice_http_request_duration_seconds_count"))
        self.assertTrue(metric_samples(text, "sluice_http_connections"))
        self.assertTrue(metric_samples(text, "sluice_http_connections_refused_total"))


NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"


class WireTest(BrokerTestCase):
    """What boto3 relies on without showing it: the XML documents themselves."""

    def post(self, form, path="/"):
        body = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(
            self.broker.endpoint_url + path, data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()

    def test_success_document(self):
        url = self.create()
        status, content_type, body = self.post({"Action": "GetQueueUrl",
                                                "Version": "2012-11-05",
                                                "QueueName": self.name()})
        self.assertEqual(status, 200, body)
        self.assertTrue(content_type.startswith("text/xml"), content_type)
        root = xml.etree.ElementTree.fromstring(body)
        self.assertEqual(root.tag, NS + "GetQueueUrlResponse")
        self.assertEqual(root.find(f"{NS}GetQueueUrlResult/{NS}QueueUrl").text, url)
        self.assertTrue(root.find(f"{NS}ResponseMetadata/{NS}RequestId").text)

    def test_operation_without_output_is_still_a_document(self):
        url = self.create()
        status, _, body = self.post({"Action": "SetQueueAttributes", "Version": "2012-11-05",
                                     "QueueUrl": url, "Attribute.1.Name": "DelaySeconds",
                                     "Attribute.1.Value": "1"})
        self.assertEqual(status, 200, body)
        root = xml.etree.ElementTree.fromstring(body)
        self.assertEqual(root.tag, NS + "SetQueueAttributesResponse")
        self.assertTrue(root.find(f"{NS}ResponseMetadata/{NS}RequestId").text)

    def test_error_document(self):
        status, content_type, body = self.post({"Action": "GetQueueUrl",
                                                "Version": "2012-11-05",
                                                "QueueName": self.name("missing")})
        self.assertEqual(status, 400, body)
        root = xml.etree.ElementTree.fromstring(body)
        self.assertEqual(root.tag, NS + "ErrorResponse")
        error = root.find(NS + "Error")
        self.assertEqual(error.find(NS + "Type").text, "Sender")
        self.assertEqual(error.find(NS + "Code").text, "AWS.SimpleQueueService.NonExistentQueue")
        self.assertTrue(error.find(NS + "Message").text)
        self.assertTrue(root.find(NS + "RequestId").text)

    def test_carriage_return_is_escaped(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="a\r\nb & <c>")
        status, _, body = self.post({"Action": "ReceiveMessage", "Version": "2012-11-05",
                                     "QueueUrl": url})
        self.assertEqual(status, 200, body)
        self.assertIn(b"<Body>a&#xD;\nb &amp; &lt;c&gt;</Body>", body.replace(b"&#13;", b"&#xD;"))

    def test_queue_taken_from_the_path_without_a_queue_url(self):
        """Older SDKs POST to the queue URL and leave QueueUrl out."""
        url = self.create()
        status, _, body = self.post({"Action": "SendMessage", "Version": "2012-11-05",
                                     "MessageBody": "by path"},
                                    path=f"/000000000000/{self.name()}")
        self.assertEqual(status, 200, body)
        [m] = self.receive_n(url, 1)
        self.assertEqual(m["Body"], "by path")

    def test_unknown_action(self):
        status, _, body = self.post({"Action": "NoSuchAction", "Version": "2012-11-05"})
        self.assertEqual(status, 400, body)
        root = xml.etree.ElementTree.fromstring(body)
        self.assertTrue(root.find(f"{NS}Error/{NS}Code").text)


class MessageTest(BrokerTestCase):
    ATTRIBUTES = {
        "s": {"DataType": "String", "StringValue": "héllo <&> \r\n"},
        "n": {"DataType": "Number", "StringValue": "-12.5e3"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff\xfe"},
        "label": {"DataType": "String.label", "StringValue": "custom"},
        "price": {"DataType": "Number.float", "StringValue": "3.14"},
        "gif": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a"},
    }
    BODY = "line one\r\nline two\rthree\n<tag a=\"1\">&amp; ' ]]> \t é ß 日本語 😀 \u2028 "

    def test_send_message_md5s_and_all_attribute_types(self):
        url = self.create()
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        system = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
        sent = self.sqs.send_message(QueueUrl=url, MessageBody=self.BODY,
                                     MessageAttributes=self.ATTRIBUTES,
                                     MessageSystemAttributes=system)
        self.assertRegex(sent["MessageId"], r"^\S+$")
        self.assertEqual(sent["MD5OfMessageBody"], md5_hex(self.BODY))
        self.assertEqual(sent.get("MD5OfMessageAttributes"), md5_of_attributes(self.ATTRIBUTES))
        self.assertEqual(sent.get("MD5OfMessageSystemAttributes"), md5_of_attributes(system))
        self.assertNotIn("SequenceNumber", sent)

        [m] = self.receive_n(url, 1, MessageAttributeNames=["All"], AttributeNames=["All"])
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Body"], self.BODY)
        self.assertEqual(m["MD5OfBody"], md5_hex(self.BODY))
        self.assertEqual(m["MessageAttributes"], self.ATTRIBUTES)
        self.assertEqual(m.get("MD5OfMessageAttributes"), md5_of_attributes(self.ATTRIBUTES))

    def test_send_message_without_attributes_has_no_attribute_md5(self):
        url = self.create()
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="plain")
        self.assertNotIn("MD5OfMessageAttributes", sent)
        self.assertNotIn("MD5OfMessageSystemAttributes", sent)
        [m] = self.receive_n(url, 1, MessageAttributeNames=["All"])
        self.assertNotIn("MessageAttributes", m)
        self.assertNotIn("MD5OfMessageAttributes", m)

    def test_message_attributes_only_when_requested_and_by_name(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=self.ATTRIBUTES)
        [m] = self.receive_n(url, 1, VisibilityTimeout=0)
        self.assertNotIn("MessageAttributes", m)
        [m] = self.receive_n(url, 1, VisibilityTimeout=0, MessageAttributeNames=["n", "gif"])
        wanted = {k: self.ATTRIBUTES[k] for k in ("n", "gif")}
        self.assertEqual(m.get("MessageAttributes"), wanted)
        # As AWS (and the Java SDK's check of it): the digest of what is returned.
        self.assertEqual(m.get("MD5OfMessageAttributes"), md5_of_attributes(wanted))

    def test_body_round_trips_exactly(self):
        url = self.create()
        bodies = [self.BODY, "\r\n", " leading and trailing spaces ", "a+b=c&d=%20",
                  "\U0010FFFF\ue000\ud7ff", "x" * 1000]
        for body in bodies:
            sent = self.sqs.send_message(QueueUrl=url, MessageBody=body)
            self.assertEqual(sent["MD5OfMessageBody"], md5_hex(body), repr(body))
        batch = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "crlf", "MessageBody": self.BODY}])
        self.assertEqual(batch["Successful"][0]["MD5OfMessageBody"], md5_hex(self.BODY))
        received = self.receive_n(url, len(bodies) + 1)
        self.assertEqual(sorted(m["Body"] for m in received), sorted(bodies + [self.BODY]))
        for m in received:
            self.assertEqual(m["MD5OfBody"], md5_hex(m["Body"]), repr(m["Body"]))

    def test_send_message_invalid(self):
        url = self.create(attributes={"MaximumMessageSize": "1024"})
        self.sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
        # 513 characters, 1026 bytes: the limit is in UTF-8 bytes.
        self.assert_error("InvalidParameterValue", self.sqs.send_message,
                          QueueUrl=url, MessageBody="é" * 513)
        self.assert_error(("InvalidMessageContents", "InvalidParameterValue"),
                          self.sqs.send_message, QueueUrl=url, MessageBody="bell \x07")
        self.assert_error("InvalidParameterValue", self.sqs.send_message,
                          QueueUrl=url, MessageBody="x", DelaySeconds=901)
        self.assertEqual(self.counts(url), (1, 0, 0))

    def test_send_message_batch_with_partial_failures(self):
        url = self.create()
        attrs = {"k": {"DataType": "String", "StringValue": "v"}}
        result = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "ok-1", "MessageBody": "first", "MessageAttributes": attrs},
            {"Id": "bad-chars", "MessageBody": "nul \x00 here"},
            {"Id": "bad_delay", "MessageBody": "late", "DelaySeconds": 901},
            {"Id": "ok-2", "MessageBody": "second", "DelaySeconds": 0},
        ])
        ok = {e["Id"]: e for e in result.get("Successful", [])}
        failed = {e["Id"]: e for e in result.get("Failed", [])}
        self.assertEqual(set(ok), {"ok-1", "ok-2"}, result)
        self.assertEqual(set(failed), {"bad-chars", "bad_delay"}, result)
        self.assertEqual(ok["ok-1"]["MD5OfMessageBody"], md5_hex("first"))
        self.assertEqual(ok["ok-1"].get("MD5OfMessageAttributes"), md5_of_attributes(attrs))
        self.assertNotIn("MD5OfMessageAttributes", ok["ok-2"])
        self.assertEqual(ok["ok-2"]["MD5OfMessageBody"], md5_hex("second"))
        self.assertIn(failed["bad-chars"]["Code"], ("InvalidMessageContents",
                                                    "InvalidParameterValue"))
        self.assertEqual(failed["bad_delay"]["Code"], "InvalidParameterValue")
        for f in failed.values():
            self.assertIs(f["SenderFault"], True, f)
            self.assertTrue(f.get("Message"), f)
        received = self.receive_n(url, 2)
        self.assertEqual({m["MessageId"] for m in received},
                         {ok["ok-1"]["MessageId"], ok["ok-2"]["MessageId"]})

    def test_send_message_batch_with_an_entry_too_large(self):
        url = self.create(attributes={"MaximumMessageSize": "1024"})
        entries = [{"Id": "small", "MessageBody": "fits"},
                   {"Id": "large", "MessageBody": "y" * 1100}]
        # AWS fails the one entry (its batch total is capped by the service's
        # message size, not the queue's); a broker that caps the batch's total
        # at the queue's MaximumMessageSize refuses the whole batch instead.
        try:
            result = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        except self.sqs.exceptions.BatchRequestTooLong as e:
            self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
            self.assertEqual(self.counts(url), (0, 0, 0))
            return
        self.assertEqual([e["Id"] for e in result.get("Successful", [])], ["small"], result)
        [f] = result.get("Failed", [])
        self.assertEqual((f["Id"], f["Code"], f["SenderFault"]),
                         ("large", "InvalidParameterValue", True), f)

    def test_batch_request_errors(self):
        url = self.create()
        ops = {
            "SendMessageBatch": (self.sqs.send_message_batch,
                                 lambda i: {"Id": i, "MessageBody": "x"}),
            "DeleteMessageBatch": (self.sqs.delete_message_batch,
                                   lambda i: {"Id": i, "ReceiptHandle": "h"}),
            "ChangeMessageVisibilityBatch": (self.sqs.change_message_visibility_batch,
                                             lambda i: {"Id": i, "ReceiptHandle": "h",
                                                        "VisibilityTimeout": 0}),
        }
        exc = self.sqs.exceptions
        for op, (call, entry) in ops.items():
            cases = [
                ("empty", [], ("AWS.SimpleQueueService.EmptyBatchRequest", "MissingParameter"),
                 exc.EmptyBatchRequest),
                ("eleven", [entry(f"e{i}") for i in range(11)],
                 ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest",),
                 exc.TooManyEntriesInBatchRequest),
                ("duplicate ids", [entry("same"), entry("same")],
                 ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct",),
                 exc.BatchEntryIdsNotDistinct),
                ("invalid id", [entry("not valid!")],
                 ("AWS.SimpleQueueService.InvalidBatchEntryId",), exc.InvalidBatchEntryId),
                ("id too long", [entry("i" * 81)],
                 ("AWS.SimpleQueueService.InvalidBatchEntryId",), exc.InvalidBatchEntryId),
            ]
            for case, entries, codes, exception in cases:
                with self.subTest(op=op, case=case):
                    self.assert_error(codes, call, exception=exception,
                                      QueueUrl=url, Entries=entries)
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_receive_options_and_system_attributes(self):
        url = self.create()
        for i in range(5):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        before_ms = int(time.time() * 1000)
        got = self.receive_n(url, 5, AttributeNames=["All"])
        after_ms = int(time.time() * 1000)
        self.assertEqual(sorted(m["Body"] for m in got), [f"m{i}" for i in range(5)])
        for m in got:
            a = m["Attributes"]
            self.assertEqual(a["ApproximateReceiveCount"], "1")
            self.assertTrue(before_ms - 60_000 <= int(a["SentTimestamp"]) <= after_ms,
                            f"SentTimestamp {a['SentTimestamp']} is not epoch ms")
            self.assertTrue(before_ms - 1000 <= int(a["ApproximateFirstReceiveTimestamp"])
                            <= after_ms + 1000, a)
        self.assertEqual(self.counts(url), (0, 5, 0))

        self.sqs.send_message(QueueUrl=url, MessageBody="one")
        [m] = self.receive_n(url, 1, AttributeNames=["ApproximateReceiveCount"])
        self.assertEqual(m.get("Attributes"), {"ApproximateReceiveCount": "1"})
        self.assertEqual(self.receive(url, MaxNumberOfMessages=10), [])

        for kwargs in [{"MaxNumberOfMessages": 0}, {"MaxNumberOfMessages": 11},
                       {"WaitTimeSeconds": 21}]:
            with self.subTest(**kwargs):
                self.assert_error("InvalidParameterValue", self.sqs.receive_message,
                                  QueueUrl=url, **kwargs)

    def test_max_number_of_messages(self):
        url = self.create()
        self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": f"e{i}", "MessageBody": f"m{i}"} for i in range(10)])
        self.assertEqual(self.counts(url), (10, 0, 0))
        one = self.receive(url)  # default: at most one
        self.assertEqual(len(one), 1)
        three = self.receive(url, MaxNumberOfMessages=3)
        self.assertTrue(1 <= len(three) <= 3, three)

    def test_receive_visibility_timeout_expires_and_counts_again(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        [first] = self.receive_n(url, 1, VisibilityTimeout=1, AttributeNames=["All"])
        self.assertEqual(self.receive(url), [])
        self.assertEqual(self.counts(url), (0, 1, 0))
        [again] = wait_for(lambda: self.receive(url, AttributeNames=["All"]), TIMER_SLACK,
                           "the message after its 1 s visibility timeout")
        self.assertEqual(again["MessageId"], first["MessageId"])
        self.assertNotEqual(again["ReceiptHandle"], first["ReceiptHandle"])
        self.assertEqual(again["Attributes"]["ApproximateReceiveCount"], "2")
        self.assertEqual(again["Attributes"]["ApproximateFirstReceiveTimestamp"],
                         first["Attributes"]["ApproximateFirstReceiveTimestamp"])

    def test_long_poll_returns_as_soon_as_a_message_is_sent(self):
        url = self.create()
        # An empty long poll waits out its time.
        start = time.monotonic()
        self.assertEqual(self.receive(url, WaitTimeSeconds=1), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.9)

        result = {}

        def poll():
            t0 = time.monotonic()
            result["messages"] = sqs_client(self.broker.endpoint_url).receive_message(
                QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
            result["returned_at"] = time.monotonic()
            result["waited"] = result["returned_at"] - t0
        # The gauge is refreshed by the broker's loop, so first let it show
        # that the empty poll above is over, then that this one is parked.
        waiting = "sluice_broker_waiting_receives"
        wait_for(lambda: self.broker.metric(waiting) == 0, 10, f"{waiting} 0")
        thread = threading.Thread(target=poll)
        thread.start()
        try:
            wait_for(lambda: (self.broker.metric(waiting) or 0) >= 1, 10,
                     f"the receive to be parked ({waiting})")
            sent_at = time.monotonic()
            sent = sqs_client(self.broker.endpoint_url).send_message(QueueUrl=url,
                                                                     MessageBody="wake up")
        finally:
            thread.join(30)
        self.assertFalse(thread.is_alive())
        self.assertEqual([m["MessageId"] for m in result["messages"]], [sent["MessageId"]])
        self.assertLess(result["returned_at"] - sent_at, 2.0,
                        "the long poll did not return as soon as the message was sent")

    def test_queue_receive_wait_time_is_the_default_long_poll(self):
        url = self.create(attributes={"ReceiveMessageWaitTimeSeconds": "1"})
        start = time.monotonic()
        self.assertEqual(self.receive(url), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        start = time.monotonic()
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        self.assertLess(time.monotonic() - start, 0.5, "explicit 0 must override the queue's")

    def test_delete_message_and_batch(self):
        url = self.create()
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        a, b, c = self.receive_n(url, 3)
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"])
        result = self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": "b", "ReceiptHandle": b["ReceiptHandle"]},
            {"Id": "c", "ReceiptHandle": c["ReceiptHandle"]},
            {"Id": "bogus", "ReceiptHandle": "not-a-receipt-handle"}])
        self.assertEqual({e["Id"] for e in result.get("Successful", [])}, {"b", "c"}, result)
        [f] = result.get("Failed", [])
        self.assertEqual((f["Id"], f["Code"], f["SenderFault"]),
                         ("bogus", "ReceiptHandleIsInvalid", True), f)
        self.assertTrue(f.get("Message"))
        self.assertEqual(self.counts(url), (0, 0, 0))
        e = self.assert_error("ReceiptHandleIsInvalid", self.sqs.delete_message,
                              exception=self.sqs.exceptions.ReceiptHandleIsInvalid,
                              QueueUrl=url, ReceiptHandle="not-a-receipt-handle")
        self.assertIsInstance(e, self.sqs.exceptions.ReceiptHandleIsInvalid)

    def test_change_message_visibility_and_batch(self):
        url = self.create()
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        a, b, c = self.receive_n(url, 3, VisibilityTimeout=60)
        self.assertEqual(self.counts(url), (0, 3, 0))
        # 0 makes it visible at once.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"],
                                           VisibilityTimeout=0)
        [again] = self.receive(url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        self.assertEqual(again["MessageId"], a["MessageId"])
        result = self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": "b", "ReceiptHandle": b["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "c", "ReceiptHandle": c["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "bogus", "ReceiptHandle": "not-a-receipt-handle", "VisibilityTimeout": 0}])
        self.assertEqual({e["Id"] for e in result.get("Successful", [])}, {"b", "c"}, result)
        [f] = result.get("Failed", [])
        self.assertEqual((f["Id"], f["Code"], f["SenderFault"]),
                         ("bogus", "ReceiptHandleIsInvalid", True), f)
        self.assertEqual({m["MessageId"] for m in self.receive_n(url, 2, VisibilityTimeout=60)},
                         {b["MessageId"], c["MessageId"]})
        e = self.assert_error("ReceiptHandleIsInvalid", self.sqs.change_message_visibility,
                              exception=self.sqs.exceptions.ReceiptHandleIsInvalid,
                              QueueUrl=url, ReceiptHandle="not-a-receipt-handle",
                              VisibilityTimeout=0)
        self.assertIsInstance(e, self.sqs.exceptions.ReceiptHandleIsInvalid)

    def test_stale_receipt_handle_is_refused_and_changes_nothing(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        [first] = self.receive_n(url, 1, VisibilityTimeout=0)
        [second] = self.receive_n(url, 1, VisibilityTimeout=60)
        self.assertEqual(first["MessageId"], second["MessageId"])
        # sqs-semantics.md: Sluice reports a handle that is no longer the latest.
        with self.assertRaises(ClientError) as cm:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        result = self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": "stale", "ReceiptHandle": first["ReceiptHandle"], "VisibilityTimeout": 0}])
        [f] = result.get("Failed", [])
        self.assertIs(f["SenderFault"], True, f)
        self.assertEqual(self.counts(url), (0, 1, 0))
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_visibility_timeout_out_of_range(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        self.assert_error("InvalidParameterValue", self.sqs.receive_message,
                          QueueUrl=url, VisibilityTimeout=43201)
        [m] = self.receive_n(url, 1)
        with self.assertRaises(ClientError) as cm:  # over 12 hours
            self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                               VisibilityTimeout=43201)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_message_size_counts_attributes(self):
        url = self.create(attributes={"MaximumMessageSize": "1024"})
        attrs = {"a": {"DataType": "String", "StringValue": "v" * 30}}  # 1 + 6 + 30 bytes
        self.sqs.send_message(QueueUrl=url, MessageBody="x" * 980, MessageAttributes=attrs)
        self.assert_error("InvalidParameterValue", self.sqs.send_message,
                          QueueUrl=url, MessageBody="x" * 1000, MessageAttributes=attrs)
        self.assertEqual(self.counts(url), (1, 0, 0))

    def test_at_most_ten_message_attributes(self):
        url = self.create()
        ten = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(10)}
        self.sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=ten)
        eleven = dict(ten, a10={"DataType": "String", "StringValue": "v"})
        with self.assertRaises(ClientError) as cm:
            self.sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=eleven)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(self.counts(url), (1, 0, 0))

    def test_extending_visibility_keeps_the_message_hidden(self):
        url = self.create()
        self.sqs.send_message(QueueUrl=url, MessageBody="x")
        [m] = self.receive_n(url, 1, VisibilityTimeout=1)
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                           VisibilityTimeout=60)
        deadline = time.monotonic() + 2  # past the 1 s it was received with
        while time.monotonic() < deadline:
            self.assertEqual(self.receive(url), [])
            time.sleep(0.1)
        self.assertEqual(self.counts(url), (0, 1, 0))


class DelayTest(BrokerTestCase):
    def test_queue_delay_and_per_message_override(self):
        url = self.create(attributes={"DelaySeconds": "1"})
        delayed = self.sqs.send_message(QueueUrl=url, MessageBody="delayed by the queue")
        self.assertEqual(self.counts(url), (0, 0, 1))
        self.assertEqual(self.receive(url), [])
        now = self.sqs.send_message(QueueUrl=url, MessageBody="not delayed", DelaySeconds=0)
        [m] = self.receive_n(url, 1)
        self.assertEqual(m["MessageId"], now["MessageId"])
        [m] = wait_for(lambda: self.receive(url), TIMER_SLACK, "the delayed message")
        self.assertEqual(m["MessageId"], delayed["MessageId"])
        self.assertEqual(self.counts(url), (0, 2, 0))

    def test_per_message_delay(self):
        url = self.create()
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
        self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "d", "MessageBody": "later too", "DelaySeconds": 1}])
        self.assertEqual(self.counts(url), (0, 0, 2))
        self.assertEqual(self.receive(url), [])
        wait_for(lambda: self.counts(url)[0] == 2, TIMER_SLACK, "the delays to run out")
        self.assertIn(sent["MessageId"], {m["MessageId"] for m in self.receive_n(url, 2)})


class FifoTest(BrokerTestCase):
    def test_order_within_a_group_and_sequence_numbers(self):
        url = self.create(fifo=True)
        sequence = []
        for i in range(6):
            sent = self.sqs.send_message(QueueUrl=url, MessageBody=f"m{i}",
                                         MessageGroupId="g", MessageDeduplicationId=f"d{i}")
            self.assertRegex(sent.get("SequenceNumber", ""), r"^\d+$")
            sequence.append(sent["SequenceNumber"])
        numbers = [int(n) for n in sequence]
        self.assertEqual(numbers, sorted(set(numbers)), "sequence numbers must increase")
        got = []
        while len(got) < 6:
            batch = self.receive(url, MaxNumberOfMessages=4, AttributeNames=["All"])
            self.assertTrue(batch, f"group g stalled after {[m['Body'] for m in got]}")
            got += batch
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": f"e{i}", "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(batch)])
        self.assertEqual([m["Body"] for m in got], [f"m{i}" for i in range(6)])
        for m, number, i in zip(got, sequence, range(6)):
            a = m["Attributes"]
            self.assertEqual(a["SequenceNumber"], number)
            self.assertEqual(a["MessageGroupId"], "g")
            self.assertEqual(a["MessageDeduplicationId"], f"d{i}")

    def test_group_is_locked_while_a_message_is_in_flight(self):
        url = self.create(fifo=True)
        for group, i in [("a", 1), ("a", 2), ("b", 1), ("a", 3), ("b", 2)]:
            self.sqs.send_message(QueueUrl=url, MessageBody=f"{group}{i}", MessageGroupId=group,
                                  MessageDeduplicationId=f"{group}{i}")
        [a1] = self.receive(url, MaxNumberOfMessages=1)
        self.assertEqual(a1["Body"], "a1")
        rest = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in rest], ["b1", "b2"], "group a is in flight")
        self.assertEqual(self.receive(url, MaxNumberOfMessages=10), [])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"])
        after = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual([m["Body"] for m in after], ["a2", "a3"])
        # Visible again (not deleted): the group flows from where it stopped.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=after[0]["ReceiptHandle"],
                                           VisibilityTimeout=0)
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=after[1]["ReceiptHandle"],
                                           VisibilityTimeout=0)
        self.assertEqual([m["Body"] for m in self.receive(url, MaxNumberOfMessages=10)],
                         ["a2", "a3"])

    def test_deduplication_by_id(self):
        url = self.create(fifo=True)
        first = self.sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g",
                                      MessageDeduplicationId="same")
        again = self.sqs.send_message(QueueUrl=url, MessageBody="two", MessageGroupId="g",
                                      MessageDeduplicationId="same")
        self.assertEqual(again["MessageId"], first["MessageId"])
        self.assertEqual(self.counts(url), (1, 0, 0))
        [m] = self.receive(url, MaxNumberOfMessages=10)
        self.assertEqual(m["Body"], "one")
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        # Remembered after the delete, for the window.
        self.sqs.send_message(QueueUrl=url, MessageBody="three", MessageGroupId="g",
                              MessageDeduplicationId="same")
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_content_based_deduplication(self):
        url = self.create(fifo=True, attributes={"ContentBasedDeduplication": "true"})
        self.assertEqual(self.attributes(url, "ContentBasedDeduplication", "FifoQueue"),
                         {"ContentBasedDeduplication": "true", "FifoQueue": "true"})
        first = self.sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="g")
        again = self.sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="h")
        other = self.sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="g")
        self.assertEqual(again["MessageId"], first["MessageId"])
        self.assertNotEqual(other["MessageId"], first["MessageId"])
        got = self.receive(url, MaxNumberOfMessages=10, AttributeNames=["All"])
        self.assertEqual([m["Body"] for m in got], ["same body", "other body"])
        self.assertEqual(got[0]["Attributes"]["MessageDeduplicationId"],
                         hashlib.sha256(b"same body").hexdigest())

    def test_fifo_send_errors(self):
        url = self.create(fifo=True)
        self.assert_error(("MissingParameter", "InvalidParameterValue"), self.sqs.send_message,
                          QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
        self.assert_error("InvalidParameterValue", self.sqs.send_message,
                          QueueUrl=url, MessageBody="x", MessageGroupId="g")
        self.assert_error("InvalidParameterValue", self.sqs.send_message,
                          QueueUrl=url, MessageBody="x", MessageGroupId="g",
                          MessageDeduplicationId="d", DelaySeconds=1)
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_receive_request_attempt_id_returns_the_same_messages(self):
        url = self.create(fifo=True)
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId=f"g{i}",
                                  MessageDeduplicationId=f"d{i}")
        first = self.receive(url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
        self.assertEqual(len(first), 2)
        retried = self.receive(url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
        self.assertEqual([m["MessageId"] for m in retried], [m["MessageId"] for m in first])
        other = self.receive(url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt-2")
        self.assertEqual([m["Body"] for m in other], ["m2"])

    def test_fifo_batch_sequence_numbers(self):
        url = self.create(fifo=True)
        result = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": f"e{i}", "MessageBody": f"m{i}", "MessageGroupId": "g",
             "MessageDeduplicationId": f"d{i}"} for i in range(3)])
        numbers = [int(e["SequenceNumber"]) for e in sorted(result["Successful"],
                                                            key=lambda e: e["Id"])]
        self.assertEqual(numbers, sorted(set(numbers)))
        self.assertEqual([m["Body"] for m in self.receive(url, MaxNumberOfMessages=10)],
                         ["m0", "m1", "m2"])


class DeadLetterTest(BrokerTestCase):
    def test_redrive_after_max_receive_count(self):
        dlq = self.create("dlq")
        dlq_arn = self.attributes(dlq, "QueueArn")["QueueArn"]
        self.assertEqual(dlq_arn, self.broker.queue_arn(self.name("dlq")))
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
        source = self.create("source", attributes={"RedrivePolicy": policy})
        stored = json.loads(self.attributes(source, "RedrivePolicy")["RedrivePolicy"])
        self.assertEqual(stored["deadLetterTargetArn"], dlq_arn)
        self.assertEqual(int(stored["maxReceiveCount"]), 2)
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"],
                         [source])

        attrs = {"k": {"DataType": "String", "StringValue": "v"}}
        sent = self.sqs.send_message(QueueUrl=source, MessageBody="poison",
                                     MessageAttributes=attrs)
        counts = []
        for _ in range(2):
            [m] = self.receive_n(source, 1, VisibilityTimeout=0, AttributeNames=["All"])
            self.assertEqual(m["MessageId"], sent["MessageId"])
            counts.append(m["Attributes"]["ApproximateReceiveCount"])
        self.assertEqual(counts, ["1", "2"])
        # The third receive moves it instead of delivering it.
        self.assertEqual(self.receive(source, VisibilityTimeout=0), [])
        [dead] = self.receive_n(dlq, 1, MessageAttributeNames=["All"])
        self.assertEqual(dead["MessageId"], sent["MessageId"])
        self.assertEqual(dead["Body"], "poison")
        self.assertEqual(dead.get("MessageAttributes"), attrs)
        self.assertEqual(self.counts(source), (0, 0, 0))

    def test_redrive_policy_with_a_numeric_count_via_set_queue_attributes(self):
        dlq = self.create("dlq")
        source = self.create("source")
        policy = json.dumps({"deadLetterTargetArn": self.broker.queue_arn(self.name("dlq")),
                             "maxReceiveCount": 1})
        self.sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": policy})
        sent = self.sqs.send_message(QueueUrl=source, MessageBody="x")
        self.receive_n(source, 1, VisibilityTimeout=0)
        self.assertEqual(self.receive(source, VisibilityTimeout=0), [])
        [dead] = self.receive_n(dlq, 1)
        self.assertEqual(dead["MessageId"], sent["MessageId"])
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"],
                         [source])

    def test_redrive_policy_needs_a_dead_letter_queue_of_the_same_type(self):
        self.create("standard-dlq")
        source = self.create("source", fifo=True)
        policy = json.dumps({"deadLetterTargetArn":
                             self.broker.queue_arn(self.name("standard-dlq")),
                             "maxReceiveCount": 3})
        self.assert_error(("InvalidParameterValue", "InvalidAttributeValue"),
                          self.sqs.set_queue_attributes,
                          QueueUrl=source, Attributes={"RedrivePolicy": policy})

    def test_redrive_policy_max_receive_count_range(self):
        self.create("dlq")
        source = self.create("source")
        for count in (0, 1001):
            with self.subTest(maxReceiveCount=count):
                policy = json.dumps({"deadLetterTargetArn":
                                     self.broker.queue_arn(self.name("dlq")),
                                     "maxReceiveCount": count})
                self.assert_error(("InvalidParameterValue", "InvalidAttributeValue"),
                                  self.sqs.set_queue_attributes,
                                  QueueUrl=source, Attributes={"RedrivePolicy": policy})

    def test_redrive_policy_to_a_missing_queue_is_refused(self):
        source = self.create("source")
        policy = json.dumps({"deadLetterTargetArn": self.broker.queue_arn(self.name("nope")),
                             "maxReceiveCount": 3})
        self.assert_error(("InvalidParameterValue", "InvalidAttributeValue",
                           "AWS.SimpleQueueService.NonExistentQueue"),
                          self.sqs.set_queue_attributes,
                          QueueUrl=source, Attributes={"RedrivePolicy": policy})


class RestartTest(unittest.TestCase):
    """State that must outlive the broker process: tags across a clean
    restart, and an acknowledged send across `kill -9` with --fsync always."""

    def setUp(self):
        self.broker = Broker(fsync="always").start()
        self.sqs = sqs_client(self.broker.endpoint_url)

    def tearDown(self):
        self.sqs.close()
        code = self.broker.stop()
        logs = self.broker.logs()
        self.broker.cleanup()
        self.assertEqual(code, 0, logs[-4000:])

    def test_tags_and_attributes_survive_a_restart(self):
        url = self.sqs.create_queue(QueueName="tagged", Attributes={"VisibilityTimeout": "9"},
                                    tags={"a": "1"})["QueueUrl"]
        self.sqs.tag_queue(QueueUrl=url, Tags={"b": "2", "c": "3"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["c"])
        self.broker.restart()
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"a": "1", "b": "2"})
        self.assertEqual(self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"],
            {"VisibilityTimeout": "9"})

    def test_acknowledged_send_survives_kill_9(self):
        dlq = self.sqs.create_queue(QueueName="durable-dlq")["QueueUrl"]
        policy = json.dumps({"deadLetterTargetArn": self.broker.queue_arn("durable-dlq"),
                             "maxReceiveCount": "5"})
        url = self.sqs.create_queue(QueueName="durable", tags={"k": "v"},
                                    Attributes={"RedrivePolicy": policy})["QueueUrl"]
        attrs = {"n": {"DataType": "Number", "StringValue": "7"}}
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="survive\r\n me",
                                     MessageAttributes=attrs)
        self.broker.kill()
        self.broker.start()
        [m] = wait_for(lambda: self.sqs.receive_message(
            QueueUrl=url, MessageAttributeNames=["All"]).get("Messages"), 10,
            "the message after the restart")
        self.assertEqual((m["MessageId"], m["Body"], m["MD5OfBody"]),
                         (sent["MessageId"], "survive\r\n me", sent["MD5OfMessageBody"]))
        self.assertEqual(m.get("MessageAttributes"), attrs)
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"k": "v"})
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"],
                         [url])


class _FrozenClock(datetime.datetime):
    """datetime for botocore's signer, 20 minutes in the past."""
    @classmethod
    def utcnow(cls):
        return datetime.datetime.utcnow() - datetime.timedelta(minutes=20)


class SignatureTest(unittest.TestCase):
    """--credentials: every HTTP call's SigV4 signature is verified."""
    KEY_ID, SECRET = "AKIDTESTER0000000001", "tester/secret+key0000000000000000000000"

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        path = os.path.join(cls.dir.name, "credentials")
        write_credentials(path, {"tester": (cls.KEY_ID, cls.SECRET)})
        cls.broker = Broker(credentials=path).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.broker.stop()
        logs = cls.broker.logs()
        cls.broker.cleanup()
        cls.dir.cleanup()
        if code != 0:
            raise AssertionError(f"broker exit code {code} after SIGTERM:\n{logs[-4000:]}")

    def client(self, key_id=None, secret=None):
        return sqs_client(self.broker.endpoint_url, key_id or self.KEY_ID, secret or self.SECRET)

    def assert_denied(self, call, code):
        with self.assertRaises(ClientError) as cm:
            call()
        self.assertEqual(error_code(cm.exception), code, cm.exception.response)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)

    def signed_request(self, body, key_id=None, secret=None, clock=None):
        """An AWSRequest signed by botocore's own SigV4Auth (optionally at
        another time); returns (url, headers) for urllib."""
        url = self.broker.endpoint_url + "/"
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=url, data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        credentials = botocore.credentials.Credentials(key_id or self.KEY_ID,
                                                       secret or self.SECRET)
        signer = botocore.auth.SigV4Auth(credentials, "sqs", REGION)
        if clock is None:
            signer.add_auth(request)
        else:
            with mock.patch.object(botocore.auth, "datetime",
                                   types.SimpleNamespace(datetime=clock)):
                signer.add_auth(request)
        return url, dict(request.headers.items())

    def post(self, url, headers, body):
        """(HTTP status, error code or None) of a raw POST."""
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, None, r.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            root = xml.etree.ElementTree.fromstring(text)
            code = next((el.text for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Code"),
                        None)
            return e.code, code, text

    def test_correct_signature_passes(self):
        sqs = self.client()
        url = sqs.create_queue(QueueName="signed")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="signed body with + and = and é")
        [m] = sqs.receive_message(QueueUrl=url)["Messages"]
        self.assertEqual(m["Body"], "signed body with + and = and é")

    def test_wrong_secret_is_signature_does_not_match(self):
        self.assert_denied(lambda: self.client(secret="wrong-secret").list_queues(),
                           "SignatureDoesNotMatch")

    def test_unknown_key_is_invalid_client_token_id(self):
        self.assert_denied(lambda: self.client(key_id="AKIDNOBODY").list_queues(),
                           "InvalidClientTokenId")

    def test_raw_request_signed_by_botocore_passes(self):
        body = b"Action=ListQueues&Version=2012-11-05"
        status, code, text = self.post(*self.signed_request(body), body)
        self.assertEqual(status, 200, text)

    def test_expired_date_is_request_expired(self):
        body = b"Action=ListQueues&Version=2012-11-05"
        url, headers = self.signed_request(body, clock=_FrozenClock)
        status, code, text = self.post(url, headers, body)
        self.assertEqual((status, code), (403, "RequestExpired"), text)

    def test_tampered_body_is_signature_does_not_match(self):
        body = b"Action=CreateQueue&Version=2012-11-05&QueueName=innocent"
        url, headers = self.signed_request(body)
        tampered = b"Action=CreateQueue&Version=2012-11-05&QueueName=tampered"
        status, code, text = self.post(url, headers, tampered)
        self.assertEqual((status, code), (403, "SignatureDoesNotMatch"), text)
        self.assertNotIn("QueueUrls", self.client().list_queues(QueueNamePrefix="tampered"))

    def test_unsigned_request_is_refused(self):
        body = b"Action=ListQueues&Version=2012-11-05"
        status, code, text = self.post(
            self.broker.endpoint_url + "/",
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body)
        self.assertEqual((status, code), (403, "MissingAuthenticationToken"), text)


class ConnectionLimitTest(unittest.TestCase):
    """--http-max-connections: beyond it, HTTP 503 and close, counted."""

    def test_connections_beyond_the_cap_get_503(self):
        broker = Broker(extra_args=["--http-max-connections", "2"]).start()
        held = []
        try:
            for _ in range(2):
                held.append(socket.create_connection(("127.0.0.1", broker.http_port), timeout=5))
            wait_for(lambda: broker.metric("sluice_http_connections") == 2, 10,
                     "two open HTTP connections")
            with socket.create_connection(("127.0.0.1", broker.http_port), timeout=5) as extra:
                try:
                    extra.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass
                answer = b""
                try:
                    while chunk := extra.recv(4096):
                        answer += chunk
                except OSError:
                    pass
            self.assertTrue(answer.startswith(b"HTTP/1.1 503") or answer.startswith(b"HTTP/1.0 503"),
                            answer[:200])
            self.assertEqual(broker.metric("sluice_http_connections_refused_total"), 1)
            for s in held:
                s.close()
            held = []
            wait_for(lambda: broker.metric("sluice_http_connections") == 0, 10,
                     "the connections to close")
            # Below the cap again, calls are served.
            answer = sqs_client(broker.endpoint_url).list_queues()
            self.assertEqual(answer["ResponseMetadata"]["HTTPStatusCode"], 200)
        finally:
            for s in held:
                s.close()
            code = broker.stop()
            logs = broker.logs()
            broker.cleanup()
        self.assertEqual(code, 0, logs[-4000:])


if __name__ == "__main__":
    unittest.main()
