/**
 * Renewal reminder use cases: the sweep that plans reminders, the contract events, and recording churn when an end
 * date passes. No clock of their own: `now` always comes from the event or schedule that started them.
 */
import type { TouchpointRepository } from '../ports.ts';
import type { ContractCancelled, ContractEvent, ContractRenewed, ContractStarted, ContractUpdated } from './contract-events.ts';
import {
  type Contract,
  type EndingContract,
  type RenewalCampaign,
  assertRenewalCampaign,
  isRunning,
} from './model.ts';
import { type ContractMetrics, type SegmentSource, outcomeWrite, settleContractCounts } from './outcome-counts.ts';
import type { ContractCustomers, ContractRepository, SweepCursorStore } from './ports.ts';
import { cancelReminders, contractReminders, forEachLimited, planReminder, sentFor, writeReminder } from './reminders.ts';
import {
  EARLIEST_INSTANT,
  type InstantWindow,
  endedCutoff,
  endsAtRangeFor,
  hasEnded,
  nominalReminderDayStart,
  shiftInstant,
  startOfLocalDay,
  utcInstant,
} from './renewal-offsets.ts';

/**
 * How far ahead of `now` a sweep plans (ISO-8601 duration). It must exceed the time between sweeps plus the largest
 * zone offset change (2 h), so a reminder is written before it is due; the default suits a daily sweep.
 */
export const DEFAULT_SWEEP_LOOKAHEAD = 'P1DT3H';
const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_CONCURRENCY = 16;

export interface SweepDeps {
  contracts: ContractRepository;
  touchpoints: TouchpointRepository;
}

export interface SweepInput {
  campaign: RenewalCampaign;
  /** The previous sweep's `now`. */
  since: string;
  now: string;
  lookahead?: string;
  pageSize?: number;
  concurrency?: number;
}

export interface SweepResult {
  /** Nominal reminder day starts planned by this sweep: `(since + lookahead, now + lookahead]`. */
  window: InstantWindow;
  /** Index items read (every one is a contract with a reminder in the window). */
  contractsRead: number;
  touchpointsCreated: number;
  /** The reminder existed already (a re-run, or planned by a contract event). */
  alreadyPlanned: number;
  /** The contract's last day was over (a long catch-up): no reminder. */
  skippedEnded: number;
  /** The reminder day would precede the contract's start: no reminder. */
  skippedBeforeStart: number;
}

/**
 * Plans renewal reminders.
 *
 * Primary course:
 *  1. The window is the reminder days (nominal starts, see ports.ts) in `(since + lookahead, now + lookahead]`.
 *  2. For each offset, read the running contracts whose `endsAt` lies in the window shifted by the offset
 *     (byEnd index, paged), nothing else.
 *  3. For each, plan the reminder at the campaign's local send time on `endDate − offset` in the customer's zone; one
 *     already past (the sweep missed days) is due now, one for a contract whose last day is over is skipped.
 *  4. Write it under its deterministic id; an existing id writes nothing, so re-runs and overlaps are harmless.
 */
export async function sweepRenewals(input: SweepInput, deps: SweepDeps): Promise<SweepResult> {
  const campaign = assertRenewalCampaign(input.campaign);
  const now = utcInstant(input.now);
  const lookahead = input.lookahead ?? DEFAULT_SWEEP_LOOKAHEAD;
  const window = { after: shiftInstant(utcInstant(input.since), lookahead), upTo: shiftInstant(now, lookahead) };
  const result: SweepResult = { window, contractsRead: 0, touchpointsCreated: 0, alreadyPlanned: 0, skippedEnded: 0, skippedBeforeStart: 0 };
  if (window.after >= window.upTo) return result;

  const planOne = async (contract: EndingContract, offsetDays: number) => {
    const plan = planReminder(contract, campaign, offsetDays, now, 'send-now');
    if ('skipped' in plan) {
      if (plan.skipped === 'ended') result.skippedEnded += 1;
      else result.skippedBeforeStart += 1;
      return;
    }
    if (await writeReminder(deps.touchpoints, plan.touchpoint)) result.touchpointsCreated += 1;
    else result.alreadyPlanned += 1;
  };

  await Promise.all(
    campaign.offsetsDays.map(async (offsetDays) => {
      const range = endsAtRangeFor(window, offsetDays);
      let startKey: string | undefined;
      do {
        const page = await deps.contracts.listEndingBetween(range.after, range.upTo, input.pageSize ?? DEFAULT_PAGE_SIZE, startKey);
        result.contractsRead += page.items.length;
        await forEachLimited(page.items, input.concurrency ?? DEFAULT_CONCURRENCY, (contract) => planOne(contract, offsetDays));
        startKey = page.nextKey;
      } while (startKey !== undefined);
    }),
  );
  return result;
}

