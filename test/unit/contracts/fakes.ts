/** In-memory contract ports with the same conditional semantics as adapters/dynamodb-contracts.ts, and event builders. */
import type { Customer } from '../../../core/model.ts';
import type { CustomerProfile } from '../../../core/ports.ts';
import { type Contract, type EndingContract, ENDING_CONTRACT_FIELDS, isRunning } from '../../../core/contracts/model.ts';
import type {
  CancellationChange,
  ContractCustomers,
  ContractRepository,
  EndChange,
  EndingPage,
  OutcomeWrite,
  RenewalChange,
  SweepCursorStore,
} from '../../../core/contracts/ports.ts';
import { recordRenewalIn } from '../fakes.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from '../metrics/fake-counters.ts';

interface StoredContract extends Contract {
  /** The byEnd sort key, present only while running (as in DynamoDB's sparse index). */
  endKey?: string;
}

const AFTER_ANY_ID = '~';

/**
 * Contracts in memory. With `pending`, each outcome write appends its counter changes there in the same step (the
 * adapter: in the same UpdateItem); without, they are dropped.
 */
export class InMemoryContracts implements ContractRepository {
  constructor(readonly pending?: InMemoryPendingCounts) {}

  readonly items = new Map<string, StoredContract>();
  /** Index rows returned by listEndingBetween, for read-cost assertions. */
  indexReads = 0;
  readonly rangeQueries: Array<{ from: string; to: string }> = [];

  async get(contractId: string): Promise<Contract | undefined> {
    const item = this.items.get(contractId);
    if (!item) return undefined;
    const { endKey: _key, ...contract } = structuredClone(item);
    return contract;
  }

  /** Never writes `outcomes` (the stored history stays), like the adapter. */
  async upsertFromEvent(next: Contract, baseVersion: string | undefined): Promise<boolean> {
    const stored = this.items.get(next.contractId);
    if (baseVersion === undefined ? stored !== undefined : !stored || stored.version !== baseVersion || !(stored.version < next.version)) {
      return false;
    }
    const { outcomes: _ignored, ...contract } = structuredClone(next);
    this.items.set(next.contractId, withIndexKey({ ...contract, ...(stored?.outcomes ? { outcomes: stored.outcomes } : {}) }));
    return true;
  }

  async markRenewed(contractId: string, change: RenewalChange): Promise<boolean> {
    const stored = this.items.get(contractId);
    if (!stored || !(stored.version < change.at) || !this.isAsRead(stored, change)) return false;
    const { at, outcome, endsAt, endDate, outcomes, metrics: _metrics, base: _base, ...changes } = structuredClone(change);
    const terms = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const { cancellationReason: _reason, ...rest } = stored;
    const renewals = stored.renewals + 1;
    this.items.set(contractId, withIndexKey({ ...rest, ...terms, status: 'RENEWED', endDate, endsAt, renewals, outcome, outcomes, version: at, updatedAt: at }));
    this.pending?.append(contractId, change.metrics);
    return true;
  }

  async markCancelled(contractId: string, change: CancellationChange): Promise<boolean> {
    const stored = this.items.get(contractId);
    if (!stored || !isRunning(stored.status) || !(stored.version < change.at) || !this.isAsRead(stored, change)) return false;
    const { endKey: _key, ...rest } = stored;
    this.items.set(contractId, {
      ...rest,
      status: 'CANCELLED',
      outcome: structuredClone(change.outcome),
      outcomes: structuredClone(change.outcomes),
      version: change.at,
      updatedAt: change.at,
      ...(change.reason !== undefined ? { cancellationReason: change.reason } : {}),
    });
    this.pending?.append(contractId, change.metrics);
    return true;
  }

  async markEnded(contractId: string, change: EndChange): Promise<boolean> {
    const stored = this.items.get(contractId);
    if (!stored || !isRunning(stored.status) || stored.endDate !== change.endDate || !this.isAsRead(stored, change)) return false;
    const { endKey: _key, ...rest } = stored;
    const [outcome, outcomes] = [structuredClone(change.outcome), structuredClone(change.outcomes)];
    this.items.set(contractId, { ...rest, status: 'ENDED', outcome, outcomes, updatedAt: change.at });
    this.pending?.append(contractId, change.metrics);
    return true;
  }

  /** The outcome writes' guard: still at the version and status the history was computed from. */
  private isAsRead(stored: StoredContract, write: OutcomeWrite): boolean {
    return stored.version === write.base.version && stored.status === write.base.status;
  }

