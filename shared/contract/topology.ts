import { TOPICS, type Topic } from "./events.ts";
import { FUNCTIONS, type Database, type FunctionSpec } from "./manifest.ts";

/**
 * Who writes and who reads each topic, and which function relays which outbox: read off the
 * manifest (manifest.ts), never written here. `checkManifest` names what the manifest must not say.
 */

type Functions = Record<string, FunctionSpec>;

/** A topic's consumer: its function (serverless.yml's key), its consumer group and database, and what it does. */
export interface Consumer {
  function: string;
  group: string;
  database: Database;
  does: string;
}

export const topicOf = (spec: FunctionSpec): Topic | undefined =>
  "topic" in spec.trigger ? spec.trigger.topic : undefined;

export const consumersOf = (topic: Topic, functions: Functions = FUNCTIONS): Consumer[] =>
  Object.entries(functions).flatMap(([key, spec]) =>
    "topic" in spec.trigger && spec.trigger.topic === topic
      ? [{ function: key, group: spec.trigger.group, database: spec.databases[0]!, does: spec.does }]
      : [],
  );

/** The functions whose transactions write the topic to their database's outbox. */
export const writersOf = (topic: Topic, functions: Functions = FUNCTIONS): string[] =>
  Object.keys(functions).filter((key) => functions[key]!.writes?.includes(topic));

/** The function that publishes a database's outbox. */
export const relayOf = (database: Database, functions: Functions = FUNCTIONS): string | undefined =>
  Object.keys(functions).find((key) => functions[key]!.relaysOutbox && functions[key]!.databases[0] === database);

/** Each consumer's group, by function. */
export const consumerGroups = (functions: Functions = FUNCTIONS): Record<string, string> =>
  Object.fromEntries(
    Object.entries(functions).flatMap(([key, spec]) => ("topic" in spec.trigger ? [[key, spec.trigger.group]] : [])),
  );

/** What the manifest must not say, each problem in words; none for a sound one. */
export function manifestProblems(functions: Functions = FUNCTIONS): string[] {
  const problems: string[] = [];
  const groups = new Map<string, string>();
  for (const [key, spec] of Object.entries(functions)) {
    const topic = topicOf(spec);
    const outbox = topic !== undefined || spec.relaysOutbox || (spec.writes?.length ?? 0) > 0;
    // A consumer dead-letters an unreadable record through its database's outbox.
    if (outbox && spec.databases.length !== 1)
      problems.push(`${key} writes an outbox or reads a topic, so it names exactly one database`);
    if (outbox && spec.databases.length === 1 && !relayOf(spec.databases[0]!, functions))
      problems.push(`${key} writes the ${spec.databases[0]} outbox, which no function relays`);
    if ("topic" in spec.trigger) {
      const other = groups.get(spec.trigger.group);
      if (other) problems.push(`${key} and ${other} share the consumer group ${spec.trigger.group}`);
      groups.set(spec.trigger.group, key);
    }
    for (const route of "websocket" in spec.trigger ? spec.trigger.websocket : []) {
      const authorizer = route.authorizer?.function;
      if (authorizer && !(authorizer in functions && "authorizes" in functions[authorizer]!.trigger))
        problems.push(`${key}'s ${route.route} names ${authorizer} as its authorizer, which authorizes nothing`);
    }
  }
  for (const topic of Object.keys(TOPICS) as Topic[]) {
    if (!writersOf(topic, functions).length) problems.push(`${topic}: no function writes it`);
    const consumers = consumersOf(topic, functions);
    if (!consumers.length) problems.push(`${topic}: no function reads it`);
    // The inbox is keyed by event id alone: two readers of one topic on one database would take
    // each other's events for duplicates.
    for (const database of new Set(consumers.map((c) => c.database))) {
      const sharing = consumers.filter((c) => c.database === database).map((c) => c.function);
      if (sharing.length > 1) problems.push(`${topic}: ${sharing.join(" and ")} would share the ${database} inbox`);
    }
  }
  return problems;
}

/** Throws, naming every problem, unless the manifest is sound. */
export function checkManifest(functions: Functions = FUNCTIONS): void {
  const problems = manifestProblems(functions);
  if (problems.length) throw new Error(`shared/contract/manifest.ts:\n  - ${problems.join("\n  - ")}`);
}
