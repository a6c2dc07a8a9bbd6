import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { ROOT } from "../core/paths.ts";

/** The stage serverless-offline runs when none is given. */
const LOCAL_STAGE = "dev";

/** A function's name as serverless-offline knows it: `<service>-<stage>-<key>`, from serverless.yml. */
export function localFunctionName(key: string): string {
  return `${manifest().service}-${LOCAL_STAGE}-${key}`;
}

/** Every function serverless.yml declares, by the name serverless-offline knows it by. */
export function localFunctionNames(): string[] {
  return Object.keys(manifest().functions).map(localFunctionName);
}

let read: { service: string; functions: Record<string, unknown> } | undefined;
function manifest() {
  read ??= parseYaml(readFileSync(path.join(ROOT, "serverless.yml"), "utf8")) as typeof read & object;
  return read;
}
