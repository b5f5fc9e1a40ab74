/**
 * The contract events the commerce system publishes (EventBridge details), validated with zod.
 *
 * Error messages say what is wrong and where (`detail.endDate: "2027-02-30" is not a calendar date …`). Unlike
 * the purchase events they may quote a value, but only the value of a date field and only when it looks like a date:
 * dates of a contract are not personal data, and seeing the bad date is what makes the message useful.
 */
import { z } from 'zod';
import { InvalidEventError, describeIssues } from '../errors.ts';
import { purchaseCompletedSchema, timeZoneSchema } from '../events.ts';
import { isCalendarDate } from './renewal-offsets.ts';

/** Detail-types of the contract events (the integrator adds them to DETAIL_TYPES and the bus rule). */
export const CONTRACT_DETAIL_TYPES = {
  contractStarted: 'Contract Started',
  contractUpdated: 'Contract Updated',
  contractRenewed: 'Contract Renewed',
  contractCancelled: 'Contract Cancelled',
} as const;
export type ContractDetailType = (typeof CONTRACT_DETAIL_TYPES)[keyof typeof CONTRACT_DETAIL_TYPES];

export const isoDateTimeSchema = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time, e.g. 2026-11-23T10:15:00Z' });

export const contractIdSchema = z
  .string({ error: 'contractId must be a string' })
  .min(1, 'contractId must not be empty')
  .max(128, 'contractId must be at most 128 characters')
  .regex(/^[A-Za-z0-9._:@-]+$/, 'contractId may contain only letters, digits and . _ : @ -');

/** Shows a rejected date only when it looks like one (digits and separators), so no stray personal data is echoed. */
const shown = (value: string) => (/^[0-9 ./:T+-]{1,32}$/.test(value) ? `"${value}"` : 'the value');