export interface SweepRunResult extends SweepResult {
  /** False when another sweep moved the campaign's cursor meanwhile (nothing is lost: ids are deterministic). */
  cursorAdvanced: boolean;
}

/**
 * A scheduled sweep: continues from where the last one planned to (the campaign's cursor), so missed runs are caught
 * up and a repeated run reads nothing. The first run ever also plans reminder days that began in the last 24 hours.
 */
export async function runRenewalSweep(
  now: string,
  campaign: RenewalCampaign,
  deps: SweepDeps & { cursors: SweepCursorStore },
  options: { lookahead?: string; pageSize?: number; concurrency?: number } = {},
): Promise<SweepRunResult> {
  const lookahead = options.lookahead ?? DEFAULT_SWEEP_LOOKAHEAD;
  const previous = await deps.cursors.get(campaign.campaignId);
  const plannedThrough = previous ?? shiftInstant(utcInstant(now), 'P1D', -1);
  const result = await sweepRenewals({ ...options, campaign, since: shiftInstant(plannedThrough, lookahead, -1), now, lookahead }, deps);
  const moves = result.window.upTo > plannedThrough;
  const cursorAdvanced = moves && (await deps.cursors.advance(campaign.campaignId, previous, result.window.upTo));
  return { ...result, cursorAdvanced };
}

/** What recording churn needs beyond a sweep's: the customer's NPS segment and the renewal and churn counts. */
export interface ContractEndsDeps extends SweepDeps {
  customers: SegmentSource;
  metrics: ContractMetrics;
}

export interface EndsResult {
  contractsRead: number;
  /** Contracts marked ENDED (churned). */
  ended: number;
  touchpointsCancelled: number;
}

/**
 * Records churn: running contracts whose last day is over become ENDED with outcome CHURNED and the number of
 * reminders that were sent for the term, counted as churned (on the sweep's day, in the customer's NPS segment);
 * reminders of the term still pending are cancelled.
 *
 * Reads the byEnd index up to `endedCutoff(now)` only: ended contracts leave the index, so the range holds just the
 * contracts that ended since the last run (a contract that ended in the last couple of hours waits for the next run).
 * Each of those is read once more from the table for its outcome history (the index does not carry it). A crash
 * between ending a contract and settling its count leaves the count pending on the contract (out of the index by
 * then): the contract's next write or `outreach metrics rebuild` settles it.
 */
