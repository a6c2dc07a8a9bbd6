import { startStack, type RunningStack, type StackPorts } from "../../local/stack.ts";

export { localFunctionName } from "../../local/offline/functions.ts";

/**
 * Ports apart from `npm start`'s, so the tests can run while the shop is up. Every port a test or
 * benchmark listens on is below 32768: Linux gives ports from 32768 up to outgoing connections, and
 * a server cannot listen on a port an open connection happens to hold. TEST_PORT_SHIFT moves
 * them and the stacks' folders, for a second run beside these (another checkout, another person).
 */
const shift = Number(process.env.TEST_PORT_SHIFT ?? 0);
export const TEST_PORTS: StackPorts = {
  http: 4000 + shift,
  websocket: 4001 + shift,
  lambda: 4002 + shift,
  frontend: 4008 + shift,
  kafka: 19092 + shift,
  kafkaController: 19093 + shift,
  ordersDb: 16432 + shift,
  paymentsDb: 16433 + shift,
  cognito: 4009 + shift,
  zipkin: 4010 + shift,
};

/** The folder under .local/ of a test stack: moved by TEST_PORT_SHIFT too. */
export const testStackName = (name: string): string => `test-${name}${shift ? `-${shift}` : ""}`;

/** A suite's own ports, moved by TEST_PORT_SHIFT like the others. */
export function shifted<T extends Record<string, number>>(ports: T): T {
  return Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, port + shift])) as T;
}

/**
 * The real stack (Kafka, both Postgres servers, cognito-local, serverless-offline) for one test
 * file; `progress` sees the supervisor's lines too (a part died, is back), `output` every line
 * serverless-offline and the Kafka event source print. Sign-in is on unless
 * `env` says AUTH=off (for tests of money and faults, not of identity). Traces are off (no Zipkin,
 * no JVM for it, no spans sent) unless `env` or the environment sets TRACES.
 */
export async function startTestStack(
  name: string,
  options: {
    ports?: StackPorts;
    progress?: (line: string) => void;
    output?: (line: string) => void;
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<RunningStack> {
  const lines: string[] = [];
  try {
    return await startStack({
      name: testStackName(name),
      ports: options.ports ?? TEST_PORTS,
      env: { TRACES: "off", ...process.env, ...options.env },
      progress: (line) => {
        console.log(`  [stack] ${line}`);
        options.progress?.(line);
      },
      output: (line) => {
        options.output?.(line);
        lines.push(line);
        if (lines.length > 200) lines.shift();
        if (process.env.STACK_LOGS) console.log(line);
      },
    });
  } catch (error) {
    console.log(lines.slice(-60).join("\n"));
    throw error;
  }
}
