/** Holdout, A/B variants, active dates and the per-campaign cap, through the use cases with the in-memory ports. */
import { beforeEach, describe, expect, it } from 'vitest';
import { chooseVariant, isActiveAt, isHeldOut } from '../../../core/campaigns/assignment.ts';
import { parseCampaignText } from '../../../core/campaigns/load.ts';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import { parseCommerceEvent } from '../../../core/events.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { touchpointIdFor } from '../../../core/touchpoint-id.ts';
import { checkEligibility } from '../../../core/use-cases/check-eligibility.ts';
import { ingestCommerceEvent } from '../../../core/use-cases/ingest-commerce-event.ts';
import { renderTouchpointEmail } from '../../../core/use-cases/render-touchpoint-email.ts';
import { InMemoryAnswers, InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent, testSurveyKeyring, StaticContracts } from '../fakes.ts';

const variantsYaml = `id: ab-check-in
kind: check-in
trigger:
  event: Purchase Completed
delay: P3D
variants:
  - id: short
    weight: 70
    template:
      defaultLocale: en
      locales:
        en: { subject: "Short {{customer.firstName}}", html: "<p>short</p>", text: "short" }
  - id: long
    weight: 30
    template:
      defaultLocale: en
      locales:
        en: { subject: "Long {{customer.firstName}}", html: "<p>long</p>", text: "long" }
`;

function campaignFrom(yaml: string): Campaign {
  const parsed = parseCampaignText(yaml, 'test.yaml');
  expect(parsed.problems).toEqual([]);
  return parsed.campaign!;
}

type Deps = { customers: InMemoryCustomers; touchpoints: InMemoryTouchpoints; campaigns: StaticCampaigns; answers: InMemoryAnswers; contracts: StaticContracts };
const newDeps = (campaigns: Campaign[]): Deps => ({
  customers: new InMemoryCustomers(),
  touchpoints: new InMemoryTouchpoints(),
  campaigns: new StaticCampaigns(campaigns),
  answers: new InMemoryAnswers(), contracts: new StaticContracts(),
});
const buy = (deps: Deps, detail: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) =>
  ingestCommerceEvent(parseCommerceEvent(purchaseEvent(detail, envelope)), deps);
const customerIds = (n: number) => Array.from({ length: n }, (_, i) => `c-${i}`);

/** Makes `touchpoint` DISPATCHED in generation 0, as the dispatcher does. */
async function dispatch(deps: Deps, touchpointId: string, at: string) {
  await deps.touchpoints.claimForDispatch({ touchpointId, generation: 0, from: 'PENDING', at, leaseUntil: at });
}

describe('holdout', () => {
  const campaign = checkInCampaign({ holdout: { percent: 10 } });

  it('holds out the same customers every time, and other customers for another campaign', () => {
    const ids = customerIds(1000);
    const heldOut = ids.filter((id) => isHeldOut(campaign, id));
    expect(ids.filter((id) => isHeldOut(campaign, id))).toEqual(heldOut);
    const other = ids.filter((id) => isHeldOut({ ...campaign, id: 'another-campaign' }, id));
    expect(other).not.toEqual(heldOut);
    // No holdout (the default) and 0 % hold out nobody. (Each checkInCampaign() reads campaigns/: load them once.)
    const withoutHoldout = checkInCampaign();
    const zeroPercent = checkInCampaign({ holdout: { percent: 0 } });
    expect(ids.some((id) => isHeldOut(withoutHoldout, id) || isHeldOut(zeroPercent, id))).toBe(false);
  });

  it('writes HELD_OUT touchpoints for about percent of 1,000 customers, never due and never cancellable', async () => {
    const deps = newDeps([campaign]);
    for (const id of customerIds(1000)) await buy(deps, { customerId: id, orderId: `o-${id}` }, { id: `evt-${id}` });

    const all = [...deps.touchpoints.items.values()];
    expect(all).toHaveLength(1000);
    const heldOut = all.filter((t) => t.status === 'HELD_OUT');
    expect(heldOut.length).toBeGreaterThanOrEqual(70);
    expect(heldOut.length).toBeLessThanOrEqual(130);
    expect(heldOut.every((t) => isHeldOut(campaign, t.customerId))).toBe(true);
    expect(all.filter((t) => t.status === 'PENDING')).toHaveLength(1000 - heldOut.length);
    expect(heldOut[0]).toMatchObject({ reason: 'holdout (10%)', generation: 0, dueAt: expect.any(String) });

    // Never in the due index, however late it is.
    const due = (await Promise.all([0, 1, 2, 3].map((s) => deps.touchpoints.listDue(s, '2099-01-01T00:00:00.000Z', 10_000)))).flat();
    expect(due).toHaveLength(1000 - heldOut.length);
    expect(due.some((d) => d.status === 'HELD_OUT')).toBe(false);

    // A refund leaves it as it is.
    const target = heldOut[0]!;
    const refund = parseCommerceEvent({
      ...purchaseEvent(),
      'detail-type': 'Order Refunded',
      detail: { orderId: target.orderId, customerId: target.customerId, refundedAt: '2026-11-21T09:00:00Z' },
    });
    expect((await ingestCommerceEvent(refund, deps)).touchpointsCancelled).toEqual([]);
    expect((await deps.touchpoints.get(target.touchpointId))?.status).toBe('HELD_OUT');
  });

  it('holds the same customer out of every order', async () => {
    const deps = newDeps([campaign]);
    const customer = customerIds(1000).find((id) => isHeldOut(campaign, id))!;
    await buy(deps, { customerId: customer, orderId: 'o-1' }, { id: 'e-1' });
    await buy(deps, { customerId: customer, orderId: 'o-2' }, { id: 'e-2' });
    expect([...deps.touchpoints.items.values()].map((t) => t.status)).toEqual(['HELD_OUT', 'HELD_OUT']);
  });
});

