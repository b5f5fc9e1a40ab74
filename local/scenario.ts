/**
 * The sample scenario: what a newcomer sees after `npm start`, and what `npm start -- --scenario` checks end to end.
 * Times are relative to the scenario start T0; the delays, quiet hours, offsets and send windows come from campaigns/.
 *
 *   T0           six purchases (London, Tokyo, Mexico City, New York, Berlin, and one customer whose check-in
 *                falls due during quiet hours in their zone); contracts for Ada (London), María (Mexico City) and
 *                Kenji (Tokyo) whose last days put renewal reminders inside the scenario
 *   T0 + 2h      the New York order is refunded (its check-in and survey are cancelled)
 *   … check-in delay + 1 day: five check-in emails; the quiet-hours one sent at the next allowed local time
 *   Lars clicks the one-click unsubscribe link (RFC 8058 POST) from his email, then buys again
 *   … check-in delay + 1 day later: no email for Lars's second order; the renewal reminders due so far arrived
 *                (09:00 local, or when the send window opens); Ada renews her contract
 *   T0 + survey delay + 1 day: the NPS surveys are out; Ada answers 10 and María 3 from the links in the plain-text
 *                part (GET, then the form's POST with a comment); María's answer alerts the CX address
 *   … a day later: Ada's review ask; three days after the survey: one reminder to each customer who did not answer
 *   … the last renewal reminders (none for Ada after her renewal); Kenji's contract ended unrenewed (churned)
 */
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime, Duration } from 'luxon';
import { CONTRACT_ENDING, type Campaign } from '../core/campaigns/schema.ts';
import { loadCampaignDirectory } from '../core/campaigns/load.ts';
import { reminderDueAt } from '../core/contracts/renewal-offsets.ts';
import type { Touchpoint } from '../core/model.ts';
import { addDuration, nextAllowedTime, nextSendTime, type QuietHours, type SendTiming } from '../core/schedule.ts';
import { DEFAULT_COMMERCE_EVENT_SOURCE, DETAIL_TYPES, ENV } from '../core/topology.ts';
import { checkInTiming } from './campaigns.ts';
import { parseIsoDuration } from './clock.ts';
import {
  contractRenewedEntry,
  contractStartedEntry,
  contractTerm,
  nextTermEnd,
  purchaseEntry,
  quietHoursZone,
  refundEntry,
  SAMPLE_CONTRACTS,
  SAMPLE_CUSTOMERS,
  SAMPLE_ORDERS,
  type SampleContract,
  type SampleCustomer,
} from './sample-data.ts';
import type { LocalStack, MailboxEmail } from './stack.ts';

export interface ScenarioTiming {
  /** ISO-8601 duration from purchase to check-in (the campaign's delay). */
  checkInDelay: string;
  quietHours?: QuietHours;
  /** The NPS survey after a purchase; without one the scenario skips the survey part. */
  survey?: {
    delay: string;
    /** The one reminder to customers who did not answer (absent: none). */
    reminderAfter?: string;
    sendTiming: SendTiming;
    /** The follow-up a promoter's answer starts (the review ask); absent: none expected. */
    review?: { delay: string; sendTiming: SendTiming };
  };
  /** Renewal reminders; without them the scenario skips the contract part. */
  renewal?: { offsetsDays: readonly number[]; sendAt: string; sendTiming: SendTiming };
}

export interface Expectation {
  what: string;
  ok: boolean;
  detail?: string;
}

export interface ScenarioOutcome {
  startedAt: string;
  endedAt: string;
  expectations: Expectation[];
  ok: boolean;
}

const REFUND_AFTER = 'PT2H';
const SETTLE_MARGIN = 'P1D';
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * The sample contracts' last days, in local calendar days after the scenario start: with reminders 60, 30 and 7 days
 * before, Ada's and María's 30-day reminders come on day 1 and their 7-day ones on day 24 (Ada's never: she renews on
 * day 8), and Kenji's 7-day one on day 3 (his contract then ends unrenewed on day 10); the 60-day ones are past.
 */
const CONTRACT_DAYS_TO_END = { ada: 31, maria: 31, kenji: 10 } as const;
/** Kenji's contract is recorded as churned by the first daily sweep at least 26 hours after his last day. */
const CHURN_RECORDED_WITHIN_DAYS = 3;

