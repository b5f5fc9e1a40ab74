/**
 * The server-rendered pages of the survey endpoint, as pure functions returning `{ status, html }`.
 *
 * Scanner safety: mail security scanners and link previews fetch (GET) every link in an email, often before the
 * recipient reads it. So a GET of a score link only SHOWS the chosen score, with an optional comment box and a submit
 * button; only the POST of that form records the answer. A prefetched link therefore records nothing, and a human
 * needs one extra click. The form carries the link's fields (s, c, v, e, t) as hidden inputs, so the POST verifies the
 * token again; nothing on the page is trusted.
 *
 * Every text that is not a literal here goes through escapeHtml. No scripts, no external assets (styles inline), no
 * personal data on any page (ids stay in hidden fields only; no name, address or comment is ever shown).
 */
import { DateTime } from 'luxon';
import { InvalidInputError, InvalidLinkTokenError } from '../errors.ts';
import { SurveyAnswerConflictError, SurveyTokenRejectedError } from './errors.ts';
import { escapeHtml } from './html.ts';
import { SURVEY_SCALES, scoreLabel, surveyLocale, surveyWording, type SurveyKind, type SurveyLocale } from './scales.ts';
import type { SurveyLinkParams } from './tokens.ts';

export interface HtmlPage {
  status: number;
  html: string;
}

export const SURVEY_PAGE_PROBLEMS = ['invalid-link', 'expired', 'unknown-survey', 'edit-window-closed', 'too-many-changes', 'try-again'] as const;
export type SurveyPageProblem = (typeof SURVEY_PAGE_PROBLEMS)[number];

const PROBLEM_STATUS: Readonly<Record<SurveyPageProblem, number>> = {
  'invalid-link': 400,
  expired: 410,
  'unknown-survey': 404,
  'edit-window-closed': 409,
  'too-many-changes': 409,
  'try-again': 409,
};

interface Texts {
  confirmTitle: string;
  yourAnswer: (score: string) => string;
  scaleEnds: (low: string, high: string) => string;
  changes: (previous: string, next: string) => string;
  same: string;
  commentLabel: string;
  submit: string;
  otherScore: string;
  thanksTitle: string;
  recorded: (score: string) => string;
  changed: (score: string) => string;
  editHint: (until: string) => string;
  close: string;
  problems: Record<SurveyPageProblem, { title: string; body: string }>;
}

