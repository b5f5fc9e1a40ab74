/**
 * The survey adapters against a real DynamoDB implementation (dynalite, in memory, on an ephemeral port): the
 * conditional revision writes, the settlement lease, ADD on the aggregates with the in-flight marker, the sparse
 * pending index, and the use cases end to end, including a crash and concurrent answers.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { AGGREGATES_TABLE, DynamoDbSurveyAggregates, DynamoDbSurveyResponses, RESPONSES_TABLE } from '../../../adapters/dynamodb-responses.ts';
import { SurveyAnswerConflictError } from '../../../core/surveys/errors.ts';
import { rebuildCampaignAggregates } from '../../../core/surveys/rebuild-aggregates.ts';
import { recordSurveyResponse } from '../../../core/surveys/record-response.ts';
import { rebuildAggregates, type SurveyResponse } from '../../../core/surveys/responses.ts';
import { settlePendingResponses } from '../../../core/surveys/settle-response.ts';
import { KEYRING, RecordingEvents, SimulatedCrash, tokenSequence } from './fakes.ts';
import { CAMPAIGN, click } from './support.ts';

const T0 = '2026-12-01T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

let server: Server;
let client: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

/** Fresh tables created from the exported key schemas, as the integrator's TABLES entries would create them. */
async function freshTables() {
  tables += 1;
  const names = { responses: `t${tables}-survey-responses`, aggregates: `t${tables}-survey-aggregates` };
  const { pendingIndex } = RESPONSES_TABLE;
  await client.send(
    new CreateTableCommand({
      TableName: names.responses,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: RESPONSES_TABLE.partitionKey, KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: RESPONSES_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: pendingIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: pendingIndex.sortKey, AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: pendingIndex.name,
          KeySchema: [
            { AttributeName: pendingIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: pendingIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...pendingIndex.include] },
        },
      ],
    }),
  );
  await client.send(
    new CreateTableCommand({
      TableName: names.aggregates,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: AGGREGATES_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: AGGREGATES_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: AGGREGATES_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: AGGREGATES_TABLE.sortKey, AttributeType: 'S' },
      ],
    }),
  );
  const db = createDocumentClient(client);
  return { responses: new DynamoDbSurveyResponses(names.responses, db), aggregates: new DynamoDbSurveyAggregates(names.aggregates, db) };
}

let store: Awaited<ReturnType<typeof freshTables>>;
let events: RecordingEvents;
let deps: {
  responses: DynamoDbSurveyResponses;
  aggregates: DynamoDbSurveyAggregates;
  events: RecordingEvents;
  keyring: () => Promise<typeof KEYRING>;
  newToken: () => string;
};

beforeEach(async () => {
  store = await freshTables();
  events = new RecordingEvents();
  deps = { ...store, events, keyring: async () => KEYRING, newToken: tokenSequence() };
});

const counts = async () =>
  (await store.aggregates.listByCampaign(CAMPAIGN)).map(({ version: _version, ...aggregate }) => aggregate);

async function expectSettledAndConsistent() {
  const responses = await store.responses.listByCampaign(CAMPAIGN);
  expect(await counts()).toEqual(rebuildAggregates(responses));
  expect(responses.filter((r) => r.aggregatedRevision !== r.revision || r.publishedRevision !== r.revision || r.settlement)).toEqual([]);
  expect(await store.responses.listPendingSettlement('9999-12-31T00:00:00.000Z', 100)).toEqual([]);
}

const answer: SurveyResponse = {
  surveyId: 'tp-1',
  kind: 'nps',
  campaignId: CAMPAIGN,
  customerId: 'c-1',
  score: 6,
  category: 'detractor',
  firstAnsweredAt: T0,
  answeredAt: T0,
  day: '2026-12-01',
  revision: 0,
  scoreHistory: [6],
};

