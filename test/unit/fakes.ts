/** In-memory ports with the same conditional semantics as the DynamoDB adapters, for use-case tests. */
import { isDeepStrictEqual } from 'node:util';
import type { Campaign } from '../../core/campaigns/schema.ts';
import { loadCampaignDirectory } from '../../core/campaigns/load.ts';
import type { Customer, LatestSurveyAnswer, Touchpoint, TouchpointKind, TouchpointStatus } from '../../core/model.ts';
import type {
  CampaignCatalog,
  CustomerProfile,
  CustomerRepository,
  DuePage,
  DueTouchpoint,
  StartOutcome,
  TouchpointRepository,
  TouchpointTransition,
  WorkflowStarter,
} from '../../core/ports.ts';
import { shardOf } from '../../core/touchpoint-id.ts';
import type { CounterChange } from '../../core/metrics/counters.ts';
import type { PurchaseHistory } from '../../core/metrics/model.ts';
import {
  DuplicateSendRiskError,
  PageCollector,
  rowOf,
  type ListOrder,
  type RedriveWrite,
  type TouchpointOperations,
} from '../../core/use-cases/operate-touchpoints.ts';
import type { InMemoryPendingCounts } from './metrics/fake-counters.ts';

export class InMemoryCustomers implements CustomerRepository {
  readonly items = new Map<string, Customer>();

  /** `pending`: the customers' `metricsPending` lists; without it the cohort changes are dropped (tests that do not count). */
  constructor(readonly pending?: InMemoryPendingCounts) {}

  async get(customerId: string) {
    const customer = this.items.get(customerId);
    return customer && structuredClone(customer);
  }

  async recordProfile(profile: CustomerProfile, eventTime: string) {
    await this.recordPurchase(profile, undefined, eventTime);
  }

  /** Returns the customer as written, like the adapter's ALL_NEW. */
  async recordPurchase(profile: CustomerProfile, orderId: string | undefined, eventTime: string) {
    const existing = this.items.get(profile.customerId);
    const orderIds = [...new Set([...(existing?.orderIds ?? []), ...(orderId !== undefined ? [orderId] : [])])].sort();
    // Like `firstPurchaseAt = if_not_exists(firstPurchaseAt, :t)`, only with an order.
    const firstPurchaseAt = existing?.firstPurchaseAt ?? (orderId !== undefined ? eventTime : undefined);
    const first = firstPurchaseAt !== undefined ? { firstPurchaseAt } : {};
    if (existing && existing.profileUpdatedAt > eventTime) {
      Object.assign(existing, { orderIds, ...first });
      return structuredClone(existing);
    }
    const written: Customer = {
      ...existing,
      ...profile,
      orderIds,
      ...first,
      profileUpdatedAt: eventTime,
      createdAt: existing?.createdAt ?? eventTime,
    };
    this.items.set(profile.customerId, written);
    return structuredClone(written);
  }

  /** `<contractId>#<newEndDate>` per customer, as the adapter's `renewalKeys` set; `renewals` is its size. */
  readonly renewalKeys = new Map<string, Set<string>>();

  async recordRenewal(customerId: string, contractId: string, newEndDate: string) {
    return recordRenewalIn(this.items, this.renewalKeys, customerId, contractId, newEndDate);
  }

  async markSuppressed(customerId: string, reason: string, at: string) {
    const customer = this.items.get(customerId);
    if (!customer || customer.suppressedAt) return false;
    Object.assign(customer, { suppressedAt: at, suppressionReason: reason });
    return true;
  }

  async recordSurveyAnswer(customerId: string, scale: 'nps' | 'csat' | 'ces', answer: LatestSurveyAnswer) {
    const customer = this.items.get(customerId);
    const current = customer?.latestSurvey?.[scale];
    if (!customer || (current && current.answeredAt > answer.answeredAt)) return false;
    customer.latestSurvey = { ...customer.latestSurvey, [scale]: answer };
    return true;
  }

  async markUnsubscribed(customerId: string, at: string) {
    const customer = this.items.get(customerId);
    if (!customer || customer.unsubscribedAt) return false;
    customer.unsubscribedAt = at;
    return true;
  }

