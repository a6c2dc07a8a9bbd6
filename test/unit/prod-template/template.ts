/** The packaged template as the tests read it: its resources, each function's environment and role. */
import assert from "node:assert/strict";
import { roleLogicalId } from "../../../deploy/roles/naming.ts";
import { FUNCTIONS, functionLogicalId } from "./expected.ts";

export interface Resource {
  Type: string;
  DependsOn?: string[];
  Properties: Record<string, unknown>;
}
export interface PolicyStatement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: unknown;
}

/** What the suite's one `sls package` left, read once its `before` has run. */
export interface PackagedTemplate {
  /** The copy of the service it was packaged in (its bundles under out/). */
  readonly dir: string;
  /** The template as CloudFormation would get it. */
  readonly text: string;
  readonly resources: Record<string, Resource>;
}

export const joinOf = (value: unknown): unknown[] => {
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  assert.ok(join, `expected an Fn::Join, got ${JSON.stringify(value)}`);
  return join[1];
};

export function readerOf(t: PackagedTemplate) {
  const fn = (key: string) => t.resources[functionLogicalId(key)]!;
  const env = (key: string) => (fn(key).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const statements = (key: string): PolicyStatement[] => {
    const role = t.resources[roleLogicalId(key)]!;
    const policies = role.Properties.Policies as Array<{ PolicyDocument: { Statement: PolicyStatement[] } }>;
    assert.equal(policies.length, 1);
    return policies[0]!.PolicyDocument.Statement;
  };
  const sid = (key: string, name: string) => {
    const found = statements(key).find((s) => s.Sid === name);
    assert.ok(found, `${key} has a ${name} statement`);
    return found;
  };
  const mappings = () => Object.values(t.resources).filter((r) => r.Type === "AWS::Lambda::EventSourceMapping");
  const consumerOf = (mapping: Resource) =>
    FUNCTIONS.find((key) => JSON.stringify(mapping.Properties.FunctionName).includes(`"${functionLogicalId(key)}"`))!;
  return { fn, env, statements, sid, mappings, consumerOf };
}
