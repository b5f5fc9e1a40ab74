/**
 * Burst benchmark: `n` check-ins due in the same minute against the embedded SES with a maximum send rate.
 *
 * Loads `n` customers and `n` PENDING check-in touchpoints (the repository's item format, due at the start minute)
 * straight into the local DynamoDB with BatchWriteItem, then advances the manual clock so that the every-minute
 * dispatch schedule drains them through the real send workflow, paced in real time at the dispatch budget
 * (SEND_RATE_SHARE, 0.9, of the SES maximum send rate, at most MAX_SENDS_PER_SECOND). Reports the SES rate and the
 * budget, the accept rate SES saw in real time (after the pacer's 1-s burst, mean, busiest 1-s window), SES's 429s,
 * the deferrals, the statuses at the end (sent, failed, stuck), lost and duplicate emails, the drain time, and how busy
 * the process was: the whole local stack (dispatch, Step Functions, the functions, DynamoDB, SES) shares one Node
 * event loop, so an event-loop utilisation near 100 % means this machine, not the budget, bounds the rate.
 *
 * The workflow starts are timed too (each execution's first task), and each dispatch run's starts over its duration.
 * `--dispatch-only` ends every send workflow at once (check-eligibility answers STALE, nothing is sent): what is left
 * is dispatch's own work — GetAccount, due-index queries, claims, StartExecution — so it shows the rate dispatch
 * itself reaches on this machine, apart from the workflows that compete with it for the one thread.
 *
 * Run: `npm run bench:burst -- [--touchpoints 2000] [--rate 200] [--dispatch-only] [--json]`; `--rate 1000` shows how
 * close the send path gets to 1,000 sends/s here. Exits 1 when anything was lost, failed, stuck or sent twice (with
 * `--dispatch-only`: when not every touchpoint was started).
 */
