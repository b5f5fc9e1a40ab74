import { describe, expect, it } from 'vitest';
import { LocalClock, parseIsoDuration } from '../../local/clock.ts';
import { LocalScheduler } from '../../local/scheduler.ts';
import { firesEveryMinute, nextFireAfter, nextFireAtOrAfter, parseScheduleExpression } from '../../local/schedule-expression.ts';
import { WorkTracker } from '../../local/work-tracker.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('schedule expressions', () => {
  it('aligns rate(...) to the epoch', () => {
    const minute = parseScheduleExpression('rate(1 minute)');
    expect(iso(nextFireAtOrAfter(minute, at('2031-01-01T10:00:30Z')))).toBe('2031-01-01T10:01:00.000Z');
    expect(iso(nextFireAtOrAfter(minute, at('2031-01-01T10:01:00Z')))).toBe('2031-01-01T10:01:00.000Z');
    expect(iso(nextFireAfter(minute, at('2031-01-01T10:01:00Z')))).toBe('2031-01-01T10:02:00.000Z');
    expect(iso(nextFireAtOrAfter(parseScheduleExpression('rate(6 hours)'), at('2031-01-01T10:00:00Z')))).toBe('2031-01-01T12:00:00.000Z');
    expect(iso(nextFireAtOrAfter(parseScheduleExpression('rate(1 day)'), at('2031-01-01T10:00:00Z')))).toBe('2031-01-02T00:00:00.000Z');
  });

  it('evaluates cron(...) in UTC with fixed fields, *, ?, lists, ranges, steps and names', () => {
    const daily = parseScheduleExpression('cron(0 6 * * ? *)');
    expect(iso(nextFireAtOrAfter(daily, at('2031-01-01T06:00:00Z')))).toBe('2031-01-01T06:00:00.000Z');
    expect(iso(nextFireAfter(daily, at('2031-01-01T06:00:00Z')))).toBe('2031-01-02T06:00:00.000Z');

    const weekdays = parseScheduleExpression('cron(30 8,17 ? * MON-FRI *)');
    // 2031-01-03 is a Friday.
    expect(iso(nextFireAfter(weekdays, at('2031-01-03T17:30:00Z')))).toBe('2031-01-06T08:30:00.000Z');

    const quarterHours = parseScheduleExpression('cron(0/15 * * * ? *)');
    expect(iso(nextFireAtOrAfter(quarterHours, at('2031-01-01T10:16:00Z')))).toBe('2031-01-01T10:30:00.000Z');

    const firstOfMonth = parseScheduleExpression('cron(0 0 1 JAN,JUL ? 2031-2032)');
    expect(iso(nextFireAfter(firstOfMonth, at('2031-01-01T00:00:00Z')))).toBe('2031-07-01T00:00:00.000Z');
  });

  it('knows which schedules fire every minute', () => {
    expect(firesEveryMinute(parseScheduleExpression('rate(1 minute)'))).toBe(true);
    expect(firesEveryMinute(parseScheduleExpression('cron(* * * * ? *)'))).toBe(true);
    expect(firesEveryMinute(parseScheduleExpression('rate(5 minutes)'))).toBe(false);
    expect(firesEveryMinute(parseScheduleExpression('cron(0 6 * * ? *)'))).toBe(false);
  });

  it('rejects what it cannot evaluate, saying why', () => {
    expect(() => parseScheduleExpression('rate(0 minutes)')).toThrow(/n >= 1/);
    expect(() => parseScheduleExpression('rate(1 week)')).toThrow(/minute\|minutes/);
    expect(() => parseScheduleExpression('cron(0 6 * * *)')).toThrow(/6 fields/);
    expect(() => parseScheduleExpression('cron(0 6 1 * MON *)')).toThrow(/must be "\?"/);
    expect(() => parseScheduleExpression('cron(0 6 L * ? *)')).toThrow(/day-of-month value "L"/);
    expect(() => parseScheduleExpression('at(2031-01-01T00:00:00)')).toThrow(/rate\(\.\.\.\) or cron/);
  });
});

describe('the clock', () => {
  it('stands still in manual mode and only moves forward', () => {
    const clock = new LocalClock({ speed: 0, start: new Date('2031-01-01T00:00:00Z') });
    expect(clock.mode).toBe('manual');
    expect(clock.nowIso()).toBe('2031-01-01T00:00:00.000Z');
    clock.setTo(at('2031-01-02T00:00:00Z'));
    expect(clock.nowIso()).toBe('2031-01-02T00:00:00.000Z');
    expect(() => clock.setTo(at('2031-01-01T00:00:00Z'))).toThrow(/only moves forward/);
  });

  it('runs N times faster than the real clock in accelerated mode', () => {
    let real = 1_000_000;
    const clock = new LocalClock({ speed: 60, start: new Date('2031-01-01T00:00:00Z'), realNow: () => real });
    real += 1_000;
    expect(clock.nowIso()).toBe('2031-01-01T00:01:00.000Z');
    expect(clock.realDelayUntil(at('2031-01-01T00:02:00Z'))).toBe(1_000);
    clock.pause();
    real += 10_000;
    expect(clock.nowIso()).toBe('2031-01-01T00:01:00.000Z');
  });

  it('parses ISO-8601 durations', () => {
    expect(parseIsoDuration('P3D')).toBe(3 * 86_400_000);
    expect(parseIsoDuration('PT90M')).toBe(90 * 60_000);
    expect(() => parseIsoDuration('3 days')).toThrow(/not an ISO-8601 duration/);
  });
});

