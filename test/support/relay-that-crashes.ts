/**
 * The real outbox relay with a producer that dies (SIGKILL) right after the broker acknowledged
 * the batch and before the relay could mark its rows: the worst moment for a crash.
 */
import type { Producer } from "kafkajs";
import { ordersDb } from "../../shared/db/pool.ts";
import { sharedProducer } from "../../shared/messaging/kafka.ts";
import { relayOutbox } from "../../shared/messaging/outbox.ts";

const real = await sharedProducer();
const dying = {
  sendBatch: async (batch: Parameters<Producer["sendBatch"]>[0]) => {
    const acked = await real.sendBatch(batch);
    process.kill(process.pid, "SIGKILL");
    return acked;
  },
} as unknown as Producer;

await relayOutbox(ordersDb(), async () => dying);
console.error("unreachable: the relay should have been killed");
process.exit(1);
