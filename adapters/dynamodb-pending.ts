/**
 * The pending metric counts on an entity item (core/metrics/counters.ts): `metricsPending`, a list of counter changes
 * appended by the entity's own state write, and `metricsLease` `{ token, until }`, held by whoever settles them.
 * The entity adapters (touchpoints, responses, contracts, customers) add `pendingAppend` to the UpdateExpression of
 * their conditional state write; DynamoDbPendingCounts (below) claims, trims and releases.
 */
import type { CounterChange } from '../core/metrics/counters.ts';

export const PENDING_ATTRIBUTE = 'metricsPending';
export const LEASE_ATTRIBUTE = 'metricsLease';

/**
 * The `SET` clause that appends `changes` to the entity's pending list (creating it), with its values. Use it in the
 * same UpdateItem as the state change: `SET status = :s, ${clause.set}`. Returns undefined for no changes (append
 * nothing, and do not create an empty list).
 */
export function pendingAppend(changes: readonly CounterChange[]): { set: string; values: Record<string, unknown> } | undefined {
  if (changes.length === 0) return undefined;
  return {
    set: `${PENDING_ATTRIBUTE} = list_append(if_not_exists(${PENDING_ATTRIBUTE}, :noPendingCounts), :pendingCounts)`,
    values: { ':noPendingCounts': [], ':pendingCounts': changes.map((c) => ({ id: c.id, record: c.record, counters: c.counters })) },
  };
}
