/**
 * The renewal and churn counts (core/metrics/model.ts ContractOutcomeAggregate: per UTC day of the outcome, renewed /
 * churned × the customer's NPS segment then), kept exactly once with the pending-counts pattern
 * (core/metrics/counters.ts): each outcome write (markRenewed, markCancelled, markEnded) carries the contract's
 * outcome history with the term's outcome recorded and the counter changes that causes, in one conditional write;
 * the writer then settles the contract's pending counts.
 */
import { randomUUID } from 'node:crypto';
import {
  type CountSettleOutcome,
  type CountSettler,
  numberChanges,
  outcomeChanges,
  settlePendingCounts,
} from '../metrics/counters.ts';
import { npsSegmentOf, recordOutcome } from '../metrics/model.ts';
import type { Contract, ContractOutcome } from './model.ts';
import type { ContractCustomers, OutcomeWrite } from './ports.ts';

/** Where the counts go: the contracts' pending counts and the metric records. */
/** The contracts table's pending counts and the records (with the real-time clock in handlers). */
export type ContractMetrics = CountSettler;

/** What an outcome needs from the customers table: the customer's latest NPS answer (its segment). */
export type SegmentSource = Pick<ContractCustomers, 'get'>;

/**
 * The OutcomeWrite that records `outcome` on `contract` (as just read): the customer's NPS segment now, the new
 * history and its counter changes (none when the same outcome is recorded again).
 */
export async function outcomeWrite(
  contract: Contract,
  outcome: ContractOutcome,
  customers: SegmentSource,
  newToken: () => string = randomUUID,
): Promise<OutcomeWrite> {
  const npsSegment = npsSegmentOf(await customers.get(contract.customerId));
  const { history, increments } = recordOutcome(contract.outcomes ?? [], { ...outcome, npsSegment });
  return {
    outcomes: history,
    metrics: numberChanges(newToken(), outcomeChanges(increments)),
    base: { version: contract.version, status: contract.status },
  };
}

/**
 * Applies the contract's pending counts (this write's and any a crashed writer left). Safe to call any number of
 * times; a retry of the same event calls it to finish what a crash interrupted.
 */
export function settleContractCounts(contractId: string, now: string, metrics: ContractMetrics): Promise<CountSettleOutcome> {
  return settlePendingCounts(contractId, now, metrics);
}
