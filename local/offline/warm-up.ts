import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { WARM_UP_EVENT, WARMED } from "../../shared/handlers/warm-up.ts";
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

/**
 * Sends the warm-up event (shared/handlers/warm-up.ts) to every function at once through
 * serverless-offline's Lambda endpoint, as AWS's Invoke does, and resolves once each has answered
 * it: their code is then loaded, and the first requests are served on an event loop that no longer
 * compiles and loads modules. A function that answers anything else is named in the error.
 */
export async function warmUpFunctions(lambdaEndpoint: string, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  await Promise.all(
    localFunctionNames().map(async (name) => {
      const response = await fetch(`${lambdaEndpoint}/2015-03-31/functions/${name}/invocations`, {
        method: "POST",
        body: JSON.stringify(WARM_UP_EVENT),
        signal,
      });
      const answer = await response.text();
      if (!response.ok || JSON.parse(answer) !== WARMED)
        throw new Error(`${name} answered the warm-up event with ${response.status} ${answer.slice(0, 200)}`);
    }),
  );
}
