/** The operators' alarms. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { STAGE } from "./service.ts";
import { type PackagedTemplate, type Resource } from "./template.ts";

export function alarmTests(t: PackagedTemplate): void {
  it("alarms the operators on a stuck outbox, a consumer falling behind for 5 minutes, and any new dead letter", () => {
    const { resources } = t;
    const alarms = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Alarm");
    const described = (text: string) => alarms.filter((a) => String(a.Properties.AlarmDescription).includes(text));
    const dimensionsOf = (metric: { Dimensions: Array<{ Name: string; Value: string }> }) =>
      Object.fromEntries(metric.Dimensions.map((d) => [d.Name, d.Value]));
    const sampler = `gozon-shop-${STAGE}-sampleMetrics`;
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: "ShopAlarmsTopic" }]);
    }
    assert.equal(resources.ShopAlarmsTopic?.Type, "AWS::SNS::Topic");

    const stuck = described("oldest unpublished row is older than 60 s");
    assert.equal(stuck.length, 2);
    for (const [alarm, database] of stuck.map((a, i) => [a, ["orders", "payments"][i]] as const)) {
      assert.equal(alarm.Properties.Namespace, "GozonShop");
      assert.equal(alarm.Properties.MetricName, "OutboxOldestAge");
      assert.equal(alarm.Properties.Threshold, 60);
      assert.equal(alarm.Properties.ComparisonOperator, "GreaterThanThreshold");
      assert.deepEqual(dimensionsOf(alarm.Properties as never), {
        service: "gozon-shop",
        FunctionName: sampler,
        Database: database,
      });
    }
    type MathQuery = {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: string }> } };
    };
    const growthOf = (alarm: Resource) => {
      const queries = alarm.Properties.Metrics as MathQuery[];
      assert.equal(queries.find((q) => q.Expression)?.Expression, "DIFF(level)");
      return queries.find((q) => q.MetricStat)!.MetricStat!.Metric;
    };
    const lagging = described("has fallen further behind in each of the last 5 minutes");
    assert.deepEqual(lagging.map((a) => dimensionsOf(growthOf(a)).ConsumerGroup).sort(), [
      "gozon-notifications-balances",
      "gozon-orders-payment-results",
      "gozon-payments-charges",
    ]);
    for (const alarm of lagging) {
      assert.equal(growthOf(alarm).MetricName, "ConsumerLag");
      assert.equal(alarm.Properties.EvaluationPeriods, 5);
      assert.equal(alarm.Properties.DatapointsToAlarm, 5);
    }
    const deadLetters = described("a record was dead-lettered on");
    assert.deepEqual(deadLetters.map((a) => dimensionsOf(growthOf(a)).Topic).sort(), [
      "orders.created.dlt",
      "payments.balance-updated.dlt",
      "payments.processed.dlt",
    ]);
    for (const alarm of deadLetters) assert.equal(alarm.Properties.EvaluationPeriods, 1);
  });
}
