import { randomUUID } from 'node:crypto';
import { chooseVariant, isActiveAt, isHeldOut } from '../campaigns/assignment.ts';
import { skuMatches, type Campaign } from '../campaigns/schema.ts';
import type { CommerceEvent, PurchaseCompleted } from '../events.ts';
import { loyaltyProfile } from '../loyalty/profile.ts';
import {
  numberChanges,
  purchaseChanges,
  settlePendingCounts,
  type MetricsCounterStore,
  type PendingCountsStore,
} from '../metrics/counters.ts';
import { recordPurchase as addToPurchaseHistory, type PurchaseRef } from '../metrics/model.ts';
import { CANCELLABLE_STATUSES, type Customer, type Touchpoint, type TouchpointContext } from '../model.ts';
import type { SurveyAnsweredDetail } from '../surveys/events.ts';
import type { CampaignCatalog, CustomerRepository, TouchpointRepository } from '../ports.ts';
import { addDuration, nextSendTime, toUtcIso } from '../schedule.ts';
import { touchpointIdFor } from '../touchpoint-id.ts';

export interface IngestDeps {
  customers: CustomerRepository;
  touchpoints: TouchpointRepository;
  campaigns: CampaignCatalog;
  /**
   * Where the purchase cohorts are counted: the customers table's pending counts (`pending`, keyed by customerId)
   * and the metric records. The handler always passes it; without it (use-case tests that do not count) the changes
   * a purchase appends stay pending on the customer for the next settle or `outreach metrics rebuild`.
   */
  metrics?: PurchaseMetrics;
  /** Tokens of the counter-change ids (default: random UUIDs). */
  newToken?: () => string;
}

export interface PurchaseMetrics {
  pending: PendingCountsStore;
  counters: MetricsCounterStore;
  /**
   * The time the settle's lease is taken and checked at: real time (ISO-8601), not the event's. Purchases of one
   * customer arrive out of order; measured in event time, a later event would take over the lease of an earlier one
   * that is still settling (and both would apply the same changes).
   */
  clock: () => string;
}

/** A purchase-history write that lost to concurrent purchases of the same customer this many times in a row. */
export class PurchaseHistoryContentionError extends Error {
  constructor(attempts: number) {
    super(`the purchase history changed under ${attempts} attempts in a row; the event will be retried`);
    this.name = 'PurchaseHistoryContentionError';
  }
}

/** Each failed attempt means another purchase of the customer was recorded; a bound keeps a hot customer finite. */
const PURCHASE_HISTORY_ATTEMPTS = 5;

export interface IngestResult {
  action: 'purchase-recorded' | 'refund-applied' | 'cancellation-applied' | 'recipient-suppressed' | 'feedback-ignored' | 'survey-answer-applied';
  touchpointsCreated: string[];
  touchpointsCancelled: string[];
}

/**
 * Applies one commerce event.
 *
 * Primary course (purchase):
 *  1. Record the purchase on the customer (profile upsert, order id added, first purchase time kept).
 *  2. Count it in the purchase cohorts (countPurchase): the customer's two earliest orders, and the cohort changes
 *     they cause appended to the customer in the same conditional write.
 *  3. Match the enabled campaigns active at the event time (activeFrom/activeUntil) whose trigger the purchase meets;
 *     `lastNps` and `loyaltyTiers` read the customer as stored after step 1 (this purchase counted).
 *  4. For each, plan a touchpoint at purchase time + delay, moved out of the recipient's quiet hours, with the
 *     customer's A/B variant; a customer in the campaign's holdout gets a HELD_OUT touchpoint instead (never sent).
 *  5. Write it under a deterministic id; an existing id (a duplicated event) writes nothing.
 *  6. Settle the customer's pending counts (also when this event changed nothing: a retry after a crash between
 *     step 2 and here finishes the count). Last, so a metrics failure never holds up the outreach.
 *
 * Refund / cancellation: cancel the order's touchpoints that are still PENDING or DISPATCHED, for campaigns whose
 * `stopOn` lists it.
 * SES feedback: a permanent bounce or a complaint suppresses the customer's address and cancels what is pending.
 */
