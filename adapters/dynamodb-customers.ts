import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CounterChange } from '../core/metrics/counters.ts';
import type { PurchaseHistory } from '../core/metrics/model.ts';
import type { Customer, LatestSurveyAnswer } from '../core/model.ts';
import type { CustomerProfile, CustomerRepository } from '../core/ports.ts';
import { createDocumentClient, isConditionFailure, writeIfCondition } from './dynamodb-client.ts';
import { PENDING_COUNTS_ATTRIBUTES, pendingAppend } from './dynamodb-pending.ts';

/**
 * The customers table. Beside the profile: `orderIds` (string set), `firstPurchaseAt` (set by the first recorded
 * purchase), `latestSurvey` (map per scale) and `renewalKeys`, a string set of `<contractId>#<newEndDate>`, one per
 * contract renewal: adding to a set is idempotent, so a repeated renewal event counts once, and `renewals` is its size.
 * `purchases` (the two earliest orders) changes only together with the purchase-cohort changes it causes, appended to
 * `metricsPending` (adapters/dynamodb-pending.ts; DynamoDbPendingCounts over this table, key `customerId`, settles them).
 */
export class DynamoDbCustomerRepository implements CustomerRepository {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async get(customerId: string): Promise<Customer | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { customerId }, ConsistentRead: true }));
    return Item ? toCustomer(Item) : undefined;
  }

  async recordProfile(profile: CustomerProfile, eventTime: string): Promise<void> {
    await this.applyProfile(profile, undefined, eventTime);
  }

  async recordPurchase(profile: CustomerProfile, orderId: string, eventTime: string): Promise<Customer> {
    const item = await this.applyProfile(profile, orderId, eventTime);
    if (!item) throw new Error(`the purchase write of customer ${profile.customerId} returned no item`);
    return toCustomer(item);
  }

  /**
   * The profile (and the order), returning the item as written (ALL_NEW: the purchase's next step needs the stored
   * purchase history, and gets it without a read); undefined when a profile alone was older than the stored one.
   */
  private async applyProfile(profile: CustomerProfile, orderId: string | undefined, eventTime: string): Promise<Record<string, unknown> | undefined> {
    const orders = orderId !== undefined ? { ':orders': new Set([orderId]) } : {};
    try {
      // Profile and order together, unless a newer event already set the profile.
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId: profile.customerId },
          UpdateExpression:
            'SET email = :email, #name = :name, #timeZone = :tz, locale = :locale, marketingConsent = :consent, ' +
            'profileUpdatedAt = :t, createdAt = if_not_exists(createdAt, :t)' +
            (orderId !== undefined ? ', firstPurchaseAt = if_not_exists(firstPurchaseAt, :t) ADD orderIds :orders' : ''),
          ConditionExpression: 'attribute_not_exists(profileUpdatedAt) OR profileUpdatedAt <= :t',
          ExpressionAttributeNames: { '#name': 'name', '#timeZone': 'timeZone' },
          ExpressionAttributeValues: {
            ':email': profile.email,
            ':name': profile.name,
            ':tz': profile.timeZone,
            ':locale': profile.locale,
            ':consent': profile.marketingConsent,
            ':t': eventTime,
            ...orders,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      if (orderId === undefined) return undefined;
      // The item exists (the condition failed on its newer profile): the order, and the first purchase if none yet.
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId: profile.customerId },
          UpdateExpression: 'SET firstPurchaseAt = if_not_exists(firstPurchaseAt, :t) ADD orderIds :orders',
          ExpressionAttributeValues: { ':t': eventTime, ...orders },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes;
    }
  }

  async markSuppressed(customerId: string, reason: string, at: string): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId },
          UpdateExpression: 'SET suppressedAt = :at, suppressionReason = :reason',
          ConditionExpression: 'attribute_exists(customerId) AND attribute_not_exists(suppressedAt)',
          ExpressionAttributeValues: { ':at': at, ':reason': reason },
        }),
      ),
    );
  }

  async recordSurveyAnswer(customerId: string, scale: 'nps' | 'csat' | 'ces', answer: LatestSurveyAnswer): Promise<boolean> {
    // latestSurvey is a map of one entry per scale; the first answer creates the map (SET on a missing parent fails).
    // A concurrent first answer to another scale can make the create fail: read again and retry.
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.get(customerId);
      if (!existing) return false;
      const current = existing.latestSurvey?.[scale];
      if (current && current.answeredAt > answer.answeredAt) return false;
      const written = await writeIfCondition(
        this.db.send(
          new UpdateCommand(
            existing.latestSurvey
              ? {
                  TableName: this.tableName,
                  Key: { customerId },
                  UpdateExpression: 'SET latestSurvey.#scale = :answer',
                  ConditionExpression: 'attribute_exists(latestSurvey) AND (attribute_not_exists(latestSurvey.#scale) OR latestSurvey.#scale.answeredAt <= :at)',
                  ExpressionAttributeNames: { '#scale': scale },
                  ExpressionAttributeValues: { ':answer': answer, ':at': answer.answeredAt },
                }
              : {
                  TableName: this.tableName,
                  Key: { customerId },
                  UpdateExpression: 'SET latestSurvey = :map',
                  ConditionExpression: 'attribute_exists(customerId) AND attribute_not_exists(latestSurvey)',
                  ExpressionAttributeValues: { ':map': { [scale]: answer } },
                },
          ),
        ),
      );
      if (written) return true;
    }
    return false;
  }

  async recordRenewal(customerId: string, contractId: string, newEndDate: string): Promise<boolean> {
    const key = `${contractId}#${newEndDate}`;
    // Conditional so the answer says whether this renewal was new; the ADD alone would already be idempotent.
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId },
          UpdateExpression: 'ADD renewalKeys :keys',
          ConditionExpression: 'attribute_exists(customerId) AND NOT contains(renewalKeys, :key)',
          ExpressionAttributeValues: { ':keys': new Set([key]), ':key': key },
        }),
      ),
    );
  }

  async replacePurchaseHistory(
    customerId: string,
    previous: PurchaseHistory | undefined,
    next: PurchaseHistory,
    changes: readonly CounterChange[],
  ): Promise<boolean> {
    const append = pendingAppend(changes, recordedAt(previous, next));
    // The history and the counts it moves are one write, conditional on the history read: a concurrent purchase of
    // the same customer makes one of the two writes fail (it reads again), a re-delivered order never gets here.
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId },
          UpdateExpression: `SET #purchases = :next${append ? `, ${append.set}` : ''}`,
          ConditionExpression: previous ? sameHistory(previous) : 'attribute_exists(customerId) AND attribute_not_exists(#purchases)',
          ExpressionAttributeNames: { '#purchases': 'purchases', ...(previous ? { '#first': 'first', '#second': 'second', '#at': 'at' } : {}) },
          ExpressionAttributeValues: { ':next': next, ...(previous ? historyValues(previous) : {}), ...append?.values },
        }),
      ),
    );
  }

  async markUnsubscribed(customerId: string, at: string): Promise<boolean> {
    return writeIfCondition(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId },
          UpdateExpression: 'SET unsubscribedAt = :at',
          ConditionExpression: 'attribute_exists(customerId) AND attribute_not_exists(unsubscribedAt)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    );
  }
}

