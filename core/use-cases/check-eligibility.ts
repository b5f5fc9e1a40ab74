import { isActiveAt } from '../campaigns/assignment.ts';
import type { Campaign } from '../campaigns/schema.ts';
import { isReminderCurrent, type Contract } from '../contracts/model.ts';
import type { Customer, Touchpoint, TouchpointContext } from '../model.ts';
import type { CampaignCatalog, CustomerRepository, TouchpointRepository } from '../ports.ts';
import { nextSendTime, subtractDuration, toUtcIso } from '../schedule.ts';
import type { SurveyKind } from '../surveys/scales.ts';

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
  /** The A/B variant recorded on the touchpoint, for the render step. */
  variant?: string;
  /** Survey campaigns: the survey the links answer (a reminder's is its original's), and the reminder to plan. */
  survey?: SurveySend;
}

export interface SurveySend {
  surveyId: string;
  /** True for the reminder: no further reminder is planned after it. */
  reminder: boolean;
  /** ISO-8601 duration after the send when the reminder is due; absent for a reminder or `reminderAfter: never`. */
  reminderAfter?: string;
  /**
   * The campaign's scale: recording the send stores it on the survey and counts the send under it (metrics). Always
   * set here; optional for the steps that parse a message without needing it (render-email) and for messages of
   * executions started before it existed.
   */
  scale?: SurveyKind;
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
  /** Survey answers by survey id (a reminder goes out only while its survey has none). */
  answers: { get(surveyId: string): Promise<object | undefined> };
  /** Contracts by id (a renewal reminder goes out only while its contract still ends on the reminded date). */
  contracts: { get(contractId: string): Promise<Pick<Contract, 'status' | 'endDate'> | undefined> };
}

/**
 * Decides whether a dispatched touchpoint may be sent now.
 *
 * Primary course:
 *  1. The touchpoint is still DISPATCHED in this generation (not cancelled meanwhile).
 *  2. Its campaign is configured, enabled and active now (activeFrom/activeUntil); its customer exists.
 *  3. The customer has not unsubscribed, is not suppressed, and has consented where the campaign requires it.
 *  4. The frequency caps (across campaigns, and for this campaign) are not reached.
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
  const customer = campaign?.enabled ? await deps.customers.get(touchpoint.customerId) : undefined;
  // The history is read only when a cap or the re-survey throttle needs it.
  const needsHistory = campaign?.frequencyCap !== undefined || campaign?.kind === 'survey';
  const history = needsHistory && customer ? await deps.touchpoints.listByCustomer(touchpoint.customerId) : [];
  const parent = touchpoint.context.parentTouchpointId;
  const answered = campaign?.kind === 'survey' && parent !== undefined ? (await deps.answers.get(parent)) !== undefined : false;
  const reminded = touchpoint.context.contract;
  const contractCurrent = reminded ? isReminderCurrent(await deps.contracts.get(reminded.contractId), reminded) : undefined;
  const rules = evaluateSendRules({ touchpoint, campaign, customer, history, now, answered, ...(contractCurrent !== undefined ? { contractCurrent } : {}) });
  if (rules.decision !== 'SEND') return rules;
  if (!campaign || !customer) throw new Error('unreachable: SEND without campaign and customer');

  return {
    decision: 'SEND',
    message: {
      campaignId: campaign.id,
      customerId: customer.customerId,
      email: customer.email,
      name: customer.name,
      locale: customer.locale,
      context: touchpoint.context,
      ...(touchpoint.variant !== undefined ? { variant: touchpoint.variant } : {}),
      ...(campaign.survey ? { survey: surveySend(touchpoint, campaign.survey) } : {}),
    },
  };
}

function surveySend(touchpoint: Touchpoint, survey: { reminderAfter: string; scale: SurveyKind }): SurveySend {
  const parent = touchpoint.context.parentTouchpointId;
  if (parent !== undefined) return { surveyId: parent, reminder: true, scale: survey.scale };
  const { reminderAfter, scale } = survey;
  return { surveyId: touchpoint.touchpointId, reminder: false, scale, ...(reminderAfter !== 'never' ? { reminderAfter } : {}) };
}

/**
 * A touchpoint of the customer's history as the caps see it: only SENT ones with a `sentAt` count. `kind` and the
 * parent tell the re-survey throttle which sends were surveys (reminders are not new surveys).
 */
export type CapHistoryEntry = Pick<Touchpoint, 'touchpointId' | 'campaignId' | 'status' | 'sentAt'> & {
  kind?: Touchpoint['kind'];
  context?: Pick<Touchpoint['context'], 'parentTouchpointId'>;
};

