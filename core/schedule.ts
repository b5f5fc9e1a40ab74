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

/**
 * The earliest instant at or after `atIso` that is outside the quiet hours in `timeZone`. Quiet hours may wrap
 * midnight (21:00–08:00). When the end time does not exist locally (a DST gap), luxon moves it forward.
 */
export function nextAllowedTime(atIso: string, quietHours: QuietHours | undefined, timeZone: string): string {
  const at = DateTime.fromISO(atIso, { zone: timeZone });
  if (!quietHours) return toUtcIso(at);
  const start = minutesOf(quietHours.start);
  const end = minutesOf(quietHours.end);
  if (start === end) return toUtcIso(at);
  const local = at.hour * 60 + at.minute;
  const wraps = start > end;
  const quiet = wraps ? local >= start || local < end : local >= start && local < end;
  if (!quiet) return toUtcIso(at);
  const endToday = at.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  const resume = wraps && local >= start ? endToday.plus({ days: 1 }) : endToday;
  // Re-derive the wall time after adding a day so a DST change between today and tomorrow keeps "08:00 local".
  return toUtcIso(resume.set({ hour: Math.floor(end / 60), minute: end % 60 }));
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
