/**
 * Close the loop on an unhappy customer: decides whether a "Survey Answered" event calls for a detractor alert, and
 * builds it — an email to the customer-experience team (only when a CX address is configured) and the "Detractor
 * Alert" event for the customer's ticketing system. The close-the-loop workflow sends and publishes what this returns.
 *
 * Who is a detractor, per kind (every scale here runs from bad to good, see core/surveys/scales.ts):
 *  - NPS 0–10: 0–6, the NPS detractors.
 *  - CSAT 1–5: 1–2 ("dissatisfied"). A 3 is neutral: it is "not-satisfied" for the CSAT figure, not worth a call.
 *  - CES 1–7: 1–2. Our CES scale runs from 1 "very difficult" to 7 "very easy", so the customers who struggled are
 *    the low scores (the "≥ 6" of effort scales where 7 means "very high effort" would page about the happiest ones).
 *
 * One alert per detractor answer: an answer alerts when it *becomes* a detractor's — the first answer, or a change
 * from a score that was not one. A detractor who adds a comment or moves from 3 to 2 does not page the team again.
 * (Survey Answered is published for the latest revision; if a settlement was cut short and the customer changed a
 * detractor answer to another detractor score before the sweep, the first one was never published and neither
 * alerts. That takes a crash and a second answer within minutes, and the answer still counts in the aggregates.)
 *
 * The event carries the comment and the customer's name and address. It goes to the customer's own ticketing system
 * on their own bus, which cannot open a useful ticket without them and should not need read access to our tables.
 * Survey Answered stays ids-only: every consumer of the product's answers gets it, this one goes to whoever handles
 * complaints. The alert email carries the same, plus Reply-To the customer, so the team can answer straight away.
 */
import type { Customer, Touchpoint } from '../model.ts';
import type { CustomerRepository, TouchpointRepository } from '../ports.ts';
import type { SurveyAnsweredDetail } from '../surveys/events.ts';
import { escapeHtml } from '../surveys/html.ts';
import type { SurveyResponseRepository } from '../surveys/ports.ts';
import { SURVEY_SCALES, type SurveyKind } from '../surveys/scales.ts';

/** The highest score of each kind that counts as a detractor's (each scale's low end is the unhappy one). */
export const DETRACTOR_MAX_SCORE: Readonly<Record<SurveyKind, number>> = { nps: 6, csat: 2, ces: 2 };

export function isDetractorScore(kind: SurveyKind, score: number): boolean {
  return score <= DETRACTOR_MAX_SCORE[kind];
}

export interface DetractorAlertDeps {
  responses: Pick<SurveyResponseRepository, 'get'>;
  customers: Pick<CustomerRepository, 'get'>;
  /** The survey's touchpoint (the survey id is its id): the order the answer is about. */
  touchpoints: Pick<TouchpointRepository, 'get'>;
  senderAddress: string;
  configurationSet: string;
  /** Where the alert email goes; empty: no CX address configured, the event only. */
  cxAddress: string;
}

export interface AlertOrder {
  orderId?: string;
  items?: Array<{ sku: string; name: string; quantity: number; unitPrice: number }>;
  total?: number;
  currency?: string;
  purchasedAt?: string;
}

/** The "Detractor Alert" event detail. */
export interface DetractorAlertDetail {
  /** `<surveyId>#<revision>`: the same for every delivery of one answer, so a ticketing system can dedupe on it. */
  alertId: string;
  surveyId: string;
  campaignId: string;
  customerId: string;
  orderId?: string;
  kind: SurveyKind;
  score: number;
  category: string;
  /** The scale, so a consumer need not know the kinds: e.g. 0–10 for NPS. */
  scale: { min: number; max: number };
  previousScore?: number;
  revision: number;
  hasComment: boolean;
  comment?: string;
  answeredAt: string;
  firstAnsweredAt: string;
  /** Absent when the customer record is gone. */
  customer?: { name: string; email: string; locale: string; unsubscribed: boolean; suppressed: boolean };
  /** What the survey asked about, as recorded when it was planned. */
  order?: AlertOrder;
}

