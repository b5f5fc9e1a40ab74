/**
 * The sample scenario: what a newcomer sees after `npm start`, and what `npm start -- --scenario` checks end to end.
 *
 *   T0           six purchases (London, Tokyo, Mexico City, New York, Berlin, and one customer whose check-in
 *                falls due during quiet hours in their zone)
 *   T0 + 2h      the New York order is refunded (its check-in is cancelled)
 *   … delay + 1 day later: five check-in emails; the quiet-hours one sent at the next allowed local time
 *   Lars clicks the one-click unsubscribe link (RFC 8058 POST) from his email, then buys again
 *   … delay + 1 day later: no email for Lars's second order
 */
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../core/topology.ts';
import { addDuration, nextAllowedTime, type QuietHours } from '../core/schedule.ts';
import { parseIsoDuration } from './clock.ts';
import { purchaseEntry, quietHoursZone, refundEntry, SAMPLE_CUSTOMERS, SAMPLE_ORDERS } from './sample-data.ts';
import type { LocalStack, MailboxEmail } from './stack.ts';

export interface ScenarioTiming {
  /** ISO-8601 duration from purchase to check-in (the campaign's delay). */
  checkInDelay: string;
  quietHours?: QuietHours;
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

/** How far the scenario moves the clock: (delay + 1 day) twice. */
export function scenarioSpanMs(timing: ScenarioTiming): number {
  return 2 * (parseIsoDuration(timing.checkInDelay) + parseIsoDuration(SETTLE_MARGIN));
}

export async function runSampleScenario(
  stack: LocalStack,
  timing: ScenarioTiming,
  options: { source?: string; log?: (line: string) => void } = {},
): Promise<ScenarioOutcome> {
  const source = options.source ?? DEFAULT_COMMERCE_EVENT_SOURCE;
  const log = options.log ?? (() => {});
  const delayMs = parseIsoDuration(timing.checkInDelay);
  const t0 = stack.clock.now();
  const noorZone = timing.quietHours ? quietHoursZone(t0, timing.checkInDelay, timing.quietHours) : undefined;
  const noor = { ...SAMPLE_CUSTOMERS.noor, timeZone: noorZone ?? SAMPLE_CUSTOMERS.noor.timeZone };
  const { ada, kenji, maria, olivia, lars } = SAMPLE_CUSTOMERS;
  const expectations: Expectation[] = [];
  const expect = (what: string, ok: boolean, detail?: string) => {
    expectations.push({ what, ok, ...(detail ? { detail } : {}) });
    log(`${ok ? '✓' : '✗'} ${what}${detail ? ` (${detail})` : ''}`);
  };
  const put = async (entries: Parameters<LocalStack['putEvents']>[0]) => {
    const result = await stack.putEvents(entries);
    if (result.FailedEntryCount) throw new Error(`the bus rejected sample events: ${JSON.stringify(result.Entries)}`);
  };
  const mailTo = (mail: MailboxEmail[], email: string) => mail.filter((m) => m.to.includes(email));

  log(`sample: six purchases at ${t0.toISOString()}${noorZone ? ` (${noor.name} in ${noorZone}, where the check-in falls in quiet hours)` : ''}`);
  await put([
    purchaseEntry(source, ada, SAMPLE_ORDERS.adaKettle, t0),
    purchaseEntry(source, kenji, SAMPLE_ORDERS.kenjiKnives, t0),
    purchaseEntry(source, maria, SAMPLE_ORDERS.mariaMolcajete, t0),
    purchaseEntry(source, olivia, SAMPLE_ORDERS.oliviaBlender, t0),
    purchaseEntry(source, lars, SAMPLE_ORDERS.larsGrinder, t0),
    purchaseEntry(source, noor, SAMPLE_ORDERS.noorTeapot, t0),
  ]);
  await stack.advance(REFUND_AFTER);
  log(`sample: ${olivia.name} returns the blender`);
  await put([refundEntry(source, olivia, SAMPLE_ORDERS.oliviaBlender, stack.clock.now(), 'changed my mind')]);

  log(`sample: advancing the clock past the check-in delay (${timing.checkInDelay}) + ${SETTLE_MARGIN}`);
  await stack.advance(delayMs + parseIsoDuration(SETTLE_MARGIN) - parseIsoDuration(REFUND_AFTER));
  let mail = await stack.mailbox();
  for (const customer of [ada, kenji, maria, lars, noor]) expect(`one check-in email to ${customer.name}`, mailTo(mail, customer.email).length === 1);
  expect(`no email to ${olivia.name} (refunded before the check-in was due)`, mailTo(mail, olivia.email).length === 0);
  const noorMail = mailTo(mail, noor.email)[0];
  if (timing.quietHours && noorZone && noorMail) {
    const dueAt = addDuration(t0.toISOString(), timing.checkInDelay, noorZone);
    const allowed = nextAllowedTime(dueAt, timing.quietHours, noorZone);
    expect(
      `${noor.name}'s email waited for the end of quiet hours in ${noorZone}`,
      Date.parse(noorMail.sentAt) >= Date.parse(allowed),
      `due ${dueAt}, sent ${noorMail.sentAt}, allowed from ${allowed}`,
    );
  }

  const larsMail = mailTo(mail, lars.email)[0];
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
  await stack.advance(delayMs + parseIsoDuration(SETTLE_MARGIN));
  mail = await stack.mailbox();
  expect(`no further email to ${lars.name} after unsubscribing`, mailTo(mail, lars.email).length === 1);

  const summary = await stack.summary();
  expect('no failed executions', summary.failedExecutions.length === 0, summary.failedExecutions.map((e) => `${e.name}: ${e.error}`).join('; ') || undefined);
  expect('no dead letters', summary.deadLetters.length === 0, summary.deadLetters.map((d) => `${d.errorName}: ${d.errorMessage}`).join('; ') || undefined);
  expect('nothing left running', !summary.executionsByStatus.RUNNING);
  return { startedAt: t0.toISOString(), endedAt: stack.clock.nowIso(), expectations, ok: expectations.every((e) => e.ok) };
}
