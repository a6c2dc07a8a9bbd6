// @ts-check
/** @import { ConsumerOptions, GroupAssignment, Message, MessagesStream } from "@platformatic/kafka" */
/** @import { SourceRecord } from "./lambda-event.js" */
import { Consumer } from "@platformatic/kafka";
import { sourceRecordOf } from "./lambda-event.js";

/** Partitions of one mapping handled at once, as Lambda's poller does for a small mapping. */
const PARTITIONS_AT_ONCE = 4;
/** Records read ahead and not yet handled, at most (the stream is paused above it). */
const MAX_BUFFERED = 5_000;
/** How long a member waits before joining again after its consumer failed (broker away, group lost). */
const REJOIN_DELAY_MS = 1_000;

/**
 * One partition's records, read and not yet committed, in offset order.
 * @typedef {object} PartitionState
 * @property {SourceRecord[]} queue Read, not handed over yet.
 * @property {SourceRecord[]} handing Handed over to `deliver` and not finished.
 * @property {bigint | undefined} next The offset after the last record taken in: anything below is a copy.
 * @property {bigint | undefined} committed Where the last commit of this member left the partition.
 * @property {boolean} owned False once the partition was taken away (rebalance, stop, a new consumer).
 * @property {boolean} draining
 */

/**
 * What the member needs from the event source.
 * @typedef {object} MemberPorts
 * @property {(topic: string, partition: number, records: SourceRecord[], own: {
 *   commit: (next: string) => Promise<void>, stillOwned: () => boolean }) => Promise<void>} deliver
 *   Hands one partition's records over, in order; resolves once they are done (committed, or left
 *   uncommitted because the partition is no longer owned). Throws when a commit or a dead letter failed.
 * @property {(line: string) => void} warn
 * @property {(ms: number) => Promise<void>} sleep
 */

/**
 * One consumer group member for one mapping, on @platformatic/kafka. The client reads ahead on a
 * single stream for all assigned partitions and keeps the group's heartbeats going by itself; here
 * that stream becomes what Lambda's poller does: per partition, records strictly in offset order,
 * one delivery at a time, up to four partitions at once, nothing committed but what `deliver`
 * commits. Whatever fails (a fetch, a rejoin, a commit) costs only a new consumer and a re-read
 * from the last commit: records are never skipped, at worst handed over again.
 */
export class GroupMember {
  /** @type {Consumer | undefined} */
  consumer;
  /** @type {MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined} */
  stream;
  /** @type {Map<number, PartitionState>} */
  partitions = new Map();
  buffered = 0;
  delivering = 0;
  /** @type {Array<() => void>} */
  waitingForSlot = [];
  running = true;
  /** Settles when the current consumer failed and has to be replaced. */
  ended = Promise.resolve();
  /** @type {(() => void) | undefined} */
  endCurrent;

  /**
   * @param {{ topic: string, fromBeginning: boolean, consumer: ConsumerOptions<Buffer, Buffer, Buffer, Buffer> }} setup
   * @param {MemberPorts} ports
   */
  constructor(setup, ports) {
    this.setup = setup;
    this.ports = ports;
  }

  /** Joins the group and starts reading; resolves once the first join is done. */
  async start() {
    await this.join();
    void this.keepJoined();
  }

