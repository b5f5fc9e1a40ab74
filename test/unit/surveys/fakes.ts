/**
 * In-memory survey ports with the conditional semantics of the DynamoDB adapters, a fault plan that simulates a crash
 * before or after any operation, and helpers shared by the survey tests.
 */
import type { CommitOutcome, EventPublisher, InflightMarker, StoredAggregate, SurveyAggregateRepository, SurveyResponseRepository } from '../../../core/surveys/ports.ts';
import {
  addDelta,
  compareAggregateKeys,
  emptyAggregate,
  type AggregateDelta,
  type AggregateKey,
  type SettlementLease,
  type SurveyAggregate,
  type SurveyResponse,
} from '../../../core/surveys/responses.ts';
import type { SurveyKeyring } from '../../../core/surveys/tokens.ts';
import { firstAnswerCounts } from '../../../core/surveys/settle-response.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from '../metrics/fake-counters.ts';

/** Thrown by a planned fault: the process "dies" at that point, leaving whatever it wrote so far. */
export class SimulatedCrash extends Error {
  constructor(at: string) {
    super(`simulated crash ${at}`);
    this.name = 'SimulatedCrash';
  }
}

export type FaultPoint = 'before' | 'after';

/** Crashes planned per operation name (e.g. `aggregates.apply`), each used once. */
export class Faults {
  private readonly planned: Array<{ operation: string; when: FaultPoint }> = [];

  crash(operation: string, when: FaultPoint): this {
    this.planned.push({ operation, when });
    return this;
  }

  get pending(): number {
    return this.planned.length;
  }

  clear(): void {
    this.planned.length = 0;
  }

  private take(operation: string, when: FaultPoint): void {
    const index = this.planned.findIndex((p) => p.operation === operation && p.when === when);
    if (index < 0) return;
    this.planned.splice(index, 1);
    throw new SimulatedCrash(`${when} ${operation}`);
  }

  async around<T>(operation: string, action: () => T): Promise<T> {
    this.take(operation, 'before');
    const result = action();
    this.take(operation, 'after');
    return result;
  }
}

interface StoredResponse extends SurveyResponse {
  settlePending?: true;
}

const clone = <T>(value: T): T => structuredClone(value);
const withoutPending = ({ settlePending: _pending, ...response }: StoredResponse): SurveyResponse => clone(response);

export class InMemorySurveyResponses implements SurveyResponseRepository {
  readonly items = new Map<string, StoredResponse>();
  /** Runs before a conditional answer write is evaluated (to stage a competing writer). */
  beforePut: (() => void) | undefined;

  /** `pendingCounts`: where creating a response appends the counts of its first answer (like the adapter's put). */
  constructor(
    readonly faults = new Faults(),
    readonly pendingCounts?: InMemoryPendingCounts,
    private readonly newToken: () => string = tokenSequence('answer'),
  ) {}

  async get(surveyId: string) {
    const item = this.items.get(surveyId);
    return item && withoutPending(item);
  }

  async put(response: SurveyResponse, expectedRevision: number | undefined) {
    const hook = this.beforePut;
    this.beforePut = undefined;
    hook?.();
    return this.faults.around('responses.put', () => {
      const stored = this.items.get(response.surveyId);
      if (expectedRevision === undefined) {
        if (stored) return false;
        const { aggregatedRevision: _a, publishedRevision: _p, settlement: _s, ...answer } = clone(response);
        this.items.set(response.surveyId, { ...answer, settlePending: true });
        this.pendingCounts?.append(response.surveyId, firstAnswerCounts(response, this.newToken()));
        return true;
      }
      if (!stored || stored.revision !== expectedRevision) return false;
      const { score, category, answeredAt, revision, scoreHistory, comment } = clone(response);
      Object.assign(stored, { score, category, answeredAt, revision, scoreHistory, settlePending: true });
      if (comment !== undefined) stored.comment = comment;
      else delete stored.comment;
      return true;
    });
  }

