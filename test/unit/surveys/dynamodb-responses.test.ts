import { ConditionalCheckFailedException, DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { AGGREGATES_TABLE, DynamoDbSurveyAggregates, DynamoDbSurveyResponses, RESPONSES_TABLE } from '../../../adapters/dynamodb-responses.ts';
import type { SurveyResponse } from '../../../core/surveys/responses.ts';
import { expressionProblem, sentRequests } from '../adapters/support.ts';

const RESPONSES = 'outreach-responses';
const AGGREGATES = 'outreach-survey-aggregates';
const NOW = '2026-12-01T10:00:00.000Z';

const ddb = mockClient(DynamoDBDocumentClient);
const db = () => createDocumentClient(new DynamoDBClient({ region: 'us-east-1' }));
const responses = () => new DynamoDbSurveyResponses(RESPONSES, db());
const aggregates = () => new DynamoDbSurveyAggregates(AGGREGATES, db());

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

const response: SurveyResponse = {
  surveyId: 'tp-1',
  kind: 'nps',
  campaignId: 'nps-after-delivery',
  customerId: 'c-1',
  orderId: 'o-1',
  score: 9,
  category: 'promoter',
  comment: 'Quick delivery',
  firstAnsweredAt: NOW,
  answeredAt: NOW,
  day: '2026-12-01',
  revision: 0,
  scoreHistory: [9],
};
const key = { campaignId: 'nps-after-delivery', day: '2026-12-01', kind: 'nps' as const };

beforeEach(() => {
  ddb.reset();
});

afterEach(() => {
  // Every request any test sent must be one DynamoDB accepts.
  expect(sentRequests(ddb).map(({ command, input }) => ({ command, problem: expressionProblem(input) }))).toEqual(
    sentRequests(ddb).map(({ command }) => ({ command, problem: undefined })),
  );
});

afterAll(() => {
  ddb.restore();
});

describe('table key schemas', () => {
  it('keys responses by survey id with a sparse pending index, and aggregates by campaign and day#kind bucket', () => {
    expect(RESPONSES_TABLE).toEqual({
      partitionKey: 'surveyId',
      pendingIndex: { name: 'byPendingSettlement', partitionKey: 'settlePending', sortKey: 'answeredAt', include: ['revision'] },
    });
    expect(AGGREGATES_TABLE).toEqual({ partitionKey: 'campaignId', sortKey: 'bucket' });
  });
});

describe('DynamoDbSurveyResponses.put', () => {
  it('creates a first answer only if the survey has no response, marked pending, without bookkeeping fields', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});

    // Act
    const written = await responses().put({ ...response, aggregatedRevision: 3, settlement: { token: 'x', until: NOW } }, undefined);

    // Assess
    expect(written).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: RESPONSES,
      Item: { ...response, settlePending: 'pending' },
      ConditionExpression: 'attribute_not_exists(surveyId)',
    });
  });

  it('changes only the answer fields, conditional on the revision read', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    const edit = { ...response, score: 6, category: 'detractor' as const, revision: 2, scoreHistory: [9, 7, 6], answeredAt: '2026-12-02T10:00:00.000Z' };

    // Act
    const written = await responses().put(edit, 1);

    // Assess
    expect(written).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: RESPONSES,
      Key: { surveyId: 'tp-1' },
      UpdateExpression:
        'SET #score = :score, #category = :category, #answeredAt = :answeredAt, #revision = :revision, ' +
        '#scoreHistory = :scoreHistory, #settlePending = :pending, #comment = :comment',
      ConditionExpression: '#revision = :expected',
      ExpressionAttributeNames: {
        '#score': 'score',
        '#category': 'category',
        '#answeredAt': 'answeredAt',
        '#revision': 'revision',
        '#scoreHistory': 'scoreHistory',
        '#settlePending': 'settlePending',
        '#comment': 'comment',
      },
      ExpressionAttributeValues: {
        ':score': 6,
        ':category': 'detractor',
        ':answeredAt': '2026-12-02T10:00:00.000Z',
        ':revision': 2,
        ':scoreHistory': [9, 7, 6],
        ':pending': 'pending',
        ':expected': 1,
        ':comment': 'Quick delivery',
      },
    });
  });

  it('removes the comment attribute when the response has none', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    const { comment: _comment, ...withoutComment } = response;

    // Act
    await responses().put({ ...withoutComment, revision: 1, scoreHistory: [9, 9] }, 0);

    // Assess
    const [update] = sentRequests(ddb);
    expect(update?.input).toMatchObject({ UpdateExpression: expect.stringMatching(/ REMOVE #comment$/) });
    expect((update?.input as { ExpressionAttributeValues: object }).ExpressionAttributeValues).not.toHaveProperty(':comment');
  });

  it('returns false when the condition fails, and rethrows anything else', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(UpdateCommand).rejects(throttled());

    // Act
    const created = await responses().put(response, undefined);
    const edited = responses().put({ ...response, revision: 1 }, 0);

    // Assess
    expect(created).toBe(false);
    await expect(edited).rejects.toThrow('slow down');
  });
});

