/**
 * The survey scale inside an email: one signed one-click link per score. The HTML is a layout table with inline
 * styles only (email clients drop <style> and block images), so it reads the same without images; every link has an
 * accessible name ("7 of 10"), and both ends are labelled in text. The plain-text part has one line per score.
 */
import { escapeHtml } from './html.ts';
import { scoreLabel, scoresOf, surveyLocale, surveyWording, type SurveyKind, type SurveyWording } from './scales.ts';
import { surveyAnswerUrl, type SurveyKeyring } from './tokens.ts';

export interface SurveyScaleLink {
  score: number;
  url: string;
}

export interface SurveyScaleInput {
  /** The public base URL of the survey endpoint (PUBLIC_BASE_URL). */
  baseUrl: string;
  keyring: SurveyKeyring;
  /** The survey touchpoint's id. */
  surveyId: string;
  customerId: string;
  kind: SurveyKind;
  /** When the links stop working (ISO-8601). */
  expiresAt: string;
}

/** One signed link per score of the kind's scale, lowest first. */
export function surveyScaleLinks(input: SurveyScaleInput): SurveyScaleLink[] {
  const { baseUrl, keyring, surveyId, customerId, expiresAt } = input;
  return scoresOf(input.kind).map((score) => ({ score, url: surveyAnswerUrl(baseUrl, keyring, { surveyId, customerId, score, expiresAt }) }));
}

function wordingFor(kind: SurveyKind, locale: string, overrides: Partial<SurveyWording> | undefined): SurveyWording {
  return { ...surveyWording(kind, locale), ...overrides };
}

function endLabel(links: readonly SurveyScaleLink[], score: number, wording: SurveyWording): string | undefined {
  if (score === links[0]?.score) return wording.lowLabel;
  if (score === links.at(-1)?.score) return wording.highLabel;
  return undefined;
}

const LINK_STYLE =
  'display:block;padding:10px 0;border:1px solid #555555;border-radius:4px;background-color:#ffffff;color:#111111;' +
  'font-family:Arial,Helvetica,sans-serif;font-size:16px;font-weight:bold;line-height:20px;text-align:center;text-decoration:none';
const LABEL_STYLE = 'padding:6px 2px 0;font-family:Arial,Helvetica,sans-serif;font-size:13px;line-height:18px;color:#333333';

/** The scale as an email-safe HTML fragment: the question, a row of score links, the end labels. */
export function renderSurveyScaleHtml(
  kind: SurveyKind,
  locale: string,
  links: readonly SurveyScaleLink[],
  overrides?: Partial<SurveyWording>,
): string {
  const wording = wordingFor(kind, locale, overrides);
  const lang = surveyLocale(locale);
  const width = Math.floor(100 / Math.max(links.length, 1));
  const cells = links
    .map(({ score, url }) => {
      const end = endLabel(links, score, wording);
      const name = end ? `${scoreLabel(kind, score, locale)}: ${end}` : scoreLabel(kind, score, locale);
      return (
        `<td align="center" width="${width}%" style="padding:2px">` +
        `<a href="${escapeHtml(url)}" target="_blank" aria-label="${escapeHtml(name)}" title="${escapeHtml(name)}" style="${LINK_STYLE}">${score}</a></td>`
      );
    })
    .join('');
  const first = links[0];
  const last = links.at(-1);
  const leftSpan = Math.floor(links.length / 2);
  const labels =
    first && last
      ? `<tr><td colspan="${leftSpan}" align="left" style="${LABEL_STYLE}">${first.score} = ${escapeHtml(wording.lowLabel)}</td>` +
        `<td colspan="${links.length - leftSpan}" align="right" style="${LABEL_STYLE}">${last.score} = ${escapeHtml(wording.highLabel)}</td></tr>`
      : '';
  return (
    `<table role="presentation" lang="${lang}" border="0" cellpadding="0" cellspacing="0" width="100%" ` +
    `style="border-collapse:collapse;max-width:560px">` +
    `<tr><td colspan="${links.length}" style="padding:0 0 10px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:22px;color:#111111">` +
    `${escapeHtml(wording.question)}</td></tr>` +
    `<tr>${cells}</tr>${labels}</table>`
  );
}

/** The scale as plain text: the question, then one line per score with its link. */
export function renderSurveyScaleText(
  kind: SurveyKind,
  locale: string,
  links: readonly SurveyScaleLink[],
  overrides?: Partial<SurveyWording>,
): string {
  const wording = wordingFor(kind, locale, overrides);
  const lines = links.map(({ score, url }) => {
    const end = endLabel(links, score, wording);
    return end ? `${score} (${end}): ${url}` : `${score}: ${url}`;
  });
  return `${wording.question}\n\n${lines.join('\n')}\n`;
}

/** Links, HTML and text in one call, for the render step of the survey workflow. */
export function renderSurveyScale(
  input: SurveyScaleInput & { locale: string; wording?: Partial<SurveyWording> },
): { question: string; links: SurveyScaleLink[]; html: string; text: string } {
  const links = surveyScaleLinks(input);
  return {
    question: wordingFor(input.kind, input.locale, input.wording).question,
    links,
    html: renderSurveyScaleHtml(input.kind, input.locale, links, input.wording),
    text: renderSurveyScaleText(input.kind, input.locale, links, input.wording),
  };
}
