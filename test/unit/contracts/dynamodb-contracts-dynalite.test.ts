/**
 * The contracts adapter against a real DynamoDB API (dynalite in this process, ephemeral port): the conditional
 * writes, the sparse byEnd index, and what a sweep actually reads from it (ScannedCount, counted on the client).
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { CONTRACTS_TABLE, DynamoDbContractRepository, DynamoDbSweepCursors, contractsTableDefinition } from '../../../adapters/dynamodb-contracts.ts';
import type { Contract, ContractOutcome } from '../../../core/contracts/model.ts';
import type { OutcomeWrite } from '../../../core/contracts/ports.ts';
import { numberChanges, outcomeChanges } from '../../../core/metrics/counters.ts';
import { recordOutcome } from '../../../core/metrics/model.ts';
import { addCalendarDays, shiftInstant, startOfLocalDay } from '../../../core/contracts/renewal-offsets.ts';
import { sweepRenewals } from '../../../core/contracts/sweep-renewals.ts';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { applyContractEvent, recordContractEnds } from '../../../core/contracts/sweep-renewals.ts';
import { emptySegmentCounts, rebuildOutcomeAggregates } from '../../../core/metrics/model.ts';
import { DynamoDbMetricsCounters, DynamoDbMetricsReader } from '../../../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../../../adapters/dynamodb-pending.ts';
import { localTableNames, tableDefinitions } from '../../../local/dynamodb.ts';
import { InMemoryTouchpoints } from '../fakes.ts';
import { InMemoryContractCustomers, InMemoryContracts, contract, contractEnvelope, startedDetail } from './fakes.ts';
import { startTestDynamo, type TestDynamo } from '../dynalite.ts';

const CAMPAIGN = { campaignId: 'contract-renewal', offsetsDays: [60, 30, 7] };
const ZONES = ['Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Sydney', 'Asia/Kolkata', 'Pacific/Auckland'];

let dynamo: TestDynamo;
let client: DynamoDBClient;
let tables = 0;
/** byEnd items read (ScannedCount) since the last reset. */
let endIndexReads = 0;

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
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

/** The OutcomeWrite that records `outcome` (segment `none`) on the contract as read. */
const recording = (outcome: ContractOutcome, read: Contract): OutcomeWrite => {
  const { history, increments } = recordOutcome(read.outcomes ?? [], { ...outcome, npsSegment: 'none' });
  return { outcomes: history, metrics: numberChanges(`w-${read.contractId}-${outcome.at}`, outcomeChanges(increments)), base: { version: read.version, status: read.status } };
};

