import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbCustomerRepository } from '../../../adapters/dynamodb-customers.ts';
import type { CustomerProfile } from '../../../core/ports.ts';
import { expressionProblem, sentRequests } from './support.ts';

const TABLE = 'outreach-customers';
const EVENT_TIME = '2025-06-10T09:30:00.000Z';

const ddb = mockClient(DynamoDBDocumentClient);
const repository = () => new DynamoDbCustomerRepository(TABLE, createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })));

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const profile: CustomerProfile = {
  customerId: 'cust-001',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  timeZone: 'Europe/London',
  locale: 'en-GB',
  marketingConsent: true,
};

/** The profile-and-order update. `timeZone` is a DynamoDB reserved word, so it needs a name placeholder like `name`. */
const profileUpdate = {
  TableName: TABLE,
  Key: { customerId: 'cust-001' },
  UpdateExpression:
    'SET email = :email, #name = :name, #timeZone = :tz, locale = :locale, marketingConsent = :consent, ' +
    'profileUpdatedAt = :t, createdAt = if_not_exists(createdAt, :t), firstPurchaseAt = if_not_exists(firstPurchaseAt, :t) ADD orderIds :orders',
  ConditionExpression: 'attribute_not_exists(profileUpdatedAt) OR profileUpdatedAt <= :t',
  ExpressionAttributeNames: { '#name': 'name', '#timeZone': 'timeZone' },
  ExpressionAttributeValues: {
    ':email': 'ada@example.com',
    ':name': 'Ada Lovelace',
    ':tz': 'Europe/London',
    ':locale': 'en-GB',
    ':consent': true,
    ':t': EVENT_TIME,
    ':orders': new Set(['order-1001']),
  },
  ReturnValues: 'ALL_NEW' as const,
};

/** The item as an update returns it (ALL_NEW). */
const storedItem = { ...profile, profileUpdatedAt: EVENT_TIME, createdAt: EVENT_TIME, firstPurchaseAt: EVENT_TIME, orderIds: new Set(['order-1001', 'order-0']) };
const storedCustomer = { ...profile, profileUpdatedAt: EVENT_TIME, createdAt: EVENT_TIME, firstPurchaseAt: EVENT_TIME, orderIds: ['order-0', 'order-1001'] };

beforeEach(() => {
  ddb.reset();
});

afterAll(() => {
  ddb.restore();
});

describe('DynamoDbCustomerRepository.recordPurchase', () => {
  it('applies the profile and adds the order in one update, conditional on the stored profile not being newer', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({ Attributes: storedItem });

    // Act
    const customer = await repository().recordPurchase(profile, 'order-1001', EVENT_TIME);

    // Assess
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, profileUpdate);
    expect(customer).toStrictEqual(storedCustomer);
  });

  it('records the profile without an order (recordProfile) and leaves orderIds and firstPurchaseAt alone', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    await repository().recordProfile(profile, EVENT_TIME);

    // Assess
    const { ':orders': _orders, ...values } = profileUpdate.ExpressionAttributeValues;
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      ...profileUpdate,
      UpdateExpression:
        'SET email = :email, #name = :name, #timeZone = :tz, locale = :locale, marketingConsent = :consent, ' +
        'profileUpdatedAt = :t, createdAt = if_not_exists(createdAt, :t)',
      ExpressionAttributeValues: values,
    });
  });

  it('only adds the order id (and the first purchase time if none yet) when a newer event already set the profile', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: storedItem });

    // Act
    const customer = await repository().recordPurchase(profile, 'order-1001', EVENT_TIME);

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 1, {
      Key: { customerId: 'cust-001' },
      ConditionExpression: 'attribute_not_exists(profileUpdatedAt) OR profileUpdatedAt <= :t',
    });
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 2, {
      TableName: TABLE,
      Key: { customerId: 'cust-001' },
      UpdateExpression: 'SET firstPurchaseAt = if_not_exists(firstPurchaseAt, :t) ADD orderIds :orders',
      ExpressionAttributeValues: { ':t': EVENT_TIME, ':orders': new Set(['order-1001']) },
      ReturnValues: 'ALL_NEW',
    });
    expect(customer).toStrictEqual(storedCustomer);
    const fallback = ddb.commandCalls(UpdateCommand)[1]?.args[0].input;
    expect(fallback?.ConditionExpression).toBeUndefined();
    expect(fallback?.ExpressionAttributeNames).toBeUndefined();
  });

  it('rethrows other errors without falling back', async () => {
    // Prepare
    const error = Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' });
    ddb.on(UpdateCommand).rejects(error);

    // Act
    const attempt = repository().recordPurchase(profile, 'order-1001', EVENT_TIME);

    // Assess
    await expect(attempt).rejects.toBe(error);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });
});

