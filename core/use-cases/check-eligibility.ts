import type { Campaign } from '../campaigns/schema.ts';
import type { Customer, Touchpoint, TouchpointContext } from '../model.ts';
import type { CampaignCatalog, CustomerRepository, TouchpointRepository } from '../ports.ts';
import { nextAllowedTime, subtractDuration, toUtcIso } from '../schedule.ts';

export interface EligibilityRequest {
  touchpointId: string;
  generation: number;
  /** The workflow execution's start time. */
  now: string;
}

/** What the render step needs; kept small because it is part of the execution history. */
export interface SendMessage {
  campaignId: string;
  customerId: string;
  email: string;
  name: string;
  locale: string;
  context: TouchpointContext;
}

export type EligibilityDecision =
  | { decision: 'SEND'; message: SendMessage }
  | { decision: 'SKIP'; reason: string }
  | { decision: 'RESCHEDULE'; reason: string; nextDueAt: string }
  /** The touchpoint moved on (cancelled, another generation): record nothing. */
  | { decision: 'STALE'; reason: string };

export interface EligibilityDeps {
  touchpoints: TouchpointRepository;
  customers: CustomerRepository;
  campaigns: CampaignCatalog;
}

/**
 * Decides whether a dispatched touchpoint may be sent now.
 *
 * Primary course:
 *  1. The touchpoint is still DISPATCHED in this generation (not cancelled meanwhile).
 *  2. Its campaign is configured and enabled; its customer exists.
 *  3. The customer has not unsubscribed, is not suppressed, and has consented where the campaign requires it.
 *  4. The frequency cap across campaigns is not reached.
 *  5. It is not quiet hours in the customer's zone; if it is, move it to the next allowed time.
 */
export async function checkEligibility(request: EligibilityRequest, deps: EligibilityDeps): Promise<EligibilityDecision> {
  const now = toUtcIso(request.now);
  const touchpoint = await deps.touchpoints.get(request.touchpointId);
  if (!touchpoint) return { decision: 'STALE', reason: 'touchpoint does not exist' };
  if (touchpoint.status !== 'DISPATCHED' || touchpoint.generation !== request.generation) {
    return { decision: 'STALE', reason: `touchpoint is ${touchpoint.status} (generation ${touchpoint.generation})` };
  }
  const campaign = await deps.campaigns.get(touchpoint.campaignId);
  if (!campaign || !campaign.enabled) return { decision: 'SKIP', reason: 'campaign is disabled or no longer exists' };
  const customer = await deps.customers.get(touchpoint.customerId);
  if (!customer) return { decision: 'SKIP', reason: 'customer does not exist' };

  const blocked = consentProblem(customer, campaign);
  if (blocked) return { decision: 'SKIP', reason: blocked };
  if (await frequencyCapReached(touchpoint, campaign, now, deps.touchpoints)) {
    return { decision: 'SKIP', reason: 'frequency cap reached' };
  }
  const allowedAt = nextAllowedTime(now, campaign.quietHours, customer.timeZone);
  if (allowedAt > now) return { decision: 'RESCHEDULE', reason: 'quiet hours', nextDueAt: allowedAt };

  return {
    decision: 'SEND',
    message: {
      campaignId: campaign.id,
      customerId: customer.customerId,
      email: customer.email,
      name: customer.name,
      locale: customer.locale,
      context: touchpoint.context,
    },
  };
}

function consentProblem(customer: Customer, campaign: Campaign): string | undefined {
  if (customer.unsubscribedAt) return 'customer unsubscribed';
  if (customer.suppressedAt) return `address suppressed (${customer.suppressionReason ?? 'bounce or complaint'})`;
  if (campaign.requireMarketingConsent && !customer.marketingConsent) return 'no marketing consent';
  return undefined;
}

async function frequencyCapReached(
  touchpoint: Touchpoint,
  campaign: Campaign,
  now: string,
  touchpoints: TouchpointRepository,
): Promise<boolean> {
  if (!campaign.frequencyCap) return false;
  const since = subtractDuration(now, campaign.frequencyCap.per);
  const history = await touchpoints.listByCustomer(touchpoint.customerId);
  const sentInWindow = history.filter(
    (t) => t.touchpointId !== touchpoint.touchpointId && t.status === 'SENT' && t.sentAt !== undefined && t.sentAt > since,
  );
  return sentInWindow.length >= campaign.frequencyCap.maxEmails;
}
