/**
 * adapters/dynamodb-metrics-sources.ts against dynalite: what the rebuild's Scans return (only the attributes it
 * needs — never an email, a name or a comment), page by page, and which entities hold pending counts.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMetricsSources } from '../../../adapters/dynamodb-metrics-sources.ts';
import type { EntityTable } from '../../../core/metrics/rebuild.ts';
import type { TableNames } from '../../../local/dynamodb.ts';
import { freshTables, startTestDynamo, type TestDynamo } from '../campaigns-cli/support.ts';

let dynamo: TestDynamo;
let tables: TableNames;
beforeAll(async () => {
  dynamo = await startTestDynamo();
  tables = await freshTables(dynamo);
  const put = (table: string, item: Record<string, unknown>) => dynamo.db.send(new PutCommand({ TableName: table, Item: item }));
  const pending = (day: string) => ({
    metricsPending: [{ id: 'w1:0', record: { series: 'purchases', day }, counters: { customers: 1 } }],
    metricsLease: { token: 'w1', until: '2027-01-01T00:06:00.000Z' },
  });
  const survey = { campaignId: 'nps', customerId: 'c-1', kind: 'survey', status: 'SENT', generation: 0, sentAt: '2027-01-01T10:00:00.000Z' };
  await put(tables.touchpoints, { touchpointId: 'tp-1', ...survey, surveyKind: 'nps', context: { orderId: 'o-1', items: [{ sku: 'MUG', name: 'Mug' }] } });
  await put(tables.touchpoints, { touchpointId: 'tp-2', ...survey, context: { parentTouchpointId: 'tp-1' } }); // a reminder
  await put(tables.touchpoints, { touchpointId: 'tp-3', ...survey, status: 'PENDING', context: {} }); // not sent
  await put(tables.responses, { surveyId: 'tp-1', campaignId: 'nps', customerId: 'c-1', kind: 'nps', score: 9, comment: 'Jane here', surveySentAt: survey.sentAt });
  await put(tables.responses, { surveyId: 'tp-old', campaignId: 'nps', customerId: 'c-1', kind: 'nps', score: 3 }); // before the metrics
  await put(tables.contracts, { contractId: 'k-1', customerId: 'c-1', cancellationReason: 'too expensive', outcomes: [{ result: 'CHURNED', at: '2027-01-02T00:00:00.000Z', endDate: '2027-01-01', remindersSent: 2, npsSegment: 'none' }] });
  await put(tables.contracts, { contractId: '#sweep-cursor#renewals', cursor: '2027-01-01' });
  for (let i = 1; i <= 5; i++) {
    await put(tables.customers, {
      customerId: `c-${i}`,
      email: `person${i}@example.com`,
      name: `Person ${i}`,
      purchases: { first: { orderId: `o-${i}`, at: `2027-01-0${i}T08:00:00.000Z` } },
      ...(i === 3 ? pending('2027-01-03') : {}),
    });
  }
  await put(tables.customers, { customerId: 'c-9', email: 'nobody@example.com', name: 'No Purchases' });
});
afterAll(async () => {
  await dynamo?.close();
});

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('DynamoDbMetricsSources', () => {
  for (const pageSize of [undefined, 1]) {
    it(`reads what the rebuild needs, and nothing personal${pageSize ? ', one item per page' : ''}`, async () => {
      const sources = new DynamoDbMetricsSources(tables, dynamo.db, pageSize ? { pageSize } : {});

      const touchpoints = await all(sources.touchpoints());
      expect(touchpoints).toEqual([
        { touchpointId: 'tp-1', campaignId: 'nps', kind: 'survey', status: 'SENT', surveyKind: 'nps', sentAt: '2027-01-01T10:00:00.000Z', pending: [] },
      ]);
      expect(await all(sources.responses())).toEqual([
        { surveyId: 'tp-1', campaignId: 'nps', kind: 'nps', surveySentAt: '2027-01-01T10:00:00.000Z', pending: [] },
      ]);
      expect(await all(sources.contracts())).toEqual([
        {
          contractId: 'k-1',
          outcomes: [{ result: 'CHURNED', at: '2027-01-02T00:00:00.000Z', endDate: '2027-01-01', remindersSent: 2, npsSegment: 'none' }],
          pending: [],
        },
      ]);
      const customers = (await all(sources.customers())).sort((a, b) => a.customerId.localeCompare(b.customerId));
      expect(customers.map((c) => c.customerId)).toEqual(['c-1', 'c-2', 'c-3', 'c-4', 'c-5']);
      expect(customers[2]).toEqual({
        customerId: 'c-3',
        purchases: { first: { orderId: 'o-3', at: '2027-01-03T08:00:00.000Z' } },
        pending: [{ series: 'purchases', day: '2027-01-03' }],
        lease: { token: 'w1', until: '2027-01-01T00:06:00.000Z' },
      });
      const everything = JSON.stringify([touchpoints, customers, await all(sources.responses()), await all(sources.contracts())]);
      for (const personal of ['example.com', 'Person', 'Jane', 'expensive', 'Mug']) expect(everything).not.toContain(personal);
    });
  }

  it('lists the entities with pending counts, per table', async () => {
    const sources = new DynamoDbMetricsSources(tables, dynamo.db, { pageSize: 2 });
    const pending: Record<string, string[]> = {};
    for (const table of ['touchpoints', 'responses', 'contracts', 'customers'] as EntityTable[]) pending[table] = await all(sources.pendingEntities(table));
    expect(pending).toEqual({ touchpoints: [], responses: [], contracts: [], customers: ['c-3'] });
  });

  it('settles through the pending counts of the right table and key', async () => {
    const own = await freshTables(dynamo);
    await dynamo.db.send(
      new PutCommand({
        TableName: own.customers,
        Item: {
          customerId: 'c-3',
          metricsPending: [{ id: 'w1:0', record: { series: 'purchases', day: '2027-01-03' }, counters: { customers: 1 } }],
          metricsLease: { token: 'w1', until: '2027-01-01T00:06:00.000Z' },
        },
      }),
    );
    const sources = new DynamoDbMetricsSources(own, dynamo.db);
    // The lease of c-3 runs until 2027-01-01T00:06: busy before, claimable after.
    expect(await sources.pending('customers').claim('c-3', { token: 't2', until: '2027-01-01T00:10:00.000Z' }, '2027-01-01T00:05:00.000Z')).toBeUndefined();
    expect(await sources.pending('customers').claim('c-3', { token: 't2', until: '2027-01-01T00:20:00.000Z' }, '2027-01-01T00:07:00.000Z')).toEqual([
      { id: 'w1:0', record: { series: 'purchases', day: '2027-01-03' }, counters: { customers: 1 } },
    ]);
  });
});
