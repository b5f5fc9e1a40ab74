import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentApplyError, DynamoDbCampaignStore } from '../../../adapters/dynamodb-campaign-store.ts';
import { DynamoDbCampaignCatalog, saveCampaign } from '../../../adapters/dynamodb-campaigns.ts';
import { auditKey, definitionText, planApply } from '../../../core/campaigns/changes.ts';
import { loadCampaignDirectory } from '../../../core/campaigns/load.ts';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import { allItems, freshCampaignsTable, startTestDynamo, type TestDynamo } from './support.ts';

const [shipped] = loadCampaignDirectory('campaigns');
if (!shipped) throw new Error('campaigns/ holds no campaign');
const base: Campaign = shipped;
const changed: Campaign = { ...base, delay: 'P5D', quietHours: { start: '22:00', end: '08:00' } };

let dynamo: TestDynamo;
let table: string;
let store: DynamoDbCampaignStore;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});
beforeEach(async () => {
  table = await freshCampaignsTable(dynamo);
  store = new DynamoDbCampaignStore(table, dynamo.db);
});

/** What `outreach campaigns apply` does after validation: read, decide, write. */
async function apply(campaigns: Campaign[], at: string, actor = 'sam') {
  const plan = planApply(campaigns, await store.read(campaigns.map((c) => c.id)), { at, actor });
  return { plan, result: await store.apply(plan) };
}

const T1 = '2026-11-23T10:00:00.000Z';
const T2 = '2026-11-24T10:00:00.000Z';
const T3 = '2026-11-25T10:00:00.000Z';

