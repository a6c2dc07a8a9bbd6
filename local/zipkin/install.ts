import { execFile } from "node:child_process";
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import JSZip from "jszip";
import { CACHE_DIR } from "../core/paths.ts";
import { onPath } from "../core/process.ts";

export const ZIPKIN_VERSION = process.env.ZIPKIN_VERSION ?? "3.5.1";

const versionDir = (version: string) => path.join(CACHE_DIR, "zipkin", version);
export const zipkinJar = (version = ZIPKIN_VERSION) =>
  path.join(versionDir(version), `zipkin-server-${version}-exec.jar`);

/** Maven Central can be slow; a resolver that hangs must not hang the stack. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
/** The class archive's training run takes about 4 s here. */
const TRAINING_TIMEOUT_MS = 120_000;

/**
 * Small heap, one GC thread, C1 only: Zipkin serves one developer. 384 MB hold the 100,000 spans
 * of MEM_MAX_SPANS (about 1.8 KB each with its indexes, measured); with 256 MB, 100,000 spans
 * filled the old generation and 200,000 ran out of memory. Out of memory, it exits and the
 * supervisor starts a fresh one rather than leaving one that limps.
 */
export const ZIPKIN_JVM = [
  "-Xms32m",
  "-Xmx384m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-XX:CICompilerCount=1",
  "-XX:-UsePerfData",
  "-XX:+ExitOnOutOfMemoryError",
  "-Djava.awt.headless=true",
  // Its 30-line banner would push the lines that say why it failed out of the tail the supervisor shows.
  "-Dspring.main.banner-mode=off",
];
export const MEM_MAX_SPANS = 100_000;

/** How to run the unpacked server: its main class and classpath (absolute), and its class archive once there is one. */
export interface ZipkinInstall {
  mainClass: string;
  classpath: string[];
  archive: string | undefined;
}