import { BatchWriteItemCommand, type BatchWriteItemCommandOutput, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { saveCampaign } from '../adapters/dynamodb-campaigns.ts';
import { loadCampaignDirectory } from '../core/campaigns/load.ts';
import type { Touchpoint } from '../core/model.ts';
import { DEFAULT_DISPATCH_SHARDS } from '../core/topology.ts';
import { shardOf, touchpointIdFor } from '../core/touchpoint-id.ts';
import { sendRateBudget, type DispatchResult } from '../core/use-cases/dispatch-due-touchpoints.ts';
import { handlerModuleLoader, type HandlerLoader } from '../local/lambda-runtime.ts';
import { PROJECT_ROOT, startLocalStack } from '../local/stack.ts';

const { values: args } = parseArgs({
  options: {
    touchpoints: { type: 'string', short: 'n', default: '2000' },
    rate: { type: 'string', short: 'r', default: '200' },
    'dispatch-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const dispatchOnly = args['dispatch-only'];
const n = Number(args.touchpoints);
const rate = Number(args.rate);
if (!(Number.isInteger(n) && n > 0) || !(rate > 0)) {
  throw new Error('usage: npm run bench:burst -- [--touchpoints N > 0] [--rate SES max send rate > 0] [--dispatch-only] [--json]');
}
/** What the dispatch handler computes from the same variables (functions/dispatch-due/handler.ts). */
const share = Number(process.env.SEND_RATE_SHARE ?? 0.9);
const cap = process.env.MAX_SENDS_PER_SECOND ? Number(process.env.MAX_SENDS_PER_SECOND) : undefined;
const budget = sendRateBudget({ maxSendRate: rate, share, ...(cap ? { cap } : {}) });
/** A Monday, 10:00 UTC: outside the check-in campaign's quiet hours for customers in UTC. */
const START = '2031-03-10T10:00:00.000Z';
const CAMPAIGN_ID = 'post-purchase-check-in';
const ENDED = new Set(['SENT', 'FAILED', 'SKIPPED', 'CANCELLED']);

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
/** Real-time accept times (performance.now) and the touchpoint each accepted message was for. */
const acceptedAt: number[] = [];
const touchpointOf = new Map<string, string>();
/** Real-time start of each execution (its check-eligibility task; the first run of each only). */
const startedAt: number[] = [];
const startedExecutions = new Set<string>();
/** What a dispatch run answers (functions/dispatch-due/handler.ts), as far as the figures need it. */
type DispatchAnswer = Omit<DispatchResult, 'failures' | 'backlog'>;
/** Each dispatch run: its scheduled time, real seconds from its invocation to its answer, and what it answered. */
const dispatchRuns: Array<{ at: string; seconds: number; started: number; answer: DispatchAnswer }> = [];

/** The product's handlers, timed where the figures need it; with --dispatch-only, the send workflows end at once. */
const productHandlers = handlerModuleLoader(PROJECT_ROOT);
const handlers: HandlerLoader = async (name) => {
  const handler = await productHandlers(name);
  if (name === 'check-eligibility') {
    return async (event, context) => {
      const { touchpointId, generation } = event as { touchpointId: string; generation: number };
      if (!startedExecutions.has(`${touchpointId}#${generation}`)) {
        startedExecutions.add(`${touchpointId}#${generation}`);
        startedAt.push(performance.now());
      }
      return dispatchOnly ? { decision: 'STALE', reason: 'bench:burst --dispatch-only' } : handler(event, context);
    };
  }
  if (name === 'dispatch-due') {
    return async (event, context) => {
      const begun = performance.now();
      const answer = (await handler(event, context)) as DispatchAnswer;
      const at = (event as { scheduledTime: string }).scheduledTime;
      dispatchRuns.push({ at, seconds: (performance.now() - begun) / 1000, started: answer.started + answer.redispatched + answer.resent, answer });
      return answer;
    };
  }
  return handler;
};

const checkIn = loadCampaignDirectory(join(PROJECT_ROOT, 'campaigns')).filter((c) => c.id === CAMPAIGN_ID);
if (checkIn.length !== 1) throw new Error(`campaigns/ has no ${CAMPAIGN_ID} campaign`);

const stack = await startLocalStack({
  portBase: 0,
  speed: 0,
  startAt: START,
  log: false,
  handlers,
  // No rule changes during the run: cache the campaign rules as the functions do in AWS (60 s).
  campaignCacheSeconds: 60,
  ses: {
    maxSendRate: rate,
    onAccepted: ({ messageId, input }) => {
      acceptedAt.push(performance.now());
      const tag = input.EmailTags?.find((t) => t.Name === 'touchpointId');
      if (tag) touchpointOf.set(messageId, tag.Value);
    },
  },
  loadCampaigns: async (s) => {
    for (const campaign of checkIn) await saveCampaign(s.tables.campaigns, campaign, s.clock.nowIso(), DynamoDBDocumentClient.from(s.clients.dynamodb));
  },
});

const shards = Number(stack.env.DISPATCH_SHARDS ?? DEFAULT_DISPATCH_SHARDS);
const touchpointIdOf = (i: number) => touchpointIdFor(CAMPAIGN_ID, `order:bench-ord-${i}`);

function customerItem(i: number): Record<string, unknown> {
  return {
    customerId: `bench-c-${i}`,
    email: `bench-${i}@example.com`,
    name: `Bench ${i}`,
    timeZone: 'UTC',
    locale: 'en',
    marketingConsent: true,
    orderIds: new Set([`bench-ord-${i}`]),
    profileUpdatedAt: START,
    createdAt: START,
    firstPurchaseAt: START,
  };
}

/** A PENDING check-in as DynamoDbTouchpointRepository.create writes it (with its place in the sparse due index). */
function touchpointItem(i: number): Record<string, unknown> {
  const touchpointId = touchpointIdOf(i);
  const touchpoint: Touchpoint = {
    touchpointId,
    campaignId: CAMPAIGN_ID,
    kind: 'check-in',
    customerId: `bench-c-${i}`,
    orderId: `bench-ord-${i}`,
    dueAt: START,
    status: 'PENDING',
    generation: 0,
    context: {
      orderId: `bench-ord-${i}`,
      items: [{ sku: 'MUG-1', name: 'Stoneware mug', quantity: 1, unitPrice: 14 }],
      total: 14,
      currency: 'EUR',
      purchasedAt: '2031-03-07T10:00:00.000Z',
    },
    createdAt: '2031-03-07T10:00:00.000Z',
    updatedAt: '2031-03-07T10:00:00.000Z',
  };
  return { ...touchpoint, dueShard: String(shardOf(touchpointId, shards)), dueKey: `${START}#${touchpointId}` };
}

async function batchWrite(client: DynamoDBClient, table: string, items: Array<Record<string, unknown>>): Promise<void> {
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item) } })));
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      let left: WriteRequest[] | undefined = batch;
      while (left && left.length > 0) {
        const answer: BatchWriteItemCommandOutput = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: left } }));
        left = answer.UnprocessedItems?.[table];
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Every touchpoint's status and deferrals, read back from the table. */
async function readTouchpoints(): Promise<Array<Pick<Touchpoint, 'touchpointId' | 'status' | 'sendDeferrals'>>> {
  const db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
  const items: Array<Pick<Touchpoint, 'touchpointId' | 'status' | 'sendDeferrals'>> = [];
  const pages = paginateScan(
    { client: db },
    { TableName: stack.tables.touchpoints, ProjectionExpression: 'touchpointId, #s, sendDeferrals', ExpressionAttributeNames: { '#s': 'status' } },
  );
  for await (const page of pages) items.push(...((page.Items ?? []) as typeof items));
  return items;
}

