/**
 * bench/cost-model.ts: the synthesized templates → billable facts, a meter snapshot → usage → dollars at the prices of
 * bench/prices.ts, the schedules' idle baseline, the fixed monthly cost and the projections — with hand-built inputs.
 */
import { describe, expect, it } from 'vitest';
import {
  deploymentFacts,
  emptySnapshot,
  fixedMonthly,
  monthlyAt,
  perRunBaseline,
  perThousand,
  priceUsage,
  runsPerMonth,
  subtractSnapshots,
  totalUsd,
  usageOf,
  withoutBaseline,
  writeUnitsPerJourney,
  xraySampledFraction,
  type DeploymentFacts,
  type Template,
  type UsageOptions,
} from '../../../bench/cost-model.ts';
import { PRICES } from '../../../bench/prices.ts';
import type { DynamoRow, LambdaRow, MeterSnapshot } from '../../../local/meter.ts';

const dynamo = (table: string, operation: string, units: Partial<DynamoRow>): DynamoRow => ({
  table,
  operation,
  requests: 0,
  readUnits: 0,
  writeUnits: 0,
  itemWrites: 0,
  failedConditions: 0,
  ...units,
});
const lambda = (name: string, invocations: number, billedMs: number, logBytes = 0): LambdaRow => ({
  function: name,
  invocations,
  errors: 0,
  durationMs: billedMs,
  billedMs,
  logBytes,
  logLines: 0,
});

const FUNCTIONS: DeploymentFacts['functions'] = {
  'ingest-event': { memoryMb: 256, architecture: 'arm64', tracing: true },
  'dispatch-due': { memoryMb: 512, architecture: 'x86_64', tracing: true },
};
const OPTIONS: UsageOptions = {
  functions: FUNCTIONS,
  defaultMemoryMb: 256,
  defaultArchitecture: 'arm64',
  emails: 2000,
  productSources: ['outreach.surveys'],
  platformLogBytesPerInvocation: 300,
  workflowErrorLogBytes: 500,
};

/** 1,000 journeys' worth of metered work, in round numbers. */
function snapshotOf1000(): MeterSnapshot {
  return {
    dynamodb: [
      dynamo('touchpoints', 'PutItem', { requests: 3000, writeUnits: 4000, itemWrites: 3000, failedConditions: 1000 }),
      dynamo('touchpoints', 'UpdateItem', { writeUnits: 14_000, itemWrites: 14_000 }),
      { ...dynamo('touchpoints', 'UpdateItem', { writeUnits: 11_000, itemWrites: 11_000 }), index: 'byDue' },
      dynamo('customers', 'GetItem', { readUnits: 16_500 }),
    ],
    lambda: [lambda('ingest-event', 1000, 100_000, 700_000), lambda('dispatch-due', 10, 2000)],
    workflows: [
      { machine: 'close-the-loop', type: 'STANDARD', executions: 1000, failed: 0, transitions: 3000, durationMs: 1000, billedMs: 100_000, events: { StateEntered: 3000 }, arnBytes: 0 },
      { machine: 'survey', type: 'EXPRESS', executions: 2000, failed: 1, transitions: 14_000, durationMs: 90_000, billedMs: 200_000, events: { StateEntered: 14_000, StateFailed: 1, ExecutionFailed: 1 }, arnBytes: 0 },
    ],
    events: [
      { bus: 'outreach', source: 'outreach.commerce', detailType: 'Purchase Completed', entries: 1000, chunks: 1000, bytes: 350_000, targets: 1000, targetNames: { 'ingest-event': 1000 } },
      { bus: 'outreach', source: 'outreach.surveys', detailType: 'Survey Answered', entries: 1000, chunks: 1000, bytes: 330_000, targets: 2000, targetNames: { 'ingest-event': 1000, 'workflow:close-the-loop': 1000 } },
      { bus: 'default', source: 'aws.ses', detailType: 'Email Sent', entries: 2000, chunks: 2000, bytes: 1_900_000, targets: 2000, targetNames: { 'record-outcome': 2000 } },
    ],
    http: [{ route: 'POST /survey', requests: 1000, billedRequests: 1000, responseBytes: 1024 ** 3 / 100, accessLogBytes: 100_000 }],
    secrets: [{ secret: 'outreach/link-signing', calls: 10 }],
  };
}

