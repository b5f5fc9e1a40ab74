/**
 * Ports of the contract-renewal use cases.
 *
 * The byEnd index and why the sweep reads only what is due
 * ---------------------------------------------------------
 * A daily sweep must find the contracts with a reminder coming up without scanning. Each running contract carries
 * a sparse index key: `endShard` (its id hashed onto a few partitions, so a bulk import does not write one index
 * partition hot) and `endKey` = `<endsAt>#<contractId>`, where `endsAt` is the instant its end date starts in the
 * customer's zone (local midnight, UTC ISO, fixed width so text order is time order). Cancelling or ending a
 * contract removes the key, so the index only ever holds running contracts.
 *
 * For an offset of d days, a reminder's day starts d × 24 h before `endsAt` give or take the zone's DST change
 * between the two days. The sweep therefore asks for the key range `window + d × 24 h`: a pure translation, so the
 * windows of consecutive sweeps give adjacent, non-overlapping key ranges and every contract × offset is read exactly
 * once over time, in any mix of zones. No padding for DST is needed (padding would read zones whose midnight sits
 * next to a window edge twice, up to 2× for a one-zone customer base); instead the window runs ahead of the clock by
 * a lookahead larger than the sweep period plus the largest offset change, and each reminder is written with its
 * exact due instant. Items read per sweep = contracts with a reminder in the window (1.0×, bench/sweep.ts measures
 * it); the only other reads are the contracts whose end already passed during a long catch-up.
 *
 * An alternative keyed by zone (partition = zone, sort = local end date) would be exact too but costs one query per
 * zone in use (hundreds) per offset, mostly empty.
 */
import type { CounterChange } from '../metrics/counters.ts';
import type { RecordedOutcome } from '../metrics/model.ts';
import type { CustomerProfile } from '../ports.ts';
import type { Customer } from '../model.ts';
import type { Contract, ContractOutcome, ContractTerms, EndingContract } from './model.ts';

export interface EndingPage {
  items: EndingContract[];
  /** Absent on the last page. Opaque: pass it back as `startKey`. */
  nextKey?: string;
}

export interface ContractRepository {
  get(contractId: string): Promise<Contract | undefined>;
  /**
   * Writes `next` (its byEnd key derived from it: present only while running), if the stored contract is still at
   * `baseVersion` (undefined: no contract with this id exists) and `next.version` is newer than it. False when
   * another write came first: re-read and decide again. Event-time ordering: an older event never wins. It never
   * writes `outcomes` (only the outcome writes below do, with their counts) nor the item's pending metric counts.
   */
  upsertFromEvent(next: Contract, baseVersion: string | undefined): Promise<boolean>;
  /**
   * A renewal event: new end date (and byEnd key), status RENEWED, renewals + 1, the outcome of the term that was
   * renewed, optional new terms. Applies from any status (a late renewal beats an ENDED or CANCELLED verdict) when
   * `at` is newer than the stored version and the contract is still as read (`base`); false otherwise.
   */
  markRenewed(contractId: string, change: RenewalChange): Promise<boolean>;
  /**
   * A cancellation event: running → CANCELLED with outcome CHURNED, out of the index, when `at` is newer and the
   * contract is still as read (`base`); else false.
   */
  markCancelled(contractId: string, change: CancellationChange): Promise<boolean>;
  /**
   * The end passed (noticed by a sweep at `at`): running → ENDED with outcome CHURNED, out of the index, only while
   * the end date is still `endDate` (not renewed meanwhile) and the contract is still as read (`base`). Leaves the
   * version alone. False when it had moved on.
   */
  markEnded(contractId: string, change: EndChange): Promise<boolean>;
  /**
   * One page of running contracts with `fromInstant < endsAt <= toInstant`, up to `limit`, read from the byEnd
   * index only (never the table, never a scan). Order within and across pages is unspecified.
   */
  listEndingBetween(fromInstant: string, toInstant: string, limit: number, startKey?: string): Promise<EndingPage>;
}

/**
 * What every outcome write carries for the renewal and churn counts (core/metrics/counters.ts, the pending-counts
 * pattern): the contract's outcome history with the term's outcome recorded, and the counter changes that causes,
 * appended to the item's pending counts in the same conditional write.
 */
export interface OutcomeWrite {
  /** `recordOutcome(contract.outcomes ?? [], next).history`. */
  outcomes: RecordedOutcome[];
  /** The changes of its increments (`numberChanges(token, outcomeChanges(increments))`); may be empty. */
  metrics: CounterChange[];
  /**
   * The contract as read when `outcomes` was computed: the write applies only while it is still at this version and
   * status. Every write that changes `outcomes` changes one of the two (markRenewed and markCancelled the version,
   * markEnded the status, and neither ever returns to an earlier value), so the history is never computed from a
   * stale read.
   */
  base: Pick<Contract, 'version' | 'status'>;
}

export interface RenewalChange extends OutcomeWrite, Partial<Pick<ContractTerms, 'plan' | 'value' | 'currency' | 'autoRenew'>> {
  endDate: string;
  endsAt: string;
  /** Event time; becomes the version. */
  at: string;
  outcome: ContractOutcome;
}

export interface CancellationChange extends OutcomeWrite {
  /** Event time; becomes the version. */
  at: string;
  outcome: ContractOutcome;
  reason?: string;
}

export interface EndChange extends OutcomeWrite {
  /** The end date the sweep saw pass. */
  endDate: string;
  /** The sweep's time. */
  at: string;
  outcome: ContractOutcome;
}

/**
 * Per renewal campaign, how far the sweeps have planned: reminder days (nominal starts, see above) up to this instant
 * are planned. Contract events use it to plan reminders a sweep has already passed over.
 */
export interface SweepCursorStore {
  get(campaignId: string): Promise<string | undefined>;
  /** Moves the cursor from `expected` (undefined: none yet) to `to`; false if another sweep moved it meanwhile. */
  advance(campaignId: string, expected: string | undefined, to: string): Promise<boolean>;
}

/**
 * What contract events need from the customers table (a subset of CustomerRepository). `recordProfile` is
 * `CustomerRepository.recordPurchase` without an order: create the customer, or apply the profile if `eventTime` is
 * not older than the stored one (keeping orderIds, unsubscribe and suppression). `recordRenewal` counts a renewal of
 * a contract to a new end date on the customer once (the loyalty profile's `renewals`); false when it was counted
 * already or the customer does not exist.
 */
export interface ContractCustomers {
  get(customerId: string): Promise<Customer | undefined>;
  recordProfile(profile: CustomerProfile, eventTime: string): Promise<void>;
  recordRenewal(customerId: string, contractId: string, newEndDate: string): Promise<boolean>;
}
