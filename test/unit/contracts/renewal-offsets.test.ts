import { describe, expect, it } from 'vitest';
import {
  addCalendarDays,
  endedCutoff,
  endsAtRangeFor,
  hasEnded,
  isCalendarDate,
  nominalReminderDayStart,
  reminderDate,
  reminderDueAt,
  reminderSchedule,
  shiftInstant,
  startOfLocalDay,
} from '../../../core/contracts/renewal-offsets.ts';

const HOUR_MS = 60 * 60 * 1000;

describe('reminder due instants', () => {
  it('puts the reminders of a Berlin contract ending on the DST change day at 09:00 local on each side of it', () => {
    // 2027-03-28 is the last Sunday of March: Berlin moves from UTC+1 to UTC+2 at 02:00 that morning.
    const schedule = reminderSchedule('2027-03-28', [7, 60, 0, 30], 'Europe/Berlin');

    expect(schedule).toEqual([
      { offsetDays: 60, date: '2027-01-27', dueAt: '2027-01-27T08:00:00.000Z' },
      { offsetDays: 30, date: '2027-02-26', dueAt: '2027-02-26T08:00:00.000Z' },
      { offsetDays: 7, date: '2027-03-21', dueAt: '2027-03-21T08:00:00.000Z' },
      { offsetDays: 0, date: '2027-03-28', dueAt: '2027-03-28T07:00:00.000Z' }, // 09:00 CEST
    ]);
    expect(startOfLocalDay('2027-03-28', 'Europe/Berlin')).toBe('2027-03-27T23:00:00.000Z'); // midnight CET
  });

  it('follows Los Angeles across its own DST change (2027-03-14), two weeks before Europe', () => {
    const dueAt = (offset: number) => reminderDueAt('2027-03-28', offset, 'America/Los_Angeles');

    expect(dueAt(30)).toBe('2027-02-26T17:00:00.000Z'); // 09:00 PST (UTC−8)
    expect(dueAt(15)).toBe('2027-03-13T17:00:00.000Z'); // the day before the change: still PST
    expect(dueAt(14)).toBe('2027-03-14T16:00:00.000Z'); // the change day: 09:00 is already PDT (UTC−7)
    expect(dueAt(7)).toBe('2027-03-21T16:00:00.000Z');
    expect(startOfLocalDay('2027-03-28', 'America/Los_Angeles')).toBe('2027-03-28T07:00:00.000Z');
  });

  it('moves a send time inside the DST gap forward by the gap', () => {
    // 02:30 does not exist in Los Angeles on 2027-03-14 (02:00 → 03:00).
    expect(reminderDueAt('2027-03-21', 7, 'America/Los_Angeles', '02:30')).toBe('2027-03-14T10:30:00.000Z'); // 03:30 PDT
  });

  it('starts a day at 01:00 where the zone skips midnight for DST', () => {
    // America/Santiago moves to DST at 24:00 on the first Saturday of September: 2027-09-05 has no 00:00.
    expect(startOfLocalDay('2027-09-05', 'America/Santiago')).toBe('2027-09-05T04:00:00.000Z'); // 01:00 −03:00
  });

  it('counts calendar days, so month ends come out right', () => {
    expect(reminderDate('2027-03-31', 30)).toBe('2027-03-01');
    expect(reminderDate('2027-05-31', 31)).toBe('2027-04-30');
    expect(reminderDate('2027-01-31', 31)).toBe('2026-12-31');
    expect(reminderDate('2027-03-01', 1)).toBe('2027-02-28');
    expect(reminderDate('2027-12-31', 0)).toBe('2027-12-31');
  });

  it('handles 29 February as an end date and as a reminder date', () => {
    expect(reminderDate('2028-02-29', 30)).toBe('2028-01-30');
    expect(reminderDate('2028-02-29', 365)).toBe('2027-03-01');
    expect(reminderDate('2028-02-29', 366)).toBe('2027-02-28');
    expect(reminderDate('2028-03-30', 30)).toBe('2028-02-29');
    expect(reminderDate('2028-03-07', 7)).toBe('2028-02-29');
    expect(reminderDate('2027-03-07', 7)).toBe('2027-02-28');
    expect(reminderDueAt('2028-03-30', 30, 'Asia/Tokyo')).toBe('2028-02-29T00:00:00.000Z'); // 09:00 JST
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
  });

  it('accepts only real calendar dates', () => {
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('2000-02-29')).toBe(true);
    expect(isCalendarDate('2027-02-29')).toBe(false);
    expect(isCalendarDate('2100-02-29')).toBe(false);
    expect(isCalendarDate('2027-04-31')).toBe(false);
    expect(isCalendarDate('2027-4-30')).toBe(false);
    expect(isCalendarDate('2027-04-30T00:00:00Z')).toBe(false);
  });

  it('rejects a send time that is not HH:mm', () => {
    expect(() => reminderDueAt('2027-03-28', 7, 'Europe/Berlin', '9am')).toThrow('send time "9am" is not a 24-hour local time "HH:mm"');
  });
});

