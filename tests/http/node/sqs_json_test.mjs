// The AWS SDK for JavaScript v3 against a real sluice-broker over SQS's JSON
// 1.0 protocol (X-Amz-Target, x-amzn-query-mode: true). Every operation the
// SDK offers and Sluice serves, the error classes an application catches by
// `instanceof`, the MD5s the SDK and its users check, KEDA's depth query, and
// SigV4 verification with --credentials.
//
// Run: node --test sqs_json_test.mjs   (SLUICE_BROKER_BIN names the binary)

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import {
  BatchEntryIdsNotDistinct,
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidAttributeName,
  InvalidAttributeValue,
  InvalidBatchEntryId,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  SQSServiceException,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
  TooManyEntriesInBatchRequest,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";

import { Broker, waitFor } from "./broker.mjs";

const ACCOUNT = "000000000000";
const REGION = "us-east-1";
// Unique per run, so a name never collides with one from another test.
const RUN = randomBytes(3).toString("hex");
let seq = 0;
const qname = (stem) => `${stem}-${RUN}-${++seq}`;

const md5 = (data) => createHash("md5").update(data).digest("hex");

/**
 * MD5OfMessageAttributes as SQS defines it: attributes sorted by name; each
 * contributes len(name) name len(type) type, then 1 len(v) v for String and
 * Number types or 2 len(v) v for Binary; lengths are 4-byte big-endian.
 */
function md5OfAttributes(attrs) {
  const parts = [];
  const lenPrefixed = (buf) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(buf.length);
    parts.push(len, buf);
  };
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name];
    lenPrefixed(Buffer.from(name, "utf8"));
    lenPrefixed(Buffer.from(a.DataType, "utf8"));
    if (a.DataType.startsWith("Binary")) {
      parts.push(Buffer.from([2]));
      lenPrefixed(Buffer.from(a.BinaryValue));
    } else {
      parts.push(Buffer.from([1]));
      lenPrefixed(Buffer.from(a.StringValue, "utf8"));
    }
  }
  return md5(Buffer.concat(parts));
}

function makeClient(endpoint, credentials = { accessKeyId: "x", secretAccessKey: "y" }) {
  // One attempt: a retried request would hide what the broker answered first.
  return new SQSClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
}