describe('responses on dynalite', () => {
  it('creates once, and changes only at the expected revision', async () => {
    expect(await store.responses.put(answer, undefined)).toBe(true);
    expect(await store.responses.put({ ...answer, score: 9 }, undefined)).toBe(false);

    const edit = { ...answer, score: 9, category: 'promoter' as const, comment: 'Better now', revision: 1, scoreHistory: [6, 9], answeredAt: at(5) };
    expect(await store.responses.put(edit, 1)).toBe(false);
    expect(await store.responses.put(edit, 0)).toBe(true);
    expect(await store.responses.put({ ...edit, revision: 2, scoreHistory: [6, 9, 10], score: 10 }, 0)).toBe(false);

    expect(await store.responses.get('tp-1')).toEqual(edit);
  });

  it('leases settlement to one settler at a time, until the lease runs out', async () => {
    await store.responses.put(answer, undefined);
    expect(await store.responses.listPendingSettlement(T0, 10)).toEqual(['tp-1']);

    const first = await store.responses.acquireSettlement('tp-1', { token: 'a', until: at(15) }, T0);
    expect(first).toMatchObject({ surveyId: 'tp-1', settlement: { token: 'a', until: at(15) } });
    expect(await store.responses.acquireSettlement('tp-1', { token: 'b', until: at(20) }, at(5))).toBeUndefined();
    expect(await store.responses.acquireSettlement('tp-1', { token: 'c', until: at(31) }, at(16))).toMatchObject({ settlement: { token: 'c' } });

    expect(await store.responses.commitSettlement('tp-1', 'a', 0)).toEqual({ status: 'lost' });
    expect(await store.responses.commitSettlement('tp-1', 'c', 0)).toEqual({ status: 'settled' });
    expect(await store.responses.get('tp-1')).toEqual({ ...answer, aggregatedRevision: 0, publishedRevision: 0 });
    expect(await store.responses.listPendingSettlement(at(60), 10)).toEqual([]);
    expect(await store.responses.acquireSettlement('tp-1', { token: 'd', until: at(90) }, at(60))).toBeUndefined();
  });

  it('keeps the lease when the answer changed before the commit', async () => {
    await store.responses.put(answer, undefined);
    await store.responses.acquireSettlement('tp-1', { token: 'a', until: at(15) }, T0);
    await store.responses.put({ ...answer, score: 9, category: 'promoter', revision: 1, scoreHistory: [6, 9] }, 0);

    const outcome = await store.responses.commitSettlement('tp-1', 'a', 0);

    expect(outcome).toMatchObject({ status: 'advanced', response: { revision: 1, aggregatedRevision: 0, settlement: { token: 'a' } } });
    expect(await store.responses.listPendingSettlement(at(60), 10)).toEqual(['tp-1']);
    expect(await store.responses.commitSettlement('tp-1', 'a', 1)).toEqual({ status: 'settled' });
  });
});