  async acquireSettlement(surveyId: string, lease: SettlementLease, now: string) {
    return this.faults.around('responses.acquireSettlement', () => {
      const stored = this.items.get(surveyId);
      if (!stored?.settlePending || (stored.settlement && !(stored.settlement.until < now))) return undefined;
      stored.settlement = clone(lease);
      return withoutPending(stored);
    });
  }

  async commitSettlement(surveyId: string, token: string, revision: number): Promise<CommitOutcome> {
    return this.faults.around('responses.commitSettlement', (): CommitOutcome => {
      const stored = this.items.get(surveyId);
      if (!stored || stored.settlement?.token !== token) return { status: 'lost' };
      Object.assign(stored, { aggregatedRevision: revision, publishedRevision: revision });
      if (stored.revision !== revision) return { status: 'advanced', response: withoutPending(stored) };
      delete stored.settlement;
      delete stored.settlePending;
      return { status: 'settled' };
    });
  }

  async listPendingSettlement(answeredBefore: string, limit: number) {
    return [...this.items.values()]
      .filter((r) => r.settlePending && r.answeredAt <= answeredBefore)
      .sort((a, b) => a.answeredAt.localeCompare(b.answeredAt))
      .slice(0, limit)
      .map((r) => r.surveyId);
  }

  async listByCampaign(campaignId: string) {
    return [...this.items.values()]
      .filter((r) => r.campaignId === campaignId)
      .sort((a, b) => a.surveyId.localeCompare(b.surveyId))
      .map(withoutPending);
  }

  /** Every response, as stored (for rebuildAggregates in assertions). */
  all(): SurveyResponse[] {
    return [...this.items.values()].sort((a, b) => a.surveyId.localeCompare(b.surveyId)).map(withoutPending);
  }
}

interface StoredBucket {
  aggregate: SurveyAggregate;
  version: number;
  inflight: Map<string, number>;
}

const bucketId = (key: AggregateKey) => `${key.campaignId}\u0000${key.day}\u0000${key.kind}`;

export class InMemorySurveyAggregates implements SurveyAggregateRepository {
  readonly buckets = new Map<string, StoredBucket>();
  /** Every successful apply, in order. */
  readonly applied: Array<{ key: AggregateKey; delta: AggregateDelta; marker: InflightMarker }> = [];

  constructor(readonly faults = new Faults()) {}

  async get(key: AggregateKey): Promise<StoredAggregate | undefined> {
    const bucket = this.buckets.get(bucketId(key));
    return bucket && { ...clone(bucket.aggregate), version: bucket.version };
  }

  async inflightRevision(key: AggregateKey, surveyId: string) {
    return this.buckets.get(bucketId(key))?.inflight.get(surveyId);
  }

  async apply(key: AggregateKey, delta: AggregateDelta, marker: InflightMarker) {
    return this.faults.around('aggregates.apply', () => {
      const id = bucketId(key);
      const bucket = this.buckets.get(id) ?? { aggregate: emptyAggregate(key), version: 0, inflight: new Map<string, number>() };
      if (bucket.inflight.get(marker.surveyId) !== marker.expected) return false;
      bucket.aggregate = addDelta(bucket.aggregate, delta);
      bucket.version += 1;
      bucket.inflight.set(marker.surveyId, marker.revision);
      this.buckets.set(id, bucket);
      this.applied.push(clone({ key, delta, marker }));
      return true;
    });
  }

  async clearInflight(key: AggregateKey, surveyId: string, revision: number) {
    return this.faults.around('aggregates.clearInflight', () => {
      const bucket = this.buckets.get(bucketId(key));
      const marker = bucket?.inflight.get(surveyId);
      if (bucket && marker !== undefined && marker <= revision) bucket.inflight.delete(surveyId);
    });
  }

  async listByCampaign(campaignId: string): Promise<StoredAggregate[]> {
    return [...this.buckets.values()]
      .filter((b) => b.aggregate.campaignId === campaignId)
      .map((b) => ({ ...clone(b.aggregate), version: b.version }))
      .sort(compareAggregateKeys);
  }

