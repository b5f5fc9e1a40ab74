/**
 * Operating the outbox with the in-memory port: listing touchpoints by status (order, pages, cursors), re-driving FAILED
 * and UNCONFIRMED ones (at least once, never a silent duplicate send), and measuring the send backlog.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { shardOf } from '../../../core/touchpoint-id.ts';
import {
  IN_FLIGHT_HORIZON,
  listTouchpoints,
  measureBacklog,
  PageCollector,
  redriveTouchpoints,
  type RedriveWrite,
  type TouchpointRow,
} from '../../../core/use-cases/operate-touchpoints.ts';
import { InMemoryTouchpointOperations, InMemoryTouchpoints, pendingTouchpoint } from '../fakes.ts';

const NOW = '2026-11-23T12:00:00.000Z';
const LEASE = '2026-11-23T12:15:00.000Z';

let touchpoints: InMemoryTouchpoints;
let operations: InMemoryTouchpointOperations;
beforeEach(() => {
  touchpoints = new InMemoryTouchpoints(4);
  operations = new InMemoryTouchpointOperations(touchpoints);
});

/** A touchpoint taken through the repository's own transitions to FAILED at `at` (dispatch → record FAILED). */
async function failed(id: string, at: string, overrides: Partial<Touchpoint> = {}, reason = 'SES rejected the message: MessageRejected') {
  const t = pendingTouchpoint(id, overrides);
  await touchpoints.create(t);
  await touchpoints.claimForDispatch({ touchpointId: id, generation: t.generation, from: 'PENDING', at, leaseUntil: LEASE });
  await touchpoints.complete({ touchpointId: id, generation: t.generation, at, status: 'FAILED', reason });
}

/** SENDING whose answer was lost: UNCONFIRMED, its deadline in the due index. */
async function unconfirmed(id: string, until = '2026-11-23T12:30:00.000Z') {
  await touchpoints.create(pendingTouchpoint(id));
  await touchpoints.claimForDispatch({ touchpointId: id, generation: 0, from: 'PENDING', at: NOW, leaseUntil: LEASE });
  await touchpoints.claimForSending({ touchpointId: id, generation: 0, at: NOW, attemptId: 'exec#a', leaseUntil: LEASE, sendPlan: {} });
  await touchpoints.markUnconfirmed({ touchpointId: id, generation: 0, at: NOW, until, reason: 'unconfirmed: ECONNRESET' });
}

/** Sent once unconfirmed, sent again (unconfirmedResends 1, generation 1), then FAILED: the first may have gone. */
async function failedAfterUnconfirmedSend(id: string) {
  await unconfirmed(id);
  await touchpoints.claimForDispatch({ touchpointId: id, generation: 0, from: 'UNCONFIRMED', at: NOW, leaseUntil: LEASE, redispatch: 'unconfirmedResends' });
  await touchpoints.complete({ touchpointId: id, generation: 1, at: NOW, status: 'FAILED', reason: 'workflow ended without an outcome 3 times' });
}

const ids = (rows: readonly TouchpointRow[]) => rows.map((r) => r.touchpointId);

