import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { APIGatewayProxyEventV2, MSKEvent } from "aws-lambda";
import { parse as parseYaml } from "yaml";
import { TOPICS, type Topic } from "../../shared/contract/events.ts";
import {
  createAccountRequest,
  createOrderRequest,
  depositRequest,
  orderPath,
  userQuery,
} from "../../shared/contract/http.ts";
import { decodeRecord, partitionsOf } from "../../shared/messaging/records.ts";
import { jsonBody, parse } from "../../shared/http/request.ts";

const sample = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), "utf8")) as T;

interface FunctionSpec {
  events?: Array<{ msk?: { topic: string } }>;
}
const functions = (
  parseYaml(readFileSync(new URL("../../serverless.yml", import.meta.url), "utf8")) as {
    functions: Record<string, FunctionSpec>;
  }
).functions;

/** The samples under events/ (for `sls invoke local`) are what each handler really accepts. */
describe("the sample events", () => {
  it("exist for every function", () => {
    for (const name of Object.keys(functions)) assert.doesNotThrow(() => sample(name), `events/${name}.json`);
  });

  for (const [name, spec] of Object.entries(functions)) {
    const topic = spec.events?.find((e) => e.msk)?.msk?.topic as Topic | undefined;
    if (!topic) continue;
    it(`${name}: every record is a valid ${topic} event`, () => {
      const records = partitionsOf(sample<MSKEvent>(name)).flat();
      assert.ok(records.length > 0);
      for (const record of records) {
        assert.equal(record.topic, topic);
        const decoded = decodeRecord(record, TOPICS[topic].schema);
        assert.ok(decoded.ok, !decoded.ok ? decoded.error : "");
      }
    });
  }

  it("the HTTP samples pass their request schemas", () => {
    const http = (name: string) => sample<APIGatewayProxyEventV2>(name);
    parse(createAccountRequest, jsonBody(http("createAccount")));
    parse(depositRequest, jsonBody(http("deposit")));
    parse(createOrderRequest, jsonBody(http("createOrder")));
    parse(userQuery, http("getBalance").queryStringParameters ?? {});
    parse(userQuery, http("listOrders").queryStringParameters ?? {});
    parse(orderPath, http("getOrder").pathParameters ?? {});
    parse(
      userQuery,
      (http("wsConnect") as unknown as { queryStringParameters?: Record<string, string> }).queryStringParameters ?? {},
    );
  });
});
