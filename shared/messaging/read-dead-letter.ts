import type { MSKEvent } from "aws-lambda";
import { z } from "zod";
import { DLT_HEADER_PREFIX } from "./dead-letter.ts";
import { partitionsOf } from "./records.ts";

/** A record as it sits on a dead-letter topic: bytes, headers in order (a name may repeat). */
export interface LetterOnTopic {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ name: string; value: Buffer }>;
}

/**
 * What a dead letter says, whoever wrote it:
 * - `dlt-headers`: the failed record itself with `dlt-*` headers, as the local event source
 *   (serverless-offline-kafka) and the consumers' own parking (dead-letter.ts) write it;
 * - `lambda-invocation-record`: what AWS Lambda writes to a `kafka://` on-failure destination, a JSON
 *   invocation record (requestContext, responseContext, KafkaBatchInfo) whose `payload` is the Kafka
 *   event of the failed record, as AWS documents it under "Record format for a Kafka destination"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html#kafka-ofd-record-format);
 * - `unknown`: neither; it can be listed, not redriven.
 */
export interface DeadLetterRead {
  format: "dlt-headers" | "lambda-invocation-record" | "unknown";
  /** Where the failed record was read, if the letter says. */
  source?: { topic: string; partition: number; offset: string };
  reason: string;
  error: string;
  attempts?: number;
  functionName?: string;
  failedAt?: string;
  /** The failed record as it was first written (key, value, its own headers), to send back; absent if the letter lacks it. */
  record?: { key: Buffer | null; value: Buffer; headers: Array<{ name: string; value: Buffer }> };
  /** Why this letter cannot be redriven, if it cannot. */
  unredrivable?: string;
}

/** Reads a dead letter of either format; never throws. */
export function readDeadLetter(letter: LetterOnTopic): DeadLetterRead {
  if (letter.headers.some((h) => h.name === `${DLT_HEADER_PREFIX}source-topic`)) return fromDltHeaders(letter);
  return fromInvocationRecord(letter) ?? unknownLetter();
}

function fromDltHeaders(letter: LetterOnTopic): DeadLetterRead {
  const own = new Map(
    letter.headers
      .filter((h) => h.name.startsWith(DLT_HEADER_PREFIX))
      .map((h) => [h.name.slice(DLT_HEADER_PREFIX.length), h.value.toString("utf8")] as const),
  );
  const partition = Number(own.get("source-partition"));
  const offset = own.get("source-offset") ?? "";
  const attempts = Number(own.get("attempts"));
  const positioned = Number.isInteger(partition) && /^\d+$/.test(offset);
  return {
    format: "dlt-headers",
    ...(positioned ? { source: { topic: own.get("source-topic")!, partition, offset } } : {}),
    reason: own.get("reason") ?? "?",
    error: own.get("error") ?? "",
    ...(Number.isInteger(attempts) ? { attempts } : {}),
    ...(own.has("function") ? { functionName: own.get("function")! } : {}),
    ...(own.has("failed-at") ? { failedAt: own.get("failed-at")! } : {}),
    record: {
      key: letter.key,
      value: letter.value ?? Buffer.alloc(0),
      headers: letter.headers.filter((h) => !h.name.startsWith(DLT_HEADER_PREFIX)),
    },
    ...(positioned ? {} : { unredrivable: "its dlt-source-* headers do not say where it was read" }),
  };
}

/** A record of a Lambda Kafka event: base64 key and value, headers as lists of byte values. */
const lambdaKafkaRecord = z.object({
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  offset: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]),
  timestamp: z.number(),
  key: z.string().nullish(),
  value: z.string().nullish(),
  headers: z.array(z.record(z.string(), z.array(z.number().int().min(0).max(255)))).nullish(),
});

/** Lambda's invocation record for a failed Kafka record (AWS's documented fields; others are ignored). */
const lambdaInvocationRecord = z.object({
  requestContext: z.object({
    requestId: z.string().optional(),
    functionArn: z.string().optional(),
    condition: z.string(),
    approximateInvokeCount: z.number().int().optional(),
  }),
  responseContext: z
    .object({
      statusCode: z.number().int().optional(),
      executedVersion: z.string().optional(),
      functionError: z.string().optional(),
    })
    .nullish(),
  version: z.string().optional(),
  timestamp: z.string().optional(),
  KafkaBatchInfo: z.object({
    batchSize: z.number().int().optional(),
    recordInfo: z.object({ offset: z.string().optional(), timestamp: z.string().optional() }).optional(),
  }),
  payload: z.object({ records: z.record(z.string(), z.array(lambdaKafkaRecord)) }).nullish(),
});

function fromInvocationRecord(letter: LetterOnTopic): DeadLetterRead | undefined {
  let json: unknown;
  try {
    json = JSON.parse(letter.value?.toString("utf8") ?? "");
  } catch {
    return undefined;
  }
  const parsed = lambdaInvocationRecord.safeParse(json);
  if (!parsed.success) return undefined;
  const { requestContext, responseContext, timestamp, payload } = parsed.data;
  const response = responseContext
    ? `function error ${responseContext.functionError ?? "?"} (status ${responseContext.statusCode ?? "?"}, version ${responseContext.executedVersion ?? "?"})`
    : "no response";
  const common = {
    format: "lambda-invocation-record" as const,
    reason: requestContext.condition,
    error: response,
    ...(requestContext.approximateInvokeCount !== undefined ? { attempts: requestContext.approximateInvokeCount } : {}),
    ...(requestContext.functionArn ? { functionName: requestContext.functionArn } : {}),
    ...(timestamp ? { failedAt: timestamp } : {}),
  };
  const raw = Object.values(payload?.records ?? {}).flat();
  const [record] = partitionsOf({ records: payload?.records ?? {} } as unknown as MSKEvent).flat();
  if (raw.length !== 1 || !record) {
    return {
      ...common,
      unredrivable: raw.length
        ? `its payload holds ${raw.length} records; a letter is redriven one record at a time`
        : "its payload holds no record",
    };
  }
  return {
    ...common,
    source: { topic: record.topic, partition: record.partition, offset: String(raw[0]!.offset) },
    record: { key: record.key, value: record.value, headers: record.headers },
  };
}

function unknownLetter(): DeadLetterRead {
  return {
    format: "unknown",
    reason: "?",
    error: "",
    unredrivable: "it has no dlt-* headers and is not a Lambda invocation record",
  };
}
