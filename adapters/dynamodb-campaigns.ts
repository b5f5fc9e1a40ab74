import { PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CURRENT_VERSION } from '../core/campaigns/changes.ts';
import { campaignSchema, type Campaign } from '../core/campaigns/schema.ts';
import type { CampaignCatalog } from '../core/ports.ts';
import { createDocumentClient } from './dynamodb-client.ts';


/**
 * Campaign rules from the campaigns table, cached briefly so an applied change takes effect within `cacheMs`
 * without a redeploy, while a burst of events reads the table once.
 */
export class DynamoDbCampaignCatalog implements CampaignCatalog {
  private cache: { at: number; campaigns: Promise<Campaign[]> } | undefined;

  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
    private readonly cacheMs = 60_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async listActive(): Promise<Campaign[]> {
    return (await this.all()).filter((c) => c.enabled);
  }

  async get(campaignId: string): Promise<Campaign | undefined> {
    return (await this.all()).find((c) => c.id === campaignId);
  }

  private all(): Promise<Campaign[]> {
    if (!this.cache || this.nowMs() - this.cache.at > this.cacheMs) {
      const campaigns = this.load();
      this.cache = { at: this.nowMs(), campaigns };
      // Forget a failed load so the next call retries, unless a newer load has replaced it meanwhile.
      campaigns.catch(() => {
        if (this.cache?.campaigns === campaigns) this.cache = undefined;
      });
    }
    return this.cache.campaigns;
  }

  private async load(): Promise<Campaign[]> {
    const campaigns: Campaign[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      // The table holds a handful of campaigns (tens of versions): a filtered scan is the simple, cheap read here.
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'version = :current',
          ExpressionAttributeValues: { ':current': CURRENT_VERSION },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) campaigns.push(parseStored(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return campaigns;
  }
}

function parseStored(item: Record<string, unknown>): Campaign {
  let definition: unknown;
  try {
    definition = JSON.parse(String(item.definition));
  } catch (error) {
    throw new Error(`stored campaign ${String(item.campaignId)} is invalid: definition is not JSON (${(error as Error).message})`);
  }
  const parsed = campaignSchema.safeParse(definition);
  if (!parsed.success) {
    throw new Error(`stored campaign ${String(item.campaignId)} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Writes a validated campaign as the current version (used by the local stack and, later, the rules CLI). */
export async function saveCampaign(
  tableName: string,
  campaign: Campaign,
  at: string,
  db: DynamoDBDocumentClient = createDocumentClient(),
): Promise<void> {
  await db.send(
    new PutCommand({
      TableName: tableName,
      Item: { campaignId: campaign.id, version: CURRENT_VERSION, definition: JSON.stringify(campaign), updatedAt: at },
    }),
  );
}