const TEXTS: Readonly<Record<SurveyLocale, Texts>> = {
  en: {
    confirmTitle: 'Confirm your answer',
    yourAnswer: (score) => `Your answer: <strong>${score}</strong>`,
    scaleEnds: (low, high) => `(${low}, ${high})`,
    changes: (previous, next) => `You answered ${previous} before. Sending this changes your answer to ${next}.`,
    same: 'You have already given this answer. You can still add a comment.',
    commentLabel: 'Anything you would like to add? (optional)',
    submit: 'Send answer',
    otherScore: 'Wrong number? Use the link with another score in the email.',
    thanksTitle: 'Thank you!',
    recorded: (score) => `We have recorded your answer: ${score}.`,
    changed: (score) => `We have changed your answer to ${score}.`,
    editHint: (until) => `Changed your mind? Click another score in the email until ${until} to change your answer.`,
    close: 'You can close this page.',
    problems: {
      'invalid-link': {
        title: 'This link does not work',
        body: 'The survey link is incomplete or was changed. Please use the link from the email exactly as it is.',
      },
      expired: {
        title: 'This survey has ended',
        body: 'The link has expired, so we can no longer record answers with it. Thank you for wanting to answer.',
      },
      'unknown-survey': {
        title: 'We could not find this survey',
        body: 'The survey may have been withdrawn. Thank you for wanting to answer.',
      },
      'edit-window-closed': {
        title: 'Your answer can no longer be changed',
        body: 'Answers can be changed only for a few days after they are first given. Your earlier answer is kept.',
      },
      'too-many-changes': {
        title: 'Your answer can no longer be changed',
        body: 'This answer has already been changed many times. Your latest answer is kept.',
      },
      'try-again': {
        title: 'Please try again',
        body: 'We could not save your answer just now. Please go back and send it again.',
      },
    },
  },
  de: {
    confirmTitle: 'Bitte bestätigen Sie Ihre Antwort',
    yourAnswer: (score) => `Ihre Antwort: <strong>${score}</strong>`,
    scaleEnds: (low, high) => `(${low}, ${high})`,
    changes: (previous, next) => `Sie hatten vorher ${previous} gewählt. Wenn Sie absenden, ändert sich Ihre Antwort auf ${next}.`,
    same: 'Diese Antwort haben Sie bereits gegeben. Sie können noch einen Kommentar ergänzen.',
    commentLabel: 'Möchten Sie noch etwas ergänzen? (optional)',
    submit: 'Antwort senden',
    otherScore: 'Falsche Zahl? Nutzen Sie in der E-Mail den Link mit einer anderen Bewertung.',
    thanksTitle: 'Vielen Dank!',
    recorded: (score) => `Wir haben Ihre Antwort gespeichert: ${score}.`,
    changed: (score) => `Wir haben Ihre Antwort auf ${score} geändert.`,
    editHint: (until) => `Anders entschieden? Klicken Sie bis ${until} in der E-Mail auf eine andere Bewertung, um Ihre Antwort zu ändern.`,
    close: 'Sie können diese Seite jetzt schließen.',
    problems: {
      'invalid-link': {
        title: 'Dieser Link funktioniert nicht',
        body: 'Der Umfragelink ist unvollständig oder wurde verändert. Bitte verwenden Sie den Link unverändert aus der E-Mail.',
      },
      expired: {
        title: 'Diese Umfrage ist beendet',
        body: 'Der Link ist abgelaufen, daher können wir damit keine Antworten mehr speichern. Danke, dass Sie antworten wollten.',
      },
      'unknown-survey': {
        title: 'Wir konnten diese Umfrage nicht finden',
        body: 'Die Umfrage wurde möglicherweise zurückgezogen. Danke, dass Sie antworten wollten.',
      },
      'edit-window-closed': {
        title: 'Ihre Antwort kann nicht mehr geändert werden',
        body: 'Antworten lassen sich nur einige Tage nach der ersten Antwort ändern. Ihre frühere Antwort bleibt gespeichert.',
      },
      'too-many-changes': {
        title: 'Ihre Antwort kann nicht mehr geändert werden',
        body: 'Diese Antwort wurde bereits sehr oft geändert. Ihre letzte Antwort bleibt gespeichert.',
      },
      'try-again': {
        title: 'Bitte versuchen Sie es noch einmal',
        body: 'Wir konnten Ihre Antwort gerade nicht speichern. Bitte gehen Sie zurück und senden Sie sie noch einmal.',
      },
    },
  },
};

const STYLE =
  'body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.5}' +
  'label{display:block;margin:1.25rem 0 .4rem;font-weight:600}' +
  'textarea{box-sizing:border-box;width:100%;font:inherit;padding:.5rem;border:1px solid #555;border-radius:.3rem}' +
  'button{margin-top:1rem;font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #1a1a1a;background:#1a1a1a;color:#fff;cursor:pointer}' +
  'button:focus-visible,textarea:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}' +
  '.muted{color:#4a4a4a;font-size:.95rem}';

function page(locale: SurveyLocale, title: string, body: string): string {
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}

export interface ConfirmPageInput {
  kind: SurveyKind;
  score: number;
  locale: string | undefined;
  /** The verified link's fields, echoed as hidden inputs. */
  link: SurveyLinkParams;
  /** The score answered before, if any (from previewSurveyAnswer). */
  previousScore?: number | undefined;
  /** Where the form posts; relative to the page by default (`survey`, so an API stage prefix is kept). */
  actionUrl?: string;
  /** The campaign's own question for this locale (default: the standard wording of the scale). */
  question?: string | undefined;
}

