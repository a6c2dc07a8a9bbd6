import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The function an invocation runs. On AWS a process runs one function, and its name is in the
 * environment; locally one process runs every function (serverless-offline in-process, one module
 * graph), so the handler wrappers set it per invocation and what must be per function (the log
 * lines' `fn`, the database pools, as Lambda keeps them per container) asks here.
 */
const invocation = new AsyncLocalStorage<string>();

/**
 * Whether this process is a Lambda container on AWS (its runtime API is there only). There a
 * container is frozen once it answers, so what an invocation leaves to write (log lines, spans,
 * metrics) is written before it answers; elsewhere the process lives on and writes it itself.
 */
export const onLambda = Boolean(process.env.AWS_LAMBDA_RUNTIME_API);

/** Runs `work` as an invocation of `functionName`. */
export function inInvocation<T>(functionName: string, work: () => Promise<T>): Promise<T> {
  return invocation.run(functionName, work);
}

/** The function of the invocation under way, if any. */
export function currentFunction(): string | undefined {
  return invocation.getStore() ?? process.env.AWS_LAMBDA_FUNCTION_NAME;
}