export async function ingestCommerceEvent(event: CommerceEvent, deps: IngestDeps): Promise<IngestResult> {
  switch (event.type) {
    case 'Purchase Completed':
      return recordPurchase(event.detail, event.time, deps);
    case 'Order Refunded':
      return stopOrderTouchpoints('refund', event.detail, event.time, deps);
    case 'Order Cancelled':
      return stopOrderTouchpoints('cancellation', event.detail, event.time, deps);
    case 'Email Bounced':
      // Transient bounces (mailbox full, …) may deliver next time; only a permanent bounce suppresses the address.
      return event.detail.bounce.bounceType === 'Permanent'
        ? suppress(event.detail.mail.tags, `permanent bounce (${event.detail.bounce.bounceSubType ?? 'General'})`, event.time, deps)
        : ignored();
    case 'Email Complaint Received':
      return suppress(event.detail.mail.tags, 'complaint', event.time, deps);
    case 'Survey Answered':
      return applySurveyAnswer(event.detail, event.time, deps);
  }
}

const ignored = (): IngestResult => ({ action: 'feedback-ignored', touchpointsCreated: [], touchpointsCancelled: [] });

/**
 * A hard bounce or complaint: stop emailing the address (as SES's account-level suppression list would) and cancel
 * what is pending. The customer is found by the id tag the render step put on the email.
 */
async function suppress(tags: Record<string, string[]>, reason: string, eventTime: string, deps: IngestDeps): Promise<IngestResult> {
  const customerId = tags.customerId?.[0];
  if (!customerId) return ignored();
  const at = toUtcIso(eventTime);
  await deps.customers.markSuppressed(customerId, reason, at);
  const cancelled: string[] = [];
  for (const touchpoint of await deps.touchpoints.listByCustomer(customerId)) {
    if (!CANCELLABLE_STATUSES.includes(touchpoint.status)) continue;
    if (await deps.touchpoints.cancel(touchpoint.touchpointId, `address suppressed: ${reason}`, at)) cancelled.push(touchpoint.touchpointId);
  }
  return { action: 'recipient-suppressed', touchpointsCreated: [], touchpointsCancelled: cancelled };
}

async function recordPurchase(purchase: PurchaseCompleted, eventTime: string, deps: IngestDeps): Promise<IngestResult> {
  const { orderId, items, total, currency, purchasedAt, ...profile } = purchase;
  const now = toUtcIso(eventTime);
  const recorded = await deps.customers.recordPurchase(profile, orderId, now);
  // The order's time in the cohorts is the event time, like `firstPurchaseAt` (what the loyalty tenure reads), so a
  // customer's cohort day and first purchase agree.
  await countPurchase(recorded, { orderId, at: now }, deps);
  const created: string[] = [];
  const campaigns = await deps.campaigns.listActive();
  // The loyalty fields are read only when a campaign filters on them, as stored after this purchase was recorded.
  const needsCustomer = campaigns.some(
    (c) => c.trigger.event === 'Purchase Completed' && (c.trigger.lastNps !== undefined || c.trigger.loyaltyTiers !== undefined),
  );
  const customer = needsCustomer ? await deps.customers.get(purchase.customerId) : undefined;
  for (const campaign of campaigns) {
    if (!isActiveAt(campaign, now) || !qualifies(campaign, purchase, customer, now)) continue;
    const touchpoint = planTouchpoint(campaign, purchase, now);
    if (await deps.touchpoints.create(touchpoint)) created.push(touchpoint.touchpointId);
  }
  if (deps.metrics) await settlePendingCounts(purchase.customerId, deps.metrics.clock(), deps.metrics);
  return { action: 'purchase-recorded', touchpointsCreated: created, touchpointsCancelled: [] };
}

/**
 * Records the order in the customer's two earliest purchases (core/metrics/model.ts recordPurchase) and, in the same
 * write, appends the cohort changes this causes: compute from the history read, write only if it is still that one.
 * A known order (a re-delivered event) changes nothing and appends nothing; an earlier order arriving late moves the
 * customer to its cohort; two purchases of the same customer at once both land, one after reading again.
 * `recorded` is the customer as the purchase write left it (its history is the first read, for free).
 */
