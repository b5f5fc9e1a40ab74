/**
 * The response rate's writes against a real DynamoDB API (dynalite in this process, ephemeral port): the SENT write
 * of a survey stores its scale and appends the send's count in the same conditional UpdateItem; the put that creates
 * a response appends the first answer's count; an edit or a repeated write appends nothing; the use cases settle
 * the counts into the metrics table once, also after a crash.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbMetricsCounters, DynamoDbMetricsReader } from '../../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../../adapters/dynamodb-pending.ts';
import { DynamoDbSurveyAggregates, DynamoDbSurveyResponses } from '../../../adapters/dynamodb-responses.ts';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';
import { numberChanges, sendChange } from '../../../core/metrics/counters.ts';
import { surveySentDelta } from '../../../core/metrics/model.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { recordSurveyResponse } from '../../../core/surveys/record-response.ts';
import type { SurveyResponse } from '../../../core/surveys/responses.ts';
import { settlePendingResponses } from '../../../core/surveys/settle-response.ts';
import { TABLES } from '../../../core/topology.ts';
import { recordTouchpointOutcome } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { localTableNames, tableDefinitions, type TableNames } from '../../../local/dynamodb.ts';
import { KEYRING, RecordingEvents, SimulatedCrash, tokenSequence } from './fakes.ts';
import { CAMPAIGN, click } from './support.ts';
import { startTestDynamo, type TestDynamo } from '../dynalite.ts';

const SENT_AT = '2026-11-15T23:40:00.000Z';
const T0 = '2026-11-16T09:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

let dynamo: TestDynamo;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;
let tables = 0;
let names: TableNames;
let reader: DynamoDbMetricsReader;
let counters: DynamoDbMetricsCounters;

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
  db = createDocumentClient(client);
});

afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

beforeEach(async () => {
  tables += 1;
  names = localTableNames(`rate-${tables}`);
  const wanted = new Set([names.touchpoints, names.responses, names.surveyAggregates, names.metrics]);
  for (const definition of tableDefinitions(names).filter((d) => wanted.has(d.TableName))) {
    await client.send(new CreateTableCommand(definition));
  }
  reader = new DynamoDbMetricsReader(names.metrics, names.surveyAggregates, db);
  counters = new DynamoDbMetricsCounters(names.metrics, db);
});

const rawItem = async (table: string, key: Record<string, string>) =>
  (await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
const sends = (campaignId: string) => reader.surveySends(campaignId, '2026-11-01', '2026-11-30');

describe('survey sends on dynalite', () => {
  const survey: Touchpoint = {
    touchpointId: 'tp-survey',
    campaignId: 'nps-after-purchase',
    kind: 'survey',
    customerId: 'c-1',
    dueAt: SENT_AT,
    status: 'PENDING',
    generation: 0,
    context: { orderId: 'o-1' },
    createdAt: '2026-11-01T10:00:00.000Z',
    updatedAt: '2026-11-01T10:00:00.000Z',
  };
  let touchpoints: DynamoDbTouchpointRepository;
  let pending: DynamoDbPendingCounts;

  beforeEach(async () => {
    touchpoints = new DynamoDbTouchpointRepository(names.touchpoints, 4, db);
    pending = new DynamoDbPendingCounts(names.touchpoints, TABLES.touchpoints.partitionKey, db);
    await touchpoints.create(survey);
    await touchpoints.claimForDispatch({ touchpointId: survey.touchpointId, generation: 0, from: 'PENDING', at: SENT_AT, leaseUntil: SENT_AT });
  });

  it('the SENT write stores the scale and appends the count in the same conditional write; a repeated one appends nothing', async () => {
    const changes = (token: string) =>
      numberChanges(token, [sendChange(surveySentDelta({ campaignId: survey.campaignId, kind: 'ces', sentAt: SENT_AT }))]);
    const transition = { touchpointId: survey.touchpointId, generation: 0, at: SENT_AT, status: 'SENT' as const, messageId: 'm-1' };

    expect(await touchpoints.complete({ ...transition, surveySend: { surveyKind: 'ces', pendingCounts: changes('send-1') } })).toBe(true);
    expect(await touchpoints.complete({ ...transition, surveySend: { surveyKind: 'ces', pendingCounts: changes('send-2') } })).toBe(false);

    const item = await rawItem(names.touchpoints, { touchpointId: survey.touchpointId });
    expect(item).toMatchObject({ status: 'SENT', sentAt: SENT_AT, surveyKind: 'ces' });
    expect(item?.metricsPending).toEqual([
      { id: 'send-1:0', record: { series: 'sends', campaignId: survey.campaignId, day: '2026-11-15', kind: 'ces' }, counters: { sent: 1 } },
    ]);
    // The bookkeeping stays in the table: the domain object has the scale, not the pending counts.
    const stored = await touchpoints.get(survey.touchpointId);
    expect(stored).toMatchObject({ surveyKind: 'ces' });
    expect(stored).not.toHaveProperty('metricsPending');
  });

  it('a SENT without a survey send (a check-in, a reminder) writes neither scale nor pending counts', async () => {
    await touchpoints.complete({ touchpointId: survey.touchpointId, generation: 0, at: SENT_AT, status: 'SENT', messageId: 'm-1' });
    const item = await rawItem(names.touchpoints, { touchpointId: survey.touchpointId });
    expect(item).not.toHaveProperty('surveyKind');
    expect(item).not.toHaveProperty('metricsPending');
  });

  it('recordTouchpointOutcome counts the send once, also when the first call crashed before it settled', async () => {
    const request = {
      touchpointId: survey.touchpointId,
      generation: 0,
      now: SENT_AT,
      outcome: 'SENT' as const,
      messageId: 'm-1',
      survey: { surveyId: survey.touchpointId, reminder: false, scale: 'nps' as const, reminderAfter: 'P3D' },
    };
    const crashing = Object.create(pending) as DynamoDbPendingCounts;
    crashing.claim = async () => {
      throw new SimulatedCrash('before pendingCounts.claim');
    };
    await expect(recordTouchpointOutcome(request, { touchpoints, metrics: { pending: crashing, counters } })).rejects.toThrow(SimulatedCrash);
    expect(await sends(survey.campaignId)).toEqual([]);

    expect(await recordTouchpointOutcome(request, { touchpoints, metrics: { pending, counters } })).toEqual({ outcome: 'SENT', recorded: false });
    expect(await recordTouchpointOutcome(request, { touchpoints, metrics: { pending, counters } })).toEqual({ outcome: 'SENT', recorded: false });

    expect(await sends(survey.campaignId)).toEqual([{ campaignId: survey.campaignId, day: '2026-11-15', kind: 'nps', sent: 1, answered: 0 }]);
    const item = await rawItem(names.touchpoints, { touchpointId: survey.touchpointId });
    expect(item).not.toHaveProperty('metricsPending');
    expect(item).not.toHaveProperty('metricsLease');
  });
});

describe('first answers on dynalite', () => {
  let responses: DynamoDbSurveyResponses;
  let deps: Parameters<typeof recordSurveyResponse>[1];
  const answer: SurveyResponse = {
    surveyId: 'tp-1',
    kind: 'nps',
    campaignId: CAMPAIGN,
    customerId: 'c-1',
    score: 6,
    category: 'detractor',
    firstAnsweredAt: T0,
    answeredAt: T0,
    day: '2026-11-16',
    revision: 0,
    scoreHistory: [6],
    surveySentAt: SENT_AT,
  };

  beforeEach(() => {
    responses = new DynamoDbSurveyResponses(names.responses, db);
    deps = {
      responses,
      aggregates: new DynamoDbSurveyAggregates(names.surveyAggregates, db),
      events: new RecordingEvents(),
      metrics: { pending: new DynamoDbPendingCounts(names.responses, TABLES.responses.partitionKey, db), counters },
      keyring: async () => KEYRING,
      newToken: tokenSequence(),
    };
  });

  it("the put that creates a response appends one answered in its send's bucket; an edit appends nothing", async () => {
    expect(await responses.put(answer, undefined)).toBe(true);
    expect(await responses.put(answer, undefined)).toBe(false);
    expect(await responses.put({ ...answer, score: 9, category: 'promoter', revision: 1, scoreHistory: [6, 9] }, 0)).toBe(true);

    const item = await rawItem(names.responses, { surveyId: 'tp-1' });
    expect(item?.metricsPending).toEqual([
      { id: expect.any(String), record: { series: 'sends', campaignId: CAMPAIGN, day: '2026-11-15', kind: 'nps' }, counters: { answered: 1 } },
    ]);
    expect(item).toMatchObject({ surveySentAt: SENT_AT, revision: 1 });
    const stored = await responses.get('tp-1');
    expect(stored).toMatchObject({ surveySentAt: SENT_AT });
    expect(stored).not.toHaveProperty('metricsPending');
  });

  it('a response without the send time appends nothing', async () => {
    const { surveySentAt: _sentAt, ...unsent } = answer;
    await responses.put(unsent, undefined);
    expect(await rawItem(names.responses, { surveyId: 'tp-1' })).not.toHaveProperty('metricsPending');
  });

  it('recordSurveyResponse counts the first answer once; edits and repeats add nothing', async () => {
    await recordSurveyResponse({ ...click(6, T0), surveySentAt: SENT_AT }, deps);
    await recordSurveyResponse({ ...click(9, at(5)), surveySentAt: SENT_AT }, deps);
    await recordSurveyResponse({ ...click(9, at(6)), surveySentAt: SENT_AT }, deps);

    expect(await sends(CAMPAIGN)).toEqual([{ campaignId: CAMPAIGN, day: '2026-11-15', kind: 'nps', sent: 0, answered: 1 }]);
    const item = await rawItem(names.responses, { surveyId: 'tp-1' });
    expect(item).not.toHaveProperty('metricsPending');
    expect(item).not.toHaveProperty('metricsLease');
  });

  it('the pending sweep finishes the count of an answer whose request died right after the put', async () => {
    const crashing = Object.create(responses) as DynamoDbSurveyResponses;
    crashing.put = async (...args) => {
      await responses.put(...args);
      throw new SimulatedCrash('after responses.put');
    };
    await expect(recordSurveyResponse({ ...click(6, T0), surveySentAt: SENT_AT }, { ...deps, responses: crashing })).rejects.toThrow(SimulatedCrash);
    expect(await sends(CAMPAIGN)).toEqual([]);

    expect(await settlePendingResponses({ now: at(5), limit: 10 }, deps)).toEqual({ settled: 1, busy: 0, notNeeded: 0 });
    expect(await settlePendingResponses({ now: at(10), limit: 10 }, deps)).toEqual({ settled: 0, busy: 0, notNeeded: 0 });

    expect(await sends(CAMPAIGN)).toEqual([{ campaignId: CAMPAIGN, day: '2026-11-15', kind: 'nps', sent: 0, answered: 1 }]);
    expect(await rawItem(names.responses, { surveyId: 'tp-1' })).not.toHaveProperty('metricsPending');
  });
});