describe('A/B variants', () => {
  const campaign = campaignFrom(variantsYaml);

  it('chooses variants deterministically, in proportion to their weights', () => {
    const ids = customerIds(2000);
    const chosen = ids.map((id) => chooseVariant(campaign, id)?.id);
    expect(ids.map((id) => chooseVariant(campaign, id)?.id)).toEqual(chosen);
    const short = chosen.filter((v) => v === 'short').length / ids.length;
    expect(short).toBeGreaterThan(0.65);
    expect(short).toBeLessThan(0.75);
    expect(chosen.every((v) => v === 'short' || v === 'long')).toBe(true);
    expect(chooseVariant(checkInCampaign(), 'c-1')).toBeUndefined();
  });

  it('is independent of the holdout: held-in customers still get variants by weight', () => {
    const withHoldout = { ...campaign, holdout: { percent: 50 } };
    const heldIn = customerIds(2000).filter((id) => !isHeldOut(withHoldout, id));
    const short = heldIn.filter((id) => chooseVariant(withHoldout, id)?.id === 'short').length / heldIn.length;
    expect(short).toBeGreaterThan(0.63);
    expect(short).toBeLessThan(0.77);
  });

  it('records the variant at planning, passes it on at eligibility, renders it and tags the email', async () => {
    const deps = newDeps([campaign]);
    const customer = customerIds(100).find((id) => chooseVariant(campaign, id)?.id === 'long')!;
    await buy(deps, { customerId: customer, orderId: 'o-9' });
    const id = touchpointIdFor('ab-check-in', 'order:o-9');
    expect(await deps.touchpoints.get(id)).toMatchObject({ status: 'PENDING', variant: 'long' });

    const now = '2026-11-23T10:00:00.000Z';
    await dispatch(deps, id, now);
    const decision = await checkEligibility({ touchpointId: id, generation: 0, now }, deps);
    expect(decision).toMatchObject({ decision: 'SEND', message: { campaignId: 'ab-check-in', variant: 'long' } });
    if (decision.decision !== 'SEND') throw new Error('expected SEND');

    const renderDeps = {
      campaigns: deps.campaigns,
      signingKey: async () => 'test-secret-0123456789',
      surveyKeyring: testSurveyKeyring,
      publicBaseUrl: 'https://links.example.com',
      senderAddress: 'shop@example.com',
      configurationSet: 'outreach',
    };
    const request = await renderTouchpointEmail({ touchpointId: id, message: decision.message }, renderDeps);
    expect(request.Content.Simple.Subject.Data).toBe('Long Ada');
    expect(request.Content.Simple.Body.Text.Data).toBe('long');
    expect(request.EmailTags).toContainEqual({ Name: 'variant', Value: 'long' });

    // The recorded variant wins over what the weights would pick now.
    const shortMessage = { ...decision.message, variant: 'short' };
    expect((await renderTouchpointEmail({ touchpointId: id, message: shortMessage }, renderDeps)).Content.Simple.Subject.Data).toBe('Short Ada');
  });

  it('adds no variant tag for a campaign with a single template', async () => {
    const request = await renderTouchpointEmail(
      {
        touchpointId: 'tp-1',
        message: { campaignId: 'post-purchase-check-in', customerId: 'c-1', email: 'a@example.com', name: 'Ada', locale: 'en', context: {} },
      },
      {
        campaigns: new StaticCampaigns([checkInCampaign()]),
        signingKey: async () => 'test-secret-0123456789',
        surveyKeyring: testSurveyKeyring,
        publicBaseUrl: 'https://links.example.com',
        senderAddress: 'shop@example.com',
        configurationSet: 'outreach',
      },
    );
    expect(request.EmailTags.map((t) => t.Name)).toEqual(['touchpointId', 'campaignId', 'customerId']);
  });

  it('plans no variant for a held-out customer', async () => {
    const withHoldout = { ...campaign, holdout: { percent: 50 } };
    const deps = newDeps([withHoldout]);
    const customer = customerIds(100).find((id) => isHeldOut(withHoldout, id))!;
    await buy(deps, { customerId: customer });
    const [touchpoint] = deps.touchpoints.items.values();
    expect(touchpoint?.status).toBe('HELD_OUT');
    expect(touchpoint?.variant).toBeUndefined();
  });
});

