/** `outreach campaigns forecast` as a marketer runs it, in a subprocess against dynalite. */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCampaign } from '../../../adapters/dynamodb-campaigns.ts';
import { DynamoDbCustomerRepository } from '../../../adapters/dynamodb-customers.ts';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';
import { EXIT } from '../../../cli/outreach.ts';
import { loadCampaignDirectory } from '../../../core/campaigns/load.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { DEFAULT_DISPATCH_SHARDS } from '../../../core/topology.ts';
import type { TableNames } from '../../../local/dynamodb.ts';
import { freshTables, startTestDynamo, type TestDynamo } from './support.ts';
import { awsEnvFor, runOutreach } from './support.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

const outreach = (args: string[], env: Record<string, string> = {}, cwd?: string) => runOutreach(args, env, cwd);

let dynamo: TestDynamo;
let tables: TableNames;
beforeAll(async () => {
  dynamo = await startTestDynamo();
  tables = await freshTables(dynamo);
  const [checkIn] = loadCampaignDirectory(join(ROOT, 'campaigns'));
  await saveCampaign(tables.campaigns, checkIn!, '2026-11-20T10:00:00.000Z', dynamo.db);
  const customers = new DynamoDbCustomerRepository(tables.customers, dynamo.db);
  const touchpoints = new DynamoDbTouchpointRepository(tables.touchpoints, DEFAULT_DISPATCH_SHARDS, dynamo.db);
  for (const [id, zone] of [['c-london', 'Europe/London'], ['c-gone', 'Europe/London']] as const) {
    await customers.recordPurchase({ customerId: id, email: `${id}@example.com`, name: id, timeZone: zone, locale: 'en', marketingConsent: true }, `o-${id}`, '2026-11-20T10:00:00.000Z');
  }
  await customers.markUnsubscribed('c-gone', '2026-11-21T10:00:00.000Z');
  const pending = (touchpointId: string, customerId: string, dueAt: string): Touchpoint => ({
    touchpointId,
    campaignId: 'post-purchase-check-in',
    kind: 'check-in',
    customerId,
    dueAt,
    status: 'PENDING',
    generation: 0,
    context: {},
    createdAt: '2026-11-20T10:00:00.000Z',
    updatedAt: '2026-11-20T10:00:00.000Z',
  });
  await touchpoints.create(pending('tp-1', 'c-london', '2026-11-23T12:00:00.000Z'));
  await touchpoints.create(pending('tp-2', 'c-london', '2026-11-24T22:00:00.000Z')); // quiet hours → 08:00 on the 25th
  await touchpoints.create(pending('tp-3', 'c-gone', '2026-11-24T12:00:00.000Z'));
});
afterAll(async () => {
  await dynamo?.close();
});

const awsEnv = () => awsEnvFor(dynamo);
const tableArgs = () => ['--table-touchpoints', tables.touchpoints, '--table-customers', tables.customers, '--table-campaigns', tables.campaigns];

describe('outreach campaigns forecast', () => {
  it('prints a table per campaign and day with the skips, and --json gives the same numbers', async () => {
    const text = await outreach(['campaigns', 'forecast', '--days', '3', '--at', '2026-11-23T10:00:00Z', ...tableArgs()], awsEnv());
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toBe(
      [
        'forecast 2026-11-23T10:00:00.000Z → 2026-11-26T10:00:00.000Z (3 day(s)) from 3 pending touchpoint(s)',
        'Forecast from pending touchpoints only (no contracts table given: renewal reminders beyond the daily sweep are not included); purchases not made yet are not included.',
        '',
        'campaign                total  11-23  11-24  11-25  11-26',
        'post-purchase-check-in      2      1      0      1      0',
        '  skipped (customer unsubscribed: 1)',
        '',
        '2 email(s) in total',
        '',
      ].join('\n'),
    );

    const json = await outreach(['campaigns', 'forecast', '--days', '3', '--at', '2026-11-23T10:00:00Z', '--json', ...tableArgs()], awsEnv());
    expect(json.code).toBe(EXIT.ok);
    expect(JSON.parse(json.stdout)).toMatchObject({
      from: '2026-11-23T10:00:00.000Z',
      until: '2026-11-26T10:00:00.000Z',
      pendingRead: 3,
      sources: { pendingTouchpoints: true, contracts: false },
      campaigns: [
        {
          campaignId: 'post-purchase-check-in',
          total: 2,
          perDay: { '2026-11-23': 1, '2026-11-24': 0, '2026-11-25': 1, '2026-11-26': 0 },
          skipped: { 'customer unsubscribed': 1 },
          afterWindow: 0,
        },
      ],
    });
  });

  it('rejects bad options with one line and exit 2', async () => {
    const days = await outreach(['campaigns', 'forecast', '--days', 'seven', ...tableArgs()], awsEnv());
    expect(days).toMatchObject({ code: EXIT.usage, stdout: '', stderr: 'error: --days must be a whole number from 1 to 366, e.g. --days 7 (got seven)\n' });
    const at = await outreach(['campaigns', 'forecast', '--days', '7', '--at', 'tomorrow', ...tableArgs()], awsEnv());
    expect(at).toMatchObject({ code: EXIT.usage, stderr: 'error: --at must be an ISO date-time, e.g. --at 2026-12-01T09:00:00Z (got tomorrow)\n' });
    const missing = await outreach(['campaigns', 'forecast', '--days', '7', '--table-touchpoints', 'no-tp', '--table-customers', 'no-cust', '--table-campaigns', 'no-camp'], awsEnv());
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/^error: table no-tp, no-cust or no-camp does not exist at http:\/\/127\.0\.0\.1:\d+\n$/);
  });
});
