import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deadLetterOf } from "serverless-offline-kafka/dead-letter";
import { readDeadLetter, type LetterOnTopic } from "../../shared/messaging/read-dead-letter.ts";

/**
 * What AWS Lambda writes to a `kafka://` on-failure destination, as AWS documents it: "Record format
 * for a Kafka destination" in "Using a Kafka topic as an on-failure destination",
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html#kafka-ofd-record-format
 * (the example there, as given). The record's value is this JSON; its key is the failed record's key
 * ("Lambda uses the same partition key from the original record"); AWS says nothing of headers.
 * Its `recordInfo.offset` is a Kinesis-like sequence number in AWS's example, so the source position
 * is read from the payload's record.
 */
const AWS_DOCUMENTED_LETTER = {
  requestContext: {
    requestId: "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
    functionArn: "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
    condition: "RetriesExhausted",
    approximateInvokeCount: 3,
  },
  responseContext: {
    statusCode: 200,
    executedVersion: "$LATEST",
    functionError: "Unhandled",
  },
  version: "1.0",
  timestamp: "2019-11-14T18:16:05.568Z",
  KafkaBatchInfo: {
    batchSize: 1,
    eventSourceArn: "arn:aws:kafka:us-east-1:123456789012:cluster/my-cluster/abc123",
    bootstrapServers: "b-1.mycluster.abc123.kafka.us-east-1.amazonaws.com:9098",
    payloadSize: 1162,
    recordInfo: {
      offset: "49601189658422359378836298521827638475320189012309704722",
      timestamp: "2019-11-14T18:16:04.835Z",
    },
  },
  payload: {
    bootstrapServers: "b-1.mycluster.abc123.kafka.us-east-1.amazonaws.com:9098",
    eventSource: "aws:kafka",
    eventSourceArn: "arn:aws:kafka:us-east-1:123456789012:cluster/my-cluster/abc123",
    records: {
      "my-topic-0": [
        {
          headers: [],
          key: "dGVzdC1rZXk=",
          offset: 100,
          partition: 0,
          timestamp: 1749116692330,
          timestampType: "CREATE_TIME",
          topic: "my-topic",
          value: "dGVzdC12YWx1ZQ==",
        },
      ],
    },
  },
};

const awsLetter = (document: unknown): LetterOnTopic => ({
  key: Buffer.from("test-key"),
  value: Buffer.from(JSON.stringify(document)),
  headers: [],
});

describe("reading a dead letter", () => {
  it("reads the local event source's letter: the record itself, why and where from its dlt-* headers", () => {
    const letter = deadLetterOf(
      {
        topic: "orders.created",
        partition: 2,
        offset: 7,
        timestamp: 1764000000000,
        key: Buffer.from("k"),
        value: Buffer.from([0xc3, 0x28]),
        headers: [
          { name: "traceparent", value: Buffer.from("00-abc-def-01") },
          { name: "x", value: Buffer.from("1") },
          { name: "x", value: Buffer.from("2") },
        ],
      },
      { reason: "retries-exhausted", error: "boom", attempts: 6, functionName: "svc-dev-consume" },
      new Date("2026-12-01T10:00:00.000Z"),
    );
    const read = readDeadLetter(letter);
    assert.deepEqual(
      { ...read, record: undefined },
      {
        format: "dlt-headers",
        source: { topic: "orders.created", partition: 2, offset: "7" },
        reason: "retries-exhausted",
        error: "boom",
        attempts: 6,
        functionName: "svc-dev-consume",
        failedAt: "2026-12-01T10:00:00.000Z",
        record: undefined,
      },
    );
    assert.deepEqual(read.record?.key, Buffer.from("k"));
    assert.deepEqual(read.record?.value, Buffer.from([0xc3, 0x28]), "the value byte for byte");
    assert.deepEqual(
      read.record?.headers.map((h) => `${h.name}=${h.value.toString()}`),
      ["traceparent=00-abc-def-01", "x=1", "x=2"],
      "the original headers, repeats in order, and none of the dlt-* ones",
    );
  });

  it("refuses to redrive a dlt-* letter that does not say where it was read", () => {
    const read = readDeadLetter({
      key: null,
      value: Buffer.from("v"),
      headers: [
        { name: "dlt-source-topic", value: Buffer.from("orders.created") },
        { name: "dlt-source-offset", value: Buffer.from("x") },
      ],
    });
    assert.equal(read.format, "dlt-headers");
    assert.equal(read.source, undefined);
    assert.match(read.unredrivable ?? "", /do not say where/);
  });

  it("reads AWS Lambda's documented letter: the failed record from its payload, why from its contexts", () => {
    const read = readDeadLetter(awsLetter(AWS_DOCUMENTED_LETTER));
    assert.equal(read.format, "lambda-invocation-record");
    assert.deepEqual(read.source, { topic: "my-topic", partition: 0, offset: "100" });
    assert.equal(read.reason, "RetriesExhausted");
    assert.equal(read.error, "function error Unhandled (status 200, version $LATEST)");
    assert.equal(read.attempts, 3);
    assert.equal(read.functionName, "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST");
    assert.equal(read.failedAt, "2019-11-14T18:16:05.568Z");
    assert.deepEqual(read.record, { key: Buffer.from("test-key"), value: Buffer.from("test-value"), headers: [] });
    assert.equal(read.unredrivable, undefined);
  });

  it("keeps the headers of the record inside AWS's letter, as the Kafka event gives them, and a missing key", () => {
    const document = structuredClone(AWS_DOCUMENTED_LETTER);
    const record = document.payload.records["my-topic-0"][0]! as Record<string, unknown>;
    record.headers = [{ traceparent: [...Buffer.from("00-abc-def-01")] }, { x: [49] }, { x: [50] }];
    delete record.key;
    const read = readDeadLetter(awsLetter(document));
    assert.equal(read.record?.key, null);
    assert.deepEqual(
      read.record?.headers.map((h) => `${h.name}=${h.value.toString()}`),
      ["traceparent=00-abc-def-01", "x=1", "x=2"],
    );
  });

  it("reads an AWS letter without a response (MaximumPayloadSizeExceeded has none) and without a payload", () => {
    const { payload: _payload, ...rest } = AWS_DOCUMENTED_LETTER;
    const read = readDeadLetter(
      awsLetter({
        ...rest,
        requestContext: { ...rest.requestContext, condition: "MaximumPayloadSizeExceeded" },
        responseContext: null,
      }),
    );
    assert.equal(read.format, "lambda-invocation-record");
    assert.equal(read.reason, "MaximumPayloadSizeExceeded");
    assert.equal(read.error, "no response");
    assert.equal(read.record, undefined);
    assert.match(read.unredrivable ?? "", /no record/);
  });

  it("will not redrive an AWS letter holding more than one record", () => {
    const document = structuredClone(AWS_DOCUMENTED_LETTER);
    const [record] = document.payload.records["my-topic-0"];
    document.payload.records["my-topic-0"].push({ ...record!, offset: 101 });
    const read = readDeadLetter(awsLetter(document));
    assert.match(read.unredrivable ?? "", /holds 2 records/);
  });

  it("names a letter of neither format, never throws on one", () => {
    for (const value of [Buffer.from("not json"), Buffer.from("{}"), Buffer.from([0xc3, 0x28]), null]) {
      const read = readDeadLetter({ key: null, value, headers: [{ name: "traceparent", value: Buffer.from("x") }] });
      assert.equal(read.format, "unknown");
      assert.match(read.unredrivable ?? "", /no dlt-\* headers and is not a Lambda invocation record/);
    }
  });
});
