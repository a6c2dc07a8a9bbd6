import { randomBytes } from "node:crypto";
import { access, mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { describeExit } from "../process.ts";
import type { Part } from "../supervisor.ts";
import { ensureKafkaJars, kafkaLibDir } from "./install.ts";

export interface KafkaBrokerOptions {
  dir: string;
  port: number;
  controllerPort: number;
  log?: (line: string) => void;
}

const LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
`;

function serverProperties(dataDir: string, port: number, controllerPort: number): string {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=3
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# A broker restarted after a crash registers only once its dead self's session has expired (9 s by default).
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
log.cleaner.dedupe.buffer.size=8388608
num.network.threads=2
num.io.threads=2
`;
}

/** A cluster id is 16 random bytes in base64url; Kafka rejects one starting with "-". */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

const JVM = ["-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Djava.awt.headless=true"];

/**
 * A single-node Apache Kafka broker in KRaft mode, run with java from Maven Central's jars. The
 * first start of a run formats fresh storage; a restart runs on what is there. Ready only once a
 * client gets real metadata back.
 */
export function kafkaPart(options: KafkaBrokerOptions): Part {
  const propertiesFile = path.join(options.dir, "server.properties");
  const log4jFile = path.join(options.dir, "log4j2.properties");
  const logFile = path.join(options.dir, "broker.log");
  const brokers = [`127.0.0.1:${options.port}`];
  return {
    name: "kafka",
    label: "Kafka broker",
    marker: propertiesFile,
    startTimeoutMs: 90_000,
    // A clean shutdown lets the next start skip log recovery.
    stopGraceMs: 5_000,
    async launch(attempt) {
      const classpath = (await ensureKafkaJars(undefined, options.log)).join(path.delimiter);
      const jvm = [...JVM, `-Dlog4j2.configurationFile=${log4jFile}`, "-cp", classpath];
      const classes = await classArchive();
      if (attempt.fresh) {
        const dataDir = path.join(options.dir, "data");
        await rm(options.dir, { recursive: true, force: true });
        await mkdir(dataDir, { recursive: true });
        await writeFile(propertiesFile, serverProperties(dataDir, options.port, options.controllerPort));
        await writeFile(log4jFile, LOG4J2);
        const format = attempt.spawn("java", [...jvm, ...classes.reuse, "kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", propertiesFile], { logFile });
        const { code } = await format.exited;
        if (code !== 0) throw new Error(`formatting the storage failed (${describeExit(format.exitStatus!)})`);
      }
      const java = attempt.spawn("java", [...jvm, ...classes.flags, "kafka.Kafka", propertiesFile], { logFile });
      void java.exited.then(() => classes.keep());
      const kafka = new Kafka({ clientId: "readiness", brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, retry: { retries: 0 } });
      await attempt.wait(
        async () => {
          const admin = kafka.admin();
          try {
            await admin.connect();
            return (await admin.describeCluster()).brokers.length > 0;
          } finally {
            await admin.disconnect().catch(() => undefined);
          }
        },
        { what: `Kafka to answer on ${brokers[0]}`, exited: java, intervalMs: 100 },
      );
      return java;
    },
  };
}

/**
 * AppCDS: the broker's classes, parsed once and mapped from an archive on later starts, which
 * saves about a third of the JVM's start-up. The first run writes the archive when it exits, to a
 * name of its own that becomes the archive only then, so a crash or a second stack never leaves a
 * half-written one. The archive only matches this exact, sorted classpath; on a mismatch the JVM
 * says so in broker.log and starts without it.
 */
async function classArchive(): Promise<{ flags: string[]; reuse: string[]; keep(): Promise<void> }> {
  const archive = path.join(kafkaLibDir(), "..", "broker.jsa");
  const exists = await access(archive).then(() => true, () => false);
  // The storage formatter loads a subset of the broker's classes: it can map them too.
  if (exists) return { flags: [`-XX:SharedArchiveFile=${archive}`], reuse: [`-XX:SharedArchiveFile=${archive}`], keep: async () => undefined };
  const pending = `${archive}.${process.pid}.${Date.now()}`;
  return {
    flags: [`-XX:ArchiveClassesAtExit=${pending}`],
    reuse: [],
    keep: () => rename(pending, archive).catch(() => rm(pending, { force: true })),
  };
}

/** Creates the topics that do not exist yet and waits for their leaders. */
export async function ensureTopics(brokers: string[], topics: string[], numPartitions = 3): Promise<void> {
  const admin = new Kafka({ clientId: "topics", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })), waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
}