  /** Whenever the consumer fails, a new one joins in its place, until the member is stopped. */
  async keepJoined() {
    while (this.running) {
      await this.ended;
      await this.leave();
      // The invocations under way finish first: the new consumer hands their records over again,
      // and two invocations of one partition at once would not keep its order.
      while (this.delivering > 0) await this.ports.sleep(100);
      while (this.running) {
        await this.ports.sleep(REJOIN_DELAY_MS);
        if (!this.running) return;
        try {
          await this.join();
          break;
        } catch (error) {
          this.ports.warn(`could not join the group: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
  }

  async join() {
    const consumer = new Consumer(this.setup.consumer);
    this.ended = new Promise((resolve) => {
      this.endCurrent = () => resolve(undefined);
    });
    /** @param {string} why */
    const fail = (why) => {
      if (this.consumer !== consumer) return;
      this.ports.warn(`consumer stopped (${why}); joining again`);
      this.endCurrent?.();
    };
    consumer.on("error", (error) => fail(error.message));
    consumer.on("consumer:heartbeat:stalled", ({ lastError }) => fail(`no heartbeat: ${lastError?.message ?? "?"}`));
    // A consumer being replaced may still report a join: only the current one's count.
    consumer.on("consumer:group:join", ({ assignments }) => {
      if (this.consumer === consumer) this.assigned(assignments ?? []);
    });
    try {
      const stream = await consumer.consume({
        topics: [this.setup.topic],
        mode: "committed",
        fallbackMode: this.setup.fromBeginning ? "earliest" : "latest",
        autocommit: false,
      });
      this.consumer = consumer;
      this.stream = stream;
      this.assigned(consumer.assignments ?? []);
      stream.on("data", (message) => this.take(message));
      stream.on("error", (error) => fail(error.message));
      stream.on("close", () => fail("stream closed"));
    } catch (error) {
      await consumer.close(true).catch(() => undefined);
      throw error;
    }
  }

  /** Gives every partition up (their deliveries stop after the invocation under way) and closes the consumer. */
  async leave() {
    const { consumer } = this;
    this.consumer = undefined;
    this.stream = undefined;
    this.assigned([]);
    await consumer?.close(true).catch(() => undefined);
  }

  async stop() {
    this.running = false;
    this.endCurrent?.();
    await this.leave();
  }

  /**
   * The group gave this member these partitions: those it no longer has stop being handed over.
   * @param {GroupAssignment[]} assignments
   */
  assigned(assignments) {
    const kept = new Set(assignments.find((a) => a.topic === this.setup.topic)?.partitions ?? []);
    for (const [partition, state] of this.partitions) {
      if (kept.has(partition)) continue;
      state.owned = false;
      this.buffered -= state.queue.length;
      this.partitions.delete(partition);
      // Should the partition come back with nothing committed, reading starts again where this member was.
      const first = state.handing[0] ?? state.queue[0];
      if (first) this.stream?.offsetsToFetch.set(`${this.setup.topic}:${partition}`, BigInt(first.offset));
    }
    this.flowControl();
  }

  /** @param {Message<Buffer, Buffer, Buffer, Buffer>} message */
  take(message) {
    const { partition, offset } = message;
    // A fetch under way when the partition was taken away still answers: not ours to hand over.
    const owned = this.consumer?.assignments?.some(
      (a) => a.topic === message.topic && a.partitions.includes(partition),
    );
    if (!owned) return;
    let state = this.partitions.get(partition);
    if (!state) {
      state = { queue: [], handing: [], next: undefined, committed: undefined, owned: true, draining: false };
      this.partitions.set(partition, state);
    }
    // After a rejoin the stream reads again from the last commit: records already taken in are copies.
    if (state.next !== undefined && offset < state.next) return;
    state.next = offset + 1n;
    state.queue.push(sourceRecordOf(message));
    this.buffered += 1;
    this.flowControl();
    void this.drain(partition, state);
  }

  flowControl() {
    if (!this.stream) return;
    if (this.buffered > MAX_BUFFERED && !this.stream.isPaused()) this.stream.pause();
    else if (this.buffered <= MAX_BUFFERED / 2 && this.stream.isPaused()) this.stream.resume();
  }

  /**
   * Hands a partition's records over, one delivery at a time, until none are left or it is gone.
   * @param {number} partition
   * @param {PartitionState} state
   */
  async drain(partition, state) {
    if (state.draining) return;
    state.draining = true;
    try {
      while (state.owned && state.queue.length > 0) {
        await this.slot();
        try {
          if (!state.owned) return;
          state.handing = state.queue.splice(0);
          this.buffered -= state.handing.length;
          this.flowControl();
          try {
            await this.ports.deliver(this.setup.topic, partition, state.handing, {
              commit: async (next) => {
                const consumer = /** @type {Consumer} */ (this.consumer);
                if (!consumer || !state.owned) throw new Error("the partition was taken away");
                await consumer.commit({
                  offsets: [{ topic: this.setup.topic, partition, offset: BigInt(next), leaderEpoch: -1 }],
                });
                state.committed = BigInt(next);
              },
              stillOwned: () => this.running && state.owned,
            });
          } catch (error) {
            // What was not committed is handed over again: a failed commit or dead letter skips nothing.
            const committed = state.committed;
            const again = state.handing.filter((r) => committed === undefined || BigInt(r.offset) >= committed);
            if (state.owned) {
              state.queue.unshift(...again);
              this.buffered += again.length;
            }
            this.ports.warn(
              `${this.setup.topic}-${partition}: ${error instanceof Error ? error.message : String(error)}; ${again.length} record(s) to hand over again`,
            );
            await this.ports.sleep(REJOIN_DELAY_MS);
          } finally {
            state.handing = [];
          }
        } finally {
          this.release();
        }
      }
    } finally {
      state.draining = false;
    }
  }

  /** @returns {Promise<void>} */
  slot() {
    if (this.delivering < PARTITIONS_AT_ONCE) {
      this.delivering += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waitingForSlot.push(() => resolve()));
  }

  release() {
    const next = this.waitingForSlot.shift();
    if (next) next();
    else this.delivering -= 1;
  }
}
