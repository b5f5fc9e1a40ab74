/**
 * `outreach touchpoints list | redrive | backlog` as an operator runs them, in a subprocess against dynalite, with the
 * touchpoints written through the DynamoDB adapter's own transitions and "now" from a clock at OUTREACH_CLOCK_URL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';
import { EXIT } from '../../../cli/outreach.ts';
import type { Touchpoint } from '../../../core/model.ts';
import type { TableNames } from '../../../local/dynamodb.ts';
import { pendingTouchpoint } from '../fakes.ts';
import { awsEnvFor, freshTables, runOutreach, startTestDynamo, type TestDynamo } from './support.ts';

const NOW = '2026-11-23T12:00:00.000Z';
const LEASE = '2026-11-23T12:15:00.000Z';
const SHARDS = 4;

let dynamo: TestDynamo;
let clock: Server;
let clockUrl: string;
beforeAll(async () => {
  dynamo = await startTestDynamo();
  clock = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ now: NOW })));
  await new Promise<void>((resolve) => clock.listen(0, '127.0.0.1', resolve));
  clockUrl = `http://127.0.0.1:${(clock.address() as AddressInfo).port}/clock`;
});
afterAll(async () => {
  await dynamo?.close();
  await new Promise((resolve) => clock?.close(resolve));
});

/** The environment `eval "$(npm run -s local -- env)"` gives: the table, the shards and the stack's clock. */
const tableEnv = (t: TableNames) => ({ ...awsEnvFor(dynamo), TOUCHPOINTS_TABLE: t.touchpoints, DISPATCH_SHARDS: String(SHARDS), OUTREACH_CLOCK_URL: clockUrl });
const outreach = (t: TableNames, args: string[]) => runOutreach(['touchpoints', ...args], tableEnv(t));
const stored = async (t: TableNames, id: string) =>
  (await dynamo.db.send(new GetCommand({ TableName: t.touchpoints, Key: { touchpointId: id }, ConsistentRead: true }))).Item;
/** One set of empty tables for the calls that must fail before reading anything. */
let empty: Promise<TableNames> | undefined;
const emptyTables = () => (empty ??= freshTables(dynamo));
const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m);

/** The customer's id and name, and an address in the reason: what no output may show. */
const secretTouchpoint = (id: string, overrides: Partial<Touchpoint> = {}) =>
  pendingTouchpoint(id, { customerId: 'cust-secret-7', context: { items: [{ sku: 'MUG-1', name: 'Secret Mug', quantity: 1, unitPrice: 12 }] }, ...overrides });

async function seed(t: TableNames) {
  const repository = new DynamoDbTouchpointRepository(t.touchpoints, SHARDS, dynamo.db);
  const fail = async (id: string, at: string, reason: string, overrides: Partial<Touchpoint> = {}) => {
    await repository.create(secretTouchpoint(id, overrides));
    await repository.claimForDispatch({ touchpointId: id, generation: 0, from: 'PENDING', at, leaseUntil: LEASE });
    await repository.complete({ touchpointId: id, generation: 0, at, status: 'FAILED', reason });
  };
  await fail('tp-a', '2026-11-22T08:00:00.000Z', 'MessageRejected: Email address is not verified: sam.doe@example.com');
  await fail('tp-b', '2026-11-22T09:00:00.000Z', 'workflow ended without an outcome 3 times', { campaignId: 'nps-after-purchase', kind: 'survey' });
  return repository;
}

async function unconfirmed(repository: DynamoDbTouchpointRepository, id: string) {
  await repository.create(secretTouchpoint(id));
  await repository.claimForDispatch({ touchpointId: id, generation: 0, from: 'PENDING', at: NOW, leaseUntil: LEASE });
  await repository.claimForSending({ touchpointId: id, generation: 0, at: NOW, attemptId: 'exec#1', leaseUntil: LEASE, sendPlan: {} });
  await repository.markUnconfirmed({ touchpointId: id, generation: 0, at: NOW, until: '2026-11-23T12:30:00.000Z', reason: 'unconfirmed: ECONNRESET' });
}