describe('DynamoDbCustomerRepository.markUnsubscribed', () => {
  const unsubscribe = {
    TableName: TABLE,
    Key: { customerId: 'cust-001' },
    UpdateExpression: 'SET unsubscribedAt = :at',
    ConditionExpression: 'attribute_exists(customerId) AND attribute_not_exists(unsubscribedAt)',
    ExpressionAttributeValues: { ':at': EVENT_TIME },
  };

  it('sets unsubscribedAt on an existing, still subscribed customer and returns true', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    const changed = await repository().markUnsubscribed('cust-001', EVENT_TIME);

    // Assess
    expect(changed).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, unsubscribe);
  });

  it('returns false when the customer was already unsubscribed (or does not exist)', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const changed = await repository().markUnsubscribed('cust-001', EVENT_TIME);

    // Assess
    expect(changed).toBe(false);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, unsubscribe);
  });

  it('rethrows other errors', async () => {
    // Prepare
    const error = new Error('socket hang up');
    ddb.on(UpdateCommand).rejects(error);

    // Act
    const attempt = repository().markUnsubscribed('cust-001', EVENT_TIME);

    // Assess
    await expect(attempt).rejects.toBe(error);
  });
});

describe('DynamoDbCustomerRepository.markSuppressed', () => {
  const suppress = {
    TableName: TABLE,
    Key: { customerId: 'cust-001' },
    UpdateExpression: 'SET suppressedAt = :at, suppressionReason = :reason',
    ConditionExpression: 'attribute_exists(customerId) AND attribute_not_exists(suppressedAt)',
    ExpressionAttributeValues: { ':at': EVENT_TIME, ':reason': 'complaint' },
  };

  it('records when and why the address was suppressed, once', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());

    // Act
    const first = await repository().markSuppressed('cust-001', 'complaint', EVENT_TIME);
    const second = await repository().markSuppressed('cust-001', 'complaint', EVENT_TIME);

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 1, suppress);
  });
});

describe('DynamoDbCustomerRepository.recordRenewal', () => {
  const renewal = {
    TableName: TABLE,
    Key: { customerId: 'cust-001' },
    UpdateExpression: 'ADD renewalKeys :keys',
    ConditionExpression: 'attribute_exists(customerId) AND NOT contains(renewalKeys, :key)',
    ExpressionAttributeValues: { ':keys': new Set(['ctr-1#2028-03-28']), ':key': 'ctr-1#2028-03-28' },
  };

  it('adds <contractId>#<newEndDate> to the renewalKeys set of an existing customer, once', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());

    // Act
    const first = await repository().recordRenewal('cust-001', 'ctr-1', '2028-03-28');
    const again = await repository().recordRenewal('cust-001', 'ctr-1', '2028-03-28');

    // Assess
    expect([first, again]).toEqual([true, false]);
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 1, renewal);
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 2, renewal);
  });

  it('rethrows other errors', async () => {
    // Prepare
    const error = new Error('socket hang up');
    ddb.on(UpdateCommand).rejects(error);

    // Act
    const attempt = repository().recordRenewal('cust-001', 'ctr-1', '2028-03-28');

    // Assess
    await expect(attempt).rejects.toBe(error);
  });
});

describe('DynamoDbCustomerRepository.get', () => {
  it('reads consistently and turns the orderIds string set into a sorted array', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({
      Item: { ...profile, profileUpdatedAt: EVENT_TIME, createdAt: EVENT_TIME, orderIds: new Set(['order-2', 'order-10', 'order-1']) },
    });

    // Act
    const customer = await repository().get('cust-001');

    // Assess
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: TABLE, Key: { customerId: 'cust-001' }, ConsistentRead: true });
    expect(customer).toStrictEqual({
      ...profile,
      profileUpdatedAt: EVENT_TIME,
      createdAt: EVENT_TIME,
      orderIds: ['order-1', 'order-10', 'order-2'],
    });
  });

  it('reports the size of the renewalKeys set as renewals (not the set), and firstPurchaseAt as stored', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({
      Item: {
        ...profile,
        profileUpdatedAt: EVENT_TIME,
        createdAt: EVENT_TIME,
        firstPurchaseAt: EVENT_TIME,
        orderIds: new Set(['order-1']),
        renewalKeys: new Set(['ctr-1#2027-03-28', 'ctr-1#2028-03-28', 'ctr-2#2027-09-30']),
      },
    });

    // Act
    const customer = await repository().get('cust-001');

    // Assess
    expect(customer).toStrictEqual({
      ...profile,
      profileUpdatedAt: EVENT_TIME,
      createdAt: EVENT_TIME,
      firstPurchaseAt: EVENT_TIME,
      orderIds: ['order-1'],
      renewals: 3,
    });
  });

  it('returns an empty order list when the item has none, and undefined for an unknown customer', async () => {
    // Prepare
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { ...profile, profileUpdatedAt: EVENT_TIME, createdAt: EVENT_TIME } })
      .resolvesOnce({});

    // Act
    const withoutOrders = await repository().get('cust-001');
    const unknown = await repository().get('cust-unknown');

    // Assess
    expect(withoutOrders?.orderIds).toEqual([]);
    expect(unknown).toBeUndefined();
  });
});