/** The error a promise rejects with; fails if it resolves. */
async function rejection(promise) {
  try {
    const out = await promise;
    assert.fail(`expected an error, got ${JSON.stringify(out)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return e;
  }
}

describe("SQS JSON protocol through @aws-sdk/client-sqs", () => {
  const broker = new Broker();
  let sqs;
  let base;

  const create = async (name, Attributes, tags) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes, tags }))).QueueUrl;
  const attrs = async (QueueUrl, AttributeNames = ["All"]) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames }))).Attributes ?? {};
  const arnOf = async (QueueUrl) => (await attrs(QueueUrl, ["QueueArn"])).QueueArn;
  const send = (QueueUrl, MessageBody, extra = {}) =>
    sqs.send(new SendMessageCommand({ QueueUrl, MessageBody, ...extra }));
  const receive = async (QueueUrl, extra = {}) =>
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0, ...extra }))).Messages ?? [];
  /** Receives until `n` messages came (or the deadline), deleting none. */
  const receiveN = async (QueueUrl, n, extra = {}) => {
    const got = [];
    await waitFor(
      async () => {
        got.push(...(await receive(QueueUrl, { MaxNumberOfMessages: Math.min(10, n - got.length), ...extra })));
        return got.length >= n;
      },
      { timeoutMs: 10_000, what: `${n} messages from ${QueueUrl}` },
    );
    return got;
  };

  before(async () => {
    await broker.start();
    sqs = makeClient(broker.endpoint);
    base = `http://127.0.0.1:${broker.httpPort}/${ACCOUNT}`;
  });

  after(async () => {
    sqs?.destroy();
    const code = await broker.stop();
    assert.equal(code, 0, `broker exit status after SIGTERM (signal ${broker.exitSignal})\n${broker.output}`);
  });

  test("CreateQueue with tags and attributes; idempotent; GetQueueUrl; QueueNameExists", async () => {
    const name = qname("create");
    const url = await create(name, { VisibilityTimeout: "7" }, { team: "core", "cost-centre": "42" });
    assert.equal(url, `${base}/${name}`);
    // The same name and attributes: the same URL, no error.
    assert.equal(await create(name, { VisibilityTimeout: "7" }), url);
    const got = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    assert.equal(got.QueueUrl, url);
    assert.ok(got.$metadata.requestId, "x-amzn-RequestId gives the SDK a request id");
    const { Tags } = await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }));
    assert.deepEqual(Tags, { team: "core", "cost-centre": "42" });
    assert.equal((await attrs(url, ["VisibilityTimeout"])).VisibilityTimeout, "7");

    const err = await rejection(create(name, { VisibilityTimeout: "8" }));
    assert.ok(err instanceof QueueNameExists, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 400);
    // Names are case-sensitive: another case is another queue.
    const upper = name.toUpperCase();
    assert.equal(await create(upper), `${base}/${upper}`);
  });

  test("ListQueues: exact prefix matches, and pagination with MaxResults/NextToken", async () => {
    const prefix = `list-${RUN}-`;
    const names = [0, 1, 2, 3, 4].map((i) => `${prefix}${i}`);
    for (const n of names) await create(n);
    await create(`lis-${RUN}-other`);
    await create(`x${prefix}0`);
    const want = names.map((n) => `${base}/${n}`).sort();

    const all = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
    assert.deepEqual([...all.QueueUrls].sort(), want);

    const seen = [];
    let NextToken;
    let pages = 0;
    do {
      const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2, NextToken }));
      assert.ok((page.QueueUrls ?? []).length <= 2, `page of ${page.QueueUrls?.length}`);
      seen.push(...(page.QueueUrls ?? []));
      NextToken = page.NextToken;
      assert.ok(++pages <= 5, "pagination does not end");
    } while (NextToken);
    assert.equal(new Set(seen).size, seen.length, `a URL repeated across pages: ${seen}`);
    assert.deepEqual(seen.sort(), want);
    assert.ok(pages >= 3, `5 queues in pages of 2 took ${pages} pages`);
  });

  test("GetQueueAttributes defaults, SetQueueAttributes, InvalidAttributeName/Value", async () => {
    const name = qname("attrs");
    const url = await create(name);
    const before = Math.floor(Date.now() / 1000);
    const a = await attrs(url);
    assert.equal(a.VisibilityTimeout, "30");
    assert.equal(a.MessageRetentionPeriod, "345600");
    assert.equal(a.DelaySeconds, "0");
    assert.equal(a.ReceiveMessageWaitTimeSeconds, "0");
    assert.ok(["262144", "1048576"].includes(a.MaximumMessageSize), a.MaximumMessageSize);
    assert.equal(a.ApproximateNumberOfMessages, "0");
    assert.equal(a.ApproximateNumberOfMessagesNotVisible, "0");
    assert.equal(a.ApproximateNumberOfMessagesDelayed, "0");
    assert.equal(a.QueueArn, `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`);
    assert.ok(a.FifoQueue === undefined || a.FifoQueue === "false", a.FifoQueue);
    for (const k of ["CreatedTimestamp", "LastModifiedTimestamp"]) {
      assert.match(a[k], /^\d+$/, k);
      assert.ok(Math.abs(Number(a[k]) - before) < 60, `${k}=${a[k]} is not epoch seconds near ${before}`);
    }
    // Without names, no attributes.
    const none = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url }));
    assert.deepEqual(none.Attributes ?? {}, {});

    await sqs.send(new SetQueueAttributesCommand({
      QueueUrl: url,
      Attributes: { VisibilityTimeout: "45", MaximumMessageSize: "2048", DelaySeconds: "3" },
    }));
    const b = await attrs(url, ["VisibilityTimeout", "MaximumMessageSize", "DelaySeconds"]);
    assert.deepEqual(b, { VisibilityTimeout: "45", MaximumMessageSize: "2048", DelaySeconds: "3" });

    const badName = await rejection(attrs(url, ["NoSuchAttribute"]));
    assert.ok(badName instanceof InvalidAttributeName, `${badName.name}: ${badName.message}`);
    const badValue = await rejection(
      sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: "43201" } })),
    );
    assert.ok(
      badValue instanceof InvalidAttributeValue || badValue.name === "InvalidParameterValue",
      `${badValue.name}: ${badValue.message}`,
    );
    assert.equal(badValue.$metadata.httpStatusCode, 400);
    assert.equal((await attrs(url, ["VisibilityTimeout"])).VisibilityTimeout, "45");
  });

  test("SendMessage with every attribute type; MD5s checked; ReceiveMessage MessageAttributeNames", async () => {
    const url = await create(qname("mattrs"));
    const messageAttributes = {
      str: { DataType: "String", StringValue: "hello wörld" },
      num: { DataType: "Number", StringValue: "-12.5e3" },
      bin: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 2, 0xfe, 0xff]) },
      "custom.str": { DataType: "String.json", StringValue: '{"a":1}' },
      numint: { DataType: "Number.int", StringValue: "42" },
      picture: { DataType: "Binary.gif", BinaryValue: new Uint8Array([0x47, 0x49, 0x46]) },
    };
    const body = "attributes of every type";
    const sent = await send(url, body, { MessageAttributes: messageAttributes });
    assert.equal(sent.MD5OfMessageBody, md5(body));
    assert.equal(sent.MD5OfMessageAttributes, md5OfAttributes(messageAttributes));
    assert.equal(sent.SequenceNumber, undefined);
    assert.match(sent.MessageId, /^[0-9a-f-]{36}$/i);

    // No MessageAttributeNames: no attributes (but the digest may be given).
    let [m] = await receiveN(url, 1, { VisibilityTimeout: 0 });
    assert.equal(m.MessageId, sent.MessageId);
    assert.equal(m.MessageAttributes, undefined);

    // Only the names asked for.
    await waitFor(async () => {
      [m] = await receive(url, { MessageAttributeNames: ["str", "bin"], VisibilityTimeout: 0 });
      return m;
    }, { what: "the message again" });
    assert.deepEqual(Object.keys(m.MessageAttributes ?? {}).sort(), ["bin", "str"]);

    // All of them, each value as sent.
    await waitFor(async () => {
      [m] = await receive(url, { MessageAttributeNames: ["All"] });
      return m;
    }, { what: "the message again" });
    assert.equal(m.Body, body);
    assert.equal(m.MD5OfBody, md5(body));
    assert.equal(m.MD5OfMessageAttributes, md5OfAttributes(messageAttributes));
    assert.deepEqual(Object.keys(m.MessageAttributes).sort(), Object.keys(messageAttributes).sort());
    for (const [name, want] of Object.entries(messageAttributes)) {
      const got = m.MessageAttributes[name];
      assert.equal(got.DataType, want.DataType, name);
      if (want.BinaryValue) {
        assert.ok(Buffer.from(got.BinaryValue).equals(Buffer.from(want.BinaryValue)), `${name}: ${got.BinaryValue}`);
        assert.equal(got.StringValue, undefined, name);
      } else {
        assert.equal(got.StringValue, want.StringValue, name);
        assert.equal(got.BinaryValue, undefined, name);
      }
    }
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
  });

  test('a body with "\\r\\n", <&> and non-ASCII round-trips with its MD5', async () => {
    const url = await create(qname("body"));
    const body = 'line one\r\nline two\r\n<tag attr="v">&amp; & < > \'q\'</tag>\ttab é ü 中文 Ωμέγα 😀 \u{10FFFF}\r';
    const sent = await send(url, body);
    assert.equal(sent.MD5OfMessageBody, md5(Buffer.from(body, "utf8")));
    const [m] = await receiveN(url, 1);
    assert.equal(m.Body, body);
    assert.equal(m.MD5OfBody, md5(Buffer.from(body, "utf8")));
  });

  test("SendMessageBatch with a partial failure", async () => {
    const url = await create(qname("batch"));
    const entries = [
      { Id: "ok-1", MessageBody: "first" },
      { Id: "bad", MessageBody: "contains \u0001 which SQS refuses" },
      { Id: "ok_2", MessageBody: "second", DelaySeconds: 0,
        MessageAttributes: { k: { DataType: "String", StringValue: "v" } } },
    ];
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    assert.deepEqual(out.Successful.map((e) => e.Id).sort(), ["ok-1", "ok_2"]);
    for (const s of out.Successful) {
      const e = entries.find((x) => x.Id === s.Id);
      assert.equal(s.MD5OfMessageBody, md5(e.MessageBody), s.Id);
      if (e.MessageAttributes) assert.equal(s.MD5OfMessageAttributes, md5OfAttributes(e.MessageAttributes));
      assert.match(s.MessageId, /^[0-9a-f-]{36}$/i);
    }
    assert.equal(out.Failed.length, 1, JSON.stringify(out.Failed));
    const [f] = out.Failed;
    assert.equal(f.Id, "bad");
    assert.equal(f.SenderFault, true);
    assert.ok(["InvalidMessageContents", "InvalidParameterValue"].includes(f.Code), f.Code);
    assert.ok(f.Message && f.Message.length > 0, "a failure needs a message");

    const got = await receiveN(url, 2);
    assert.deepEqual(got.map((m) => m.Body).sort(), ["first", "second"]);
  });

  test("ReceiveMessage: a long poll returns when a message arrives; WaitTimeSeconds is honoured", async () => {
    const url = await create(qname("longpoll"));
    // An empty poll waits its time out.
    let t0 = Date.now();
    assert.deepEqual(await receive(url, { WaitTimeSeconds: 1 }), []);
    const waited = Date.now() - t0;
    assert.ok(waited >= 900 && waited < 5_000, `an empty 1 s poll took ${waited} ms`);

    // A 20 s poll returns soon after a message is sent during it. The send is
    // deliberately later than the poll's start: it is the event under test.
    t0 = Date.now();
    const poll = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
    const sender = new Promise((r) => setTimeout(r, 500)).then(() => send(url, "wake up"));
    const [{ Messages }, sent] = await Promise.all([poll, sender]);
    const took = Date.now() - t0;
    assert.equal(Messages?.length, 1);
    assert.equal(Messages[0].MessageId, sent.MessageId);
    assert.ok(took < 5_000, `the long poll returned after ${took} ms, not when the message came`);

    // The queue's ReceiveMessageWaitTimeSeconds applies when the call names none.
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { ReceiveMessageWaitTimeSeconds: "1" } }));
    t0 = Date.now();
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal(r.Messages, undefined);
    assert.ok(Date.now() - t0 >= 900, `the queue's 1 s wait took ${Date.now() - t0} ms`);
  });

  test("ReceiveMessage system attributes: MessageSystemAttributeNames and AttributeNames", async () => {
    const url = await create(qname("sysattrs"));
    const t0 = Date.now();
    const sent = await send(url, "with system attributes");
    let [m] = await receiveN(url, 1, { MessageSystemAttributeNames: ["All"] });
    assert.equal(m.MessageId, sent.MessageId);
    assert.equal(m.Attributes.ApproximateReceiveCount, "1");
    for (const k of ["SentTimestamp", "ApproximateFirstReceiveTimestamp"]) {
      assert.match(m.Attributes[k] ?? "", /^\d+$/, k);
      const ms = Number(m.Attributes[k]);
      assert.ok(ms >= t0 - 60_000 && ms <= Date.now() + 60_000, `${k}=${ms} is not epoch ms near ${t0}`);
    }
    // Back to visible; the legacy AttributeNames member asks for one name only.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    [m] = await receiveN(url, 1, { AttributeNames: ["ApproximateReceiveCount"] });
    assert.deepEqual(m.Attributes, { ApproximateReceiveCount: "2" });
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    [m] = await receiveN(url, 1, { MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"] });
    assert.deepEqual(Object.keys(m.Attributes).sort(), ["ApproximateReceiveCount", "SentTimestamp"]);
    assert.equal(m.Attributes.ApproximateReceiveCount, "3");
  });

  test("DeleteMessage, DeleteMessageBatch (with a bad handle), ReceiptHandleIsInvalid", async () => {
    const url = await create(qname("delete"));
    for (const b of ["a", "b", "c"]) await send(url, b);
    const got = await receiveN(url, 3);
    const handles = new Set(got.map((m) => m.ReceiptHandle));
    assert.equal(handles.size, 3, "each received message has its own handle");

    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: got[0].ReceiptHandle }));
    const out = await sqs.send(new DeleteMessageBatchCommand({
      QueueUrl: url,
      Entries: [
        { Id: "one", ReceiptHandle: got[1].ReceiptHandle },
        { Id: "two", ReceiptHandle: got[2].ReceiptHandle },
        { Id: "junk", ReceiptHandle: "not-a-receipt-handle" },
      ],
    }));
    assert.deepEqual(out.Successful.map((e) => e.Id).sort(), ["one", "two"]);
    assert.equal(out.Failed.length, 1);
    assert.equal(out.Failed[0].Id, "junk");
    assert.equal(out.Failed[0].Code, "ReceiptHandleIsInvalid");
    assert.equal(out.Failed[0].SenderFault, true);

    const err = await rejection(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: "garbage" })));
    assert.ok(err instanceof ReceiptHandleIsInvalid, `${err.name}: ${err.message}`);
    assert.ok(err.$metadata.httpStatusCode >= 400 && err.$metadata.httpStatusCode < 500);
    const a = await attrs(url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]);
    assert.deepEqual(a, { ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
  });

  test("ChangeMessageVisibility and ChangeMessageVisibilityBatch", async () => {
    const url = await create(qname("visibility"));
    await send(url, "m1");
    await send(url, "m2");
    const [x, y] = await receiveN(url, 2, { VisibilityTimeout: 600 });
    assert.deepEqual(await receive(url), [], "both are in flight");

    // Visible again at once.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: x.ReceiptHandle, VisibilityTimeout: 0 }));
    const [again] = await receiveN(url, 1, { MessageSystemAttributeNames: ["ApproximateReceiveCount"], VisibilityTimeout: 600 });
    assert.equal(again.MessageId, x.MessageId);
    assert.equal(again.Attributes.ApproximateReceiveCount, "2");
    assert.notEqual(again.ReceiptHandle, x.ReceiptHandle, "a new receive issues a new handle");

    const out = await sqs.send(new ChangeMessageVisibilityBatchCommand({
      QueueUrl: url,
      Entries: [
        { Id: "x", ReceiptHandle: again.ReceiptHandle, VisibilityTimeout: 0 },
        { Id: "y", ReceiptHandle: y.ReceiptHandle, VisibilityTimeout: 900 },
        { Id: "bogus", ReceiptHandle: "bogus-handle", VisibilityTimeout: 0 },
      ],
    }));
    assert.deepEqual(out.Successful.map((e) => e.Id).sort(), ["x", "y"]);
    assert.equal(out.Failed.length, 1);
    assert.equal(out.Failed[0].Id, "bogus");
    assert.equal(out.Failed[0].Code, "ReceiptHandleIsInvalid");
    assert.equal(out.Failed[0].SenderFault, true);

    // x is back, y (extended) stays hidden.
    const back = await receiveN(url, 1);
    assert.equal(back[0].MessageId, x.MessageId);
    assert.deepEqual(await receive(url), []);

    // A receive-level VisibilityTimeout overrides the queue's 30 s.
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: back[0].ReceiptHandle }));
    await send(url, "m3");
    const [short] = await receiveN(url, 1, { VisibilityTimeout: 1 });
    const t0 = Date.now();
    const [reappeared] = await receiveN(url, 1);
    assert.equal(reappeared.MessageId, short.MessageId);
    assert.ok(Date.now() - t0 < 5_000);
  });

  test("PurgeQueue empties visible, in-flight and delayed messages", async () => {
    const url = await create(qname("purge"));
    for (let i = 0; i < 3; i++) await send(url, `p${i}`);
    await send(url, "later", { DelaySeconds: 600 });
    await receiveN(url, 1, { VisibilityTimeout: 600 });
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    const names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"];
    await waitFor(async () => {
      const a = await attrs(url, names);
      return names.every((n) => a[n] === "0");
    }, { timeoutMs: 5_000, what: "the purge to empty the queue" });
    assert.deepEqual(await receive(url), []);
    // The queue still works.
    await send(url, "after purge");
    assert.equal((await receiveN(url, 1))[0].Body, "after purge");
  });

  test("TagQueue, UntagQueue, ListQueueTags", async () => {
    const url = await create(qname("tags"));
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {}, {});
    await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { env: "test", owner: "sluice", tier: "1" } }));
    await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { tier: "2" } }));
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags,
      { env: "test", owner: "sluice", tier: "2" });
    await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ["owner", "absent"] }));
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags, { env: "test", tier: "2" });
  });

  test("dead-letter queue: same MessageId after maxReceiveCount; ListDeadLetterSourceQueues; redrive back", async () => {
    const dlqUrl = await create(qname("dlq"));
    const dlqArn = await arnOf(dlqUrl);
    const srcUrl = await create(qname("src"), {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    const sent = await send(srcUrl, "poison");

    for (let i = 1; i <= 2; i++) {
      const [m] = await receiveN(srcUrl, 1, { MessageSystemAttributeNames: ["ApproximateReceiveCount"] });
      assert.equal(m.MessageId, sent.MessageId);
      assert.equal(m.Attributes.ApproximateReceiveCount, String(i));
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: srcUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    // The next receive moves it instead of delivering it.
    assert.deepEqual(await receive(srcUrl), []);
    await waitFor(async () => (await attrs(dlqUrl, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages === "1",
      { what: "the message in the dead-letter queue" });

    const { queueUrls } = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
    assert.deepEqual(queueUrls, [srcUrl]);

    const [dead] = await receiveN(dlqUrl, 1);
    assert.equal(dead.MessageId, sent.MessageId);
    assert.equal(dead.Body, "poison");
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlqUrl, ReceiptHandle: dead.ReceiptHandle, VisibilityTimeout: 0 }));

    // Redrive: no DestinationArn, so back to where it came from.
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    assert.ok(TaskHandle, "StartMessageMoveTask returns a TaskHandle");
    const task = await waitFor(async () => {
      const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
      return Results.find((t) => t.Status === "COMPLETED");
    }, { what: "the move task to complete" });
    assert.equal(task.SourceArn, dlqArn);
    assert.equal(task.ApproximateNumberOfMessagesMoved, 1);
    assert.equal(task.DestinationArn, undefined);

    const [home] = await receiveN(srcUrl, 1);
    assert.equal(home.MessageId, sent.MessageId);
    assert.equal(home.Body, "poison");
    assert.equal((await attrs(dlqUrl, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages, "0");
  });

  test("StartMessageMoveTask to a DestinationArn at 1 msg/s; ListMessageMoveTasks RUNNING; CancelMessageMoveTask", async () => {
    const dlqUrl = await create(qname("dlq2"));
    const dlqArn = await arnOf(dlqUrl);
    await create(qname("src2"), { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: "3" }) });
    const destUrl = await create(qname("dest2"));
    const destArn = await arnOf(destUrl);
    const TOTAL = 20;
    for (let i = 0; i < TOTAL; i += 10) {
      await sqs.send(new SendMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: Array.from({ length: 10 }, (_, j) => ({ Id: `e${j}`, MessageBody: `dead ${i + j}` })),
      }));
    }
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({
      SourceArn: dlqArn, DestinationArn: destArn, MaxNumberOfMessagesPerSecond: 1,
    }));
    const { Results } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    assert.equal(Results.length, 1, JSON.stringify(Results));
    assert.equal(Results[0].Status, "RUNNING");
    assert.equal(Results[0].TaskHandle, TaskHandle);
    assert.equal(Results[0].DestinationArn, destArn);
    assert.equal(Results[0].MaxNumberOfMessagesPerSecond, 1);

    const cancelled = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
    assert.ok(cancelled.ApproximateNumberOfMessagesMoved < TOTAL, `moved ${cancelled.ApproximateNumberOfMessagesMoved}`);
    const final = await waitFor(async () => {
      const { Results: r = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
      // SQS gives a TaskHandle only for a RUNNING task; this is the queue's only one.
      return r.length === 1 && r[0].Status === "CANCELLED" && r[0];
    }, { what: "the task to show CANCELLED" });
    assert.equal(final.TaskHandle, undefined, "a finished task has no handle");
    // Nothing lost, nothing doubled: what moved plus what stayed is all of it.
    const src = await attrs(dlqUrl, ["ApproximateNumberOfMessages"]);
    const dst = await attrs(destUrl, ["ApproximateNumberOfMessages"]);
    assert.equal(Number(src.ApproximateNumberOfMessages) + Number(dst.ApproximateNumberOfMessages), TOTAL);
    assert.equal(Number(dst.ApproximateNumberOfMessages), final.ApproximateNumberOfMessagesMoved);
    assert.ok(Number(src.ApproximateNumberOfMessages) > 0, "cancelled before the end");
  });

  test("FIFO: order within groups, SequenceNumber, dedup by id and by content, group lock", async () => {
    const url = await create(qname("order") + ".fifo", { FifoQueue: "true" });
    assert.equal((await attrs(url, ["FifoQueue"])).FifoQueue, "true");
    const sends = [];
    for (let i = 0; i < 5; i++) {
      sends.push({ group: "g1", body: `g1-${i}`, r: await send(url, `g1-${i}`, { MessageGroupId: "g1", MessageDeduplicationId: `d1-${i}` }) });
      if (i < 3) sends.push({ group: "g2", body: `g2-${i}`, r: await send(url, `g2-${i}`, { MessageGroupId: "g2", MessageDeduplicationId: `d2-${i}` }) });
    }
    let last = -1n;
    for (const { r } of sends) {
      assert.match(r.SequenceNumber ?? "", /^\d+$/);
      assert.ok(BigInt(r.SequenceNumber) > last, `SequenceNumber ${r.SequenceNumber} after ${last}`);
      last = BigInt(r.SequenceNumber);
    }
    // A repeated deduplication id is accepted and not enqueued again.
    const dup = await send(url, "g1-duplicate", { MessageGroupId: "g1", MessageDeduplicationId: "d1-2" });
    assert.ok(dup.MessageId);
    assert.equal((await attrs(url, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages, "8");

    const got = [];
    await waitFor(async () => {
      const ms = await receive(url, { MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"] });
      for (const m of ms) {
        got.push(m);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      }
      return got.length >= 8;
    }, { what: "all 8 FIFO messages" });
    assert.equal(got.length, 8);
    for (const g of ["g1", "g2"]) {
      const inGroup = got.filter((m) => m.Attributes.MessageGroupId === g);
      const want = sends.filter((s) => s.group === g);
      assert.deepEqual(inGroup.map((m) => m.Body), want.map((s) => s.body), `order in ${g}`);
      inGroup.forEach((m, i) => {
        assert.equal(m.MessageId, want[i].r.MessageId);
        assert.equal(m.Attributes.SequenceNumber, want[i].r.SequenceNumber);
        assert.equal(m.Attributes.MessageDeduplicationId, want[i].body.replace(/^g(\d)-/, "d$1-"));
      });
    }

    // A group stays locked while one of its messages is in flight.
    await send(url, "lock-0", { MessageGroupId: "g3", MessageDeduplicationId: "l0" });
    await send(url, "lock-1", { MessageGroupId: "g3", MessageDeduplicationId: "l1" });
    const [first] = await receiveN(url, 1, { MaxNumberOfMessages: 1 });
    assert.equal(first.Body, "lock-0");
    assert.deepEqual(await receive(url, { MaxNumberOfMessages: 10 }), [], "g3 is locked");
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first.ReceiptHandle }));
    assert.equal((await receiveN(url, 1))[0].Body, "lock-1");

    // A FIFO send without a MessageGroupId is refused.
    const err = await rejection(send(url, "no group", { MessageDeduplicationId: "ng" }));
    assert.ok(err instanceof SQSServiceException);
    assert.ok(["MissingParameter", "InvalidParameterValue"].includes(err.name), `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 400);

    // Content-based deduplication.
    const cbd = await create(qname("cbd") + ".fifo", { FifoQueue: "true", ContentBasedDeduplication: "true" });
    const a = await send(cbd, "same body", { MessageGroupId: "g" });
    const b = await send(cbd, "same body", { MessageGroupId: "g" });
    await send(cbd, "other body", { MessageGroupId: "g" });
    assert.ok(b.MessageId);
    const all = [];
    await waitFor(async () => {
      for (const m of await receive(cbd, { MaxNumberOfMessages: 10 })) {
        all.push(m);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: cbd, ReceiptHandle: m.ReceiptHandle }));
      }
      return all.length >= 2;
    }, { what: "2 messages from the content-deduplicated queue" });
    assert.deepEqual(all.map((m) => m.Body), ["same body", "other body"]);
    assert.equal(all[0].MessageId, a.MessageId);
    assert.deepEqual(await receive(cbd), [], "the duplicate was not enqueued");
  });

  test("batch request errors by exception class", async () => {
    const url = await create(qname("batcherr"));
    const cases = [
      ["EmptyBatchRequest", EmptyBatchRequest, () => sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] }))],
      ["EmptyBatchRequest (delete)", EmptyBatchRequest, () => sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: [] }))],
      ["TooManyEntriesInBatchRequest", TooManyEntriesInBatchRequest, () => sqs.send(new SendMessageBatchCommand({
        QueueUrl: url, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: "x" })),
      }))],
      ["BatchEntryIdsNotDistinct", BatchEntryIdsNotDistinct, () => sqs.send(new SendMessageBatchCommand({
        QueueUrl: url, Entries: [{ Id: "same", MessageBody: "1" }, { Id: "same", MessageBody: "2" }],
      }))],
      ["InvalidBatchEntryId", InvalidBatchEntryId, () => sqs.send(new SendMessageBatchCommand({
        QueueUrl: url, Entries: [{ Id: "not valid!", MessageBody: "1" }],
      }))],
    ];
    for (const [label, cls, call] of cases) {
      const err = await rejection(call());
      assert.ok(err instanceof cls, `${label}: got ${err.name}: ${err.message}`);
      assert.equal(err.$metadata.httpStatusCode, 400, label);
      assert.ok(err.message && err.message !== "UnknownError", `${label}: message ${err.message}`);
    }
    // None of those enqueued anything.
    assert.equal((await attrs(url, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages, "0");
  });

  test("QueueDoesNotExist by instanceof, with the query error code; DeleteQueue", async () => {
    const ghost = `${base}/${qname("ghost")}`;
    const calls = [
      () => sqs.send(new GetQueueUrlCommand({ QueueName: qname("ghost") })),
      () => send(ghost, "x"),
      () => receive(ghost),
      () => attrs(ghost),
      () => sqs.send(new PurgeQueueCommand({ QueueUrl: ghost })),
    ];
    for (const call of calls) {
      const err = await rejection(call());
      assert.ok(err instanceof QueueDoesNotExist, `${err.name}: ${err.message}`);
      assert.equal(err.$metadata.httpStatusCode, 400);
      // From the x-amzn-query-error header: the same code as the query protocol.
      assert.equal(err.Code, "AWS.SimpleQueueService.NonExistentQueue");
      assert.equal(err.Type, "Sender");
    }

    const name = qname("doomed");
    const url = await create(name);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    await waitFor(async () => {
      try {
        await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
        return false;
      } catch (e) {
        if (e instanceof QueueDoesNotExist) return true;
        throw e;
      }
    }, { timeoutMs: 5_000, what: "the deleted queue to be gone" });
    const err = await rejection(send(url, "to a deleted queue"));
    assert.ok(err instanceof QueueDoesNotExist, `${err.name}: ${err.message}`);
  });

  test("KEDA aws-sqs-queue scaler: the three depth attributes are exact", async () => {
    // KEDA (pkg/scalers/aws_sqs_queue_scaler.go) asks GetQueueAttributes for
    // ApproximateNumberOfMessages, plus ...NotVisible (scaleOnInFlight,
    // default true) and ...Delayed (scaleOnDelayed), via aws-sdk-go-v2 with
    // BaseEndpoint = awsEndpoint, and sums them; a missing one is an error.
    // Its queueURL must have the path /<account>/<name>.
    const name = qname("keda");
    const url = await create(name);
    assert.deepEqual(new URL(url).pathname.split("/"), ["", ACCOUNT, name]);
    for (let i = 0; i < 7; i++) await send(url, `ready ${i}`);
    for (let i = 0; i < 3; i++) await send(url, `delayed ${i}`, { DelaySeconds: 900 });
    const inFlight = await receiveN(url, 2, { VisibilityTimeout: 900 });
    assert.equal(inFlight.length, 2);

    const names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"];
    const want = {
      ApproximateNumberOfMessages: "5",
      ApproximateNumberOfMessagesNotVisible: "2",
      ApproximateNumberOfMessagesDelayed: "3",
    };
    assert.deepEqual(await attrs(url, names), want);
    // In a cluster KEDA's queueURL names the broker's Service, not the host
    // the call goes to; the queue is found by its name all the same.
    const clusterUrl = `http://sluice-broker.sluice.svc.cluster.local:9324/${ACCOUNT}/${name}`;
    assert.deepEqual(await attrs(clusterUrl, names), want);
  });
});

