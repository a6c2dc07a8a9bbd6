import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, mkdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Admin } from "@platformatic/kafka";
import { describeExit, onPath } from "../core/process.ts";
import type { Part } from "../core/supervisor.ts";
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

const JVM = [
  "-Xms64m",
  "-Xmx512m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-XX:-UsePerfData",
  "-Djava.awt.headless=true",
];

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
      if (!(await onPath("java")))
        throw new Error("Java is not installed: install Java 17, or set KAFKA_BROKERS to a broker you run");
      const classpath = (await ensureKafkaJars(undefined, options.log)).join(path.delimiter);
      const jvm = [...JVM, `-Dlog4j2.configurationFile=${log4jFile}`, "-cp", classpath];
      const classes = await classArchive(classpath);
      if (attempt.fresh) {
        const dataDir = path.join(options.dir, "data");
        await rm(options.dir, { recursive: true, force: true });
        await mkdir(dataDir, { recursive: true });
        await writeFile(propertiesFile, serverProperties(dataDir, options.port, options.controllerPort));
        await writeFile(log4jFile, LOG4J2);
        const format = attempt.spawn(
          "java",
          [
            ...jvm,
            ...classes.formatterFlags,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            clusterId(),
            "-c",
            propertiesFile,
          ],
          { logFile },
        );
        const { code } = await format.exited;
        if (code !== 0) throw new Error(`formatting the storage failed (${describeExit(format.exitStatus!)})`);
      }
      const java = attempt.spawn("java", [...jvm, ...classes.flags, "kafka.Kafka", propertiesFile], { logFile });
      await attempt.wait(
        async () => {
          const admin = new Admin({
            clientId: "readiness",
            bootstrapBrokers: brokers,
            connectTimeout: 1_000,
            requestTimeout: 5_000,
            retries: 0,
          });
          try {
            return (await admin.metadata({ topics: [] })).brokers.size > 0;
          } finally {
            await admin.close().catch(() => undefined);
          }
        },
        { what: `Kafka to answer on ${brokers[0]}`, exited: java, intervalMs: 100 },
      );
      classes.afterReady();
      return java;
    },
  };
}

/**
 * AppCDS: the broker's classes, parsed once and mapped from an archive on later starts, which
 * saves about 40 % of the JVM's start-up (3.8 s to 2.1 s here). A broker without an archive lists
 * the classes it loads; once it serves, a JVM of its own at the lowest priority writes the archive
 * from that list (about 10 s of one core), so no start and no stop waits for it. That JVM belongs
 * to the machine's cache, not to the stack: it runs detached, with nothing of the stack in its
 * environment, and finishes even after the shop has stopped (a first session stopped at once would
 * otherwise never leave an archive). It writes under a scratch name that becomes the archive only
 * when complete; one at a time (a marker says one is under way). The archive only matches this
 * exact, sorted classpath; on a mismatch the JVM says so in broker.log and starts without it.
 */
async function classArchive(
  classpath: string,
): Promise<{ flags: string[]; formatterFlags: string[]; afterReady(): void }> {
  const archive = path.join(kafkaLibDir(), "..", "broker.jsa");
  const exists = (file: string) =>
    access(file).then(
      () => true,
      () => false,
    );
  if (await exists(archive)) {
    // The storage formatter loads a subset of the broker's classes: it can map them too.
    const flags = [`-XX:SharedArchiveFile=${archive}`];
    return { flags, formatterFlags: flags, afterReady: () => undefined };
  }
  const underWay = `${archive}.writing`;
  const since = await stat(underWay).then(
    (s) => Date.now() - s.mtimeMs,
    () => Infinity,
  );
  if (since < 120_000) return { flags: [], formatterFlags: [], afterReady: () => undefined };
  const pending = `${archive}.${process.pid}.${Date.now()}`;
  const classList = `${pending}.classes`;
  return {
    flags: [`-XX:DumpLoadedClassList=${classList}`],
    formatterFlags: [],
    afterReady() {
      const script =
        'touch "$4"; nice -n 19 java -Xshare:dump -XX:SharedClassListFile="$1" -XX:SharedArchiveFile="$2" -cp "$5" > /dev/null 2>&1 && mv -f "$2" "$3"; rm -f "$1" "$2" "$4"';
      const dump = spawn("sh", ["-c", script, "class-archive", classList, pending, archive, underWay, classpath], {
        detached: true,
        stdio: "ignore",
        env: { PATH: process.env.PATH ?? "", ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}) },
      });
      dump.on("error", () => undefined);
      dump.unref();
    },
  };
}

/** Creates the topics that do not exist yet and waits for their leaders. */
export async function ensureTopics(brokers: string[], topics: string[], numPartitions = 3): Promise<void> {
  const admin = new Admin({
    clientId: "topics",
    bootstrapBrokers: brokers,
    connectTimeout: 3_000,
    requestTimeout: 10_000,
    retries: 5,
    retryDelay: 250,
  });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({ topics: missing, partitions: numPartitions, replicas: 1 });
      // A topic is usable once each of its partitions has a leader.
      for (let tries = 0; ; tries += 1) {
        const led = await admin.metadata({ topics: missing, forceUpdate: true }).then(
          (metadata) => missing.every((t) => metadata.topics.get(t)?.partitions.every((p) => p.leader >= 0)),
          () => false, // not known yet to the broker's metadata: ask again
        );
        if (led) break;
        if (tries >= 100) throw new Error(`no leaders for ${missing.join(", ")} within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}