describe('outreach touchpoints list', () => {
  it('prints the FAILED touchpoints as a table with their reasons, newest first, and the cursor of the next page', async () => {
    // arrange
    const t = await freshTables(dynamo);
    await seed(t);

    // act
    const first = await outreach(t, ['list', '--status', 'FAILED', '--limit', '1']);
    const second = await outreach(t, ['list', '--status', 'failed', '--limit', '1', '--after', '2026-11-22T09:00:00.000Z|tp-b']);

    // assert
    expect(first.code).toBe(EXIT.ok);
    expect(first.stdout.split('\n')).toEqual([
      '1 FAILED touchpoint(s), newest first:',
      '',
      'touchpoint | campaign           | kind   | gen | due at                   | updated at               | re-drives | reason',
      '-----------+--------------------+--------+-----+--------------------------+--------------------------+-----------+------------------------------------------',
      'tp-b       | nps-after-purchase | survey | 0   | 2026-11-23T10:00:00.000Z | 2026-11-22T09:00:00.000Z | 0         | workflow ended without an outcome 3 times',
      '',
      "more: --after '2026-11-22T09:00:00.000Z|tp-b'",
      '',
    ]);
    expect(second.code).toBe(EXIT.ok);
    expect(second.stdout).toContain('tp-a       | post-purchase-check-in | check-in | 0   |');
    expect(second.stdout).toContain('MessageRejected: Email address is not verified: <address>');
    expect(second.stdout).not.toContain('more:');
    for (const run of [first, second]) expect(run.stdout).not.toMatch(/cust-secret|Secret Mug|sam\.doe/);
  });

  it('prints the page as JSON with --json, by due time with --order due', async () => {
    // arrange
    const t = await freshTables(dynamo);
    await seed(t);

    // act
    const run = await outreach(t, ['list', '--status', 'FAILED', '--order', 'due', '--json']);

    // assert
    expect(run.code).toBe(EXIT.ok);
    const page = JSON.parse(run.stdout) as { status: string; order: string; items: Array<Record<string, unknown>>; next?: string };
    expect(page).toMatchObject({ status: 'FAILED', order: 'due' });
    expect(page.items.map((r) => r.touchpointId)).toEqual(['tp-a', 'tp-b']);
    expect(page.items[0]).toEqual({
      touchpointId: 'tp-a',
      campaignId: 'post-purchase-check-in',
      kind: 'check-in',
      status: 'FAILED',
      dueAt: '2026-11-23T10:00:00.000Z',
      generation: 0,
      updatedAt: '2026-11-22T08:00:00.000Z',
      reason: 'MessageRejected: Email address is not verified: <address>',
    });
    expect(page).not.toHaveProperty('next');
    expect(run.stdout).not.toMatch(/cust-secret|Secret Mug|sam\.doe/);
  });

  it.each([
    [['list'], 'error: --status is required, e.g. --status FAILED'],
    [['list', '--status', 'BROKEN'], 'error: unknown status BROKEN: one of PENDING, DISPATCHED, SENDING, UNCONFIRMED, SENT, SKIPPED, FAILED, CANCELLED, HELD_OUT'],
    [['list', '--status', 'FAILED', '--order', 'oldest'], 'error: unknown order oldest: one of newest, due'],
    [['list', '--status', 'FAILED', '--limit', 'ten'], 'error: --limit must be a whole number from 1 to 1000 (got ten)'],
    [['list', '--status', 'FAILED', '--limit', '5000'], 'error: the limit must be a whole number from 1 to 1000 (got 5000)'],
    [['list', '--status', 'FAILED', '--after', 'tp-a'], 'error: not a list cursor: tp-a (pass the "next" of an earlier page)'],
    [['backlog', '--shards', 'many'], "error: --shards must be a whole number from 1 to 64, the deployment's dispatchShards (got many)"],
  ])('%j exits 2 with one line', async (args, message) => {
    // arrange
    const t = await emptyTables();

    // act
    const run = await outreach(t, args);

    // assert
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe(`${message}\n`);
    expect(run.stdout).toBe('');
  });
});

