/**
 * The contracts adapter against a real DynamoDB API (dynalite in this process, ephemeral port): the conditional
 * writes, the sparse byEnd index, and what a sweep actually reads from it (ScannedCount, counted on the client).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { CONTRACTS_TABLE, DynamoDbContractRepository, DynamoDbSweepCursors, contractsTableDefinition } from '../../../adapters/dynamodb-contracts.ts';
import type { Contract } from '../../../core/contracts/model.ts';
import { addCalendarDays, shiftInstant, startOfLocalDay } from '../../../core/contracts/renewal-offsets.ts';
import { sweepRenewals } from '../../../core/contracts/sweep-renewals.ts';
import { startDynamo } from '../../../local/dynamodb.ts';
import { InMemoryTouchpoints } from '../fakes.ts';
import { InMemoryContracts, contract } from './fakes.ts';

const CAMPAIGN = { campaignId: 'contract-renewal', offsetsDays: [60, 30, 7] };
const ZONES = ['Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Sydney', 'Asia/Kolkata', 'Pacific/Auckland'];

let dynamo: Awaited<ReturnType<typeof startDynamo>>;
let client: DynamoDBClient;
let tables = 0;
/** byEnd items read (ScannedCount) since the last reset. */
let endIndexReads = 0;

beforeAll(async () => {
  dynamo = await startDynamo({ port: 0 });
  client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      if ((args.input as { IndexName?: string }).IndexName === CONTRACTS_TABLE.endIndex.name) {
        endIndexReads += (result.output as { ScannedCount?: number }).ScannedCount ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'countEndIndexReads' },
  );
});

afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

let table: string;
let repository: DynamoDbContractRepository;
beforeEach(async () => {
  tables += 1;
  table = `contracts-${tables}`;
  await client.send(new CreateTableCommand(contractsTableDefinition(table)));
  repository = new DynamoDbContractRepository(table, 4, createDocumentClient(client));
  endIndexReads = 0;
});

const running = (contractId: string, endDate: string, timeZone: string, overrides: Partial<Contract> = {}): Contract =>
  contract({ contractId, endDate, timeZone, endsAt: startOfLocalDay(endDate, timeZone), ...overrides });

