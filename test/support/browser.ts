import { access, constants, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { CACHE_DIR } from "../../local/core/paths.ts";

/**
 * Headless Chromium for the browser tests, found without a download at test time and without apt:
 * the one CHROMIUM_PATH names, else the system's, else the one that comes from the npm registry
 * inside @sparticuz/chromium (its binary ships in the package, Brotli-compressed), unpacked once
 * into .cache/chromium/<version>/.
 */
export async function launchChromium(): Promise<Browser> {
  const found = await chromiumExecutable();
  return chromium.launch({ executablePath: found.path, args: FLAGS, env: { ...process.env, ...found.env } });
}

/**
 * As root, without the sandbox (it needs user namespaces a container may not give); on a machine
 * whose network ends at loopback, nothing that calls home at every start.
 */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

const SYSTEM_CHROMIUMS = ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"];

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

interface Found {
  path: string;
  env?: NodeJS.ProcessEnv;
}

async function chromiumExecutable(): Promise<Found> {
  if (process.env.CHROMIUM_PATH) {
    if (!(await executable(process.env.CHROMIUM_PATH)))
      throw new Error(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} is not an executable file`);
    return { path: process.env.CHROMIUM_PATH };
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    for (const name of SYSTEM_CHROMIUMS) {
      const candidate = path.join(dir, name);
      if (await executable(candidate)) return { path: candidate };
    }
  }
  return packagedChromium();
}

/**
 * @sparticuz/chromium unpacks into os.tmpdir(); here TMPDIR points it at a scratch folder under
 * .cache/ that becomes the version's folder only once complete, so an interrupted unpack is never
 * taken for a browser, and another version left in /tmp is never picked up.
 */
async function packagedChromium(): Promise<Found> {
  // Its entry is build/index.js; the package's exports hide package.json.
  const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.resolve("@sparticuz/chromium"))), "..");
  const { version } = JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8")) as { version: string };
  const dir = path.join(CACHE_DIR, "chromium", version);
  const binary = path.join(dir, "chromium");
  // Its fonts.conf names /tmp/fonts; without fonts it can find, its renderer aborts in Skia's font manager.
  const found = { path: binary, env: { FONTCONFIG_PATH: path.join(dir, "fontconfig") } };
  if (await executable(binary)) return found;

  const scratch = `${dir}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const tmpdir = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
  try {
    const { default: Chromium } = (await import("@sparticuz/chromium")) as {
      default: { executablePath(input?: string): Promise<string> };
    };
    await Chromium.executablePath(path.join(packageDir, "bin"));
    await mkdir(path.join(scratch, "fontconfig"));
    await writeFile(path.join(scratch, "fontconfig", "fonts.conf"), fontsConf(dir));
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
  }
  await rename(scratch, dir).catch(async (error: unknown) => {
    // Another test process unpacked the same version first: use that one.
    await rm(scratch, { recursive: true, force: true });
    if (!(await executable(binary))) throw error;
  });
  return found;
}

/** Fontconfig for the unpacked browser: its own fonts, and the system's if it has any. */
function fontsConf(dir: string): string {
  const dirs = [path.join(dir, "fonts", "fonts"), "/usr/share/fonts", "/usr/local/share/fonts"];
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
${dirs.map((d) => `  <dir>${d}</dir>`).join("\n")}
  <cachedir>${path.join(dir, "fontconfig", "cache")}</cachedir>
</fontconfig>
`;
}
