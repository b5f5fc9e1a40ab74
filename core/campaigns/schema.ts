/**
 * The campaign rule format (YAML or JSON files under campaigns/). Kept deliberately open to growth: every block is an
 * object so later rule features (segments, holdouts, variants) add keys rather than change shapes.
 */
import { z } from 'zod';
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import { isIsoDuration, isSendAllowed, WEEKDAYS } from '../schedule.ts';
import { DETAIL_TYPES } from '../topology.ts';
import { SURVEY_KINDS } from '../surveys/scales.ts';
import { LOYALTY_TIERS } from '../loyalty/profile.ts';

const duration = (example: string) =>
  z.string().refine(isIsoDuration, {
    error: (issue) => `${JSON.stringify(issue.input)} is not an ISO-8601 duration (try ${example})`,
  });

const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a 24-hour local time "HH:mm", e.g. "21:00"' });

const template = (field: string) =>
  z.string().min(1, `${field} must not be empty`).superRefine((source, ctx) => {
    try {
      Handlebars.precompile(source, { strict: false });
    } catch (error) {
      // Handlebars puts the position on the first line and the expectation on the last.
      const lines = (error as Error).message.split('\n');
      const summary = lines.length > 1 ? `${lines[0]} ${lines.at(-1)}` : lines[0];
      ctx.addIssue({ code: 'custom', message: `is not a valid template: ${summary}` });
    }
  });

const localizedContent = z.object({
  subject: template('subject'),
  html: template('html'),
  text: template('text'),
});

const templateSchema = z
  .object({
    defaultLocale: z.string().min(2),
    locales: z.record(z.string().min(2), localizedContent),
  })
  .superRefine((value, ctx) => {
    if (!(value.defaultLocale in value.locales)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultLocale'],
        message: `"${value.defaultLocale}" has no entry under template.locales (have: ${Object.keys(value.locales).join(', ') || 'none'})`,
      });
    }
  });

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** Minutes per day left to send outside quiet hours from `start` to `end` (start == end: no quiet hours). */
export function sendingMinutesPerDay(quietHours: { start: string; end: string }): number {
  const quiet = (minutesOf(quietHours.end) - minutesOf(quietHours.start) + 1440) % 1440;
  return 1440 - quiet;
}

const quietHoursSchema = z
  .object({ start: clockTime, end: clockTime })
  .superRefine((value, ctx) => {
    if (sendingMinutesPerDay(value) < 60) {
      ctx.addIssue({ code: 'custom', message: 'quietHours leave less than one hour a day to send' });
    }
  });

const sendWindowSchema = z
  .object({
    /** Weekdays on which to send; all days when absent. */
    days: z
      .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }))
      .min(1, 'must list at least one day, e.g. [mon, tue, wed, thu, fri]')
      .optional(),
    start: clockTime,
    end: clockTime,
  })
  .strict()
  .superRefine((value, ctx) => {
    if (typeof value.start === 'string' && typeof value.end === 'string' && minutesOf(value.end) <= minutesOf(value.start)) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: `"${value.end}" is not after start "${value.start}" (a send window stays within one day; for overnight pauses use quietHours)`,
      });
    }
    if (Array.isArray(value.days) && new Set(value.days).size !== value.days.length) {
      ctx.addIssue({ code: 'custom', path: ['days'], message: 'lists a day twice' });
    }
  });

/** Minutes per day on which both the send window and the quiet hours allow sending (weekdays aside). */
export function sendableMinutesPerDay(timing: {
  quietHours?: { start: string; end: string } | undefined;
  sendWindow?: { start: string; end: string } | undefined;
}): number {
  let minutes = 0;
  for (let minute = 0; minute < 1440; minute++) if (isSendAllowed(1, minute, { ...timing, sendWindow: timing.sendWindow && { ...timing.sendWindow, days: undefined } })) minutes++;
  return minutes;
}

/** An item SKU, or a prefix ending in `*` (e.g. `MUG-*`). */
const skuPattern = z.string().regex(/^[^*\s]+\*?$/, 'must be a SKU or a prefix ending in *, e.g. MUG-1 or MUG-*');

