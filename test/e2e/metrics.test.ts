/**
 * The metrics end to end on the embedded stack, with the shipped campaigns: purchases (re-delivered, a second order,
 * an earlier order that arrives late), NPS surveys answered from their email links (a changed answer, a double click,
 * customers who do not answer), contracts renewed, cancelled, ended by the sweep, renewed late after the sweep
 * recorded the churn, and one still running. Then the figures the CLI (`outreach metrics --json`, a subprocess) and the
 * JSON API (GET /metrics with the token) show must be the same, and equal to a recomputation that reads no record:
 * straight from the raw items (touchpoints, responses, contracts) and from the test's own log of the purchases it sent.
 * The browser test (test/browser/dashboard.test.ts) checks that the dashboard draws what the API returns.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COMMERCE_EVENT_SOURCE, DETAIL_TYPES } from '../../core/topology.ts';
import { LOCAL_EVENT_BUS_NAME } from '../../local/constants.ts';
import { contractRenewedEntry, contractStartedEntry, contractTerm, nextTermEnd, purchaseEntry, type SampleContract, type SampleCustomer } from '../../local/sample-data.ts';
import { startE2eStack, type E2eStack } from './support.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = import.meta.resolve('tsx');
const SOURCE = DEFAULT_COMMERCE_EVENT_SOURCE;
const START = '2031-03-03T08:00:00.000Z';
const DAY_MS = 86_400_000;

let e2e: E2eStack;
/** Every purchase the test sent (re-deliveries included): the recomputation's source for the repeat-purchase rate. */
const purchaseLog: Array<{ customerId: string; orderId: string; at: string }> = [];

const customers: SampleCustomer[] = Array.from({ length: 10 }, (_, i) => ({
  customerId: `m-cust-${i}`,
  name: `Customer${i} Test`,
  email: `m-cust-${i}@example.com`,
  timeZone: i % 2 === 0 ? 'Europe/Berlin' : 'America/New_York',
  locale: 'en',
  marketingConsent: true,
}));
const who = (i: number) => customers[i]!;
const contractOf = (i: number): SampleContract => ({ contractId: `m-ctr-${i}`, plan: 'Care', value: 100, currency: 'EUR', autoRenew: false });

const now = () => e2e.stack.clock.now();

async function put(entries: PutEventsRequestEntry[]): Promise<void> {
  const result = await e2e.events.send(new PutEventsCommand({ Entries: entries }));
  expect(result.FailedEntryCount).toBe(0);
  await e2e.stack.settle();
}

async function buy(i: number, orderId: string, at: Date = now()): Promise<void> {
  purchaseLog.push({ customerId: who(i).customerId, orderId, at: at.toISOString() });
  await put([purchaseEntry(SOURCE, who(i), { orderId, currency: 'EUR', items: [{ sku: 'K-1', name: 'Kettle', quantity: 1, unitPrice: 40 }] }, at)]);
}

const cancelledEntry = (i: number, at: Date): PutEventsRequestEntry => ({
  EventBusName: LOCAL_EVENT_BUS_NAME,
  Source: SOURCE,
  DetailType: DETAIL_TYPES.contractCancelled,
  Time: at,
  Detail: JSON.stringify({ contractId: contractOf(i).contractId, customerId: who(i).customerId, occurredAt: at.toISOString(), reason: 'too expensive' }),
});

/** The answer link for `score` in the customer's newest survey email. */
async function answerLink(i: number, score: number): Promise<string> {
  const mail = (await e2e.stack.mailbox()).filter((m) => m.to.includes(who(i).email) && m.subject.endsWith('one quick question'));
  expect(mail.length, `${who(i).customerId} got a survey email`).toBeGreaterThan(0);
  const line = mail[mail.length - 1]!.body.text!.split('\n').find((l) => l.startsWith(`${score}: `) || l.startsWith(`${score} (`));
  return line!.slice(line!.indexOf('http'));
}

