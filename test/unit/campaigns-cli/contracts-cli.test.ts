/** `outreach contracts import` as an operator runs it, in a subprocess against dynalite, with the files in examples/contracts/. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT_END_SHARDS, DynamoDbContractRepository } from '../../../adapters/dynamodb-contracts.ts';
import { DynamoDbCustomerRepository } from '../../../adapters/dynamodb-customers.ts';
import { IMPORT_REMINDERS_NOTE } from '../../../cli/contracts.ts';
import { EXIT } from '../../../cli/outreach.ts';
import { saveCampaign } from '../../../adapters/dynamodb-campaigns.ts';
import { loadCampaignDirectory } from '../../../core/campaigns/load.ts';
import type { TableNames } from '../../../local/dynamodb.ts';
import { freshTables, startTestDynamo, type TestDynamo } from './support.ts';
import { awsEnvFor, runOutreach } from './support.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const CSV = 'examples/contracts/contracts.csv';
const JSONL = 'examples/contracts/contracts.jsonl';
const WITH_ERRORS = 'examples/contracts/contracts-with-errors.csv';

const outreach = (args: string[], env: Record<string, string> = {}, cwd?: string) => runOutreach(args, env, cwd);

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

const awsEnv = () => awsEnvFor(dynamo);
/** The tables as the local stack's `env` gives them: the functions' own variables. */
const tableEnv = (t: TableNames) => ({ ...awsEnv(), CONTRACTS_TABLE: t.contracts, CUSTOMERS_TABLE: t.customers, TOUCHPOINTS_TABLE: t.touchpoints });

