/** Ports: what the use cases need from the outside world. Adapters implement them for DynamoDB and Step Functions. */
import type { Campaign } from './campaigns/schema.ts';
import type { CounterChange } from './metrics/counters.ts';
import type { PurchaseHistory } from './metrics/model.ts';
import type { Customer, LatestSurveyAnswer, Touchpoint, TouchpointKind, TouchpointStatus } from './model.ts';
import type { SurveyKind } from './surveys/scales.ts';

/** What a purchase event says about the customer. */
export type CustomerProfile = Pick<Customer, 'customerId' | 'email' | 'name' | 'timeZone' | 'locale' | 'marketingConsent'>;

export interface CustomerRepository {
  get(customerId: string): Promise<Customer | undefined>;
  /**
   * Creates the customer or applies the profile if `eventTime` is not older than the stored profile; always
   * records the order id, and `firstPurchaseAt` (= `eventTime`) unless a purchase was recorded already. Idempotent.
   * Returns the customer as this write left it (returned by the write itself: no read).
   */
  recordPurchase(profile: CustomerProfile, orderId: string, eventTime: string): Promise<Customer>;
  /** `recordPurchase` without an order (a contract event carries the profile too). */
  recordProfile(profile: CustomerProfile, eventTime: string): Promise<void>;
  /** Marks the customer unsubscribed unless already; returns false when they already were. */
  markUnsubscribed(customerId: string, at: string): Promise<boolean>;
  /** Marks the customer's address suppressed (hard bounce, complaint) unless already; false when it already was. */
  markSuppressed(customerId: string, reason: string, at: string): Promise<boolean>;
  /**
   * Records a survey answer as the customer's latest for its scale unless a newer answer is recorded already (by
   * `answeredAt`); false when the customer does not exist or a newer answer wins.
   */
  recordSurveyAnswer(customerId: string, scale: 'nps' | 'csat' | 'ces', answer: LatestSurveyAnswer): Promise<boolean>;
  /**
   * Counts a renewal of the customer's contract `contractId` to the new end date `newEndDate` in `renewals`, once: the
   * same renewal again (a repeated event) changes nothing. False when it was counted already or the customer does not
   * exist.
   */
  recordRenewal(customerId: string, contractId: string, newEndDate: string): Promise<boolean>;
  /**
   * Replaces the customer's purchase history `previous` (as read; undefined: none yet) with `next` and appends
   * `changes` to the customer's pending metric counts (core/metrics/counters.ts), in one write, only if the stored
   * history is still `previous`. False when it is not (another purchase of the customer was recorded meanwhile: read
   * again) or the customer does not exist; nothing is written then.
   */
  replacePurchaseHistory(customerId: string, previous: PurchaseHistory | undefined, next: PurchaseHistory, changes: readonly CounterChange[]): Promise<boolean>;
}

/** A row of the due index: enough to start the workflow without reading the item. */
export interface DueTouchpoint {
  touchpointId: string;
  kind: TouchpointKind;
  generation: number;
  dueAt: string;
  status: TouchpointStatus;
}

export interface DuePage {
  items: DueTouchpoint[];
  /** Absent on the last page. */
  nextKey?: string;
}

export interface TouchpointTransition {
  touchpointId: string;
  /** The transition applies only while the touchpoint has this generation. */
  generation: number;
  at: string;
}

export interface TouchpointRepository {
  get(touchpointId: string): Promise<Touchpoint | undefined>;
  /**
   * Writes a new touchpoint; returns false (and changes nothing) when the id exists already. Only a PENDING one
   * enters the due index (a HELD_OUT one is recorded, never dispatched).
   */
  create(touchpoint: Touchpoint): Promise<boolean>;
  /** Up to `limit` touchpoints of one shard whose due key is at or before `now`, earliest first. */
  listDue(shard: number, now: string, limit: number): Promise<DueTouchpoint[]>;
  /**
   * One page of a shard's due index, up to `limit` rows due at or before `until`, earliest first; pass the returned
   * `nextKey` (opaque) as `startKey` for the next page. Reads only the index rows in that range, never the table.
   */
  listDueBefore(shard: number, until: string, limit: number, startKey?: string): Promise<DuePage>;
  listByCustomer(customerId: string): Promise<Touchpoint[]>;
  /**
   * PENDING → DISPATCHED, moving its due key to `leaseUntil` so the item comes back only if the workflow never records
   * an outcome. With `redispatch` (a lease that ran out on DISPATCHED, or an UNCONFIRMED send no SES event settled):
   * `from` → DISPATCHED with generation + 1, so the old execution's writes no longer match, counting `redispatch`.
   */
  claimForDispatch(
    t: TouchpointTransition & { from: TouchpointStatus; leaseUntil: string; redispatch?: 'redispatches' | 'unconfirmedResends' },
  ): Promise<boolean>;
  /**
   * DISPATCHED → SENDING for one send attempt (`attemptId`), moving the due key to `leaseUntil`: a second run of the
   * same workflow (Express runs at least once) finds it claimed and sends nothing. `sendPlan` is kept for settling the
   * send from SES's events.
   */
  claimForSending(t: TouchpointTransition & { attemptId: string; leaseUntil: string; sendPlan: NonNullable<Touchpoint['sendPlan']> }): Promise<boolean>;
  /**
   * SENDING → UNCONFIRMED: the SES call may have reached SES. Its due key moves to `until`, when dispatch sends it again
   * unless SES's Send event settled it SENT meanwhile.
   */
  markUnconfirmed(t: TouchpointTransition & { until: string; reason: string }): Promise<boolean>;
  /**
   * DISPATCHED (RESCHEDULED) or SENDING (DEFERRED: the send did not reach SES) → PENDING at `dueAt` with generation + 1;
   * `sendDeferrals` is stored with it.
   */
  reschedule(t: TouchpointTransition & { dueAt: string; reason: string; sendDeferrals?: number }): Promise<boolean>;
  /**
   * DISPATCHED, SENDING or UNCONFIRMED → SENT | SKIPPED | FAILED; leaves the due index. `surveySend` (SENT of a survey,
   * not a reminder): stores `surveyKind` and appends `pendingCounts` to the touchpoint's pending metric counts in the
   * same conditional write, so the send is counted exactly when it is recorded (core/metrics/counters.ts).
   */
  complete(
    t: TouchpointTransition & {
      status: 'SENT' | 'SKIPPED' | 'FAILED';
      messageId?: string;
      reason?: string;
      surveySend?: { surveyKind: SurveyKind; pendingCounts: readonly CounterChange[] };
    },
  ): Promise<boolean>;
  /** PENDING | DISPATCHED | UNCONFIRMED → CANCELLED, whatever the generation; leaves the due index. */
  cancel(touchpointId: string, reason: string, at: string): Promise<boolean>;
  /**
   * CANCELLED → `touchpoint` (PENDING, in the due index) with the stored generation + 1, so its execution gets a new
   * name: a plan that became current again (a contract moved back to an end date, restarted after a cancellation).
   * False, and nothing written, unless the stored touchpoint is CANCELLED.
   */
  revive(touchpoint: Touchpoint): Promise<boolean>;
}

export interface CampaignCatalog {
  /** Enabled campaigns. */
  listActive(): Promise<Campaign[]>;
  get(campaignId: string): Promise<Campaign | undefined>;
}

export type StartOutcome = 'started' | 'already-exists';

export interface WorkflowStarter {
  start(kind: TouchpointKind, executionName: string, input: Record<string, unknown>): Promise<StartOutcome>;
}