describe('DynamoDbCampaignStore (dynalite)', () => {
  it('stores a new campaign as v000001 + current + audit; applying the same files again writes nothing', async () => {
    const first = await apply([base], T1);
    expect(first.result.applied).toEqual([{ campaignId: base.id, version: 'v000001', repaired: false }]);
    const items = await allItems(dynamo.db, table);
    expect(items).toEqual([
      {
        campaignId: base.id,
        version: auditKey(T1, 'v000001'),
        at: T1,
        actor: 'sam',
        action: 'added',
        appliedVersion: 'v000001',
        changedPaths: [],
      },
      { campaignId: base.id, version: 'current', definition: definitionText(base), appliedVersion: 'v000001', updatedAt: T1 },
      { campaignId: base.id, version: 'v000001', definition: definitionText(base), appliedAt: T1, actor: 'sam', action: 'added', changedPaths: [] },
    ]);

    const second = await apply([base], T2);
    expect(second.plan.changes).toEqual([{ campaignId: base.id, status: 'unchanged', changedPaths: [], storedVersion: 'v000001' }]);
    expect(second.result).toEqual({ applied: [], auditsRepaired: [] });
    expect(await allItems(dynamo.db, table)).toEqual(items);
  });

  it('a changed file becomes v000002 with an audit of what changed, and current moves; the runtime catalog reads it', async () => {
    await apply([base], T1);
    const { plan, result } = await apply([changed], T2, 'kim');
    expect(plan.changes).toEqual([{ campaignId: base.id, status: 'changed', changedPaths: ['delay', 'quietHours.start'], storedVersion: 'v000001' }]);
    expect(result.applied).toEqual([{ campaignId: base.id, version: 'v000002', repaired: false }]);

    const items = await allItems(dynamo.db, table);
    expect(items.map((i) => i.version)).toEqual([auditKey(T1, 'v000001'), auditKey(T2, 'v000002'), 'current', 'v000001', 'v000002']);
    expect(items.find((i) => i.version === auditKey(T2, 'v000002'))).toEqual({
      campaignId: base.id,
      version: auditKey(T2, 'v000002'),
      at: T2,
      actor: 'kim',
      action: 'changed',
      appliedVersion: 'v000002',
      previousVersion: 'v000001',
      changedPaths: ['delay', 'quietHours.start'],
    });
    // The old version is kept as it was.
    expect(items.find((i) => i.version === 'v000001')?.definition).toBe(definitionText(base));
    expect(items.find((i) => i.version === 'current')).toMatchObject({ appliedVersion: 'v000002', definition: definitionText(changed) });

    const catalog = new DynamoDbCampaignCatalog(table, dynamo.db, 0);
    expect(await catalog.get(base.id)).toEqual(changed);
  });

  it('a stale apply (another one moved current meanwhile) fails clearly and overwrites nothing', async () => {
    await apply([base], T1);
    const stale = planApply([changed], await store.read([base.id]), { at: T3, actor: 'late' });
    await apply([{ ...base, delay: 'P2D' }], T2, 'early');
    const before = await allItems(dynamo.db, table);

    const error = await store.apply(stale).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentApplyError);
    expect((error as Error).message).toBe(
      `campaign ${base.id}: version v000002 already exists — another apply ran at the same time; run \`campaigns diff\` and apply again`,
    );
    expect(await allItems(dynamo.db, table)).toEqual(before);
  });

  it('of two concurrent applies exactly one wins; current holds the winner', async () => {
    await apply([base], T1);
    const outcomes = await Promise.allSettled([apply([changed], T2, 'a'), apply([{ ...base, delay: 'P2D' }], T3, 'b')]);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrentApplyError);
    const winner = outcomes[0]?.status === 'fulfilled' ? changed : { ...base, delay: 'P2D' };
    const current = (await allItems(dynamo.db, table)).find((i) => i.version === 'current');
    expect(current).toMatchObject({ appliedVersion: 'v000002', definition: definitionText(winner) });
  });

  it('moving current is conditional on the current the apply read, even when the version number is free', async () => {
    await apply([base], T1);
    const stale = planApply([changed], await store.read([base.id]), { at: T3, actor: 'late' });
    // Someone else moved current without taking v000002 (e.g. the local stack's start writes current directly).
    await saveCampaign(table, { ...base, delay: 'P7D' }, T2, dynamo.db);
    await expect(store.apply(stale)).rejects.toThrow(/current is no longer v000001; v000002 was written but not made current/);
    expect((await allItems(dynamo.db, table)).find((i) => i.version === 'current')?.definition).toBe(definitionText({ ...base, delay: 'P7D' }));
  });

  it('takes over a current item written outside apply (local start) and versions the next change', async () => {
    await saveCampaign(table, base, T1, dynamo.db);
    expect((await apply([base], T2)).result.applied).toEqual([]);
    const { result } = await apply([changed], T3);
    expect(result.applied).toEqual([{ campaignId: base.id, version: 'v000001', repaired: false }]);
    expect((await allItems(dynamo.db, table)).find((i) => i.version === 'current')).toMatchObject({ appliedVersion: 'v000001' });
  });

  it('repairs an apply that stopped after writing its version, and one that stopped before its audit', async () => {
    await apply([base], T1);
    // Crash 1: the version item of `changed` was written, current was not moved.
    const plan = planApply([changed], await store.read([base.id]), { at: T2, actor: 'kim' });
    const step = plan.steps[0]!;
    await dynamo.db.send(
      new PutCommand({
        TableName: table,
        Item: { campaignId: base.id, version: 'v000002', definition: step.version.definition, appliedAt: T2, actor: 'kim', action: 'changed', changedPaths: step.version.changedPaths, previousVersion: 'v000001' },
      }),
    );
    const repaired = await apply([changed], T3, 'sam');
    expect(repaired.result.applied).toEqual([{ campaignId: base.id, version: 'v000002', repaired: true }]);
    const items = await allItems(dynamo.db, table);
    expect(items.map((i) => i.version)).toEqual([auditKey(T1, 'v000001'), auditKey(T2, 'v000002'), 'current', 'v000001', 'v000002']);
    expect(items.find((i) => i.version === auditKey(T2, 'v000002'))).toMatchObject({ actor: 'kim' });

    // Crash 2: current moved but the audit item is missing.
    await dynamo.db.send(new DeleteCommand({ TableName: table, Key: { campaignId: base.id, version: auditKey(T2, 'v000002') } }));
    const again = await apply([changed], T3, 'sam');
    expect(again.result).toEqual({ applied: [], auditsRepaired: [{ campaignId: base.id, version: 'v000002' }] });
    expect(await allItems(dynamo.db, table)).toEqual(items);
  });

  it('reads campaigns that are only in the table', async () => {
    await apply([base, { ...base, id: 'winter-check-in' }], T1);
    const stored = await store.read([base.id]);
    expect(stored.map((s) => s.campaignId)).toEqual([base.id, 'winter-check-in']);
    expect(planApply([base], stored, { at: T2, actor: 'sam' }).changes.map((c) => `${c.campaignId}:${c.status}`)).toEqual([
      `${base.id}:unchanged`,
      'winter-check-in:only-stored',
    ]);
  });
});