async function scan(table: string): Promise<Array<Record<string, unknown>>> {
  const { Items = [] } = await dynamo.db.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return Items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const contractsOf = (t: TableNames) => new DynamoDbContractRepository(t.contracts, DEFAULT_CONTRACT_END_SHARDS, dynamo.db);
const tempDir = () => mkdtempSync(join(tmpdir(), 'outreach-contracts-'));
const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('outreach contracts import', () => {
  it('imports the good rows, reports each bad row as file:line reason and exits 1; importing again changes nothing', async () => {
    const tables = await freshTables(dynamo);
    const first = await outreach(['contracts', 'import', WITH_ERRORS], tableEnv(tables));
    expect(first.code).toBe(EXIT.failed);
    expect(first.stdout.split('\n')).toEqual([
      `${WITH_ERRORS}:3 endDate: "2027-02-30" is not a calendar date (YYYY-MM-DD, e.g. 2027-02-28)`,
      `${WITH_ERRORS}:6 currency: "XYZ" is not an ISO 4217 currency code (e.g. EUR, USD)`,
      `${WITH_ERRORS} (csv): 3 good row(s), 2 bad`,
      `imported into ${tables.contracts}: 3 created, 0 updated, 0 unchanged, 0 stale (the stored contract is newer than the row)`,
      IMPORT_REMINDERS_NOTE,
      '',
    ]);
    expect(first.stderr).toBe(
      `2 bad row(s) in ${WITH_ERRORS}: fix them and import the file again (the good rows are imported, and importing them again changes nothing)\n`,
    );

    const ctr3001 = await contractsOf(tables).get('ctr-3001');
    expect(ctr3001).toMatchObject({
      contractId: 'ctr-3001',
      customerId: 'cust-401',
      plan: 'Pro annual',
      value: 11880,
      currency: 'NOK',
      startDate: '2026-03-01',
      endDate: '2027-02-28',
      autoRenew: true,
      timeZone: 'Europe/Oslo',
      status: 'ACTIVE',
      endsAt: '2027-02-27T23:00:00.000Z', // local midnight in Oslo (CET)
      renewals: 0,
    });
    expect(await contractsOf(tables).get('ctr-3002')).toBeUndefined();
    expect(await contractsOf(tables).get('ctr-3005')).toBeUndefined();
    expect((await scan(tables.contracts)).map((c) => c.contractId)).toEqual(['ctr-3001', 'ctr-3003', 'ctr-3004']);
    // The rows' customer profiles are recorded; the customers of bad rows are not.
    expect(await new DynamoDbCustomerRepository(tables.customers, dynamo.db).get('cust-404')).toMatchObject({
      email: 'nina.rossi@example.com',
      name: 'Nina Rossi',
      timeZone: 'Europe/Rome',
      locale: 'it',
      marketingConsent: false,
    });
    expect((await scan(tables.customers)).map((c) => c.customerId)).toEqual(['cust-401', 'cust-403', 'cust-404']);
    // No reminders planned: the sweep does that.
    expect(await scan(tables.touchpoints)).toEqual([]);

    const stored = { contracts: await scan(tables.contracts), customers: await scan(tables.customers) };
    const again = await outreach(['contracts', 'import', WITH_ERRORS, '--json'], tableEnv(tables));
    expect(again.code).toBe(EXIT.failed);
    expect(JSON.parse(again.stdout)).toEqual({
      file: WITH_ERRORS,
      format: 'csv',
      dryRun: false,
      rows: { good: 3, bad: 2 },
      bad: [
        {
          line: 3,
          reason: 'endDate: "2027-02-30" is not a calendar date (YYYY-MM-DD, e.g. 2027-02-28)',
          text: `${WITH_ERRORS}:3 endDate: "2027-02-30" is not a calendar date (YYYY-MM-DD, e.g. 2027-02-28)`,
        },
        {
          line: 6,
          reason: 'currency: "XYZ" is not an ISO 4217 currency code (e.g. EUR, USD)',
          text: `${WITH_ERRORS}:6 currency: "XYZ" is not an ISO 4217 currency code (e.g. EUR, USD)`,
        },
      ],
      table: tables.contracts,
      result: { created: 0, updated: 0, unchanged: 3, stale: 0 },
      note: IMPORT_REMINDERS_NOTE,
    });
    expect(again.stderr).toMatch(/^2 bad row\(s\) in .*\n$/);
    expect({ contracts: await scan(tables.contracts), customers: await scan(tables.customers) }).toEqual(stored);
  });

  it('exits 0 when every row is good; a changed row is updated, an older one is stale, the rest unchanged', async () => {
    const tables = await freshTables(dynamo);
    const first = await outreach(['contracts', 'import', CSV], tableEnv(tables));
    expect(first).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(first.stdout).toContain(`imported into ${tables.contracts}: 5 created, 0 updated, 0 unchanged, 0 stale`);
    expect(await contractsOf(tables).get('ctr-1004')).toMatchObject({ customerId: 'cust-204', currency: 'USD', endDate: '2027-09-09' });
    expect(await new DynamoDbCustomerRepository(tables.customers, dynamo.db).get('cust-204')).toMatchObject({ name: 'Ramos, Diego' });
    expect(await contractsOf(tables).get('ctr-1005')).toMatchObject({ version: '2026-11-19T23:30:00.000Z' }); // the row's updatedAt, in UTC

    const dir = tempDir();
    const changed = join(dir, 'changed.csv');
    writeFileSync(
      changed,
      readFileSync(join(ROOT, CSV), 'utf8')
        // ctr-1001 was last changed on 2026-03-01 by the stored row: a row from January is older.
        .replace('1188,EUR,2026-03-01,2027-02-28,true,2026-03-01T09:00:00Z', '999,EUR,2026-03-01,2027-02-28,true,2026-01-15T09:00:00Z')
        // ctr-1002 has no updatedAt: the import time orders it, so the new end date wins.
        .replace('2400,GBP,2026-04-15,2027-04-14,false,', '2400,GBP,2026-04-15,2027-10-14,false,'),
    );
    const second = await outreach(['contracts', 'import', changed, '--json'], tableEnv(tables));
    expect(second.code).toBe(EXIT.ok);
    expect(JSON.parse(second.stdout)).toMatchObject({ rows: { good: 5, bad: 0 }, bad: [], result: { created: 0, updated: 1, unchanged: 3, stale: 1 } });
    expect(await contractsOf(tables).get('ctr-1001')).toMatchObject({ value: 1188 });
    expect(await contractsOf(tables).get('ctr-1002')).toMatchObject({ endDate: '2027-10-14', status: 'ACTIVE' });
  });

  it('--dry-run parses and reports, writes nothing, and needs no tables', async () => {
    const tables = await freshTables(dynamo);
    const dry = await outreach(['contracts', 'import', WITH_ERRORS, '--dry-run'], tableEnv(tables));
    expect(dry.code).toBe(EXIT.failed);
    expect(dry.stdout).toContain(`${WITH_ERRORS}:3 endDate:`);
    expect(dry.stdout).toContain('dry run: 3 row(s) would be imported; nothing was read or written\n');
    expect(dry.stderr).toBe(`2 bad row(s) in ${WITH_ERRORS}: fix them and import the file again (dry run: nothing was written)\n`);
    for (const table of [tables.contracts, tables.customers, tables.touchpoints]) expect(await scan(table)).toEqual([]);

    // No table names and no AWS settings at all: a dry run still checks the file.
    const offline = await outreach(['contracts', 'import', JSONL, '--dry-run', '--json']);
    expect(offline.code).toBe(EXIT.ok);
    expect(JSON.parse(offline.stdout)).toEqual({
      file: JSONL,
      format: 'jsonl',
      dryRun: true,
      rows: { good: 5, bad: 0 },
      bad: [],
      note: IMPORT_REMINDERS_NOTE,
    });
  });

  it('imports JSON Lines (by extension or --format), with bad lines reported by line number', async () => {
    const tables = await freshTables(dynamo);
    const run = await outreach(['contracts', 'import', JSONL], tableEnv(tables));
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toContain(`${JSONL} (jsonl): 5 good row(s), 0 bad\nimported into ${tables.contracts}: 5 created,`);
    expect((await scan(tables.contracts)).map((c) => c.contractId)).toEqual(['ctr-2001', 'ctr-2002', 'ctr-2003', 'ctr-2004', 'ctr-2005']);
    expect(await contractsOf(tables).get('ctr-2002')).toMatchObject({ currency: 'SEK', autoRenew: false, endDate: '2027-02-28' });

    // A .txt export with --format; a broken line and a misspelt field are reported, the rest imported (or unchanged).
    const lines = readFileSync(join(ROOT, JSONL), 'utf8').trimEnd().split('\n');
    const broken = [
      lines[0],
      '{"contractId": "ctr-2099", "oops"',
      lines[1]!.replace('"plan"', '"plann"'),
      '',
      JSON.stringify({ ...JSON.parse(lines[4]!), contractId: 'ctr-2100', customerId: 'cust-310', email: 'kai.berg@example.com' }),
    ].join('\n');
    const file = join(tempDir(), 'export.txt');
    writeFileSync(file, `${broken}\n`);
    const guessed = await outreach(['contracts', 'import', file], tableEnv(tables));
    expect(guessed).toMatchObject({
      code: EXIT.usage,
      stdout: '',
      stderr: `error: cannot tell the format of ${file} from its name: pass --format csv or --format jsonl\n`,
    });
    const given = await outreach(['contracts', 'import', file, '--format', 'jsonl'], tableEnv(tables));
    expect(given.code).toBe(EXIT.failed);
    const out = given.stdout.split('\n');
    expect(out[0]).toBe(`${file}:2 row: not valid JSON (expected one JSON object per line)`);
    expect(out[1]).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:3 .*"plann": unknown field`));
    expect(out[1]).toContain('plan: ');
    expect(out.slice(2, 4)).toEqual([
      `${file} (jsonl): 2 good row(s), 2 bad`,
      `imported into ${tables.contracts}: 1 created, 0 updated, 1 unchanged, 0 stale (the stored contract is newer than the row)`,
    ]);
    expect(await contractsOf(tables).get('ctr-2100')).toMatchObject({ customerId: 'cust-310', status: 'ACTIVE' });
    expect(given.stderr).toMatch(/^2 bad row\(s\) in /);
  });

  it('reports progress on stderr every 1,000 rows of a big file', async () => {
    const tables = await freshTables(dynamo);
    const header = readFileSync(join(ROOT, CSV), 'utf8').split('\n')[0];
    const rows = Array.from(
      { length: 1001 },
      (_, i) => `big-${i},cust-big-${i},big${i}@example.com,Customer ${i},Europe/Berlin,de,true,Basic,120,EUR,2026-01-01,2027-03-31,true,`,
    );
    const file = join(tempDir(), 'big.csv');
    writeFileSync(file, [header, ...rows, ''].join('\n'));
    const run = await outreach(['contracts', 'import', file, '--json'], tableEnv(tables));
    expect(run.code).toBe(EXIT.ok);
    expect(run.stderr).toBe('imported 1000 of 1001 row(s)…\nimported 1001 of 1001 row(s)…\n');
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: { good: 1001, bad: 0 }, result: { created: 1001, updated: 0, unchanged: 0, stale: 0 } });
    expect(await scan(tables.contracts)).toHaveLength(1001);
  }, 180_000);

  it('a missing file, missing table names, a bad --format or a missing table: one line on stderr, exit 2', async () => {
    const tables = await freshTables(dynamo);
    const noFile = await outreach(['contracts', 'import', 'examples/contracts/nope.csv'], tableEnv(tables));
    expect(noFile).toEqual({ code: EXIT.usage, stdout: '', stderr: 'error: cannot read examples/contracts/nope.csv: no such file\n' });

    const noTables = await outreach(['contracts', 'import', CSV], awsEnv());
    expect(noTables).toEqual({
      code: EXIT.usage,
      stdout: '',
      stderr:
        'error: --table-contracts (or CONTRACTS_TABLE), --table-customers (or CUSTOMERS_TABLE), --table-touchpoints (or TOUCHPOINTS_TABLE) must name the table(s), unless --dry-run\n',
    });

    const format = await outreach(['contracts', 'import', CSV, '--format', 'xlsx'], tableEnv(tables));
    expect(format.code).toBe(EXIT.usage);
    expect(format.stderr).toMatch(/option '--format <format>' argument 'xlsx' is invalid\. Allowed choices are csv, jsonl\./);

    const missing = await outreach(['contracts', 'import', CSV, '--table-contracts', 'no-such-table'], tableEnv(tables));
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/^error: table no-such-table, .* does not exist at http:\/\/127\.0\.0\.1:\d+\n$/);
    for (const run of [noFile, noTables, format, missing]) noStackTrace(run.stderr);
  });
});

describe('outreach contracts import with the campaigns table', () => {
  it('plans at once the reminders the daily sweep has already passed over, once; the sweep plans the rest', async () => {
    const tables = await freshTables(dynamo);
    const renewal = loadCampaignDirectory(join(ROOT, 'campaigns')).find((c) => c.kind === 'renewal-reminder')!;
    await saveCampaign(tables.campaigns, renewal, new Date().toISOString(), dynamo.db);
    // One contract whose 7-day reminder is today (UTC), one whose reminders are all months ahead.
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const header = readFileSync(join(ROOT, CSV), 'utf8').split('\n')[0]!;
    const row = (id: string, endDate: string) =>
      header
        .split(',')
        .map((column) =>
          ({ contractId: id, customerId: `cust-${id}`, email: `${id}@example.com`, name: 'Sam Doe', timeZone: 'UTC', locale: 'en', marketingConsent: 'true', plan: 'Fibre', value: '30', currency: 'EUR', startDate: day(-300), endDate, autoRenew: 'false' })[column] ?? '',
        )
        .join(',');
    const file = join(tempDir(), 'soon.csv');
    writeFileSync(file, `${header}\n${row('k-soon', day(7))}\n${row('k-later', day(200))}\n`);
    const env = { ...tableEnv(tables), CAMPAIGNS_TABLE: tables.campaigns };

    const run = await outreach(['contracts', 'import', file, '--json'], env);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ result: { created: 2 }, remindersPlanned: 1 });
    const reminders = (await scan(tables.touchpoints)).filter((t) => t.kind === 'renewal-reminder');
    expect(reminders).toMatchObject([{ customerId: 'cust-k-soon', status: 'PENDING', context: { contract: { contractId: 'k-soon', offsetDays: 7 } } }]);

    const again = await outreach(['contracts', 'import', file], env);
    expect(again.stdout).toContain('0 reminder(s) due within about a day planned now; the daily renewal sweep plans the rest');
    expect((await scan(tables.touchpoints)).filter((t) => t.kind === 'renewal-reminder')).toHaveLength(1);
  });
});
