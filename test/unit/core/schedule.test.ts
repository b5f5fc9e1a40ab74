import { describe, expect, it } from 'vitest';
import { addDuration, isIsoDuration, nextAllowedTime } from '../../../core/schedule.ts';

const quiet = { start: '21:00', end: '08:00' };

describe('nextAllowedTime', () => {
  it.each([
    ['outside quiet hours stays', '2026-11-23T10:00:00Z', 'Europe/Berlin', '2026-11-23T10:00:00.000Z'],
    ['late evening moves to 08:00 next day', '2026-11-23T21:30:00Z', 'Europe/Berlin', '2026-11-24T07:00:00.000Z'],
    ['after midnight moves to 08:00 same day', '2026-11-23T02:00:00Z', 'Europe/Berlin', '2026-11-23T07:00:00.000Z'],
    ['exactly at the end is allowed', '2026-11-23T07:00:00Z', 'Europe/Berlin', '2026-11-23T07:00:00.000Z'],
    ['exactly at the start is quiet', '2026-11-23T20:00:00Z', 'Europe/Berlin', '2026-11-24T07:00:00.000Z'],
    ['another zone: Los Angeles evening', '2026-11-24T05:30:00Z', 'America/Los_Angeles', '2026-11-24T16:00:00.000Z'],
    // Night of the spring-forward in Berlin (2027-03-28): 08:00 is CEST (UTC+2).
    ['across the DST change', '2027-03-27T21:00:00Z', 'Europe/Berlin', '2027-03-28T06:00:00.000Z'],
  ])('%s', (_, at, zone, expected) => {
    expect(nextAllowedTime(at, quiet, zone)).toBe(expected);
  });

  it('handles a daytime window that does not wrap midnight', () => {
    expect(nextAllowedTime('2026-11-23T12:30:00Z', { start: '12:00', end: '14:00' }, 'UTC')).toBe('2026-11-23T14:00:00.000Z');
    expect(nextAllowedTime('2026-11-23T14:30:00Z', { start: '12:00', end: '14:00' }, 'UTC')).toBe('2026-11-23T14:30:00.000Z');
  });

  it('returns the instant unchanged without quiet hours', () => {
    expect(nextAllowedTime('2026-11-23T23:00:00+01:00', undefined, 'Europe/Berlin')).toBe('2026-11-23T22:00:00.000Z');
  });
});

describe('durations', () => {
  it('adds days in local time across DST (P1D keeps the local wall clock)', () => {
    expect(addDuration('2027-03-27T10:00:00+01:00', 'P1D', 'Europe/Berlin')).toBe('2027-03-28T08:00:00.000Z');
    expect(addDuration('2027-03-27T09:00:00Z', 'PT24H', 'Europe/Berlin')).toBe('2027-03-28T09:00:00.000Z');
  });

  it('accepts ISO-8601 durations only', () => {
    expect(isIsoDuration('P3D')).toBe(true);
    expect(isIsoDuration('PT90M')).toBe(true);
    expect(isIsoDuration('3 days')).toBe(false);
    expect(() => addDuration('2026-11-23T00:00:00Z', '3 days')).toThrow('"3 days" is not an ISO-8601 duration (try P3D)');
  });
});