/** The SES v2 SendEmail request the workflow's SendAlertEmail task passes on unchanged. */
export interface AlertEmailRequest {
  FromEmailAddress: string;
  Destination: { ToAddresses: string[] };
  /** The customer, so a reply from the team goes to them; empty when the customer record is gone. */
  ReplyToAddresses: string[];
  ConfigurationSetName: string;
  EmailTags: Array<{ Name: string; Value: string }>;
  Content: {
    Simple: {
      Subject: { Data: string; Charset: 'UTF-8' };
      Body: { Html: { Data: string; Charset: 'UTF-8' }; Text: { Data: string; Charset: 'UTF-8' } };
    };
  };
}

export type DetractorAlertDecision =
  | { alert: false; reason: string }
  | { alert: true; event: DetractorAlertDetail; email?: AlertEmailRequest };

const KIND_LABELS: Readonly<Record<SurveyKind, string>> = { nps: 'NPS', csat: 'CSAT', ces: 'CES' };

/**
 * Builds the detractor alert for a Survey Answered event, or says why there is none.
 *
 * Primary course:
 *  1. The score is a detractor's for its kind and the previous one (if any) was not: otherwise no alert.
 *  2. Read the response (the comment), the customer (name, address) and the survey's touchpoint (the order).
 *  3. If the answer has meanwhile changed to a score that is not a detractor's, no alert: the customer changed their
 *     mind, and the newer answer's own event did not alert either.
 *  4. Build the Detractor Alert detail and, when a CX address is configured, the alert email.
 */
export async function buildDetractorAlert(detail: SurveyAnsweredDetail, deps: DetractorAlertDeps): Promise<DetractorAlertDecision> {
  const kind = KIND_LABELS[detail.kind];
  if (!isDetractorScore(detail.kind, detail.score)) return { alert: false, reason: `${kind} ${detail.score} is not a detractor's score` };
  if (detail.previousScore !== undefined && isDetractorScore(detail.kind, detail.previousScore)) {
    return { alert: false, reason: `already a detractor's answer before (${kind} ${detail.previousScore}): alerted then` };
  }

  const [response, customer, touchpoint] = await Promise.all([
    deps.responses.get(detail.surveyId),
    deps.customers.get(detail.customerId),
    deps.touchpoints.get(detail.surveyId),
  ]);
  if (response && response.revision > detail.revision && !isDetractorScore(response.kind, response.score)) {
    return { alert: false, reason: `the answer has changed since to ${kind} ${response.score} (revision ${response.revision})` };
  }

  // The latest stored comment: the event carries none. A missing response still alerts, from the event alone.
  const comment = response?.comment;
  const event = alertDetail(detail, comment, customer, touchpoint);
  const cxAddress = deps.cxAddress.trim();
  return cxAddress === '' ? { alert: true, event } : { alert: true, event, email: alertEmail(event, cxAddress, deps) };
}

function alertDetail(detail: SurveyAnsweredDetail, comment: string | undefined, customer: Customer | undefined, touchpoint: Touchpoint | undefined): DetractorAlertDetail {
  const { min, max } = SURVEY_SCALES[detail.kind];
  const order = orderOf(detail, touchpoint);
  return {
    alertId: `${detail.surveyId}#${detail.revision}`,
    surveyId: detail.surveyId,
    campaignId: detail.campaignId,
    customerId: detail.customerId,
    ...(detail.orderId !== undefined ? { orderId: detail.orderId } : {}),
    kind: detail.kind,
    score: detail.score,
    category: detail.category,
    scale: { min, max },
    ...(detail.previousScore !== undefined ? { previousScore: detail.previousScore } : {}),
    revision: detail.revision,
    hasComment: comment !== undefined,
    ...(comment !== undefined ? { comment } : {}),
    answeredAt: detail.answeredAt,
    firstAnsweredAt: detail.firstAnsweredAt,
    ...(customer
      ? {
          customer: {
            name: customer.name,
            email: customer.email,
            locale: customer.locale,
            unsubscribed: customer.unsubscribedAt !== undefined,
            suppressed: customer.suppressedAt !== undefined,
          },
        }
      : {}),
    ...(order ? { order } : {}),
  };
}