export async function recordContractEnds(now: string, deps: ContractEndsDeps, options: { pageSize?: number } = {}): Promise<EndsResult> {
  const at = utcInstant(now);
  const result: EndsResult = { contractsRead: 0, ended: 0, touchpointsCancelled: 0 };
  let startKey: string | undefined;
  do {
    const page = await deps.contracts.listEndingBetween(EARLIEST_INSTANT, endedCutoff(at), options.pageSize ?? DEFAULT_PAGE_SIZE, startKey);
    result.contractsRead += page.items.length;
    for (const contract of page.items) {
      if (!hasEnded(contract.endDate, contract.timeZone, at)) continue;
      const current = await deps.contracts.get(contract.contractId);
      // The index is eventually consistent: the contract may have been renewed or cancelled since.
      if (!current || !isRunning(current.status) || current.endDate !== contract.endDate) continue;
      const reminders = await contractReminders(deps.touchpoints, contract.customerId, contract.contractId);
      const outcome = { result: 'CHURNED' as const, at, remindersSent: sentFor(reminders, contract.endDate), endDate: contract.endDate };
      const write = await outcomeWrite(current, outcome, deps.customers);
      if (!(await deps.contracts.markEnded(contract.contractId, { endDate: contract.endDate, at, outcome, ...write }))) continue;
      await settleContractCounts(contract.contractId, at, deps.metrics);
      result.ended += 1;
      const term = (r: (typeof reminders)[number]) => r.context.contract?.endDate === contract.endDate;
      result.touchpointsCancelled += (await cancelReminders(deps.touchpoints, reminders, term, 'contract ended', at)).length;
    }
    startKey = page.nextKey;
  } while (startKey !== undefined);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Contract events

export interface ContractEventDeps {
  contracts: ContractRepository;
  touchpoints: TouchpointRepository;
  customers: ContractCustomers;
  /** The renewal and churn counts: Renewed and Cancelled record an outcome. */
  metrics: ContractMetrics;
  /**
   * The renewal campaigns, to plan at once the reminders that sweeps have passed over already (a contract started or
   * moved to an end date whose reminder day is inside the planned horizon). Without it only the sweep plans.
   */
  planning?: { campaigns: readonly RenewalCampaign[]; cursors?: SweepCursorStore; lookahead?: string };
}

export interface ContractEventResult {
  action: 'contract-created' | 'contract-updated' | 'contract-renewed' | 'contract-cancelled' | 'stale-event' | 'unknown-contract' | 'ignored';
  contractId: string;
  touchpointsCreated: string[];
  touchpointsCancelled: string[];
  /** Why an event was ignored (no personal data). */
  reason?: string;
}

/** Optimistic-concurrency attempts before giving up (the error makes Lambda retry the event). */
const MAX_ATTEMPTS = 5;

/**
 * Applies one contract event.
 *
 * Primary course:
 *  1. Started records the customer's profile; Started and Updated create or update the contract, Renewed sets the
 *     new end date (status RENEWED, outcome RENEWED for the old term) and counts the renewal on the customer (their
 *     loyalty profile's `renewals`, once per contract and new end date), Cancelled ends it (outcome CHURNED). Each
 *     applies only if the event is newer than the contract's version: an older event changes nothing. An outcome
 *     is counted (renewed or churned, on the event's day, in the customer's NPS segment then) in the same write,
 *     and settled right after (outcome-counts.ts); a late renewal of a term recorded as churned moves its count.
 *  2. Pending reminders that no longer fit are cancelled: all of them for a cancelled contract, those of another
 *     end date for a running one (the renewed or moved term).
 *  3. With `planning`, reminders of the (new) term whose day a sweep has already passed over are planned now, if
 *     still ahead.
 * Re-delivering the same event redoes 2 and 3 only (and a renewal's count on the customer, which is kept once, and the
 * settling of the contract's pending counts, which finishes what a crash interrupted), which change nothing the
 * second time.
 */
export async function applyContractEvent(event: ContractEvent, deps: ContractEventDeps): Promise<ContractEventResult> {
  const now = utcInstant(event.time);
  switch (event.type) {
    case 'Contract Started':
      return applyStarted(event.detail, now, deps);
    case 'Contract Updated':
      return applyUpdated(event.detail, now, deps);
    case 'Contract Renewed':
      return applyRenewed(event.detail, now, deps);
    case 'Contract Cancelled':
      return applyCancelled(event.detail, now, deps);
  }
}

const eventResult = (action: ContractEventResult['action'], contractId: string, reason?: string): ContractEventResult => ({
  action,
  contractId,
  touchpointsCreated: [],
  touchpointsCancelled: [],
  ...(reason !== undefined ? { reason } : {}),
});

async function applyStarted(started: ContractStarted, now: string, deps: ContractEventDeps): Promise<ContractEventResult> {
  const { email, name, locale, marketingConsent, occurredAt, ...terms } = started;
  const at = utcInstant(occurredAt);
  await deps.customers.recordProfile({ customerId: terms.customerId, email, name, timeZone: terms.timeZone, locale, marketingConsent }, at);
  return writeFromEvent(terms.contractId, at, now, deps, (existing) => ({
    ...terms,
    // A newer start restarts a cancelled or ended contract.
    status: existing && isRunning(existing.status) ? existing.status : 'ACTIVE',
    endsAt: startOfLocalDay(terms.endDate, terms.timeZone),
    renewals: existing?.renewals ?? 0,
    ...(existing?.outcome ? { outcome: existing.outcome } : {}),
    ...(existing?.outcomes ? { outcomes: existing.outcomes } : {}),
    version: at,
    createdAt: existing?.createdAt ?? at,
    updatedAt: at,
  }));
}

async function applyUpdated(updated: ContractUpdated, now: string, deps: ContractEventDeps): Promise<ContractEventResult> {
  const { contractId, customerId: _ignored, occurredAt, ...changes } = updated;
  const at = utcInstant(occurredAt);
  return writeFromEvent(contractId, at, now, deps, (existing) => {
    if (!existing) return 'unknown-contract';
    const next: Contract = { ...existing, ...definedOnly(changes), version: at, updatedAt: at };
    if (next.endDate < next.startDate) return `endDate ${next.endDate} would be before startDate ${next.startDate}`;
    return { ...next, endsAt: startOfLocalDay(next.endDate, next.timeZone) };
  });
}

/**
 * Writes the contract `build` derives from the stored one (optimistic: re-read on conflict), then reconciles the
 * reminders. `build` returns a reason string (or 'unknown-contract') to ignore the event.
 */
async function writeFromEvent(
  contractId: string,
  at: string,
  now: string,
  deps: ContractEventDeps,
  build: (existing: Contract | undefined) => Contract | string,
): Promise<ContractEventResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const existing = await deps.contracts.get(contractId);
    if (existing && existing.version > at) return eventResult('stale-event', contractId);
    // The same event again (a retry after a partial failure): only reconcile the reminders.
    if (existing && existing.version === at) return reconcile(existing, now, deps, eventResult('stale-event', contractId));
    const next = build(existing);
    if (next === 'unknown-contract') return eventResult('unknown-contract', contractId);
    if (typeof next === 'string') return eventResult('ignored', contractId, next);
    if (await deps.contracts.upsertFromEvent(next, existing?.version)) {
      return reconcile(next, now, deps, eventResult(existing ? 'contract-updated' : 'contract-created', contractId));
    }
  }
  throw new Error(`contract ${contractId}: ${MAX_ATTEMPTS} conflicting writes in a row`);
}

