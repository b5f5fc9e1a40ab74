/**
 * The `trigger.loyaltyTiers` filter of purchase campaigns: parsed from rule files, and evaluated at ingest from the
 * customer as stored after the purchase was recorded (the triggering purchase counts), with in-memory ports.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parseCampaignText } from '../../../core/campaigns/load.ts';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import { parseCommerceEvent, type PurchaseCompleted } from '../../../core/events.ts';
import type { LoyaltyTier } from '../../../core/loyalty/profile.ts';
import { ingestCommerceEvent, qualifies } from '../../../core/use-cases/ingest-commerce-event.ts';
import { InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent } from '../fakes.ts';

const tierCampaign = (id: string, loyaltyTiers: LoyaltyTier[]): Campaign => ({
  ...checkInCampaign(),
  id,
  frequencyCap: undefined,
  trigger: { event: 'Purchase Completed', loyaltyTiers },
});

/** Purchase number `n` of customer c-1, on day n of November 2026 unless `at` says otherwise. */
const purchase = (n: number, at = `2026-11-${String(n).padStart(2, '0')}T10:00:00Z`) =>
  parseCommerceEvent(purchaseEvent({ orderId: `o-${n}`, purchasedAt: at }, { time: at }));

const PROFILE = { customerId: 'c-1', email: 'ada@example.com', name: 'Ada Lovelace', timeZone: 'Europe/Berlin', locale: 'en', marketingConsent: true };

describe('loyaltyTiers in rule files', () => {
  const rule = (tiers: string) => `id: tiers
kind: check-in
trigger:
  event: Purchase Completed
  loyaltyTiers: ${tiers}
delay: P3D
template:
  defaultLocale: en
  locales:
    en: { subject: S, html: H, text: T }
`;

  it('accepts the four tiers', () => {
    const { campaign, problems } = parseCampaignText(rule('[new, regular, loyal, champion]'), 'tiers.yaml');
    expect(problems).toEqual([]);
    expect(campaign?.trigger).toEqual({ event: 'Purchase Completed', loyaltyTiers: ['new', 'regular', 'loyal', 'champion'] });
  });

  it('names the tiers for an unknown one, and asks for at least one', () => {
    expect(parseCampaignText(rule('[vip]'), 'tiers.yaml').problems).toEqual(['tiers.yaml:5 trigger.loyaltyTiers[0]: must be one of new, regular, loyal, champion']);
    expect(parseCampaignText(rule('[]'), 'tiers.yaml').problems).toEqual(['tiers.yaml:5 trigger.loyaltyTiers: must list at least one tier, e.g. [loyal, champion]']);
  });

  it('is a purchase trigger field only', () => {
    const yaml = rule('[loyal]').replace('kind: check-in', 'kind: follow-up').replace('event: Purchase Completed', 'event: Survey Answered');
    expect(parseCampaignText(yaml, 'tiers.yaml').problems).toEqual([expect.stringMatching(/^tiers\.yaml:5 trigger\.loyaltyTiers: is not a known field/)]);
  });
});