describe('DynamoDbContractRepository on dynalite', () => {
  it('sweeps read from byEnd only the contracts with a reminder due, never the others', async () => {
    // Prepare: 1,460 contracts ending over two years in six zones; one in five is then cancelled (leaves the index).
    const reference = new InMemoryContracts();
    const book = Array.from({ length: 1460 }, (_, i) => running(`ctr-${i}`, addCalendarDays('2027-01-01', Math.floor(i / 2)), ZONES[i % ZONES.length]!));
    await Promise.all(book.map((c) => repository.upsertFromEvent(c, undefined)));
    for (const c of book.filter((_, i) => i % 5 === 0)) {
      const outcome = { result: 'CHURNED' as const, at: '2026-06-01T00:00:00.000Z', remindersSent: 0, endDate: c.endDate };
      expect(await repository.markCancelled(c.contractId, { at: '2026-06-01T00:00:00.000Z', outcome })).toBe(true);
    }
    for (const c of book) reference.put(c);
    for (const c of book.filter((_, i) => i % 5 === 0)) reference.items.set(c.contractId, { ...c, status: 'CANCELLED' });
    const touchpoints = new InMemoryTouchpoints();
    const expected = new InMemoryTouchpoints();
    endIndexReads = 0;

    // Act: ten daily sweeps, small pages so paging across shards is exercised.
    let planned = 0;
    for (let day = 0; day < 10; day += 1) {
      const now = `${addCalendarDays('2027-05-01', day)}T00:05:00.000Z`;
      const input = { campaign: CAMPAIGN, since: shiftInstant(now, 'P1D', -1), now, pageSize: 7 };
      const result = await sweepRenewals(input, { contracts: repository, touchpoints });
      await sweepRenewals(input, { contracts: reference, touchpoints: expected });
      planned += result.touchpointsCreated + result.alreadyPlanned;
    }

    // Assess: the same reminders as the in-memory reference, and reads ≤ 1.1 × the contracts due (here exactly 1×).
    expect(planned).toBeGreaterThan(40);
    expect([...touchpoints.items.keys()].sort()).toEqual([...expected.items.keys()].sort());
    expect(touchpoints.items.size).toBe(planned);
    expect(endIndexReads).toBeLessThanOrEqual(1.1 * planned);
    expect(endIndexReads).toBe(planned);
    expect([...touchpoints.items.values()].some((t) => Number(t.context.contract!.contractId.slice(4)) % 5 === 0)).toBe(false);
  });

  it('returns every row of a range exactly once across pages and shards', async () => {
    const book = Array.from({ length: 60 }, (_, i) => running(`ctr-${i}`, addCalendarDays('2027-03-01', i % 3), ZONES[i % ZONES.length]!));
    await Promise.all(book.map((c) => repository.upsertFromEvent(c, undefined)));
    book.push(running('ctr-outside', '2027-03-10', 'Europe/Berlin'));
    await repository.upsertFromEvent(book.at(-1)!, undefined);

    const seen: string[] = [];
    let startKey: string | undefined;
    let pages = 0;
    do {
      const page = await repository.listEndingBetween('2027-02-27T00:00:00.000Z', '2027-03-04T00:00:00.000Z', 8, startKey);
      seen.push(...page.items.map((c) => c.contractId));
      startKey = page.nextKey;
      pages += 1;
    } while (startKey !== undefined);

    expect(seen.sort()).toEqual(book.slice(0, 60).map((c) => c.contractId).sort());
    expect(pages).toBeGreaterThanOrEqual(8);
    expect(endIndexReads).toBe(60);
  });

  it('applies the conditional writes as the port says', async () => {
    const c = running('ctr-1', '2027-03-28', 'Europe/Berlin', { version: '2026-03-29T08:00:00.000Z' });
    const window = ['2027-03-27T00:00:00.000Z', '2027-03-29T00:00:00.000Z'] as const;
    const listed = async () => (await repository.listEndingBetween(...window, 10)).items.map((item) => item.contractId);

    // Create once; a second create and a write from a stale base are refused.
    expect(await repository.upsertFromEvent(c, undefined)).toBe(true);
    expect(await repository.upsertFromEvent(c, undefined)).toBe(false);
    expect(await repository.upsertFromEvent({ ...c, plan: 'x', version: '2026-01-01T00:00:00.000Z' }, c.version)).toBe(false);
    expect(await repository.upsertFromEvent({ ...c, plan: 'team', version: '2026-05-01T00:00:00.000Z' }, '2026-01-01T00:00:00.000Z')).toBe(false);
    expect(await repository.upsertFromEvent({ ...c, plan: 'team', version: '2026-05-01T00:00:00.000Z' }, c.version)).toBe(true);
    expect(await repository.get('ctr-1')).toEqual({ ...c, plan: 'team', version: '2026-05-01T00:00:00.000Z' });
    expect(await listed()).toEqual(['ctr-1']);

    // Ending needs the same end date; it leaves the index and keeps the version.
    const churned = { result: 'CHURNED' as const, at: '2027-03-30T08:00:00.000Z', remindersSent: 2, endDate: '2027-03-28' };
    expect(await repository.markEnded('ctr-1', { endDate: '2027-03-27', at: churned.at, outcome: churned })).toBe(false);
    expect(await repository.markEnded('ctr-1', { endDate: '2027-03-28', at: churned.at, outcome: churned })).toBe(true);
    expect(await repository.get('ctr-1')).toMatchObject({ status: 'ENDED', outcome: churned, version: '2026-05-01T00:00:00.000Z' });
    expect(await listed()).toEqual([]);

    // A cancellation no longer applies to an ended contract; a (late) renewal does, and puts it back in the index.
    expect(await repository.markCancelled('ctr-1', { at: '2027-03-31T00:00:00.000Z', outcome: churned })).toBe(false);
    const renewed = { result: 'RENEWED' as const, at: '2027-03-28T15:00:00.000Z', remindersSent: 2, endDate: '2027-03-28' };
    const renewal = { endDate: '2028-03-28', endsAt: '2028-03-27T22:00:00.000Z', at: '2027-03-28T15:00:00.000Z', outcome: renewed, autoRenew: true };
    expect(await repository.markRenewed('ctr-1', renewal)).toBe(true);
    expect(await repository.markRenewed('ctr-1', renewal)).toBe(false);
    expect(await repository.get('ctr-1')).toMatchObject({ status: 'RENEWED', endDate: '2028-03-28', renewals: 1, autoRenew: true, outcome: renewed });
    expect((await repository.listEndingBetween('2028-03-27T00:00:00.000Z', '2028-03-28T00:00:00.000Z', 10)).items).toEqual([
      {
        contractId: 'ctr-1',
        customerId: 'cust-ctr-1',
        plan: 'team',
        value: 1200,
        currency: 'EUR',
        startDate: '2020-01-01',
        endDate: '2028-03-28',
        autoRenew: true,
        timeZone: 'Europe/Berlin',
        endsAt: '2028-03-27T22:00:00.000Z',
        status: 'RENEWED',
        version: '2027-03-28T15:00:00.000Z',
      },
    ]);

    // Cancelling a running contract with a newer event takes it out again.
    expect(await repository.markCancelled('ctr-1', { at: '2027-04-01T00:00:00.000Z', outcome: churned, reason: 'too expensive' })).toBe(true);
    expect(await repository.get('ctr-1')).toMatchObject({ status: 'CANCELLED', cancellationReason: 'too expensive' });
    expect((await repository.listEndingBetween('2028-03-27T00:00:00.000Z', '2028-03-28T00:00:00.000Z', 10)).items).toEqual([]);
  });

  it('keeps sweep cursors in the same table, outside the index, moved only from the expected value', async () => {
    const cursors = new DynamoDbSweepCursors(table, createDocumentClient(client));

    expect(await cursors.get('contract-renewal')).toBeUndefined();
    expect(await cursors.advance('contract-renewal', undefined, '2027-03-21T03:05:00.000Z')).toBe(true);
    expect(await cursors.advance('contract-renewal', undefined, '2027-03-22T03:05:00.000Z')).toBe(false);
    expect(await cursors.advance('contract-renewal', '2027-03-21T03:05:00.000Z', '2027-03-22T03:05:00.000Z')).toBe(true);
    expect(await cursors.get('contract-renewal')).toBe('2027-03-22T03:05:00.000Z');
    expect((await repository.listEndingBetween('0000-01-01T00:00:00.000Z', '9999-12-31T00:00:00.000Z', 10)).items).toEqual([]);
  });
});