  /** Like the adapter: only if the stored history is still `previous` (none: none stored), appending in the same step. */
  async replacePurchaseHistory(customerId: string, previous: PurchaseHistory | undefined, next: PurchaseHistory, changes: readonly CounterChange[]) {
    const customer = this.items.get(customerId);
    if (!customer || !isDeepStrictEqual(customer.purchases, previous)) return false;
    customer.purchases = structuredClone(next);
    this.pending?.append(customerId, changes);
    return true;
  }
}

/** The renewal counting both customer fakes share: one key per contract renewal, counted once. */
export function recordRenewalIn(
  items: Map<string, Customer>,
  keys: Map<string, Set<string>>,
  customerId: string,
  contractId: string,
  newEndDate: string,
): boolean {
  const customer = items.get(customerId);
  const key = `${contractId}#${newEndDate}`;
  const set = keys.get(customerId) ?? new Set<string>();
  if (!customer || set.has(key)) return false;
  set.add(key);
  keys.set(customerId, set);
  customer.renewals = set.size;
  return true;
}

interface StoredTouchpoint extends Touchpoint {
  dueShard?: number;
  dueKey?: string;
}

export class InMemoryTouchpoints implements TouchpointRepository {
  readonly items = new Map<string, StoredTouchpoint>();
  /** `pendingCounts`: where a survey's SENT write appends its counter changes (like the adapter's UpdateItem). */
  constructor(
    readonly shards = 4,
    readonly pendingCounts?: InMemoryPendingCounts,
  ) {}

  async get(id: string) {
    const item = this.items.get(id);
    if (!item) return undefined;
    const { dueShard, dueKey, ...touchpoint } = structuredClone(item);
    return touchpoint;
  }

  async create(touchpoint: Touchpoint) {
    if (this.items.has(touchpoint.touchpointId)) return false;
    this.items.set(
      touchpoint.touchpointId,
      touchpoint.status === 'PENDING'
        ? {
            ...structuredClone(touchpoint),
            dueShard: shardOf(touchpoint.touchpointId, this.shards),
            dueKey: `${touchpoint.dueAt}#${touchpoint.touchpointId}`,
          }
        : structuredClone(touchpoint),
    );
    return true;
  }

  async listDue(shard: number, now: string, limit: number): Promise<DueTouchpoint[]> {
    return [...this.items.values()]
      .filter((t) => t.dueShard === shard && t.dueKey !== undefined && t.dueKey <= `${now}#~`)
      .sort((a, b) => (a.dueKey! < b.dueKey! ? -1 : 1))
      .slice(0, limit)
      .map(({ touchpointId, kind, generation, dueAt, status }) => ({ touchpointId, kind, generation, dueAt, status }));
  }

  /** Every call, for tests of read cost. */
  readonly dueQueries: Array<{ shard: number; until: string; limit: number; startKey?: string }> = [];

  async listDueBefore(shard: number, until: string, limit: number, startKey?: string): Promise<DuePage> {
    this.dueQueries.push({ shard, until, limit, ...(startKey !== undefined ? { startKey } : {}) });
    const rows = [...this.items.values()]
      .filter((t) => t.dueShard === shard && t.dueKey !== undefined && t.dueKey <= `${until}#~` && (startKey === undefined || t.dueKey > startKey))
      .sort((a, b) => (a.dueKey! < b.dueKey! ? -1 : 1));
    const page = rows.slice(0, limit);
    const items = page.map(({ touchpointId, kind, generation, dueAt, status }) => ({ touchpointId, kind, generation, dueAt, status }));
    return rows.length > limit ? { items, nextKey: page.at(-1)!.dueKey! } : { items };
  }

  async listByCustomer(customerId: string) {
    const mine = [...this.items.values()].filter((t) => t.customerId === customerId);
    return Promise.all(mine.map((t) => this.get(t.touchpointId) as Promise<Touchpoint>));
  }

  private expect(t: TouchpointTransition, ...statuses: TouchpointStatus[]) {
    const item = this.items.get(t.touchpointId);
    return item && statuses.includes(item.status) && item.generation === t.generation ? item : undefined;
  }

  async claimForDispatch(t: Parameters<TouchpointRepository['claimForDispatch']>[0]) {
    const item = this.expect(t, t.from);
    if (!item) return false;
    Object.assign(item, { status: 'DISPATCHED', dueKey: `${t.leaseUntil}#${t.touchpointId}`, updatedAt: t.at });
    if (t.redispatch !== undefined) {
      item.generation += 1;
      item[t.redispatch] = (item[t.redispatch] ?? 0) + 1;
    }
    return true;
  }

