/** Time rules: delays, quiet hours in the recipient's zone. Pure functions over luxon, no clock of their own. */
import { DateTime, Duration } from 'luxon';

export function isIsoDuration(value: string): boolean {
  const duration = Duration.fromISO(value);
  return duration.isValid && duration.toMillis() >= 0;
}

/** `at + duration`, evaluated in `timeZone` so that P1D means "same local time tomorrow" across DST changes. */
export function addDuration(atIso: string, isoDuration: string, timeZone = 'UTC'): string {
  const duration = Duration.fromISO(isoDuration);
  if (!duration.isValid) throw new RangeError(`"${isoDuration}" is not an ISO-8601 duration (try P3D)`);
  return toUtcIso(DateTime.fromISO(atIso, { zone: timeZone }).plus(duration));
}

export function subtractDuration(atIso: string, isoDuration: string): string {
  return toUtcIso(DateTime.fromISO(atIso, { zone: 'utc' }).minus(Duration.fromISO(isoDuration)));
}

export interface QuietHours {
  /** Local wall-clock time "HH:mm" when quiet hours begin. */
  start: string;
  /** Local wall-clock time "HH:mm" when sending may resume. */
  end: string;
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Local hours (and optionally weekdays) in which email may go out; `start` < `end`, no wrap past midnight. */
export interface SendWindow {
  days?: readonly Weekday[] | undefined;
  start: string;
  end: string;
}

/** When a campaign may send, in the recipient's zone. Both parts are optional. */
export interface SendTiming {
  quietHours?: QuietHours | undefined;
  sendWindow?: SendWindow | undefined;
}

function inQuietHours(minute: number, quietHours: QuietHours): boolean {
  const start = minutesOf(quietHours.start);
  const end = minutesOf(quietHours.end);
  if (start === end) return false;
  return start > end ? minute >= start || minute < end : minute >= start && minute < end;
}

/** Whether a local wall-clock time (weekday 1 = Monday, minute of the day) may send under `timing`. */
export function isSendAllowed(weekday: number, minute: number, timing: SendTiming): boolean {
  if (timing.quietHours && inQuietHours(minute, timing.quietHours)) return false;
  const window = timing.sendWindow;
  if (!window) return true;
  if (window.days && !window.days.includes(WEEKDAYS[weekday - 1]!)) return false;
  return minute >= minutesOf(window.start) && minute < minutesOf(window.end);
}

const allowedAt = (local: DateTime, timing: SendTiming) => isSendAllowed(local.weekday, local.hour * 60 + local.minute, timing);

/**
 * The earliest instant at or after `atIso` at which `timing` allows sending in `timeZone`: outside the quiet hours
 * (which may wrap midnight, 21:00–08:00) and inside the send window on one of its weekdays. The allowed times are
 * a union of intervals whose left edges are quiet-hours ends and window starts, so the answer is `atIso` itself or
 * the first allowed edge of the next eight local days. Edges are set as local wall-clock times each day, so a DST
 * change keeps "08:00 local"; an edge in a DST gap moves forward (luxon).
 */
export function nextSendTime(atIso: string, timing: SendTiming, timeZone: string): string {
  const at = DateTime.fromISO(atIso, { zone: timeZone });
  if (allowedAt(at, timing)) return toUtcIso(at);
  const edges = [timing.quietHours?.end, timing.sendWindow?.start].filter((e): e is string => e !== undefined).map(minutesOf);
  let best: DateTime | undefined;
  for (let day = 0; day <= 8 && !best; day++) {
    const date = at.startOf('day').plus({ days: day });
    for (const edge of edges) {
      const candidate = date.set({ hour: Math.floor(edge / 60), minute: edge % 60, second: 0, millisecond: 0 });
      if (candidate > at && allowedAt(candidate, timing) && (!best || candidate < best)) best = candidate;
    }
  }
  if (!best) throw new RangeError('the send window and quiet hours leave no time to send within a week');
  return toUtcIso(best);
}

/** {@link nextSendTime} with quiet hours only. */
export function nextAllowedTime(atIso: string, quietHours: QuietHours | undefined, timeZone: string): string {
  return nextSendTime(atIso, { quietHours }, timeZone);
}

export function isWithin(atIso: string, sinceIso: string, untilIso: string): boolean {
  return atIso > sinceIso && atIso <= untilIso;
}

/** Normalises any ISO-8601 instant to UTC with milliseconds, the one form stored and compared as text. */
export function toUtcIso(at: DateTime | string): string {
  const dt = typeof at === 'string' ? DateTime.fromISO(at, { zone: 'utc' }) : at;
  const iso = dt.toUTC().toISO();
  if (!iso) throw new RangeError(`invalid instant: ${String(at)}`);
  return iso;
}