describe('DynamoDbContractRepository on dynalite', () => {
  it('sweeps read from byEnd only the contracts with a reminder due, never the others', async () => {
    // Prepare: 1,460 contracts ending over two years in six zones; one in five is then cancelled (leaves the index).
    const reference = new InMemoryContracts();
    const book = Array.from({ length: 1460 }, (_, i) => running(`ctr-${i}`, addCalendarDays('2027-01-01', Math.floor(i / 2)), ZONES[i % ZONES.length]!));
    await Promise.all(book.map((c) => repository.upsertFromEvent(c, undefined)));
    for (const c of book.filter((_, i) => i % 5 === 0)) {
      const outcome = { result: 'CHURNED' as const, at: '2026-06-01T00:00:00.000Z', remindersSent: 0, endDate: c.endDate };
      expect(await repository.markCancelled(c.contractId, { at: '2026-06-01T00:00:00.000Z', outcome, ...recording(outcome, c) })).toBe(true);
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
    const updated = (await repository.get('ctr-1'))!;
    expect(await repository.markEnded('ctr-1', { endDate: '2027-03-27', at: churned.at, outcome: churned, ...recording(churned, updated) })).toBe(false);
    expect(await repository.markEnded('ctr-1', { endDate: '2027-03-28', at: churned.at, outcome: churned, ...recording(churned, updated) })).toBe(true);
    expect(await repository.get('ctr-1')).toMatchObject({ status: 'ENDED', outcome: churned, version: '2026-05-01T00:00:00.000Z' });
    expect(await listed()).toEqual([]);

    // A cancellation no longer applies to an ended contract; a (late) renewal does, and puts it back in the index.
    const ended = (await repository.get('ctr-1'))!;
    expect(await repository.markCancelled('ctr-1', { at: '2027-03-31T00:00:00.000Z', outcome: churned, ...recording(churned, ended) })).toBe(false);
    const renewed = { result: 'RENEWED' as const, at: '2027-03-28T15:00:00.000Z', remindersSent: 2, endDate: '2027-03-28' };
    const renewal = {
      endDate: '2028-03-28',
      endsAt: '2028-03-27T22:00:00.000Z',
      at: '2027-03-28T15:00:00.000Z',
      outcome: renewed,
      autoRenew: true,
      ...recording(renewed, ended),
    };
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
    const again = { ...churned, endDate: '2028-03-28' };
    const current = (await repository.get('ctr-1'))!;
    expect(await repository.markCancelled('ctr-1', { at: '2027-04-01T00:00:00.000Z', outcome: again, reason: 'too expensive', ...recording(again, current) })).toBe(true);
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

describe('DynamoDbContractRepository outcome counts on dynalite', () => {
  let metricsTable: string;
  beforeEach(async () => {
    metricsTable = localTableNames(`contract-metrics-${tables}`).metrics;
    await client.send(new CreateTableCommand(tableDefinitions(localTableNames(`contract-metrics-${tables}`)).find((d) => d.TableName === metricsTable)!));
  });

  const rawItem = async (contractId: string) =>
    (await createDocumentClient(client).send(new GetCommand({ TableName: table, Key: { contractId }, ConsistentRead: true }))).Item!;

  it('writes the outcome history and appends its counts in the same write, only while the contract is as read', async () => {
    // Prepare
    const c = running('ctr-1', '2027-03-28', 'Europe/Berlin', { version: '2026-03-29T08:00:00.000Z' });
    await repository.upsertFromEvent(c, undefined);
    const churned = { result: 'CHURNED' as const, at: '2027-03-02T10:00:00.000Z', remindersSent: 0, endDate: '2027-03-28' };
    const cancellation = { at: churned.at, outcome: churned, ...recording(churned, c) };

    // Act
    expect(await repository.markCancelled('ctr-1', cancellation)).toBe(true);
    // A renewal computed from the same (now stale) read is refused, and appends nothing.
    const renewed = { result: 'RENEWED' as const, at: '2027-03-03T10:00:00.000Z', remindersSent: 0, endDate: '2027-03-28' };
    const stale = { endDate: '2028-03-28', endsAt: '2028-03-27T22:00:00.000Z', at: renewed.at, outcome: renewed, ...recording(renewed, c) };
    expect(await repository.markRenewed('ctr-1', stale)).toBe(false);

    // Assess
    const item = await rawItem('ctr-1');
    expect(item.outcomes).toEqual(cancellation.outcomes);
    expect(item.metricsPending).toEqual(cancellation.metrics);
    expect(cancellation.metrics).toEqual([
      { id: 'w-ctr-1-2027-03-02T10:00:00.000Z:0', record: { series: 'outcomes', day: '2027-03-02' }, counters: { churned_none: 1 } },
    ]);
    // The domain object carries the history, not the pending counts.
    const read = await repository.get('ctr-1');
    expect(read).toMatchObject({ status: 'CANCELLED', outcomes: cancellation.outcomes });
    expect(read).not.toHaveProperty('metricsPending');
  });

  it('leaves the outcome history and the pending counts alone when an event updates the contract', async () => {
    // Prepare: cancelled, its churn still pending; then restarted by a newer Contract Started.
    const c = running('ctr-1', '2027-03-28', 'Europe/Berlin', { version: '2026-03-29T08:00:00.000Z' });
    await repository.upsertFromEvent(c, undefined);
    const churned = { result: 'CHURNED' as const, at: '2027-03-02T10:00:00.000Z', remindersSent: 0, endDate: '2027-03-28' };
    const cancellation = { at: churned.at, outcome: churned, reason: 'price', ...recording(churned, c) };
    await repository.markCancelled('ctr-1', cancellation);
    const cancelled = (await repository.get('ctr-1'))!;

    // Act
    const { cancellationReason: _dropped, outcomes: _history, ...rest } = cancelled;
    const restarted = { ...rest, status: 'ACTIVE' as const, endDate: '2028-03-28', endsAt: '2028-03-27T22:00:00.000Z', version: '2027-04-01T00:00:00.000Z' };
    expect(await repository.upsertFromEvent(restarted, cancelled.version)).toBe(true);

    // Assess
    const item = await rawItem('ctr-1');
    expect(item).toMatchObject({ status: 'ACTIVE', endDate: '2028-03-28', outcome: churned, outcomes: cancellation.outcomes, metricsPending: cancellation.metrics });
    expect(item).not.toHaveProperty('cancellationReason');
    expect((await repository.listEndingBetween('2028-03-27T00:00:00.000Z', '2028-03-28T00:00:00.000Z', 10)).items.map((i) => i.contractId)).toEqual(['ctr-1']);
  });

  it('counts a churn and a late renewal of the same term once, through the events and the sweep', async () => {
    // Prepare: the real contracts table, pending counts and metrics table; customers and touchpoints in memory.
    const db = createDocumentClient(client);
    const metrics = { pending: new DynamoDbPendingCounts(table, CONTRACTS_TABLE.partitionKey, db), counters: new DynamoDbMetricsCounters(metricsTable, db) };
    const customers = new InMemoryContractCustomers();
    const deps = { contracts: repository, touchpoints: new InMemoryTouchpoints(), customers, metrics };
    const event = (type: string, detail: Record<string, unknown>, envelope: Record<string, unknown> = {}) =>
      parseContractEvent(contractEnvelope(type, { contractId: 'ctr-1', customerId: 'cust-1', ...detail }, envelope));
    await applyContractEvent(event('Contract Started', startedDetail()), deps);
    const nps = (category: string) => ({ nps: { score: 0, category, surveyId: 's', answeredAt: '2027-01-01T00:00:00.000Z' } });
    customers.items.get('cust-1')!.latestSurvey = nps('detractor');

    // Act: the sweep records the churn; the customer turns promoter; the renewal arrives late, twice.
    expect((await recordContractEnds('2027-03-30T08:00:00.000Z', deps)).ended).toBe(1);
    const reader = new DynamoDbMetricsReader(metricsTable, 'unused', db);
    const afterChurn = await reader.contractOutcomes('2027-03-01', '2027-04-30');
    customers.items.get('cust-1')!.latestSurvey = nps('promoter');
    const late = event('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-28T15:00:00Z' }, { time: '2027-03-30T09:00:00Z' });
    expect((await applyContractEvent(late, deps)).action).toBe('contract-renewed');
    expect((await applyContractEvent(late, deps)).action).toBe('stale-event');

    // Assess
    expect(afterChurn).toEqual([{ day: '2027-03-30', renewed: emptySegmentCounts(), churned: { ...emptySegmentCounts(), detractor: 1 } }]);
    const counts = (await reader.contractOutcomes('2027-03-01', '2027-04-30')).filter((r) => [...Object.values(r.renewed), ...Object.values(r.churned)].some((n) => n !== 0));
    expect(counts).toEqual([{ day: '2027-03-28', renewed: { ...emptySegmentCounts(), promoter: 1 }, churned: emptySegmentCounts() }]);
    const stored = (await repository.get('ctr-1'))!;
    expect(counts).toEqual(rebuildOutcomeAggregates(stored.outcomes ?? []));
    const item = await rawItem('ctr-1');
    expect(item).not.toHaveProperty('metricsPending');
    expect(item).not.toHaveProperty('metricsLease');
  });
});
