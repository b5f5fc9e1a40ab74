import { DateTime } from 'luxon';
import type { Campaign } from '../campaigns/schema.ts';
import type { Customer, Touchpoint } from '../model.ts';
import type { CampaignCatalog, CustomerRepository, DueTouchpoint, TouchpointRepository } from '../ports.ts';
import { toUtcIso } from '../schedule.ts';
import { evaluateSendRules, type CapHistoryEntry } from './check-eligibility.ts';
import { assertRenewalCampaign } from '../contracts/model.ts';
import type { ContractRepository, SweepCursorStore } from '../contracts/ports.ts';
import { planReminder } from '../contracts/reminders.ts';
import { endsAtRangeFor } from '../contracts/renewal-offsets.ts';
import { renewalCampaigns } from './renewals.ts';

export interface ForecastRequest {
  /** Start of the window (ISO instant). */
  at: string;
  /** Length of the window in days (whole number, 1–366). */
  days: number;
}

export interface ForecastProgress {
  /** Rows of the due index read so far. */
  read: number;
  shardsDone: number;
  shards: number;
}

export interface ForecastDeps {
  touchpoints: TouchpointRepository;
  customers: CustomerRepository;
  campaigns: CampaignCatalog;
  /** The deployment's dispatch shard count (DISPATCH_SHARDS). */
  shards: number;
  /** Rows per due-index query (default 100). */
  pageSize?: number;
  /** Called after every page read, for progress on long reads. */
  onProgress?: (progress: ForecastProgress) => void;
  /**
   * Contracts and the renewal sweep's cursors: renewal reminders the sweep has not planned yet (their day is beyond
   * its horizon) are forecast from the contracts. Without them only planned reminders count.
   */
  contracts?: { repository: ContractRepository; cursors: SweepCursorStore };
}

export interface CampaignForecast {
  campaignId: string;
  /** Emails forecast to be sent within the window. */
  total: number;
  /** UTC date (YYYY-MM-DD) → emails, for every day the window touches (zeros included). */
  perDay: Record<string, number>;
  /** Pending touchpoints that the rules will skip, by reason (the reasons the workflow records). */
  skipped: Record<string, number>;
  /** Pending touchpoints due in the window that quiet hours move past its end (sent later, not skipped). */
  afterWindow: number;
}

export interface SendForecast {
  from: string;
  until: string;
  days: string[];
  /** Per campaign with at least one pending touchpoint in the window, by campaign id. */
  campaigns: CampaignForecast[];
  /** Pending touchpoints read from the due index (due at or before `until`). */
  pendingRead: number;
  /** What the forecast is made from: pending touchpoints, and contracts (renewal reminders not planned yet) when given. */
  sources: { pendingTouchpoints: true; contracts: boolean };
  /** Renewal reminders forecast from contracts (not planned yet). */
  contractRemindersRead: number;
}

export function forecastSourcesNote(contracts: boolean): string {
  return contracts
    ? 'Forecast from pending touchpoints and running contracts (renewal reminders not planned yet); purchases not made yet are not included.'
    : 'Forecast from pending touchpoints only (no contracts table given: renewal reminders beyond the daily sweep are not included); purchases not made yet are not included.';
}

/** The dispatcher runs at every minute boundary: a touchpoint due at 10:00:30 is sent at 10:01. */
const nextMinute = (iso: string): string => {
  const at = DateTime.fromISO(iso, { zone: 'utc' });
  const floor = at.startOf('minute');
  return toUtcIso(floor.equals(at) ? at : floor.plus({ minutes: 1 }));
};

interface Attempt {
  at: string;
  touchpoint: Touchpoint;
}

/**
 * How many emails each campaign will send in the window [at, at + days], from the pending touchpoints.
 *
 * Primary course:
 *  1. Read every shard of the due index up to the window's end, page by page (cost ∝ touchpoints in the window),
 *     keeping the PENDING rows; read each one's touchpoint, campaign and customer (and, for capped campaigns, the
 *     customer's history).
 *  2. Replay them in time order, each at the minute the dispatcher would start it, through the same rules the
 *     workflow applies (`evaluateSendRules`): a send is added to the customer's history, so later touchpoints see it
 *     in their frequency caps; quiet hours move an attempt to the next allowed time, possibly past the window.
 *
 * Not predictable in advance, so not included: refunds, unsubscribes and bounces that have not happened yet, and
 * rule changes applied later.
 */
