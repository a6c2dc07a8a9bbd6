import { startStack, type RunningStack, type StackPorts } from "../../local/stack.ts";

/** Ports apart from `npm start`'s, so the tests can run while the shop is up. */
export const TEST_PORTS = {
  http: 4000, websocket: 4001, lambda: 4002, frontend: 4008,
  kafka: 19092, kafkaController: 19093, ordersDb: 56432, paymentsDb: 56433,
};

/**
 * The real stack (Kafka, both Postgres servers, serverless-offline) for one test file; `progress`
 * sees the supervisor's lines too (a part died, is back).
 */
export async function startTestStack(name: string, options: { ports?: StackPorts; progress?: (line: string) => void } = {}): Promise<RunningStack> {
  const lines: string[] = [];
  try {
    return await startStack({
      name: `test-${name}`,
      ports: options.ports ?? TEST_PORTS,
      progress: (line) => {
        console.log(`  [stack] ${line}`);
        options.progress?.(line);
      },
      output: (line) => {
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
