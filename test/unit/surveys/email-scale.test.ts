import { describe, expect, it } from 'vitest';
import { renderSurveyScale, renderSurveyScaleHtml, surveyScaleLinks } from '../../../core/surveys/email-scale.ts';
import { scoresOf, type SurveyKind } from '../../../core/surveys/scales.ts';
import { parseSurveyLink, verifySurveyLink } from '../../../core/surveys/tokens.ts';
import { BASE_URL, KEYRING } from './fakes.ts';

const survey = {
  baseUrl: BASE_URL,
  keyring: KEYRING,
  surveyId: 'tp-0123456789abcdef0123456789abcdef01234567',
  customerId: 'c-42',
  expiresAt: '2026-12-31T00:00:00.000Z',
};
const NOW = '2026-12-01T10:00:00Z';

const unescapeAttribute = (value: string) =>
  value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The score each link answers, after checking that its token verifies for this survey and customer. */
function verifiedScores(urls: string[]): number[] {
  return urls.map((url) => {
    const claims = verifySurveyLink(KEYRING, parseSurveyLink(new URL(url).searchParams), NOW);
    expect(claims).toMatchObject({ surveyId: survey.surveyId, customerId: survey.customerId, expiresAt: survey.expiresAt });
    return claims.score;
  });
}

describe('the survey scale in an email', () => {
  it.each([
    ['nps', 11],
    ['csat', 5],
    ['ces', 7],
  ] as const)('renders %s with %i one-click links, each with a valid token for its score, in HTML and text', (kind, count) => {
    const { html, text, links } = renderSurveyScale({ ...survey, kind, locale: 'en' });
    expect(links).toHaveLength(count);

    const hrefs = [...html.matchAll(/<a href="([^"]+)"/g)].map((m) => unescapeAttribute(m[1]!));
    expect(hrefs).toHaveLength(count);
    expect(verifiedScores(hrefs)).toEqual(scoresOf(kind));

    const lines = text.trim().split('\n').slice(2);
    expect(lines).toHaveLength(count);
    const textUrls = lines.map((line) => /^(\d+)(?: \([^)]*\))?: (https:\/\/\S+)$/.exec(line)?.[2] ?? `no link in: ${line}`);
    expect(verifiedScores(textUrls)).toEqual(scoresOf(kind));
  });

  it('labels both ends in text and gives every link an accessible name', () => {
    const html = renderSurveyScaleHtml('nps', 'en', surveyScaleLinks({ ...survey, kind: 'nps' }));
    expect(html).toContain('How likely are you to recommend us to a friend or colleague?');
    expect(html).toContain('>0 = Not at all likely</td>');
    expect(html).toContain('>10 = Extremely likely</td>');
    expect(html).toContain('aria-label="0 of 10: Not at all likely"');
    expect(html).toContain('aria-label="7 of 10"');
    expect(html).toContain('aria-label="10 of 10: Extremely likely"');
    expect(html).toMatch(/^<table role="presentation" lang="en"/);
  });

  it('is readable without images or stylesheets: no <img>, no <style>, no class, inline styles only', () => {
    for (const kind of ['nps', 'csat', 'ces'] as SurveyKind[]) {
      const { html } = renderSurveyScale({ ...survey, kind, locale: 'de' });
      expect(html).not.toMatch(/<img|<style|class=|<script|<link/i);
      expect([...html.matchAll(/<a /g)].length).toBe([...html.matchAll(/<a [^>]*style="[^"]+"/g)].length);
    }
  });

  it('writes the plain text as the question and one line per score, ends labelled', () => {
    const { text, links } = renderSurveyScale({ ...survey, kind: 'csat', locale: 'de-AT' });
    expect(text).toBe(
      [
        'Wie zufrieden sind Sie mit Ihrem Einkauf?',
        '',
        `1 (Sehr unzufrieden): ${links[0]!.url}`,
        `2: ${links[1]!.url}`,
        `3: ${links[2]!.url}`,
        `4: ${links[3]!.url}`,
        `5 (Sehr zufrieden): ${links[4]!.url}`,
        '',
      ].join('\n'),
    );
  });

  it('escapes a custom question and labels, and the & in every link', () => {
    const { html } = renderSurveyScale({
      ...survey,
      kind: 'ces',
      locale: 'en',
      wording: { question: 'Was it <b>easy</b> & quick?', lowLabel: '"Hard"', highLabel: "It's easy" },
    });
    expect(html).toContain('Was it &lt;b&gt;easy&lt;/b&gt; &amp; quick?');
    expect(html).toContain('1 = &quot;Hard&quot;');
    expect(html).toContain('7 = It&#39;s easy');
    expect(html).not.toContain('<b>');
    expect(html).not.toMatch(/href="[^"]*&(?!amp;)[^"]*"/);
  });
});