export async function forecastSends(request: ForecastRequest, deps: ForecastDeps): Promise<SendForecast> {
  if (!Number.isInteger(request.days) || request.days < 1 || request.days > 366) {
    throw new RangeError(`days must be a whole number from 1 to 366 (got ${request.days})`);
  }
  const from = toUtcIso(request.at);
  const until = toUtcIso(DateTime.fromISO(from, { zone: 'utc' }).plus({ days: request.days }));

  const due = await readDueIndex(until, deps);
  const loaded = await mapLimit(due, 16, (row) => deps.touchpoints.get(row.touchpointId));
  const planned = loaded.filter((t): t is Touchpoint => t?.status === 'PENDING' && t.dueAt <= until);
  const plannedIds = new Set(planned.map((t) => t.touchpointId));
  // A contract event may have planned a reminder beyond the sweep's cursor already: the same id is counted once.
  const unplanned = deps.contracts
    ? (await unplannedRenewalReminders(from, until, deps.campaigns, deps.contracts)).filter((t) => !plannedIds.has(t.touchpointId))
    : [];
  const pending = [...planned, ...unplanned];

  const campaigns = new Map<string, Campaign | undefined>();
  for (const id of new Set(pending.map((t) => t.campaignId))) campaigns.set(id, await deps.campaigns.get(id));
  const customers = new Map<string, Customer | undefined>();
  const histories = new Map<string, CapHistoryEntry[]>();
  const needsHistory = (c: Campaign | undefined) => c?.frequencyCap !== undefined || c?.kind === 'survey';
  const cappedCustomers = new Set(pending.filter((t) => needsHistory(campaigns.get(t.campaignId))).map((t) => t.customerId));
  await mapLimit([...new Set(pending.map((t) => t.customerId))], 16, async (customerId) => {
    customers.set(customerId, await deps.customers.get(customerId));
    histories.set(customerId, cappedCustomers.has(customerId) ? await deps.touchpoints.listByCustomer(customerId) : []);
  });

  const days = utcDays(from, until);
  const forecasts = new Map<string, CampaignForecast>();
  const forecastOf = (campaignId: string) => {
    let forecast = forecasts.get(campaignId);
    if (!forecast) {
      forecast = { campaignId, total: 0, perDay: Object.fromEntries(days.map((d) => [d, 0])), skipped: {}, afterWindow: 0 };
      forecasts.set(campaignId, forecast);
    }
    return forecast;
  };

  const queue: Attempt[] = pending.map((touchpoint) => ({ at: nextMinute(touchpoint.dueAt > from ? touchpoint.dueAt : from), touchpoint }));
  queue.sort(byTime);
  while (queue.length > 0) {
    const { at, touchpoint } = queue.shift()!;
    const forecast = forecastOf(touchpoint.campaignId);
    if (at > until) {
      forecast.afterWindow += 1;
      continue;
    }
    const history = histories.get(touchpoint.customerId) ?? [];
    const decision = evaluateSendRules({
      touchpoint,
      campaign: campaigns.get(touchpoint.campaignId),
      customer: customers.get(touchpoint.customerId),
      history,
      now: at,
      // A reminder forecast from a running contract, or planned for one: assumed still current (renewals to come
      // are not predictable).
      ...(touchpoint.context.contract ? { contractCurrent: true } : {}),
    });
    if (decision.decision === 'SEND') {
      forecast.total += 1;
      const day = at.slice(0, 10);
      forecast.perDay[day] = (forecast.perDay[day] ?? 0) + 1;
      history.push({
        touchpointId: touchpoint.touchpointId,
        campaignId: touchpoint.campaignId,
        status: 'SENT',
        sentAt: at,
        kind: touchpoint.kind,
        context: touchpoint.context,
      });
      histories.set(touchpoint.customerId, history);
    } else if (decision.decision === 'SKIP') {
      forecast.skipped[decision.reason] = (forecast.skipped[decision.reason] ?? 0) + 1;
    } else {
      insertSorted(queue, { at: nextMinute(decision.nextDueAt), touchpoint });
    }
  }

  return {
    from,
    until,
    days,
    campaigns: [...forecasts.values()].sort((a, b) => a.campaignId.localeCompare(b.campaignId)),
    pendingRead: planned.length,
    sources: { pendingTouchpoints: true, contracts: deps.contracts !== undefined },
    contractRemindersRead: unplanned.length,
  };
}

