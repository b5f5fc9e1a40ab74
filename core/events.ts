/** The documented event contract (docs/events.md): EventBridge envelopes and their details, validated with zod. */
import { z } from 'zod';
import { DETAIL_TYPES } from './topology.ts';
import { InvalidEventError, describeIssues } from './errors.ts';
import { surveyAnsweredDetailSchema } from './surveys/events.ts';

const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time, e.g. 2026-11-23T10:15:00Z' });

export const timeZoneSchema = z.string().refine(isValidTimeZone, {
  message: 'must be an IANA time zone, e.g. Europe/Berlin',
});

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const id = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(128, `${what} must be at most 128 characters`)
    .regex(/^[A-Za-z0-9._:@-]+$/, `${what} may contain only letters, digits and . _ : @ -`);

export const purchasedItemSchema = z.object({
  sku: z.string().min(1),
  name: z.string().min(1),
  quantity: z.number().int().positive(),
  unitPrice: z.number().nonnegative(),
  category: z.string().min(1).optional(),
});

export const purchaseCompletedSchema = z.object({
  orderId: id('orderId'),
  customerId: id('customerId'),
  email: z.email({ message: 'must be an email address' }),
  name: z.string().min(1).max(200),
  timeZone: timeZoneSchema,
  locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 language tag, e.g. en or de-AT'),
  marketingConsent: z.boolean(),
  items: z.array(purchasedItemSchema).min(1, 'must list at least one item'),
  total: z.number().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code, e.g. EUR'),
  purchasedAt: isoDateTime,
  /** Segments the commerce system puts the customer in (e.g. vip, b2b); campaigns can filter on them. */
  segments: z.array(z.string().min(1).max(64)).max(50).optional(),
});
export type PurchaseCompleted = z.infer<typeof purchaseCompletedSchema>;

export const orderRefundedSchema = z.object({
  orderId: id('orderId'),
  customerId: id('customerId'),
  refundedAt: isoDateTime,
  reason: z.string().max(500).optional(),
});
export type OrderRefunded = z.infer<typeof orderRefundedSchema>;

export const orderCancelledSchema = z.object({
  orderId: id('orderId'),
  customerId: id('customerId'),
  cancelledAt: isoDateTime,
  reason: z.string().max(500).optional(),
});
export type OrderCancelled = z.infer<typeof orderCancelledSchema>;

/**
 * SES delivery feedback, published by the configuration set's EventBridge destination. Only the fields we act on
 * are read; the tags are the ones the render step sets (ids only).
 */
const sesTags = z.record(z.string(), z.array(z.string()));
export const emailBouncedSchema = z.object({
  eventType: z.literal('Bounce'),
  bounce: z.object({ bounceType: z.string(), bounceSubType: z.string().optional() }),
  mail: z.object({ messageId: z.string(), tags: sesTags }),
});
export const emailComplaintSchema = z.object({
  eventType: z.literal('Complaint'),
  complaint: z.object({ complaintFeedbackType: z.string().optional() }).passthrough(),
  mail: z.object({ messageId: z.string(), tags: sesTags }),
});
/**
 * SES's Send event ("Email Sent"): SES accepted a message. Ours carry the touchpoint id and the generation that sent
 * it (tags set by the render and send steps); it settles a send whose answer was lost (docs/decisions.md).
 */
export const emailSentEventSchema = z.object({
  'detail-type': z.literal('Email Sent'),
  source: z.literal('aws.ses'),
  time: isoDateTime,
  detail: z.object({
    eventType: z.literal('Send'),
    mail: z.object({
      messageId: z.string().min(1),
      timestamp: isoDateTime.optional(),
      tags: z.object({ touchpointId: z.tuple([z.string().min(1)]), generation: z.tuple([z.string().regex(/^\d{1,9}$/, 'must be a whole number')]) }).loose(),
    }),
  }),
});
export type EmailSentEvent = z.infer<typeof emailSentEventSchema>;
export type EmailBounced = z.infer<typeof emailBouncedSchema>;
export type EmailComplaint = z.infer<typeof emailComplaintSchema>;

const envelopeSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  time: isoDateTime,
  detail: z.unknown(),
});

/** Each consumed detail-type with the schema of its detail. */
const DETAIL_SCHEMAS = {
  [DETAIL_TYPES.purchaseCompleted]: purchaseCompletedSchema,
  [DETAIL_TYPES.orderRefunded]: orderRefundedSchema,
  [DETAIL_TYPES.orderCancelled]: orderCancelledSchema,
  [DETAIL_TYPES.emailBounced]: emailBouncedSchema,
  [DETAIL_TYPES.emailComplaint]: emailComplaintSchema,
  [DETAIL_TYPES.surveyAnswered]: surveyAnsweredDetailSchema,
} as const;
type DetailSchemas = typeof DETAIL_SCHEMAS;

export type CommerceEvent = {
  [K in keyof DetailSchemas]: { type: K; eventId: string; time: string; detail: z.infer<DetailSchemas[K]> };
}[keyof DetailSchemas];

const isHandled = (type: string): type is keyof DetailSchemas => Object.hasOwn(DETAIL_SCHEMAS, type);

/**
 * Validates an EventBridge event. The error names the event type, its id and every bad field, but never a field's
 * value: values may be personal data and the message is logged and kept in the dead-letter queue.
 */
export function parseCommerceEvent(raw: unknown): CommerceEvent {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) throw new InvalidEventError('event envelope', describeIssues(envelope.error.issues));
  const { id: eventId, time } = envelope.data;
  const type = envelope.data['detail-type'];
  const what = `"${type}" event ${eventId}`;
  if (!isHandled(type)) {
    throw new InvalidEventError(what, [
      `detail-type: "${type}" is not handled (expected one of: ${Object.keys(DETAIL_SCHEMAS).join(', ')})`,
    ]);
  }
  const detail = DETAIL_SCHEMAS[type].safeParse(envelope.data.detail);
  if (!detail.success) throw new InvalidEventError(what, describeIssues(detail.error.issues, 'detail'));
  return { type, eventId, time, detail: detail.data } as CommerceEvent;
}