async function countPurchase(recorded: Customer, order: PurchaseRef, deps: IngestDeps): Promise<void> {
  let customer: Customer | undefined = recorded;
  for (let attempt = 0; attempt < PURCHASE_HISTORY_ATTEMPTS; attempt += 1) {
    // The purchase write has just created the item, and customers are never deleted.
    if (!customer) throw new Error(`customer ${recorded.customerId} vanished after its purchase was recorded`);
    const { history, increments, changed } = addToPurchaseHistory(customer.purchases, order);
    if (!changed) return;
    const changes = numberChanges((deps.newToken ?? randomUUID)(), purchaseChanges(increments));
    if (await deps.customers.replacePurchaseHistory(customer.customerId, customer.purchases, history, changes)) return;
    customer = await deps.customers.get(customer.customerId);
  }
  throw new PurchaseHistoryContentionError(PURCHASE_HISTORY_ATTEMPTS);
}

/**
 * Whether a purchase meets the campaign's trigger. `customer` is the customer as stored after the purchase was
 * recorded (needed by `lastNps` and `loyaltyTiers`; without it a `loyaltyTiers` filter never matches), `now` the event
 * time the loyalty tier is evaluated at (default: the purchase time).
 */
export function qualifies(campaign: Campaign, purchase: PurchaseCompleted, customer?: Customer, now: string = toUtcIso(purchase.purchasedAt)): boolean {
  const { trigger } = campaign;
  if (trigger.event !== 'Purchase Completed') return false;
  if (trigger.lastNps && !trigger.lastNps.includes((customer?.latestSurvey?.nps?.category as 'promoter' | undefined) ?? 'none')) return false;
  if (trigger.loyaltyTiers && !(customer && trigger.loyaltyTiers.includes(loyaltyProfile(customer, now).tier))) return false;
  if (trigger.minimumTotal !== undefined && purchase.total < trigger.minimumTotal) return false;
  if (trigger.currencies && !trigger.currencies.includes(purchase.currency)) return false;
  if (trigger.categories && !purchase.items.some((item) => item.category && trigger.categories!.includes(item.category))) {
    return false;
  }
  if (trigger.skus && !purchase.items.some((item) => trigger.skus!.some((pattern) => skuMatches(pattern, item.sku)))) return false;
  if (trigger.segments && !(purchase.segments ?? []).some((segment) => trigger.segments!.includes(segment))) return false;
  return true;
}

export function planTouchpoint(campaign: Campaign, purchase: PurchaseCompleted, now: string): Touchpoint {
  return plan(campaign, {
    customerId: purchase.customerId,
    subjectKey: `order:${purchase.orderId}`,
    startAt: purchase.purchasedAt,
    timeZone: purchase.timeZone,
    orderId: purchase.orderId,
    context: {
      orderId: purchase.orderId,
      items: purchase.items,
      total: purchase.total,
      currency: purchase.currency,
      purchasedAt: toUtcIso(purchase.purchasedAt),
    },
    now,
  });
}

/**
 * One touchpoint of `campaign` for a subject (an order, a survey answer): due `delay` after `startAt` in the
 * customer's zone, moved out of quiet hours and into the send window, with the customer's variant; HELD_OUT for a
 * customer in the holdout. The id is deterministic in campaign and subject, so a repeated event writes nothing.
 */
function plan(
  campaign: Campaign,
  subject: { customerId: string; subjectKey: string; startAt: string; timeZone: string; orderId?: string | undefined; context: TouchpointContext; now: string },
): Touchpoint {
  // The schema requires a delay for every event-started campaign (only Contract Ending has none, and is swept).
  const due = addDuration(subject.startAt, campaign.delay ?? 'PT0S', subject.timeZone);
  const heldOut = isHeldOut(campaign, subject.customerId);
  const variant = heldOut ? undefined : chooseVariant(campaign, subject.customerId);
  return {
    touchpointId: touchpointIdFor(campaign.id, subject.subjectKey),
    campaignId: campaign.id,
    kind: campaign.kind,
    customerId: subject.customerId,
    ...(subject.orderId !== undefined ? { orderId: subject.orderId } : {}),
    dueAt: nextSendTime(due, campaign, subject.timeZone),
    status: heldOut ? 'HELD_OUT' : 'PENDING',
    ...(heldOut ? { reason: `holdout (${campaign.holdout?.percent ?? 0}%)` } : {}),
    generation: 0,
    context: subject.context,
    ...(variant ? { variant: variant.id } : {}),
    createdAt: subject.now,
    updatedAt: subject.now,
  };
}

