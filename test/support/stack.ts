import { startStack, type RunningStack } from "../../local/stack.ts";

/** Ports apart from `npm start`'s, so the tests can run while the shop is up. */
export const TEST_PORTS = {
  http: 4000, websocket: 4001, lambda: 4002, frontend: 4008,
  kafka: 19092, kafkaController: 19093, ordersDb: 56432, paymentsDb: 56433,
};

/** The real stack (Kafka, both Postgres servers, serverless-offline) for one test file. */
export async function startTestStack(name: string): Promise<RunningStack> {
  const lines: string[] = [];
  try {
    return await startStack({
      name: `test-${name}`,
      ports: TEST_PORTS,
      progress: (line) => console.log(`  [stack] ${line}`),
      output: (line) => {
        lines.push(line);
        if (process.env.STACK_LOGS) console.log(line);
      },
    });
  } catch (error) {
    console.log(lines.slice(-60).join("\n"));
    throw error;
  }
}