describe('deploymentFacts', () => {
  it('reads memory, architecture and tracing per product function, schedule targets, alarm metrics, secrets, keys and the access-log format', () => {
    // Arrange
    const template: Template = {
      Resources: {
        IngestEvent: { Type: 'AWS::Lambda::Function', Properties: { Description: 'Outreach: ingest-event', MemorySize: 256, Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } } },
        DispatchDue: { Type: 'AWS::Lambda::Function', Properties: { Description: 'Outreach: dispatch-due', MemorySize: 512, Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } } },
        Provider: { Type: 'AWS::Lambda::Function', Properties: { Description: 'AWS CDK resource provider' } },
        Every: { Type: 'AWS::Scheduler::Schedule', Properties: { ScheduleExpression: 'rate(1 minute)', Target: { Arn: { 'Fn::GetAtt': ['DispatchDue', 'Arn'] } } } },
        Errors: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors' } },
        Failed: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [{ Expression: 'a + b' }, { MetricStat: {} }, { MetricStat: {} }] } },
        Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } },
        Secret: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
        Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineType: 'EXPRESS', LoggingConfiguration: { Level: 'ERROR' }, TracingConfiguration: { Enabled: true } } },
        Stage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { AccessLogSettings: { Format: '{"id":"$context.requestId"}' } } },
      },
    };

    // Act
    const facts = deploymentFacts([template, { Resources: { Other: { Type: 'AWS::SecretsManager::Secret' } } }]);

    // Assess
    expect(facts.functions).toEqual({
      'ingest-event': { memoryMb: 256, architecture: 'arm64', tracing: true },
      'dispatch-due': { memoryMb: 512, architecture: 'arm64', tracing: true },
    });
    expect(facts.schedules).toEqual([{ expression: 'rate(1 minute)', target: 'dispatch-due' }]);
    expect(facts).toMatchObject({ alarms: 2, alarmMetrics: 3, secrets: 2, customerKeys: 1, rotatingKeys: 1, dashboards: 0, httpAccessLogFormat: '{"id":"$context.requestId"}' });
    expect(facts.stateMachines).toEqual([{ type: 'EXPRESS', logLevel: 'ERROR', tracing: true }]);
  });
});

describe('runsPerMonth', () => {
  it('counts a month of 730 hours: 43,800 minutely runs, 8,760 five-minutely, 365/12 daily', () => {
    // Arrange / Act
    const runs = ['rate(1 minute)', 'rate(5 minutes)', 'cron(0 3 * * ? *)'].map((e) => runsPerMonth(e));

    // Assess
    expect(runs[0]).toBe(43_800);
    expect(runs[1]).toBe(8760);
    expect(runs[2]).toBeCloseTo(365 / 12, 10);
  });
});

