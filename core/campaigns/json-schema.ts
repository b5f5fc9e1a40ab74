/**
 * The JSON Schema of campaign rule files, generated from the zod schema (input side: what a person writes, defaults
 * optional), so editors complete and check the YAML. The committed copy is campaigns/campaign.schema.json; a test
 * keeps it equal to what this generates.
 */
import { z } from 'zod';
import { campaignSchema } from './schema.ts';

/** Hover texts for editors, by property path. Kept here because the zod schema carries no descriptions. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  id: 'Lowercase letters, digits and dashes; unique across files, e.g. post-purchase-check-in',
  kind: 'What the campaign sends: check-in, survey (needs survey), follow-up (after a survey answer or purchase), renewal-reminder (trigger Contract Ending)',
  description: 'For people',
  enabled: 'A disabled campaign plans nothing and its pending touchpoints are skipped (default true)',
  trigger: 'Which events start the campaign',
  'trigger.event': 'The event that starts the campaign',
  'trigger.minimumTotal': 'Only purchases with at least this total',
  'trigger.categories': 'Only purchases with an item in one of these categories',
  'trigger.currencies': 'Only purchases in these ISO 4217 currencies',
  'trigger.skus': 'Only purchases with an item of one of these SKUs; a trailing * matches a prefix, e.g. MUG-*',
  'trigger.segments': 'Only customers in one of these segments (the purchase event\'s `segments`), e.g. [vip]',
  'trigger.loyaltyTiers':
    'Only customers in one of these loyalty tiers, this purchase counted: new, regular (2+ purchases or 90+ days), loyal (5+ purchases or a contract renewal), champion (loyal and latest NPS promoter); a detractor is never above regular',
  delay: 'ISO-8601 duration after purchasedAt, in the customer\'s zone, e.g. P3D or PT12H',
  quietHours: 'Local window without email; a touchpoint due inside moves to `end` (may wrap midnight)',
  'quietHours.start': 'Local time "HH:mm", e.g. "21:00"',
  'quietHours.end': 'Local time "HH:mm", e.g. "08:00"',
  sendWindow: 'Local hours (and weekdays) in which email goes out; a touchpoint due outside moves to the next opening',
  'sendWindow.days': 'Weekdays to send on, e.g. [mon, tue, wed, thu, fri] (default: every day)',
  'sendWindow.start': 'Local time "HH:mm" the window opens, e.g. "09:00"',
  'sendWindow.end': 'Local time "HH:mm" the window closes (after start, same day), e.g. "17:00"',
  frequencyCap: 'Per customer: at most maxEmails within `per` across all campaigns, and/or perCampaign for this campaign; over a cap the email is skipped',
  'frequencyCap.maxEmails': 'At most this many emails across all campaigns (give with per)',
  'frequencyCap.per': 'Within this ISO-8601 duration, e.g. P7D (give with maxEmails)',
  'frequencyCap.perCampaign': 'Per customer, this campaign only: at most maxEmails within `per`',
  'frequencyCap.perCampaign.maxEmails': 'At most this many emails of this campaign',
  'frequencyCap.perCampaign.per': 'Within this ISO-8601 duration, e.g. P30D',
  holdout: 'A deterministic share of customers (by campaign and customer id) gets nothing from this campaign; recorded as HELD_OUT to measure lift',
  'holdout.percent': 'Percent of customers held out, 0 to 50, e.g. 10',
  activeFrom: 'ISO date (2026-12-01, from 00:00 UTC) or date-time with offset; before it the campaign plans nothing and skips what is due',
  activeUntil: 'ISO date (2026-12-31, through the end of that day UTC) or date-time with offset (exclusive); after it the campaign plans nothing and skips what is due',
  variants: 'A/B template variants, chosen per customer by weight; give either template or variants',
  'variants.id': 'Unique within the campaign; tagged on the email as `variant`',
  'variants.weight': 'Relative weight, a whole number from 1 to 100',
  'variants.template': 'The variant\'s templates, same shape as template',
  requireMarketingConsent: 'Send only to customers whose last purchase said marketingConsent: true (default true)',
  stopOn: 'What cancels the pending email: refund, cancellation (of its order; default both), reply (the customer answered a survey)',
  template: 'Handlebars templates per locale; give either template or variants',
  'template.defaultLocale': 'Used when neither the customer\'s locale nor its language has templates; must be a key of locales',
  'template.locales': 'Locale (en, de, de-AT) → subject, html and text templates',
};

type JsonSchemaNode = { properties?: Record<string, JsonSchemaNode>; description?: string; [key: string]: unknown };

function describe(node: JsonSchemaNode, prefix: string): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const description = DESCRIPTIONS[path];
    if (description) child.description = description;
    describe(child, path);
    // Array elements (variants[]) are described under the array's path: `variants.id`.
    if (child.items && typeof child.items === 'object') describe(child.items as JsonSchemaNode, path);
    // So are the options of a union (trigger's events): `trigger.minimumTotal`.
    for (const option of (child.anyOf ?? child.oneOf ?? []) as JsonSchemaNode[]) describe(option, path);
  }
}

/** The schema as a JSON value, with `$schema`, a title and a description. */
export function campaignJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(campaignSchema, { io: 'input', target: 'draft-2020-12' }) as JsonSchemaNode;
  describe(generated, '');
  const { $schema, ...rest } = generated;
  return {
    $schema: $schema ?? 'https://json-schema.org/draft/2020-12/schema',
    title: 'Outreach campaign',
    description:
      'One campaign rule file under campaigns/ (YAML or JSON). Generated from core/campaigns/schema.ts by `npm run outreach -- campaigns schema`; see docs/campaigns.md.',
    ...rest,
    // The zod refinement "exactly one of template and variants" has no JSON Schema form of its own.
    oneOf: [{ required: ['template'] }, { required: ['variants'] }],
  };
}

/**
 * The field names allowed at `path` of a campaign (array indexes step into the element), for "did you mean"
 * hints on unknown fields. Empty when the path does not lead to an object.
 */
export function knownFieldsAt(path: ReadonlyArray<PropertyKey>): string[] {
  let nodes: JsonSchemaNode[] = [z.toJSONSchema(campaignSchema, { io: 'input', target: 'draft-2020-12' }) as JsonSchemaNode];
  // A union (the trigger's events) offers the fields of each of its options.
  const options = (node: JsonSchemaNode): JsonSchemaNode[] => [node, ...((node.anyOf ?? node.oneOf ?? []) as JsonSchemaNode[]).flatMap(options)];
  for (const step of path) {
    nodes = nodes
      .flatMap(options)
      .map((node) => (typeof step === 'number' ? (node.items as JsonSchemaNode | undefined) : node.properties?.[String(step)]))
      .filter((node): node is JsonSchemaNode => node !== undefined);
  }
  return [...new Set(nodes.flatMap(options).flatMap((node) => Object.keys(node.properties ?? {})))];
}

/** The schema file's text, exactly as committed in campaigns/campaign.schema.json. */
export function campaignJsonSchemaText(): string {
  return `${JSON.stringify(campaignJsonSchema(), null, 2)}\n`;
}
