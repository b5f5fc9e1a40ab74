import { describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidLinkTokenError } from '../../../core/errors.ts';
import { SurveyAnswerConflictError, SurveyTokenRejectedError } from '../../../core/surveys/errors.ts';
import {
  SURVEY_PAGE_PROBLEMS,
  localeFromAcceptLanguage,
  surveyConfirmPage,
  surveyProblemFor,
  surveyProblemPage,
  surveyThanksPage,
} from '../../../core/surveys/pages.ts';
import { surveyLinkParams } from '../../../core/surveys/tokens.ts';
import { KEYRING } from './fakes.ts';

const link = surveyLinkParams(KEYRING, {
  surveyId: 'tp-0123456789abcdef0123456789abcdef01234567',
  customerId: 'c-42',
  score: 9,
  expiresAt: '2026-12-31T00:00:00.000Z',
});

const hiddenFields = (html: string) =>
  Object.fromEntries([...html.matchAll(/<input type="hidden" name="(\w)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]));

/** ICU separates the time from AM/PM with a narrow no-break space. */
const spaced = (html: string) => html.replace(/[\u202f\u00a0]/g, ' ');

/** No scripts, no external assets, no inline event handlers. */
function expectSelfContained(html: string) {
  expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bon[a-z]+=|https?:\/\//i);
}

describe('the confirm page (GET)', () => {
  it('shows the chosen score, a comment box and a submit button, and posts the link fields back', () => {
    const { status, html } = surveyConfirmPage({ kind: 'nps', score: 9, locale: 'en', link });
    expect(status).toBe(200);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Your answer: <strong>9 of 10</strong>');
    expect(html).toContain('(0 = Not at all likely, 10 = Extremely likely)');
    expect(html).toContain('<form method="post" action="survey">');
    expect(html).toContain('<label for="comment">Anything you would like to add? (optional)</label>');
    expect(html).toContain('<textarea id="comment" name="comment" rows="5" maxlength="2000"></textarea>');
    expect(html).toContain('<button type="submit">Send answer</button>');
    expect(hiddenFields(html)).toEqual(link);
    expectSelfContained(html);
  });

  it('says when sending changes an earlier answer, or that the answer is already given', () => {
    expect(surveyConfirmPage({ kind: 'nps', score: 9, locale: 'en', link, previousScore: 6 }).html).toContain(
      'You answered 6 of 10 before. Sending this changes your answer to 9 of 10.',
    );
    expect(surveyConfirmPage({ kind: 'nps', score: 9, locale: 'en', link, previousScore: 9 }).html).toContain(
      'You have already given this answer. You can still add a comment.',
    );
  });

  it('escapes every value it echoes', () => {
    const hostile = '"><script>alert(1)</script>';
    const { html } = surveyConfirmPage({
      kind: 'csat',
      score: 4,
      locale: 'en',
      link: { s: hostile, c: `c'${hostile}`, v: '4', e: '1798675200', t: `t&${hostile}` },
      actionUrl: `/survey?x="${hostile}`,
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).toContain('value="c&#39;&quot;&gt;&lt;script&gt;');
    expect(html).toContain('value="t&amp;&quot;&gt;');
    expect(html).toContain('action="/survey?x=&quot;&quot;&gt;&lt;script&gt;');
  });

  it('speaks German for a German locale', () => {
    const { html } = surveyConfirmPage({ kind: 'ces', score: 2, locale: 'de-DE', link });
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('Ihre Antwort: <strong>2 von 7</strong>');
    expect(html).toContain('<button type="submit">Antwort senden</button>');
  });
});

describe('the thank-you page (POST)', () => {
  it('confirms the answer and says another score clicked before the window closes changes it', () => {
    const { status, html } = surveyThanksPage({
      kind: 'nps',
      score: 9,
      locale: 'en',
      outcome: 'recorded',
      editableUntil: '2026-12-08T10:00:00.000Z',
    });
    expect(status).toBe(200);
    expect(html).toContain('We have recorded your answer: 9 of 10.');
    expect(spaced(html)).toContain('Changed your mind? Click another score in the email until Dec 8, 2026, 10:00 AM UTC to change your answer.');
    expectSelfContained(html);
  });

  it('says "changed" for a change, in the customer zone and language when known', () => {
    const { html } = surveyThanksPage({
      kind: 'csat',
      score: 2,
      locale: 'de',
      outcome: 'changed',
      editableUntil: '2026-12-08T10:00:00.000Z',
      timeZone: 'Europe/Berlin',
    });
    expect(html).toContain('Wir haben Ihre Antwort auf 2 von 5 geändert.');
    expect(spaced(html)).toContain('bis 8. Dez. 2026, 11:00 MEZ in der E-Mail');
  });
});

describe('problem pages', () => {
  it('answers every problem with a 4xx page that says what happened', () => {
    const statuses = Object.fromEntries(SURVEY_PAGE_PROBLEMS.map((p) => [p, surveyProblemPage(p, 'en').status]));
    expect(statuses).toEqual({
      'invalid-link': 400,
      expired: 410,
      'unknown-survey': 404,
      'edit-window-closed': 409,
      'too-many-changes': 409,
      'try-again': 409,
    });
    for (const problem of SURVEY_PAGE_PROBLEMS) {
      for (const locale of ['en', 'de']) {
        const { html } = surveyProblemPage(problem, locale);
        expect(html).not.toContain('<form');
        expectSelfContained(html);
      }
    }
    expect(surveyProblemPage('expired', 'en').html).toContain('<h1>This survey has ended</h1>');
    expect(surveyProblemPage('edit-window-closed', 'de').html).toContain('<h1>Ihre Antwort kann nicht mehr geändert werden</h1>');
  });

  it('maps the use cases’ errors to pages, and leaves unexpected errors to the handler', () => {
    expect(surveyProblemFor(new SurveyTokenRejectedError('expired'))).toBe('expired');
    expect(surveyProblemFor(new SurveyTokenRejectedError('bad-signature'))).toBe('invalid-link');
    expect(surveyProblemFor(new SurveyTokenRejectedError('unknown-key-version'))).toBe('invalid-link');
    expect(surveyProblemFor(new InvalidLinkTokenError('x'))).toBe('invalid-link');
    expect(surveyProblemFor(new InvalidInputError('score 11 is not on the nps scale 0–10'))).toBe('invalid-link');
    expect(surveyProblemFor(new SurveyAnswerConflictError('tp-1'))).toBe('try-again');
    expect(surveyProblemFor(new Error('DynamoDB is down'))).toBeUndefined();
  });

  it('picks the page language from Accept-Language', () => {
    expect(localeFromAcceptLanguage('de-AT,de;q=0.9,en;q=0.8')).toBe('de');
    expect(localeFromAcceptLanguage('fr-FR,fr;q=0.9,en;q=0.5,de;q=0.4')).toBe('en');
    expect(localeFromAcceptLanguage('en;q=0.2, de;q=0.7')).toBe('de');
    expect(localeFromAcceptLanguage('de;q=0, en')).toBe('en');
    expect(localeFromAcceptLanguage('*')).toBe('en');
    expect(localeFromAcceptLanguage(undefined)).toBe('en');
  });
});
