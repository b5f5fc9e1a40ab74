/**
 * The customers adapter against a real DynamoDB API (dynalite in this process, ephemeral port): the first purchase
 * time kept by `if_not_exists`, contract renewals counted once through the `renewalKeys` string set, and the purchase
 * history written with its cohort changes (conditional on the history read) — alone, and through the use cases that
 * write them (a renewal event delivered twice, a purchase campaign filtering on tiers, purchases counted in the
 * cohorts exactly once, also when they arrive at the same time).
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbCustomerRepository } from '../../../adapters/dynamodb-customers.ts';
import { DynamoDbMetricsCounters } from '../../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../../adapters/dynamodb-pending.ts';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import { parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { applyContractEvent } from '../../../core/contracts/sweep-renewals.ts';
import { parseCommerceEvent } from '../../../core/events.ts';
import { purchaseRecordOf, type CounterChange } from '../../../core/metrics/counters.ts';
import { rebuildPurchaseCohorts, type PurchaseHistory } from '../../../core/metrics/model.ts';
import type { CustomerProfile } from '../../../core/ports.ts';
import { ingestCommerceEvent, type IngestDeps } from '../../../core/use-cases/ingest-commerce-event.ts';
import { localTableNames, tableDefinitions } from '../../../local/dynamodb.ts';
import { InMemoryContracts, contractEnvelope, startedDetail } from '../contracts/fakes.ts';
import { InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent } from '../fakes.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from '../metrics/fake-counters.ts';
import { startTestDynamo, type TestDynamo } from '../dynalite.ts';

const PROFILE: CustomerProfile = {
  customerId: 'cust-1',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  timeZone: 'Europe/Berlin',
  locale: 'en',
  marketingConsent: true,
};

let dynamo: TestDynamo;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;
let tables = 0;
let table: string;
let metricsTable: string;
let customers: DynamoDbCustomerRepository;

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
  const names = localTableNames(`customers-${tables}`);
  for (const definition of tableDefinitions(names).filter((d) => d.TableName === names.customers || d.TableName === names.metrics)) {
    await client.send(new CreateTableCommand(definition));
  }
  table = names.customers;
  metricsTable = names.metrics;
  customers = new DynamoDbCustomerRepository(table, db);
});

const rawItem = async (customerId: string) => (await db.send(new GetCommand({ TableName: table, Key: { customerId }, ConsistentRead: true }))).Item;

describe('DynamoDbCustomerRepository on dynalite: firstPurchaseAt', () => {
  it('is set by the first purchase and kept by later ones', async () => {
    await customers.recordPurchase(PROFILE, 'o-1', '2026-01-10T10:00:00.000Z');
    await customers.recordPurchase(PROFILE, 'o-2', '2026-02-10T10:00:00.000Z');

    expect(await customers.get('cust-1')).toMatchObject({
      orderIds: ['o-1', 'o-2'],
      firstPurchaseAt: '2026-01-10T10:00:00.000Z',
      createdAt: '2026-01-10T10:00:00.000Z',
      profileUpdatedAt: '2026-02-10T10:00:00.000Z',
    });
  });

  it('is not set by a profile without an order (a contract event), only by the purchase after it', async () => {
    await customers.recordProfile(PROFILE, '2026-01-01T00:00:00.000Z');
    expect(await customers.get('cust-1')).not.toHaveProperty('firstPurchaseAt');

    await customers.recordPurchase(PROFILE, 'o-1', '2026-03-01T00:00:00.000Z');

    expect(await customers.get('cust-1')).toMatchObject({ firstPurchaseAt: '2026-03-01T00:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z' });
  });

  it('is set by a purchase older than the stored profile too (the order-only fallback)', async () => {
    await customers.recordProfile({ ...PROFILE, name: 'Ada King' }, '2026-05-01T00:00:00.000Z');

    await customers.recordPurchase(PROFILE, 'o-1', '2026-04-01T00:00:00.000Z');
    await customers.recordPurchase(PROFILE, 'o-0', '2026-03-01T00:00:00.000Z');

    expect(await customers.get('cust-1')).toMatchObject({
      name: 'Ada King',
      orderIds: ['o-0', 'o-1'],
      firstPurchaseAt: '2026-04-01T00:00:00.000Z', // the first recorded, not the earliest
    });
  });
});

describe('DynamoDbCustomerRepository on dynalite: recordRenewal', () => {
  it('counts each contract × new end date once, in a string set the read turns into a count', async () => {
    await customers.recordProfile(PROFILE, '2026-01-01T00:00:00.000Z');

    const results = [
      await customers.recordRenewal('cust-1', 'ctr-1', '2027-03-28'),
      await customers.recordRenewal('cust-1', 'ctr-1', '2027-03-28'),
      await customers.recordRenewal('cust-1', 'ctr-1', '2028-03-28'),
      await customers.recordRenewal('cust-1', 'ctr-2', '2027-03-28'),
    ];

    expect(results).toEqual([true, false, true, true]);
    expect((await customers.get('cust-1'))?.renewals).toBe(3);
    expect(await customers.get('cust-1')).not.toHaveProperty('renewalKeys');
    expect((await rawItem('cust-1'))?.renewalKeys).toEqual(new Set(['ctr-1#2027-03-28', 'ctr-1#2028-03-28', 'ctr-2#2027-03-28']));
  });

  it('counts one of two concurrent deliveries of the same renewal', async () => {
    await customers.recordProfile(PROFILE, '2026-01-01T00:00:00.000Z');

    const results = await Promise.all([
      customers.recordRenewal('cust-1', 'ctr-1', '2027-03-28'),
      customers.recordRenewal('cust-1', 'ctr-1', '2027-03-28'),
    ]);

    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await customers.get('cust-1'))?.renewals).toBe(1);
  });

  it('creates no item for a customer it does not know', async () => {
    expect(await customers.recordRenewal('cust-unknown', 'ctr-1', '2027-03-28')).toBe(false);
    expect(await rawItem('cust-unknown')).toBeUndefined();
  });

  it('leaves renewals absent on a customer never renewed', async () => {
    await customers.recordPurchase(PROFILE, 'o-1', '2026-01-10T10:00:00.000Z');
    expect(await customers.get('cust-1')).not.toHaveProperty('renewals');
  });
});

describe('use cases on the DynamoDB customers adapter', () => {
  it('counts a Contract Renewed delivered twice once on the customer', async () => {
    const deps = {
      contracts: new InMemoryContracts(),
      touchpoints: new InMemoryTouchpoints(),
      customers,
      metrics: { pending: new InMemoryPendingCounts(), counters: new InMemoryMetricsCounters() },
    };
    const contractEvent = (type: string, detail: Record<string, unknown>) =>
      parseContractEvent(contractEnvelope(type, { contractId: 'ctr-1', customerId: 'cust-1', ...detail }));
    await applyContractEvent(contractEvent('Contract Started', startedDetail()), deps);
    const renewed = contractEvent('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-05T10:00:00Z' });

    const first = await applyContractEvent(renewed, deps);
    const again = await applyContractEvent(renewed, deps);

    expect([first.action, again.action]).toEqual(['contract-renewed', 'stale-event']);
    expect((await customers.get('cust-1'))?.renewals).toBe(1);
  });

  it("plans a loyaltyTiers: [loyal] campaign at the customer's 5th purchase, not before", async () => {
    const loyal: Campaign = { ...checkInCampaign(), id: 'loyal-thanks', trigger: { event: 'Purchase Completed', loyaltyTiers: ['loyal'] } };
    const deps = { customers, touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([loyal]) };
    const planned: number[] = [];
    for (let n = 1; n <= 5; n++) {
      const at = `2026-11-${String(10 + n).padStart(2, '0')}T10:00:00Z`;
      const result = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ customerId: 'cust-1', orderId: `o-${n}`, purchasedAt: at }, { time: at })), deps);
      planned.push(result.touchpointsCreated.length);
    }
    expect(planned).toEqual([0, 0, 0, 0, 1]);
  });
});

const change = (id: string, day: string, counters: Record<string, number>): CounterChange => ({ id, record: { series: 'purchases', day }, counters });
const FIRST = { orderId: 'o-1', at: '2026-03-01T10:00:00.000Z' };
const SECOND = { orderId: 'o-2', at: '2026-03-05T10:00:00.000Z' };

describe('DynamoDbCustomerRepository on dynalite: replacePurchaseHistory', () => {
  it('writes the first history and its changes together, only while the customer has none', async () => {
    await customers.recordPurchase(PROFILE, 'o-1', FIRST.at);

    const first = await customers.replacePurchaseHistory('cust-1', undefined, { first: FIRST }, [change('t1:0', '2026-03-01', { customers: 1 })]);
    const again = await customers.replacePurchaseHistory('cust-1', undefined, { first: SECOND }, [change('t2:0', '2026-03-05', { customers: 1 })]);

    expect([first, again]).toEqual([true, false]);
    const item = await rawItem('cust-1');
    expect(item?.purchases).toEqual({ first: FIRST });
    expect(item?.metricsPending).toEqual([{ id: 't1:0', record: { series: 'purchases', day: '2026-03-01' }, counters: { customers: 1 } }]);
  });

  it('replaces the history only if it is still the one read (every field compared), appending to the pending list', async () => {
    await customers.recordPurchase(PROFILE, 'o-1', FIRST.at);
    await customers.replacePurchaseHistory('cust-1', undefined, { first: FIRST }, [change('t1:0', '2026-03-01', { customers: 1 })]);
    const read = (await customers.get('cust-1'))!.purchases;

    const next = await customers.replacePurchaseHistory('cust-1', read, { first: FIRST, second: SECOND }, [change('t2:0', '2026-03-01', { repeat_4: 1 })]);
    const stale = await customers.replacePurchaseHistory('cust-1', read, { first: FIRST, second: { orderId: 'o-3', at: '2026-03-02T00:00:00.000Z' } }, [
      change('t3:0', '2026-03-01', { repeat_1: 1 }),
    ]);
    const stalePrefix = await customers.replacePurchaseHistory('cust-1', { first: FIRST, second: { ...SECOND, orderId: 'o-9' } }, { first: FIRST }, []);

    expect([next, stale, stalePrefix]).toEqual([true, false, false]);
    const item = await rawItem('cust-1');
    expect(item?.purchases).toEqual({ first: FIRST, second: SECOND });
    expect((item?.metricsPending as CounterChange[]).map((c) => c.id)).toEqual(['t1:0', 't2:0']);
  });

  it('lets one of two concurrent writes from the same history through, with its changes only', async () => {
    await customers.recordPurchase(PROFILE, 'o-1', FIRST.at);
    await customers.replacePurchaseHistory('cust-1', undefined, { first: FIRST }, []);

    const results = await Promise.all(
      ['o-2', 'o-3'].map((orderId, i) =>
        customers.replacePurchaseHistory('cust-1', { first: FIRST }, { first: FIRST, second: { orderId, at: SECOND.at } }, [change(`t${i}:0`, '2026-03-01', { repeat_4: 1 })]),
      ),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    const item = await rawItem('cust-1');
    expect(item?.purchases).toEqual({ first: FIRST, second: { orderId: ['o-2', 'o-3'][winner], at: SECOND.at } });
    expect((item?.metricsPending as CounterChange[]).map((c) => c.id)).toEqual([`t${winner}:0`]);
  });

  it('writes a history without changes without creating a pending list', async () => {
    await customers.recordPurchase(PROFILE, 'o-1', FIRST.at);

    expect(await customers.replacePurchaseHistory('cust-1', undefined, { first: FIRST }, [])).toBe(true);

    expect(await rawItem('cust-1')).not.toHaveProperty('metricsPending');
  });

  it('creates no item for a customer it does not know', async () => {
    expect(await customers.replacePurchaseHistory('cust-unknown', undefined, { first: FIRST }, [change('t1:0', '2026-03-01', { customers: 1 })])).toBe(false);
    expect(await rawItem('cust-unknown')).toBeUndefined();
  });

  it('reads the customer without the pending counts and their lease', async () => {
    await customers.recordPurchase(PROFILE, 'o-1', FIRST.at);
    await customers.replacePurchaseHistory('cust-1', undefined, { first: FIRST }, [change('t1:0', '2026-03-01', { customers: 1 })]);
    await new DynamoDbPendingCounts(table, 'customerId', db).claim('cust-1', { token: 'lease-1', until: '2026-03-01T10:06:00.000Z' }, FIRST.at);
    expect(await rawItem('cust-1')).toHaveProperty('metricsLease');

    const customer = await customers.get('cust-1');

    expect(customer?.purchases).toEqual({ first: FIRST });
    expect(customer).not.toHaveProperty('metricsPending');
    expect(customer).not.toHaveProperty('metricsLease');
  });
});

describe('purchase cohorts through ingestCommerceEvent on dynalite', () => {
  let deps: IngestDeps;
  let counters: DynamoDbMetricsCounters;
  beforeEach(() => {
    counters = new DynamoDbMetricsCounters(metricsTable, db);
    deps = {
      customers,
      touchpoints: new InMemoryTouchpoints(),
      campaigns: new StaticCampaigns([checkInCampaign()]),
      metrics: { pending: new DynamoDbPendingCounts(table, 'customerId', db), counters, clock: () => '2026-07-01T08:00:00.000Z' },
    };
  });

  const purchase = (orderId: string, at: string, customerId = 'cust-1') =>
    parseCommerceEvent(purchaseEvent({ customerId, orderId, purchasedAt: at }, { id: `evt-${orderId}`, time: at }));
  /** The stored purchase cohorts, their in-flight markers, and the customers' pending lists and leases. */
  const stored = async (customerIds: string[]) => {
    const records = await counters.listRecords('purchases');
    const items = await Promise.all(customerIds.map((id) => rawItem(id)));
    return {
      cohorts: records.map((r) => purchaseRecordOf(r.key.day, r.counters)).filter((c) => c.customers !== 0 || Object.keys(c.repeatAfterDays).length > 0),
      markers: records.flatMap((r) => r.markers),
      pending: items.flatMap((item) => (item?.metricsPending as unknown[] | undefined) ?? []),
      leases: items.filter((item) => item?.metricsLease !== undefined).length,
      histories: items.map((item) => item?.purchases as PurchaseHistory | undefined).filter((h): h is PurchaseHistory => h !== undefined),
    };
  };

  it('counts the first purchase, the repeat, nothing for a third or a re-delivery, and moves the cohort for a late earlier order', async () => {
    await ingestCommerceEvent(purchase('o-2', '2026-03-10T10:00:00Z'), deps);
    expect((await stored(['cust-1'])).cohorts).toEqual([{ day: '2026-03-10', customers: 1, repeatAfterDays: {} }]);

    await ingestCommerceEvent(purchase('o-3', '2026-03-12T10:00:00Z'), deps);
    expect((await stored(['cust-1'])).cohorts).toEqual([{ day: '2026-03-10', customers: 1, repeatAfterDays: { '2': 1 } }]);

    await ingestCommerceEvent(purchase('o-4', '2026-03-20T10:00:00Z'), deps);
    await ingestCommerceEvent(purchase('o-3', '2026-03-12T10:00:00Z'), deps);
    expect((await stored(['cust-1'])).cohorts).toEqual([{ day: '2026-03-10', customers: 1, repeatAfterDays: { '2': 1 } }]);

    await ingestCommerceEvent(purchase('o-1', '2026-03-01T10:00:00Z'), deps);

    const after = await stored(['cust-1']);
    expect(after.histories).toEqual([{ first: { orderId: 'o-1', at: '2026-03-01T10:00:00.000Z' }, second: { orderId: 'o-2', at: '2026-03-10T10:00:00.000Z' } }]);
    expect(after).toMatchObject({ cohorts: [{ day: '2026-03-01', customers: 1, repeatAfterDays: { '9': 1 } }], markers: [], pending: [], leases: 0 });
    expect((await customers.get('cust-1'))?.orderIds).toEqual(['o-1', 'o-2', 'o-3', 'o-4']);
  });

  it('counts concurrent purchases (each delivered twice) of the same new customers exactly as the rebuild of their histories', async () => {
    const orders = [
      ['cust-1', 'o-11', '2026-03-04T10:00:00Z'],
      ['cust-1', 'o-12', '2026-03-01T10:00:00Z'],
      ['cust-1', 'o-13', '2026-03-02T23:00:00Z'],
      ['cust-1', 'o-14', '2026-06-01T10:00:00Z'],
      ['cust-2', 'o-21', '2026-03-02T10:00:00Z'],
      ['cust-2', 'o-22', '2026-03-02T11:00:00Z'],
    ] as const;

    await Promise.all([...orders, ...orders].map(([customerId, orderId, at]) => ingestCommerceEvent(purchase(orderId, at, customerId), deps)));

    const after = await stored(['cust-1', 'cust-2']);
    expect(after.histories).toEqual([
      { first: { orderId: 'o-12', at: '2026-03-01T10:00:00.000Z' }, second: { orderId: 'o-13', at: '2026-03-02T23:00:00.000Z' } },
      { first: { orderId: 'o-21', at: '2026-03-02T10:00:00.000Z' }, second: { orderId: 'o-22', at: '2026-03-02T11:00:00.000Z' } },
    ]);
    expect(after.cohorts).toEqual(rebuildPurchaseCohorts(after.histories));
    expect(after.cohorts).toEqual([
      { day: '2026-03-01', customers: 1, repeatAfterDays: { '1': 1 } },
      { day: '2026-03-02', customers: 1, repeatAfterDays: { '0': 1 } },
    ]);
    expect(after).toMatchObject({ markers: [], pending: [], leases: 0 });
  });
});
