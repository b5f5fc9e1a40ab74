/**
 * The customer's loyalty profile and tier, derived from the stored customer alone. Pure: the time comes in as `now`,
 * so the same customer at the same instant always gets the same tier (campaign filters, tests, reports agree).
 *
 * Facts
 *  - purchases: orders recorded on the customer (`orderIds`; a refunded order still counts as a purchase made).
 *  - renewals: contract renewals recorded on the customer (each renewal of a contract to a new end date, once).
 *  - tenureDays: whole days (24 h) from the customer's first recorded purchase or contract event — the earlier of
 *    `firstPurchaseAt` and `createdAt` — to `now`; never negative. (`createdAt` covers customers known from contracts
 *    only, and orders recorded before `firstPurchaseAt` existed.)
 *  - latestNps / latestCsat: the category of the latest answer on that scale, if any.
 *
 * Tier rule — first the level, the highest that applies:
 *  - `loyal`:   5 or more purchases, or at least 1 contract renewal;
 *  - `regular`: 2 or more purchases, or a tenure of 90 days or more;
 *  - `new`:     everyone else (at most 1 purchase, no renewal, tenure under 90 days);
 * then the latest NPS answer adjusts it:
 *  - `champion`: a `loyal` customer whose latest NPS answer is `promoter`;
 *  - a `detractor` is never above `regular` (a loyal detractor is `regular`; a new one stays `new`).
 * No NPS answer, or a `passive` one, leaves the level as it is. CSAT is reported, not used by the rule.
 */
import type { Customer } from '../model.ts';
import type { CsatCategory, NpsCategory } from '../surveys/scales.ts';

/** Lowest first. */
export const LOYALTY_TIERS = ['new', 'regular', 'loyal', 'champion'] as const;
export type LoyaltyTier = (typeof LOYALTY_TIERS)[number];

/** The thresholds of the tier rule above. */
export const TIER_RULE = {
  /** Purchases that make a customer `loyal`. */
  loyalPurchases: 5,
  /** Contract renewals that make a customer `loyal`. */
  loyalRenewals: 1,
  /** Purchases that make a customer `regular`. */
  regularPurchases: 2,
  /** Tenure (whole days) that makes a customer `regular`. */
  regularTenureDays: 90,
} as const;

export interface LoyaltyProfile {
  /** Orders recorded. */
  purchases: number;
  /** When the first purchase was recorded (absent without one, or for orders recorded before the field existed). */
  firstPurchaseAt?: string;
  /** Whole days since the first recorded purchase or contract event. */
  tenureDays: number;
  /** Contract renewals recorded. */
  renewals: number;
  latestNps?: NpsCategory;
  latestCsat?: CsatCategory;
  tier: LoyaltyTier;
}

/** What the tier depends on. */
export interface TierFacts {
  purchases: number;
  renewals: number;
  tenureDays: number;
  latestNps?: NpsCategory | undefined;
}

/** The tier rule of the file header. */
export function loyaltyTier(facts: TierFacts): LoyaltyTier {
  const level: LoyaltyTier =
    facts.purchases >= TIER_RULE.loyalPurchases || facts.renewals >= TIER_RULE.loyalRenewals
      ? 'loyal'
      : facts.purchases >= TIER_RULE.regularPurchases || facts.tenureDays >= TIER_RULE.regularTenureDays
        ? 'regular'
        : 'new';
  if (facts.latestNps === 'detractor') return level === 'new' ? 'new' : 'regular';
  if (facts.latestNps === 'promoter' && level === 'loyal') return 'champion';
  return level;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const NPS_CATEGORIES: readonly string[] = ['promoter', 'passive', 'detractor'] satisfies NpsCategory[];
const CSAT_CATEGORIES: readonly string[] = ['satisfied', 'not-satisfied'] satisfies CsatCategory[];

export type LoyaltyCustomer = Pick<Customer, 'orderIds' | 'createdAt' | 'firstPurchaseAt' | 'renewals' | 'latestSurvey'>;

/** The customer's loyalty profile at `now` (ISO-8601 instant). */
export function loyaltyProfile(customer: LoyaltyCustomer, now: string): LoyaltyProfile {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) throw new RangeError(`now ${JSON.stringify(now)} is not an ISO-8601 instant`);
  // Stored times are ISO instants; one that is not (never written so) does not count.
  const since = Math.min(...[customer.createdAt, customer.firstPurchaseAt].map((value) => (value === undefined ? NaN : Date.parse(value))).filter((ms) => !Number.isNaN(ms)));
  const tenureDays = Number.isFinite(since) ? Math.max(0, Math.floor((nowMs - since) / DAY_MS)) : 0;
  const nps = customer.latestSurvey?.nps?.category;
  const csat = customer.latestSurvey?.csat?.category;
  const latestNps = nps !== undefined && NPS_CATEGORIES.includes(nps) ? (nps as NpsCategory) : undefined;
  const latestCsat = csat !== undefined && CSAT_CATEGORIES.includes(csat) ? (csat as CsatCategory) : undefined;
  const purchases = customer.orderIds.length;
  const renewals = customer.renewals ?? 0;
  return {
    purchases,
    ...(customer.firstPurchaseAt !== undefined ? { firstPurchaseAt: customer.firstPurchaseAt } : {}),
    tenureDays,
    renewals,
    ...(latestNps ? { latestNps } : {}),
    ...(latestCsat ? { latestCsat } : {}),
    tier: loyaltyTier({ purchases, renewals, tenureDays, latestNps }),
  };
}
