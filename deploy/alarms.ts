import { deadLetterTopic, TOPICS, type Topic } from "../shared/contract/events.ts";
import { consumersOf } from "../shared/contract/topology.ts";
import { FUNCTION_DIMENSION, METRICS_NAMESPACE, type GaugeName } from "../shared/metrics/catalog.ts";
import type { Database } from "../shared/contract/manifest.ts";

/**
 * The alarms an operator is woken by, on the levels the metrics sampler writes each minute
 * (functions/ops/sample-metrics.ts), all sent to one SNS topic the operators subscribe to:
 * - an outbox whose oldest unpublished row is older than 60 s (its relay is stuck, or the broker
 *   is away); no sample at all counts as stuck, since the sampler then cannot read that database;
 * - a consumer group whose lag has grown in each of the last 5 minutes (its consumer falls behind);
 * - a new record on a dead-letter topic (a record was given up on: the dead-letter list says why).
 *   The count of records held only falls with retention, so the alarm is on its growth, and turns
 *   OK again by itself once the next minute brings none.
 */
const DATABASES: readonly Database[] = ["orders", "payments"];
const OLDEST_ROW_SECONDS = 60;
const LAG_GROWING_MINUTES = 5;

interface AlarmInput {
  service: string;
  stage: string;
}

const upperFirst = (text: string) => text.replace(/(^|[^A-Za-z0-9])([a-z])/g, (_, __, c: string) => c.toUpperCase());
const logicalId = (text: string) => upperFirst(text).replace(/[^A-Za-z0-9]/g, "");

export function shopAlarms({ service, stage }: AlarmInput): { Resources: Record<string, unknown> } {
  const sampler = `${service}-${stage}-sampleMetrics`;
  const metric = (name: GaugeName, dimensions: Record<string, string>) => ({
    Namespace: METRICS_NAMESPACE,
    MetricName: name,
    Dimensions: Object.entries({ service, [FUNCTION_DIMENSION]: sampler, ...dimensions }).map(([Name, Value]) => ({
      Name,
      Value,
    })),
  });
  const alarm = (description: string, properties: Record<string, unknown>) => ({
    Type: "AWS::CloudWatch::Alarm",
    Properties: {
      AlarmDescription: `${service} ${stage}: ${description} (deploy/alarms.ts)`,
      AlarmActions: [{ Ref: "ShopAlarmsTopic" }],
      OKActions: [{ Ref: "ShopAlarmsTopic" }],
      ...properties,
    },
  });
  /** An alarm on a metric's growth from one minute to the next (metric math DIFF). */
  const growing = (description: string, name: GaugeName, dimensions: Record<string, string>, minutes: number) =>
    alarm(description, {
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
      EvaluationPeriods: minutes,
      DatapointsToAlarm: minutes,
      TreatMissingData: "notBreaching",
      Metrics: [
        {
          Id: "level",
          ReturnData: false,
          MetricStat: { Metric: metric(name, dimensions), Period: 60, Stat: "Maximum" },
        },
        { Id: "growth", ReturnData: true, Expression: "DIFF(level)", Label: `${name} growth per minute` },
      ],
    });

  const Resources: Record<string, unknown> = {
    ShopAlarmsTopic: { Type: "AWS::SNS::Topic", Properties: { TopicName: `${service}-${stage}-alarms` } },
  };
  for (const database of DATABASES) {
    Resources[`${logicalId(database)}OutboxStuckAlarm`] = alarm(
      `the ${database} outbox's oldest unpublished row is older than ${OLDEST_ROW_SECONDS} s`,
      {
        ...metric("OutboxOldestAge", { Database: database }),
        Statistic: "Maximum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: OLDEST_ROW_SECONDS,
        ComparisonOperator: "GreaterThanThreshold",
        TreatMissingData: "breaching",
      },
    );
  }
  for (const topic of Object.keys(TOPICS) as Topic[]) {
    for (const { group } of consumersOf(topic))
      Resources[`${logicalId(group)}LagGrowingAlarm`] = growing(
        `consumer group ${group} (${topic}) has fallen further behind in each of the last ${LAG_GROWING_MINUTES} minutes`,
        "ConsumerLag",
        { ConsumerGroup: group },
        LAG_GROWING_MINUTES,
      );
    const dlt = deadLetterTopic(topic);
    Resources[`${logicalId(dlt)}Alarm`] = growing(
      `a record was dead-lettered on ${dlt}: see npm run dead-letters -- list`,
      "DeadLetters",
      { Topic: dlt },
      1,
    );
  }
  return { Resources };
}

interface VariableSourceContext {
  resolveVariable(variable: string): Promise<unknown>;
}

/** The `${file(./deploy/alarms.cjs)}` entry point, under serverless.yml's `resources`. */
export default async function resolve({ resolveVariable }: VariableSourceContext) {
  const [service, stage] = await Promise.all([resolveVariable("self:service"), resolveVariable("sls:stage")]);
  return shopAlarms({ service: String(service), stage: String(stage) });
}
