/** Renders a campaign's template for one recipient: subject, HTML and plain text, with locale fallback. */
import Handlebars from 'handlebars';
import { templateFor } from './assignment.ts';
import type { Campaign, CampaignTemplate } from './schema.ts';
import type { ContractContext, TouchpointContext } from '../model.ts';

const html = Handlebars.create();
const plain = Handlebars.create();
for (const engine of [html, plain]) {
  engine.registerHelper('money', (amount: unknown, currency: unknown, locale: unknown) =>
    typeof amount === 'number' && typeof currency === 'string'
      ? new Intl.NumberFormat(typeof locale === 'string' ? locale : 'en', { style: 'currency', currency }).format(amount)
      : '',
  );
}

export interface TemplateData {
  customer: { name: string; firstName: string };
  order: TouchpointContext;
  campaign: { id: string };
  locale: string;
  unsubscribeUrl: string;
  /** Survey campaigns: the question and the answer links (`{{{survey.scaleHtml}}}`, `{{survey.scaleText}}`). */
  survey?: SurveyTemplateData;
  /** Renewal reminders: the contract (plan, value, currency, endDate, autoRenew, offsetDays, contractId). */
  contract?: ContractContext;
}

export interface SurveyTemplateData {
  question: string;
  scaleHtml: string;
  scaleText: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  locale: string;
  /** The A/B variant whose template was rendered (absent for a campaign with a single template). */
  variant?: string;
}

/** `de-AT` → `de-AT`, else `de`, else the campaign's default locale. */
export function pickLocale(template: CampaignTemplate, locale: string): string {
  const { locales, defaultLocale } = template;
  if (locale in locales) return locale;
  const language = locale.split('-')[0] ?? '';
  return language in locales ? language : defaultLocale;
}

const compiled = new Map<string, HandlebarsTemplateDelegate>();
function compile(engine: typeof Handlebars, source: string, escape: boolean): HandlebarsTemplateDelegate {
  const key = `${escape}\u0000${source}`;
  let template = compiled.get(key);
  if (!template) {
    template = engine.compile(source, { noEscape: !escape, strict: false });
    compiled.set(key, template);
  }
  return template;
}

/**
 * `recipient.variant` is the variant recorded on the touchpoint; without one, a campaign with variants renders the
 * variant `recipient.customerId` would be given (see assignment.ts).
 */
export function renderCampaignEmail(
  campaign: Campaign,
  recipient: { name: string; locale: string; customerId?: string; variant?: string | undefined },
  order: TouchpointContext,
  unsubscribeUrl: string,
  survey?: SurveyTemplateData,
): RenderedEmail {
  const chosen = templateFor(campaign, recipient.customerId ?? '', recipient.variant);
  const locale = pickLocale(chosen.template, recipient.locale);
  const content = chosen.template.locales[locale];
  if (!content) throw new RangeError(`campaign ${campaign.id} has no template for ${locale}`);
  const data: TemplateData = {
    customer: { name: recipient.name, firstName: recipient.name.trim().split(/\s+/)[0] ?? recipient.name },
    order,
    campaign: { id: campaign.id },
    locale: recipient.locale,
    unsubscribeUrl,
    ...(survey ? { survey } : {}),
    ...(order.contract ? { contract: order.contract } : {}),
  };
  return {
    subject: compile(plain, content.subject, false)(data).replace(/\s+/g, ' ').trim(),
    html: compile(html, content.html, true)(data),
    text: compile(plain, content.text, false)(data),
    locale,
    ...(chosen.variant !== undefined ? { variant: chosen.variant } : {}),
  };
}