/** GET: shows the chosen score, an optional comment box and the submit button. Records nothing. */
export function surveyConfirmPage(input: ConfirmPageInput): HtmlPage {
  const locale = surveyLocale(input.locale);
  const t = TEXTS[locale];
  const wording = surveyWording(input.kind, locale);
  const { min, max } = SURVEY_SCALES[input.kind];
  const label = (score: number) => escapeHtml(scoreLabel(input.kind, score, locale));
  const hidden = (['s', 'c', 'v', 'e', 't'] as const)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(input.link[name])}">`)
    .join('');
  let previous = '';
  if (input.previousScore !== undefined) {
    previous =
      input.previousScore === input.score
        ? `<p>${escapeHtml(t.same)}</p>`
        : `<p>${escapeHtml(t.changes(scoreLabel(input.kind, input.previousScore, locale), scoreLabel(input.kind, input.score, locale)))}</p>`;
  }
  const body = `<p>${escapeHtml(input.question ?? wording.question)}</p>
<p>${t.yourAnswer(label(input.score))} <span class="muted">${escapeHtml(
    t.scaleEnds(`${min} = ${wording.lowLabel}`, `${max} = ${wording.highLabel}`),
  )}</span></p>
${previous}<form method="post" action="${escapeHtml(input.actionUrl ?? 'survey')}">${hidden}
<label for="comment">${escapeHtml(t.commentLabel)}</label>
<textarea id="comment" name="comment" rows="5" maxlength="2000"></textarea>
<button type="submit">${escapeHtml(t.submit)}</button></form>
<p class="muted">${escapeHtml(t.otherScore)}</p>`;
  return { status: 200, html: page(locale, t.confirmTitle, body) };
}

export interface ThanksPageInput {
  kind: SurveyKind;
  score: number;
  locale: string | undefined;
  /** `changed` says "changed to"; anything else "recorded". */
  outcome: 'recorded' | 'changed' | 'unchanged';
  /** The end of the edit window (ISO-8601). */
  editableUntil: string;
  /** The customer's zone for the date, when known; UTC otherwise. */
  timeZone?: string | undefined;
}

/** After the POST: the answer, and that another score clicked before the window closes changes it. */
export function surveyThanksPage(input: ThanksPageInput): HtmlPage {
  const locale = surveyLocale(input.locale);
  const t = TEXTS[locale];
  const score = scoreLabel(input.kind, input.score, locale);
  const until = DateTime.fromISO(input.editableUntil, { zone: input.timeZone ?? 'utc' })
    .setLocale(locale)
    .toLocaleString({ ...DateTime.DATETIME_MED, timeZoneName: 'short' });
  const body = `<p>${escapeHtml(input.outcome === 'changed' ? t.changed(score) : t.recorded(score))}</p>
<p>${escapeHtml(t.editHint(until))}</p>
<p class="muted">${escapeHtml(t.close)}</p>`;
  return { status: 200, html: page(locale, t.thanksTitle, body) };
}

/** A friendly page for a link that cannot be used (4xx). Writes nothing; says nothing about the survey. */
export function surveyProblemPage(problem: SurveyPageProblem, locale: string | undefined): HtmlPage {
  const l = surveyLocale(locale);
  const { title, body } = TEXTS[l].problems[problem];
  return { status: PROBLEM_STATUS[problem], html: page(l, title, `<p>${escapeHtml(body)}</p>`) };
}

/** The page for an error of the survey use cases, or undefined for an unexpected error (a 5xx for the handler). */
export function surveyProblemFor(error: unknown): SurveyPageProblem | undefined {
  if (error instanceof SurveyTokenRejectedError) return error.reason === 'expired' ? 'expired' : 'invalid-link';
  if (error instanceof InvalidLinkTokenError || error instanceof InvalidInputError) return 'invalid-link';
  if (error instanceof SurveyAnswerConflictError) return 'try-again';
  return undefined;
}

/** The first supported language of an Accept-Language header (`de-AT,de;q=0.9,en;q=0.8` → de), else en. */
export function localeFromAcceptLanguage(header: string | undefined): SurveyLocale {
  const ranked = (header ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.trim(), q: q ? Number(q.slice(2)) : 1, index };
    })
    .filter((entry) => entry.tag !== '' && entry.tag !== '*' && Number.isFinite(entry.q) && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    const language = tag.toLowerCase().split('-')[0];
    if (language === 'en' || language === 'de') return language;
  }
  return 'en';
}
