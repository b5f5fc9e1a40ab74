/**
 * Ports of the survey use cases. The DynamoDB adapters are in adapters/dynamodb-responses.ts; in-memory fakes with the
 * same conditional semantics are in test/unit/surveys/fakes.ts.
 */
import type { AggregateDelta, AggregateKey, SettlementLease, SurveyAggregate, SurveyResponse } from './responses.ts';

export type CommitOutcome =
  /** The revision is counted and published; lease released; nothing left to do. */
  | { status: 'settled' }
  /** The revision is counted and published, but the answer changed meanwhile: the lease is kept, go on with `response`. */
  | { status: 'advanced'; response: SurveyResponse }
  /** The lease is not ours any more: nothing was recorded. */
  | { status: 'lost' };

export interface SurveyResponseRepository {
  get(surveyId: string): Promise<SurveyResponse | undefined>;
  /**
   * Writes an answer. `expectedRevision` undefined: creates the response, only if none exists. A number: changes the
   * answer fields (score, category, comment, answeredAt, revision, scoreHistory), only if the stored revision is still
   * `expectedRevision`; the bookkeeping fields (aggregatedRevision, publishedRevision, settlement) are left as stored.
   * Either way the response is marked as having work to settle. False (and nothing written) when the condition fails.
   */
  put(response: SurveyResponse, expectedRevision: number | undefined): Promise<boolean>;
  /**
   * Takes the settlement lease if the response has work to settle and no lease that is still running at `now`.
   * Returns the response as stored once the lease is taken, or undefined when it was not taken.
   */
  acquireSettlement(surveyId: string, lease: SettlementLease, now: string): Promise<SurveyResponse | undefined>;
  /** Records `revision` as counted and published, if the lease with `token` is still held. See CommitOutcome. */
  commitSettlement(surveyId: string, token: string, revision: number): Promise<CommitOutcome>;
  /** Ids of responses with work to settle, last answered at or before `answeredBefore`, oldest first. */
  listPendingSettlement(answeredBefore: string, limit: number): Promise<string[]>;
  /** Every response of a campaign, each read consistently (for the rebuild; a scan, so not for request paths). */
  listByCampaign(campaignId: string): Promise<SurveyResponse[]>;
}

/** An aggregate as stored, with the version that guards a rebuild's overwrite. */
export interface StoredAggregate extends SurveyAggregate {
  /** Incremented by every apply and replace. */
  version: number;
}

/**
 * The compare-and-set on a survey's in-flight marker that makes an aggregate update idempotent: the marker on the
 * aggregate item says which revision of the survey the item counts while the response does not record it yet.
 */
export interface InflightMarker {
  surveyId: string;
  /** The marker as read before the update; undefined: no marker. */
  expected: number | undefined;
  /** The revision the update makes the aggregate count. */
  revision: number;
}

export interface SurveyAggregateRepository {
  get(key: AggregateKey): Promise<StoredAggregate | undefined>;
  /** The survey's in-flight marker on the aggregate item, read consistently. */
  inflightRevision(key: AggregateKey, surveyId: string): Promise<number | undefined>;
  /**
   * Adds `delta` (DynamoDB ADD, creating the item) and sets the survey's marker to `marker.revision`, only if the
   * marker is still `marker.expected`. False (and nothing written) otherwise.
   */
  apply(key: AggregateKey, delta: AggregateDelta, marker: InflightMarker): Promise<boolean>;
  /** Drops the survey's marker if it is at or below `revision` (the response now records what is counted). */
  clearInflight(key: AggregateKey, surveyId: string, revision: number): Promise<void>;
  /** The campaign's aggregates, every day and kind, read consistently. */
  listByCampaign(campaignId: string): Promise<StoredAggregate[]>;
  /**
   * Overwrites an aggregate (dropping every in-flight marker on it) if its version is still `expectedVersion`
   * (undefined: the item does not exist). False when it changed meanwhile.
   */
  replace(aggregate: SurveyAggregate, expectedVersion: number | undefined): Promise<boolean>;
}

/** Publishes a domain event on the product's bus (EventBridge PutEvents in AWS, the local gateway locally). */
export interface EventPublisher {
  publish(detailType: string, detail: Record<string, unknown>): Promise<void>;
}
