// A serverless plugin that plays Lambda's Kafka event source mappings: `sls offline start` runs
// them (serverless-offline ignores msk and kafka events), `sls package` writes their failure
// settings into the EventSourceMappings. Plain JavaScript on purpose: the consumers run in a child
// process of their own (consumers.ts), so serverless-offline's event loop, which runs every
// function, spends nothing on Kafka, and a crash of either leaves the other standing.
const { spawn } = require("node:child_process");
const path = require("node:path");

class KafkaEventSourcePlugin {
  constructor(serverless, options, { log }) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    this.child = undefined;
    this.stopping = false;
    this.hooks = {
      // serverless-offline's own init hook runs first (it is listed first), so its Lambda endpoint is up.
      "offline:start:init": () => this.start(),
      "before:offline:start:end": () => this.stop(),
      "after:package:compileEvents": () => this.mergeIntoTemplate(),
    };
  }

  /** Every msk/kafka event of the service, with the settings `custom.kafkaEventSource.mappings` gives its function. */
  mappings() {
    const service = this.serverless.service;
    const settings = (service.custom && service.custom.kafkaEventSource && service.custom.kafkaEventSource.mappings) || {};
    return service.getAllFunctions().flatMap((functionKey) => {
      const fn = service.getFunction(functionKey);
      return (fn.events || []).flatMap((event) => {
        const spec = event.msk || event.kafka;
        if (!spec || spec.enabled === false) return [];
        return [{
          functionKey,
          functionName: fn.name,
          source: event.msk ? { kind: "msk", arn: String(event.msk.arn) } : { kind: "kafka" },
          topic: spec.topic,
          batchSize: spec.batchSize || 100,
          fromBeginning: spec.startingPosition !== "LATEST",
          groupId: spec.consumerGroupId || `${service.service}-${functionKey}`,
          settings: settings[functionKey] || {},
        }];
      });
    });
  }

  /** Puts each mapping's settings into its EventSourceMapping resource, under AWS's own names. */
  mergeIntoTemplate() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const naming = this.serverless.getProvider("aws").naming;
    for (const mapping of this.mappings()) {
      const functionId = naming.getLambdaLogicalId(mapping.functionKey);
      const target = Object.values(resources).find(
        (r) =>
          r.Type === "AWS::Lambda::EventSourceMapping" &&
          JSON.stringify(r.Properties.FunctionName).includes(`"${functionId}"`) &&
          (r.Properties.Topics || []).includes(mapping.topic),
      );
      if (!target) throw new Error(`kafkaEventSource: no EventSourceMapping of ${mapping.functionKey} for ${mapping.topic}`);
      Object.assign(target.Properties, mapping.settings);
    }
  }

  async start() {
    const custom = this.serverless.service.custom || {};
    const offline = custom["serverless-offline"] || {};
    const host = String(this.options.host || offline.host || "127.0.0.1");
    this.setup = {
      brokers: String((custom.kafkaEventSource && custom.kafkaEventSource.brokers) || "127.0.0.1:9092").split(","),
      lambdaEndpoint: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${Number(this.options.lambdaPort || offline.lambdaPort || 3002)}`,
      mappings: this.mappings(),
    };
    this.spawnConsumers();
  }

  /** The consumers' process; one that dies is replaced, as the start command does with its parts. */
  spawnConsumers() {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "consumers.ts")], {
      env: { ...process.env, KAFKA_EVENT_SOURCE: JSON.stringify(this.setup) },
      // The IPC channel closes when serverless-offline dies, however it dies: the consumers then stop too.
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    child.once("exit", (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.log.warning(`Kafka event source exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`}); restarting`);
      setTimeout(() => this.stopping || this.spawnConsumers(), 1000);
    });
  }

  async stop() {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

module.exports = KafkaEventSourcePlugin;