/**
 * A rate in real time from event times: the mean from the first to the last; the steady state, from the end of the
 * pacer's initial burst (its first `burst` grants come at once) to the last; the busiest sliding 1-s window; and the
 * count of each second.
 */
function rateOf(events: number[], burst: number) {
  const times = [...events].sort((a, b) => a - b);
  let peak = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= 1000) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  const seconds = times.length > 1 ? (times.at(-1)! - times[0]!) / 1000 : 0;
  const mean = seconds > 0 ? (times.length - 1) / seconds : 0;
  const perSecond: number[] = [];
  for (const t of times) {
    const second = Math.floor((t - times[0]!) / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + 1;
  }
  const counts = Array.from(perSecond, (count) => count ?? 0);
  const afterBurst = times.length > burst + 1 ? (times.length - 1 - burst) / ((times.at(-1)! - times[burst]!) / 1000) : mean;
  const steady = Number.isFinite(afterBurst) ? afterBurst : mean;
  return { mean, steady, peak, seconds, perSecond: counts };
}
const loadStart = performance.now();
await batchWrite(stack.clients.dynamodb, stack.tables.customers, Array.from({ length: n }, (_, i) => customerItem(i)));
await batchWrite(stack.clients.dynamodb, stack.tables.touchpoints, Array.from({ length: n }, (_, i) => touchpointItem(i)));
const loadSeconds = (performance.now() - loadStart) / 1000;
console.error(`loaded ${n} due check-ins in ${loadSeconds.toFixed(1)} s; draining at a budget of ${budget}/s (SES ${rate}/s)…`);

// Each dispatch run starts for up to 58 s of real time and takes one virtual minute; the clock only stops where work
// is due, so the spare 40 minutes (deferrals, an UNCONFIRMED window) cost nothing when nothing is left.
const runs = Math.ceil(n / (budget * 55)) + 1;
// With --dispatch-only the touchpoints stay DISPATCHED: stop before their 15-minute leases run out.
const advanceBy = dispatchOnly ? `PT${Math.min(runs, 14)}M` : `PT${runs + 40}M`;
const cpuStart = process.cpuUsage();
const loopStart = performance.eventLoopUtilization();
const drainStart = performance.now();
const report = await stack.advance(advanceBy);
const drainSeconds = (performance.now() - drainStart) / 1000;
const loop = performance.eventLoopUtilization(loopStart);
const cpu = process.cpuUsage(cpuStart);

const stats = stack.sesStats();
const summary = await stack.summary();
const mailbox = await stack.mailbox();
const touchpoints = await readTouchpoints();

// Copies per touchpoint, from the mailbox (every stored message) and the tags SES saw.
const perTouchpoint = new Map<string, number>();
for (const mail of mailbox) {
  const id = touchpointOf.get(mail.messageId) ?? `untagged:${mail.messageId}`;
  perTouchpoint.set(id, (perTouchpoint.get(id) ?? 0) + 1);
}
const expected = Array.from({ length: n }, (_, i) => touchpointIdOf(i));
const lost = expected.filter((id) => !perTouchpoint.has(id)).length;
const duplicates = [...perTouchpoint.values()].filter((count) => count > 1).length;
const statuses = summary.touchpointsByStatus;
const stuck = touchpoints.filter((t) => !ENDED.has(t.status)).length;
const deferrals = touchpoints.reduce((sum, t) => sum + (t.sendDeferrals ?? 0), 0);