/** A close valid date to suggest: the same year and month with the day clamped, else a plain example. */
function suggestionFor(value: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return '2027-03-31';
  const [year, month, day] = [Number(match[1]), Math.min(12, Math.max(1, Number(match[2]))), Number(match[3])];
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${match[1]}-${pad(month)}-${pad(Math.min(last, Math.max(1, day)))}`;
}

/** An ISO calendar date, YYYY-MM-DD, that exists (29 February only in leap years). */
export const calendarDateSchema = z.string({ error: 'must be a calendar date string (YYYY-MM-DD)' }).superRefine((value, ctx) => {
  if (!isCalendarDate(value)) {
    ctx.addIssue({ code: 'custom', message: `${shown(value)} is not a calendar date (YYYY-MM-DD, e.g. ${suggestionFor(value)})` });
  }
});

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));
export const currencySchema = z.string({ error: 'must be an ISO 4217 code, e.g. EUR' }).refine((code) => ISO_4217.has(code), {
  error: (issue) =>
    typeof issue.input === 'string' && /^[A-Za-z]{3}$/.test(issue.input)
      ? `"${issue.input}" is not an ISO 4217 currency code (e.g. EUR, USD)`
      : 'must be an ISO 4217 code, e.g. EUR',
});

const planSchema = z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const valueSchema = z
  .number({ error: 'must be a number, e.g. 499.5' })
  .nonnegative('must not be negative')
  .max(1e12, 'must be at most 1e12');
const autoRenewSchema = z.boolean({ error: 'must be true or false' });

const { customerId, email, name, locale } = purchaseCompletedSchema.shape;

/** The customer profile a contract start carries (as on Purchase Completed). */
export const contractProfileShape = {
  customerId,
  email,
  name,
  timeZone: timeZoneSchema,
  locale,
  marketingConsent: z.boolean({ error: 'must be true or false' }),
};

export const contractTermsShape = {
  contractId: contractIdSchema,
  plan: planSchema,
  value: valueSchema,
  currency: currencySchema,
  startDate: calendarDateSchema,
  endDate: calendarDateSchema,
  autoRenew: autoRenewSchema,
};

/** `endDate` must not be before `startDate` (when both are present and valid). */
export function checkTermDates(value: { startDate?: string | undefined; endDate?: string | undefined }, ctx: z.RefinementCtx): void {
  const { startDate, endDate } = value;
  if (startDate && endDate && isCalendarDate(startDate) && isCalendarDate(endDate) && endDate < startDate) {
    ctx.addIssue({ code: 'custom', path: ['endDate'], message: `"${endDate}" is before startDate "${startDate}"` });
  }
}

export const contractStartedSchema = z
  .object({ ...contractProfileShape, ...contractTermsShape, occurredAt: isoDateTimeSchema })
  .superRefine(checkTermDates);
export type ContractStarted = z.infer<typeof contractStartedSchema>;

const CHANGEABLE = ['plan', 'value', 'currency', 'startDate', 'endDate', 'autoRenew'] as const;
export const contractUpdatedSchema = z
  .object({
    contractId: contractIdSchema,
    customerId,
    plan: planSchema.optional(),
    value: valueSchema.optional(),
    currency: currencySchema.optional(),
    startDate: calendarDateSchema.optional(),
    endDate: calendarDateSchema.optional(),
    autoRenew: autoRenewSchema.optional(),
    occurredAt: isoDateTimeSchema,
  })
  .superRefine((value, ctx) => {
    if (CHANGEABLE.every((field) => value[field] === undefined)) {
      ctx.addIssue({ code: 'custom', message: `must change at least one of ${CHANGEABLE.join(', ')}` });
    }
    checkTermDates(value, ctx);
  });
export type ContractUpdated = z.infer<typeof contractUpdatedSchema>;

export const contractRenewedSchema = z.object({
  contractId: contractIdSchema,
  customerId,
  /** The new last day. */
  endDate: calendarDateSchema,
  plan: planSchema.optional(),
  value: valueSchema.optional(),
  currency: currencySchema.optional(),
  autoRenew: autoRenewSchema.optional(),
  occurredAt: isoDateTimeSchema,
});
export type ContractRenewed = z.infer<typeof contractRenewedSchema>;

export const contractCancelledSchema = z.object({
  contractId: contractIdSchema,
  customerId,
  reason: z.string({ error: 'must be a string' }).max(500, 'must be at most 500 characters').optional(),
  occurredAt: isoDateTimeSchema,
});
export type ContractCancelled = z.infer<typeof contractCancelledSchema>;

const DETAIL_SCHEMAS = {
  [CONTRACT_DETAIL_TYPES.contractStarted]: contractStartedSchema,
  [CONTRACT_DETAIL_TYPES.contractUpdated]: contractUpdatedSchema,
  [CONTRACT_DETAIL_TYPES.contractRenewed]: contractRenewedSchema,
  [CONTRACT_DETAIL_TYPES.contractCancelled]: contractCancelledSchema,
} as const;
type DetailSchemas = typeof DETAIL_SCHEMAS;

export type ContractEvent = {
  [K in keyof DetailSchemas]: { type: K; eventId: string; time: string; detail: z.infer<DetailSchemas[K]> };
}[keyof DetailSchemas];

export const isContractDetailType = (type: string): type is ContractDetailType => Object.hasOwn(DETAIL_SCHEMAS, type);

const envelopeSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  time: isoDateTimeSchema,
  detail: z.unknown(),
});

/**
 * Validates a contract event (EventBridge envelope and detail). Throws InvalidEventError naming the event type, its
 * id and every bad field as `detail.<path>: <problem>`.
 */
export function parseContractEvent(raw: unknown): ContractEvent {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) throw new InvalidEventError('event envelope', describeIssues(envelope.error.issues));
  const { id: eventId, time } = envelope.data;
  const type = envelope.data['detail-type'];
  const what = `"${type}" event ${eventId}`;
  if (!isContractDetailType(type)) {
    throw new InvalidEventError(what, [
      `detail-type: "${type}" is not a contract event (expected one of: ${Object.values(CONTRACT_DETAIL_TYPES).join(', ')})`,
    ]);
  }
  const detail = DETAIL_SCHEMAS[type].safeParse(envelope.data.detail);
  if (!detail.success) throw new InvalidEventError(what, describeIssues(detail.error.issues, 'detail'));
  return { type, eventId, time, detail: detail.data } as ContractEvent;
}