describe('usageOf and priceUsage', () => {
  it('turns metered rows into billable quantities: GB-s by configured memory, Express in 64 MB chunks, free AWS service events', () => {
    // Arrange
    const snapshot = snapshotOf1000();

    // Act
    const usage = usageOf(snapshot, OPTIONS);

    // Assess
    expect(usage.standard).toEqual({ executions: 1000, transitions: 3000 });
    expect(usage.express).toEqual({ requests: 2000, billedMs: 200_000, gbSeconds: 200 * (64 / 1024) });
    expect(usage.lambda.invocations).toBe(1010);
    expect(usage.lambda.byFunction.find((f) => f.function === 'ingest-event')).toMatchObject({ memoryMb: 256, gbSeconds: 100 * 0.25, logBytes: 700_000 + 1000 * 300 });
    expect(usage.lambda.byFunction.find((f) => f.function === 'dispatch-due')).toMatchObject({ memoryMb: 512, architecture: 'x86_64', gbSeconds: 2 * 0.5 });
    expect(usage.dynamodb).toMatchObject({ readUnits: 16_500, writeUnits: 29_000 });
    expect(usage.dynamodb.byTable.find((t) => t.name === 'touchpoints')).toMatchObject({ writeUnits: 18_000, itemWrites: 17_000, failedConditions: 1000, writeUnitsByOperation: { PutItem: 4000, UpdateItem: 14_000 } });
    expect(usage.events).toEqual({ customEntries: 2000, customChunks: 2000, serviceEntries: 2000 });
    // Trace roots: the commerce event's and SES's targets, and the HTTP requests; the product's own events join a trace.
    expect(usage.xray.traceRoots).toBe(1000 + 2000 + 1000);
    expect(usage.logs).toEqual({ lambdaBytes: 700_000 + 1000 * 300 + 10 * 300, accessLogBytes: 100_000, workflowBytes: 2 * 500, bytes: 1_003_000 + 100_000 + 1000 });
    expect(usage.kms.requests).toBe(10);
  });

  it("counts no trace root for an event whose target traces only inside its caller's trace (PassThrough)", () => {
    // Prepare: record-outcome, the Send events' target, is PassThrough (tracing false in the deployment's facts).
    const options = { ...OPTIONS, functions: { ...FUNCTIONS, 'record-outcome': { memoryMb: 256, architecture: 'arm64' as const, tracing: false } } };

    // Act
    const usage = usageOf(snapshotOf1000(), options);

    // Assess: the commerce event's target and the HTTP requests only.
    expect(usage.xray.traceRoots).toBe(1000 + 1000);
  });

  it('prices each service at the table, SES apart', () => {
    // Arrange
    const usage = usageOf(snapshotOf1000(), OPTIONS);

    // Act
    const costs = Object.fromEntries(priceUsage(usage, { xraySampled: 1 }).map((c) => [c.service, c.usd]));

    // Assess
    expect(costs['Step Functions Standard']).toBeCloseTo(3000 * 0.000025, 12);
    expect(costs['Step Functions Express']).toBeCloseTo(2000 * 0.000001 + 12.5 * (0.06 / 3600), 12);
    expect(costs.Lambda).toBeCloseTo(1010 * 0.0000002 + 25 * 0.0000133334 + 1 * 0.0000166667, 12);
    expect(costs.DynamoDB).toBeCloseTo(29_000 * 0.000000625 + 16_500 * 0.000000125, 12);
    expect(costs.EventBridge).toBeCloseTo(2000 * 0.000001, 12);
    expect(costs['HTTP API']).toBeCloseTo(1000 * 0.000001 + 0.01 * 0.09, 12);
    expect(costs.SES).toBeCloseTo(2000 * 0.0001, 12);
    expect(costs['Secrets Manager']).toBeCloseTo(10 * 0.000005, 12);
    expect(costs['CloudWatch Logs']).toBeCloseTo((1_104_000 / 1024 ** 3) * 0.5, 12);
    expect(costs['X-Ray']).toBeCloseTo(4000 * 0.000005, 12);
  });

  it('totals with and without SES, per 1,000 journeys, and samples X-Ray as the default rule does', () => {
    // Arrange
    const costs = priceUsage(usageOf(snapshotOf1000(), OPTIONS), { xraySampled: 1 });

    // Act
    const perK = perThousand(costs, 500);
    const sampled = [0.5, 1, 21].map((r) => xraySampledFraction(r));

    // Assess
    expect(totalUsd(costs) - totalUsd(costs, { withoutSes: true })).toBeCloseTo(0.2, 12);
    expect(totalUsd(perK)).toBeCloseTo(2 * totalUsd(costs), 12);
    expect(sampled).toEqual([1, 1, (1 + 0.05 * 20) / 21]);
    expect(totalUsd(priceUsage(usageOf(snapshotOf1000(), OPTIONS), { xraySampled: 0 }))).toBeCloseTo(totalUsd(costs) - 4000 * 0.000005, 12);
  });

  it('reports write units per journey by table and index, largest first', () => {
    // Arrange
    const usage = usageOf(snapshotOf1000(), OPTIONS);

    // Act
    const wru = writeUnitsPerJourney(usage, 1000);

    // Assess
    expect(wru.total).toBe(29);
    expect(wru.byTable).toEqual([
      { name: 'touchpoints', writeUnits: 18, itemWrites: 17, failedConditions: 1 },
      { name: 'touchpoints/byDue', writeUnits: 11, itemWrites: 11, failedConditions: 0 },
    ]);
  });
});