/** The dispatch pacer's bucket (adapters/rate-pacer.ts: one second's worth). */
const pacerBurst = Math.max(1, Math.floor(budget));
const accepts = rateOf(acceptedAt, pacerBurst);
const starts = rateOf(startedAt, pacerBurst);
const dispatchStarted = dispatchRuns.reduce((sum, r) => sum + r.started, 0);
const dispatchSeconds = dispatchRuns.reduce((sum, r) => sum + r.seconds, 0);

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const result = {
  touchpoints: n,
  sesMaxSendRate: rate,
  pacedBudgetPerSecond: budget,
  loadSeconds: round(loadSeconds),
  dispatchRuns: report.stops.filter((s) => s.firings.some((f) => f.target === 'dispatch-due')).length,
  dispatchOnly,
  acceptRateMean: round(accepts.mean),
  acceptRateSteady: round(accepts.steady),
  acceptRatePeak1s: accepts.peak,
  percentOfBudget: round((100 * (dispatchOnly ? starts.steady : accepts.steady)) / budget),
  startRateSteady: round(starts.steady),
  startRatePeak1s: starts.peak,
  dispatchStarts: dispatchStarted,
  dispatchStartsPerRunSecond: round(dispatchSeconds > 0 ? dispatchStarted / dispatchSeconds : 0),
  dispatchRunDetails: dispatchRuns.map((r) => ({ at: r.at, seconds: round(r.seconds), ...r.answer })),
  sesRateLimit429: stats.throttled - stats.injectedThrottles,
  deferrals,
  sent: statuses.SENT ?? 0,
  failed: statuses.FAILED ?? 0,
  stuck,
  lost,
  duplicates,
  secondsFirstToLastAccept: round(accepts.seconds),
  drainSeconds: round(drainSeconds),
  eventLoopUtilisation: round(loop.utilization, 2),
  cpuSecondsPerDrainSecond: round((cpu.user + cpu.system) / 1e6 / drainSeconds, 2),
  acceptsPerSecond: accepts.perSecond,
  startsPerSecond: starts.perSecond,
  sesStats: stats,
  executions: summary.executionsByStatus,
  deadLetters: summary.deadLetters.length,
};

if (args.json) console.log(JSON.stringify(result, null, 2));
else {
  const lines: Array<[string, string]> = [
    ['touchpoints due at once', `${n} (loaded in ${result.loadSeconds} s)`],
    ['SES max send rate', `${rate}/s`],
    ['paced budget', `${budget}/s (share ${share}${cap ? `, cap ${cap}/s` : ''})`],
    ...(dispatchOnly
      ? []
      : ([
          ['SES accept rate, after the 1-s burst', `${result.acceptRateSteady}/s = ${result.percentOfBudget} % of the budget`],
          ['SES accept rate, mean first→last', `${result.acceptRateMean}/s over ${result.secondsFirstToLastAccept} s`],
          ['SES accept rate, peak (any 1-s window)', `${accepts.peak}`],
        ] as Array<[string, string]>)),
    ['workflow starts, after the burst / peak 1 s', `${result.startRateSteady}/s / ${starts.peak}${dispatchOnly ? ` = ${result.percentOfBudget} % of the budget` : ''}`],
    ['dispatch: starts per second of its runs', `${result.dispatchStartsPerRunSecond}/s (${dispatchStarted} starts)`],
    ['429s from the SES rate limit', `${result.sesRateLimit429}`],
    ['deferrals', `${deferrals}`],
    ['sent / failed / stuck', `${result.sent} / ${result.failed} / ${stuck}${dispatchOnly ? ' (left DISPATCHED on purpose)' : ''}`],
    ['lost / duplicates', `${lost} / ${duplicates}`],
    ['drain time', `${result.drainSeconds} s, ${result.dispatchRuns} dispatch run(s)`],
    ['event loop busy / CPU per second', `${Math.round(100 * loop.utilization)} % / ${result.cpuSecondsPerDrainSecond} s (one Node thread runs the whole stack)`],
    ['executions / dead letters', `${JSON.stringify(result.executions)} / ${result.deadLetters}`],
  ];
  const width = Math.max(...lines.map(([label]) => label.length));
  for (const [label, value] of lines) console.log(`${label.padEnd(width)}  ${value}`);
  if (!dispatchOnly) console.log(`SES accepts per second: ${result.acceptsPerSecond.join(' ')}`);
  console.log(`workflow starts per second: ${result.startsPerSecond.join(' ')}`);
  for (const run of dispatchRuns) {
    const counts = Object.entries(run.answer).filter(([name, value]) => typeof value === 'number' && name !== 'sendsPerSecond' && value !== 0).map(([name, value]) => `${name} ${String(value)}`);
    console.log(`dispatch run ${run.at.slice(11, 16)}: ${round(run.seconds)} s, ${counts.join(', ') || 'nothing due'}${run.answer.deferredByBudget ? ', budget spent' : ''}`);
  }
}
await stack.stop();
if (dispatchOnly) {
  if (dispatchStarted !== n) {
    console.error(`✗ dispatch started ${dispatchStarted} of ${n}`);
    process.exit(1);
  }
} else if (lost > 0 || duplicates > 0 || stuck > 0 || result.failed > 0) {
  console.error(`✗ lost ${lost}, failed ${result.failed}, stuck ${stuck}, sent twice ${duplicates}`);
  process.exit(1);
}
