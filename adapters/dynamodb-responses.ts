/**
 * DynamoDB repositories for survey responses and their aggregates.
 *
 * Two tables rather than one with two item types: their keys and access patterns share nothing (responses by survey
 * id, aggregates by campaign and day range), the product already keeps one table per entity (customers, touchpoints,
 * campaigns), and separate tables let an admin give them different retention and backups — responses hold free text a
 * customer wrote, aggregates hold none. Nothing needs both in one request or one transaction.
 *
 * The key schemas are exported in the shape of TABLES in core/topology.ts, so they can be added there as they are.
 */
import { randomUUID } from 'node:crypto';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { CommitOutcome, InflightMarker, StoredAggregate, SurveyAggregateRepository, SurveyResponseRepository } from '../core/surveys/ports.ts';
import type { AggregateDelta, AggregateKey, SettlementLease, SurveyAggregate, SurveyResponse } from '../core/surveys/responses.ts';
import type { SurveyKind } from '../core/surveys/scales.ts';
import { firstAnswerCounts } from '../core/surveys/settle-response.ts';
import { TABLES } from '../core/topology.ts';
import { createDocumentClient, isConditionFailure, writeIfCondition } from './dynamodb-client.ts';
import { LEASE_ATTRIBUTE, PENDING_ATTRIBUTE } from './dynamodb-pending.ts';

/** Responses, one per survey send (the key schema lives in TABLES, core/topology.ts). */
export const RESPONSES_TABLE = TABLES.responses;

/** Aggregates per campaign × (UTC day of the first answer, survey kind): `bucket` = `<YYYY-MM-DD>#<kind>`. */
export const AGGREGATES_TABLE = TABLES.surveyAggregates;

const PENDING = 'pending';
const SCORE_PREFIX = 'score_';
const CATEGORY_PREFIX = 'category_';
const INFLIGHT_PREFIX = 'inflight_';

export const bucketOf = (key: Pick<AggregateKey, 'day' | 'kind'>): string => `${key.day}#${key.kind}`;
const inflightAttribute = (surveyId: string) => `${INFLIGHT_PREFIX}${surveyId}`;

type Item = Record<string, unknown>;

function toResponse(item: Item): SurveyResponse {
  const { settlePending: _pending, [PENDING_ATTRIBUTE]: _counts, [LEASE_ATTRIBUTE]: _countLease, ...response } = item;
  return response as unknown as SurveyResponse;
}

