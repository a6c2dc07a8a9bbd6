/**
 * The real outbox relay with a publisher that dies (SIGKILL) right after the broker acknowledged
 * the batch and before the relay could mark its rows: the worst moment for a crash.
 */
import { db } from "../../shared/db/pool.ts";
import { kafkaPublisher } from "../../shared/messaging/publisher.ts";
import { relayOutbox } from "../../shared/messaging/relay/outbox-relay.ts";

const real = kafkaPublisher();
await relayOutbox(db("orders"), {
  deadline: Date.now() + 30_000,
  publisher: {
    publish: async (records) => {
      await real.publish(records);
      process.kill(process.pid, "SIGKILL");
    },
  },
});
console.error("unreachable: the relay should have been killed");
process.exit(1);
