/**
 * The rebuild command's use case: recompute a campaign's aggregates from its responses and overwrite what is stored
 * (after a bug, a restore, a manual fix). Safe to run while answers arrive: an aggregate is overwritten only if no
 * update reached it since it was read, and never while one of its responses is being settled; such aggregates are
 * reported, and running the rebuild again finishes them.
 */
import type { SettleDeps } from './settle-response.ts';
import { needsSettlement, settleSurveyResponse } from './settle-response.ts';
import { aggregateKeyOf, emptyAggregate, rebuildAggregates, type AggregateKey, type SurveyResponse } from './responses.ts';

export interface RebuildResult {
  /** Responses whose interrupted settling this run finished first. */
  settled: number;
  /** Aggregates overwritten with the recomputed counts. */
  replaced: number;
  /** Aggregates left alone: a response of theirs was being settled, or they changed during the run. */
  skipped: AggregateKey[];
}

const keyId = (key: AggregateKey) => `${key.day}\u0000${key.kind}`;

/**
 * Primary course:
 *  1. Settle every response of the campaign that has work left (crash recovery).
 *  2. Read the stored aggregates with their versions, then every response (consistent reads, in this order, so an
 *     update between the two shows as a version change).
 *  3. Recompute each day × kind from the responses (rebuildAggregates) and overwrite it if its version is unchanged;
 *     days whose responses are still being settled are skipped. A stored day with no responses becomes zero.
 */
export async function rebuildCampaignAggregates(request: { campaignId: string; now: string }, deps: SettleDeps): Promise<RebuildResult> {
  let settled = 0;
  for (const response of await deps.responses.listByCampaign(request.campaignId)) {
    if (needsSettlement(response) && (await settleSurveyResponse(response.surveyId, request.now, deps)) === 'settled') settled += 1;
  }

  const stored = new Map((await deps.aggregates.listByCampaign(request.campaignId)).map((a) => [keyId(a), a]));
  const responses = await deps.responses.listByCampaign(request.campaignId);
  const busy = new Set(responses.filter((r) => needsSettlement(r) || r.settlement !== undefined).map((r) => keyId(aggregateKeyOf(r))));
  const expected = new Map(rebuildAggregates(responses.filter((r: SurveyResponse) => !busy.has(keyId(aggregateKeyOf(r))))).map((a) => [keyId(a), a]));

  const keys = new Map<string, AggregateKey>();
  for (const aggregate of [...stored.values(), ...expected.values()]) {
    keys.set(keyId(aggregate), { campaignId: request.campaignId, day: aggregate.day, kind: aggregate.kind });
  }
  const result: RebuildResult = { settled, replaced: 0, skipped: [] };
  for (const [id, key] of [...keys].sort(([a], [b]) => a.localeCompare(b))) {
    if (busy.has(id)) {
      result.skipped.push(key);
      continue;
    }
    if (await deps.aggregates.replace(expected.get(id) ?? emptyAggregate(key), stored.get(id)?.version)) result.replaced += 1;
    else result.skipped.push(key);
  }
  return result;
}