export class DynamoDbSurveyResponses implements SurveyResponseRepository {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async get(surveyId: string): Promise<SurveyResponse | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { surveyId }, ConsistentRead: true }));
    return Item ? toResponse(Item) : undefined;
  }

  /**
   * A new response is written with the metric counts its first answer brings (`firstAnswerCounts`) as its pending
   * counts, in the same conditional put: created once, counted once. An edit changes no count of the response rate.
   */
  async put(response: SurveyResponse, expectedRevision: number | undefined): Promise<boolean> {
    if (expectedRevision === undefined) {
      const { aggregatedRevision: _a, publishedRevision: _p, settlement: _s, ...answer } = response;
      const counts = firstAnswerCounts(response, randomUUID());
      return writeIfCondition(
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...answer, settlePending: PENDING, ...(counts.length > 0 ? { [PENDING_ATTRIBUTE]: counts } : {}) },
            ConditionExpression: 'attribute_not_exists(surveyId)',
          }),
        ),
      );
    }
    const set =
      'SET #score = :score, #category = :category, #answeredAt = :answeredAt, #revision = :revision, ' +
      `#scoreHistory = :scoreHistory, #settlePending = :pending${response.comment !== undefined ? ', #comment = :comment' : ''}`;
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { surveyId: response.surveyId },
          UpdateExpression: response.comment !== undefined ? set : `${set} REMOVE #comment`,
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
            ':score': response.score,
            ':category': response.category,
            ':answeredAt': response.answeredAt,
            ':revision': response.revision,
            ':scoreHistory': response.scoreHistory,
            ':pending': PENDING,
            ':expected': expectedRevision,
            ...(response.comment !== undefined ? { ':comment': response.comment } : {}),
          },
        }),
      ),
    );
  }

  async acquireSettlement(surveyId: string, lease: SettlementLease, now: string): Promise<SurveyResponse | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { surveyId },
          UpdateExpression: 'SET #settlement = :lease',
          ConditionExpression: 'attribute_exists(#settlePending) AND (attribute_not_exists(#settlement) OR #settlement.#until < :now)',
          ExpressionAttributeNames: { '#settlement': 'settlement', '#settlePending': 'settlePending', '#until': 'until' },
          ExpressionAttributeValues: { ':lease': { token: lease.token, until: lease.until }, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toResponse(Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async commitSettlement(surveyId: string, token: string, revision: number): Promise<CommitOutcome> {
    const names = { '#settlement': 'settlement', '#token': 'token', '#aggregated': 'aggregatedRevision', '#published': 'publishedRevision' };
    const settled = await writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { surveyId },
          UpdateExpression: 'SET #aggregated = :revision, #published = :revision REMOVE #settlement, #settlePending',
          ConditionExpression: '#settlement.#token = :token AND #revision = :revision',
          ExpressionAttributeNames: { ...names, '#settlePending': 'settlePending', '#revision': 'revision' },
          ExpressionAttributeValues: { ':token': token, ':revision': revision },
        }),
      ),
    );
    if (settled) return { status: 'settled' };
    // The answer changed meanwhile (or the lease is gone): record this revision and keep the lease.
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { surveyId },
          UpdateExpression: 'SET #aggregated = :revision, #published = :revision',
          ConditionExpression: '#settlement.#token = :token',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':token': token, ':revision': revision },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? { status: 'advanced', response: toResponse(Attributes) } : { status: 'lost' };
    } catch (error) {
      if (isConditionFailure(error)) return { status: 'lost' };
      throw error;
    }
  }

  async listPendingSettlement(answeredBefore: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: RESPONSES_TABLE.pendingIndex.name,
          KeyConditionExpression: '#pending = :pending AND #answeredAt <= :before',
          ExpressionAttributeNames: { '#pending': 'settlePending', '#answeredAt': 'answeredAt' },
          ExpressionAttributeValues: { ':pending': PENDING, ':before': answeredBefore },
          Limit: limit - ids.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) ids.push(String(item.surveyId));
      startKey = page.LastEvaluatedKey;
    } while (startKey && ids.length < limit);
    return ids;
  }

  async listByCampaign(campaignId: string): Promise<SurveyResponse[]> {
    const responses: SurveyResponse[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: '#campaignId = :campaignId',
          ExpressionAttributeNames: { '#campaignId': 'campaignId' },
          ExpressionAttributeValues: { ':campaignId': campaignId },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) responses.push(toResponse(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return responses.sort((a, b) => a.surveyId.localeCompare(b.surveyId));
  }
}

/** Counts as stored: `score_<n>` and `category_<c>` top-level numbers (ADD cannot create a nested map's entry). */
export function toAggregate(item: Item): StoredAggregate {
  const scores: Record<string, number> = {};
  const categories: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (typeof value !== 'number' || value === 0) continue;
    if (name.startsWith(SCORE_PREFIX)) scores[name.slice(SCORE_PREFIX.length)] = value;
    else if (name.startsWith(CATEGORY_PREFIX)) categories[name.slice(CATEGORY_PREFIX.length)] = value;
  }
  return {
    campaignId: String(item.campaignId),
    day: String(item.day),
    kind: item.kind as SurveyKind,
    responses: Number(item.responses ?? 0),
    scoreSum: Number(item.scoreSum ?? 0),
    scores,
    categories,
    version: Number(item.version ?? 0),
  };
}