describe('hasEnded', () => {
  it('is false during the last local day and true from the next local midnight', () => {
    // The last day of a Berlin contract ending 2027-03-28 runs until 2027-03-29 00:00 CEST = 2027-03-28T22:00Z.
    expect(hasEnded('2027-03-28', 'Europe/Berlin', '2027-03-28T21:59:59.999Z')).toBe(false);
    expect(hasEnded('2027-03-28', 'Europe/Berlin', '2027-03-28T22:00:00.000Z')).toBe(true);
  });

  it('never calls a contract ended before its last day is over, whatever the zone', () => {
    const zones = ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Antarctica/Troll', 'Australia/Lord_Howe', 'America/Santiago'];
    for (const zone of zones) {
      for (let day = 0; day < 400; day += 3) {
        const endDate = addCalendarDays('2027-01-01', day);
        // The latest `now` at which the contract's endsAt is at the ended cutoff: it must have ended by then.
        const endsAt = startOfLocalDay(endDate, zone);
        const now = shiftInstant(endsAt, 'P1DT2H');
        expect(endedCutoff(now)).toBe(endsAt);
        expect(hasEnded(endDate, zone, now), `${zone} ${endDate}`).toBe(true);
      }
    }
  });
});

describe('the sweep window inverse', () => {
  it('shifts the window by whole UTC days per offset', () => {
    const window = { after: '2027-03-01T00:05:00.000Z', upTo: '2027-03-02T00:05:00.000Z' };

    expect(endsAtRangeFor(window, 30)).toEqual({ after: '2027-03-31T00:05:00.000Z', upTo: '2027-04-01T00:05:00.000Z' });
    expect(endsAtRangeFor(window, 0)).toEqual(window);
  });

  it('gives the nominal reminder day start, off by the DST change only when one falls between the two days', () => {
    const endsAt = startOfLocalDay('2027-03-28', 'America/Los_Angeles');

    // Same offset on both days (both PDT): exact.
    expect(nominalReminderDayStart(endsAt, 7)).toBe(startOfLocalDay('2027-03-21', 'America/Los_Angeles'));
    // PST on the reminder day, PDT on the end day: the real day starts one hour after the nominal one.
    const nominal = Date.parse(nominalReminderDayStart(endsAt, 30));
    expect(Date.parse(startOfLocalDay('2027-02-26', 'America/Los_Angeles')) - nominal).toBe(HOUR_MS);
  });

  /**
   * The property the sweep relies on. Daily sweeps with the default lookahead (27 h), at several times of day so
   * window edges fall next to zones' midnights: every contract × offset is in exactly one sweep's key range, and that
   * sweep runs before the reminder is due, in every zone (2 h and 30 min DST shifts, +14:00, −11:00, a zone that
   * skips midnight) and at any send time.
   */
  it('tiles the key axis: each contract × offset is read by exactly one daily sweep, before it is due', () => {
    const zones = [
      'Europe/Berlin',
      'America/Los_Angeles',
      'Asia/Tokyo',
      'Asia/Kathmandu',
      'Australia/Lord_Howe',
      'Antarctica/Troll',
      'Pacific/Chatham',
      'Pacific/Kiritimati',
      'Pacific/Pago_Pago',
      'America/Santiago',
    ];
    const offsets = [60, 30, 7, 1, 0];
    const lookahead = 'P1DT3H';
    let checked = 0;
    for (const phase of ['00:05', '20:58', '21:59', '22:30']) {
      const sweeps = Array.from({ length: 500 }, (_, day) => shiftInstant(`2026-10-01T${phase}:00.000Z`, `P${day}D`));
      const rangesByOffset = new Map(
        offsets.map((offset) => [
          offset,
          sweeps.slice(1).map((now, k) => ({ now, ...endsAtRangeFor({ after: shiftInstant(sweeps[k]!, lookahead), upTo: shiftInstant(now, lookahead) }, offset) })),
        ]),
      );
      for (const zone of zones) {
        for (let day = 0; day < 365; day += 5) {
          const endDate = addCalendarDays('2027-01-02', day);
          const endsAt = startOfLocalDay(endDate, zone);
          for (const offset of offsets) {
            const readBy = rangesByOffset.get(offset)!.filter((range) => endsAt > range.after && endsAt <= range.upTo).map((range) => range.now);
            expect(readBy, `${zone} ${endDate} −${offset} (sweeps at ${phase})`).toHaveLength(1);
            for (const sendAt of ['00:00', '09:00', '23:59']) {
              expect(reminderDueAt(endDate, offset, zone, sendAt) > readBy[0]!, `${zone} ${endDate} −${offset} ${sendAt} (sweeps at ${phase})`).toBe(true);
            }
            checked += 1;
          }
        }
      }
    }
    expect(checked).toBe(4 * zones.length * 73 * offsets.length);
  });
});
