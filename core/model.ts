/** Domain types shared by use cases and adapters. */

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
  /** Event time of the latest profile data applied, so an older event never overwrites a newer profile. */
  profileUpdatedAt: string;
  createdAt: string;
}

/** `HELD_OUT`: the customer is in the campaign's holdout; written at planning, terminal, never in the due index. */
export const TOUCHPOINT_STATUSES = ['PENDING', 'DISPATCHED', 'SENT', 'SKIPPED', 'FAILED', 'CANCELLED', 'HELD_OUT'] as const;
export type TouchpointStatus = (typeof TOUCHPOINT_STATUSES)[number];

export type TouchpointKind = 'check-in';

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
}

export interface TouchpointContext {
  orderId?: string;
  items?: PurchasedItem[];
  total?: number;
  currency?: string;
  purchasedAt?: string;
}

/** Statuses from which a touchpoint can still be cancelled. */
export const CANCELLABLE_STATUSES: readonly TouchpointStatus[] = ['PENDING', 'DISPATCHED'];
