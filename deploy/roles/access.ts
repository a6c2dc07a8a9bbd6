import { deadLetterTopic, TOPICS, type Topic } from "../../shared/contract/events.ts";
import type { FunctionSpec } from "../../shared/contract/manifest.ts";
import { relayOf, topicOf, writersOf } from "../../shared/contract/topology.ts";

/** What a function's role must allow beyond its logs and its event source: derived by accessOf. */
export interface Access {
  /** The outbox relays it wakes after a commit (a relay asks for its own next run). */
  invokes: string[];
  pushes: boolean;
  /** The topics it produces to (a relay: what its outbox holds, its database's consumers' dead letters included). */
  publishes: string[];
  probesKafka: boolean;
  /** It describes every topic (with its dead letters) and consumer group, to sample their lag. */
  samplesOffsets: boolean;
}

/**
 * What a function may do, from its manifest entry: a function that writes an outbox (a topic's
 * writer, or a consumer, which dead-letters through it) wakes its database's relay; a relay wakes
 * itself again and publishes what its database's functions write, with the dead letters of its
 * database's consumers.
 */
export function accessOf(functionKey: string, functions: Record<string, FunctionSpec>): Access {
  const spec = functions[functionKey]!;
  const [database] = spec.databases;
  const ofDatabase = (key: string) => functions[key]!.databases[0] === database;
  const publishes = spec.relaysOutbox
    ? [
        ...(Object.keys(TOPICS) as Topic[]).filter((topic) => writersOf(topic, functions).some(ofDatabase)),
        ...Object.keys(functions)
          .filter(ofDatabase)
          .flatMap((key) => {
            const topic = topicOf(functions[key]!);
            return topic ? [deadLetterTopic(topic)] : [];
          }),
      ]
    : [];
  const writesOutbox = (spec.writes?.length ?? 0) > 0 || topicOf(spec) !== undefined;
  const relay = database && relayOf(database, functions);
  return {
    invokes: spec.relaysOutbox ? [functionKey] : writesOutbox && relay ? [relay] : [],
    pushes: spec.pushesFrames ?? false,
    publishes: [...new Set(publishes)],
    probesKafka: spec.probesBrokers ?? false,
    samplesOffsets: spec.samplesOffsets ?? false,
  };
}