describe('DynamoDbSurveyResponses.get', () => {
  it('reads consistently and strips the pending marker', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({ Item: { ...response, settlePending: 'pending' } });

    // Act
    const stored = await responses().get('tp-1');

    // Assess
    expect(stored).toEqual(response);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: RESPONSES, Key: { surveyId: 'tp-1' }, ConsistentRead: true });
  });
});

describe('DynamoDbSurveyResponses settlement', () => {
  const lease = { token: 'lease-1', until: '2026-12-01T10:15:00.000Z' };

  it('takes the lease only for pending work and no running lease, returning the response as stored', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({ Attributes: { ...response, settlement: lease, settlePending: 'pending' } });

    // Act
    const taken = await responses().acquireSettlement('tp-1', lease, NOW);

    // Assess
    expect(taken).toEqual({ ...response, settlement: lease });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: RESPONSES,
      Key: { surveyId: 'tp-1' },
      UpdateExpression: 'SET #settlement = :lease',
      ConditionExpression: 'attribute_exists(#settlePending) AND (attribute_not_exists(#settlement) OR #settlement.#until < :now)',
      ExpressionAttributeNames: { '#settlement': 'settlement', '#settlePending': 'settlePending', '#until': 'until' },
      ExpressionAttributeValues: { ':lease': lease, ':now': NOW },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('answers undefined when the lease cannot be taken', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const taken = await responses().acquireSettlement('tp-1', lease, NOW);

    // Assess
    expect(taken).toBeUndefined();
  });

  it('commits a settled revision: records it, releases the lease and leaves the pending index', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    const outcome = await responses().commitSettlement('tp-1', 'lease-1', 2);

    // Assess
    expect(outcome).toEqual({ status: 'settled' });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: RESPONSES,
      Key: { surveyId: 'tp-1' },
      UpdateExpression: 'SET #aggregated = :revision, #published = :revision REMOVE #settlement, #settlePending',
      ConditionExpression: '#settlement.#token = :token AND #revision = :revision',
      ExpressionAttributeNames: {
        '#settlement': 'settlement',
        '#token': 'token',
        '#aggregated': 'aggregatedRevision',
        '#published': 'publishedRevision',
        '#settlePending': 'settlePending',
        '#revision': 'revision',
      },
      ExpressionAttributeValues: { ':token': 'lease-1', ':revision': 2 },
    });
  });

  it('keeps the lease and returns the newer answer when the response changed meanwhile', async () => {
    // Prepare
    const newer = { ...response, revision: 3, scoreHistory: [9, 8, 7, 6], aggregatedRevision: 2, publishedRevision: 2, settlement: lease };
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: { ...newer, settlePending: 'pending' } });

    // Act
    const outcome = await responses().commitSettlement('tp-1', 'lease-1', 2);

    // Assess
    expect(outcome).toEqual({ status: 'advanced', response: newer });
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 2, {
      TableName: RESPONSES,
      Key: { surveyId: 'tp-1' },
      UpdateExpression: 'SET #aggregated = :revision, #published = :revision',
      ConditionExpression: '#settlement.#token = :token',
      ExpressionAttributeNames: { '#settlement': 'settlement', '#token': 'token', '#aggregated': 'aggregatedRevision', '#published': 'publishedRevision' },
      ExpressionAttributeValues: { ':token': 'lease-1', ':revision': 2 },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('reports a lost lease when neither commit applies', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const outcome = await responses().commitSettlement('tp-1', 'lease-1', 2);

    // Assess
    expect(outcome).toEqual({ status: 'lost' });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });
});

