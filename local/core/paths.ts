import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, whatever the working directory. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Downloaded tools (Kafka's jars): kept between runs, never committed. */
export const CACHE_DIR = path.join(ROOT, ".cache");
/** Data of local instances: recreated by every run, never committed. */
export const LOCAL_DIR = path.join(ROOT, ".local");
