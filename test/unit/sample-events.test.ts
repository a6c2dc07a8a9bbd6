import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { APIGatewayProxyEventV2, MSKEvent } from "aws-lambda";
import { TOPICS } from "../../shared/contract/events.ts";
import { FUNCTIONS, type FunctionSpec } from "../../shared/contract/manifest.ts";
import { topicOf } from "../../shared/contract/topology.ts";
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

// serverless.yml's functions are made from the manifest (deploy/functions.ts).
const functions: Record<string, FunctionSpec> = FUNCTIONS;

/** The samples under events/ (for `sls invoke local`) are what each handler really accepts. */
describe("the sample events", () => {
  it("exist for every function", () => {
    for (const name of Object.keys(functions)) assert.doesNotThrow(() => sample(name), `events/${name}.json`);
  });

  for (const [name, spec] of Object.entries(functions)) {
    const topic = topicOf(spec);
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