function orderOf(detail: SurveyAnsweredDetail, touchpoint: Touchpoint | undefined): AlertOrder | undefined {
  const context = touchpoint?.context;
  const orderId = context?.orderId ?? detail.orderId;
  const order: AlertOrder = {
    ...(orderId !== undefined ? { orderId } : {}),
    ...(context?.items ? { items: context.items.map(({ sku, name, quantity, unitPrice }) => ({ sku, name, quantity, unitPrice })) } : {}),
    ...(context?.total !== undefined ? { total: context.total } : {}),
    ...(context?.currency !== undefined ? { currency: context.currency } : {}),
    ...(context?.purchasedAt !== undefined ? { purchasedAt: context.purchasedAt } : {}),
  };
  return Object.keys(order).length > 0 ? order : undefined;
}

function money(amount: number, currency: string | undefined): string {
  if (currency === undefined) return String(amount);
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

/** The facts of the alert as label/value lines, shared by the text and the HTML body. */
function factsOf(event: DetractorAlertDetail): Array<[string, string]> {
  const kind = KIND_LABELS[event.kind];
  const facts: Array<[string, string]> = [
    ['Score', `${kind} ${event.score} on ${event.scale.min}–${event.scale.max} (${event.category})${event.previousScore !== undefined ? `, changed from ${event.previousScore}` : ''}`],
    ['Customer', event.customer ? `${event.customer.name} <${event.customer.email}>` : `unknown (customer id ${event.customerId})`],
  ];
  if (event.customer?.unsubscribed) facts.push(['Note', 'the customer has unsubscribed from our emails']);
  if (event.customer?.suppressed) facts.push(['Note', "the customer's address bounced or complained: email may not reach them"]);
  const order = event.order;
  if (order?.orderId !== undefined) facts.push(['Order', order.orderId]);
  for (const item of order?.items ?? []) facts.push(['Item', `${item.quantity} × ${item.name} (${item.sku})`]);
  if (order?.total !== undefined) facts.push(['Total', money(order.total, order.currency)]);
  facts.push(['Campaign', event.campaignId], ['Answered', event.answeredAt], ['Survey', event.surveyId]);
  return facts;
}

function alertEmail(event: DetractorAlertDetail, cxAddress: string, deps: DetractorAlertDeps): AlertEmailRequest {
  const kind = KIND_LABELS[event.kind];
  const who = event.customer?.name ?? event.customerId;
  const subject = `Detractor alert: ${kind} ${event.score}/${event.scale.max} from ${who}${event.order?.orderId !== undefined ? ` (order ${event.order.orderId})` : ''}`;
  const facts = factsOf(event);
  const text = [
    'A customer gave a low score. Reply to this email to answer them.',
    '',
    ...facts.map(([label, value]) => `${label}: ${value}`),
    '',
    event.comment !== undefined ? `Comment:\n${event.comment}` : 'No comment.',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    '<p>A customer gave a low score. Reply to this email to answer them.</p>',
    '<table>',
    ...facts.map(([label, value]) => `<tr><th align="left" valign="top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`),
    '</table>',
    event.comment !== undefined
      ? `<p><strong>Comment</strong></p><blockquote style="white-space:pre-wrap">${escapeHtml(event.comment)}</blockquote>`
      : '<p>No comment.</p>',
    '</body></html>',
  ].join('\n');
  const utf8 = (Data: string) => ({ Data, Charset: 'UTF-8' as const });
  return {
    FromEmailAddress: deps.senderAddress,
    Destination: { ToAddresses: [cxAddress] },
    ReplyToAddresses: event.customer ? [event.customer.email] : [],
    ConfigurationSetName: deps.configurationSet,
    // Never a customerId tag: SES feedback on the team's mailbox (a bounce) would otherwise suppress the customer.
    EmailTags: [
      { Name: 'purpose', Value: 'detractor-alert' },
      { Name: 'surveyId', Value: event.surveyId },
      { Name: 'campaignId', Value: event.campaignId },
    ],
    Content: { Simple: { Subject: utf8(subject), Body: { Html: utf8(html), Text: utf8(text) } } },
  };
}
