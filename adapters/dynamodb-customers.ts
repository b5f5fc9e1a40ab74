import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Customer } from '../core/model.ts';
import type { CustomerProfile, CustomerRepository } from '../core/ports.ts';
import { createDocumentClient, isConditionFailure, writeIfCondition } from './dynamodb-client.ts';

export class DynamoDbCustomerRepository implements CustomerRepository {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async get(customerId: string): Promise<Customer | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { customerId }, ConsistentRead: true }));
    if (!Item) return undefined;
    const { orderIds, ...rest } = Item;
    return { ...(rest as Omit<Customer, 'orderIds'>), orderIds: orderIds instanceof Set ? [...orderIds].sort() : [] };
  }

  async recordPurchase(profile: CustomerProfile, orderId: string, eventTime: string): Promise<void> {
    try {
      // Profile and order together, unless a newer event already set the profile.
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId: profile.customerId },
          UpdateExpression:
            'SET email = :email, #name = :name, #timeZone = :tz, locale = :locale, marketingConsent = :consent, ' +
            'profileUpdatedAt = :t, createdAt = if_not_exists(createdAt, :t) ADD orderIds :orders',
          ConditionExpression: 'attribute_not_exists(profileUpdatedAt) OR profileUpdatedAt <= :t',
          ExpressionAttributeNames: { '#name': 'name', '#timeZone': 'timeZone' },
          ExpressionAttributeValues: {
            ':email': profile.email,
            ':name': profile.name,
            ':tz': profile.timeZone,
            ':locale': profile.locale,
            ':consent': profile.marketingConsent,
            ':t': eventTime,
            ':orders': new Set([orderId]),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { customerId: profile.customerId },
          UpdateExpression: 'ADD orderIds :orders',
          ExpressionAttributeValues: { ':orders': new Set([orderId]) },
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
