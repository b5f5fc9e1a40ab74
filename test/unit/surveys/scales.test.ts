import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors.ts';
import {
  SURVEY_KINDS,
  assertValidScore,
  categoriesOf,
  categoryOf,
  scoreLabel,
  scoresOf,
  surveyLocale,
  surveyWording,
} from '../../../core/surveys/scales.ts';

describe('survey scales', () => {
  it('has 11 NPS scores 0–10, 5 CSAT scores 1–5 and 7 CES scores 1–7', () => {
    expect(scoresOf('nps')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(scoresOf('csat')).toEqual([1, 2, 3, 4, 5]);
    expect(scoresOf('ces')).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('puts NPS 9–10 in promoters, 7–8 in passives and 0–6 in detractors', () => {
    expect(scoresOf('nps').map((s) => categoryOf('nps', s))).toEqual([
      ...Array<string>(7).fill('detractor'),
      'passive',
      'passive',
      'promoter',
      'promoter',
    ]);
  });

  it('puts CSAT 4–5 in satisfied and 1–3 in not-satisfied', () => {
    expect(scoresOf('csat').map((s) => categoryOf('csat', s))).toEqual([
      'not-satisfied',
      'not-satisfied',
      'not-satisfied',
      'satisfied',
      'satisfied',
    ]);
  });

  it('uses the CES score itself as its category', () => {
    expect(scoresOf('ces').map((s) => categoryOf('ces', s))).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(categoriesOf('ces')).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it.each([
    ['nps', -1],
    ['nps', 11],
    ['nps', 7.5],
    ['csat', 0],
    ['csat', 6],
    ['ces', 0],
    ['ces', 8],
  ] as const)('rejects %s score %s as off the scale', (kind, score) => {
    expect(() => assertValidScore(kind, score)).toThrow(InvalidInputError);
    expect(() => categoryOf(kind, score)).toThrow(/not on the/);
  });

  it('words every kind in English and German, falling back from a regional tag and to English', () => {
    for (const kind of SURVEY_KINDS) {
      for (const locale of ['en', 'de']) {
        const wording = surveyWording(kind, locale);
        expect(wording.question.length).toBeGreaterThan(10);
        expect(wording.lowLabel).not.toBe(wording.highLabel);
      }
    }
    expect(surveyWording('nps', 'en')).toEqual({
      question: 'How likely are you to recommend us to a friend or colleague?',
      lowLabel: 'Not at all likely',
      highLabel: 'Extremely likely',
    });
    expect(surveyWording('nps', 'de-AT')).toEqual(surveyWording('nps', 'de'));
    expect(surveyWording('csat', 'fr-FR')).toEqual(surveyWording('csat', 'en'));
    expect(surveyLocale(undefined)).toBe('en');
    expect(surveyLocale('DE_ch')).toBe('de');
  });

  it('names a score relative to the top of its scale', () => {
    expect(scoreLabel('nps', 7, 'en')).toBe('7 of 10');
    expect(scoreLabel('ces', 3, 'de')).toBe('3 von 7');
  });
});
