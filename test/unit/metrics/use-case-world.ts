/**
 * Generated datasets driven through the real use cases, and what the metrics must then be.
 *
 * - Surveys and purchases come from world.ts (generateWorld). `driveSurveysAndPurchases` records every send
 *   (twice when `sentTwice`) with recordTouchpointOutcome, every click with recordSurveyResponse and every Purchase
 *   Completed delivery (re-deliveries included) with ingestCommerceEvent, in a seeded shuffle that keeps only the
 *   order the product needs (one survey's send before its clicks, its clicks in time order), with entities in
 *   flight at the same time and some deliveries of one customer at once (Promise.all).
 * - Contracts are generated here, because world.ts gives each outcome an arbitrary segment whereas the use cases read
 *   it from the customer's latest NPS answer: contract events (Started, then per term Renewed, Cancelled or nothing),
 *   renewal sweeps (recordContractEnds) at irregular times, late renewals after the sweep's churn, re-deliveries,
 *   contracts still running, and the NPS answers of the customers. `driveContracts` applies them in time order
 *   (contract events are ordered by the product: an older event is stale).
 * - `contractOracle` recomputes the outcomes from that raw data with no core/ code: per term the last outcome in
 *   the order they became known, on the UTC day of the outcome, in the segment of the customer's latest NPS answer
 *   at the time it became known.
 * - `FakesMetricsReader` reads the per-day records from the fakes, the way the DynamoDB reader queries by day range.
 */
import { parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { applyContractEvent, recordContractEnds } from '../../../core/contracts/sweep-renewals.ts';
import { parseCommerceEvent } from '../../../core/events.ts';
import type { MetricsReader } from '../../../core/metrics/read-metrics.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { recordSurveyResponse, type RecordOutcome } from '../../../core/surveys/record-response.ts';
import { ingestCommerceEvent } from '../../../core/use-cases/ingest-commerce-event.ts';
import { recordTouchpointOutcome } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { InMemoryContractCustomers, InMemoryContracts, contractEnvelope } from '../contracts/fakes.ts';
import { InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, checkInCampaign, purchaseEvent } from '../fakes.ts';
import { Faults, InMemorySurveyAggregates, InMemorySurveyResponses, KEYRING, RecordingEvents, tokenSequence } from '../surveys/fakes.ts';
import { click } from '../surveys/support.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from './fake-counters.ts';
import type { OracleValue } from './oracle.ts';
import { WORLD_FROM, WORLD_TO, prng, shuffledEvents, type RawPurchase, type RawWorld, type WorldEvent } from './world.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const dayOf = (instant: string) => new Date(Date.parse(instant)).toISOString().slice(0, 10);
const midnight = (day: string) => Date.parse(`${day}T00:00:00.000Z`);

// ---------------------------------------------------------------------------------------------------------------
// The fakes, sharing one set of metric records

/** Every port the use cases need, in memory; one pending-counts list per table, one store of records. */
export function useCaseFakes() {
  const counters = new InMemoryMetricsCounters();
  const pending = {
    touchpoints: new InMemoryPendingCounts(),
    responses: new InMemoryPendingCounts(),
    customers: new InMemoryPendingCounts(),
    contracts: new InMemoryPendingCounts(),
  };
  const surveyTouchpoints = new InMemoryTouchpoints(4, pending.touchpoints);
  const responses = new InMemorySurveyResponses(new Faults(), pending.responses, tokenSequence('answer'));
  const aggregates = new InMemorySurveyAggregates();
  const customers = new InMemoryCustomers(pending.customers);
  // Counts the purchase-history writes refused because another purchase of the customer was written first.
  let refused = 0;
  const replacePurchaseHistory = customers.replacePurchaseHistory.bind(customers);
  customers.replacePurchaseHistory = async (...args) => {
    const written = await replacePurchaseHistory(...args);
    if (!written) refused += 1;
    return written;
  };
  const contracts = new InMemoryContracts(pending.contracts);
  const contractCustomers = new InMemoryContractCustomers();
  return {
    counters,
    pending,
    surveyTouchpoints,
    responses,
    aggregates,
    customers,
    contracts,
    contractCustomers,
    refusedPurchaseHistoryWrites: () => refused,
    surveyDeps: {
      responses,
      aggregates,
      events: new RecordingEvents(),
      metrics: { pending: pending.responses, counters },
      keyring: async () => KEYRING,
      newToken: tokenSequence('settle'),
    },
    ingestDeps: {
      customers,
      touchpoints: new InMemoryTouchpoints(),
      campaigns: new StaticCampaigns([checkInCampaign()]),
      // Real time for the lease: one instant, after every event (the leases are released when a settle ends).
      metrics: { pending: pending.customers, counters, clock: () => '2027-06-01T00:00:00.000Z' },
    },
    contractDeps: {
      contracts,
      touchpoints: new InMemoryTouchpoints(),
      customers: contractCustomers,
      metrics: { pending: pending.contracts, counters },
    },
  };
}

export type UseCaseFakes = ReturnType<typeof useCaseFakes>;

/** What is left unsettled anywhere: pending counts, markers, responses waiting to be settled. Empty when all done. */
export async function leftovers(fakes: UseCaseFakes) {
  return {
    pending: Object.fromEntries(Object.entries(fakes.pending).map(([table, store]) => [table, store.entities()])),
    markers: fakes.counters.markers(),
    aggregateMarkers: fakes.aggregates.markers(),
    responsesToSettle: await fakes.responses.listPendingSettlement('9999-12-31T23:59:59.999Z', 1_000_000),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the records

const inRange = (day: string, from: string, to: string) => day >= from && day <= to;

/** The records of the fakes, read by UTC day range like the DynamoDB reader. */
export class FakesMetricsReader implements MetricsReader {
  constructor(private readonly fakes: UseCaseFakes) {}

  async surveyCampaigns(): Promise<string[]> {
    const ids = new Set([...this.fakes.counters.sends().map((s) => s.campaignId), ...this.fakes.aggregates.counts().map((a) => a.campaignId)]);
    return [...ids].sort();
  }

  async surveyAnswers(campaignId: string, from: string, to: string) {
    return this.fakes.aggregates.counts().filter((a) => a.campaignId === campaignId && inRange(a.day, from, to));
  }

  async surveySends(campaignId: string, from: string, to: string) {
    return this.fakes.counters.sends().filter((s) => s.campaignId === campaignId && inRange(s.day, from, to));
  }

  async contractOutcomes(from: string, to: string) {
    return this.fakes.counters.outcomes().filter((o) => inRange(o.day, from, to));
  }

  async purchaseCohorts(from: string, to: string) {
    return this.fakes.counters.purchases().filter((p) => inRange(p.day, from, to));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Surveys and purchases through the use cases

export interface DriveLog {
  /** recordSurveyResponse's outcome per click. */
  clicks: Record<RecordOutcome, number>;
  /** Sends recorded / refused (the repeated SENT of a survey sent twice). */
  sends: { recorded: number; repeated: number };
  /** Groups of deliveries of one customer ingested at once, and how many deliveries they held. */
  concurrentPurchaseGroups: number[];
}

type Step = { entity: string; events: WorldEvent[]; concurrent: boolean };

/**
 * Cuts the shuffled events into steps: one event each, except that a purchase delivery sometimes takes the next
 * deliveries of the same customer along, to be ingested at once.
 */
function stepsOf(events: readonly WorldEvent[], rng: () => number): Step[] {
  const taken = new Set<number>();
  const steps: Step[] = [];
  events.forEach((event, i) => {
    if (taken.has(i) || event.type === 'outcome') return;
    if (event.type !== 'purchase') {
      steps.push({ entity: `survey:${event.surveyId}`, events: [event], concurrent: false });
      return;
    }
    const customerId = event.purchase.customerId;
    const group = [event];
    if (rng() < 0.4) {
      for (let j = i + 1; j < events.length && group.length < 4; j += 1) {
        const other = events[j]!;
        if (!taken.has(j) && other.type === 'purchase' && other.purchase.customerId === customerId) {
          taken.add(j);
          group.push(other);
        }
      }
    }
    steps.push({ entity: `customer:${customerId}`, events: group, concurrent: group.length > 1 });
  });
  return steps;
}

/**
 * Drives every survey send, click and purchase delivery of `world` through the use cases. Steps run a few at a time
 * (Promise.all over distinct entities, each entity's steps in order), so writes of different entities interleave.
 */
export async function driveSurveysAndPurchases(world: RawWorld, fakes: UseCaseFakes, seed: number): Promise<DriveLog> {
  const rng = prng(seed);
  const surveys = new Map(world.surveys.map((s) => [s.surveyId, s]));
  const log: DriveLog = { clicks: { recorded: 0, changed: 0, unchanged: 0, closed: 0 }, sends: { recorded: 0, repeated: 0 }, concurrentPurchaseGroups: [] };

  // Each survey's DISPATCHED touchpoint exists before its send is recorded (the dispatch claimed it).
  for (const survey of world.surveys) {
    const touchpoint: Touchpoint = {
      touchpointId: survey.surveyId,
      campaignId: survey.campaignId,
      kind: 'survey',
      customerId: survey.customerId,
      dueAt: survey.sentAt,
      status: 'DISPATCHED',
      generation: 0,
      context: {},
      createdAt: survey.sentAt,
      updatedAt: survey.sentAt,
    };
    await fakes.surveyTouchpoints.create(touchpoint);
  }

  const run = async (event: WorldEvent): Promise<void> => {
    if (event.type === 'sent') {
      const survey = surveys.get(event.surveyId)!;
      const { recorded } = await recordTouchpointOutcome(
        {
          touchpointId: survey.surveyId,
          generation: 0,
          now: survey.sentAt,
          outcome: 'SENT',
          messageId: `m-${survey.surveyId}`,
          survey: { surveyId: survey.surveyId, reminder: false, scale: survey.kind },
        },
        { touchpoints: fakes.surveyTouchpoints, metrics: { pending: fakes.pending.touchpoints, counters: fakes.counters } },
      );
      log.sends[recorded ? 'recorded' : 'repeated'] += 1;
    } else if (event.type === 'click') {
      const survey = surveys.get(event.surveyId)!;
      // As the answer handler does: the send time of a survey whose send was counted.
      const touchpoint = await fakes.surveyTouchpoints.get(survey.surveyId);
      const request = {
        ...click(event.score, event.at, { surveyId: survey.surveyId, customerId: survey.customerId, kind: survey.kind, expiresAt: '2030-01-01T00:00:00.000Z' }),
        campaignId: survey.campaignId,
        orderId: undefined,
        surveySentAt: touchpoint?.surveyKind !== undefined ? touchpoint.sentAt : undefined,
      };
      const { outcome } = await recordSurveyResponse(request, fakes.surveyDeps);
      log.clicks[outcome] += 1;
    } else if (event.type === 'purchase') {
      await ingestCommerceEvent(purchaseCompleted(event.purchase), fakes.ingestDeps);
    }
  };

  const steps = stepsOf(shuffledEvents({ ...world, contracts: [] }, seed), rng);
  for (let i = 0; i < steps.length; ) {
    const size = 1 + Math.floor(rng() * 6);
    const window = steps.slice(i, i + size);
    i += window.length;
    const byEntity = new Map<string, Step[]>();
    for (const step of window) byEntity.set(step.entity, [...(byEntity.get(step.entity) ?? []), step]);
    await Promise.all(
      [...byEntity.values()].map(async (mine) => {
        for (const step of mine) {
          if (step.concurrent) {
            log.concurrentPurchaseGroups.push(step.events.length);
            await Promise.all(step.events.map(run));
          } else {
            for (const event of step.events) await run(event);
          }
        }
      }),
    );
  }
  return log;
}

/** A Purchase Completed delivery; the envelope's time is the purchase's (the cohort day is the envelope's UTC day). */
function purchaseCompleted(purchase: RawPurchase) {
  return parseCommerceEvent(
    purchaseEvent(
      { customerId: purchase.customerId, orderId: purchase.orderId, purchasedAt: purchase.at },
      { id: `evt-${purchase.orderId}`, time: purchase.at },
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Contracts: raw data

/** Zones without daylight saving time, so the recomputation needs only their fixed offsets (minutes east of UTC). */
export const CONTRACT_ZONES: ReadonlyArray<{ zone: string; offsetMinutes: number }> = [
  { zone: 'UTC', offsetMinutes: 0 },
  { zone: 'Asia/Tokyo', offsetMinutes: 540 },
  { zone: 'Asia/Kolkata', offsetMinutes: 330 },
  { zone: 'America/Bogota', offsetMinutes: -300 },
  { zone: 'Pacific/Honolulu', offsetMinutes: -600 },
];

export type ContractEventType = 'Contract Started' | 'Contract Renewed' | 'Contract Cancelled';

export interface RawContractEvent {
  type: ContractEventType;
  /** The event's detail, occurredAt included (sometimes written with a zone offset). */
  detail: Record<string, unknown> & { occurredAt: string };
  /** Envelope times of its deliveries, in order: the first applies, the others are re-deliveries. */
  deliveries: string[];
  /** Renewed and Cancelled: the end date of the term the event closes. */
  closes?: string;
}

export interface RawContractOfWorld {
  contractId: string;
  customerId: string;
  zone: (typeof CONTRACT_ZONES)[number];
  /** The end date the contract started with; each Renewed gives the next term's (`detail.endDate`). */
  firstEndDate: string;
  events: RawContractEvent[];
  /** What the generator planned per term (for the "contains the cases" check only, not for the recomputation). */
  fates: string[];
}

export interface NpsAnswerOfWorld {
  customerId: string;
  /** At 30 seconds past a minute: never the same instant as an event delivery (0 s) or a sweep (15 s). */
  at: string;
  score: number;
  category: 'promoter' | 'passive' | 'detractor';
}

export interface ContractWorld {
  contracts: RawContractOfWorld[];
  answers: NpsAnswerOfWorld[];
  /** Times the churn sweep (recordContractEnds) runs, ascending, at 15 seconds past a minute. */
  sweeps: string[];
}

/** An instant written with a zone offset (`+05:30`), same instant. */
function withOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * MINUTE).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** UTC instant at which `day` begins in a zone `offsetMinutes` east of UTC. */
const localDayStart = (day: string, offsetMinutes: number) => midnight(day) - offsetMinutes * MINUTE;
const addDays = (day: string, n: number) => iso(midnight(day) + n * DAY).slice(0, 10);

/** The product's documented lag of the churn sweep: it lists contracts whose last day began at least 1 day + 2 h ago. */
const SWEEP_LAG = DAY + 2 * HOUR;

export function generateContractWorld(seed: number, size: { customers: number; contracts: number }): ContractWorld {
  const rng = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
  const chance = (p: number) => rng() < p;
  const worldStart = midnight(WORLD_FROM);
  const worldEnd = midnight(WORLD_TO) + DAY;
  const minute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

  // Sweeps: roughly daily at varying hours, sometimes missing a day or two.
  const sweeps: string[] = [];
  for (let at = worldStart - 60 * DAY + int(0, 23) * HOUR; at < worldEnd + 10 * DAY; at += pick([1, 1, 1, 1, 2, 3]) * DAY + int(-3, 3) * HOUR) {
    sweeps.push(iso(minute(at) + 15_000));
  }

  const customers = Array.from({ length: size.customers }, (_, i) => `kc-${i + 1}`);
  const contracts: RawContractOfWorld[] = [];
  for (let i = 0; i < size.contracts; i += 1) {
    const contractId = `ctr-${i + 1}`;
    const customerId = pick(customers);
    const zone = pick(CONTRACT_ZONES);
    const events: RawContractEvent[] = [];
    const fates: string[] = [];
    const occurred = (ms: number) => (chance(0.2) ? withOffset(ms, pick([120, -180, 330, 60])) : iso(ms));
    const add = (type: ContractEventType, occurredMs: number, deliveredMs: number, detail: Record<string, unknown>, closes?: string) => {
      const deliveries = [iso(minute(deliveredMs))];
      if (chance(0.2)) deliveries.push(iso(minute(deliveredMs) + int(1, 14 * 24 * 60) * MINUTE));
      // A retry right away (same envelope time), now and then.
      if (chance(0.05)) deliveries.push(deliveries[0]!);
      events.push({ type, detail: { contractId, customerId, ...detail, occurredAt: occurred(occurredMs) }, deliveries, ...(closes ? { closes } : {}) });
    };

    const startedMs = minute(worldStart - int(100, 400) * DAY + int(0, 23 * 60) * MINUTE);
    const firstEndDate = iso(worldStart + int(-40, 240) * DAY).slice(0, 10);
    add('Contract Started', startedMs, startedMs, {
      email: `${customerId}@example.com`,
      name: `Customer ${customerId}`,
      timeZone: zone.zone,
      locale: 'en',
      marketingConsent: true,
      plan: 'pro-annual',
      value: 1200,
      currency: 'EUR',
      startDate: iso(startedMs).slice(0, 10),
      endDate: firstEndDate,
      autoRenew: false,
    });

    // The contract's version (the latest occurredAt applied) and the first delivery of the latest event: every event
    // is newer than the one before and delivered after it, as a contract's own events are.
    let version = startedMs;
    let lastDelivered = startedMs;
    const deliveredAfter = (at: number) => Math.max(at + int(0, 180) * MINUTE, lastDelivered + int(1, 180) * MINUTE);
    let endDate = firstEndDate;
    // Terms until one ends after the world (that contract is still running, unless a last sweep reaches it).
    while (midnight(endDate) <= worldEnd + 5 * DAY) {
      const fate = pick(['renewed', 'renewed', 'renewed', 'cancelled', 'ended', 'ended-then-renewed'] as const);
      fates.push(fate);
      const nextEndDate = addDays(endDate, int(30, 120));
      if (fate === 'renewed') {
        const at = Math.max(version + HOUR, minute(midnight(endDate) - int(1, 20) * DAY + int(0, 23 * 60) * MINUTE));
        lastDelivered = deliveredAfter(at);
        add('Contract Renewed', at, lastDelivered, { endDate: nextEndDate }, endDate);
        version = at;
      } else if (fate === 'cancelled') {
        const at = Math.max(version + int(1, 48) * HOUR, minute(midnight(endDate) - int(1, 60) * DAY + int(0, 23 * 60) * MINUTE));
        add('Contract Cancelled', at, deliveredAfter(at), { reason: 'too expensive' }, endDate);
        break;
      } else if (fate === 'ended') {
        break;
      } else {
        // Renewed, but delivered days after every sweep that could have recorded the churn (gaps are at most 3 d 3 h).
        const delivered = localDayStart(endDate, zone.offsetMinutes) + SWEEP_LAG + 3 * DAY + 4 * HOUR + int(0, 72 * 60) * MINUTE;
        const at = Math.max(version + HOUR, minute(delivered - int(1, 120 * 60) * MINUTE));
        add('Contract Renewed', at, delivered, { endDate: nextEndDate }, endDate);
        version = at;
        lastDelivered = delivered;
      }
      endDate = nextEndDate;
    }
    contracts.push({ contractId, customerId, zone, firstEndDate, events, fates });
  }

  // NPS answers of the customers with contracts, all after their contracts started (every start is earlier).
  const answers: NpsAnswerOfWorld[] = [];
  for (const customerId of new Set(contracts.map((c) => c.customerId))) {
    for (let k = pick([0, 0, 1, 1, 2, 3, 4]); k > 0; k -= 1) {
      const score = pick([0, 3, 5, 6, 7, 8, 9, 10]);
      const category = score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
      answers.push({ customerId, at: iso(minute(worldStart - 30 * DAY + rng() * (worldEnd - worldStart + 30 * DAY)) + 30_000), score, category });
    }
  }
  return { contracts, answers, sweeps };
}

// ---------------------------------------------------------------------------------------------------------------
// Contracts through the use cases

export interface ContractDriveLog {
  /** applyContractEvent's action per delivery. */
  actions: Record<string, number>;
  ended: number;
}

/** Applies the answers, sweeps and contract deliveries of `world` in time order. */
export async function driveContracts(world: ContractWorld, fakes: UseCaseFakes): Promise<ContractDriveLog> {
  type Entry = { at: string; run: () => Promise<void> };
  const log: ContractDriveLog = { actions: {}, ended: 0 };
  const timeline: Entry[] = [];
  for (const answer of world.answers) {
    timeline.push({
      at: answer.at,
      run: async () => {
        // What the Survey Answered event writes on the customer (ingest-commerce-event.ts applySurveyAnswer).
        const customer = fakes.contractCustomers.items.get(answer.customerId);
        if (!customer) throw new Error(`answer of ${answer.customerId} before any contract of theirs started`);
        const nps = { score: answer.score, category: answer.category, surveyId: `sv-${answer.at}`, answeredAt: answer.at };
        customer.latestSurvey = { ...customer.latestSurvey, nps };
      },
    });
  }
  for (const sweep of world.sweeps) {
    timeline.push({
      at: sweep,
      run: async () => {
        log.ended += (await recordContractEnds(sweep, fakes.contractDeps)).ended;
      },
    });
  }
  for (const contract of world.contracts) {
    contract.events.forEach((event, e) =>
      event.deliveries.forEach((time, d) =>
        timeline.push({
          at: time,
          run: async () => {
            const parsed = parseContractEvent(contractEnvelope(event.type, event.detail, { id: `evt-${contract.contractId}-${e}-${d}`, time }));
            const { action } = await applyContractEvent(parsed, fakes.contractDeps);
            log.actions[action] = (log.actions[action] ?? 0) + 1;
          },
        }),
      ),
    );
  }
  // Stable: a delivery retried at once (same time) runs after the first.
  timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  for (const entry of timeline) await entry.run();
  return log;
}

// ---------------------------------------------------------------------------------------------------------------
// Contracts: the recomputation

export interface OracleOutcome {
  contractId: string;
  endDate: string;
  day: string;
  result: 'RENEWED' | 'CHURNED';
  segment: 'promoter' | 'passive' | 'detractor' | 'none';
}

/**
 * Every term's outcome, from the raw data alone:
 *  - a term ends on its end date's last local moment; the sweep records it as churned at its first run at least
 *    1 day + 2 h after the local start of that day, unless a Renewed or Cancelled for the term was applied before;
 *  - an event applies at its first delivery (re-deliveries change nothing); its outcome happened at its occurredAt;
 *  - the term's outcome is the last one to become known (delivery, or sweep run), counted on the UTC day it happened,
 *    in the segment of the customer's latest NPS answer at the time it became known ('none' without one).
 */
export function contractOracle(world: ContractWorld): OracleOutcome[] {
  const sweeps = world.sweeps.map((s) => Date.parse(s)).sort((a, b) => a - b);
  const segmentAt = (customerId: string, atMs: number): OracleOutcome['segment'] => {
    let latest: NpsAnswerOfWorld | undefined;
    for (const answer of world.answers) {
      // At the same minute (rare), the one listed later is applied later.
      if (answer.customerId === customerId && Date.parse(answer.at) <= atMs && (!latest || Date.parse(answer.at) >= Date.parse(latest.at))) latest = answer;
    }
    return latest?.category ?? 'none';
  };
  const outcomes: OracleOutcome[] = [];
  for (const contract of world.contracts) {
    const terms = [contract.firstEndDate, ...contract.events.filter((e) => e.type === 'Contract Renewed').map((e) => e.detail.endDate as string)];
    for (const endDate of terms) {
      const closing = contract.events
        .filter((e) => e.closes === endDate)
        .map((e) => ({ known: Date.parse(e.deliveries[0]!), at: Date.parse(e.detail.occurredAt), result: e.type === 'Contract Renewed' ? ('RENEWED' as const) : ('CHURNED' as const) }));
      const sweptAt = sweeps.find((t) => t >= localDayStart(endDate, contract.zone.offsetMinutes) + SWEEP_LAG);
      const known = [...closing];
      if (sweptAt !== undefined && !closing.some((c) => c.known < sweptAt)) known.push({ known: sweptAt, at: sweptAt, result: 'CHURNED' });
      if (known.length === 0) continue; // still running
      const last = known.sort((a, b) => a.known - b.known)[known.length - 1]!;
      outcomes.push({ contractId: contract.contractId, endDate, day: dayOf(iso(last.at)), result: last.result, segment: segmentAt(contract.customerId, last.known) });
    }
  }
  return outcomes;
}

/** The renewal, churn and retention metrics over `days`, counted from the recomputed outcomes. */
export function contractMetrics(outcomes: readonly OracleOutcome[], days: ReadonlySet<string>) {
  const pct = (part: number, whole: number): OracleValue => ({ value: whole === 0 ? undefined : (part / whole) * 100, count: whole });
  const mine = outcomes.filter((o) => days.has(o.day));
  const renewed = mine.filter((o) => o.result === 'RENEWED').length;
  const segment = (s: OracleOutcome['segment']) => {
    const of = mine.filter((o) => o.segment === s);
    return pct(of.filter((o) => o.result === 'RENEWED').length, of.length);
  };
  return {
    renewalRate: pct(renewed, mine.length),
    churnRate: pct(mine.length - renewed, mine.length),
    retentionPromoter: segment('promoter'),
    retentionPassive: segment('passive'),
    retentionDetractor: segment('detractor'),
    retentionNone: segment('none'),
  };
}
