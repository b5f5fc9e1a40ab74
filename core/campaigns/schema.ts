/**
 * The campaign rule format (YAML or JSON files under campaigns/). Kept deliberately open to growth: every block is an
 * object so later rule features (segments, holdouts, variants) add keys rather than change shapes.
 */
import { z } from 'zod';
import Handlebars from 'handlebars';
import { isIsoDuration } from '../schedule.ts';
import { DETAIL_TYPES } from '../topology.ts';

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

export const campaignSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be lowercase letters, digits and dashes, e.g. post-purchase-check-in'),
    kind: z.enum(['check-in']),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    trigger: z.object({
      event: z.literal(DETAIL_TYPES.purchaseCompleted),
      /** Only purchases with at least this total qualify. */
      minimumTotal: z.number().nonnegative().optional(),
      /** Only purchases with at least one item in one of these categories qualify. */
      categories: z.array(z.string().min(1)).min(1).optional(),
      currencies: z.array(z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code, e.g. EUR')).min(1).optional(),
    }),
    /** Time after the trigger when the email is due. */
    delay: duration('P3D'),
    /** No email is sent in this local window; a due email moves to its end. */
    quietHours: z.object({ start: clockTime, end: clockTime }).optional(),
    /** Per customer, across all campaigns: at most `maxEmails` sent within `per`. */
    frequencyCap: z.object({ maxEmails: z.number().int().positive(), per: duration('P7D') }).optional(),
    requireMarketingConsent: z.boolean().default(true),
    /** Events that cancel the pending touchpoint. */
    stopOn: z.array(z.enum(['refund'])).default(['refund']),
    template: z
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
      }),
  })
  .strict();

export type Campaign = z.output<typeof campaignSchema>;
export type CampaignInput = z.input<typeof campaignSchema>;
