"""The broker's SQS query protocol through Debian's unmodified AWS CLI v2
(`aws` 2.9.19 from the awscli package, its own vendored botocore), as an
operator types it: `aws --endpoint-url ... sqs <command> --output json`.

The CLI is /usr/bin/aws, not the first `aws` on PATH (a pyenv's aws-cli v1
would speak the JSON protocol); SLUICE_AWS_CLI overrides it.
"""
import hashlib
import json
import os
import subprocess
import unittest

from broker_fixture import REGION, Broker

AWS = os.environ.get("SLUICE_AWS_CLI", "/usr/bin/aws")


class AwsCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker().start()
        cls.env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y",
                       AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/dev/null",
                       AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="",
                       AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE"):
            cls.env.pop(name, None)

    @classmethod
    def tearDownClass(cls):
        code = cls.broker.stop()
        logs = cls.broker.logs()
        cls.broker.cleanup()
        if code != 0:
            raise AssertionError(f"broker exit code {code} after SIGTERM:\n{logs[-4000:]}")

    def aws(self, *args, check=True):
        """Runs `aws sqs ARGS`: (exit code, parsed JSON output or None, stderr)."""
        argv = [AWS, "--endpoint-url", self.broker.endpoint_url, "--output", "json", "sqs",
                *args]
        r = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        output = json.loads(r.stdout) if r.stdout.strip() else None
        return r.returncode, output, r.stderr

    def test_cli_version_speaks_query(self):
        r = subprocess.run([AWS, "--version"], env=self.env, capture_output=True, text=True)
        self.assertTrue(r.stdout.startswith("aws-cli/2."), r.stdout + r.stderr)

    def test_queue_life_cycle(self):
        _, created, _ = self.aws("create-queue", "--queue-name", "cli-jobs",
                                 "--attributes", "VisibilityTimeout=5,DelaySeconds=0",
                                 "--tags", "team=photos")
        url = created["QueueUrl"]
        self.assertEqual(url, self.broker.queue_url("cli-jobs"))
        _, again, _ = self.aws("create-queue", "--queue-name", "cli-jobs",
                               "--attributes", "VisibilityTimeout=5,DelaySeconds=0")
        self.assertEqual(again["QueueUrl"], url)
        _, found, _ = self.aws("get-queue-url", "--queue-name", "cli-jobs")
        self.assertEqual(found["QueueUrl"], url)

        self.aws("create-queue", "--queue-name", "other")
        _, listed, _ = self.aws("list-queues", "--queue-name-prefix", "cli-")
        self.assertEqual(listed["QueueUrls"], [url])

        _, attributes, _ = self.aws("get-queue-attributes", "--queue-url", url,
                                    "--attribute-names", "All")
        a = attributes["Attributes"]
        self.assertEqual(a["VisibilityTimeout"], "5")
        self.assertEqual(a["QueueArn"], "arn:aws:sqs:us-east-1:000000000000:cli-jobs")
        self.assertEqual(a["ApproximateNumberOfMessages"], "0")

        body = "Hello from the CLI: <&> é 日本 😀"
        _, sent, _ = self.aws("send-message", "--queue-url", url, "--message-body", body,
                              "--message-attributes",
                              json.dumps({"kind": {"DataType": "String", "StringValue": "test"},
                                          "n": {"DataType": "Number", "StringValue": "42"}}))
        self.assertEqual(sent["MD5OfMessageBody"], hashlib.md5(body.encode()).hexdigest())
        self.assertIn("MD5OfMessageAttributes", sent)
        _, attributes, _ = self.aws("get-queue-attributes", "--queue-url", url,
                                    "--attribute-names", "ApproximateNumberOfMessages")
        self.assertEqual(attributes["Attributes"], {"ApproximateNumberOfMessages": "1"})

        _, received, _ = self.aws("receive-message", "--queue-url", url,
                                  "--attribute-names", "All", "--message-attribute-names", "All",
                                  "--max-number-of-messages", "10", "--wait-time-seconds", "5")
        [m] = received["Messages"]
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Body"], body)
        self.assertEqual(m["MD5OfBody"], sent["MD5OfMessageBody"])
        self.assertEqual(m["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"])
        self.assertEqual(m["MessageAttributes"]["n"], {"DataType": "Number", "StringValue": "42"})
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")

        code, out, _ = self.aws("delete-message", "--queue-url", url,
                                "--receipt-handle", m["ReceiptHandle"])
        self.assertIsNone(out)  # no output for an operation without one
        _, received, _ = self.aws("receive-message", "--queue-url", url)
        self.assertIsNone(received)  # an empty receive prints nothing
        _, attributes, _ = self.aws("get-queue-attributes", "--queue-url", url,
                                    "--attribute-names", "ApproximateNumberOfMessages",
                                    "ApproximateNumberOfMessagesNotVisible")
        self.assertEqual(attributes["Attributes"], {"ApproximateNumberOfMessages": "0",
                                                    "ApproximateNumberOfMessagesNotVisible": "0"})

        self.aws("tag-queue", "--queue-url", url, "--tags", "env=test,cost=7")
        _, tags, _ = self.aws("list-queue-tags", "--queue-url", url)
        self.assertEqual(tags["Tags"], {"team": "photos", "env": "test", "cost": "7"})
        self.aws("untag-queue", "--queue-url", url, "--tag-keys", "cost")
        _, tags, _ = self.aws("list-queue-tags", "--queue-url", url)
        self.assertEqual(tags["Tags"], {"team": "photos", "env": "test"})

        self.aws("send-message", "--queue-url", url, "--message-body", "to purge")
        self.aws("purge-queue", "--queue-url", url)
        _, received, _ = self.aws("receive-message", "--queue-url", url)
        self.assertIsNone(received)

        self.aws("delete-queue", "--queue-url", url)
        _, listed, _ = self.aws("list-queues", "--queue-name-prefix", "cli-")
        self.assertNotIn("QueueUrls", listed or {})

    def test_dead_letter_source_queues(self):
        _, dlq, _ = self.aws("create-queue", "--queue-name", "redrive-dlq")
        _, arn, _ = self.aws("get-queue-attributes", "--queue-url", dlq["QueueUrl"],
                             "--attribute-names", "QueueArn")
        policy = json.dumps({"deadLetterTargetArn": arn["Attributes"]["QueueArn"],
                             "maxReceiveCount": "3"})
        _, source, _ = self.aws("create-queue", "--queue-name", "redrive-source", "--attributes",
                                json.dumps({"RedrivePolicy": policy}))
        _, sources, _ = self.aws("list-dead-letter-source-queues",
                                 "--queue-url", dlq["QueueUrl"])
        self.assertEqual(sources["queueUrls"], [source["QueueUrl"]])

    def test_unknown_queue_is_an_error_with_its_code(self):
        code, out, stderr = self.aws("get-queue-url", "--queue-name", "no-such-queue",
                                     check=False)
        # CLI v2: 254 for an error the service answered (v1: 255).
        self.assertIn(code, (254, 255), stderr)
        self.assertIsNone(out)
        self.assertIn("An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling "
                      "the GetQueueUrl operation", stderr)
        code, _, stderr = self.aws("send-message", "--queue-url",
                                   self.broker.queue_url("no-such-queue"), "--message-body", "x",
                                   check=False)
        self.assertIn(code, (254, 255), stderr)
        self.assertIn("(AWS.SimpleQueueService.NonExistentQueue) when calling the SendMessage "
                      "operation", stderr)


if __name__ == "__main__":
    unittest.main()
