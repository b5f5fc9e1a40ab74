/**
 * Campaign rules for the local stack: the same files (campaigns/*.yaml) validated by the same loader as at synth,
 * stored in the local campaigns table with the same adapter the product uses.
 */
import { saveCampaign } from '../adapters/dynamodb-campaigns.ts';
import { createDocumentClient } from '../adapters/dynamodb-client.ts';
import { loadCampaignDirectory } from '../core/campaigns/load.ts';
import type { Campaign } from '../core/campaigns/schema.ts';
import type { ScenarioTiming } from './scenario.ts';
import type { LocalStack } from './stack.ts';

/** Validates every campaign file (throwing one error that lists every problem) and stores each as current. */
export async function loadCampaignsIntoTable(dir: string, stack: LocalStack, log: (line: string) => void): Promise<Campaign[]> {
  const campaigns = loadCampaignDirectory(dir);
  const db = createDocumentClient(stack.clients.dynamodb);
  for (const campaign of campaigns) await saveCampaign(stack.tables.campaigns, campaign, stack.clock.nowIso(), db);
  log(`campaigns: ${campaigns.map((c) => `${c.id} (${c.kind}${c.enabled ? '' : ', disabled'})`).join(', ') || 'none'}`);
  return campaigns;
}

/** The delay and quiet hours of the enabled check-in campaign: what the sample scenario and the e2e tests plan by. */
export function checkInTiming(dir: string): ScenarioTiming {
  const campaign = loadCampaignDirectory(dir).find((c): c is typeof c & { delay: string } => c.kind === 'check-in' && c.enabled && c.delay !== undefined);
  if (!campaign) throw new Error(`${dir} has no enabled check-in campaign: the sample scenario needs one`);
  return { checkInDelay: campaign.delay, ...(campaign.quietHours ? { quietHours: campaign.quietHours } : {}) };
}