describe('listTouchpoints', () => {
  it('lists only the touchpoints with the status, newest transition first by default, without customer data', async () => {
    // arrange
    await failed('tp-old', '2026-11-21T08:00:00.000Z');
    await failed('tp-new', '2026-11-22T08:00:00.000Z', {}, 'budget spent');
    await failed('tp-mid', '2026-11-21T20:00:00.000Z');
    await touchpoints.create(pendingTouchpoint('tp-pending'));

    // act
    const page = await listTouchpoints({ status: 'FAILED' }, { operations });

    // assert
    expect(page.status).toBe('FAILED');
    expect(page.order).toBe('newest');
    expect(ids(page.items)).toEqual(['tp-new', 'tp-mid', 'tp-old']);
    expect(page.next).toBeUndefined();
    expect(page.items[0]).toEqual({
      touchpointId: 'tp-new',
      kind: 'check-in',
      campaignId: 'post-purchase-check-in',
      status: 'FAILED',
      dueAt: '2026-11-23T10:00:00.000Z',
      generation: 0,
      updatedAt: '2026-11-22T08:00:00.000Z',
      reason: 'budget spent',
    });
  });

  it('shows a reason without the addresses an SES error message may echo', async () => {
    // arrange
    await failed('tp-a', NOW, {}, 'MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: ada.l+x@mail.example.org, <bob@example.com>.');

    // act
    const page = await listTouchpoints({ status: 'FAILED' }, { operations });

    // assert
    expect(page.items[0]!.reason).toBe('MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: <address>, <<address>>.');
  });

  it('orders by due time, earliest first, with --order due', async () => {
    // arrange
    await failed('tp-b', '2026-11-22T08:00:00.000Z', { dueAt: '2026-11-20T10:00:00.000Z' });
    await failed('tp-c', '2026-11-21T08:00:00.000Z', { dueAt: '2026-11-22T10:00:00.000Z' });
    await failed('tp-a', '2026-11-23T08:00:00.000Z', { dueAt: '2026-11-21T10:00:00.000Z' });

    // act
    const page = await listTouchpoints({ status: 'FAILED', order: 'due' }, { operations });

    // assert
    expect(ids(page.items)).toEqual(['tp-b', 'tp-a', 'tp-c']);
  });

  it('pages through every touchpoint exactly once with the cursor of the previous page, ties broken by id', async () => {
    // arrange: five at the same instant, two later
    for (const id of ['tp-e', 'tp-a', 'tp-d', 'tp-b', 'tp-c']) await failed(id, '2026-11-22T08:00:00.000Z');
    await failed('tp-y', '2026-11-22T09:00:00.000Z');
    await failed('tp-z', '2026-11-22T10:00:00.000Z');

    // act
    const pages = [await listTouchpoints({ status: 'FAILED', limit: 3 }, { operations })];
    while (pages.at(-1)!.next !== undefined) pages.push(await listTouchpoints({ status: 'FAILED', limit: 3, after: pages.at(-1)!.next! }, { operations }));

    // assert
    expect(pages.map((p) => ids(p.items))).toEqual([['tp-z', 'tp-y', 'tp-a'], ['tp-b', 'tp-c', 'tp-d'], ['tp-e']]);
    expect(pages[0]!.next).toBe('2026-11-22T08:00:00.000Z|tp-a');
    expect(pages[2]!.next).toBeUndefined();
  });

  it('has no next page when the last page is exactly full', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    await failed('tp-b', '2026-11-22T09:00:00.000Z');

    // act
    const page = await listTouchpoints({ status: 'FAILED', limit: 2 }, { operations });

    // assert
    expect(ids(page.items)).toEqual(['tp-b', 'tp-a']);
    expect(page).not.toHaveProperty('next');
  });

  it.each([
    [{ status: 'BROKEN' }, /unknown status BROKEN: one of PENDING, DISPATCHED/],
    [{ status: 'FAILED', order: 'oldest' }, /unknown order oldest: one of newest, due/],
    [{ status: 'FAILED', limit: 0 }, /the limit must be a whole number from 1 to 1000 \(got 0\)/],
    [{ status: 'FAILED', limit: 1001 }, /from 1 to 1000 \(got 1001\)/],
    [{ status: 'FAILED', limit: 2.5 }, /from 1 to 1000 \(got 2.5\)/],
    [{ status: 'FAILED', after: 'tp-a' }, /not a list cursor: tp-a/],
    [{ status: 'FAILED', after: 'yesterday|tp-a' }, /not a list cursor/],
    [{ status: 'FAILED', after: '2026-13-45T00:00:00Z|tp-a' }, /not a list cursor/],
  ])('rejects %j with an InvalidInputError before reading anything', async (request, message) => {
    // arrange
    let reads = 0;
    const counting = Object.assign(Object.create(operations) as InMemoryTouchpointOperations, {
      listByStatus: async () => {
        reads += 1;
        return { items: [] };
      },
    });

    // act
    const listing = listTouchpoints(request as Parameters<typeof listTouchpoints>[0], { operations: counting });

    // assert
    await expect(listing).rejects.toThrow(InvalidInputError);
    await expect(listing).rejects.toThrow(message);
    expect(reads).toBe(0);
  });
});

describe('PageCollector', () => {
  it('keeps the right page from rows arriving in any order while holding a bounded number of them', () => {
    // arrange: 200 rows in a scrambled order
    const row = (n: number): TouchpointRow => ({
      touchpointId: `tp-${String(n).padStart(3, '0')}`,
      kind: 'check-in',
      campaignId: 'c',
      status: 'FAILED',
      dueAt: NOW,
      generation: 0,
      updatedAt: new Date(Date.parse(NOW) + n * 1000).toISOString(),
    });
    const scrambled = Array.from({ length: 200 }, (_, i) => (i * 77) % 200);
    const collector = new PageCollector({ order: 'newest', limit: 3, after: `${row(150).updatedAt}|${row(150).touchpointId}` });

    const held = () => (collector as unknown as { rows: unknown[] }).rows.length;
    let mostHeld = 0;

    // act
    for (const n of scrambled) {
      collector.add(row(n));
      mostHeld = Math.max(mostHeld, held());
    }
    const page = collector.page();

    // assert
    expect(ids(page.items)).toEqual(['tp-149', 'tp-148', 'tp-147']);
    expect(page.next).toBe(`${row(147).updatedAt}|tp-147`);
    expect(mostHeld).toBeLessThanOrEqual(2 * 3 + 1);
  });
});