describe('DynamoDbCustomerRepository.replacePurchaseHistory', () => {
  const FIRST = { orderId: 'order-1', at: '2025-06-01T10:00:00.000Z' };
  const SECOND = { orderId: 'order-2', at: '2025-06-03T10:00:00.000Z' };
  const cohortChange = { id: 'tok:0', record: { series: 'purchases' as const, day: '2025-06-01' }, counters: { repeat_2: 1 } };

  it('writes the new history and appends its changes in one update, conditional on every field of the history read', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    const written = await repository().replacePurchaseHistory('cust-001', { first: FIRST }, { first: FIRST, second: SECOND }, [cohortChange]);

    // Assess
    expect(written).toBe(true);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE,
      Key: { customerId: 'cust-001' },
      UpdateExpression:
        'SET #purchases = :next, metricsPending = list_append(if_not_exists(metricsPending, :noPendingCounts), :pendingCounts), ' +
        'countsPending = :countsPending, countsPendingSince = if_not_exists(countsPendingSince, :countsPendingSince)',
      ConditionExpression:
        '#purchases.#first.orderId = :firstOrder AND #purchases.#first.#at = :firstAt AND attribute_not_exists(#purchases.#second)',
      ExpressionAttributeNames: { '#purchases': 'purchases', '#first': 'first', '#second': 'second', '#at': 'at' },
      ExpressionAttributeValues: {
        ':next': { first: FIRST, second: SECOND },
        ':firstOrder': 'order-1',
        ':firstAt': FIRST.at,
        ':noPendingCounts': [],
        ':pendingCounts': [cohortChange],
        // Pending since the write that records order-2: its time.
        ':countsPending': '1',
        ':countsPendingSince': SECOND.at,
      },
    });
  });

  it('lists the customer as pending since the time of the order it records, also when that order comes first', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    const earlier = { orderId: 'order-0', at: '2025-05-30T10:00:00.000Z' };

    // Act
    await repository().replacePurchaseHistory('cust-001', { first: FIRST, second: SECOND }, { first: earlier, second: FIRST }, [cohortChange]);

    // Assess
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':countsPending': '1', ':countsPendingSince': earlier.at }),
    });
  });

  it('writes the first history only on an existing customer without one, and reports a lost race as false', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const written = await repository().replacePurchaseHistory('cust-001', undefined, { first: FIRST }, []);

    // Assess
    expect(written).toBe(false);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression: 'SET #purchases = :next',
      ConditionExpression: 'attribute_exists(customerId) AND attribute_not_exists(#purchases)',
      ExpressionAttributeNames: { '#purchases': 'purchases' },
      ExpressionAttributeValues: { ':next': { first: FIRST } },
    });
  });

  it('leaves the pending counts and their lease out of the customer it reads', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({
      Item: {
        ...profile,
        profileUpdatedAt: EVENT_TIME,
        createdAt: EVENT_TIME,
        orderIds: new Set(['order-1']),
        purchases: { first: FIRST },
        metricsPending: [cohortChange],
        metricsLease: { token: 'lease-1', until: EVENT_TIME },
        countsPending: '1',
        countsPendingSince: EVENT_TIME,
      },
    });

    // Act
    const customer = await repository().get('cust-001');

    // Assess
    expect(customer).toStrictEqual({ ...profile, profileUpdatedAt: EVENT_TIME, createdAt: EVENT_TIME, orderIds: ['order-1'], purchases: { first: FIRST } });
  });
});

describe('DynamoDbCustomerRepository expressions', () => {
  it('sends only expressions DynamoDB accepts (no bare reserved words, no undefined or unused names and values)', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: storedItem });
    const r = repository();
    const first = { orderId: 'order-1', at: EVENT_TIME };
    const second = { orderId: 'order-2', at: EVENT_TIME };
    const change = { id: 'tok:0', record: { series: 'purchases' as const, day: '2025-06-10' }, counters: { customers: 1 } };

    // Act
    await r.recordPurchase(profile, 'order-1001', EVENT_TIME);
    await r.markUnsubscribed('cust-001', EVENT_TIME);
    await r.recordProfile(profile, EVENT_TIME);
    await r.recordRenewal('cust-001', 'ctr-1', '2028-03-28');
    await r.replacePurchaseHistory('cust-001', undefined, { first }, [change]);
    await r.replacePurchaseHistory('cust-001', { first }, { first, second }, []);
    await r.replacePurchaseHistory('cust-001', { first, second }, { first: second, second: first }, [change]);

    // Assess
    const requests = sentRequests(ddb);
    expect(requests).toHaveLength(8);
    expect(requests.map(({ input }) => expressionProblem(input))).toEqual(Array(8).fill(undefined));
  });
});