export function skuMatches(pattern: string, sku: string): boolean {
  return pattern.endsWith('*') ? sku.startsWith(pattern.slice(0, -1)) : sku === pattern;
}

/** The kinds a campaign file may declare; each has its workflow. */
export const CAMPAIGN_KINDS = ['check-in', 'survey', 'follow-up', 'renewal-reminder'] as const;

/** The trigger of renewal reminders: not a bus event, but the daily sweep finding contracts at an offset. */
export const CONTRACT_ENDING = 'Contract Ending';

/** The events a campaign of each kind may start from. */
export const KIND_TRIGGERS: Readonly<Record<(typeof CAMPAIGN_KINDS)[number], readonly string[]>> = {
  'check-in': [DETAIL_TYPES.purchaseCompleted],
  survey: [DETAIL_TYPES.purchaseCompleted],
  'follow-up': [DETAIL_TYPES.surveyAnswered, DETAIL_TYPES.purchaseCompleted],
  'renewal-reminder': [CONTRACT_ENDING],
};
const TRIGGER_EVENTS: readonly string[] = [DETAIL_TYPES.purchaseCompleted, DETAIL_TYPES.surveyAnswered, CONTRACT_ENDING];

const NPS_CATEGORIES = ['promoter', 'passive', 'detractor'] as const;