/** An in-memory outbox: the fake dispatcher "sends" every touchpoint due at the scheduled time. */
function simulation(options: { start: string; due: string[]; stuck?: string[]; rescheduleTo?: Record<string, string> }) {
  const clock = new LocalClock({ speed: 0, start: new Date(options.start) });
  const pending = new Map(options.due.map((d, i) => [`${d}#tp-${i}`, at(d)]));
  for (const [i, d] of (options.stuck ?? []).entries()) pending.set(`${d}#stuck-${i}`, at(d));
  const fired: string[] = [];
  const scheduler = new LocalScheduler({
    clock,
    tracker: new WorkTracker(),
    schedules: [
      { name: 'dispatch', description: '', expression: 'rate(1 minute)', target: 'dispatch-due' },
      { name: 'sweep', description: '', expression: 'cron(0 6 * * ? *)', target: 'dispatch-due' },
    ],
    earliestPendingDue: async (after) => {
      const keys = [...pending.keys()].filter((k) => after === undefined || k > after).sort();
      return keys[0] === undefined ? undefined : { dueKey: keys[0], dueMs: pending.get(keys[0])! };
    },
    fire: async (schedule, scheduledTime) => {
      expect(clock.nowIso()).toBe(scheduledTime);
      fired.push(`${schedule.name}@${scheduledTime}`);
      if (schedule.name === 'dispatch') {
        for (const [key, due] of [...pending]) {
          if (due > at(scheduledTime) || key.includes('#stuck')) continue;
          pending.delete(key);
          const next = options.rescheduleTo?.[key.split('#')[0]!];
          if (next) pending.set(`${next}#rescheduled`, at(next));
        }
      }
      return { ok: true };
    },
  });
  return { clock, scheduler, fired, pending };
}

describe('advancing the clock (jumps between interesting instants)', () => {
  it('stops at the minute boundary at/after each due time and at every fire time of non-minutely schedules', async () => {
    const { clock, scheduler, fired, pending } = simulation({
      start: '2031-01-01T10:00:30.000Z',
      due: ['2031-01-01T10:00:30.000Z', '2031-01-02T09:15:10.000Z', '2031-01-02T09:15:40.000Z', '2031-01-09T00:00:00.000Z'],
    });

    const summary = await scheduler.advance(parseIsoDuration('P2D'));

    expect(fired).toEqual([
      'dispatch@2031-01-01T10:01:00.000Z',
      'dispatch@2031-01-02T06:00:00.000Z',
      'sweep@2031-01-02T06:00:00.000Z',
      'dispatch@2031-01-02T09:16:00.000Z',
      'dispatch@2031-01-03T06:00:00.000Z',
      'sweep@2031-01-03T06:00:00.000Z',
    ]);
    expect(summary.stops.map((s) => s.at)).toHaveLength(4);
    expect(clock.nowIso()).toBe('2031-01-03T10:00:30.000Z');
    expect([...pending.keys()]).toEqual(['2031-01-09T00:00:00.000Z#tp-3']);
  });

  it('follows work created on the way (a reschedule to the next allowed time)', async () => {
    const { scheduler, fired } = simulation({
      start: '2031-01-01T00:00:00.000Z',
      due: ['2031-01-01T01:00:00.000Z'],
      rescheduleTo: { '2031-01-01T01:00:00.000Z': '2031-01-01T03:30:00.000Z' },
    });

    await scheduler.advance(parseIsoDuration('PT5H'));

    expect(fired).toEqual(['dispatch@2031-01-01T01:00:00.000Z', 'dispatch@2031-01-01T03:30:00.000Z']);
  });

  it('does not fire anything before a due time: advancing to just before it fires nothing', async () => {
    const { scheduler, fired } = simulation({ start: '2031-01-01T00:00:00.000Z', due: ['2031-01-01T00:10:00.000Z'] });

    await scheduler.advance(parseIsoDuration('PT9M59S'));
    expect(fired).toEqual([]);

    await scheduler.advance(parseIsoDuration('PT1S'));
    expect(fired).toEqual(['dispatch@2031-01-01T00:10:00.000Z']);
  });

  it('gives up on a touchpoint the dispatcher keeps leaving pending instead of firing every minute to the target', async () => {
    const { scheduler, fired, clock } = simulation({ start: '2031-01-01T00:00:00.000Z', due: [], stuck: ['2031-01-01T00:05:00.000Z'] });

    await scheduler.advance(parseIsoDuration('PT5H'));

    expect(fired).toEqual(['dispatch@2031-01-01T00:05:00.000Z', 'dispatch@2031-01-01T00:06:00.000Z', 'dispatch@2031-01-01T00:07:00.000Z']);
    expect(clock.nowIso()).toBe('2031-01-01T05:00:00.000Z');
  });
});

describe('ticking with an accelerated clock', () => {
  it('fires the schedules at each minute boundary the clock passes, with that boundary as scheduledTime', async () => {
    const clock = new LocalClock({ speed: 1_200 });
    const times: string[] = [];
    let done!: () => void;
    const threeTicks = new Promise<void>((resolve) => (done = resolve));
    const scheduler = new LocalScheduler({
      clock,
      tracker: new WorkTracker(),
      schedules: [{ name: 'dispatch', description: '', expression: 'rate(1 minute)', target: 'dispatch-due' }],
      earliestPendingDue: async () => undefined,
      fire: async (_s, scheduledTime) => {
        times.push(scheduledTime);
        if (times.length === 3) done();
        return { ok: true };
      },
    });

    scheduler.start();
    await threeTicks;
    await scheduler.stop();

    const [first, second, third] = times.map(Date.parse) as [number, number, number];
    expect(first % 60_000).toBe(0);
    expect([second - first, third - second]).toEqual([60_000, 60_000]);
  });
});
