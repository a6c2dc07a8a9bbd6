import { WARM_UP_EVENT, WARMED } from "../../shared/handlers/warm-up.ts";
import { localFunctionNames } from "./functions.ts";

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