const sendTimingOf = (campaign: Campaign): SendTiming => ({
  ...(campaign.quietHours ? { quietHours: campaign.quietHours } : {}),
  ...(campaign.sendWindow ? { sendWindow: campaign.sendWindow } : {}),
});

/**
 * What the sample scenario plans by, from the campaign rules in `dir`: the enabled check-in campaign (required), the
 * enabled NPS survey on purchases and the follow-up its promoters get, and the enabled renewal reminders.
 */
export function sampleScenarioTiming(dir: string): ScenarioTiming {
  const timing: ScenarioTiming = checkInTiming(dir);
  const campaigns = loadCampaignDirectory(dir).filter((c) => c.enabled);
  const survey = campaigns.find((c) => c.kind === 'survey' && c.survey?.scale === 'nps' && c.trigger.event === DETAIL_TYPES.purchaseCompleted && c.delay);
  if (survey?.delay && survey.survey) {
    const review = campaigns.find(
      (c) =>
        c.kind === 'follow-up' &&
        c.delay !== undefined &&
        c.trigger.event === DETAIL_TYPES.surveyAnswered &&
        (c.trigger.answerCategories?.includes('promoter') ?? true) &&
        (c.trigger.surveyCampaigns?.includes(survey.id) ?? true),
    );
    const reminderAfter = survey.survey.reminderAfter;
    timing.survey = {
      delay: survey.delay,
      ...(reminderAfter !== 'never' ? { reminderAfter } : {}),
      sendTiming: sendTimingOf(survey),
      ...(review?.delay ? { review: { delay: review.delay, sendTiming: sendTimingOf(review) } } : {}),
    };
  }
  const renewal = campaigns.find((c) => c.kind === 'renewal-reminder' && c.trigger.event === CONTRACT_ENDING);
  if (renewal && renewal.trigger.event === CONTRACT_ENDING) {
    timing.renewal = { offsetsDays: renewal.trigger.offsetsDays, sendAt: renewal.trigger.sendAt, sendTiming: sendTimingOf(renewal) };
  }
  return timing;
}

/** When each step happens, in milliseconds after the scenario start. */
interface ScenarioPlan {
  checkIns: number;
  secondOrderChecked: number;
  survey?: { answers: number; reviewChecked?: number; remindersChecked?: number };
  contractsEnd?: number;
  end: number;
}

function scenarioPlan(timing: ScenarioTiming): ScenarioPlan {
  const margin = parseIsoDuration(SETTLE_MARGIN);
  const checkIns = parseIsoDuration(timing.checkInDelay) + margin;
  const secondOrderChecked = 2 * checkIns;
  let end = secondOrderChecked;
  let survey: ScenarioPlan['survey'];
  if (timing.survey) {
    // Quiet hours hold an email for less than a day: the settle margin covers them.
    const answers = Math.max(secondOrderChecked, parseIsoDuration(timing.survey.delay) + margin);
    const reviewChecked = timing.survey.review ? answers + parseIsoDuration(timing.survey.review.delay) + margin : undefined;
    const remindersChecked = timing.survey.reminderAfter
      ? Math.max(reviewChecked ?? answers, answers + parseIsoDuration(timing.survey.reminderAfter) + margin)
      : undefined;
    survey = { answers, ...(reviewChecked ? { reviewChecked } : {}), ...(remindersChecked ? { remindersChecked } : {}) };
    end = Math.max(end, remindersChecked ?? reviewChecked ?? answers);
  }
  let contractsEnd: number | undefined;
  if (timing.renewal) {
    // The last reminder day, + the local send time and a Sunday waiting for the window (reminders later than the
    // scenario's end are not expected).
    const lastReminderDay = Math.max(CONTRACT_DAYS_TO_END.ada, CONTRACT_DAYS_TO_END.maria) - Math.min(...timing.renewal.offsetsDays);
    contractsEnd = Math.max(end, (lastReminderDay + 2) * DAY_MS, (CONTRACT_DAYS_TO_END.kenji + CHURN_RECORDED_WITHIN_DAYS) * DAY_MS);
    end = contractsEnd;
  }
  return { checkIns, secondOrderChecked, ...(survey ? { survey } : {}), ...(contractsEnd ? { contractsEnd } : {}), end };
}