export interface InstallOptions {
  version?: string;
  /** Stops a download or a training run under way (the stack stopped meanwhile). */
  signal?: AbortSignal;
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Scratch copies (a download, an unpacking, an archive being written: named after the pid that
 * made them) that a process killed midway left behind: 130 MB each, so they go once that pid is gone.
 */
async function sweep(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  await Promise.all(
    names.map((name) => {
      const pid = Number(/\.(?:partial|jsa)\.(\d+)(?:\.\d+)?$/.exec(name)?.[1]);
      return pid && pid !== process.pid && !alive(pid)
        ? rm(path.join(folder, name), { recursive: true, force: true })
        : undefined;
    }),
  );
}
const lastLines = (text: string) => text.trim().split("\n").slice(-3).join(" ");

/**
 * Zipkin's self-contained server (the "exec" jar, 130 MB) from Maven Central, copied once into
 * .cache/zipkin/<version>/. The copy goes to a scratch folder first, so an interrupted download
 * never looks like a complete one.
 */
export async function ensureZipkinJar(
  log: (line: string) => void = () => undefined,
  options: InstallOptions = {},
): Promise<string> {
  const version = options.version ?? ZIPKIN_VERSION;
  const jar = zipkinJar(version);
  await Promise.all([sweep(path.dirname(versionDir(version))), sweep(versionDir(version))]);
  if (await exists(jar)) return jar;
  if (!(await onPath("mvn")))
    throw new Error("Maven (mvn) is not installed: install Maven and Java 17 for Zipkin, or set TRACES=off");
  log(`downloading Zipkin ${version} from Maven Central (once, 130 MB) ...`);
  const folder = versionDir(version);
  const scratch = `${folder}.partial.${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    await promisify(execFile)(
      "mvn",
      [
        "-B",
        "-q",
        "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
        `-Dartifact=io.zipkin:zipkin-server:${version}:jar:exec`,
        `-DoutputDirectory=${scratch}`,
      ],
      // Outside the repository, so that no pom.xml around turns this into a project build.
      {
        cwd: scratch,
        maxBuffer: 16 * 1024 * 1024,
        timeout: DOWNLOAD_TIMEOUT_MS,
        killSignal: "SIGKILL",
        ...(options.signal ? { signal: options.signal } : {}),
      },
    ).catch((error: NodeJS.ErrnoException & { stdout?: string; killed?: boolean }) => {
      if (options.signal?.aborted) throw new Error("the download of Zipkin was stopped");
      if (error.killed)
        throw new Error(
          `Maven did not fetch Zipkin ${version} from Maven Central within ${DOWNLOAD_TIMEOUT_MS / 60_000} min (is it reachable? TRACES=off runs the shop without Zipkin)`,
        );
      throw new Error(
        `Maven could not fetch Zipkin ${version} from Maven Central (is it reachable? TRACES=off runs the shop without Zipkin): ${lastLines(error.stdout || error.message)}`,
      );
    });
    if (!(await exists(path.join(scratch, path.basename(jar)))))
      throw new Error(`Maven ran but left no ${path.basename(jar)} (is ZIPKIN_VERSION=${version} on Maven Central?)`);
    // A folder without the jar is what an older, broken layout left: ours replaces it.
    await rm(folder, { recursive: true, force: true });
    await rename(scratch, folder);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return jar;
}

/**
 * The jar, downloaded and unpacked, with a class archive: what zipkinPart() runs. Run as the jar
 * is, Zipkin reads every class out of jars nested in the jar, which alone costs 0.8 s of its 2.4 s
 * start here; unpacked (its own classes in a jar, since the class archive takes only jars on the
 * classpath) it starts in 1.6 s, and with the archive in about 1.0 s, at half the CPU.
 */
export async function ensureZipkin(
  log: (line: string) => void = () => undefined,
  options: InstallOptions = {},
): Promise<ZipkinInstall> {
  if (!(await onPath("java"))) throw new Error("Java is not installed: install Java 17 for Zipkin, or set TRACES=off");
  const version = options.version ?? ZIPKIN_VERSION;
  const jar = await ensureZipkinJar(log, options);
  const unpacked = path.join(versionDir(version), "unpacked");
  const launchFile = path.join(unpacked, "launch.json");
  if (!(await exists(launchFile))) {
    const scratch = `${unpacked}.partial.${process.pid}`;
    await rm(scratch, { recursive: true, force: true });
    try {
      await unpack(jar, scratch);
      // Another stack of this machine may have unpacked it meanwhile: theirs is as good.
      if (!(await exists(launchFile)))
        await rm(unpacked, { recursive: true, force: true }).then(() => rename(scratch, unpacked));
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  const launch = JSON.parse(await readFile(launchFile, "utf8")) as { mainClass: string; classpath: string[] };
  const install: ZipkinInstall = {
    mainClass: launch.mainClass,
    classpath: launch.classpath.map((file) => path.join(unpacked, file)),
    archive: undefined,
  };
  return {
    ...install,
    archive: await classArchive(install, path.join(versionDir(version), "classes.jsa"), log, options.signal),
  };
}

/** BOOT-INF/lib/*.jar as they are, BOOT-INF/classes as classes.jar, and launch.json (written last) naming the classpath in the jar's own order. */
async function unpack(jar: string, into: string): Promise<void> {
  // JSZip skips the shell script the jar starts with, which Spring Boot's own extractor refuses.
  const zip = await JSZip.loadAsync(await readFile(jar));
  const mainClass = /^Start-Class:\s*(\S+)/m.exec((await zip.file("META-INF/MANIFEST.MF")?.async("string")) ?? "")?.[1];
  const index = await zip.file("BOOT-INF/classpath.idx")?.async("string");
  if (!mainClass || !index)
    throw new Error(
      `${jar} is not Spring Boot's executable jar (no Start-Class or BOOT-INF/classpath.idx): delete it to download it again`,
    );
  const libs = [...index.matchAll(/^- "BOOT-INF\/lib\/([^"/]+)"$/gm)].map((match) => match[1]!);
  await mkdir(path.join(into, "lib"), { recursive: true });
  for (const lib of libs) {
    const entry = zip.file(`BOOT-INF/lib/${lib}`);
    if (!entry)
      throw new Error(`${jar} lists BOOT-INF/lib/${lib} but does not hold it: delete it to download it again`);
    await writeFile(path.join(into, "lib", lib), await entry.async("nodebuffer"));
  }
  // Directory entries included: Spring's classpath scanning finds packages in a jar only through them.
  const classes = new JSZip();
  zip
    .folder("BOOT-INF/classes")!
    .forEach(
      (relative, entry) =>
        void (entry.dir ? classes.folder(relative) : classes.file(relative, entry.async("nodebuffer"))),
    );
  await writeFile(path.join(into, "classes.jar"), await classes.generateAsync({ type: "nodebuffer" }));
  await writeFile(
    path.join(into, "launch.json"),
    JSON.stringify({ mainClass, classpath: ["classes.jar", ...libs.map((lib) => `lib/${lib}`)] }),
  );
}