describe('DynamoDbSurveyResponses listings', () => {
  it('pages the sparse pending index, oldest first, up to the limit', async () => {
    // Prepare
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ surveyId: 'tp-1' }, { surveyId: 'tp-2' }], LastEvaluatedKey: { surveyId: 'tp-2' } })
      .resolves({ Items: [{ surveyId: 'tp-3' }], LastEvaluatedKey: { surveyId: 'tp-3' } });

    // Act
    const ids = await responses().listPendingSettlement(NOW, 3);

    // Assess
    expect(ids).toEqual(['tp-1', 'tp-2', 'tp-3']);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      TableName: RESPONSES,
      IndexName: 'byPendingSettlement',
      KeyConditionExpression: '#pending = :pending AND #answeredAt <= :before',
      ExpressionAttributeNames: { '#pending': 'settlePending', '#answeredAt': 'answeredAt' },
      ExpressionAttributeValues: { ':pending': 'pending', ':before': NOW },
      Limit: 3,
    });
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 2, { Limit: 1, ExclusiveStartKey: { surveyId: 'tp-2' } });
  });

  it('scans a campaign consistently, every page', async () => {
    // Prepare
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Items: [{ ...response, surveyId: 'tp-2' }], LastEvaluatedKey: { surveyId: 'tp-2' } })
      .resolves({ Items: [{ ...response, settlePending: 'pending' }] });

    // Act
    const all = await responses().listByCampaign('nps-after-delivery');

    // Assess
    expect(all.map((r) => r.surveyId)).toEqual(['tp-1', 'tp-2']);
    expect(all[0]).toEqual(response);
    expect(ddb).toHaveReceivedNthCommandWith(ScanCommand, 1, {
      TableName: RESPONSES,
      ConsistentRead: true,
      FilterExpression: '#campaignId = :campaignId',
      ExpressionAttributeNames: { '#campaignId': 'campaignId' },
      ExpressionAttributeValues: { ':campaignId': 'nps-after-delivery' },
    });
    expect(ddb).toHaveReceivedNthCommandWith(ScanCommand, 2, { ExclusiveStartKey: { surveyId: 'tp-2' } });
  });
});