/** A stored item as the domain sees it. The pending metric counts and their lease are the settler's business. */
function toCustomer(item: Record<string, unknown>): Customer {
  const { orderIds, renewalKeys, ...rest } = item;
  for (const attribute of PENDING_COUNTS_ATTRIBUTES) delete rest[attribute];
  return {
    ...(rest as Omit<Customer, 'orderIds' | 'renewals'>),
    orderIds: orderIds instanceof Set ? [...orderIds].sort() : [],
    ...(renewalKeys instanceof Set ? { renewals: renewalKeys.size } : {}),
  };
}

/**
 * The time of the write that turns `previous` into `next`: that of the order it records (the one `previous` lacks,
 * recorded at the event's time, see ingest-commerce-event.ts); the latest of `next` if none is new.
 */
function recordedAt(previous: PurchaseHistory | undefined, next: PurchaseHistory): string {
  const known = new Set([previous?.first.orderId, previous?.second?.orderId]);
  const refs = [next.first, ...(next.second ? [next.second] : [])];
  return (refs.find((ref) => !known.has(ref.orderId)) ?? refs[refs.length - 1]!).at;
}

/**
 * "The stored history is `history`", compared field by field: DynamoDB compares whole maps with `=`, dynalite does
 * not (a map never equals there), and the four strings are the whole history anyway.
 */
function sameHistory(history: PurchaseHistory): string {
  const first = '#purchases.#first.orderId = :firstOrder AND #purchases.#first.#at = :firstAt';
  return history.second
    ? `${first} AND #purchases.#second.orderId = :secondOrder AND #purchases.#second.#at = :secondAt`
    : `${first} AND attribute_not_exists(#purchases.#second)`;
}

function historyValues(history: PurchaseHistory): Record<string, string> {
  return {
    ':firstOrder': history.first.orderId,
    ':firstAt': history.first.at,
    ...(history.second ? { ':secondOrder': history.second.orderId, ':secondAt': history.second.at } : {}),
  };
}