/** The java command line of the unpacked server, listening on 127.0.0.1 only (it has no sign-in). */
export function zipkinArgs(install: ZipkinInstall, port: number, extra: string[] = []): string[] {
  return [
    ...ZIPKIN_JVM,
    ...(install.archive ? [`-XX:SharedArchiveFile=${install.archive}`] : []),
    ...extra,
    // A list in Spring's configuration is replaced whole: port and protocol are given again.
    `-Darmeria.ports[0].ip=127.0.0.1`,
    `-Darmeria.ports[0].port=${port}`,
    "-Darmeria.ports[0].protocols=http",
    "-cp",
    install.classpath.join(path.delimiter),
    install.mainClass,
  ];
}

/** Zipkin's settings, and nothing of the caller's environment that Zipkin would read as its own (KAFKA_BOOTSTRAP_SERVERS, STORAGE_TYPE ...). */
export function zipkinEnv(env: NodeJS.ProcessEnv, port: number): NodeJS.ProcessEnv {
  const keep = Object.fromEntries(
    ["PATH", "HOME", "JAVA_HOME", "LANG", "TMPDIR"].filter((name) => env[name]).map((name) => [name, env[name]]),
  );
  return { ...keep, QUERY_PORT: String(port), STORAGE_TYPE: "mem", MEM_MAX_SPANS: String(MEM_MAX_SPANS) };
}

/**
 * AppCDS: the classes Zipkin loads while it starts, parsed once and mapped from an archive on every
 * later start. A training run writes it: Spring stops right after its context is up
 * (spring.context.exit=onRefresh) and the JVM dumps what it loaded, under a scratch name that
 * becomes the archive only when complete. The archive matches only this classpath and this JVM;
 * after a Java upgrade the JVM says so in zipkin.log and starts without it. Without an archive
 * (the training failed) Zipkin starts all the same, a little slower.
 */
async function classArchive(
  install: ZipkinInstall,
  archive: string,
  log: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  if (await exists(archive)) return archive;
  log("preparing Zipkin's class archive for fast starts (once, about 4 s) ...");
  const pending = `${archive}.${process.pid}.${Date.now()}`;
  try {
    await promisify(execFile)(
      "nice",
      [
        "-n",
        "10",
        "java",
        ...zipkinArgs(install, 0, [`-XX:ArchiveClassesAtExit=${pending}`, "-Dspring.context.exit=onRefresh"]),
      ],
      {
        env: zipkinEnv(process.env, 0),
        maxBuffer: 16 * 1024 * 1024,
        timeout: TRAINING_TIMEOUT_MS,
        killSignal: "SIGKILL",
        ...(signal ? { signal } : {}),
      },
    );
    if (!(await exists(pending))) throw new Error("the JVM wrote no archive");
    await rename(pending, archive);
    return archive;
  } catch (error) {
    if (signal?.aborted) throw new Error("the preparation of Zipkin was stopped");
    const why = error as Error & { stdout?: string; killed?: boolean };
    log(
      `! Zipkin starts without a class archive (${why.killed ? `not written within ${TRAINING_TIMEOUT_MS / 1000} s` : lastLines(why.stdout || why.message)})`,
    );
    return undefined;
  } finally {
    await rm(pending, { force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const since = Date.now();
  const install = await ensureZipkin(console.log);
  console.log(
    `Zipkin ${ZIPKIN_VERSION}: ${install.classpath.length} jars, class archive ${install.archive ?? "none"} (${((Date.now() - since) / 1000).toFixed(1)} s)`,
  );
}