describe('active dates', () => {
  it('treats a date as a whole UTC day (activeUntil included) and a date-time as an instant', () => {
    const window = { activeFrom: '2026-11-20', activeUntil: '2026-11-30' };
    expect(isActiveAt(window, '2026-11-19T23:59:59.999Z')).toBe(false);
    expect(isActiveAt(window, '2026-11-20T00:00:00.000Z')).toBe(true);
    expect(isActiveAt(window, '2026-11-30T23:59:59.999Z')).toBe(true);
    expect(isActiveAt(window, '2026-12-01T00:00:00.000Z')).toBe(false);
    const instants = { activeFrom: '2026-11-20T09:00:00+01:00', activeUntil: '2026-11-20T10:00:00Z' };
    expect(isActiveAt(instants, '2026-11-20T07:59:59.000Z')).toBe(false);
    expect(isActiveAt(instants, '2026-11-20T08:00:00.000Z')).toBe(true);
    expect(isActiveAt(instants, '2026-11-20T10:00:00.000Z')).toBe(false);
    expect(isActiveAt({}, '2026-11-20T10:00:00.000Z')).toBe(true);
  });

  it('plans nothing outside the window at ingest (by the event time)', async () => {
    const deps = newDeps([checkInCampaign({ activeFrom: '2026-11-21' })]);
    expect((await buy(deps)).touchpointsCreated).toEqual([]); // the event is on 2026-11-20
    expect(await deps.customers.get('c-1')).toBeDefined();
    deps.campaigns = new StaticCampaigns([checkInCampaign({ activeUntil: '2026-11-19' })]);
    expect((await buy(deps)).touchpointsCreated).toEqual([]);
    deps.campaigns = new StaticCampaigns([checkInCampaign({ activeFrom: '2026-11-20', activeUntil: '2026-11-20' })]);
    expect((await buy(deps)).touchpointsCreated).toHaveLength(1);
  });

  it('skips what is due outside the window at eligibility', async () => {
    const deps = newDeps([checkInCampaign({ activeUntil: '2026-11-22' })]);
    await buy(deps);
    const id = touchpointIdFor('post-purchase-check-in', 'order:o-100');
    const now = '2026-11-23T10:00:00.000Z';
    await dispatch(deps, id, now);
    expect(await checkEligibility({ touchpointId: id, generation: 0, now }, deps)).toEqual({ decision: 'SKIP', reason: 'campaign not active' });
    deps.campaigns = new StaticCampaigns([checkInCampaign({ activeUntil: '2026-11-23' })]);
    expect((await checkEligibility({ touchpointId: id, generation: 0, now }, deps)).decision).toBe('SEND');
  });
});

