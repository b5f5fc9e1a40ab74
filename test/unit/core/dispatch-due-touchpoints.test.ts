import { beforeEach, describe, expect, it } from 'vitest';
import type { Touchpoint } from '../../../core/model.ts';
import { dispatchDueTouchpoints } from '../../../core/use-cases/dispatch-due-touchpoints.ts';
import { InMemoryTouchpoints, RecordingWorkflows } from '../fakes.ts';

const touchpoint = (id: string, dueAt: string, overrides: Partial<Touchpoint> = {}): Touchpoint => ({
  touchpointId: id,
  campaignId: 'post-purchase-check-in',
  kind: 'check-in',
  customerId: 'c-1',
  dueAt,
  status: 'PENDING',
  generation: 0,
  context: {},
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
  ...overrides,
});

describe('dispatchDueTouchpoints', () => {
  let touchpoints: InMemoryTouchpoints;
  let workflows: RecordingWorkflows;
  const deps = () => ({ touchpoints, workflows, shards: touchpoints.shards });
  beforeEach(() => {
    touchpoints = new InMemoryTouchpoints(4);
    workflows = new RecordingWorkflows();
  });

  it('starts one execution per due touchpoint, named by id and generation, and leaves future ones', async () => {
    // Prepare
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:59:00.000Z'));
    await touchpoints.create(touchpoint('tp-b', '2026-11-23T10:00:00.000Z'));
    await touchpoints.create(touchpoint('tp-later', '2026-11-23T10:01:00.000Z'));

    // Act
    const result = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());

    // Assess
    expect(result).toMatchObject({ started: 2, alreadyStarted: 0, skipped: 0, errors: 0 });
    expect(workflows.started.map((s) => s.name).sort()).toEqual(['tp-a-g0', 'tp-b-g0']);
    expect(workflows.started[0]?.input).toEqual({ touchpointId: workflows.started[0]?.name.slice(0, -3), generation: 0 });
    expect((await touchpoints.get('tp-a'))?.status).toBe('DISPATCHED');
    expect((await touchpoints.get('tp-later'))?.status).toBe('PENDING');
  });

  it('does nothing on a second run in the same minute (the claim moved the items out of the due range)', async () => {
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z'));
    await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());
    const again = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());
    expect(again).toMatchObject({ started: 0, alreadyStarted: 0, abandoned: 0 });
    expect(workflows.started).toHaveLength(1);
  });

  it('counts an existing execution name as already started', async () => {
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z'));
    workflows.names.add('tp-a-g0');
    const result = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());
    expect(result).toMatchObject({ started: 0, alreadyStarted: 1 });
  });

  it('retries a lost start when the lease runs out, under the same name', async () => {
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z'));
    workflows.failNext = Object.assign(new Error('connection reset'), { name: 'TimeoutError' });

    const first = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());
    const beforeLease = await dispatchDueTouchpoints('2026-11-23T10:14:00Z', deps());
    const afterLease = await dispatchDueTouchpoints('2026-11-23T10:15:00Z', deps());

    expect(first).toMatchObject({ started: 0, errors: 1, failures: [{ touchpointId: 'tp-a', error: 'TimeoutError: connection reset' }] });
    expect(beforeLease.started).toBe(0);
    expect(afterLease.started).toBe(1);
    expect(workflows.started.map((s) => s.name)).toEqual(['tp-a-g0']);
  });

  it('marks FAILED a touchpoint whose workflow ended without recording an outcome', async () => {
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z'));
    await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());
    const result = await dispatchDueTouchpoints('2026-11-23T10:20:00Z', deps());
    expect(result).toMatchObject({ started: 0, abandoned: 1 });
    expect(await touchpoints.get('tp-a')).toMatchObject({ status: 'FAILED', reason: 'workflow ended without an outcome' });
  });

  it('skips cancelled touchpoints and keeps to the per-shard budget', async () => {
    for (let i = 0; i < 30; i += 1) await touchpoints.create(touchpoint(`tp-${i}`, '2026-11-23T09:00:00.000Z'));
    await touchpoints.cancel('tp-0', 'order refunded', '2026-11-23T09:30:00.000Z');
    const result = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', { ...deps(), pageSize: 2, maxPerShard: 3 });
    const total = 29;
    expect(result.started).toBe(4 * 3); // every shard holds more than its budget of 3
    const rest = await dispatchDueTouchpoints('2026-11-23T10:01:00Z', deps());
    expect(result.started + rest.started).toBe(total);
    expect(workflows.started.some((s) => s.name === 'tp-0-g0')).toBe(false);
  });
});
