/**
 * Renewal reminder times: pure calendar arithmetic over luxon, no clock of its own.
 *
 * A contract's `endDate` is its last day, a calendar date in the customer's zone. A reminder `d` days before it is
 * sent on the local date `endDate − d` (calendar days, so month ends, 29 February and DST changes need no special
 * case) at the campaign's local send time. `endsAt` is the instant that end date starts in the zone (local midnight),
 * the contracts' sort key in the byEnd index.
 *
 * The sweep reads that index by instant ranges, and the inverse is where zones get in the way: a reminder's day
 * starts `d × 24 h` before `endsAt` only when the zone's UTC offset is the same on both days. Across a DST change
 * it is off by the change (1 h almost everywhere, 30 min on Lord Howe, 2 h in Antarctica/Troll). The sweep therefore
 * tiles the key axis with *nominal* reminder day starts (`endsAt − d × 24 h`, exact in UTC, the same for every zone),
 * so every contract × offset falls in exactly one sweep window, and plans each reminder at its exact due instant far
 * enough ahead (the lookahead) that the nominal-vs-real difference never makes it late. See sweep-renewals.ts.
 */
import { DateTime, Duration } from 'luxon';

/** The local send time when a campaign names none. */
export const DEFAULT_SEND_AT = '09:00';

/**
 * The largest change of a zone's UTC offset between two days we plan around (Antarctica/Troll switches by 2 h).
 * Political offset changes larger than this only make a reminder late (it is then due at once), never lost.
 */
export const MAX_ZONE_SHIFT = Duration.fromObject({ hours: 2 });

/** The earliest key on the index: `listEndingBetween(EARLIEST_INSTANT, …)` reads from the start. */
export const EARLIEST_INSTANT = '0000-01-01T00:00:00.000Z';

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/** True for a real calendar date written YYYY-MM-DD (2028-02-29 yes, 2027-02-29 and 2027-04-31 no). */
export function isCalendarDate(value: string): boolean {
  return CALENDAR_DATE.test(value) && DateTime.fromISO(value, { zone: 'utc' }).isValid;
}

export function isClockTime(value: string): boolean {
  return CLOCK_TIME.test(value);
}

/** Normalises an instant to the one stored and compared form: UTC, milliseconds, `Z` (fixed width, sorts as text). */
export function utcInstant(at: DateTime | string): string {
  const dt = typeof at === 'string' ? DateTime.fromISO(at, { zone: 'utc' }) : at;
  const iso = dt.isValid ? dt.toUTC().toISO() : null;
  if (!iso) throw new RangeError(`not an ISO-8601 instant: ${String(at)}`);
  return iso;
}

/** `at` plus an ISO-8601 duration (negative to subtract), in UTC: the same number of hours whatever the zones. */
export function shiftInstant(at: string, duration: string | Duration, sign: 1 | -1 = 1): string {
  const d = typeof duration === 'string' ? Duration.fromISO(duration) : duration;
  if (!d.isValid) throw new RangeError(`"${String(duration)}" is not an ISO-8601 duration (try P1DT3H)`);
  const base = DateTime.fromISO(at, { zone: 'utc' });
  return utcInstant(sign === 1 ? base.plus(d) : base.minus(d));
}

function localDate(date: string, timeZone: string): DateTime {
  if (!isCalendarDate(date)) throw new RangeError(`"${date}" is not a calendar date (YYYY-MM-DD)`);
  const day = DateTime.fromISO(date, { zone: timeZone });
  if (!day.isValid) throw new RangeError(`"${timeZone}" is not an IANA time zone`);
  return day;
}

/** `date` ± whole calendar days, as YYYY-MM-DD (zone-free: a calendar day is a calendar day). */
export function addCalendarDays(date: string, days: number): string {
  return localDate(date, 'utc').plus({ days }).toISODate()!;
}

/**
 * The instant `date` starts in `timeZone`: local midnight, or the first instant of the day where midnight does not
 * exist (zones that switch to DST at 00:00, e.g. America/Santiago, start that day at 01:00).
 */
export function startOfLocalDay(date: string, timeZone: string): string {
  return utcInstant(localDate(date, timeZone).startOf('day'));
}

/** The local date of the reminder `offsetDays` before the contract's last day. */
export function reminderDate(endDate: string, offsetDays: number): string {
  return addCalendarDays(endDate, -offsetDays);
}

/**
 * When the reminder `offsetDays` before `endDate` is due: `sendAt` local time ("HH:mm") on the reminder date in
 * `timeZone`. A send time inside a DST gap moves forward by the gap (02:30 on a spring-forward night is 03:30).
 */
export function reminderDueAt(endDate: string, offsetDays: number, timeZone: string, sendAt = DEFAULT_SEND_AT): string {
  const match = CLOCK_TIME.exec(sendAt);
  if (!match) throw new RangeError(`send time "${sendAt}" is not a 24-hour local time "HH:mm"`);
  const day = localDate(reminderDate(endDate, offsetDays), timeZone);
  return utcInstant(day.set({ hour: Number(match[1]), minute: Number(match[2]), second: 0, millisecond: 0 }));
}

export interface ReminderTime {
  offsetDays: number;
  /** The local calendar date it is sent on. */
  date: string;
  dueAt: string;
}

/** Every reminder of a contract, earliest first. */
export function reminderSchedule(
  endDate: string,
  offsetsDays: readonly number[],
  timeZone: string,
  sendAt = DEFAULT_SEND_AT,
): ReminderTime[] {
  return [...new Set(offsetsDays)]
    .sort((a, b) => b - a)
    .map((offsetDays) => ({
      offsetDays,
      date: reminderDate(endDate, offsetDays),
      dueAt: reminderDueAt(endDate, offsetDays, timeZone, sendAt),
    }));
}

/** True once the contract's last day is over in its zone (`now` at or after the start of the next local day). */
export function hasEnded(endDate: string, timeZone: string, now: string): boolean {
  return utcInstant(now) >= startOfLocalDay(addCalendarDays(endDate, 1), timeZone);
}

/** A window of instants, `(after, upTo]`. */
export interface InstantWindow {
  after: string;
  upTo: string;
}

/**
 * The nominal start of the reminder day for a contract whose end date starts at `endsAt`: `endsAt − d × 24 h`.
 * Exact when the zone's offset is the same on both days, otherwise off by the offset change (see the header).
 */
export function nominalReminderDayStart(endsAt: string, offsetDays: number): string {
  return utcInstant(DateTime.fromMillis(Date.parse(endsAt) - offsetDays * DAY_MS, { zone: 'utc' }));
}

/**
 * The inverse the sweep needs: the `endsAt` range holding exactly the contracts whose nominal reminder day start for
 * `offsetDays` lies in `window`. A pure translation by `d × 24 h`, so consecutive windows give consecutive,
 * non-overlapping key ranges: each contract × offset is read by exactly one sweep.
 */
export function endsAtRangeFor(window: InstantWindow, offsetDays: number): InstantWindow {
  const shift = (at: string) => utcInstant(DateTime.fromMillis(Date.parse(at) + offsetDays * DAY_MS, { zone: 'utc' }));
  return { after: shift(window.after), upTo: shift(window.upTo) };
}

/**
 * Upper bound of `endsAt` for contracts that have surely ended at `now`: their last day started at least 24 h plus
 * the largest zone shift ago. Contracts between this and `now − 24 h` may have ended too; the next run takes them.
 */
export function endedCutoff(now: string): string {
  return shiftInstant(now, Duration.fromObject({ days: 1 }).plus(MAX_ZONE_SHIFT), -1);
}