/** What a customer's click on the confirm page posts. */
async function answer(i: number, score: number): Promise<void> {
  const link = await answerLink(i, score);
  const params = new URL(link).searchParams;
  const form = new URLSearchParams({ s: params.get('s')!, c: params.get('c')!, v: params.get('v')!, e: params.get('e')!, t: params.get('t')!, comment: '' });
  const response = await fetch(new URL('/survey', link), { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(response.status).toBe(200);
  await e2e.stack.settle();
}

async function scan(table: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await e2e.db.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

beforeAll(async () => {
  e2e = await startE2eStack({ startAt: START });
  // Day 0: a first purchase each; two are delivered twice; six contracts end in 20 days (one in 60).
  for (let i = 0; i < 10; i += 1) await buy(i, `m-o-${i}-1`);
  await buy(0, 'm-o-0-1');
  await buy(1, 'm-o-1-1');
  await put(
    [0, 1, 2, 3, 4, 5].map((i) => contractStartedEntry(SOURCE, who(i), contractOf(i), contractTerm(now(), who(i).timeZone, i === 5 ? 60 : 20), now())),
  );
  // Day 3: second purchases of 0 and 1; an order of 4 dated the day before its first, arriving now.
  await e2e.stack.advance('P3D');
  await buy(0, 'm-o-0-2');
  await buy(1, 'm-o-1-2');
  await buy(4, 'm-o-4-0', new Date(Date.parse(START) - DAY_MS));
  // Day 12: 2 renews before answering any survey (segment "none").
  await e2e.stack.advance('P9D');
  await put([contractRenewedEntry(SOURCE, who(2), contractOf(2), nextTermEnd(contractTerm(new Date(START), who(2).timeZone, 20).endDate), now())]);
  // Day 14, 14:00 UTC: the NPS surveys are out (New York's were held until 08:00 there by quiet hours). 0 answers 10, 1 answers 3, 6 answers 8 then changes to 9, 7 clicks 10 twice,
  // 8 answers 6; the others do not answer.
  await e2e.stack.advance('P2DT6H');
  await answer(0, 10);
  await answer(1, 3);
  await answer(6, 8);
  await answer(6, 9);
  await answer(7, 10);
  await answer(7, 10);
  await answer(8, 6);
  // Day 18: 0 (a promoter now) renews, 1 (a detractor) cancels.
  await e2e.stack.advance('P4D');
  await put([
    contractRenewedEntry(SOURCE, who(0), contractOf(0), nextTermEnd(contractTerm(new Date(START), who(0).timeZone, 20).endDate), now()),
    cancelledEntry(1, now()),
  ]);
  // Day 24: the sweep has ended 3 and 4 (churned); 4 renews late, which turns its churn into a renewal.
  await e2e.stack.advance('P6D');
  await put([contractRenewedEntry(SOURCE, who(4), contractOf(4), nextTermEnd(contractTerm(new Date(START), who(4).timeZone, 20).endDate), now())]);
  await e2e.stack.advance('P7D');
}, 240_000);

afterAll(async () => {
  await e2e?.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// The recomputation from raw data

const dayOf = (instant: string) => new Date(Date.parse(instant)).toISOString().slice(0, 10);
const daysBetween = (a: string, b: string) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
const inRange = (day: string, from: string, to: string) => day >= from && day <= to;
const percent = (part: number, whole: number) => (whole === 0 ? undefined : (part / whole) * 100);

interface Expected {
  nps: { value: number | undefined; count: number };
  responseRate: { value: number | undefined; count: number };
  renewalRate: { value: number | undefined; count: number };
  churnRate: { value: number | undefined; count: number };
  repeatPurchaseRate: { value: number | undefined; count: number };
  retentionPromoter: { value: number | undefined; count: number };
  retentionDetractor: { value: number | undefined; count: number };
  retentionNone: { value: number | undefined; count: number };
}

async function recompute(from: string, to: string, repeatWindowDays: number): Promise<Expected> {
  const touchpoints = await scan(e2e.stack.tables.touchpoints);
  const responses = await scan(e2e.stack.tables.responses);
  const contracts = await scan(e2e.stack.tables.contracts);

  // NPS: responses by the day of their first answer, at their current score.
  const nps = responses.filter((r) => r.kind === 'nps' && inRange(dayOf(String(r.firstAnsweredAt)), from, to)).map((r) => Number(r.score));
  const promoters = nps.filter((s) => s >= 9).length;
  const detractors = nps.filter((s) => s <= 6).length;

  // Response rate: surveys (not their reminders) sent in the range, and whether each has a response.
  const answered = new Set(responses.map((r) => String(r.surveyId)));
  const sent = touchpoints.filter(
    (t) => t.kind === 'survey' && t.status === 'SENT' && !(t.context as { parentTouchpointId?: string }).parentTouchpointId && inRange(dayOf(String(t.sentAt)), from, to),
  );

  // Renewal and churn: each term's last recorded outcome, on the day it became known.
  const outcomes = contracts.flatMap((c) => (c.outcomes as Array<{ result: string; at: string; npsSegment: string }> | undefined) ?? []).filter((o) => inRange(dayOf(o.at), from, to));
  const renewed = (segment?: string) => outcomes.filter((o) => o.result === 'RENEWED' && (segment === undefined || o.npsSegment === segment)).length;
  const ended = (segment?: string) => outcomes.filter((o) => segment === undefined || o.npsSegment === segment).length;

  // Repeat purchase: from the purchases the test sent — distinct orders per customer, the first two by time.
  const byCustomer = new Map<string, Map<string, string>>();
  for (const p of purchaseLog) (byCustomer.get(p.customerId) ?? byCustomer.set(p.customerId, new Map()).get(p.customerId)!).set(p.orderId, p.at);
  let cohort = 0;
  let repeated = 0;
  for (const orders of byCustomer.values()) {
    const sorted = [...orders].sort(([oa, a], [ob, b]) => a.localeCompare(b) || oa.localeCompare(ob));
    const first = dayOf(sorted[0]![1]);
    if (!inRange(first, from, to)) continue;
    cohort += 1;
    if (sorted[1] && daysBetween(first, dayOf(sorted[1][1])) <= repeatWindowDays) repeated += 1;
  }

  return {
    nps: { value: nps.length ? ((promoters - detractors) / nps.length) * 100 : undefined, count: nps.length },
    responseRate: { value: percent(sent.filter((t) => answered.has(String(t.touchpointId))).length, sent.length), count: sent.length },
    renewalRate: { value: percent(renewed(), ended()), count: ended() },
    churnRate: { value: percent(ended() - renewed(), ended()), count: ended() },
    repeatPurchaseRate: { value: percent(repeated, cohort), count: cohort },
    retentionPromoter: { value: percent(renewed('promoter'), ended('promoter')), count: ended('promoter') },
    retentionDetractor: { value: percent(renewed('detractor'), ended('detractor')), count: ended('detractor') },
    retentionNone: { value: percent(renewed('none'), ended('none')), count: ended('none') },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The interfaces

interface View {
  result: { period: { from: string; to: string }; repeatWindowDays: number; overall: { metrics: Record<string, { value?: number; count: number }> } };
  report: Array<{ metric: string; current?: number; count: number; status: string }>;
}

/** What `eval "$(npm run -s local -- env)"` exports: tables, endpoints and the stack's clock (OUTREACH_CLOCK_URL). */
const localEnv = async () => (await (await fetch(`${e2e.stack.endpoints.control}/env`)).json()) as Record<string, string>;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = await localEnv();
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.endsWith('_TABLE'))) as Record<string, string>;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', TSX, join(ROOT, 'cli/outreach.ts'), ...args],
      { cwd: ROOT, env: { ...base, NODE_NO_WARNINGS: '1', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: unknown }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

async function api(query: string, token = e2e.stack.metricsToken): Promise<Response> {
  return fetch(`${e2e.stack.endpoints.web}/metrics?${query}`, { headers: { authorization: `Bearer ${token}` } });
}

describe('metrics after a run of the embedded stack', () => {
  const from = dayOf(new Date(Date.parse(START) - 2 * DAY_MS).toISOString());
  const to = dayOf(new Date(Date.parse(START) + 40 * DAY_MS).toISOString());

  it('the data covers every case (the recomputation is not vacuous)', async () => {
    const expected = await recompute(from, to, 90);
    expect(expected.nps.count).toBe(5);
    // 0 and 7 promoters, 6 changed 8 → 9 (a promoter now), 1 and 8 detractors: (3 − 2) / 5.
    expect(expected.nps.value).toBeCloseTo(20, 9);
    expect(expected.responseRate.count).toBe(10);
    // 0 and 2 renewed, 4 churned then renewed late, 1 cancelled, 3 ended; 5 still runs.
    expect(expected.renewalRate.count).toBe(5);
    expect(expected.retentionPromoter.count).toBe(1);
    expect(expected.retentionDetractor.count).toBe(1);
    expect(expected.renewalRate.value).toBeCloseTo(60, 9);
    // 0 and 1 bought twice within days; 4's late, earlier order makes its first purchase the day before.
    expect(expected.repeatPurchaseRate.value).toBeCloseTo(30, 9);
    expect(expected.repeatPurchaseRate.count).toBe(10);
  });

  it('the CLI and the API show the same figures, equal to the recomputation from raw data', async () => {
    const expected = await recompute(from, to, 90);
    const out = await cli(['metrics', '--from', from, '--to', to, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const fromCli = JSON.parse(out.stdout) as View;
    const response = await api(`from=${from}&to=${to}`);
    expect(response.status).toBe(200);
    const fromApi = (await response.json()) as View;

    expect(fromApi.result).toEqual(fromCli.result);
    expect(fromApi.report).toEqual(fromCli.report);
    for (const [metric, value] of Object.entries(expected)) {
      const shown = fromCli.result.overall.metrics[metric];
      expect(shown?.count, metric).toBe(value.count);
      if (value.value === undefined) expect(shown?.value, metric).toBeUndefined();
      else expect(shown?.value, metric).toBeCloseTo(value.value, 9);
    }
  });

  it('the CLI table marks what is off target, with the same current values', async () => {
    const out = await cli(['metrics', '--from', from, '--to', to]);
    expect(out.code, out.stderr).toBe(0);
    const expected = await recompute(from, to, 90);
    const npsLine = out.stdout.split('\n').find((l) => l.startsWith('NPS '))!;
    expect(npsLine).toContain(expected.nps.value!.toFixed(1));
    const churnLine = out.stdout.split('\n').find((l) => l.startsWith('Churn rate'))!;
    expect(churnLine).toContain(`${expected.churnRate.value!.toFixed(1)} %`);
    expect(churnLine).toMatch(expected.churnRate.value! > 20 ? /OFF TARGET/ : /on target/);
  });

  it('the API refuses a request without the token', async () => {
    expect((await api(`from=${from}&to=${to}`, 'wrong')).status).toBe(401);
  });

  it('a rebuild finds no drift', async () => {
    const out = await cli(['metrics', 'rebuild', '--dry-run', '--json']);
    expect(out.code, out.stdout + out.stderr).toBe(0);
  });
});
