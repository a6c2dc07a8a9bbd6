import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GetBootstrapBrokersCommand } from "@aws-sdk/client-kafka";
import { loadConfig } from "../../shared/config.ts";
import { discoverBrokers } from "../../shared/messaging/kafka.ts";

const ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/gozon/abc-1";

describe("broker discovery", () => {
  it("uses KAFKA_BROKERS when set, without asking MSK", async () => {
    const cfg = loadConfig({ KAFKA_BROKERS: "10.0.0.1:9092, 10.0.0.2:9092", MSK_CLUSTER_ARN: ARN });
    const msk = { send: async () => assert.fail("the control plane must not be asked") };
    assert.deepEqual(await discoverBrokers(cfg, msk), ["10.0.0.1:9092", "10.0.0.2:9092"]);
  });

  it("asks the MSK control plane (a stand-in: MSK cannot run here) for the cluster's IAM brokers", async () => {
    const asked: unknown[] = [];
    const mskStandIn = {
      send: async (command: unknown) => {
        assert.ok(command instanceof GetBootstrapBrokersCommand);
        asked.push(command.input.ClusterArn);
        return {
          BootstrapBrokerStringSaslIam: "b-1.gozon:9098,b-2.gozon:9098",
          BootstrapBrokerString: "b-1.gozon:9092",
        };
      },
    };
    const brokers = await discoverBrokers(loadConfig({ MSK_CLUSTER_ARN: ARN }), mskStandIn as never);
    assert.deepEqual(brokers, ["b-1.gozon:9098", "b-2.gozon:9098"]);
    assert.deepEqual(asked, [ARN]);
  });

  it("says what is missing when neither is configured", async () => {
    await assert.rejects(discoverBrokers(loadConfig({ KAFKA_BROKERS: "" })), /KAFKA_BROKERS or MSK_CLUSTER_ARN/);
  });
});
