/**
 * The campaigns table as `outreach campaigns diff/apply` sees it: immutable version items (`v000001`…), the `current`
 * item the runtime reads (DynamoDbCampaignCatalog), and audit items (`audit#<time>#v…`). The decisions are in
 * core/campaigns/changes.ts; this adapter reads the table into that shape and executes the planned writes with
 * conditions, in an order that a later apply can finish if this one stops half-way (dynalite has no transactions).
 */
import { PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  CURRENT_VERSION,
  auditKey,
  auditedVersion,
  parseVersion,
  type ApplyPlan,
  type ApplyStep,
  type AuditRecord,
  type StoredCampaign,
  type StoredVersion,
} from '../core/campaigns/changes.ts';
import { TABLES } from '../core/topology.ts';
import { createDocumentClient, writeIfCondition } from './dynamodb-client.ts';

const KEY = TABLES.campaigns;

/** Another apply changed the campaign between this apply's read and its write. Nothing of this step was overwritten. */
export class ConcurrentApplyError extends Error {
  readonly campaignId: string;
  constructor(campaignId: string, what: string) {
    super(`campaign ${campaignId}: ${what} — another apply ran at the same time; run \`campaigns diff\` and apply again`);
    this.name = 'ConcurrentApplyError';
    this.campaignId = campaignId;
  }
}

export interface ApplyResult {
  /** Versions made current, by campaign. */
  applied: Array<{ campaignId: string; version: string; repaired: boolean }>;
  /** Audit items written for a version that was already current. */
  auditsRepaired: Array<{ campaignId: string; version: string }>;
}

export class DynamoDbCampaignStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  /** Everything stored for these campaign ids, plus every other campaign that has a current item. */
  async read(campaignIds: readonly string[]): Promise<StoredCampaign[]> {
    const ids = new Set(campaignIds);
    for (const id of await this.currentIds()) ids.add(id);
    const stored: StoredCampaign[] = [];
    for (const id of [...ids].sort()) stored.push(await this.readOne(id));
    return stored;
  }

  /** Executes an apply plan: audit repairs, then each step (version item → current → audit). Stops at the first conflict. */
  async apply(plan: ApplyPlan): Promise<ApplyResult> {
    const result: ApplyResult = { applied: [], auditsRepaired: [] };
    for (const audit of plan.auditRepairs) {
      await this.putAudit(audit);
      result.auditsRepaired.push({ campaignId: audit.campaignId, version: audit.version });
    }
    for (const step of plan.steps) {
      await this.applyStep(step);
      result.applied.push({ campaignId: step.campaignId, version: step.version.version, repaired: step.versionExists });
    }
    return result;
  }

  private async applyStep(step: ApplyStep): Promise<void> {
    const { campaignId, version } = step;
    // 1. The immutable version item. attribute_not_exists on the key: two applies cannot take the same number.
    if (!step.versionExists) {
      const written = await writeIfCondition(
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              [KEY.partitionKey]: campaignId,
              [KEY.sortKey]: version.version,
              definition: version.definition,
              appliedAt: version.appliedAt,
              actor: version.actor,
              action: version.action,
              changedPaths: version.changedPaths,
              ...(version.previousVersion ? { previousVersion: version.previousVersion } : {}),
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': KEY.partitionKey },
          }),
        ),
      );
      if (!written) throw new ConcurrentApplyError(campaignId, `version ${version.version} already exists`);
    }
    // 2. Move current, conditional on the current item this apply read.
    const expected = step.expectedCurrent;
    const condition: Pick<PutCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> = !expected
      ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': KEY.partitionKey } }
      : expected.appliedVersion
        ? {
            ConditionExpression: '#applied = :previous',
            ExpressionAttributeNames: { '#applied': 'appliedVersion' },
            ExpressionAttributeValues: { ':previous': expected.appliedVersion },
          }
        : {
            // Written outside apply (local start): it must still hold the definition this apply compared with.
            // (`definition` is a DynamoDB reserved word, hence the names.)
            ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#applied) AND #definition = :previous',
            ExpressionAttributeNames: { '#pk': KEY.partitionKey, '#applied': 'appliedVersion', '#definition': 'definition' },
            ExpressionAttributeValues: { ':previous': expected.definition },
          };
    const moved = await writeIfCondition(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [KEY.partitionKey]: campaignId,
            [KEY.sortKey]: CURRENT_VERSION,
            definition: version.definition,
            appliedVersion: version.version,
            updatedAt: step.audit.at,
          },
          ...condition,
        }),
      ),
    );
    if (!moved) {
      throw new ConcurrentApplyError(
        campaignId,
        `current is no longer ${expected ? (expected.appliedVersion ?? 'the definition this apply read') : 'absent'}; ${version.version} was written but not made current`,
      );
    }
    // 3. The audit item (a later apply writes it if this one stops before).
    await this.putAudit(step.audit);
  }

  private async putAudit(audit: AuditRecord): Promise<void> {
    // Deterministic key (the version's applied time and number): writing it twice stores the same item.
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [KEY.partitionKey]: audit.campaignId,
          [KEY.sortKey]: auditKey(audit.at, audit.version),
          at: audit.at,
          actor: audit.actor,
          action: audit.action,
          appliedVersion: audit.version,
          ...(audit.previousVersion ? { previousVersion: audit.previousVersion } : {}),
          changedPaths: audit.changedPaths,
        },
      }),
    );
  }

  private async currentIds(): Promise<string[]> {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#sk = :current',
          ExpressionAttributeNames: { '#sk': KEY.sortKey, '#pk': KEY.partitionKey },
          ExpressionAttributeValues: { ':current': CURRENT_VERSION },
          ProjectionExpression: '#pk',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) ids.push(String(item[KEY.partitionKey]));
      start = page.LastEvaluatedKey;
    } while (start);
    return ids;
  }

  private async readOne(campaignId: string): Promise<StoredCampaign> {
    const stored: StoredCampaign = { campaignId, versions: [], auditedVersions: [] };
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :id',
          ExpressionAttributeNames: { '#pk': KEY.partitionKey },
          ExpressionAttributeValues: { ':id': campaignId },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const key = String(item[KEY.sortKey]);
        if (key === CURRENT_VERSION) {
          stored.current = {
            definition: String(item.definition),
            ...(typeof item.appliedVersion === 'string' ? { appliedVersion: item.appliedVersion } : {}),
          };
        } else if (parseVersion(key) !== undefined) {
          stored.versions.push(toVersion(key, item));
        } else {
          const audited = auditedVersion(key);
          if (audited) stored.auditedVersions.push(audited);
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return stored;
  }
}

function toVersion(version: string, item: Record<string, unknown>): StoredVersion {
  return {
    version,
    definition: String(item.definition),
    appliedAt: String(item.appliedAt),
    actor: String(item.actor ?? 'unknown'),
    action: item.action === 'added' ? 'added' : 'changed',
    changedPaths: Array.isArray(item.changedPaths) ? item.changedPaths.map(String) : [],
    ...(typeof item.previousVersion === 'string' ? { previousVersion: item.previousVersion } : {}),
  };
}
