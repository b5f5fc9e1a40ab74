/** Domain types shared by use cases and adapters. */
import type { PurchaseHistory } from './metrics/model.ts';
import type { SurveyKind } from './surveys/scales.ts';

export interface Customer {
  customerId: string;
  email: string;
  name: string;
  timeZone: string;
  locale: string;
  marketingConsent: boolean;
  /** Set by the one-click unsubscribe; wins over later consent flags from the commerce system. */
  unsubscribedAt?: string;
  /** Set when SES reports a hard bounce or complaint. */
  suppressedAt?: string;
  suppressionReason?: string;
  orderIds: string[];
  /** When the first purchase was recorded (event time; set once). Absent for customers without one. */
  firstPurchaseAt?: string;
  /**
   * The customer's two earliest orders, by the Purchase Completed event time (the envelope `time`, as
   * `firstPurchaseAt`): what the purchase cohorts (repeat-purchase rate, core/metrics/model.ts) count. Written only
   * with the cohort changes it causes (CustomerRepository.replacePurchaseHistory). A refund or cancellation does not
   * undo a purchase: the order stays here as it stays in `orderIds`. Absent: no purchase recorded since the metric
   * existed.
   */
  purchases?: PurchaseHistory;
  /**
   * Contract renewals recorded (each renewal of a contract to a new end date counts once, however often its event
   * arrives). Absent: none. See core/loyalty/profile.ts for what reads it.
   */
  renewals?: number;
  /** The latest answer to each survey scale (nps, csat, ces): what loyalty rules and campaign filters read. */
  latestSurvey?: Partial<Record<'nps' | 'csat' | 'ces', LatestSurveyAnswer>>;
  /** Event time of the latest profile data applied, so an older event never overwrites a newer profile. */
  profileUpdatedAt: string;
  createdAt: string;
}

export interface LatestSurveyAnswer {
  score: number;
  category: string;
  surveyId: string;
  /** When it was (last) answered: a later answer to an older survey does not replace a newer one. */
  answeredAt: string;
}

/**
 * `DISPATCHED`: its workflow was started; nothing was sent yet. `SENDING`: the send step claimed it (one attempt id)
 * and is calling SES. `UNCONFIRMED`: the SES call may have reached SES but gave no answer (a reset connection, a lost
 * response, a crash): it is settled by SES's own Send event, or, when none comes in time, sent again (see
 * docs/decisions.md). `HELD_OUT`: the customer is in the campaign's holdout; written at planning, terminal, never in
 * the due index.
 */
export const TOUCHPOINT_STATUSES = ['PENDING', 'DISPATCHED', 'SENDING', 'UNCONFIRMED', 'SENT', 'SKIPPED', 'FAILED', 'CANCELLED', 'HELD_OUT'] as const;
export type TouchpointStatus = (typeof TOUCHPOINT_STATUSES)[number];

/** What a touchpoint sends; each kind has its workflow (core/topology.ts WORKFLOWS). */
export const TOUCHPOINT_KINDS = ['check-in', 'survey', 'renewal-reminder', 'follow-up'] as const;
export type TouchpointKind = (typeof TOUCHPOINT_KINDS)[number];

export interface PurchasedItem {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
  category?: string | undefined;
}

/** One future (or past) email: an item in the outbox. */
export interface Touchpoint {
  touchpointId: string;
  campaignId: string;
  kind: TouchpointKind;
  customerId: string;
  orderId?: string;
  /** When it should be sent (ISO-8601 UTC). */
  dueAt: string;
  status: TouchpointStatus;
  /** Incremented on every reschedule; part of the execution name so a rescheduled touchpoint can run again. */
  generation: number;
  /** Personalisation captured when the touchpoint was planned (e.g. the purchased items). */
  context: TouchpointContext;
  /** The A/B variant chosen at planning (campaigns with `variants` only). */
  variant?: string;
  createdAt: string;
  updatedAt: string;
  messageId?: string;
  sentAt?: string;
  /** Why it was skipped, cancelled, rescheduled or failed. */
  reason?: string;
  /**
   * Survey sends (not reminders) recorded SENT: the campaign's scale then, the bucket the send was counted in
   * (core/metrics/model.ts surveySentDelta). Absent on surveys sent before the metrics existed: those are not counted.
   */
  surveyKind?: SurveyKind;
  /** Sends deferred because SES throttled them or they did not reach SES (record-outcome's DEFERRED); bounded by MAX_SEND_DEFERRALS. */
  sendDeferrals?: number;
  /** The send attempt that claimed it (SENDING, UNCONFIRMED, SENT): the workflow execution and a random part. */
  attemptId?: string;
  /** What recording SENT needs when SES's Send event, not the workflow, settles the send: the survey it sends. */
  sendPlan?: { survey?: SentSurvey };
  /** Times it was started again because its workflow ended without an outcome; bounded by MAX_REDISPATCHES. */
  redispatches?: number;
  /** UNCONFIRMED sends that no SES event settled and that were therefore sent again; bounded by MAX_UNCONFIRMED_RESENDS. */
  unconfirmedResends?: number;
}

/** A survey send as the workflow passes it to the send and record steps (the eligibility message's `survey`). */
export interface SentSurvey {
  surveyId: string;
  reminder: boolean;
  reminderAfter?: string | undefined;
  scale?: SurveyKind | undefined;
}

export interface TouchpointContext {
  orderId?: string;
  items?: PurchasedItem[];
  total?: number;
  currency?: string;
  purchasedAt?: string;
  /** Renewal reminders: the contract as it was when the reminder was planned. */
  contract?: ContractContext;
  /** Survey reminders and follow-ups: the touchpoint they follow. */
  parentTouchpointId?: string;
}

export interface ContractContext {
  contractId: string;
  plan: string;
  value: number;
  currency: string;
  /** The contract's last day, a calendar date in the customer's zone (YYYY-MM-DD). */
  endDate: string;
  autoRenew: boolean;
  /** How many days before the end date this reminder is. */
  offsetDays: number;
}

/** Statuses from which a touchpoint can still be cancelled. */
export const CANCELLABLE_STATUSES: readonly TouchpointStatus[] = ['PENDING', 'DISPATCHED', 'UNCONFIRMED'];
