/** Links and requests for the survey use-case tests. */
import type { RecordSurveyResponseRequest } from '../../../core/surveys/record-response.ts';
import type { SurveyKind } from '../../../core/surveys/scales.ts';
import { parseSurveyLink, surveyLinkParams, type SurveyKeyring, type SurveyLinkParams } from '../../../core/surveys/tokens.ts';
import { KEYRING } from './fakes.ts';

export const LINK_EXPIRY = '2027-01-31T00:00:00.000Z';
export const CAMPAIGN = 'nps-after-delivery';

export interface ClickOptions {
  surveyId?: string;
  customerId?: string;
  kind?: SurveyKind;
  comment?: string;
  keyring?: SurveyKeyring;
  expiresAt?: string;
  /** Changes applied to the link's fields after signing (tampering). */
  tamper?: Partial<SurveyLinkParams>;
}

/** The form a customer posts after clicking `score` in the email of survey `surveyId`. */
export function click(score: number, now: string, options: ClickOptions = {}): RecordSurveyResponseRequest {
  const params = {
    ...surveyLinkParams(options.keyring ?? KEYRING, {
      surveyId: options.surveyId ?? 'tp-1',
      customerId: options.customerId ?? 'c-1',
      score,
      expiresAt: options.expiresAt ?? LINK_EXPIRY,
    }),
    ...options.tamper,
  };
  return {
    ...parseSurveyLink(params),
    now,
    kind: options.kind ?? 'nps',
    campaignId: CAMPAIGN,
    orderId: 'o-1',
    ...(options.comment !== undefined ? { comment: options.comment } : {}),
  };
}

/** A small deterministic PRNG (mulberry32) for the randomised crash test. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