  async claimForSending(t: Parameters<TouchpointRepository['claimForSending']>[0]) {
    const item = this.expect(t, 'DISPATCHED');
    if (!item) return false;
    Object.assign(item, { status: 'SENDING', dueKey: `${t.leaseUntil}#${t.touchpointId}`, attemptId: t.attemptId, sendPlan: structuredClone(t.sendPlan), updatedAt: t.at });
    return true;
  }

  async markUnconfirmed(t: Parameters<TouchpointRepository['markUnconfirmed']>[0]) {
    const item = this.expect(t, 'SENDING');
    if (!item) return false;
    Object.assign(item, { status: 'UNCONFIRMED', dueKey: `${t.until}#${t.touchpointId}`, reason: t.reason, updatedAt: t.at });
    return true;
  }

  async reschedule(t: TouchpointTransition & { dueAt: string; reason: string; sendDeferrals?: number }) {
    const item = this.expect(t, 'DISPATCHED', 'SENDING');
    if (!item) return false;
    Object.assign(item, {
      status: 'PENDING',
      dueAt: t.dueAt,
      dueKey: `${t.dueAt}#${t.touchpointId}`,
      generation: item.generation + 1,
      reason: t.reason,
      updatedAt: t.at,
      ...(t.sendDeferrals === undefined ? {} : { sendDeferrals: t.sendDeferrals }),
    });
    return true;
  }

  async complete(t: Parameters<TouchpointRepository['complete']>[0]) {
    const item = this.expect(t, 'DISPATCHED', 'SENDING', 'UNCONFIRMED');
    if (!item) return false;
    Object.assign(item, { status: t.status, updatedAt: t.at, dueShard: undefined, dueKey: undefined });
    if (t.status === 'SENT') Object.assign(item, { sentAt: t.at, messageId: t.messageId });
    if (t.status === 'SENT' && t.surveySend) {
      item.surveyKind = t.surveySend.surveyKind;
      this.pendingCounts?.append(t.touchpointId, t.surveySend.pendingCounts);
    }
    if (t.reason !== undefined) item.reason = t.reason;
    return true;
  }

  async cancel(id: string, reason: string, at: string) {
    const item = this.items.get(id);
    if (!item || !['PENDING', 'DISPATCHED', 'UNCONFIRMED'].includes(item.status)) return false;
    Object.assign(item, { status: 'CANCELLED', reason, updatedAt: at, dueShard: undefined, dueKey: undefined });
    return true;
  }

  async revive(touchpoint: Touchpoint) {
    const stored = this.items.get(touchpoint.touchpointId);
    if (stored?.status !== 'CANCELLED' || touchpoint.status !== 'PENDING') return false;
    this.items.set(touchpoint.touchpointId, {
      ...structuredClone(touchpoint),
      generation: stored.generation + 1,
      createdAt: stored.createdAt,
      dueShard: shardOf(touchpoint.touchpointId, this.shards),
      dueKey: `${touchpoint.dueAt}#${touchpoint.touchpointId}`,
    });
    return true;
  }
}

export class StaticCampaigns implements CampaignCatalog {
  constructor(readonly campaigns: Campaign[]) {}
  async listActive() {
    return this.campaigns.filter((c) => c.enabled);
  }
  async get(id: string) {
    return this.campaigns.find((c) => c.id === id);
  }
}

/** Behaves like Step Functions names: a second start with a used name is answered with 'already-exists'. */
export class RecordingWorkflows implements WorkflowStarter {
  readonly started: Array<{ kind: TouchpointKind; name: string; input: Record<string, unknown> }> = [];
  readonly names = new Set<string>();
  failNext: Error | undefined;

  async start(kind: TouchpointKind, name: string, input: Record<string, unknown>): Promise<StartOutcome> {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    if (this.names.has(name)) return 'already-exists';
    this.names.add(name);
    this.started.push({ kind, name, input });
    return 'started';
  }
}

/** A PENDING check-in touchpoint due 2026-11-23 10:00 UTC, created three days before. */
export function pendingTouchpoint(touchpointId: string, overrides: Partial<Touchpoint> = {}): Touchpoint {
  return {
    touchpointId,
    campaignId: 'post-purchase-check-in',
    kind: 'check-in',
    customerId: 'c-1',
    dueAt: '2026-11-23T10:00:00.000Z',
    status: 'PENDING',
    generation: 0,
    context: {},
    createdAt: '2026-11-20T10:00:00.000Z',
    updatedAt: '2026-11-20T10:00:00.000Z',
    ...overrides,
  };
}