describe('aggregates on dynalite', () => {
  const key = { campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps' as const };

  it('adds with ADD under a compare-and-set on the survey marker, and drops the marker', async () => {
    const first = { responses: 1, scoreSum: 6, scores: { '6': 1 }, categories: { detractor: 1 } };
    expect(await store.aggregates.apply(key, first, { surveyId: 'tp-1', expected: undefined, revision: 0 })).toBe(true);
    // A second settler that read "no marker" is refused: no double count.
    expect(await store.aggregates.apply(key, first, { surveyId: 'tp-1', expected: undefined, revision: 0 })).toBe(false);
    expect(await store.aggregates.apply(key, { responses: 1, scoreSum: 10, scores: { '10': 1 }, categories: { promoter: 1 } }, { surveyId: 'tp-2', expected: undefined, revision: 0 })).toBe(true);
    const change = { responses: 0, scoreSum: 3, scores: { '6': -1, '9': 1 }, categories: { detractor: -1, promoter: 1 } };
    expect(await store.aggregates.apply(key, change, { surveyId: 'tp-1', expected: 0, revision: 1 })).toBe(true);

    expect(await store.aggregates.get(key)).toEqual({
      ...key,
      responses: 2,
      scoreSum: 19,
      scores: { '9': 1, '10': 1 },
      categories: { promoter: 2 },
      version: 3,
    });
    expect(await store.aggregates.inflightRevision(key, 'tp-1')).toBe(1);
    await store.aggregates.clearInflight(key, 'tp-1', 0);
    expect(await store.aggregates.inflightRevision(key, 'tp-1')).toBe(1);
    await store.aggregates.clearInflight(key, 'tp-1', 1);
    await store.aggregates.clearInflight(key, 'tp-9', 1);
    expect(await store.aggregates.inflightRevision(key, 'tp-1')).toBeUndefined();
  });

  it('replaces an aggregate only at the version read, dropping its markers', async () => {
    await store.aggregates.apply(key, { responses: 1, scoreSum: 6, scores: { '6': 1 }, categories: { detractor: 1 } }, { surveyId: 'tp-1', expected: undefined, revision: 0 });
    const fixed = { ...key, responses: 1, scoreSum: 7, scores: { '7': 1 }, categories: { passive: 1 } };

    expect(await store.aggregates.replace(fixed, undefined)).toBe(false);
    expect(await store.aggregates.replace(fixed, 0)).toBe(false);
    expect(await store.aggregates.replace(fixed, 1)).toBe(true);

    expect(await store.aggregates.get(key)).toEqual({ ...fixed, version: 2 });
    expect(await store.aggregates.inflightRevision(key, 'tp-1')).toBeUndefined();
  });
});

describe('the survey use cases on dynalite', () => {
  it('records, changes and repeats answers with the aggregates equal to a rebuild', async () => {
    await recordSurveyResponse(click(6, T0, { surveyId: 'tp-1' }), deps);
    await recordSurveyResponse(click(9, at(5), { surveyId: 'tp-1', comment: 'Support called back' }), deps);
    await recordSurveyResponse(click(9, at(6), { surveyId: 'tp-1' }), deps);
    await recordSurveyResponse(click(3, at(60 * 24), { surveyId: 'tp-2' }), deps);

    expect(await counts()).toEqual([
      { campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps', responses: 1, scoreSum: 9, scores: { '9': 1 }, categories: { promoter: 1 } },
      { campaignId: CAMPAIGN, day: '2026-12-02', kind: 'nps', responses: 1, scoreSum: 3, scores: { '3': 1 }, categories: { detractor: 1 } },
    ]);
    expect(events.published.map((e) => [e.detail.surveyId, e.detail.revision, e.detail.score])).toEqual([
      ['tp-1', 0, 6],
      ['tp-1', 1, 9],
      ['tp-2', 0, 3],
    ]);
    await expectSettledAndConsistent();
  });

  it('recovers from a crash between the aggregate ADD and the response update without counting twice', async () => {
    await recordSurveyResponse(click(6, T0), deps);
    let crash = true;
    const crashing = Object.create(store.aggregates) as DynamoDbSurveyAggregates;
    crashing.apply = async (...args) => {
      const applied = await store.aggregates.apply(...args);
      if (crash) {
        crash = false;
        throw new SimulatedCrash('after aggregates.apply');
      }
      return applied;
    };
    await expect(recordSurveyResponse(click(9, at(10)), { ...deps, aggregates: crashing })).rejects.toThrow(SimulatedCrash);
    expect((await counts())[0]).toMatchObject({ responses: 1, scores: { '9': 1 } });

    expect(await settlePendingResponses({ now: at(12), limit: 10 }, deps)).toEqual({ settled: 0, busy: 1, notNeeded: 0 });
    expect(await settlePendingResponses({ now: at(26), limit: 10 }, deps)).toEqual({ settled: 1, busy: 0, notNeeded: 0 });

    expect((await counts())[0]).toMatchObject({ responses: 1, scoreSum: 9, scores: { '9': 1 } });
    expect(await store.aggregates.inflightRevision({ campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps' }, 'tp-1')).toBeUndefined();
    await expectSettledAndConsistent();
  });

  it('settles concurrent answers to one survey into one consistent count', async () => {
    await recordSurveyResponse(click(5, T0), deps);
    const clicks = [7, 9, 9, 2, 10, 0, 10, 8].map((score, i) => recordSurveyResponse(click(score, at(1 + i / 10)), deps));
    const outcomes = await Promise.allSettled(clicks);

    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(SurveyAnswerConflictError);
    }
    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
    const stored = await store.responses.get('tp-1');
    expect((await counts())[0]).toMatchObject({ responses: 1, scoreSum: stored!.score, scores: { [String(stored!.score)]: 1 } });
    await expectSettledAndConsistent();
    // The last event is the stored answer.
    expect(events.published.at(-1)?.detail).toMatchObject({ revision: stored!.revision, score: stored!.score });
  });

  it('rebuilds aggregates that were damaged', async () => {
    await recordSurveyResponse(click(6, T0, { surveyId: 'tp-1' }), deps);
    await recordSurveyResponse(click(10, at(1), { surveyId: 'tp-2' }), deps);
    const key = { campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps' as const };
    await store.aggregates.apply(key, { responses: 5, scoreSum: 50, scores: { '10': 5 }, categories: { promoter: 5 } }, { surveyId: 'bogus', expected: undefined, revision: 0 });

    expect(await rebuildCampaignAggregates({ campaignId: CAMPAIGN, now: at(60) }, deps)).toEqual({ settled: 0, replaced: 1, skipped: [] });

    expect(await counts()).toEqual(rebuildAggregates(await store.responses.listByCampaign(CAMPAIGN)));
    expect(await store.aggregates.inflightRevision(key, 'bogus')).toBeUndefined();
  });
});