describe("SigV4 verification with --credentials", () => {
  const KEY = "AKIDSLUICETEST0001";
  const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSLUICEKEY";
  const broker = new Broker({
    credentials: `[default]\naws_access_key_id = ${KEY}\naws_secret_access_key = ${SECRET}\n\n[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = another-secret\n`,
  });

  before(async () => {
    await broker.start();
  });

  after(async () => {
    const code = await broker.stop();
    assert.equal(code, 0, `broker exit status after SIGTERM (signal ${broker.exitSignal})\n${broker.output}`);
  });

  test("correctly signed calls are served", async () => {
    for (const creds of [{ accessKeyId: KEY, secretAccessKey: SECRET }, { accessKeyId: "AKIDOTHER", secretAccessKey: "another-secret" }]) {
      const sqs = makeClient(broker.endpoint, creds);
      try {
        const name = qname("signed");
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
        const body = "signed body \r\n with ünïcode & <xml>";
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
        assert.equal(Messages?.[0]?.Body, body);
        const { QueueUrls } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }));
        assert.deepEqual(QueueUrls, [QueueUrl]);
      } finally {
        sqs.destroy();
      }
    }
  });

  test("a wrong secret is refused with SignatureDoesNotMatch (403)", async () => {
    const sqs = makeClient(broker.endpoint, { accessKeyId: KEY, secretAccessKey: `${SECRET}-wrong` });
    try {
      const err = await rejection(sqs.send(new CreateQueueCommand({ QueueName: qname("forged") })));
      assert.equal(err.$metadata.httpStatusCode, 403, `${err.name}: ${err.message}`);
      assert.equal(err.name, "SignatureDoesNotMatch", err.message);
      assert.ok(err instanceof SQSServiceException);
      const err2 = await rejection(sqs.send(new ListQueuesCommand({})));
      assert.equal(err2.$metadata.httpStatusCode, 403);
      assert.equal(err2.name, "SignatureDoesNotMatch");
    } finally {
      sqs.destroy();
    }
  });

  test("an unknown access key is refused with 403", async () => {
    const sqs = makeClient(broker.endpoint, { accessKeyId: "AKIDNOBODY", secretAccessKey: SECRET });
    try {
      const err = await rejection(sqs.send(new ListQueuesCommand({})));
      assert.equal(err.$metadata.httpStatusCode, 403, `${err.name}: ${err.message}`);
      assert.ok(err instanceof SQSServiceException);
    } finally {
      sqs.destroy();
    }
  });
});