/** How far the scenario moves the clock (the check-ins, the surveys and the contract reminders). */
export function scenarioSpanMs(timing: ScenarioTiming): number {
  return scenarioPlan(timing).end;
}

/** An email with what the product recorded about it (none for the detractor alert, which is no touchpoint). */
interface SentEmail extends MailboxEmail {
  touchpoint?: Pick<Touchpoint, 'campaignId' | 'kind' | 'context' | 'messageId'>;
}

const human = (isoDuration: string) => Duration.fromISO(isoDuration).toHuman();
const localTime = (iso: string, zone: string) => `${DateTime.fromISO(iso, { zone }).toFormat('ccc yyyy-LL-dd HH:mm')} ${zone}`;
const surveyIdOf = (link: string | undefined) => (link ? new URL(link).searchParams.get('s') ?? undefined : undefined);

/** The answer link for `score` in the plain-text part of a survey email (as a person reads it). */
function answerLink(email: MailboxEmail | undefined, score: number): string | undefined {
  const line = email?.body.text?.split('\n').find((l) => l.startsWith(`${score}: `) || l.startsWith(`${score} (`));
  return line?.includes('http') ? line.slice(line.indexOf('http')).trim() : undefined;
}

export async function runSampleScenario(
  stack: LocalStack,
  timing: ScenarioTiming,
  options: { source?: string; log?: (line: string) => void } = {},
): Promise<ScenarioOutcome> {
  const source = options.source ?? DEFAULT_COMMERCE_EVENT_SOURCE;
  const log = options.log ?? (() => {});
  const plan = scenarioPlan(timing);
  const t0 = stack.clock.now();
  const t0Ms = t0.getTime();
  const advanceTo = (offsetMs: number) => stack.advance(Math.max(0, t0Ms + offsetMs - stack.clock.nowMs()));
  const noorZone = timing.quietHours ? quietHoursZone(t0, timing.checkInDelay, timing.quietHours) : undefined;
  const noor = { ...SAMPLE_CUSTOMERS.noor, timeZone: noorZone ?? SAMPLE_CUSTOMERS.noor.timeZone };
  const { ada, kenji, maria, olivia, lars } = SAMPLE_CUSTOMERS;
  const db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
  const expectations: Expectation[] = [];
  const expect = (what: string, ok: boolean, detail?: string) => {
    expectations.push({ what, ok, ...(detail ? { detail } : {}) });
    log(`${ok ? '✓' : '✗'} ${what}${detail ? ` (${detail})` : ''}`);
  };
  const put = async (entries: Parameters<LocalStack['putEvents']>[0]) => {
    const result = await stack.putEvents(entries);
    if (result.FailedEntryCount) throw new Error(`the bus rejected sample events: ${JSON.stringify(result.Entries)}`);
  };
  /** The mailbox, each email with the touchpoint that sent it (by SES message id). */
  const mailbox = async (): Promise<SentEmail[]> => {
    const touchpoints = new Map<string, NonNullable<SentEmail['touchpoint']>>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: stack.tables.touchpoints, ExclusiveStartKey: startKey, ConsistentRead: true }));
      for (const item of (page.Items ?? []) as Touchpoint[]) if (item.messageId) touchpoints.set(item.messageId, item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return (await stack.mailbox()).map((email) => {
      const touchpoint = touchpoints.get(email.messageId);
      return touchpoint ? { ...email, touchpoint } : email;
    });
  };
  const mailTo = (mail: SentEmail[], who: SampleCustomer, kind?: Touchpoint['kind']) =>
    mail.filter((m) => m.to.includes(who.email) && (kind === undefined || m.touchpoint?.kind === kind));

  // ---------------------------------------------------------------------------------------------------------------
  // T0: purchases and contracts
  const contracts = timing.renewal
    ? [
        { who: ada, contract: SAMPLE_CONTRACTS.adaKettleCare, term: contractTerm(t0, ada.timeZone, CONTRACT_DAYS_TO_END.ada) },
        { who: maria, contract: SAMPLE_CONTRACTS.mariaKitchenCare, term: contractTerm(t0, maria.timeZone, CONTRACT_DAYS_TO_END.maria) },
        { who: kenji, contract: SAMPLE_CONTRACTS.kenjiSharpening, term: contractTerm(t0, kenji.timeZone, CONTRACT_DAYS_TO_END.kenji) },
      ]
    : [];
  log(`sample: six purchases at ${t0.toISOString()}${noorZone ? ` (${noor.name} in ${noorZone}, where the check-in falls in quiet hours)` : ''}`);
  await put([
    purchaseEntry(source, ada, SAMPLE_ORDERS.adaKettle, t0),
    purchaseEntry(source, kenji, SAMPLE_ORDERS.kenjiKnives, t0),
    purchaseEntry(source, maria, SAMPLE_ORDERS.mariaMolcajete, t0),
    purchaseEntry(source, olivia, SAMPLE_ORDERS.oliviaBlender, t0),
    purchaseEntry(source, lars, SAMPLE_ORDERS.larsGrinder, t0),
    purchaseEntry(source, noor, SAMPLE_ORDERS.noorTeapot, t0),
  ]);
  if (contracts.length > 0) {
    for (const { who, contract, term } of contracts) log(`sample: ${who.name} has a ${contract.plan} contract ending ${term.endDate} (${who.timeZone})`);
    await put(contracts.map(({ who, contract, term }) => contractStartedEntry(source, who, contract, term, t0)));
  }
  await stack.advance(REFUND_AFTER);
  log(`sample: ${olivia.name} returns the blender`);
  await put([refundEntry(source, olivia, SAMPLE_ORDERS.oliviaBlender, stack.clock.now(), 'changed my mind')]);

  // ---------------------------------------------------------------------------------------------------------------
  // Check-ins, quiet hours, unsubscribe
  log(`sample: advancing the clock past the check-in delay (${timing.checkInDelay}) + ${SETTLE_MARGIN}`);
  await advanceTo(plan.checkIns);
  let mail = await mailbox();
  for (const customer of [ada, kenji, maria, lars, noor]) expect(`one check-in email to ${customer.name}`, mailTo(mail, customer, 'check-in').length === 1);
  expect(`no email to ${olivia.name} (refunded before the check-in was due)`, mailTo(mail, olivia).length === 0);
  const noorMail = mailTo(mail, noor, 'check-in')[0];
  if (timing.quietHours && noorZone && noorMail) {
    const dueAt = addDuration(t0.toISOString(), timing.checkInDelay, noorZone);
    const allowed = nextAllowedTime(dueAt, timing.quietHours, noorZone);
    expect(
      `${noor.name}'s email waited for the end of quiet hours in ${noorZone}`,
      Date.parse(noorMail.sentAt) >= Date.parse(allowed),
      `due ${dueAt}, sent ${noorMail.sentAt}, allowed from ${allowed}`,
    );
  }

  const larsMail = mailTo(mail, lars, 'check-in')[0];
  const unsubscribe = /<(https?:[^>]+)>/.exec(larsMail?.header('List-Unsubscribe') ?? '')?.[1];
  expect(`${lars.name}'s email carries a one-click List-Unsubscribe link`, Boolean(unsubscribe) && larsMail?.header('List-Unsubscribe-Post') === 'List-Unsubscribe=One-Click');
  if (unsubscribe) {
    log(`sample: ${lars.name} clicks unsubscribe (POST ${unsubscribe})`);
    const response = await fetch(unsubscribe, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(`the one-click unsubscribe answers 2xx`, response.ok, `HTTP ${response.status}`);
  }
  log(`sample: ${lars.name} buys again`);
  await put([purchaseEntry(source, lars, SAMPLE_ORDERS.larsBeans, stack.clock.now())]);
  await advanceTo(plan.secondOrderChecked);
  mail = await mailbox();
  expect(`no further email to ${lars.name} after unsubscribing`, mailTo(mail, lars).length === 1);

  // ---------------------------------------------------------------------------------------------------------------
  // Renewal reminders so far; Ada renews
  const renewal = timing.renewal;
  const renewals = contracts.map(({ who, contract, term }) => ({
    who,
    contract,
    term,
    // Every reminder of the term still ahead at the start: at the send time, or when the send window opens.
    reminders: (renewal?.offsetsDays ?? [])
      .map((offsetDays) => {
        const dueAt = reminderDueAt(term.endDate, offsetDays, who.timeZone, renewal?.sendAt);
        return { offsetDays, dueAt, expectedAt: nextSendTime(dueAt, renewal?.sendTiming ?? {}, who.timeZone) };
      })
      .filter((r) => r.dueAt > t0.toISOString() && Date.parse(r.expectedAt) < t0Ms + plan.end - MINUTE_MS)
      .sort((a, b) => a.expectedAt.localeCompare(b.expectedAt)),
  }));
  const renewalMail = (all: SentEmail[], who: SampleCustomer) => mailTo(all, who, 'renewal-reminder');
  let renewedAt: string | undefined;
  /** Checks the reminders expected in `(after, upTo]`; none of Ada's after her renewal. */
  const checkReminders = (all: SentEmail[], after: string, upTo: string) => {
    for (const { who, contract, term, reminders } of renewals) {
      const expected = reminders.filter((r) => r.expectedAt > after && r.expectedAt <= upTo && !(who === ada && renewedAt && r.dueAt > renewedAt));
      for (const reminder of expected) {
        const got = renewalMail(all, who).filter((m) => m.touchpoint?.context.contract?.offsetDays === reminder.offsetDays);
        const email = got[0];
        const when = reminder.expectedAt === reminder.dueAt ? `at ${renewal!.sendAt} local time` : 'when the send window opened';
        expect(
          `${who.name}'s ${reminder.offsetDays}-day renewal reminder arrived ${when}`,
          got.length === 1 && email!.sentAt === reminder.expectedAt && email!.subject.includes(contract.plan) && email!.subject.includes(term.endDate),
          email
            ? `"${email.subject}", ${localTime(email.sentAt, who.timeZone)}${email.sentAt === reminder.expectedAt ? '' : `, expected ${localTime(reminder.expectedAt, who.timeZone)}`}`
            : `expected ${localTime(reminder.expectedAt, who.timeZone)}, got none`,
        );
      }
    }
  };
  const adaRenewal = renewals.find((r) => r.who === ada);
  if (adaRenewal) {
    checkReminders(mail, '', stack.clock.nowIso());
    renewedAt = stack.clock.nowIso();
    const endDate = nextTermEnd(adaRenewal.term.endDate);
    log(`sample: ${ada.name} renews her ${adaRenewal.contract.plan} contract (new last day ${endDate})`);
    await put([contractRenewedEntry(source, ada, adaRenewal.contract, endDate, stack.clock.now())]);
    await stack.settle();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // NPS surveys: answers from the email links, the detractor alert, the review ask, the reminders
  if (timing.survey && plan.survey) {
    const survey = timing.survey;
    const answering = [
      { who: ada, score: 10, category: 'promoter', comment: 'Pours perfectly, thank you!' },
      { who: maria, score: 3, category: 'detractor', comment: 'The molcajete arrived cracked.' },
    ];
    const silent = [kenji, noor];
    log(`sample: advancing the clock past the survey delay (${survey.delay}) + ${SETTLE_MARGIN}`);
    await advanceTo(plan.survey.answers);
    mail = await mailbox();
    const surveys = (who: SampleCustomer) => mailTo(mail, who, 'survey').filter((m) => m.touchpoint?.context.parentTouchpointId === undefined);
    const surveyed = [ada, kenji, maria, noor];
    expect(
      `one NPS survey email each to ${surveyed.map((c) => c.name).join(', ')}, ${human(survey.delay)} after the purchase`,
      surveyed.every((who) => surveys(who).length === 1 && surveys(who)[0]!.sentAt >= addDuration(t0.toISOString(), survey.delay, who.timeZone)),
      surveyed.map((who) => `${who.name.split(' ')[0]}: ${surveys(who).map((m) => localTime(m.sentAt, who.timeZone)).join(', ') || 'none'}`).join('; '),
    );
    expect(`no survey to ${olivia.name} (refunded) or ${lars.name} (unsubscribed)`, mailTo(mail, olivia).length + mailTo(mail, lars, 'survey').length === 0);

    const answeredAt = new Map<SampleCustomer, string>();
    for (const [i, { who, score, category, comment }] of answering.entries()) {
      const link = answerLink(surveys(who)[0], score);
      const surveyId = surveyIdOf(link);
      if (!link || !surveyId) {
        expect(`${who.name}'s survey email has a link for ${score} in its plain-text part`, false);
        continue;
      }
      const response = async () =>
        (await db.send(new GetCommand({ TableName: stack.tables.responses, Key: { surveyId }, ConsistentRead: true }))).Item as
          | { score?: number; category?: string; comment?: string; answeredAt?: string }
          | undefined;
      log(`sample: ${who.name} clicks ${score} in the survey email (GET /survey), adds a comment and submits the form (POST /survey)`);
      const page = await fetch(link);
      const html = await page.text();
      await stack.settle();
      if (i === 0) {
        expect(
          `following the link alone (what a mail scanner does) shows a confirm form and records nothing`,
          page.status === 200 && html.includes('<form') && (await response()) === undefined,
          `HTTP ${page.status}`,
        );
      }
      const params = new URL(link).searchParams;
      const form = new URLSearchParams({ s: params.get('s')!, c: params.get('c')!, v: params.get('v')!, e: params.get('e')!, t: params.get('t')!, comment });
      const posted = await fetch(new URL('/survey', link), { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      await posted.text();
      await stack.settle();
      const recorded = await response();
      if (recorded?.answeredAt) answeredAt.set(who, recorded.answeredAt);
      expect(
        `${who.name}'s answer is recorded: ${score} (${category}) with her comment`,
        posted.status === 200 && recorded?.score === score && recorded.category === category && recorded.comment === comment,
        `HTTP ${posted.status}${recorded ? `, stored ${recorded.score} (${recorded.category})` : ', nothing stored'}`,
      );
    }

    const detractor = answering.find((a) => a.category === 'detractor')!;
    const cxAddress = stack.env[ENV.cxAddress];
    mail = await mailbox();
    const alerts = mail.filter((m) => cxAddress !== undefined && m.to.includes(cxAddress));
    expect(
      `the detractor alert for ${detractor.who.name}'s answer reached ${cxAddress}`,
      alerts.length === 1 && (alerts[0]!.body.text ?? '').includes(detractor.comment),
      alerts[0] ? `"${alerts[0].subject}"` : 'no alert email',
    );
    const detractorSurvey = surveyIdOf(answerLink(surveys(detractor.who)[0], detractor.score));
    const events = (await (await fetch(`${stack.endpoints.control}/events`)).json()) as Array<{ event: { 'detail-type': string; detail: { surveyId?: string } } }>;
    const published = events.filter((e) => e.event['detail-type'] === DETAIL_TYPES.detractorAlert);
    expect(
      `a "${DETAIL_TYPES.detractorAlert}" event was published for it`,
      published.length === 1 && published[0]!.event.detail.surveyId === detractorSurvey,
    );

    if (survey.review && plan.survey.reviewChecked) {
      const review = survey.review;
      await advanceTo(plan.survey.reviewChecked);
      mail = await mailbox();
      const promoter = answering.find((a) => a.category === 'promoter')!;
      const asks = mail.filter((m) => m.touchpoint?.kind === 'follow-up');
      const ask = asks[0];
      const answered = answeredAt.get(promoter.who);
      const dueAt = answered ? addDuration(answered, review.delay, promoter.who.timeZone) : undefined;
      const latest = dueAt ? Date.parse(nextSendTime(dueAt, review.sendTiming, promoter.who.timeZone)) + MINUTE_MS : 0;
      expect(
        `${promoter.who.name}'s review ask arrived ${human(review.delay)} after her answer, and only to her`,
        asks.length === 1 && ask!.to.includes(promoter.who.email) && dueAt !== undefined && ask!.sentAt >= dueAt && Date.parse(ask!.sentAt) <= latest,
        ask ? `"${ask.subject}", ${localTime(ask.sentAt, promoter.who.timeZone)}` : 'no review ask',
      );
    }

    if (survey.reminderAfter && plan.survey.remindersChecked) {
      const reminderAfter = survey.reminderAfter;
      await advanceTo(plan.survey.remindersChecked);
      mail = await mailbox();
      for (const who of silent) {
        const sent = mailTo(mail, who, 'survey');
        const first = sent.find((m) => m.touchpoint?.context.parentTouchpointId === undefined);
        const reminders = sent.filter((m) => m.touchpoint?.context.parentTouchpointId !== undefined);
        const reminder = reminders[0];
        const dueAt = first ? addDuration(first.sentAt, reminderAfter) : '';
        const latest = first ? Date.parse(nextSendTime(dueAt, survey.sendTiming, who.timeZone)) + MINUTE_MS : 0;
        expect(
          `${who.name} did not answer: exactly one reminder, ${human(reminderAfter)} after the survey, for the same survey`,
          reminders.length === 1 &&
            reminder!.sentAt >= dueAt &&
            Date.parse(reminder!.sentAt) <= latest &&
            surveyIdOf(answerLink(reminder, 10)) === surveyIdOf(answerLink(first, 10)),
          first && reminder ? `survey ${localTime(first.sentAt, who.timeZone)}, reminder ${localTime(reminder.sentAt, who.timeZone)}` : `${reminders.length} reminders`,
        );
      }
      expect(
        `no reminder to ${answering.map((a) => a.who.name).join(' or ')} (they answered)`,
        answering.every(({ who }) => mailTo(mail, who, 'survey').length === 1),
      );
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The remaining renewal reminders; none for Ada after her renewal; Kenji's contract ended unrenewed
  if (plan.contractsEnd !== undefined && renewedAt) {
    log('sample: advancing the clock to the last renewal reminders');
    await advanceTo(plan.contractsEnd);
    mail = await mailbox();
    const others = renewals.filter((r) => r.who !== ada);
    checkReminders(mail, renewedAt, stack.clock.nowIso());
    const skipped = adaRenewal!.reminders.filter((r) => r.dueAt > renewedAt!);
    const afterRenewal = renewalMail(mail, ada).filter((m) => m.sentAt > renewedAt!);
    expect(
      `no renewal reminder to ${ada.name} after she renewed`,
      afterRenewal.length === 0 && renewalMail(mail, ada).length === adaRenewal!.reminders.length - skipped.length,
      skipped.length > 0
        ? `without the renewal: ${skipped.map((r) => `${r.offsetDays}-day on ${localTime(r.expectedAt, ada.timeZone)}`).join(', ')}`
        : undefined,
    );
    expect(
      `no other renewal reminders`,
      others.every(({ who, reminders }) => renewalMail(mail, who).length === reminders.length) &&
        mail.filter((m) => m.touchpoint?.kind === 'renewal-reminder' && !renewals.some((r) => m.to.includes(r.who.email))).length === 0,
    );
    const contractOf = async (contract: SampleContract) =>
      (await db.send(new GetCommand({ TableName: stack.tables.contracts, Key: { contractId: contract.contractId }, ConsistentRead: true }))).Item as
        | { status?: string; endDate?: string; outcome?: { result?: string; remindersSent?: number } }
        | undefined;
    const adaContract = await contractOf(adaRenewal!.contract);
    expect(
      `${ada.name}'s contract is recorded as renewed`,
      adaContract?.status === 'RENEWED' && adaContract.endDate === nextTermEnd(adaRenewal!.term.endDate) && adaContract.outcome?.result === 'RENEWED',
      adaContract ? `${adaContract.status}, last day ${adaContract.endDate}` : 'not found',
    );
    const kenjiRenewal = renewals.find((r) => r.who === kenji)!;
    const kenjiContract = await contractOf(kenjiRenewal.contract);
    expect(
      `${kenji.name}'s contract ended unrenewed on ${kenjiRenewal.term.endDate}: recorded as churned`,
      kenjiContract?.status === 'ENDED' && kenjiContract.outcome?.result === 'CHURNED' && kenjiContract.outcome.remindersSent === kenjiRenewal.reminders.length,
      kenjiContract ? `${kenjiContract.status}, ${kenjiContract.outcome?.result ?? 'no outcome'}, ${kenjiContract.outcome?.remindersSent ?? 0} reminder(s) sent` : 'not found',
    );
  }

  // ---------------------------------------------------------------------------------------------------------------
  await advanceTo(plan.end);
  mail = await mailbox();
  expect(
    `in all, nothing for ${olivia.name} and only the first check-in for ${lars.name}`,
    mailTo(mail, olivia).length === 0 && mailTo(mail, lars).length === 1 && mailTo(mail, lars, 'check-in').length === 1,
  );
  await checkMetrics(stack, db, t0, expect, log);
  const summary = await stack.summary();
  expect('no failed executions', summary.failedExecutions.length === 0, summary.failedExecutions.map((e) => `${e.name}: ${e.error}`).join('; ') || undefined);
  expect('no dead letters', summary.deadLetters.length === 0, summary.deadLetters.map((d) => `${d.errorName}: ${d.errorMessage}`).join('; ') || undefined);
  expect('nothing left running', !summary.executionsByStatus.RUNNING);
  return { startedAt: t0.toISOString(), endedAt: stack.clock.nowIso(), expectations, ok: expectations.every((e) => e.ok) };
}

// -----------------------------------------------------------------------------------------------------------------
// The metrics

const percentText = (part: number, whole: number) => (whole === 0 ? 'no data' : `${((part / whole) * 100).toFixed(1)} %`);

/**
 * What the dashboard shows (its data: GET /metrics with the token, over the scenario's days) against a count straight
 * from the raw items — responses, sent surveys, contract outcomes, each customer's distinct orders — so the check
 * does not read the per-day records it checks.
 */
async function checkMetrics(
  stack: LocalStack,
  db: DynamoDBDocumentClient,
  t0: Date,
  expect: (what: string, ok: boolean, detail?: string) => void,
  log: (line: string) => void,
): Promise<void> {
  const from = new Date(t0.getTime() - 86_400_000).toISOString().slice(0, 10);
  const to = stack.clock.nowIso().slice(0, 10);
  const scan = async (table: string) => {
    const items: Array<Record<string, unknown>> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  };
  const responses = await scan(stack.tables.responses);
  const touchpoints = await scan(stack.tables.touchpoints);
  const contracts = await scan(stack.tables.contracts);
  const customers = await scan(stack.tables.customers);
  const nps = responses.filter((r) => r.kind === 'nps').map((r) => Number(r.score));
  const npsValue = nps.length ? ((nps.filter((x) => x >= 9).length - nps.filter((x) => x <= 6).length) / nps.length) * 100 : undefined;
  const answered = new Set(responses.map((r) => r.surveyId));
  const sent = touchpoints.filter((t) => t.kind === 'survey' && t.status === 'SENT' && !(t.context as { parentTouchpointId?: string }).parentTouchpointId);
  const outcomes = contracts.flatMap((c) => (c.outcomes as Array<{ result: string }> | undefined) ?? []);
  const renewed = outcomes.filter((o) => o.result === 'RENEWED').length;
  const buyers = customers.filter((c) => c.orderIds instanceof Set && c.orderIds.size > 0);
  const repeat = buyers.filter((c) => (c.orderIds as Set<string>).size > 1).length;

  const response = await fetch(`${stack.endpoints.web}/metrics?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${stack.metricsToken}` } });
  const view = response.ok
    ? ((await response.json()) as { result: { overall: { metrics: Record<string, { value?: number; count: number } | undefined> } } })
    : undefined;
  const shown = (id: string) => view?.result.overall.metrics[id];
  const same = (id: string, value: number | undefined, count: number) =>
    shown(id)?.count === count && (value === undefined ? shown(id)?.value === undefined : Math.abs((shown(id)?.value ?? NaN) - value) < 1e-9);
  const detail = view
    ? `NPS ${npsValue === undefined ? 'no data' : npsValue.toFixed(1)} (${nps.length} answers), response rate ${percentText(answered.size, sent.length)} ` +
      `of ${sent.length} surveys, renewal rate ${percentText(renewed, outcomes.length)} of ${outcomes.length} terms ended, ` +
      `repeat purchase ${percentText(repeat, buyers.length)} of ${buyers.length} customers`
    : `GET /metrics answered HTTP ${response.status}`;
  log(`sample: the metrics over ${from} – ${to}: ${detail}`);
  expect(
    'the dashboard\'s figures (GET /metrics) equal a count of the raw answers, surveys, contracts and orders',
    view !== undefined &&
      same('nps', npsValue, nps.length) &&
      same('responseRate', sent.length ? (sent.filter((t) => answered.has(t.touchpointId)).length / sent.length) * 100 : undefined, sent.length) &&
      same('renewalRate', outcomes.length ? (renewed / outcomes.length) * 100 : undefined, outcomes.length) &&
      same('repeatPurchaseRate', buyers.length ? (repeat / buyers.length) * 100 : undefined, buyers.length),
    detail,
  );
}
