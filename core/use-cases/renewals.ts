/**
 * Renewal reminders as the functions run them: the campaign rules mapped onto the contracts core
 * (core/contracts/sweep-renewals.ts), for contract events and for the daily sweep.
 */
import { isActiveAt } from '../campaigns/assignment.ts';
import type { Campaign } from '../campaigns/schema.ts';
import type { ContractEvent } from '../contracts/contract-events.ts';
import type { RenewalCampaign } from '../contracts/model.ts';
import type { ContractMetrics, SegmentSource } from '../contracts/outcome-counts.ts';
import type { ContractCustomers, ContractRepository, SweepCursorStore } from '../contracts/ports.ts';
import {
  applyContractEvent,
  recordContractEnds,
  runRenewalSweep,
  type ContractEventResult,
  type EndsResult,
  type SweepRunResult,
} from '../contracts/sweep-renewals.ts';
import type { CampaignCatalog, TouchpointRepository } from '../ports.ts';
import { toUtcIso } from '../schedule.ts';

export interface RenewalDeps {
  contracts: ContractRepository;
  cursors: SweepCursorStore;
  touchpoints: TouchpointRepository;
  campaigns: CampaignCatalog;
  /** The renewal and churn counts (every recorded outcome moves them). */
  metrics: ContractMetrics;
}

/** The enabled renewal-reminder campaigns active at `now`, as the sweep reads them. */
export async function renewalCampaigns(catalog: CampaignCatalog, now: string): Promise<RenewalCampaign[]> {
  return (await catalog.listActive())
    .filter((c): c is Campaign & { trigger: { event: 'Contract Ending' } } => c.trigger.event === 'Contract Ending' && isActiveAt(c, now))
    .map((c) => ({ campaignId: c.id, offsetsDays: c.trigger.offsetsDays, sendAt: c.trigger.sendAt }));
}

/**
 * A contract event: applied to the contract, with the reminders a sweep has already passed over planned at once (a
 * contract started or moved inside the planned horizon) and the ones that no longer fit cancelled.
 */
export async function handleContractEvent(
  event: ContractEvent,
  deps: RenewalDeps & { customers: ContractCustomers },
): Promise<ContractEventResult> {
  const campaigns = await renewalCampaigns(deps.campaigns, toUtcIso(event.time));
  return applyContractEvent(event, { ...deps, planning: { campaigns, cursors: deps.cursors } });
}

export interface DailySweepResult {
  campaigns: Array<{ campaignId: string } & SweepRunResult>;
  ends: EndsResult;
}

/**
 * The daily sweep (Scheduler cron): for each renewal campaign, plan every reminder whose day begins before the next
 * run (continuing from the campaign's cursor, so missed days are caught up and a repeated run plans nothing twice);
 * then record the contracts that ended without renewal as churned (counted in the customer's NPS segment).
 */
export async function runDailyRenewalSweep(scheduledTime: string, deps: RenewalDeps & { customers: SegmentSource }): Promise<DailySweepResult> {
  const now = toUtcIso(scheduledTime);
  const campaigns = [];
  for (const campaign of await renewalCampaigns(deps.campaigns, now)) {
    campaigns.push({ campaignId: campaign.campaignId, ...(await runRenewalSweep(now, campaign, deps)) });
  }
  return { campaigns, ends: await recordContractEnds(now, deps) };
}