async function applyRenewed(renewed: ContractRenewed, now: string, deps: ContractEventDeps): Promise<ContractEventResult> {
  const { contractId, endDate, occurredAt, customerId: _ignored, ...changes } = renewed;
  const at = utcInstant(occurredAt);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const existing = await deps.contracts.get(contractId);
    if (!existing) return eventResult('unknown-contract', contractId);
    if (existing.version === at && existing.status === 'RENEWED' && existing.endDate === endDate) {
      // The same event again (a retry after a partial failure): finish the counts the first try did not get to.
      await settleContractCounts(contractId, now, deps.metrics);
      await deps.customers.recordRenewal(existing.customerId, contractId, endDate);
      return reconcile(existing, now, deps, eventResult('stale-event', contractId));
    }
    if (existing.version >= at) return eventResult('stale-event', contractId);
    if (endDate < existing.startDate) return eventResult('ignored', contractId, `endDate ${endDate} is before startDate ${existing.startDate}`);
    const reminders = await contractReminders(deps.touchpoints, existing.customerId, contractId);
    const endsAt = startOfLocalDay(endDate, existing.timeZone);
    const outcome = { result: 'RENEWED' as const, at, remindersSent: sentFor(reminders, existing.endDate), endDate: existing.endDate };
    const terms = definedOnly(changes);
    const write = await outcomeWrite(existing, outcome, deps.customers);
    if (await deps.contracts.markRenewed(contractId, { ...terms, endDate, endsAt, at, outcome, ...write })) {
      await settleContractCounts(contractId, now, deps.metrics);
      // The customer's loyalty profile counts it (once per contract and new end date, however often this runs).
      await deps.customers.recordRenewal(existing.customerId, contractId, endDate);
      const renewals = existing.renewals + 1;
      const { outcomes } = write;
      const next: Contract = { ...existing, ...terms, status: 'RENEWED', endDate, endsAt, renewals, outcome, outcomes, version: at, updatedAt: at };
      return reconcile(next, now, deps, eventResult('contract-renewed', contractId));
    }
  }
  throw new Error(`contract ${contractId}: ${MAX_ATTEMPTS} conflicting writes in a row`);
}