  /** One sorted index; `startKey` is the last key returned. Counts every row it returns. */
  async listEndingBetween(fromInstant: string, toInstant: string, limit: number, startKey?: string): Promise<EndingPage> {
    this.rangeQueries.push({ from: fromInstant, to: toInstant });
    const low = startKey ?? `${fromInstant}#${AFTER_ANY_ID}`;
    const high = `${toInstant}#${AFTER_ANY_ID}`;
    const rows = [...this.items.values()]
      .filter((c) => c.endKey !== undefined && c.endKey > low && c.endKey <= high)
      .sort((a, b) => (a.endKey! < b.endKey! ? -1 : 1));
    const page = rows.slice(0, limit);
    this.indexReads += page.length;
    const items = page.map((c) => Object.fromEntries(ENDING_CONTRACT_FIELDS.map((f) => [f, structuredClone(c[f])])) as unknown as EndingContract);
    return rows.length > limit ? { items, nextKey: page.at(-1)!.endKey! } : { items };
  }

  /** Test set-up: store a contract as it is, index key included when running. */
  put(contract: Contract): void {
    this.items.set(contract.contractId, withIndexKey(structuredClone(contract)));
  }
}

function withIndexKey(contract: StoredContract): StoredContract {
  const { endKey: _key, ...rest } = contract;
  return isRunning(rest.status) ? { ...rest, endKey: `${rest.endsAt}#${rest.contractId}` } : rest;
}

/** Counter records and contracts' pending counts for a test, and contracts that append to them. */
export function contractsWithMetrics() {
  const metrics = { pending: new InMemoryPendingCounts(), counters: new InMemoryMetricsCounters() };
  return { contracts: new InMemoryContracts(metrics.pending), metrics };
}

export class InMemorySweepCursors implements SweepCursorStore {
  readonly items = new Map<string, string>();
  async get(campaignId: string) {
    return this.items.get(campaignId);
  }
  async advance(campaignId: string, expected: string | undefined, to: string) {
    if (this.items.get(campaignId) !== expected) return false;
    this.items.set(campaignId, to);
    return true;
  }
}

/** recordPurchase without an order: newer-or-equal profiles apply, older ones are dropped. */
export class InMemoryContractCustomers implements ContractCustomers {
  readonly items = new Map<string, Customer>();
  readonly writes: Array<{ customerId: string; eventTime: string }> = [];

  async get(customerId: string) {
    const customer = this.items.get(customerId);
    return customer && structuredClone(customer);
  }

  async recordProfile(profile: CustomerProfile, eventTime: string) {
    this.writes.push({ customerId: profile.customerId, eventTime });
    const existing = this.items.get(profile.customerId);
    if (existing && existing.profileUpdatedAt > eventTime) return;
    this.items.set(profile.customerId, {
      orderIds: [],
      ...existing,
      ...profile,
      profileUpdatedAt: eventTime,
      createdAt: existing?.createdAt ?? eventTime,
    });
  }

  /** `<contractId>#<newEndDate>` per customer, as the adapter's `renewalKeys` set. */
  readonly renewalKeys = new Map<string, Set<string>>();

  async recordRenewal(customerId: string, contractId: string, newEndDate: string) {
    return recordRenewalIn(this.items, this.renewalKeys, customerId, contractId, newEndDate);
  }
}

export const PROFILE = {
  customerId: 'cust-1',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  timeZone: 'Europe/Berlin',
  locale: 'en',
  marketingConsent: true,
};

export const TERMS = {
  contractId: 'ctr-1',
  plan: 'pro-annual',
  value: 1200,
  currency: 'EUR',
  startDate: '2026-03-29',
  endDate: '2027-03-28',
  autoRenew: false,
};

/** An EventBridge envelope for a contract event, published when it occurred (unless `envelope.time` says otherwise). */
export function contractEnvelope(detailType: string, detail: Record<string, unknown>, envelope: Record<string, unknown> = {}) {
  const occurredAt = typeof detail.occurredAt === 'string' && !Number.isNaN(Date.parse(detail.occurredAt)) ? detail.occurredAt : undefined;
  return {
    version: '0',
    id: 'evt-c1',
    'detail-type': detailType,
    source: 'outreach.commerce',
    account: '123456789012',
    time: occurredAt ?? '2026-04-01T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
    ...envelope,
  };
}

export function startedDetail(overrides: Record<string, unknown> = {}) {
  return { ...PROFILE, ...TERMS, occurredAt: '2026-03-29T08:00:00Z', ...overrides };
}

/** A running contract as stored, for sweep tests. */
export function contract(overrides: Partial<Contract> & Pick<Contract, 'contractId' | 'endDate' | 'timeZone' | 'endsAt'>): Contract {
  return {
    customerId: `cust-${overrides.contractId}`,
    plan: 'pro-annual',
    value: 1200,
    currency: 'EUR',
    startDate: '2020-01-01',
    autoRenew: false,
    status: 'ACTIVE',
    renewals: 0,
    version: '2026-01-01T00:00:00.000Z',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}
