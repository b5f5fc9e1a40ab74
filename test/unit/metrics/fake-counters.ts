/**
 * In-memory counter records and pending-counts lists with the conditional semantics of the DynamoDB adapters
 * (adapters/dynamodb-metrics.ts), shared by every test of a use case that moves a metric count.
 */
import {
  hasLiveLease,
  outcomeRecordOf,
  purchaseRecordOf,
  recordKeyText,
  sendRecordOf,
  type CountLease,
  type CounterChange,
  type MetricsCounterStore,
  type RecordKey,
  type StalePendingCounts,
  systemClock,
} from '../../../core/metrics/counters.ts';
import { toUtcIso } from '../../../core/schedule.ts';
import type { ContractOutcomeAggregate, PurchaseCohortAggregate, SurveySendAggregate } from '../../../core/metrics/model.ts';

interface StoredRecord {
  key: RecordKey;
  counters: Record<string, number>;
  markers: Set<string>;
  version: number;
}

export class InMemoryMetricsCounters implements MetricsCounterStore {
  readonly records = new Map<string, StoredRecord>();
  /** Every apply call, in order (`already` included). */
  readonly applied: Array<{ id: string; result: 'applied' | 'already' }> = [];

  async apply(change: CounterChange): Promise<'applied' | 'already'> {
    const id = recordKeyText(change.record);
    const record = this.records.get(id) ?? { key: change.record, counters: {}, markers: new Set<string>(), version: 0 };
    if (record.markers.has(change.id)) {
      this.applied.push({ id: change.id, result: 'already' });
      return 'already';
    }
    for (const [name, by] of Object.entries(change.counters)) record.counters[name] = (record.counters[name] ?? 0) + by;
    record.markers.add(change.id);
    record.version += 1;
    this.records.set(id, record);
    this.applied.push({ id: change.id, result: 'applied' });
    return 'applied';
  }

  async release(change: CounterChange): Promise<void> {
    this.records.get(recordKeyText(change.record))?.markers.delete(change.id);
  }

  /** Markers left on records (in-flight changes). */
  markers(): string[] {
    return [...this.records.values()].flatMap((r) => [...r.markers]).sort();
  }

  sends(): SurveySendAggregate[] {
    return this.of('sends').map((r) => sendRecordOf(r.key as Extract<RecordKey, { series: 'sends' }>, r.counters));
  }

  outcomes(): ContractOutcomeAggregate[] {
    return this.of('outcomes').map((r) => outcomeRecordOf(r.key.day, r.counters));
  }

  purchases(): PurchaseCohortAggregate[] {
    return this.of('purchases').map((r) => purchaseRecordOf(r.key.day, r.counters));
  }

  private of(series: RecordKey['series']): StoredRecord[] {
    return [...this.records.entries()]
      .filter(([, r]) => r.key.series === series && Object.values(r.counters).some((n) => n !== 0))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, r]) => r);
  }
}

/**
 * The `metricsPending` list and `metricsLease` of the entities of one table, and since when each entity has had
 * pending changes (the `byPendingCounts` index). An entity fake calls `append` in the same step as its conditional
 * state write (the DynamoDB adapters do both in one UpdateItem).
 */
export class InMemoryPendingCounts implements StalePendingCounts {
  readonly pending = new Map<string, CounterChange[]>();
  readonly leases = new Map<string, CountLease>();
  /** Entity → the time of the write that appended to its empty list (the index's sort key). */
  readonly since = new Map<string, string>();
  /**
   * `clock`: the time of a write whose fake does not pass one (the entity fakes call `append(id, changes)`);
   * the system clock by default. Tests of the recovery sweep give a clock that follows their scenario.
   */
  constructor(private readonly options: { clock?: () => string } = {}) {}

  append(entityId: string, changes: readonly CounterChange[], at?: string): void {
    if (changes.length === 0) return;
    this.pending.set(entityId, [...(this.pending.get(entityId) ?? []), ...changes]);
    if (!this.since.has(entityId)) this.since.set(entityId, toUtcIso(at ?? (this.options.clock ?? systemClock)()));
  }

  async claim(entityId: string, lease: CountLease, now: string): Promise<CounterChange[] | undefined> {
    const changes = this.pending.get(entityId) ?? [];
    if (changes.length === 0 || hasLiveLease(this.leases.get(entityId), now)) return undefined;
    this.leases.set(entityId, lease);
    return [...changes];
  }

  async complete(entityId: string, token: string, count: number): Promise<{ remaining: CounterChange[] } | 'lost'> {
    if (this.leases.get(entityId)?.token !== token) return 'lost';
    const remaining = (this.pending.get(entityId) ?? []).slice(count);
    if (remaining.length === 0) {
      this.pending.delete(entityId);
      this.leases.delete(entityId);
      this.since.delete(entityId);
    } else {
      this.pending.set(entityId, remaining);
    }
    return { remaining: [...remaining] };
  }

  async listStale(olderThan: string, limit: number): Promise<string[]> {
    const upTo = toUtcIso(olderThan);
    return [...this.since]
      .filter(([, since]) => since <= upTo)
      .sort(([a, sinceA], [b, sinceB]) => sinceA.localeCompare(sinceB) || a.localeCompare(b))
      .slice(0, limit)
      .map(([entityId]) => entityId);
  }

  async unlist(entityId: string): Promise<boolean> {
    if (!this.since.has(entityId) || (this.pending.get(entityId) ?? []).length > 0) return false;
    this.since.delete(entityId);
    return true;
  }

  /** Entities listed as pending (the index), whether or not changes are left. */
  listed(): string[] {
    return [...this.since.keys()].sort();
  }

  /** Entities with pending changes. */
  entities(): string[] {
    return [...this.pending.keys()].sort();
  }
}