describe('redriveTouchpoints', () => {
  it('puts a FAILED touchpoint back as PENDING, due now, in the due index, with generation + 1 and its reason and budgets cleared', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    touchpoints.items.get('tp-a')!.sendDeferrals = 2;

    // act
    const report = await redriveTouchpoints({ touchpointIds: ['tp-a'], at: '2026-11-23T12:00:00Z' }, { operations });

    // assert
    expect(report).toEqual({
      at: NOW,
      dryRun: false,
      redriven: 1,
      notRedriven: 0,
      results: [{ touchpointId: 'tp-a', outcome: 'redriven', status: 'FAILED', dueAt: NOW, message: `re-driven: FAILED → PENDING, due ${NOW} (re-drive 1)` }],
    });
    const stored = touchpoints.items.get('tp-a')!;
    expect(stored).toMatchObject({ status: 'PENDING', dueAt: NOW, generation: 1, updatedAt: NOW, redrives: 1, redrivenAt: NOW });
    expect(stored).not.toHaveProperty('reason');
    expect(stored).not.toHaveProperty('sendDeferrals');
    const due = await touchpoints.listDue(shardOf('tp-a', 4), NOW, 10);
    expect(due).toEqual([{ touchpointId: 'tp-a', kind: 'check-in', generation: 1, dueAt: NOW, status: 'PENDING' }]);
    expect(operations.redrives).toEqual([{ touchpointId: 'tp-a', from: 'FAILED', generation: 0, at: NOW }]);
  });

  it('writes nothing the second time and says the touchpoint was already re-driven', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    await redriveTouchpoints({ touchpointIds: ['tp-a'], at: NOW }, { operations });
    const before = structuredClone(touchpoints.items.get('tp-a'));

    // act
    const again = await redriveTouchpoints({ touchpointIds: ['tp-a'], at: '2026-11-23T12:05:00.000Z' }, { operations });

    // assert
    expect(again.results).toEqual([
      { touchpointId: 'tp-a', outcome: 'already-redriven', status: 'PENDING', message: `not re-driven: already re-driven at ${NOW} (now PENDING)` },
    ]);
    expect(again).toMatchObject({ redriven: 0, notRedriven: 1 });
    expect(operations.redrives).toHaveLength(1);
    expect(touchpoints.items.get('tp-a')).toEqual(before);
  });

  it('re-drives a touchpoint that failed again after a re-drive, counting the re-drives', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    await redriveTouchpoints({ touchpointIds: ['tp-a'], at: NOW }, { operations });
    await touchpoints.claimForDispatch({ touchpointId: 'tp-a', generation: 1, from: 'PENDING', at: NOW, leaseUntil: LEASE });
    await touchpoints.complete({ touchpointId: 'tp-a', generation: 1, at: NOW, status: 'FAILED', reason: 'rejected again' });

    // act
    const report = await redriveTouchpoints({ touchpointIds: ['tp-a'], at: '2026-11-23T13:00:00.000Z' }, { operations });

    // assert
    expect(report.results[0]).toMatchObject({ outcome: 'redriven', message: 're-driven: FAILED → PENDING, due 2026-11-23T13:00:00.000Z (re-drive 2)' });
    expect(touchpoints.items.get('tp-a')).toMatchObject({ status: 'PENDING', generation: 2, redrives: 2, redrivenAt: '2026-11-23T13:00:00.000Z' });
  });

  it('re-drives an UNCONFIRMED touchpoint only with acceptDuplicate', async () => {
    // arrange
    await unconfirmed('tp-u');
    const before = structuredClone(touchpoints.items.get('tp-u'));

    // act
    const refused = await redriveTouchpoints({ touchpointIds: ['tp-u'], at: NOW }, { operations });
    const unchanged = structuredClone(touchpoints.items.get('tp-u'));
    const accepted = await redriveTouchpoints({ touchpointIds: ['tp-u'], at: NOW, acceptDuplicate: true }, { operations });

    // assert
    expect(refused.results[0]).toMatchObject({ outcome: 'duplicate-risk', status: 'UNCONFIRMED' });
    expect(refused.results[0]!.message).toMatch(/^not re-driven: UNCONFIRMED: SES may have accepted the email .* may send the email twice/);
    expect(unchanged).toEqual(before);
    expect(accepted.results[0]).toMatchObject({ outcome: 'redriven', status: 'UNCONFIRMED' });
    expect(operations.redrives).toEqual([{ touchpointId: 'tp-u', from: 'UNCONFIRMED', generation: 0, at: NOW, acceptDuplicate: true }]);
    expect(touchpoints.items.get('tp-u')).toMatchObject({ status: 'PENDING', generation: 1, dueKey: `${NOW}#tp-u` });
    expect(touchpoints.items.get('tp-u')).not.toHaveProperty('attemptId');
  });

  it('re-drives a FAILED touchpoint that had an unconfirmed send only with acceptDuplicate, and resets its re-send budget', async () => {
    // arrange
    await failedAfterUnconfirmedSend('tp-f');
    await touchpoints.create(pendingTouchpoint('tp-plain', { status: 'FAILED', reason: 'rejected' }));

    // act
    const refused = await redriveTouchpoints({ touchpointIds: ['tp-f', 'tp-plain'], at: NOW }, { operations });
    const refusedWrites = operations.redrives.length;
    const accepted = await redriveTouchpoints({ touchpointIds: ['tp-f'], at: NOW, acceptDuplicate: true }, { operations });

    // assert
    expect(refused.results.map((r) => [r.touchpointId, r.outcome])).toEqual([
      ['tp-f', 'duplicate-risk'],
      ['tp-plain', 'redriven'],
    ]);
    expect(refused.results[0]!.message).toMatch(/FAILED after an unconfirmed send: SES may have delivered it/);
    expect(refused).toMatchObject({ redriven: 1, notRedriven: 1 });
    expect(refusedWrites).toBe(1);
    expect(accepted.results[0]).toMatchObject({ outcome: 'redriven', status: 'FAILED' });
    expect(touchpoints.items.get('tp-f')).toMatchObject({ status: 'PENDING', generation: 2 });
    expect(touchpoints.items.get('tp-f')).not.toHaveProperty('unconfirmedResends');
  });

  it.each([
    [['tp-a', 'tp bad'], '"tp bad"'],
    [['tp-a', ''], '""'],
    [['tp-a', 'x'.repeat(73)], `"${'x'.repeat(73)}"`],
    [['tp-a', 'tp-a#1', 'tp/2'], '"tp-a#1", "tp/2"'],
  ])('rejects the whole request %j when an id is malformed, reading and writing nothing', async (requested, named) => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    const before = structuredClone(touchpoints.items.get('tp-a'));
    let reads = 0;
    const counting = Object.assign(Object.create(operations) as InMemoryTouchpointOperations, {
      get: async (id: string) => {
        reads += 1;
        return operations.get(id);
      },
    });

    // act
    const redrive = redriveTouchpoints({ touchpointIds: requested, at: NOW }, { operations: counting });

    // assert
    await expect(redrive).rejects.toThrow(InvalidInputError);
    await expect(redrive).rejects.toThrow(`not a touchpoint id (letters, digits, - and _, at most 72): ${named}; nothing was re-driven`);
    expect(reads).toBe(0);
    expect(operations.redrives).toEqual([]);
    expect(touchpoints.items.get('tp-a')).toEqual(before);
  });

  it('rejects an empty request', async () => {
    // act
    const redrive = redriveTouchpoints({ touchpointIds: [], at: NOW }, { operations });

    // assert
    await expect(redrive).rejects.toThrow(new InvalidInputError('no touchpoint ids to re-drive'));
  });

  it('writes nothing on a dry run and says what it would do', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    await unconfirmed('tp-u');
    const before = structuredClone([...touchpoints.items.entries()]);

    // act
    const report = await redriveTouchpoints({ touchpointIds: ['tp-a', 'tp-u'], at: NOW, dryRun: true }, { operations });

    // assert
    expect(report).toMatchObject({ dryRun: true, redriven: 1, notRedriven: 1 });
    expect(report.results.map((r) => [r.outcome, r.message.split(':')[0]])).toEqual([
      ['would-redrive', 'would re-drive'],
      ['duplicate-risk', 'not re-driven'],
    ]);
    expect(report.results[0]).toMatchObject({ message: `would re-drive: FAILED → PENDING, due ${NOW}`, dueAt: NOW });
    expect(operations.redrives).toEqual([]);
    expect([...touchpoints.items.entries()]).toEqual(before);
  });

  it('reports not-found and not-redrivable touchpoints and handles an id given twice once', async () => {
    // arrange
    await failed('tp-a', '2026-11-22T08:00:00.000Z');
    await touchpoints.create(pendingTouchpoint('tp-sent', { status: 'SENT' }));

    // act
    const report = await redriveTouchpoints({ touchpointIds: ['tp-a', 'tp-missing', 'tp-sent', 'tp-a'], at: NOW }, { operations });

    // assert
    expect(report.results).toEqual([
      expect.objectContaining({ touchpointId: 'tp-a', outcome: 'redriven' }),
      { touchpointId: 'tp-missing', outcome: 'not-found', message: 'not re-driven: no such touchpoint' },
      { touchpointId: 'tp-sent', outcome: 'not-redrivable', status: 'SENT', message: 'not re-driven: SENT' },
    ]);
    expect(report).toMatchObject({ redriven: 1, notRedriven: 2 });
    expect(operations.redrives).toHaveLength(1);
  });

  /** A port whose first write is preceded by `meanwhile` (what another writer did after the use case's read). */
  function racing(meanwhile: () => Promise<void>): InMemoryTouchpointOperations {
    let raced = false;
    return Object.assign(Object.create(operations) as InMemoryTouchpointOperations, {
      redrive: async (write: RedriveWrite) => {
        if (!raced) {
          raced = true;
          await meanwhile();
        }
        return operations.redrive(write);
      },
    });
  }

  it('writes nothing and says "changed" when the touchpoint moved to another generation between the read and the write', async () => {
    // arrange: an UNCONFIRMED one that dispatch re-sends and that fails again meanwhile (generation 1)
    await unconfirmed('tp-u');
    const port = racing(async () => {
      await touchpoints.claimForDispatch({ touchpointId: 'tp-u', generation: 0, from: 'UNCONFIRMED', at: NOW, leaseUntil: LEASE, redispatch: 'unconfirmedResends' });
      await touchpoints.complete({ touchpointId: 'tp-u', generation: 1, at: NOW, status: 'FAILED', reason: 'rejected' });
    });

    // act
    const report = await redriveTouchpoints({ touchpointIds: ['tp-u'], at: NOW, acceptDuplicate: true }, { operations: port });

    // assert
    expect(report.results).toEqual([
      { touchpointId: 'tp-u', outcome: 'changed', status: 'FAILED', message: 'not re-driven: it changed meanwhile (now FAILED, generation 1); run again' },
    ]);
    expect(report).toMatchObject({ redriven: 0, notRedriven: 1 });
    expect(operations.redrives).toEqual([]);
    expect(touchpoints.items.get('tp-u')).toMatchObject({ status: 'FAILED', generation: 1 });
  });

  it('writes nothing when SES settled the UNCONFIRMED send as SENT between the read and the write', async () => {
    // arrange
    await unconfirmed('tp-u');
    const port = racing(async () => {
      await touchpoints.complete({ touchpointId: 'tp-u', generation: 0, at: NOW, status: 'SENT', messageId: 'ses-1' });
    });

    // act
    const report = await redriveTouchpoints({ touchpointIds: ['tp-u'], at: NOW, acceptDuplicate: true }, { operations: port });

    // assert
    expect(report.results).toEqual([{ touchpointId: 'tp-u', outcome: 'not-redrivable', status: 'SENT', message: 'not re-driven: SENT' }]);
    expect(touchpoints.items.get('tp-u')).toMatchObject({ status: 'SENT', generation: 0 });
  });
});

