import { invocation } from "../../shared/handlers/invocations.ts";
import { sampleMetrics } from "../../shared/ops/sample-metrics.ts";

/** On a schedule: the outboxes' backlog, the consumer groups' lag and the dead letters, as metrics. */
export const handler = invocation(sampleMetrics);
