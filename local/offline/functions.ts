import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { FUNCTIONS } from "../../shared/contract/manifest.ts";
import { ROOT } from "../core/paths.ts";

/** The stage serverless-offline runs when none is given. */
const LOCAL_STAGE = "dev";

/** A function's name as serverless-offline knows it: `<service>-<stage>-<key>` (serverless.yml's service). */
export function localFunctionName(key: string): string {
  return `${service()}-${LOCAL_STAGE}-${key}`;
}

/** Every function of the manifest (serverless.yml's functions), by the name serverless-offline knows it by. */
export function localFunctionNames(): string[] {
  return Object.keys(FUNCTIONS).map(localFunctionName);
}

let read: string | undefined;
function service(): string {
  read ??= (parseYaml(readFileSync(path.join(ROOT, "serverless.yml"), "utf8")) as { service: string }).service;
  return read;
}
