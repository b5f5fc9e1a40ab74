/**
 * The loyalty profile and tier rule (core/loyalty/profile.ts): every threshold from both sides, the NPS adjustments,
 * and invariants over a grid of purchases × renewals × tenure × latest NPS.
 */
import { describe, expect, it } from 'vitest';
import { LOYALTY_TIERS, loyaltyProfile, loyaltyTier, type LoyaltyCustomer, type TierFacts } from '../../../core/loyalty/profile.ts';
import type { LatestSurveyAnswer } from '../../../core/model.ts';
import type { NpsCategory } from '../../../core/surveys/scales.ts';

const CREATED = '2026-01-01T00:00:00.000Z';
const DAY = 24 * 60 * 60 * 1000;
const after = (days: number, ms = 0) => new Date(Date.parse(CREATED) + days * DAY + ms).toISOString();

const answer = (category: string, score: number): LatestSurveyAnswer => ({ score, category, surveyId: 's-1', answeredAt: CREATED });
const customer = (overrides: Partial<LoyaltyCustomer> = {}): LoyaltyCustomer => ({ orderIds: [], createdAt: CREATED, ...overrides });
const orders = (n: number) => Array.from({ length: n }, (_, i) => `o-${i + 1}`);

describe('loyaltyTier: the level from purchases, renewals and tenure', () => {
  it.each<[string, TierFacts, string]>([
    ['no purchase, just recorded', { purchases: 0, renewals: 0, tenureDays: 0 }, 'new'],
    ['1 purchase, day 0', { purchases: 1, renewals: 0, tenureDays: 0 }, 'new'],
    ['1 purchase, day 89 (last new day)', { purchases: 1, renewals: 0, tenureDays: 89 }, 'new'],
    ['1 purchase, day 90 (first regular day)', { purchases: 1, renewals: 0, tenureDays: 90 }, 'regular'],
    ['no purchase, day 90 (a contract customer)', { purchases: 0, renewals: 0, tenureDays: 90 }, 'regular'],
    ['2 purchases, day 0', { purchases: 2, renewals: 0, tenureDays: 0 }, 'regular'],
    ['4 purchases (last regular count)', { purchases: 4, renewals: 0, tenureDays: 0 }, 'regular'],
    ['4 purchases, years of tenure: tenure alone never makes loyal', { purchases: 4, renewals: 0, tenureDays: 3650 }, 'regular'],
    ['5 purchases (first loyal count), day 0', { purchases: 5, renewals: 0, tenureDays: 0 }, 'loyal'],
    ['1 renewal, no purchase', { purchases: 0, renewals: 1, tenureDays: 0 }, 'loyal'],
    ['1 renewal, 1 purchase', { purchases: 1, renewals: 1, tenureDays: 10 }, 'loyal'],
    ['many of everything', { purchases: 40, renewals: 3, tenureDays: 800 }, 'loyal'],
  ])('%s → %s', (_, facts, tier) => {
    expect(loyaltyTier(facts)).toBe(tier);
  });
});

describe('loyaltyTier: the latest NPS answer', () => {
  const NEW = { purchases: 1, renewals: 0, tenureDays: 0 };
  const REGULAR = { purchases: 2, renewals: 0, tenureDays: 0 };
  const LOYAL_BY_PURCHASES = { purchases: 5, renewals: 0, tenureDays: 0 };
  const LOYAL_BY_RENEWAL = { purchases: 0, renewals: 1, tenureDays: 0 };

  it.each<[string, TierFacts, NpsCategory | undefined, string]>([
    ['a loyal promoter (by purchases) is a champion', LOYAL_BY_PURCHASES, 'promoter', 'champion'],
    ['a loyal promoter (by a renewal) is a champion', LOYAL_BY_RENEWAL, 'promoter', 'champion'],
    ['a promoter with 4 purchases is only regular', { purchases: 4, renewals: 0, tenureDays: 0 }, 'promoter', 'regular'],
    ['a new promoter stays new', NEW, 'promoter', 'new'],
    ['a loyal passive stays loyal', LOYAL_BY_PURCHASES, 'passive', 'loyal'],
    ['a loyal customer who never answered stays loyal', LOYAL_BY_PURCHASES, undefined, 'loyal'],
    ['a loyal detractor is regular', LOYAL_BY_PURCHASES, 'detractor', 'regular'],
    ['a detractor with a renewal is regular', LOYAL_BY_RENEWAL, 'detractor', 'regular'],
    ['a regular detractor stays regular', REGULAR, 'detractor', 'regular'],
    ['a new detractor stays new', NEW, 'detractor', 'new'],
  ])('%s', (_, facts, latestNps, tier) => {
    expect(loyaltyTier({ ...facts, latestNps })).toBe(tier);
  });

  it('holds the rule over every combination around the thresholds', () => {
    const rank = (tier: string) => LOYALTY_TIERS.indexOf(tier as never);
    const npsAnswers = [undefined, 'passive', 'promoter', 'detractor'] as const;
    let checked = 0;
    for (const purchases of [0, 1, 2, 3, 4, 5, 6, 7]) {
      for (const renewals of [0, 1, 2]) {
        for (const tenureDays of [0, 1, 89, 90, 91, 365]) {
          for (const latestNps of npsAnswers) {
            const facts = { purchases, renewals, tenureDays, latestNps };
            const tier = loyaltyTier(facts);
            const loyal = purchases >= 5 || renewals >= 1;
            // champion exactly for loyal promoters; a detractor never above regular; no answer = passive.
            expect(tier === 'champion').toBe(loyal && latestNps === 'promoter');
            if (latestNps === 'detractor') expect(rank(tier)).toBeLessThanOrEqual(rank('regular'));
            if (latestNps === undefined) expect(tier).toBe(loyaltyTier({ ...facts, latestNps: 'passive' }));
            // new only with at most one purchase, no renewal and less than 90 days.
            expect(tier === 'new').toBe(purchases <= 1 && renewals === 0 && tenureDays < 90);
            // More of anything never lowers the tier.
            for (const more of [{ purchases: purchases + 1 }, { renewals: renewals + 1 }, { tenureDays: tenureDays + 1 }]) {
              expect(rank(loyaltyTier({ ...facts, ...more }))).toBeGreaterThanOrEqual(rank(tier));
            }
            checked += 1;
          }
        }
      }
    }
    expect(checked).toBe(8 * 3 * 6 * 4);
  });
});