/**
 * A survey answer (the product's own Survey Answered event): the customer's latest answer for the scale (what
 * `lastNps` filters and the loyalty profile read), and a touchpoint of each active campaign triggered by answers in
 * its categories (a review or referral ask for promoters), once per survey: the id is campaign × survey.
 */
async function applySurveyAnswer(answer: SurveyAnsweredDetail, eventTime: string, deps: IngestDeps): Promise<IngestResult> {
  const now = toUtcIso(eventTime);
  await deps.customers.recordSurveyAnswer(answer.customerId, answer.kind, {
    score: answer.score,
    category: answer.category,
    surveyId: answer.surveyId,
    answeredAt: toUtcIso(answer.answeredAt),
  });
  const campaigns = await deps.campaigns.listActive();
  const answeredCampaigns = campaigns.filter(
    (campaign) =>
      campaign.trigger.event === 'Survey Answered' && (!campaign.trigger.surveyCampaigns || campaign.trigger.surveyCampaigns.includes(answer.campaignId)),
  );
  const matches = (campaign: Campaign) =>
    campaign.trigger.event === 'Survey Answered' && (!campaign.trigger.answerCategories || campaign.trigger.answerCategories.includes(answer.category as never));
  const followUps = answeredCampaigns.filter((campaign) => isActiveAt(campaign, now) && matches(campaign));
  // A changed answer (a promoter who now says 3) withdraws the follow-ups planned for its earlier category.
  const cancelled: string[] = [];
  for (const campaign of answeredCampaigns.filter((c) => !matches(c))) {
    const id = touchpointIdFor(campaign.id, `survey:${answer.surveyId}`);
    if (await deps.touchpoints.cancel(id, 'the survey answer changed', now)) cancelled.push(id);
  }
  const customer = followUps.length > 0 ? await deps.customers.get(answer.customerId) : undefined;
  const created: string[] = [];
  for (const campaign of customer ? followUps : []) {
    const touchpoint = plan(campaign, {
      customerId: answer.customerId,
      subjectKey: `survey:${answer.surveyId}`,
      startAt: toUtcIso(answer.answeredAt),
      timeZone: customer!.timeZone,
      orderId: answer.orderId,
      context: { ...(answer.orderId !== undefined ? { orderId: answer.orderId } : {}), parentTouchpointId: answer.surveyId },
      now,
    });
    if (await deps.touchpoints.create(touchpoint)) created.push(touchpoint.touchpointId);
  }
  // stopOn: reply — a customer who answered a survey gets no more of these campaigns' pending emails, except what
  // this answer itself started (its follow-ups, also on a redelivered or edited answer).
  for (const touchpoint of await deps.touchpoints.listByCustomer(answer.customerId)) {
    if (!CANCELLABLE_STATUSES.includes(touchpoint.status) || touchpoint.context.parentTouchpointId === answer.surveyId) continue;
    const campaign = await deps.campaigns.get(touchpoint.campaignId);
    if (!campaign?.stopOn.includes('reply')) continue;
    if (await deps.touchpoints.cancel(touchpoint.touchpointId, 'customer answered a survey', now)) cancelled.push(touchpoint.touchpointId);
  }
  return { action: 'survey-answer-applied', touchpointsCreated: created, touchpointsCancelled: cancelled };
}

const STOP_REASONS = { refund: 'order refunded', cancellation: 'order cancelled' } as const;

async function stopOrderTouchpoints(
  stop: keyof typeof STOP_REASONS,
  order: { orderId: string; customerId: string },
  eventTime: string,
  deps: IngestDeps,
): Promise<IngestResult> {
  const cancelled: string[] = [];
  const touchpoints = await deps.touchpoints.listByCustomer(order.customerId);
  for (const touchpoint of touchpoints) {
    if (touchpoint.orderId !== order.orderId || !CANCELLABLE_STATUSES.includes(touchpoint.status)) continue;
    const campaign = await deps.campaigns.get(touchpoint.campaignId);
    // A campaign that no longer exists cannot send either; cancelling keeps the outbox honest.
    if (campaign && !campaign.stopOn.includes(stop)) continue;
    if (await deps.touchpoints.cancel(touchpoint.touchpointId, STOP_REASONS[stop], toUtcIso(eventTime))) {
      cancelled.push(touchpoint.touchpointId);
    }
  }
  return { action: stop === 'refund' ? 'refund-applied' : 'cancellation-applied', touchpointsCreated: [], touchpointsCancelled: cancelled };
}
