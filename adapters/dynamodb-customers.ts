import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Customer, LatestSurveyAnswer } from '../core/model.ts';
import type { CustomerProfile, CustomerRepository } from '../core/ports.ts';
import { createDocumentClient, isConditionFailure, writeIfCondition } from './dynamodb-client.ts';

/**
 * The customers table. Beside the profile: `orderIds` (string set), `firstPurchaseAt` (set by the first recorded
 * purchase), `latestSurvey` (map per scale) and `renewalKeys`, a string set of `<contractId>#<newEndDate>`, one per
 * contract renewal: adding to a set is idempotent, so a repeated renewal event counts once, and `renewals` is its size.
 */
export class DynamoDbCustomerRepository implements CustomerRepository {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async get(customerId: string): Promise<Customer | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { customerId }, ConsistentRead: true }));
    if (!Item) return undefined;
    const { orderIds, renewalKeys, ...rest } = Item;
    return {
      ...(rest as Omit<Customer, 'orderIds' | 'renewals'>),
      orderIds: orderIds instanceof Set ? [...orderIds].sort() : [],
      ...(renewalKeys instanceof Set ? { renewals: renewalKeys.size } : {}),
    };
  }

  async recordProfile(profile: CustomerProfile, eventTime: string): Promise<void> {
    return this.recordPurchase(profile, undefined, eventTime);
  }

  async recordPurchase(profile: CustomerProfile, orderId: string | undefined, eventTime: string): Promise<void> {
    const orders = orderId !== undefined ? { ':orders': new Set([orderId]) } : {};
    try {
      // Profile and order together, unless a newer event already set the profile.
      await this.db.send(
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
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      if (orderId === undefined) return;
      // The item exists (the condition failed on its newer profile): the order, and the first purchase if none yet.
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId: profile.customerId },
          UpdateExpression: 'SET firstPurchaseAt = if_not_exists(firstPurchaseAt, :t) ADD orderIds :orders',
          ExpressionAttributeValues: { ':t': eventTime, ...orders },
        }),
      );
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