describe('ingest with a loyaltyTiers campaign', () => {
  let world: { customers: InMemoryCustomers; touchpoints: InMemoryTouchpoints; campaigns: StaticCampaigns };
  const use = (...campaigns: Campaign[]) => {
    world.campaigns = new StaticCampaigns(campaigns);
  };
  const campaignsPlanned = async (n: number, at?: string) =>
    (await ingestCommerceEvent(purchase(n, at), world)).touchpointsCreated.map((id) => world.touchpoints.items.get(id)?.campaignId);

  beforeEach(() => {
    world = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([]) };
  });

  it("plans a [loyal] campaign at the customer's 5th purchase, not at the 1st to 4th", async () => {
    use(tierCampaign('loyal-thanks', ['loyal']));

    const planned = [];
    for (let n = 1; n <= 5; n++) planned.push(await campaignsPlanned(n));

    expect(planned).toEqual([[], [], [], [], ['loyal-thanks']]);
    // The 5th purchase's event again plans nothing more, and a 6th is still loyal.
    expect(await campaignsPlanned(5)).toEqual([]);
    expect(await campaignsPlanned(6)).toEqual(['loyal-thanks']);
  });

  it('plans a [new] campaign at the 1st purchase only, and a [regular] one from the 2nd to the 4th', async () => {
    use(tierCampaign('welcome', ['new']), tierCampaign('regulars', ['regular']));

    const planned = [];
    for (let n = 1; n <= 5; n++) planned.push(await campaignsPlanned(n));

    expect(planned).toEqual([['welcome'], ['regulars'], ['regulars'], ['regulars'], []]);
  });

  it('tells champions (loyal and latest NPS promoter) from loyal customers, and caps a detractor at regular', async () => {
    use(tierCampaign('loyal-thanks', ['loyal']), tierCampaign('champions', ['champion']), tierCampaign('regulars', ['regular']));
    for (let n = 1; n <= 4; n++) await campaignsPlanned(n);
    const answer = (category: string, score: number, day: number) =>
      world.customers.recordSurveyAnswer('c-1', 'nps', { score, category, surveyId: `s-${day}`, answeredAt: `2026-11-${day}T12:00:00.000Z` });

    await answer('promoter', 10, 10);
    expect(await campaignsPlanned(11)).toEqual(['champions']);
    await answer('passive', 8, 12);
    expect(await campaignsPlanned(13)).toEqual(['loyal-thanks']);
    await answer('detractor', 2, 14);
    expect(await campaignsPlanned(15)).toEqual(['regulars']);
  });

  it('counts a contract renewal: a renewed contract customer is loyal at their first purchase', async () => {
    use(tierCampaign('loyal-thanks', ['loyal']), tierCampaign('welcome', ['new']));
    await world.customers.recordProfile(PROFILE, '2026-11-01T08:00:00.000Z');
    await world.customers.recordRenewal('c-1', 'ctr-1', '2027-10-31');

    expect(await campaignsPlanned(2)).toEqual(['loyal-thanks']);
  });

  it('counts tenure from when the customer was first recorded: new on day 89, regular on day 90', async () => {
    use(tierCampaign('welcome', ['new']), tierCampaign('regulars', ['regular']));
    await world.customers.recordProfile(PROFILE, '2026-08-01T10:00:00.000Z');
    const other = new InMemoryCustomers();
    await other.recordProfile(PROFILE, '2026-08-02T10:00:00.000Z');

    // 2026-10-30T10:00Z is 90 days after 2026-08-01T10:00Z and 89 after 2026-08-02T10:00Z.
    expect(await campaignsPlanned(1, '2026-10-30T10:00:00Z')).toEqual(['regulars']);
    world.customers = other;
    expect(await campaignsPlanned(1, '2026-10-30T10:00:00Z')).toEqual(['welcome']);
  });

  it('reads the customer only when a purchase campaign filters on the customer', async () => {
    let reads = 0;
    const get = world.customers.get.bind(world.customers);
    world.customers.get = async (id: string) => {
      reads += 1;
      return get(id);
    };

    use(checkInCampaign());
    await campaignsPlanned(1);
    expect(reads).toBe(0);

    use(checkInCampaign(), tierCampaign('loyal-thanks', ['loyal']));
    await campaignsPlanned(2);
    expect(reads).toBe(1);
  });
});

describe('qualifies with loyaltyTiers', () => {
  const detail = purchase(1).detail as PurchaseCompleted;
  const stored = { ...PROFILE, orderIds: ['o-1'], firstPurchaseAt: '2026-11-01T10:00:00.000Z', profileUpdatedAt: '2026-11-01T10:00:00.000Z', createdAt: '2026-11-01T10:00:00.000Z' };

  it('evaluates the tier at `now`, and never matches without the customer', () => {
    const welcome = tierCampaign('welcome', ['new']);
    expect(qualifies(welcome, detail, stored, '2026-11-01T10:00:00.000Z')).toBe(true);
    expect(qualifies(welcome, detail, stored, '2027-01-30T10:00:00.000Z')).toBe(false); // 90 days later: regular
    expect(qualifies(welcome, detail, undefined, '2026-11-01T10:00:00.000Z')).toBe(false);
  });

  it('applies together with the other filters', () => {
    const bigSpenders = { ...tierCampaign('welcome', ['new']), trigger: { event: 'Purchase Completed' as const, loyaltyTiers: ['new' as const], minimumTotal: 100 } };
    expect(qualifies(bigSpenders, detail, stored, '2026-11-01T10:00:00.000Z')).toBe(false);
    expect(qualifies(bigSpenders, { ...detail, total: 150 }, stored, '2026-11-01T10:00:00.000Z')).toBe(true);
  });
});