  async replace(aggregate: SurveyAggregate, expectedVersion: number | undefined) {
    return this.faults.around('aggregates.replace', () => {
      const id = bucketId(aggregate);
      const bucket = this.buckets.get(id);
      if ((bucket?.version ?? undefined) !== expectedVersion) return false;
      this.buckets.set(id, { aggregate: clone(aggregate), version: (expectedVersion ?? 0) + 1, inflight: new Map() });
      return true;
    });
  }

  /** The counts of every bucket, without versions, sorted: comparable to rebuildAggregates(). */
  counts(): SurveyAggregate[] {
    return [...this.buckets.values()].map((b) => clone(b.aggregate)).sort(compareAggregateKeys);
  }

  /** How many in-flight markers are left on all items. */
  markers(): number {
    return [...this.buckets.values()].reduce((n, b) => n + b.inflight.size, 0);
  }

  /** Every in-flight marker left, as `{ surveyId, revision }`. */
  markerList(): Array<{ surveyId: string; revision: number }> {
    return [...this.buckets.values()].flatMap((b) => [...b.inflight].map(([surveyId, revision]) => ({ surveyId, revision })));
  }
}

export class RecordingEvents implements EventPublisher {
  readonly published: Array<{ detailType: string; detail: Record<string, unknown> }> = [];
  constructor(readonly faults = new Faults()) {}

  async publish(detailType: string, detail: Record<string, unknown>) {
    return this.faults.around('events.publish', () => {
      this.published.push({ detailType, detail: clone(detail) });
    });
  }
}

export const KEYRING: SurveyKeyring = {
  current: 'k2',
  secrets: { k1: 'k1-secret-0123456789abcdefghijklmnopqrstuvwxyz', k2: 'k2-secret-0123456789abcdefghijklmnopqrstuvwxyz' },
};

export const BASE_URL = 'https://surveys.example.com/prod';

/** A deterministic source of lease tokens. */
export function tokenSequence(prefix = 'lease'): () => string {
  let n = 0;
  return () => `${prefix}-${(n += 1)}`;
}

/**
 * Everything a survey use case needs, in memory, sharing one fault plan (`metrics.pending` and `metrics.counters`
 * fail as `pendingCounts.<operation>` and `counters.<operation>`).
 */
export function surveyWorld() {
  const faults = new Faults();
  const pendingCounts = new FaultyPendingCounts(faults);
  const counters = new FaultyMetricsCounters(faults);
  const responses = new InMemorySurveyResponses(faults, pendingCounts);
  const aggregates = new InMemorySurveyAggregates(faults);
  const events = new RecordingEvents(faults);
  return {
    faults,
    responses,
    aggregates,
    events,
    pendingCounts,
    counters,
    deps: {
      responses,
      aggregates,
      events,
      metrics: { pending: pendingCounts, counters },
      keyring: async () => KEYRING,
      newToken: tokenSequence(),
    },
  };
}

/** The shared pending-counts fake with planned crashes (`pendingCounts.claim`, `pendingCounts.complete`). */
export class FaultyPendingCounts extends InMemoryPendingCounts {
  constructor(readonly faults: Faults) {
    super();
  }

  override async claim(...args: Parameters<InMemoryPendingCounts['claim']>) {
    return this.faults.around('pendingCounts.claim', () => super.claim(...args));
  }

  override async complete(...args: Parameters<InMemoryPendingCounts['complete']>) {
    return this.faults.around('pendingCounts.complete', () => super.complete(...args));
  }
}

/** The shared metric records fake with planned crashes (`counters.apply`, `counters.release`). */
export class FaultyMetricsCounters extends InMemoryMetricsCounters {
  constructor(readonly faults: Faults) {
    super();
  }

  override async apply(...args: Parameters<InMemoryMetricsCounters['apply']>) {
    return this.faults.around('counters.apply', () => super.apply(...args));
  }

  override async release(...args: Parameters<InMemoryMetricsCounters['release']>) {
    return this.faults.around('counters.release', () => super.release(...args));
  }
}
