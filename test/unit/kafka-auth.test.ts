import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GetBootstrapBrokersCommand } from "@aws-sdk/client-kafka";
import { loadConfig } from "../../shared/config.ts";
import { discoverBrokers, kafkaSecurity } from "../../shared/messaging/kafka.ts";

const ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/gozon/abc-1";
const BROKER_LISTS = {
  BootstrapBrokerStringSaslIam: "b-1.gozon:9098",
  BootstrapBrokerStringTls: "b-1.gozon:9094",
  BootstrapBrokerString: "b-1.gozon:9092",
};
const msk = (answer: Partial<typeof BROKER_LISTS>) => ({
  send: async (command: unknown) => {
    assert.ok(command instanceof GetBootstrapBrokersCommand);
    return answer;
  },
});

describe("Kafka authentication (KAFKA_AUTH)", () => {
  it("stays plaintext locally and is IAM when the brokers come from MSK, unless said otherwise", () => {
    assert.equal(loadConfig({}).kafkaAuth, "none");
    assert.equal(
      loadConfig({ KAFKA_BROKERS: "127.0.0.1:9092", MSK_CLUSTER_ARN: ARN, KAFKA_AUTH: "" }).kafkaAuth,
      "none",
    );
    assert.equal(loadConfig({ MSK_CLUSTER_ARN: ARN }).kafkaAuth, "iam");
    assert.equal(loadConfig({ MSK_CLUSTER_ARN: ARN, KAFKA_AUTH: "tls" }).kafkaAuth, "tls");
    assert.throws(() => loadConfig({ KAFKA_AUTH: "scram" }), /KAFKA_AUTH must be one of none, tls, iam/);
  });

  it("gives the Kafka client nothing, TLS, or TLS with SASL/OAUTHBEARER tokens signed by the function's credentials", async () => {
    assert.deepEqual(kafkaSecurity({ kafkaAuth: "none", awsRegion: "us-east-1" }), {});
    assert.deepEqual(kafkaSecurity({ kafkaAuth: "tls", awsRegion: "us-east-1" }), { tls: {} });
    const iam = kafkaSecurity({ kafkaAuth: "iam", awsRegion: "us-east-1" });
    assert.deepEqual(iam.tls, {});
    const sasl = iam.sasl as { mechanism: string; token: () => Promise<string> };
    assert.equal(sasl.mechanism, "OAUTHBEARER");
    // The signer presigns locally with whatever credentials the chain finds (here: made-up ones).
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_EC2_METADATA_DISABLED: "true",
    });
    delete process.env.AWS_PROFILE;
    try {
      const value = await sasl.token();
      const url = new URL(Buffer.from(value, "base64url").toString("utf8"));
      assert.equal(url.hostname, "kafka.us-east-1.amazonaws.com");
      assert.equal(url.searchParams.get("Action"), "kafka-cluster:Connect");
      assert.match(url.searchParams.get("X-Amz-Credential") ?? "", /^AKIDEXAMPLE\//);
    } finally {
      process.env = saved;
    }
  });

  it("asks MSK for the broker list of its way of authenticating", async () => {
    assert.deepEqual(await discoverBrokers(loadConfig({ MSK_CLUSTER_ARN: ARN }), msk(BROKER_LISTS) as never), [
      "b-1.gozon:9098",
    ]);
    assert.deepEqual(
      await discoverBrokers(loadConfig({ MSK_CLUSTER_ARN: ARN, KAFKA_AUTH: "tls" }), msk(BROKER_LISTS) as never),
      ["b-1.gozon:9094"],
    );
    await assert.rejects(
      discoverBrokers(loadConfig({ MSK_CLUSTER_ARN: ARN }), msk({ BootstrapBrokerString: "b-1.gozon:9092" }) as never),
      /reported no BootstrapBrokerStringSaslIam \(KAFKA_AUTH=iam: is that access enabled on the cluster\?\)/,
    );
  });
});