export class DynamoDbSurveyAggregates implements SurveyAggregateRepository {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  private key(key: AggregateKey) {
    return { campaignId: key.campaignId, bucket: bucketOf(key) };
  }

  async get(key: AggregateKey): Promise<StoredAggregate | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: this.key(key), ConsistentRead: true }));
    return Item ? toAggregate(Item) : undefined;
  }

  async inflightRevision(key: AggregateKey, surveyId: string): Promise<number | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.key(key),
        ConsistentRead: true,
        ProjectionExpression: '#marker',
        ExpressionAttributeNames: { '#marker': inflightAttribute(surveyId) },
      }),
    );
    const marker = Item?.[inflightAttribute(surveyId)];
    return typeof marker === 'number' ? marker : undefined;
  }

  async apply(key: AggregateKey, delta: AggregateDelta, marker: InflightMarker): Promise<boolean> {
    const names: Record<string, string> = { '#day': 'day', '#kind': 'kind', '#marker': inflightAttribute(marker.surveyId), '#version': 'version' };
    const values: Record<string, unknown> = { ':day': key.day, ':kind': key.kind, ':revision': marker.revision, ':one': 1 };
    const adds = ['#version :one'];
    const add = (placeholder: string, attribute: string, by: number) => {
      if (by === 0) return;
      names[`#${placeholder}`] = attribute;
      values[`:${placeholder}`] = by;
      adds.push(`#${placeholder} :${placeholder}`);
    };
    add('responses', 'responses', delta.responses);
    add('scoreSum', 'scoreSum', delta.scoreSum);
    Object.entries(delta.scores).forEach(([score, by], i) => add(`s${i}`, `${SCORE_PREFIX}${score}`, by));
    Object.entries(delta.categories).forEach(([category, by], i) => add(`c${i}`, `${CATEGORY_PREFIX}${category}`, by));
    if (marker.expected !== undefined) values[':expected'] = marker.expected;
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(key),
          UpdateExpression: `SET #day = :day, #kind = :kind, #marker = :revision ADD ${adds.join(', ')}`,
          ConditionExpression: marker.expected === undefined ? 'attribute_not_exists(#marker)' : '#marker = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async clearInflight(key: AggregateKey, surveyId: string, revision: number): Promise<void> {
    // Not there (never set, or already dropped) or newer: nothing to drop.
    await writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(key),
          UpdateExpression: 'REMOVE #marker',
          ConditionExpression: '#marker <= :revision',
          ExpressionAttributeNames: { '#marker': inflightAttribute(surveyId) },
          ExpressionAttributeValues: { ':revision': revision },
        }),
      ),
    );
  }

  async listByCampaign(campaignId: string): Promise<StoredAggregate[]> {
    const aggregates: StoredAggregate[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#campaignId = :campaignId',
          ExpressionAttributeNames: { '#campaignId': 'campaignId' },
          ExpressionAttributeValues: { ':campaignId': campaignId },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) aggregates.push(toAggregate(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return aggregates;
  }

  async replace(aggregate: SurveyAggregate, expectedVersion: number | undefined): Promise<boolean> {
    const item: Item = {
      campaignId: aggregate.campaignId,
      bucket: bucketOf(aggregate),
      day: aggregate.day,
      kind: aggregate.kind,
      responses: aggregate.responses,
      scoreSum: aggregate.scoreSum,
      version: (expectedVersion ?? 0) + 1,
    };
    for (const [score, count] of Object.entries(aggregate.scores)) item[`${SCORE_PREFIX}${score}`] = count;
    for (const [category, count] of Object.entries(aggregate.categories)) item[`${CATEGORY_PREFIX}${category}`] = count;
    return writeIfCondition(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(campaignId)' : '#version = :version',
          ...(expectedVersion === undefined
            ? {}
            : { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': expectedVersion } }),
        }),
      ),
    );
  }
}
