import { describe, expect, it } from 'vitest';
import { assertRenewalCampaign, isReminderCurrent, sameTerms } from '../../../core/contracts/model.ts';
import { contract } from './fakes.ts';

const reminder = { contractId: 'ctr-1', plan: 'pro-annual', value: 1200, currency: 'EUR', endDate: '2027-03-28', autoRenew: false, offsetDays: 7 };
const stored = contract({ contractId: 'ctr-1', endDate: '2027-03-28', timeZone: 'Europe/Berlin', endsAt: '2027-03-27T23:00:00.000Z' });

describe('isReminderCurrent', () => {
  it('holds for a running contract whose end date is still the reminder’s', () => {
    expect(isReminderCurrent(stored, reminder)).toBe(true);
    expect(isReminderCurrent({ ...stored, status: 'RENEWED' }, reminder)).toBe(true);
  });

  it('fails once the contract is gone, cancelled, ended, or renewed to another date', () => {
    expect(isReminderCurrent(undefined, reminder)).toBe(false);
    expect(isReminderCurrent({ ...stored, status: 'CANCELLED' }, reminder)).toBe(false);
    expect(isReminderCurrent({ ...stored, status: 'ENDED' }, reminder)).toBe(false);
    expect(isReminderCurrent({ ...stored, status: 'RENEWED', endDate: '2028-03-28' }, reminder)).toBe(false);
  });
});

describe('sameTerms', () => {
  it('compares the commercial terms and the zone, not the bookkeeping', () => {
    const later = { ...stored, version: '2030-01-01T00:00:00.000Z', renewals: 3 };
    expect(sameTerms(stored, later)).toBe(true);
    expect(sameTerms(stored, { ...stored, value: 1201 })).toBe(false);
    expect(sameTerms(stored, { ...stored, timeZone: 'Europe/Vienna' })).toBe(false);
  });
});

describe('assertRenewalCampaign', () => {
  it('fills in the 09:00 default send time', () => {
    expect(assertRenewalCampaign({ campaignId: 'renewal', offsetsDays: [30, 0] })).toEqual({ campaignId: 'renewal', offsetsDays: [30, 0], sendAt: '09:00' });
  });

  it('requires at least one offset and a valid id', () => {
    expect(() => assertRenewalCampaign({ campaignId: 'has space', offsetsDays: [] })).toThrow(
      'renewal campaign has space is invalid: campaignId: must be 1–128 of A–Z a–z 0–9 . _ : @ -; offsetsDays: must list at least one offset, e.g. [60, 30, 7]',
    );
  });
});
