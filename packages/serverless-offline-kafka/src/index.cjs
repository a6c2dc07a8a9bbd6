// @ts-check
// A serverless plugin that plays Lambda's Kafka event source mappings: `sls offline start` runs
// them (serverless-offline ignores msk and kafka events), `sls package` writes their failure
// settings into the EventSourceMappings. CommonJS because the framework require()s its plugins. The
// consumers run in a child process of their own (consumers.js), so serverless-offline's event loop,
// which runs every function, spends nothing on Kafka, and a crash of either leaves the other
// standing. Everything here is plain JavaScript: it runs from node_modules as it is, with no loader
// and no build step.
const { spawn } = require("node:child_process");
const path = require("node:path");

// The parts of the framework's objects this plugin reads (osls and the Serverless Framework have the
// same shapes here).
/** @typedef {{ arn?: unknown, topic: string, batchSize?: number, startingPosition?: string, consumerGroupId?: string, enabled?: boolean }} KafkaEvent */
/** @typedef {{ msk?: KafkaEvent, kafka?: KafkaEvent }} FunctionEvent */
/** @typedef {{ Type: string, Properties: Record<string, unknown> & { Topics?: string[] } }} Resource */
/**
 * @typedef {object} Service
 * @property {string} service
 * @property {{ kafkaEventSource?: { brokers?: string, mappings?: Record<string, Record<string, unknown>> }, "serverless-offline"?: { host?: string, lambdaPort?: number } }} [custom]
 * @property {{ compiledCloudFormationTemplate: { Resources: Record<string, Resource> } }} provider
 * @property {() => string[]} getAllFunctions
 * @property {(key: string) => { name: string, events?: FunctionEvent[] }} getFunction
 */
/**
 * @typedef {object} Serverless
 * @property {Service} service
 * @property {(name: "aws") => { naming: { getLambdaLogicalId(functionKey: string): string } }} getProvider
 */
/** @typedef {{ warning(line: string): void }} Log */

class KafkaEventSourcePlugin {
  /**
   * @param {Serverless} serverless
   * @param {{ host?: string, lambdaPort?: number }} options
   * @param {{ log: Log }} utils
   */
  constructor(serverless, options, { log }) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    /** @type {import("node:child_process").ChildProcess | undefined} */
    this.child = undefined;
    this.stopping = false;
    /** @type {{ brokers: string[], lambdaEndpoint: string, mappings: ReturnType<KafkaEventSourcePlugin["mappings"]> } | undefined} */
    this.setup = undefined;
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
    const settings =
      (service.custom && service.custom.kafkaEventSource && service.custom.kafkaEventSource.mappings) || {};
    return service.getAllFunctions().flatMap((functionKey) => {
      const fn = service.getFunction(functionKey);
      return (fn.events || []).flatMap((event) => {
        const spec = event.msk || event.kafka;
        if (!spec || spec.enabled === false) return [];
        return [
          {
            functionKey,
            functionName: fn.name,
            source: event.msk ? { kind: "msk", arn: String(event.msk.arn) } : { kind: "kafka" },
            topic: spec.topic,
            batchSize: spec.batchSize || 100,
            fromBeginning: spec.startingPosition !== "LATEST",
            groupId: spec.consumerGroupId || `${service.service}-${functionKey}`,
            settings: settings[functionKey] || {},
          },
        ];
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
      if (!target)
        throw new Error(`kafkaEventSource: no EventSourceMapping of ${mapping.functionKey} for ${mapping.topic}`);
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

  /** The consumers' process; one that dies is replaced, as Lambda replaces a poller. */
  spawnConsumers() {
    const child = spawn(process.execPath, [path.join(__dirname, "consumers.js")], {
      env: { ...process.env, KAFKA_EVENT_SOURCE: JSON.stringify(this.setup) },
      // The IPC channel closes when serverless-offline dies, however it dies: the consumers then stop too.
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    child.once("exit", (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.log.warning(
        `Kafka event source exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`}); restarting`,
      );
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