/** The checked-in check-in campaign, with overrides for a test. */
export function checkInCampaign(overrides: Partial<Campaign> = {}): Campaign {
  const [campaign] = loadCampaignDirectory('campaigns');
  if (!campaign) throw new Error('campaigns/ has no campaign');
  return { ...campaign, ...overrides };
}

export function purchaseEvent(overrides: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'evt-1',
    'detail-type': 'Purchase Completed',
    source: 'outreach.commerce',
    account: '123456789012',
    time: '2026-11-20T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      orderId: 'o-100',
      customerId: 'c-1',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      timeZone: 'Europe/Berlin',
      locale: 'en',
      marketingConsent: true,
      items: [{ sku: 'TEA-1', name: 'Teapot', quantity: 1, unitPrice: 30, category: 'kitchen' }],
      total: 30,
      currency: 'EUR',
      purchasedAt: '2026-11-20T10:00:00Z',
      ...overrides,
    },
    ...envelope,
  };
}

/** Survey answers by survey id, as check-eligibility reads them (a reminder goes out only while there is none). */
export class InMemoryAnswers {
  readonly items = new Map<string, { surveyId: string; score: number }>();
  async get(surveyId: string) {
    return this.items.get(surveyId);
  }
}

/** A survey key ring for render tests (two versions, k2 current). */
export const testSurveyKeyring = async () => ({
  current: 'k2',
  secrets: { k1: 'survey-key-one-0123456789abcdef0123456789', k2: 'survey-key-two-0123456789abcdef0123456789' },
});

/** Contracts by id, as check-eligibility reads them for renewal reminders. */
export class StaticContracts {
  readonly items = new Map<string, { status: 'ACTIVE' | 'RENEWED' | 'CANCELLED' | 'ENDED'; endDate: string }>();
  async get(contractId: string) {
    return this.items.get(contractId);
  }
}

/**
 * The operator's port over an InMemoryTouchpoints (composed, so the other use cases' writes are what it lists,
 * re-drives and measures), with the DynamoDB adapter's conditions; `redrives` records every write that applied.
 */
export class InMemoryTouchpointOperations implements TouchpointOperations {
  readonly redrives: RedriveWrite[] = [];
  constructor(readonly touchpoints = new InMemoryTouchpoints()) {}

  get shards() {
    return this.touchpoints.shards;
  }

  get(touchpointId: string) {
    return this.touchpoints.get(touchpointId);
  }

  async listByStatus(status: TouchpointStatus, options: { order: ListOrder; limit: number; after?: string }) {
    const page = new PageCollector(options);
    for (const id of this.touchpoints.items.keys()) {
      const t = await this.touchpoints.get(id);
      if (t?.status === status) page.add(rowOf(t));
    }
    return page.page();
  }

  async redrive(write: RedriveWrite) {
    const item = this.touchpoints.items.get(write.touchpointId) as (Touchpoint & { dueShard?: number; dueKey?: string; redrives?: number; redrivenAt?: string }) | undefined;
    if (write.from === 'UNCONFIRMED' && !write.acceptDuplicate) throw new DuplicateSendRiskError(write.touchpointId, 'UNCONFIRMED: SES may have accepted it');
    if (!item || item.status !== write.from || item.generation !== write.generation) return false;
    if (!write.acceptDuplicate && (item.unconfirmedResends ?? 0) > 0) return false;
    for (const field of ['reason', 'sendDeferrals', 'redispatches', 'unconfirmedResends', 'attemptId', 'sendPlan'] as const) delete item[field];
    Object.assign(item, {
      status: 'PENDING',
      dueAt: write.at,
      dueShard: shardOf(write.touchpointId, this.touchpoints.shards),
      dueKey: `${write.at}#${write.touchpointId}`,
      generation: item.generation + 1,
      updatedAt: write.at,
      redrivenAt: write.at,
      redrives: (item.redrives ?? 0) + 1,
    });
    this.redrives.push(structuredClone(write));
    return true;
  }

  dueIndexPage(shard: number, until: string, limit: number, startKey?: string) {
    return this.touchpoints.listDueBefore(shard, until, limit, startKey);
  }
}