describe('the scheduled runs’ baseline', () => {
  it('charges a window only for what its scheduled runs did beyond an idle run', () => {
    // Arrange: 10 idle dispatch runs read 40 units of byDue; the window's 3 runs read 20 and found work.
    const idle: MeterSnapshot = {
      ...emptySnapshot(),
      lambda: [lambda('dispatch-due', 10, 200)],
      dynamodb: [{ ...dynamo('touchpoints', 'Query', { readUnits: 40, requests: 80 }), index: 'byDue' }, dynamo('campaigns', 'Query', { readUnits: 1 })],
    };
    const window: MeterSnapshot = {
      ...emptySnapshot(),
      lambda: [lambda('dispatch-due', 3, 90), lambda('ingest-event', 5, 100)],
      dynamodb: [{ ...dynamo('touchpoints', 'Query', { readUnits: 20, requests: 24 }), index: 'byDue' }],
    };
    const ownerOf = (row: DynamoRow) => (row.index === 'byDue' ? 'dispatch-due' : 'renewal-sweep');

    // Act
    const perRun = perRunBaseline(idle, ownerOf);
    const net = withoutBaseline(window, perRun);

    // Assess
    expect(perRun['dispatch-due']!.lambda).toEqual([lambda('dispatch-due', 1, 20)]);
    expect(perRun['dispatch-due']!.dynamodb).toEqual([{ ...dynamo('touchpoints', 'Query', { readUnits: 4, requests: 8 }), index: 'byDue' }]);
    expect(net.lambda).toEqual([lambda('dispatch-due', 0, 30), lambda('ingest-event', 5, 100)]);
    expect(net.dynamodb).toEqual([{ ...dynamo('touchpoints', 'Query', { readUnits: 8, requests: 0 }), index: 'byDue' }]);
  });

  it('never goes below zero', () => {
    // Arrange
    const a: MeterSnapshot = { ...emptySnapshot(), lambda: [lambda('f', 1, 5)] };
    const b: MeterSnapshot = { ...emptySnapshot(), lambda: [lambda('f', 2, 10)], secrets: [{ secret: 's', calls: 1 }] };

    // Act
    const out = subtractSnapshots(a, b);

    // Assess
    expect(out.lambda).toEqual([lambda('f', 0, 0)]);
    expect(out.secrets).toEqual([{ secret: 's', calls: 0 }]);
  });
});

describe('fixedMonthly and monthlyAt', () => {
  it('prices the schedules and their idle runs, alarms by metric, custom metrics, secrets and keys', () => {
    // Arrange
    const facts: DeploymentFacts = {
      functions: FUNCTIONS,
      stateMachines: [],
      schedules: [
        { expression: 'rate(1 minute)', target: 'dispatch-due' },
        { expression: 'rate(5 minutes)', target: 'settle-responses' },
      ],
      alarms: 22,
      alarmMetrics: 29,
      secrets: 3,
      customerKeys: 1,
      rotatingKeys: 1,
      dashboards: 0,
      httpAccessLogFormat: undefined,
    };
    const idleRun: MeterSnapshot = { ...emptySnapshot(), lambda: [lambda('dispatch-due', 1, 20)], dynamodb: [{ ...dynamo('touchpoints', 'Query', { readUnits: 4 }), index: 'byDue' }] };
    const perRunUsage = { 'dispatch-due': usageOf(idleRun, { ...OPTIONS, emails: 0, platformLogBytesPerInvocation: 0 }) };

    // Act
    const lines = Object.fromEntries(fixedMonthly({ facts, perRunUsage, customMetrics: 9 }).map((l) => [l.service, l.usd]));

    // Assess
    expect(lines['EventBridge Scheduler']).toBeCloseTo((43_800 + 8760) * 0.000001, 12);
    // One idle dispatch run: a request, 20 ms at 512 MB x86, 4 RRU and one trace, 43,800 times.
    const run = 0.0000002 + 0.02 * 0.5 * 0.0000166667 + 4 * 0.000000125 + 0.000005;
    expect(lines['dispatch-due runs']).toBeCloseTo(run * 43_800, 10);
    expect(lines['settle-responses runs']).toBeUndefined();
    expect(lines['CloudWatch alarms']).toBeCloseTo(2.9, 12);
    expect(lines['CloudWatch custom metrics']).toBeCloseTo(2.7, 12);
    expect(lines['Secrets Manager secrets']).toBeCloseTo(1.2, 12);
    expect(lines['KMS keys']).toBe(PRICES.kms.perKeyMonth);
    expect(lines['CloudWatch dashboards']).toBe(0);
  });

  it('adds the variable cost per 1,000 journeys to the fixed cost', () => {
    // Arrange / Act
    const bill = monthlyAt(100_000, 8, 0.16);

    // Assess
    expect(bill.fixed).toBe(8);
    expect(bill.variable).toBeCloseTo(16, 12);
    expect(bill.total).toBeCloseTo(24, 12);
  });
});
