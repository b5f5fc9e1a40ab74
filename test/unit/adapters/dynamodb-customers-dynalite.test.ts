/**
 * The customers adapter against a real DynamoDB API (dynalite in this process, ephemeral port): the first purchase
 * time kept by `if_not_exists`, and contract renewals counted once through the `renewalKeys` string set — alone, and
 * through the use cases that write them (a renewal event delivered twice, a purchase campaign filtering on tiers).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbCustomerRepository } from '../../../adapters/dynamodb-customers.ts';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import { parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { applyContractEvent } from '../../../core/contracts/sweep-renewals.ts';
import { parseCommerceEvent } from '../../../core/events.ts';
import type { CustomerProfile } from '../../../core/ports.ts';
import { ingestCommerceEvent } from '../../../core/use-cases/ingest-commerce-event.ts';
import { localTableNames, startDynamo, tableDefinitions } from '../../../local/dynamodb.ts';
import { InMemoryContracts, contractEnvelope, startedDetail } from '../contracts/fakes.ts';
import { InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent } from '../fakes.ts';

const PROFILE: CustomerProfile = {
  customerId: 'cust-1',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  timeZone: 'Europe/Berlin',
  locale: 'en',
  marketingConsent: true,
};

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
let client: DynamoDBClient;
let tables = 0;
let table: string;
let customers: DynamoDbCustomerRepository;

beforeAll(async () => {
  dynamo = await startDynamo({ port: 0 });
  client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

beforeEach(async () => {
  tables += 1;
  const names = localTableNames(`customers-${tables}`);
  const definition = tableDefinitions(names).find((d) => d.TableName === names.customers)!;
  await client.send(new CreateTableCommand(definition));
  table = names.customers;
  customers = new DynamoDbCustomerRepository(table, createDocumentClient(client));
});

const rawItem = async (customerId: string) =>
  (await createDocumentClient(client).send(new GetCommand({ TableName: table, Key: { customerId } }))).Item;

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
    const deps = { contracts: new InMemoryContracts(), touchpoints: new InMemoryTouchpoints(), customers };
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