describe('outreach touchpoints redrive', () => {
  it('re-drives FAILED touchpoints by id, and the same command again writes nothing and exits 0', async () => {
    // arrange
    const t = await freshTables(dynamo);
    await seed(t);

    // act
    const first = await outreach(t, ['redrive', 'tp-a', 'tp-b']);
    const after = await stored(t, 'tp-a');
    const again = await outreach(t, ['redrive', 'tp-a', 'tp-b']);

    // assert
    expect(first.code).toBe(EXIT.ok);
    expect(first.stdout.split('\n')).toEqual([
      `tp-a  re-driven: FAILED → PENDING, due ${NOW} (re-drive 1)`,
      `tp-b  re-driven: FAILED → PENDING, due ${NOW} (re-drive 1)`,
      `2 re-driven, 0 not, at ${NOW}`,
      '',
    ]);
    expect(after).toMatchObject({ status: 'PENDING', dueAt: NOW, generation: 1, redrives: 1, redrivenAt: NOW, dueKey: `${NOW}#tp-a` });
    expect(after).not.toHaveProperty('reason');
    expect(again.code).toBe(EXIT.ok);
    expect(again.stdout).toContain(`tp-a  not re-driven: already re-driven at ${NOW} (now PENDING)`);
    expect(await stored(t, 'tp-a')).toEqual(after);
  });

  it('leaves an UNCONFIRMED touchpoint alone and exits 1 unless --accept-duplicate is given', async () => {
    // arrange
    const t = await freshTables(dynamo);
    await unconfirmed(new DynamoDbTouchpointRepository(t.touchpoints, SHARDS, dynamo.db), 'tp-u');
    const before = await stored(t, 'tp-u');

    // act
    const refused = await outreach(t, ['redrive', 'tp-u']);
    const unchanged = await stored(t, 'tp-u');
    const accepted = await outreach(t, ['redrive', 'tp-u', '--accept-duplicate', '--json']);

    // assert
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.stdout).toMatch(/^tp-u {2}not re-driven: UNCONFIRMED: SES may have accepted the email/);
    expect(refused.stderr).toBe('1 touchpoint(s) not re-driven (see above); those that may have been delivered need --accept-duplicate\n');
    expect(unchanged).toEqual(before);
    expect(accepted.code).toBe(EXIT.ok);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ dryRun: false, redriven: 1, notRedriven: 0, results: [{ touchpointId: 'tp-u', outcome: 'redriven', status: 'UNCONFIRMED' }] });
    expect(await stored(t, 'tp-u')).toMatchObject({ status: 'PENDING', generation: 1 });
  });

  it('rejects the whole request when an id is malformed, writing nothing', async () => {
    // arrange
    const t = await freshTables(dynamo);
    await seed(t);
    const before = await stored(t, 'tp-a');

    // act
    const run = await outreach(t, ['redrive', 'tp-a', 'tp a#2']);

    // assert
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe('error: not a touchpoint id (letters, digits, - and _, at most 72): "tp a#2"; nothing was re-driven\n');
    noStackTrace(run.stderr);
    expect(await stored(t, 'tp-a')).toEqual(before);
  });

  it('with --all-failed --dry-run says what it would do and writes nothing; without --dry-run re-drives every FAILED one', async () => {
    // arrange
    const t = await freshTables(dynamo);
    await seed(t);
    const before = [await stored(t, 'tp-a'), await stored(t, 'tp-b')];

    // act
    const dry = await outreach(t, ['redrive', '--all-failed', '--dry-run']);
    const unchanged = [await stored(t, 'tp-a'), await stored(t, 'tp-b')];
    const run = await outreach(t, ['redrive', '--all-failed', '--json']);
    const none = await outreach(t, ['redrive', '--all-failed']);

    // assert
    expect(dry.code).toBe(EXIT.ok);
    expect(dry.stdout.split('\n')).toEqual([
      `tp-b  would re-drive: FAILED → PENDING, due ${NOW}`,
      `tp-a  would re-drive: FAILED → PENDING, due ${NOW}`,
      `dry run, nothing written: 2 would be re-driven, 0 not, at ${NOW}`,
      '',
    ]);
    expect(unchanged).toEqual(before);
    expect(run.code).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout)).toMatchObject({ at: NOW, dryRun: false, redriven: 2, notRedriven: 0 });
    expect([(await stored(t, 'tp-a'))?.status, (await stored(t, 'tp-b'))?.status]).toEqual(['PENDING', 'PENDING']);
    expect(none).toMatchObject({ code: EXIT.ok, stdout: 'no FAILED touchpoints\n' });
  });

  it.each([
    [['redrive'], 'error: name the touchpoints to re-drive (ids from `touchpoints list --status FAILED`) or pass --all-failed'],
    [['redrive', 'tp-a', '--all-failed'], 'error: give touchpoint ids or --all-failed, not both'],
  ])('%j exits 2 with one line', async (args, message) => {
    // arrange
    const t = await emptyTables();

    // act
    const run = await outreach(t, args);

    // assert
    expect(run).toMatchObject({ code: EXIT.usage, stderr: `${message}\n`, stdout: '' });
  });
});

describe('outreach touchpoints backlog', () => {
  it('prints the touchpoints due and not sent, the oldest one and its age, and those in flight, per shard', async () => {
    // arrange
    const t = await freshTables(dynamo);
    const repository = new DynamoDbTouchpointRepository(t.touchpoints, SHARDS, dynamo.db);
    await repository.create(secretTouchpoint('tp-old', { dueAt: '2026-11-23T10:58:57.000Z' }));
    await repository.create(secretTouchpoint('tp-due', { dueAt: '2026-11-23T11:59:00.000Z' }));
    await repository.create(secretTouchpoint('tp-future', { dueAt: '2026-11-23T13:00:00.000Z' }));
    await unconfirmed(repository, 'tp-u');

    // act
    const text = await outreach(t, ['backlog']);
    const json = await outreach(t, ['backlog', '--json']);

    // assert
    expect(text.code).toBe(EXIT.ok);
    const lines = text.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      `send backlog at ${NOW}`,
      'due and not sent: 2 (the oldest due 2026-11-23T10:58:57.000Z, waiting 1h 01m 03s)',
      'in flight:        0 (a workflow or the send step has them)',
      "unconfirmed:      1 (waiting for SES's Send event or their deadline)",
      '',
    ]);
    expect(lines[5]).toBe('shard | due | oldest due               | in flight | unconfirmed');
    expect(lines.slice(7, 7 + SHARDS)).toHaveLength(SHARDS);
    expect(json.code).toBe(EXIT.ok);
    const backlog = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(backlog).toMatchObject({ at: NOW, due: 2, oldestDueAt: '2026-11-23T10:58:57.000Z', oldestDueAgeSeconds: 3663, inFlight: 0, unconfirmed: 1, truncated: false });
    expect(backlog.byShard).toHaveLength(SHARDS);
  });
});