/**
 * The renewal reminders of the window that the daily sweep has not planned yet: for each active renewal campaign,
 * the contracts whose reminder day lies between the campaign's sweep cursor (what is planned already) and the
 * window's end, read through the byEnd index like the sweep does — never a scan. Each becomes the touchpoint the
 * sweep would write (not written), so the replay treats it like a planned one.
 */
async function unplannedRenewalReminders(
  from: string,
  until: string,
  catalog: CampaignCatalog,
  contracts: { repository: ContractRepository; cursors: SweepCursorStore },
): Promise<Touchpoint[]> {
  const reminders: Touchpoint[] = [];
  for (const campaign of await renewalCampaigns(catalog, from)) {
    const plannedThrough = (await contracts.cursors.get(campaign.campaignId)) ?? from;
    if (plannedThrough >= until) continue;
    const window = { after: plannedThrough, upTo: until };
    const full = assertRenewalCampaign(campaign);
    for (const offsetDays of full.offsetsDays) {
      const range = endsAtRangeFor(window, offsetDays);
      let startKey: string | undefined;
      do {
        const page = await contracts.repository.listEndingBetween(range.after, range.upTo, 100, startKey);
        for (const contract of page.items) {
          const plan = planReminder(contract, full, offsetDays, from, 'skip');
          if ('touchpoint' in plan && plan.touchpoint.dueAt <= until) reminders.push(plan.touchpoint);
        }
        startKey = page.nextKey;
      } while (startKey !== undefined);
    }
  }
  return reminders;
}

async function readDueIndex(until: string, deps: ForecastDeps): Promise<DueTouchpoint[]> {
  const pageSize = deps.pageSize ?? 100;
  const rows: DueTouchpoint[] = [];
  let shardsDone = 0;
  await Promise.all(
    Array.from({ length: deps.shards }, async (_, shard) => {
      let startKey: string | undefined;
      do {
        const page = await deps.touchpoints.listDueBefore(shard, until, pageSize, startKey);
        // Leased (DISPATCHED) rows are being sent right now; the forecast is about what is still pending.
        rows.push(...page.items.filter((row) => row.status === 'PENDING'));
        startKey = page.nextKey;
        if (!startKey) shardsDone += 1;
        deps.onProgress?.({ read: rows.length, shardsDone, shards: deps.shards });
      } while (startKey);
    }),
  );
  return rows;
}

const byTime = (a: Attempt, b: Attempt) =>
  a.at < b.at ? -1 : a.at > b.at ? 1 : a.touchpoint.touchpointId < b.touchpoint.touchpointId ? -1 : a.touchpoint.touchpointId > b.touchpoint.touchpointId ? 1 : 0;

function insertSorted(queue: Attempt[], attempt: Attempt): void {
  let low = 0;
  let high = queue.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (byTime(queue[mid]!, attempt) <= 0) low = mid + 1;
    else high = mid;
  }
  queue.splice(low, 0, attempt);
}

/** Every UTC date from `from`'s to `until`'s, inclusive. */
function utcDays(from: string, until: string): string[] {
  const days: string[] = [];
  let day = DateTime.fromISO(from, { zone: 'utc' }).startOf('day');
  const last = DateTime.fromISO(until, { zone: 'utc' }).startOf('day');
  while (day <= last) {
    days.push(day.toISODate()!);
    day = day.plus({ days: 1 });
  }
  return days;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
