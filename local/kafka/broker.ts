import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { ensureKafkaJars, kafkaLibDir } from "./install.ts";

export interface KafkaBrokerOptions {
  dir: string;
  port?: number;
  controllerPort?: number;
  log?: (line: string) => void;
}

export interface RunningKafka {
  brokers: string[];
  pid: number | undefined;
  /** A string only this broker's command line holds. */
  marker: string;
  stop(): Promise<void>;
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
 * A single-node Apache Kafka broker in KRaft mode, run with java from Maven Central's jars:
 * fresh storage every start, ready only once a client gets real metadata back.
 */
export async function startKafkaBroker(options: KafkaBrokerOptions): Promise<RunningKafka> {
  const port = options.port ?? 9092;
  const controllerPort = options.controllerPort ?? 9093;
  const log = options.log ?? (() => undefined);
  const classpath = (await ensureKafkaJars(undefined, log)).join(path.delimiter);
  const dataDir = path.join(options.dir, "data");
  await rm(options.dir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const propertiesFile = path.join(options.dir, "server.properties");
  const log4jFile = path.join(options.dir, "log4j2.properties");
  await writeFile(propertiesFile, serverProperties(dataDir, port, controllerPort));
  await writeFile(log4jFile, LOG4J2);
  const jvm = [...JVM, `-Dlog4j2.configurationFile=${log4jFile}`, "-cp", classpath];

  await promisify(execFile)("java", [...jvm, "kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", propertiesFile]);

  const logFile = path.join(options.dir, "broker.log");
  const out = createWriteStream(logFile);
  const classes = await classArchive();
  const java: ChildProcess = spawn("java", [...jvm, ...classes.flags, "kafka.Kafka", propertiesFile], { stdio: ["ignore", "pipe", "pipe"] });
  java.stdout?.pipe(out);
  java.stderr?.pipe(out);
  let exited: number | null = null;
  const exit = new Promise<void>((resolve) => java.once("exit", (code) => ((exited = code ?? -1), resolve())));

  const brokers = [`127.0.0.1:${port}`];
  const stop = async () => {
    if (exited !== null) return;
    java.kill("SIGTERM");
    const timer = setTimeout(() => java.kill("SIGKILL"), 30_000);
    await exit;
    clearTimeout(timer);
    await classes.keep();
  };
  try {
    await waitUntilAnswering(brokers, () => exited, 90_000);
  } catch (error) {
    await stop();
    const tail = (await readFile(logFile, "utf8").catch(() => "")).split("\n").slice(-30).join("\n");
    throw new Error(`${(error as Error).message}\n--- ${logFile} (tail) ---\n${tail}`);
  }
  return { brokers, pid: java.pid, marker: propertiesFile, stop };
}

/**
 * AppCDS: the broker's classes, parsed once and mapped from an archive on later starts, which
 * saves about a third of the JVM's start-up. The first run writes the archive when it exits, to a
 * name of its own that becomes the archive only then, so a crash or a second stack never leaves a
 * half-written one. The archive only matches this exact, sorted classpath; on a mismatch the JVM
 * says so in broker.log and starts without it.
 */
async function classArchive(): Promise<{ flags: string[]; keep(): Promise<void> }> {
  const archive = path.join(kafkaLibDir(), "..", "broker.jsa");
  const exists = await access(archive).then(() => true, () => false);
  if (exists) return { flags: [`-XX:SharedArchiveFile=${archive}`], keep: async () => undefined };
  const pending = `${archive}.${process.pid}.${Date.now()}`;
  return {
    flags: [`-XX:ArchiveClassesAtExit=${pending}`],
    keep: () => rename(pending, archive).catch(() => rm(pending, { force: true })),
  };
}

async function waitUntilAnswering(brokers: string[], exited: () => number | null, timeoutMs: number): Promise<void> {
  const kafka = new Kafka({ clientId: "readiness", brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, retry: { retries: 0 } });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited() !== null) throw new Error(`Kafka broker exited with code ${exited()} before it was ready`);
    const admin = kafka.admin();
    try {
      await admin.connect();
      const { brokers: found } = await admin.describeCluster();
      if (found.length > 0) return;
    } catch {
      // not up yet
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`Kafka did not answer within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