describe('loyaltyProfile', () => {
  it('reports the facts and the tier of a stored customer', () => {
    const profile = loyaltyProfile(
      customer({
        orderIds: orders(3),
        firstPurchaseAt: CREATED,
        renewals: 1,
        latestSurvey: { nps: answer('promoter', 10), csat: answer('not-satisfied', 2), ces: answer('6', 6) },
      }),
      after(120),
    );
    expect(profile).toStrictEqual({
      purchases: 3,
      firstPurchaseAt: CREATED,
      tenureDays: 120,
      renewals: 1,
      latestNps: 'promoter',
      latestCsat: 'not-satisfied',
      tier: 'champion',
    });
  });

  it('defaults what a customer has not got: no purchase, no renewal, no answers', () => {
    expect(loyaltyProfile(customer(), CREATED)).toStrictEqual({ purchases: 0, tenureDays: 0, renewals: 0, tier: 'new' });
  });

  it('counts tenure in whole days: 89 days and 23:59:59.999 is still new, 90 days is regular', () => {
    const once = customer({ orderIds: orders(1), firstPurchaseAt: CREATED });
    expect(loyaltyProfile(once, after(89, DAY - 1))).toMatchObject({ tenureDays: 89, tier: 'new' });
    expect(loyaltyProfile(once, after(90))).toMatchObject({ tenureDays: 90, tier: 'regular' });
  });

  it('counts tenure from the earlier of the first purchase and the first record of the customer', () => {
    // Known from a contract first, buying 60 days later: a customer since the contract.
    const contractFirst = customer({ orderIds: orders(1), firstPurchaseAt: after(60) });
    expect(loyaltyProfile(contractFirst, after(90))).toMatchObject({ tenureDays: 90, tier: 'regular' });
    // A late older purchase event can record a first purchase before createdAt.
    const purchaseFirst = customer({ orderIds: orders(1), createdAt: after(30), firstPurchaseAt: CREATED });
    expect(loyaltyProfile(purchaseFirst, after(90))).toMatchObject({ tenureDays: 90, tier: 'regular' });
    // Orders recorded before firstPurchaseAt existed: from createdAt.
    expect(loyaltyProfile(customer({ orderIds: orders(1) }), after(91))).toMatchObject({ tenureDays: 91, tier: 'regular' });
  });

  it('never reports a negative tenure (now before the customer was recorded)', () => {
    expect(loyaltyProfile(customer({ orderIds: orders(1), firstPurchaseAt: CREATED }), after(-2))).toMatchObject({ tenureDays: 0, tier: 'new' });
  });

  it('counts 5 recorded orders as loyal and lets a latest detractor answer cap it at regular', () => {
    const five = customer({ orderIds: orders(5), firstPurchaseAt: CREATED });
    expect(loyaltyProfile(five, after(1)).tier).toBe('loyal');
    expect(loyaltyProfile({ ...five, latestSurvey: { nps: answer('detractor', 3) } }, after(1))).toMatchObject({ latestNps: 'detractor', tier: 'regular' });
    expect(loyaltyProfile(customer({ orderIds: orders(4) }), after(1)).tier).toBe('regular');
  });

  it('uses only the NPS answer for the tier: CSAT is reported, a category it does not know is left out', () => {
    const loyal = customer({ orderIds: orders(5) });
    expect(loyaltyProfile({ ...loyal, latestSurvey: { csat: answer('satisfied', 5) } }, after(1))).toMatchObject({ latestCsat: 'satisfied', tier: 'loyal' });
    const odd = loyaltyProfile({ ...loyal, latestSurvey: { nps: answer('fan', 10), csat: answer('meh', 3) } }, after(1));
    expect(odd).not.toHaveProperty('latestNps');
    expect(odd).not.toHaveProperty('latestCsat');
    expect(odd.tier).toBe('loyal');
  });

  it('rejects a `now` that is not an instant', () => {
    expect(() => loyaltyProfile(customer(), 'yesterday')).toThrow(RangeError);
  });
});
