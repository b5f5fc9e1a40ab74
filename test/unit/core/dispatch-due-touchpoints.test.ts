import { beforeEach, describe, expect, it } from 'vitest';
import type { Touchpoint } from '../../../core/model.ts';
import {
  dispatchDueTouchpoints,
  MAX_REDISPATCHES,
  sendRateBudget,
  type StartPacer,
} from '../../../core/use-cases/dispatch-due-touchpoints.ts';
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

/** Grants `budget` starts, then says the run's time is up. */
class CountingPacer implements StartPacer {
  taken = 0;
  constructor(private readonly budget = Number.POSITIVE_INFINITY) {}
  async take() {
    if (this.taken >= this.budget) return false;
    this.taken += 1;
    return true;
  }
}

describe('dispatchDueTouchpoints', () => {
  let touchpoints: InMemoryTouchpoints;
  let workflows: RecordingWorkflows;
  const deps = (pacer: StartPacer = new CountingPacer()) => ({ touchpoints, workflows, shards: touchpoints.shards, pacer });
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
    expect(result).toMatchObject({ started: 2, skipped: 0, errors: 0, deferredByBudget: false });
    expect(workflows.started.map((s) => s.name).sort()).toEqual(['tp-a-g0', 'tp-b-g0']);
    expect(workflows.started[0]?.input).toEqual({ touchpointId: workflows.started[0]?.name.slice(0, -3), generation: 0 });
    expect((await touchpoints.get('tp-a'))?.status).toBe('DISPATCHED');
    expect((await touchpoints.get('tp-later'))?.status).toBe('PENDING');
  });

  it('does nothing on a second run in the same minute (the claim moved the items out of the due range)', async () => {
    // Prepare
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z'));
    await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());

    // Act
    const again = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());

    // Assess
    expect(again).toMatchObject({ started: 0, redispatched: 0, skipped: 0 });
    expect(workflows.started).toHaveLength(1);
  });

  it('starts no more than the pacer grants and leaves the rest PENDING for the next run, nothing failed', async () => {
    // Prepare
    for (let i = 0; i < 30; i += 1) await touchpoints.create(touchpoint(`tp-${i}`, '2026-11-23T09:00:00.000Z'));
    await touchpoints.cancel('tp-0', 'order refunded', '2026-11-23T09:30:00.000Z');

    // Act
    const first = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', { ...deps(new CountingPacer(10)), pageSize: 2 });
    const statuses = [...touchpoints.items.values()].map((t) => t.status);
    const rest = await dispatchDueTouchpoints('2026-11-23T10:01:00Z', deps());

    // Assess
    expect(first).toMatchObject({ started: 10, deferredByBudget: true, failed: 0 });
    expect(statuses.filter((s) => s === 'PENDING')).toHaveLength(19);
    expect(first.started + rest.started).toBe(29);
    expect(workflows.started.some((s) => s.name === 'tp-0-g0')).toBe(false);
  });

  it('retries a lost start when the lease runs out, with the next generation', async () => {
    // Prepare
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z'));
    workflows.failNext = Object.assign(new Error('connection reset'), { name: 'TimeoutError' });

    // Act
    const first = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());
    const beforeLease = await dispatchDueTouchpoints('2026-11-23T10:14:00Z', deps());
    const afterLease = await dispatchDueTouchpoints('2026-11-23T10:15:00Z', deps());

    // Assess
    expect(first).toMatchObject({ started: 0, errors: 1, failures: [{ touchpointId: 'tp-a', error: 'TimeoutError: connection reset' }] });
    expect(beforeLease.redispatched).toBe(0);
    expect(afterLease.redispatched).toBe(1);
    expect(workflows.started.map((s) => s.name)).toEqual(['tp-a-g1']);
    expect(await touchpoints.get('tp-a')).toMatchObject({ status: 'DISPATCHED', generation: 1, redispatches: 1 });
  });

  it(`records FAILED, with the reason, a touchpoint whose workflow ended without an outcome ${MAX_REDISPATCHES + 1} times`, async () => {
    // Prepare
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z'));
    await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());

    // Act: every lease runs out without an outcome
    const runs = [];
    for (let i = 1; i <= MAX_REDISPATCHES + 1; i += 1) runs.push(await dispatchDueTouchpoints(`2026-11-23T${10 + i}:00:00Z`, deps()));

    // Assess
    expect(runs.map((r) => r.redispatched)).toEqual([1, 1, 1, 0]);
    expect(runs.at(-1)?.failed).toBe(1);
    expect(await touchpoints.get('tp-a')).toMatchObject({ status: 'FAILED', reason: `the workflow ended without an outcome ${MAX_REDISPATCHES + 1} times` });
  });

  it('turns a SENDING touchpoint whose lease ran out into UNCONFIRMED, and sends it again once its deadline passed', async () => {
    // Prepare: claimed for sending at 10:00 (lease 10:10), then nothing more
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z'));
    await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());
    await touchpoints.claimForSending({ touchpointId: 'tp-a', generation: 0, at: '2026-11-23T10:00:05Z', attemptId: 'x#1', leaseUntil: '2026-11-23T10:10:05Z', sendPlan: {} });

    // Act
    const leaseOver = await dispatchDueTouchpoints('2026-11-23T10:11:00Z', deps());
    const unconfirmed = await touchpoints.get('tp-a');
    const beforeDeadline = await dispatchDueTouchpoints('2026-11-23T10:40:00Z', deps());
    const afterDeadline = await dispatchDueTouchpoints('2026-11-23T10:41:00Z', deps());

    // Assess
    expect(leaseOver.unconfirmed).toBe(1);
    expect(unconfirmed).toMatchObject({ status: 'UNCONFIRMED', generation: 0 });
    expect(beforeDeadline.resent).toBe(0);
    expect(afterDeadline.resent).toBe(1);
    expect(await touchpoints.get('tp-a')).toMatchObject({ status: 'DISPATCHED', generation: 1, unconfirmedResends: 1 });
    expect(workflows.started.map((s) => s.name)).toEqual(['tp-a-g0', 'tp-a-g1']);
  });

  it('never sends an UNCONFIRMED touchpoint a third time: FAILED with the reason instead', async () => {
    // Prepare
    await touchpoints.create(touchpoint('tp-a', '2026-11-23T09:00:00.000Z', { unconfirmedResends: 1, generation: 1 }));
    touchpoints.items.get('tp-a')!.status = 'DISPATCHED';
    await touchpoints.claimForSending({ touchpointId: 'tp-a', generation: 1, at: '2026-11-23T09:00:05Z', attemptId: 'x#2', leaseUntil: '2026-11-23T09:10:05Z', sendPlan: {} });
    await touchpoints.markUnconfirmed({ touchpointId: 'tp-a', generation: 1, at: '2026-11-23T09:00:06Z', until: '2026-11-23T09:30:06Z', reason: 'unconfirmed: ECONNRESET' });

    // Act
    const result = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', deps());

    // Assess
    expect(result).toMatchObject({ resent: 0, failed: 1 });
    expect((await touchpoints.get('tp-a'))?.reason).toMatch(/^no SES Send event confirmed the send/);
    expect(workflows.started).toEqual([]);
  });

  it('reports the backlog left after the run', async () => {
    // Prepare
    for (let i = 0; i < 5; i += 1) await touchpoints.create(touchpoint(`tp-${i}`, '2026-11-23T09:00:00.000Z'));
    const backlog = async () => ({ due: [...touchpoints.items.values()].filter((t) => t.status === 'PENDING').length, oldestDueAgeSeconds: 3600 });

    // Act
    const result = await dispatchDueTouchpoints('2026-11-23T10:00:00Z', { ...deps(new CountingPacer(2)), backlog });

    // Assess
    expect(result.backlog).toEqual({ due: 3, oldestDueAgeSeconds: 3600 });
  });
});

describe('sendRateBudget', () => {
  it('is the share of SES maximum send rate, at most the cap', () => {
    expect(sendRateBudget({ maxSendRate: 14, share: 0.9 })).toBeCloseTo(12.6);
    expect(sendRateBudget({ maxSendRate: 2000, share: 0.9, cap: 1000 })).toBe(1000);
  });

  it('refuses a share outside (0, 1] and a rate of 0', () => {
    expect(() => sendRateBudget({ maxSendRate: 14, share: 1.5 })).toThrow('the send-rate share must be in (0, 1], got 1.5');
    expect(() => sendRateBudget({ maxSendRate: 0, share: 0.5 })).toThrow('the SES maximum send rate must be above 0, got 0');
  });
});
