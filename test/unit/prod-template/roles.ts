/** A role per function, allowing what the function does and nothing else. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { roleLogicalId } from "../../../deploy/roles/naming.ts";
import { expectedSidsOf, FUNCTIONS, functionLogicalId, wakesOf } from "./expected.ts";
import { STAGE } from "./service.ts";
import { joinOf, readerOf, type PackagedTemplate } from "./template.ts";

export function roleTests(t: PackagedTemplate): void {
  const { fn, statements, sid } = readerOf(t);

  it(`gives each of the ${FUNCTIONS.length} functions a role of its own`, () => {
    const { resources } = t;
    const functions = Object.entries(resources).filter(([, r]) => r.Type === "AWS::Lambda::Function");
    assert.deepEqual(functions.map(([id]) => id).sort(), FUNCTIONS.map(functionLogicalId).sort());
    const roles = new Set<string>();
    for (const key of FUNCTIONS) {
      assert.deepEqual(fn(key).Properties.Role, { "Fn::GetAtt": [roleLogicalId(key), "Arn"] });
      assert.equal(resources[roleLogicalId(key)]?.Type, "AWS::IAM::Role");
      roles.add(roleLogicalId(key));
    }
    assert.equal(roles.size, FUNCTIONS.length);
    assert.equal(Object.values(resources).filter((r) => r.Type === "AWS::IAM::Role").length, FUNCTIONS.length);
  });

  it("lets each role do what its function does, and nothing else", () => {
    for (const key of FUNCTIONS) {
      const sids = statements(key).map((s) => s.Sid);
      assert.deepEqual(
        sids.sort(),
        ["NetworkInterfaces", "WriteOwnLogs", ...expectedSidsOf(key)].sort(),
        `statements of ${key}`,
      );
      for (const s of statements(key)) {
        assert.equal(s.Effect, "Allow");
        assert.ok(!s.Action.some((a) => a === "*" || a.endsWith(":*")), `${key} ${s.Sid}: no wildcard action`);
        if (s.Resource === "*")
          assert.ok(
            s.Action.every((a) => a.startsWith("ec2:")),
            `${key} ${s.Sid}: only ec2 network interface actions on "*"`,
          );
      }
      const logs = JSON.stringify(sid(key, "WriteOwnLogs").Resource);
      assert.ok(
        logs.includes(`log-group:/aws/lambda/gozon-shop-${STAGE}-${key}:*`),
        `${key} writes only its own log group`,
      );
      assert.deepEqual(sid(key, "WriteOwnLogs").Action.sort(), ["logs:CreateLogStream", "logs:PutLogEvents"]);
    }
  });

  it("lets a function invoke only the relay it wakes", () => {
    for (const key of FUNCTIONS) {
      const wakes = wakesOf(key);
      if (!wakes) {
        assert.ok(!statements(key).some((s) => s.Action.includes("lambda:InvokeFunction")), `${key} invokes nothing`);
        continue;
      }
      const statement = sid(key, "WakeOutboxRelay");
      assert.deepEqual(statement.Action, ["lambda:InvokeFunction"]);
      const targets = (statement.Resource as unknown[]).map((r) => String(joinOf(r).at(-1)));
      assert.deepEqual(
        targets,
        wakes.map((relay) => `function:gozon-shop-${STAGE}-${relay}`),
      );
    }
  });

  it("lets only the pushing functions post to connections, and only on this stage of this WebSocket API", () => {
    for (const key of ["onPaymentProcessed", "onBalanceUpdated", "wsSync"]) {
      const statement = sid(key, "PushToThisApiConnections");
      assert.deepEqual(statement.Action, ["execute-api:ManageConnections"]);
      const parts = joinOf(statement.Resource);
      assert.ok(
        parts.some((p) => JSON.stringify(p) === JSON.stringify({ Ref: "WebsocketsApi" })),
        `${key}: scoped to this API`,
      );
      assert.equal(parts.at(-1), `/${STAGE}/POST/@connections/*`);
      assert.ok(!JSON.stringify(parts).includes('"*/'), `${key}: no wildcard API`);
    }
    const pushers = FUNCTIONS.filter((key) =>
      statements(key).some((s) => s.Action.includes("execute-api:ManageConnections")),
    );
    assert.deepEqual(pushers.sort(), ["onBalanceUpdated", "onPaymentProcessed", "wsSync"]);
  });
}