describe('DynamoDbSurveyAggregates', () => {
  it('adds a delta with ADD on top-level counters, setting the marker, conditional on the marker read', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    const applied = await aggregates().apply(
      key,
      { responses: 0, scoreSum: 3, scores: { '6': -1, '9': 1 }, categories: { detractor: -1, 'not-satisfied': 0, promoter: 1 } },
      { surveyId: 'tp-1', expected: 0, revision: 1 },
    );

    // Assess
    expect(applied).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: AGGREGATES,
      Key: { campaignId: 'nps-after-delivery', bucket: '2026-12-01#nps' },
      UpdateExpression:
        'SET #day = :day, #kind = :kind, #marker = :revision ADD #version :one, #scoreSum :scoreSum, #s0 :s0, #s1 :s1, #c0 :c0, #c2 :c2',
      ConditionExpression: '#marker = :expected',
      ExpressionAttributeNames: {
        '#day': 'day',
        '#kind': 'kind',
        '#marker': 'inflight_tp-1',
        '#version': 'version',
        '#scoreSum': 'scoreSum',
        '#s0': 'score_6',
        '#s1': 'score_9',
        '#c0': 'category_detractor',
        '#c2': 'category_promoter',
      },
      ExpressionAttributeValues: { ':day': '2026-12-01', ':kind': 'nps', ':revision': 1, ':one': 1, ':scoreSum': 3, ':s0': -1, ':s1': 1, ':c0': -1, ':c2': 1, ':expected': 0 },
    });
  });

  it('requires no marker for a survey not counted yet, and answers false when the marker moved', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const applied = await aggregates().apply(key, { responses: 1, scoreSum: 9, scores: { '9': 1 }, categories: { promoter: 1 } }, {
      surveyId: 'tp-1',
      expected: undefined,
      revision: 0,
    });

    // Assess
    expect(applied).toBe(false);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression: 'SET #day = :day, #kind = :kind, #marker = :revision ADD #version :one, #responses :responses, #scoreSum :scoreSum, #s0 :s0, #c0 :c0',
      ConditionExpression: 'attribute_not_exists(#marker)',
    });
  });

  it('reads a survey marker consistently, projecting only it', async () => {
    // Prepare
    ddb.on(GetCommand).resolvesOnce({ Item: { 'inflight_tp-1': 4 } }).resolves({});

    // Act
    const marker = await aggregates().inflightRevision(key, 'tp-1');
    const none = await aggregates().inflightRevision(key, 'tp-1');

    // Assess
    expect([marker, none]).toEqual([4, undefined]);
    expect(ddb).toHaveReceivedNthCommandWith(GetCommand, 1, {
      TableName: AGGREGATES,
      Key: { campaignId: 'nps-after-delivery', bucket: '2026-12-01#nps' },
      ConsistentRead: true,
      ProjectionExpression: '#marker',
      ExpressionAttributeNames: { '#marker': 'inflight_tp-1' },
    });
  });

  it('drops a marker at or below the recorded revision, and ignores one that is gone or newer', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    await aggregates().clearInflight(key, 'tp-1', 2);

    // Assess
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: AGGREGATES,
      Key: { campaignId: 'nps-after-delivery', bucket: '2026-12-01#nps' },
      UpdateExpression: 'REMOVE #marker',
      ConditionExpression: '#marker <= :revision',
      ExpressionAttributeNames: { '#marker': 'inflight_tp-1' },
      ExpressionAttributeValues: { ':revision': 2 },
    });
  });

  it('reads items back as counts, leaving out zeros and markers', async () => {
    // Prepare
    const item = {
      campaignId: 'nps-after-delivery',
      bucket: '2026-12-01#nps',
      day: '2026-12-01',
      kind: 'nps',
      responses: 2,
      scoreSum: 19,
      score_6: 0,
      score_9: 1,
      score_10: 1,
      category_detractor: 0,
      category_promoter: 2,
      'inflight_tp-1': 1,
      version: 5,
    };
    ddb.on(GetCommand).resolves({ Item: item });
    ddb.on(QueryCommand).resolvesOnce({ Items: [item], LastEvaluatedKey: { campaignId: 'x', bucket: 'y' } }).resolves({ Items: [] });

    // Act
    const one = await aggregates().get(key);
    const all = await aggregates().listByCampaign('nps-after-delivery');

    // Assess
    const expected = { ...key, responses: 2, scoreSum: 19, scores: { '9': 1, '10': 1 }, categories: { promoter: 2 }, version: 5 };
    expect(one).toEqual(expected);
    expect(all).toEqual([expected]);
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      TableName: AGGREGATES,
      KeyConditionExpression: '#campaignId = :campaignId',
      ExpressionAttributeNames: { '#campaignId': 'campaignId' },
      ExpressionAttributeValues: { ':campaignId': 'nps-after-delivery' },
      ConsistentRead: true,
    });
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 2, { ExclusiveStartKey: { campaignId: 'x', bucket: 'y' } });
  });

  it('replaces an aggregate only at the version read (or only if absent), bumping the version', async () => {
    // Prepare
    ddb.on(PutCommand).resolvesOnce({}).rejects(conditionFailed());
    const aggregate = { ...key, responses: 1, scoreSum: 9, scores: { '9': 1 }, categories: { promoter: 1 } };

    // Act
    const replaced = await aggregates().replace(aggregate, 4);
    const created = await aggregates().replace(aggregate, undefined);

    // Assess
    expect([replaced, created]).toEqual([true, false]);
    const item = { campaignId: 'nps-after-delivery', bucket: '2026-12-01#nps', day: '2026-12-01', kind: 'nps', responses: 1, scoreSum: 9, score_9: 1, category_promoter: 1 };
    expect(ddb).toHaveReceivedNthCommandWith(PutCommand, 1, {
      TableName: AGGREGATES,
      Item: { ...item, version: 5 },
      ConditionExpression: '#version = :version',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':version': 4 },
    });
    expect(ddb).toHaveReceivedNthCommandWith(PutCommand, 2, {
      TableName: AGGREGATES,
      Item: { ...item, version: 1 },
      ConditionExpression: 'attribute_not_exists(campaignId)',
    });
  });
});