describe('measureBacklog', () => {
  it('counts the PENDING touchpoints due by now, the oldest and its age, and those in flight or unconfirmed, per shard', async () => {
    // arrange
    await touchpoints.create(pendingTouchpoint('tp-oldest', { dueAt: '2026-11-23T11:30:00.000Z' }));
    await touchpoints.create(pendingTouchpoint('tp-due', { dueAt: '2026-11-23T11:59:00.000Z' }));
    await touchpoints.create(pendingTouchpoint('tp-now', { dueAt: NOW }));
    await touchpoints.create(pendingTouchpoint('tp-later', { dueAt: '2026-11-23T12:00:01.000Z' }));
    await touchpoints.create(pendingTouchpoint('tp-dispatched', { dueAt: '2026-11-23T11:00:00.000Z' }));
    await touchpoints.claimForDispatch({ touchpointId: 'tp-dispatched', generation: 0, from: 'PENDING', at: NOW, leaseUntil: LEASE });
    await touchpoints.create(pendingTouchpoint('tp-sending'));
    await touchpoints.claimForDispatch({ touchpointId: 'tp-sending', generation: 0, from: 'PENDING', at: NOW, leaseUntil: LEASE });
    await touchpoints.claimForSending({ touchpointId: 'tp-sending', generation: 0, at: NOW, attemptId: 'x#1', leaseUntil: '2026-11-23T12:10:00.000Z', sendPlan: {} });
    await unconfirmed('tp-unconfirmed');
    await failed('tp-failed', '2026-11-22T08:00:00.000Z');
    await touchpoints.create(pendingTouchpoint('tp-sent', { status: 'SENT' }));

    // act
    const backlog = await measureBacklog(NOW, { operations });

    // assert
    expect(backlog).toMatchObject({
      at: NOW,
      due: 3,
      oldestDueAt: '2026-11-23T11:30:00.000Z',
      oldestDueAgeSeconds: 1800,
      inFlight: 2,
      unconfirmed: 1,
      truncated: false,
    });
    expect(backlog.byShard.map((s) => s.shard)).toEqual([0, 1, 2, 3]);
    expect(backlog.byShard.reduce((sum, s) => sum + s.due, 0)).toBe(3);
    const oldestShard = backlog.byShard[shardOf('tp-oldest', 4)]!;
    expect(oldestShard.oldestDueAt).toBe('2026-11-23T11:30:00.000Z');
    expect(backlog.byShard.every((s) => s.truncated === undefined)).toBe(true);
  });

  it('says 0 seconds and no oldest when nothing is due', async () => {
    // arrange
    await touchpoints.create(pendingTouchpoint('tp-later', { dueAt: '2026-11-24T00:00:00.000Z' }));

    // act
    const backlog = await measureBacklog(NOW, { operations });

    // assert
    expect(backlog).toMatchObject({ due: 0, oldestDueAgeSeconds: 0, inFlight: 0, unconfirmed: 0, truncated: false });
    expect(backlog).not.toHaveProperty('oldestDueAt');
  });

  it('reads only the due index up to now + the in-flight horizon, and every page of it', async () => {
    // arrange: 1,500 due on one shard (two pages of 1,000)
    touchpoints = new InMemoryTouchpoints(1);
    operations = new InMemoryTouchpointOperations(touchpoints);
    for (let i = 0; i < 1500; i += 1) {
      await touchpoints.create(pendingTouchpoint(`tp-${i}`, { dueAt: new Date(Date.parse(NOW) - (i + 1) * 1000).toISOString() }));
    }

    // act
    const backlog = await measureBacklog(NOW, { operations });

    // assert
    expect(backlog).toMatchObject({ due: 1500, oldestDueAt: '2026-11-23T11:35:00.000Z', oldestDueAgeSeconds: 1500, truncated: false });
    expect(IN_FLIGHT_HORIZON).toBe('PT2H');
    expect(touchpoints.dueQueries.map((q) => [q.shard, q.until, q.limit, q.startKey !== undefined])).toEqual([
      [0, '2026-11-23T14:00:00.000Z', 1000, false],
      [0, '2026-11-23T14:00:00.000Z', 1000, true],
    ]);
  });

  it('stops at maxRowsPerShard and says the counts are lower bounds', async () => {
    // arrange
    touchpoints = new InMemoryTouchpoints(1);
    operations = new InMemoryTouchpointOperations(touchpoints);
    for (let i = 0; i < 5; i += 1) await touchpoints.create(pendingTouchpoint(`tp-${i}`, { dueAt: `2026-11-23T11:0${i}:00.000Z` }));

    // act
    const backlog = await measureBacklog(NOW, { operations, maxRowsPerShard: 3 });

    // assert
    expect(backlog).toMatchObject({ due: 3, oldestDueAt: '2026-11-23T11:00:00.000Z', truncated: true });
    expect(backlog.byShard).toEqual([{ shard: 0, due: 3, oldestDueAt: '2026-11-23T11:00:00.000Z', inFlight: 0, unconfirmed: 0, truncated: true }]);
    expect(touchpoints.dueQueries).toEqual([{ shard: 0, until: '2026-11-23T14:00:00.000Z', limit: 3 }]);
  });
});