export interface SendRulesInput {
  touchpoint: Pick<Touchpoint, 'touchpointId' | 'campaignId'> & { context?: Pick<Touchpoint['context'], 'parentTouchpointId'> };
  campaign: Campaign | undefined;
  customer: Customer | undefined;
  /** The customer's touchpoints (any status; only SENT ones count towards the caps). */
  history: readonly CapHistoryEntry[];
  /** When the send would happen (ISO UTC). */
  now: string;
  /** Survey reminders: whether the survey has an answer already. */
  answered?: boolean;
  /** Renewal reminders: whether the contract is still running to the end date reminded of (absent: not one). */
  contractCurrent?: boolean;
}

export type SendRulesDecision =
  | { decision: 'SEND' }
  | { decision: 'SKIP'; reason: string }
  | { decision: 'RESCHEDULE'; reason: string; nextDueAt: string };

/**
 * The send rules, as one pure function shared by the workflow's eligibility check and the forecast: campaign
 * enabled and active at `now`, customer exists, consent, frequency caps, quiet hours and send window — in that order.
 */
export function evaluateSendRules(input: SendRulesInput): SendRulesDecision {
  const { touchpoint, campaign, customer, history, now } = input;
  if (!campaign || !campaign.enabled) return { decision: 'SKIP', reason: 'campaign is disabled or no longer exists' };
  if (!isActiveAt(campaign, now)) return { decision: 'SKIP', reason: 'campaign not active' };
  if (!customer) return { decision: 'SKIP', reason: 'customer does not exist' };
  if (input.contractCurrent === false) return { decision: 'SKIP', reason: 'contract renewed, cancelled or moved to another end date' };
  const blocked = consentProblem(customer, campaign);
  if (blocked) return { decision: 'SKIP', reason: blocked };
  if (campaign.survey) {
    const surveyProblem = surveyRule(touchpoint, campaign.survey.resurveyAfter, now, history, input.answered === true);
    if (surveyProblem) return { decision: 'SKIP', reason: surveyProblem };
  }
  const capReached = frequencyCapReached(touchpoint, campaign, now, history);
  if (capReached) return { decision: 'SKIP', reason: capReached };
  const allowedAt = nextSendTime(now, campaign, customer.timeZone);
  if (allowedAt > now) {
    return { decision: 'RESCHEDULE', reason: isQuiet(now, campaign, customer.timeZone) ? 'quiet hours' : 'outside send window', nextDueAt: allowedAt };
  }
  return { decision: 'SEND' };
}

const isQuiet = (now: string, campaign: Campaign, timeZone: string) => nextSendTime(now, { quietHours: campaign.quietHours }, timeZone) > now;

/**
 * A reminder goes out only while its survey has no answer. A new survey goes out only if the customer got no other
 * survey (of any survey campaign) within `resurveyAfter`: reminders do not count as surveys here.
 */
function surveyRule(
  touchpoint: SendRulesInput['touchpoint'],
  resurveyAfter: string,
  now: string,
  history: readonly CapHistoryEntry[],
  answered: boolean,
): string | undefined {
  if (touchpoint.context?.parentTouchpointId !== undefined) return answered ? 'survey already answered' : undefined;
  const since = subtractDuration(now, resurveyAfter);
  const recent = history.some(
    (t) =>
      t.touchpointId !== touchpoint.touchpointId &&
      t.kind === 'survey' &&
      t.context?.parentTouchpointId === undefined &&
      t.status === 'SENT' &&
      t.sentAt !== undefined &&
      t.sentAt > since,
  );
  return recent ? `re-survey throttle (one survey per ${resurveyAfter})` : undefined;
}

function consentProblem(customer: Customer, campaign: Campaign): string | undefined {
  if (customer.unsubscribedAt) return 'customer unsubscribed';
  if (customer.suppressedAt) return `address suppressed (${customer.suppressionReason ?? 'bounce or complaint'})`;
  if (campaign.requireMarketingConsent && !customer.marketingConsent) return 'no marketing consent';
  return undefined;
}

/** The reason when a cap is reached: the cross-campaign cap first, then this campaign's own. */
function frequencyCapReached(
  touchpoint: SendRulesInput['touchpoint'],
  campaign: Campaign,
  now: string,
  history: readonly CapHistoryEntry[],
): string | undefined {
  const cap = campaign.frequencyCap;
  if (!cap) return undefined;
  const sentSince = (per: string, sameCampaign: boolean) => {
    const since = subtractDuration(now, per);
    return history.filter(
      (t) =>
        t.touchpointId !== touchpoint.touchpointId &&
        t.status === 'SENT' &&
        t.sentAt !== undefined &&
        t.sentAt > since &&
        (!sameCampaign || t.campaignId === touchpoint.campaignId),
    ).length;
  };
  if (cap.maxEmails !== undefined && cap.per !== undefined && sentSince(cap.per, false) >= cap.maxEmails) {
    return 'frequency cap reached';
  }
  if (cap.perCampaign && sentSince(cap.perCampaign.per, true) >= cap.perCampaign.maxEmails) {
    return 'per-campaign frequency cap reached';
  }
  return undefined;
}