async function applyCancelled(cancelled: ContractCancelled, now: string, deps: ContractEventDeps): Promise<ContractEventResult> {
  const { contractId, occurredAt, reason } = cancelled;
  const at = utcInstant(occurredAt);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const existing = await deps.contracts.get(contractId);
    if (!existing) return eventResult('unknown-contract', contractId);
    if (existing.version === at && existing.status === 'CANCELLED') {
      // The same event again (a retry after a partial failure).
      await settleContractCounts(contractId, now, deps.metrics);
      return reconcile(existing, now, deps, eventResult('stale-event', contractId));
    }
    if (existing.version >= at) return eventResult('stale-event', contractId);
    if (!isRunning(existing.status)) return eventResult('ignored', contractId, `contract is ${existing.status}`);
    const reminders = await contractReminders(deps.touchpoints, existing.customerId, contractId);
    const outcome = { result: 'CHURNED' as const, at, remindersSent: sentFor(reminders, existing.endDate), endDate: existing.endDate };
    const write = await outcomeWrite(existing, outcome, deps.customers);
    if (await deps.contracts.markCancelled(contractId, { at, outcome, ...write, ...(reason !== undefined ? { reason } : {}) })) {
      await settleContractCounts(contractId, now, deps.metrics);
      const next: Contract = { ...existing, status: 'CANCELLED', outcome, outcomes: write.outcomes, version: at, updatedAt: at };
      return reconcile(next, now, deps, eventResult('contract-cancelled', contractId));
    }
  }
  throw new Error(`contract ${contractId}: ${MAX_ATTEMPTS} conflicting writes in a row`);
}

/** Step 2 and 3 of applyContractEvent, for the contract as it now is. Idempotent. */
async function reconcile(contract: Contract, now: string, deps: ContractEventDeps, outcome: ContractEventResult): Promise<ContractEventResult> {
  const reminders = await contractReminders(deps.touchpoints, contract.customerId, contract.contractId);
  const running = isRunning(contract.status);
  const reason = !running ? 'contract cancelled' : contract.status === 'RENEWED' ? 'contract renewed' : 'contract end date changed';
  const stale = (r: (typeof reminders)[number]) => !running || r.context.contract?.endDate !== contract.endDate;
  outcome.touchpointsCancelled.push(...(await cancelReminders(deps.touchpoints, reminders, stale, reason, now)));
  if (running && deps.planning) outcome.touchpointsCreated.push(...(await planPassedOver(contract, now, deps)));
  return outcome;
}

/**
 * Plans the reminders a sweep has passed over (or may be passing over right now): nominal reminder day at or before
 * max(cursor, now + lookahead), still due after `now`. The sweep plans the rest; ids make overlaps harmless.
 */
async function planPassedOver(contract: Contract, now: string, deps: ContractEventDeps): Promise<string[]> {
  const planning = deps.planning!;
  const created: string[] = [];
  for (const raw of planning.campaigns) {
    const campaign = assertRenewalCampaign(raw);
    const cursor = await planning.cursors?.get(campaign.campaignId);
    const reach = shiftInstant(now, planning.lookahead ?? DEFAULT_SWEEP_LOOKAHEAD);
    const horizon = cursor !== undefined && cursor > reach ? cursor : reach;
    for (const offsetDays of campaign.offsetsDays) {
      if (nominalReminderDayStart(contract.endsAt, offsetDays) > horizon) continue;
      const plan = planReminder(contract, campaign, offsetDays, now, 'skip');
      if ('touchpoint' in plan && (await writeReminder(deps.touchpoints, plan.touchpoint))) created.push(plan.touchpoint.touchpointId);
    }
  }
  return created;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
