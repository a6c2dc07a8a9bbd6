import { execFile } from "node:child_process";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { CACHE_DIR, ROOT } from "../core/paths.ts";

export const KAFKA_VERSION = process.env.KAFKA_VERSION ?? "4.1.2";
const POM = path.join(ROOT, "local", "kafka", "pom.xml");

export const kafkaLibDir = (version = KAFKA_VERSION) => path.join(CACHE_DIR, "kafka", version, "lib");

async function jarsIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith(".jar")).sort();
  } catch {
    return [];
  }
}

/**
 * The broker's jars from Maven Central, copied once into .cache/kafka/<version>/lib. The copy goes
 * to a scratch folder first, so an interrupted download never looks like a complete one.
 */
export async function ensureKafkaJars(
  version = KAFKA_VERSION,
  log: (line: string) => void = () => undefined,
): Promise<string[]> {
  const lib = kafkaLibDir(version);
  const existing = await jarsIn(lib);
  if (existing.some((j) => j.startsWith(`kafka_2.13-${version}`))) return existing.map((j) => path.join(lib, j));
  log(`downloading Apache Kafka ${version} jars from Maven Central (once) ...`);
  const scratch = `${lib}.partial`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(path.dirname(lib), { recursive: true });
  await promisify(execFile)(
    "mvn",
    [
      "-B",
      "-q",
      "-f",
      POM,
      "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
      "-DincludeScope=runtime",
      `-Dkafka.version=${version}`,
      `-DoutputDirectory=${scratch}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: NodeJS.ErrnoException & { stdout?: string }) => {
    if (error.code === "ENOENT")
      throw new Error(
        "Maven (mvn) is not installed: install Maven and Java 17, or set KAFKA_BROKERS to a broker you run",
      );
    throw new Error(
      `Maven could not fetch Kafka ${version}'s jars from Maven Central (is it reachable?): ${(error.stdout ?? error.message).trim().split("\n").slice(-3).join(" ")}`,
    );
  });
  await rm(lib, { recursive: true, force: true });
  await rename(scratch, lib);
  return (await jarsIn(lib)).map((j) => path.join(lib, j));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const jars = await ensureKafkaJars(KAFKA_VERSION, console.log);
  console.log(`Kafka ${KAFKA_VERSION}: ${jars.length} jars in ${kafkaLibDir()}`);
}
