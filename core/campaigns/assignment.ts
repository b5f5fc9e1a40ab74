/**
 * Deterministic per-customer choices of a campaign: holdout and A/B variant. Both come from sha256(campaignId,
 * customerId), so a customer is always in or out of a campaign's holdout and always gets the same variant (as long
 * as the weights stay the same). Holdout reads the digest's first 4 bytes, the variant the next 4, so the two
 * choices are independent of each other.
 */
import { createHash } from 'node:crypto';
import { activeInstant, type Campaign, type CampaignTemplate, type CampaignVariant } from './schema.ts';

const TWO_TO_32 = 2 ** 32;

function digestOf(campaignId: string, customerId: string): Buffer {
  return createHash('sha256').update(`${campaignId}\u0000${customerId}`).digest();
}

/** A number in [0, 1) for the customer, from 4 bytes of the digest at `offset`. */
const fraction = (digest: Buffer, offset: number) => digest.readUInt32BE(offset) / TWO_TO_32;

/** True when the customer is in the campaign's holdout (gets nothing from it). */
export function isHeldOut(campaign: Pick<Campaign, 'id' | 'holdout'>, customerId: string): boolean {
  const percent = campaign.holdout?.percent ?? 0;
  if (percent <= 0) return false;
  return fraction(digestOf(campaign.id, customerId), 0) * 100 < percent;
}

/** The variant the customer gets, by the variants' weights; undefined when the campaign has no variants. */
export function chooseVariant(campaign: Pick<Campaign, 'id' | 'variants'>, customerId: string): CampaignVariant | undefined {
  const variants = campaign.variants;
  if (!variants || variants.length === 0) return undefined;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let point = fraction(digestOf(campaign.id, customerId), 4) * total;
  for (const variant of variants) {
    if (point < variant.weight) return variant;
    point -= variant.weight;
  }
  return variants.at(-1);
}

/**
 * The template to render: the recorded variant's (if the campaign still has it), else the campaign's template,
 * else the variant the customer would be given now (the campaign changed to variants after planning).
 */
export function templateFor(
  campaign: Pick<Campaign, 'id' | 'template' | 'variants'>,
  customerId: string,
  variantId?: string,
): { template: CampaignTemplate; variant?: string } {
  const recorded = variantId !== undefined ? campaign.variants?.find((v) => v.id === variantId) : undefined;
  if (recorded) return { template: recorded.template, variant: recorded.id };
  if (campaign.template) return { template: campaign.template };
  const chosen = chooseVariant(campaign, customerId);
  if (!chosen) throw new RangeError(`campaign ${campaign.id} has neither a template nor variants`);
  return { template: chosen.template, variant: chosen.id };
}

/** True when `at` (ISO instant) is inside the campaign's [activeFrom, activeUntil) window; no bounds: always. */
export function isActiveAt(campaign: Pick<Campaign, 'activeFrom' | 'activeUntil'>, at: string): boolean {
  const instant = new Date(at).toISOString();
  const from = campaign.activeFrom !== undefined ? activeInstant(campaign.activeFrom, 'from') : undefined;
  const until = campaign.activeUntil !== undefined ? activeInstant(campaign.activeUntil, 'until') : undefined;
  if (from !== undefined && instant < new Date(from).toISOString()) return false;
  if (until !== undefined && instant >= new Date(until).toISOString()) return false;
  return true;
}
