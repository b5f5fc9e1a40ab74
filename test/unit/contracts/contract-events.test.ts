import { describe, expect, it } from 'vitest';
import { CONTRACT_DETAIL_TYPES, parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { InvalidEventError } from '../../../core/errors.ts';
import { contractEnvelope, startedDetail } from './fakes.ts';

/** The InvalidEventError a raw event gives, for exact message assertions. */
function rejection(raw: unknown): InvalidEventError {
  try {
    parseContractEvent(raw);
  } catch (error) {
    if (error instanceof InvalidEventError) return error;
    throw error;
  }
  throw new Error('the event was accepted');
}

const started = (overrides: Record<string, unknown>) => contractEnvelope(CONTRACT_DETAIL_TYPES.contractStarted, startedDetail(overrides));

describe('parseContractEvent', () => {
  it('accepts a Contract Started event and keeps its detail', () => {
    const event = parseContractEvent(started({}));

    expect(event).toMatchObject({
      type: 'Contract Started',
      eventId: 'evt-c1',
      detail: { contractId: 'ctr-1', customerId: 'cust-1', endDate: '2027-03-28', currency: 'EUR', autoRenew: false },
    });
  });

  it('names the field and a valid date when an end date does not exist', () => {
    const error = rejection(started({ endDate: '2027-02-30' }));

    expect(error.message).toBe(
      '"Contract Started" event evt-c1 is invalid: detail.endDate: "2027-02-30" is not a calendar date (YYYY-MM-DD, e.g. 2027-02-28)',
    );
  });

  it('accepts 29 February in a leap year and rejects it otherwise', () => {
    expect(parseContractEvent(started({ endDate: '2028-02-29' })).detail).toMatchObject({ endDate: '2028-02-29' });

    expect(rejection(started({ startDate: '2027-02-29' })).issues).toEqual([
      'detail.startDate: "2027-02-29" is not a calendar date (YYYY-MM-DD, e.g. 2027-02-28)',
    ]);
  });

  it('suggests a date in range for a month that does not exist, and does not echo text that is not a date', () => {
    expect(rejection(started({ endDate: '2027-13-01' })).issues).toEqual([
      'detail.endDate: "2027-13-01" is not a calendar date (YYYY-MM-DD, e.g. 2027-12-01)',
    ]);
    expect(rejection(started({ endDate: 'ada@example.com' })).issues).toEqual([
      'detail.endDate: the value is not a calendar date (YYYY-MM-DD, e.g. 2027-03-31)',
    ]);
  });

  it('rejects an end date before the start date, on the end date', () => {
    expect(rejection(started({ startDate: '2027-03-29', endDate: '2027-03-28' })).issues).toEqual([
      'detail.endDate: "2027-03-28" is before startDate "2027-03-29"',
    ]);
  });

  it('lists every bad field at once, without quoting personal values', () => {
    const error = rejection(
      started({ email: 'not-an-address', timeZone: 'Mars/Olympus', currency: 'EUX', value: -5, autoRenew: 'yes', occurredAt: 'yesterday' }),
    );

    expect(error.issues).toEqual([
      'detail.email: must be an email address',
      'detail.timeZone: must be an IANA time zone, e.g. Europe/Berlin',
      'detail.value: must not be negative',
      'detail.currency: "EUX" is not an ISO 4217 currency code (e.g. EUR, USD)',
      'detail.autoRenew: must be true or false',
      'detail.occurredAt: must be an ISO-8601 date-time, e.g. 2026-11-23T10:15:00Z',
    ]);
    expect(error.message).not.toContain('not-an-address');
  });

  it('requires the profile on Contract Started', () => {
    const { email: _email, name: _name, ...withoutProfile } = startedDetail();

    const error = rejection(contractEnvelope('Contract Started', withoutProfile));

    expect(error.issues.map((issue) => issue.split(':')[0])).toEqual(['detail.email', 'detail.name']);
  });

  it('accepts a Contract Updated with only the changed fields, but not one that changes nothing', () => {
    const updated = parseContractEvent(
      contractEnvelope('Contract Updated', { contractId: 'ctr-1', customerId: 'cust-1', endDate: '2027-04-30', occurredAt: '2026-06-01T00:00:00Z' }),
    );
    expect(updated).toMatchObject({ type: 'Contract Updated', detail: { endDate: '2027-04-30' } });

    const error = rejection(contractEnvelope('Contract Updated', { contractId: 'ctr-1', customerId: 'cust-1', occurredAt: '2026-06-01T00:00:00Z' }));
    expect(error.issues).toEqual(['detail: must change at least one of plan, value, currency, startDate, endDate, autoRenew']);
  });

  it('requires the new end date on Contract Renewed and accepts Contract Cancelled with a reason', () => {
    expect(rejection(contractEnvelope('Contract Renewed', { contractId: 'ctr-1', customerId: 'cust-1', occurredAt: '2027-03-01T00:00:00Z' })).issues).toEqual([
      'detail.endDate: must be a calendar date string (YYYY-MM-DD)',
    ]);

    const cancelled = parseContractEvent(
      contractEnvelope('Contract Cancelled', { contractId: 'ctr-1', customerId: 'cust-1', reason: 'too expensive', occurredAt: '2027-03-01T00:00:00Z' }),
    );
    expect(cancelled).toMatchObject({ type: 'Contract Cancelled', detail: { reason: 'too expensive' } });
  });

  it('rejects an id with characters outside the allowed set, naming the field', () => {
    expect(rejection(started({ contractId: 'ctr 1/2' })).issues).toEqual([
      'detail.contractId: contractId may contain only letters, digits and . _ : @ -',
    ]);
  });

  it('rejects a detail-type that is not a contract event', () => {
    expect(rejection(contractEnvelope('Contract Paused', {})).message).toBe(
      '"Contract Paused" event evt-c1 is invalid: detail-type: "Contract Paused" is not a contract event ' +
        '(expected one of: Contract Started, Contract Updated, Contract Renewed, Contract Cancelled)',
    );
  });
});