describe('per-campaign frequency cap', () => {
  const now = '2026-11-23T10:00:00.000Z';
  const sent = (id: string, campaignId: string, sentAt: string): Touchpoint => ({
    touchpointId: id,
    campaignId,
    kind: 'check-in',
    customerId: 'c-1',
    dueAt: sentAt,
    status: 'PENDING',
    generation: 0,
    context: {},
    createdAt: sentAt,
    updatedAt: sentAt,
  });
  let deps: Deps;
  const id = touchpointIdFor('post-purchase-check-in', 'order:o-100');

  async function addSent(touchpointId: string, campaignId: string, sentAt: string) {
    await deps.touchpoints.create(sent(touchpointId, campaignId, sentAt));
    await dispatch(deps, touchpointId, sentAt);
    await deps.touchpoints.complete({ touchpointId, generation: 0, at: sentAt, status: 'SENT', messageId: `m-${touchpointId}` });
  }

  beforeEach(async () => {
    deps = newDeps([checkInCampaign({ frequencyCap: { perCampaign: { maxEmails: 1, per: 'P30D' } } })]);
    await buy(deps);
    await dispatch(deps, id, now);
  });

  it('counts only this campaign\'s emails', async () => {
    await addSent('tp-other', 'other-campaign', '2026-11-21T10:00:00.000Z');
    expect((await checkEligibility({ touchpointId: id, generation: 0, now }, deps)).decision).toBe('SEND');
    await addSent('tp-same', 'post-purchase-check-in', '2026-11-01T10:00:00.000Z');
    expect(await checkEligibility({ touchpointId: id, generation: 0, now }, deps)).toEqual({
      decision: 'SKIP',
      reason: 'per-campaign frequency cap reached',
    });
  });

  it('applies both caps, the cross-campaign one first', async () => {
    deps.campaigns = new StaticCampaigns([
      checkInCampaign({ frequencyCap: { maxEmails: 1, per: 'P7D', perCampaign: { maxEmails: 1, per: 'P30D' } } }),
    ]);
    await addSent('tp-same', 'post-purchase-check-in', '2026-11-01T10:00:00.000Z');
    expect(await checkEligibility({ touchpointId: id, generation: 0, now }, deps)).toEqual({
      decision: 'SKIP',
      reason: 'per-campaign frequency cap reached',
    });
    await addSent('tp-other', 'other-campaign', '2026-11-21T10:00:00.000Z');
    expect(await checkEligibility({ touchpointId: id, generation: 0, now }, deps)).toEqual({ decision: 'SKIP', reason: 'frequency cap reached' });
  });
});

describe('rule checks for the new fields', () => {
  const base = `id: x-campaign
kind: check-in
trigger:
  event: Purchase Completed
delay: P3D
template:
  defaultLocale: en
  locales:
    en: { subject: S, html: H, text: T }
`;
  const problems = (extra: string) => parseCampaignText(base + extra, 'x.yaml').problems;

  it('accepts quiet hours that leave exactly one hour, and start == end (none)', () => {
    expect(problems('quietHours: { start: "09:00", end: "08:00" }\n')).toEqual([]);
    expect(problems('quietHours: { start: "08:00", end: "08:00" }\n')).toEqual([]);
    expect(problems('quietHours: { start: "09:00", end: "08:01" }\n')).toEqual([
      'x.yaml:10 quietHours: quietHours leave less than one hour a day to send',
    ]);
  });

  it('keeps maxEmails and per together, and accepts a per-campaign cap alone', () => {
    expect(problems('frequencyCap: { perCampaign: { maxEmails: 2, per: P30D } }\n')).toEqual([]);
    expect(problems('frequencyCap: { maxEmails: 2 }\n')).toEqual(['x.yaml:10 frequencyCap.per: is missing (maxEmails needs a duration, e.g. per: P7D)']);
    expect(problems('frequencyCap: {}\n')).toEqual(['x.yaml:10 frequencyCap: is empty (give maxEmails and per, or perCampaign)']);
  });

  it('accepts active dates, date-times with offsets, holdout percentages and variants', () => {
    const parsed = parseCampaignText(
      `${base}activeFrom: 2026-12-01\nactiveUntil: 2026-12-01T18:00:00+01:00\nholdout: { percent: 12.5 }\n`,
      'x.yaml',
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.campaign).toMatchObject({ activeFrom: '2026-12-01', holdout: { percent: 12.5 } });
    expect(problems('activeFrom: 2026-12-01T09:00:00\n')).toEqual([
      'x.yaml:10 activeFrom: "2026-12-01T09:00:00" is not an ISO date or date-time with offset (try 2026-12-01 or 2026-12-01T09:00:00Z)',
    ]);
    expect(campaignFrom(variantsYaml).variants?.map((v) => v.id)).toEqual(['short', 'long']);
  });
});