const purchaseTrigger = z
  .object({
    event: z.literal(DETAIL_TYPES.purchaseCompleted),
    /** Only purchases with at least this total qualify. */
    minimumTotal: z.number().nonnegative().optional(),
    /** Only purchases with at least one item in one of these categories qualify. */
    categories: z.array(z.string().min(1)).min(1).optional(),
    currencies: z.array(z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code, e.g. EUR')).min(1).optional(),
    /** Only purchases with at least one item whose SKU matches (exactly, or by a `PREFIX*`) qualify. */
    skus: z.array(skuPattern).min(1, 'must list at least one SKU, e.g. [MUG-1]').optional(),
    /** Only customers in at least one of these segments (the purchase event's `segments`) qualify. */
    segments: z.array(z.string().min(1)).min(1, 'must list at least one segment, e.g. [vip]').optional(),
    /** Only customers whose latest NPS answer is in one of these categories; `none`: never answered an NPS survey. */
    lastNps: z
      .array(z.enum([...NPS_CATEGORIES, 'none'], { error: 'must be promoter, passive, detractor or none' }))
      .min(1)
      .optional(),
    /** Only customers whose loyalty tier (core/loyalty/profile.ts), with this purchase counted, is one of these. */
    loyaltyTiers: z
      .array(z.enum(LOYALTY_TIERS, { error: `must be one of ${LOYALTY_TIERS.join(', ')}` }))
      .min(1, 'must list at least one tier, e.g. [loyal, champion]')
      .optional(),
  })
  .strict();

const ANSWER_CATEGORIES = [...NPS_CATEGORIES, 'satisfied', 'not-satisfied'] as const;

const surveyAnsweredTrigger = z
  .object({
    event: z.literal(DETAIL_TYPES.surveyAnswered),
    /** Only answers in these categories (NPS promoter/passive/detractor, CSAT satisfied/not-satisfied). */
    answerCategories: z
      .array(z.enum(ANSWER_CATEGORIES, { error: `must be one of ${ANSWER_CATEGORIES.join(', ')}` }))
      .min(1)
      .optional(),
    /** Only answers to these survey campaigns. */
    surveyCampaigns: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

const contractEndingTrigger = z
  .object({
    event: z.literal(CONTRACT_ENDING),
    /** Days before the contract's last day, e.g. [60, 30, 7]; one reminder at each, on that local day. */
    offsetsDays: z
      .array(
        z
          .number({ error: 'must be a whole number of days from 0 to 730, e.g. 30' })
          .int('must be a whole number of days from 0 to 730, e.g. 30')
          .min(0, 'must be a whole number of days from 0 to 730, e.g. 30')
          .max(730, 'must be a whole number of days from 0 to 730, e.g. 30'),
      )
      .min(1, 'must list at least one offset, e.g. [60, 30, 7]')
      .superRefine((offsets, ctx) => {
        offsets.forEach((offset, index) => {
          if (offsets.indexOf(offset) !== index) ctx.addIssue({ code: 'custom', path: [index], message: `${offset} is listed twice` });
        });
      }),
    /** Local time in the customer's zone at which a reminder goes out (default 09:00). */
    sendAt: clockTime.default('09:00'),
  })
  .strict();

export type PurchaseTrigger = z.output<typeof purchaseTrigger>;
export type SurveyAnsweredTrigger = z.output<typeof surveyAnsweredTrigger>;

const surveySettingsSchema = z
  .object({
    /** nps 0–10, csat 1–5, ces 1–7. */
    scale: z.enum(SURVEY_KINDS, { error: 'must be nps, csat or ces' }),
    /** The question per locale (default: the standard wording for the scale, in en and de). */
    question: z.record(z.string().min(2), z.string().min(1).max(300)).optional(),
    /** One reminder this long after the survey when there is no answer yet; `never` for none. */
    reminderAfter: z.union([z.literal('never'), duration('P3D')]).default('P3D'),
    /** At most one survey (any survey campaign) per customer within this duration. */
    resurveyAfter: duration('P90D').default('P90D'),
    /** How long the links in the email can be used. */
    linkValidFor: duration('P30D').default('P30D'),
    /** How long after the first answer clicking again changes it. */
    editWindow: duration('P7D').default('P7D'),
  })
  .strict();
export type SurveySettings = z.output<typeof surveySettingsSchema>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The instant an `activeFrom` / `activeUntil` value stands for, as ISO UTC. A date alone is a whole UTC day: as
 * `activeFrom` it starts at that day's 00:00Z; as `activeUntil` it ends at the next day's 00:00Z (the day is included).
 * Undefined when the value is not a valid ISO date or date-time with offset.
 */
export function activeInstant(value: string, edge: 'from' | 'until'): string | undefined {
  if (ISO_DATE.test(value)) {
    const day = DateTime.fromISO(value, { zone: 'utc' });
    if (!day.isValid) return undefined;
    return (edge === 'until' ? day.plus({ days: 1 }) : day).toISO() ?? undefined;
  }
  if (!ISO_DATE_TIME.test(value)) return undefined;
  const at = DateTime.fromISO(value, { setZone: true });
  return at.isValid ? (at.toUTC().toISO() ?? undefined) : undefined;
}

const activeDate = (edge: 'from' | 'until', example: string) =>
  z.string().refine((value) => activeInstant(value, edge) !== undefined, {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not an ISO date or date-time with offset (try ${example} or ${example}T09:00:00Z)`,
  });

const variantSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'must be letters, digits, dashes or underscores (at most 32), e.g. short-subject'),
    weight: z
      .number({ error: 'must be a whole number from 1 to 100, e.g. 50' })
      .int('must be a whole number from 1 to 100, e.g. 50')
      .min(1, 'must be a whole number from 1 to 100, e.g. 50')
      .max(100, 'must be a whole number from 1 to 100, e.g. 50'),
    template: templateSchema,
  })
  .strict();

const maxEmails = z
  .number({ error: 'must be a whole number of at least 1, e.g. 3' })
  .int('must be a whole number of at least 1, e.g. 3')
  .positive('must be a whole number of at least 1, e.g. 3');

const cap = z.object({ maxEmails, per: duration('P30D') }).strict();

export const campaignSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be lowercase letters, digits and dashes, e.g. post-purchase-check-in'),
    kind: z.enum(CAMPAIGN_KINDS, { error: (issue) => `${JSON.stringify(issue.input)} is not a campaign kind (expected one of: ${CAMPAIGN_KINDS.join(', ')})` }),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    trigger: z.discriminatedUnion('event', [purchaseTrigger, surveyAnsweredTrigger, contractEndingTrigger], {
      error: (issue) =>
        issue.code === 'invalid_union' ? `must be one of: ${TRIGGER_EVENTS.join(', ')}` : undefined,
    }),
    /** Time after the trigger when the email is due (not for Contract Ending: its offsets say when). */
    delay: duration('P3D').optional(),
    /** Survey campaigns: the scale, wording, reminder and throttle. */
    survey: surveySettingsSchema.optional(),
    /** No email is sent in this local window; a due email moves to its end. */
    quietHours: quietHoursSchema.optional(),
    /** Email goes out only in this local window (and on these weekdays); a due email moves to the next opening. */
    sendWindow: sendWindowSchema.optional(),
    /**
     * Per customer, across all campaigns: at most `maxEmails` sent within `per`; `perCampaign`: at most
     * `maxEmails` of this campaign within its `per`.
     */
    frequencyCap: z
      .object({
        maxEmails: maxEmails.optional(),
        per: duration('P7D').optional(),
        perCampaign: cap.optional(),
      })
      .strict()
      .superRefine((value, ctx) => {
        if (value.maxEmails !== undefined && value.per === undefined) {
          ctx.addIssue({ code: 'custom', path: ['per'], message: 'is missing (maxEmails needs a duration, e.g. per: P7D)' });
        }
        if (value.per !== undefined && value.maxEmails === undefined) {
          ctx.addIssue({ code: 'custom', path: ['maxEmails'], message: 'is missing (per needs a number of emails, e.g. maxEmails: 3)' });
        }
        if (value.maxEmails === undefined && value.per === undefined && value.perCampaign === undefined) {
          ctx.addIssue({ code: 'custom', message: 'is empty (give maxEmails and per, or perCampaign)' });
        }
      })
      .optional(),
    /** A deterministic share of customers (by campaign and customer id) gets nothing; recorded as HELD_OUT. */
    holdout: z
      .object({
        percent: z
          .number({ error: 'must be a number from 0 to 50, e.g. 10' })
          .min(0, 'must be a number from 0 to 50, e.g. 10')
          .max(50, 'must be a number from 0 to 50, e.g. 10'),
      })
      .strict()
      .optional(),
    /** Outside [activeFrom, activeUntil) the campaign plans nothing and skips what is due. */
    activeFrom: activeDate('from', '2026-12-01').optional(),
    activeUntil: activeDate('until', '2026-12-31').optional(),
    requireMarketingConsent: z.boolean().default(true),
    /** Events that cancel the pending touchpoint. */
    stopOn: z
      .array(z.enum(['refund', 'cancellation', 'reply'], { error: 'must be refund, cancellation or reply' }))
      .default(['refund', 'cancellation']),
    /** The email; exactly one of `template` and `variants`. */
    template: templateSchema.optional(),
    /** A/B variants, chosen per customer by weight (deterministic by campaign and customer id). */
    variants: z.array(variantSchema).min(1, 'must list at least one variant').optional(),
  })
  .strict()
  // Runs even when fields have problems (all problems at once), so it checks the types it reads.
  .superRefine(
    (value, ctx) => {
      if (typeof value !== 'object' || value === null) return;
      const hasTemplate = value.template !== undefined;
      const hasVariants = value.variants !== undefined;
      if (hasTemplate && hasVariants) {
        ctx.addIssue({ code: 'custom', path: ['variants'], message: 'give either template or variants, not both' });
      } else if (!hasTemplate && !hasVariants) {
        ctx.addIssue({ code: 'custom', path: ['template'], message: 'is missing (give template, or variants with a template each)' });
      }
      if (Array.isArray(value.variants)) {
        const seen = new Set<unknown>();
        value.variants.forEach((variant, index) => {
          const id: unknown = (variant as { id?: unknown } | undefined)?.id;
          if (typeof id !== 'string') return;
          if (seen.has(id)) {
            ctx.addIssue({ code: 'custom', path: ['variants', index, 'id'], message: `"${id}" is used by an earlier variant` });
          }
          seen.add(id);
        });
      }
      const kind = value.kind as string;
      const event = (value.trigger as { event?: unknown } | undefined)?.event;
      const allowed = KIND_TRIGGERS[kind as keyof typeof KIND_TRIGGERS];
      if (allowed && typeof event === 'string' && TRIGGER_EVENTS.includes(event as never) && !allowed.includes(event)) {
        ctx.addIssue({ code: 'custom', path: ['trigger', 'event'], message: `a ${kind} campaign starts from ${allowed.join(' or ')}, not ${event}` });
      }
      if (typeof event === 'string' && TRIGGER_EVENTS.includes(event)) {
        if (event === CONTRACT_ENDING && value.delay !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['delay'], message: 'is not used by Contract Ending (trigger.offsetsDays say when); remove it' });
        } else if (event !== CONTRACT_ENDING && value.delay === undefined) {
          ctx.addIssue({ code: 'custom', path: ['delay'], message: 'is missing (how long after the trigger, e.g. P3D)' });
        }
      }
      if (kind === 'survey' && value.survey === undefined) {
        ctx.addIssue({ code: 'custom', path: ['survey'], message: 'is missing (a survey campaign needs survey: { scale: nps }, or csat or ces)' });
      }
      if (kind !== 'survey' && value.survey !== undefined && allowed) {
        ctx.addIssue({ code: 'custom', path: ['survey'], message: `is only for survey campaigns (this one is ${kind})` });
      }
      if (kind === 'survey') {
        const templates = [value.template, ...(Array.isArray(value.variants) ? value.variants.map((v) => (v as { template?: unknown }).template) : [])];
        templates.forEach((template, index) => {
          const locales = (template as { locales?: Record<string, { html?: unknown; text?: unknown }> } | undefined)?.locales;
          if (!locales || typeof locales !== 'object') return;
          const base = index === 0 && value.template !== undefined ? ['template'] : ['variants', index - (value.template !== undefined ? 1 : 0), 'template'];
          for (const [locale, content] of Object.entries(locales)) {
            if (typeof content?.html === 'string' && !/\{\{\{\s*survey\.scaleHtml\s*\}\}\}/.test(content.html)) {
              ctx.addIssue({ code: 'custom', path: [...base, 'locales', locale, 'html'], message: 'must show the answer links: put {{{survey.scaleHtml}}} where they go' });
            }
            if (typeof content?.text === 'string' && !/\{\{\s*survey\.scaleText\s*\}\}/.test(content.text)) {
              ctx.addIssue({ code: 'custom', path: [...base, 'locales', locale, 'text'], message: 'must list the answer links: put {{survey.scaleText}} where they go' });
            }
          }
        });
      }
      const window = value.sendWindow as { start?: unknown; end?: unknown } | undefined;
      const quiet = value.quietHours as { start?: unknown; end?: unknown } | undefined;
      const clock = (v: unknown) => typeof v === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(v);
      if (window && clock(window.start) && clock(window.end) && (window.end as string) > (window.start as string) && (!quiet || (clock(quiet.start) && clock(quiet.end)))) {
        const minutes = sendableMinutesPerDay({
          sendWindow: { start: window.start as string, end: window.end as string },
          ...(quiet ? { quietHours: { start: quiet.start as string, end: quiet.end as string } } : {}),
        });
        if (minutes < 60) {
          ctx.addIssue({
            code: 'custom',
            path: ['sendWindow'],
            message: `leaves ${minutes} minute(s) a day to send${quiet ? ' outside quietHours' : ''} (at least 60 needed)`,
          });
        }
      }
      if (typeof value.activeFrom === 'string' && typeof value.activeUntil === 'string') {
        const from = activeInstant(value.activeFrom, 'from');
        const until = activeInstant(value.activeUntil, 'until');
        if (from && until && until <= from) {
          ctx.addIssue({
            code: 'custom',
            path: ['activeUntil'],
            message: `"${value.activeUntil}" is not after activeFrom "${value.activeFrom}"`,
          });
        }
      }
    },
    { when: () => true },
  );

export type CampaignTemplate = z.output<typeof templateSchema>;
export type CampaignVariant = z.output<typeof variantSchema>;

export type Campaign = z.output<typeof campaignSchema>;
export type CampaignInput = z.input<typeof campaignSchema>;
