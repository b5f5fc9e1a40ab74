/**
 * The three survey kinds, their scales, the category of a score, and the default wording per locale.
 *
 * Categories:
 *  - NPS 0–10: `promoter` (9–10), `passive` (7–8), `detractor` (0–6); the NPS is %promoters − %detractors.
 *  - CSAT 1–5: `satisfied` (4–5), `not-satisfied` (1–3). "not-satisfied" rather than "unsatisfied"/"dissatisfied":
 *    a 3 is neutral, not dissatisfied; the CSAT is the % satisfied.
 *  - CES 1–7: the category is the score itself as a string ("1" … "7"). CES is reported as the mean score (and its
 *    distribution); any easy/difficult cut-off is a reporting choice that can be derived from the per-score counts.
 */
import { InvalidInputError } from '../errors.ts';

export const SURVEY_KINDS = ['nps', 'csat', 'ces'] as const;
export type SurveyKind = (typeof SURVEY_KINDS)[number];

export interface SurveyScale {
  kind: SurveyKind;
  min: number;
  max: number;
}

export const SURVEY_SCALES: Readonly<Record<SurveyKind, SurveyScale>> = {
  nps: { kind: 'nps', min: 0, max: 10 },
  csat: { kind: 'csat', min: 1, max: 5 },
  ces: { kind: 'ces', min: 1, max: 7 },
};

export type NpsCategory = 'promoter' | 'passive' | 'detractor';
export type CsatCategory = 'satisfied' | 'not-satisfied';
/** CES: the score as given. */
export type CesCategory = '1' | '2' | '3' | '4' | '5' | '6' | '7';
export type SurveyCategory = NpsCategory | CsatCategory | CesCategory;

export function isSurveyKind(value: unknown): value is SurveyKind {
  return typeof value === 'string' && (SURVEY_KINDS as readonly string[]).includes(value);
}

/** Every score of the scale, lowest first. */
export function scoresOf(kind: SurveyKind): number[] {
  const { min, max } = SURVEY_SCALES[kind];
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

export function isValidScore(kind: SurveyKind, score: number): boolean {
  const { min, max } = SURVEY_SCALES[kind];
  return Number.isInteger(score) && score >= min && score <= max;
}

/** Throws InvalidInputError unless `score` is on the kind's scale. */
export function assertValidScore(kind: SurveyKind, score: number): void {
  if (!isValidScore(kind, score)) {
    const { min, max } = SURVEY_SCALES[kind];
    throw new InvalidInputError(`score ${score} is not on the ${kind} scale ${min}–${max}`);
  }
}

export function categoryOf(kind: SurveyKind, score: number): SurveyCategory {
  assertValidScore(kind, score);
  switch (kind) {
    case 'nps':
      return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
    case 'csat':
      return score >= 4 ? 'satisfied' : 'not-satisfied';
    case 'ces':
      return String(score) as CesCategory;
  }
}

/** Every category a kind can produce, in reporting order. */
export function categoriesOf(kind: SurveyKind): SurveyCategory[] {
  switch (kind) {
    case 'nps':
      return ['promoter', 'passive', 'detractor'];
    case 'csat':
      return ['satisfied', 'not-satisfied'];
    case 'ces':
      return scoresOf('ces').map((s) => String(s) as CesCategory);
  }
}

export const SURVEY_LOCALES = ['en', 'de'] as const;
export type SurveyLocale = (typeof SURVEY_LOCALES)[number];
export const DEFAULT_SURVEY_LOCALE: SurveyLocale = 'en';

/** `de-AT` → `de`; anything without wording → `en`. */
export function surveyLocale(locale: string | undefined): SurveyLocale {
  const language = (locale ?? '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return (SURVEY_LOCALES as readonly string[]).includes(language) ? (language as SurveyLocale) : DEFAULT_SURVEY_LOCALE;
}

export interface SurveyWording {
  question: string;
  /** Label of the lowest score. */
  lowLabel: string;
  /** Label of the highest score. */
  highLabel: string;
}

const WORDING: Readonly<Record<SurveyLocale, Readonly<Record<SurveyKind, SurveyWording>>>> = {
  en: {
    nps: {
      question: 'How likely are you to recommend us to a friend or colleague?',
      lowLabel: 'Not at all likely',
      highLabel: 'Extremely likely',
    },
    csat: { question: 'How satisfied are you with your purchase?', lowLabel: 'Very dissatisfied', highLabel: 'Very satisfied' },
    ces: { question: 'How easy was it to get what you needed from us?', lowLabel: 'Very difficult', highLabel: 'Very easy' },
  },
  de: {
    nps: {
      question: 'Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?',
      lowLabel: 'Überhaupt nicht wahrscheinlich',
      highLabel: 'Äußerst wahrscheinlich',
    },
    csat: { question: 'Wie zufrieden sind Sie mit Ihrem Einkauf?', lowLabel: 'Sehr unzufrieden', highLabel: 'Sehr zufrieden' },
    ces: { question: 'Wie einfach war es, bei uns zu erledigen, was Sie wollten?', lowLabel: 'Sehr schwierig', highLabel: 'Sehr einfach' },
  },
};

/** The default question and end labels of a kind in `locale` (with fallback, see surveyLocale). */
export function surveyWording(kind: SurveyKind, locale: string | undefined): SurveyWording {
  return WORDING[surveyLocale(locale)][kind];
}

/** "7 of 10" / "7 von 10": the accessible name of one score. */
export function scoreLabel(kind: SurveyKind, score: number, locale: string | undefined): string {
  const { max } = SURVEY_SCALES[kind];
  return surveyLocale(locale) === 'de' ? `${score} von ${max}` : `${score} of ${max}`;
}
