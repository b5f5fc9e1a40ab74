import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { loadCampaignDirectory } from '../../core/campaigns/load.ts';

export interface CampaignSeedProps {
  /** The campaigns table. */
  readonly table: ITable;
  /**
   * Folder of campaign rule files (YAML or JSON).
   * @default the project's campaigns/ folder
   */
  readonly campaignsDir?: string;
}

/**
 * Validates the campaign rule files at synth (an invalid file stops the synth with `file:line path: message`) and
 * writes each campaign as the current version in the campaigns table on deploy. A changed file changes the physical
 * id, so only changed campaigns are written again.
 */
export class CampaignSeed extends Construct {
  readonly campaignIds: string[];

  constructor(scope: Construct, id: string, props: CampaignSeedProps) {
    super(scope, id);
    const dir = props.campaignsDir ?? fileURLToPath(new URL('../../campaigns', import.meta.url));
    const campaigns = loadCampaignDirectory(dir);
    this.campaignIds = campaigns.map((c) => c.id);
    for (const campaign of campaigns) {
      const definition = JSON.stringify(campaign);
      const digest = createHash('sha256').update(definition).digest('hex').slice(0, 16);
      const putItem = {
        service: 'DynamoDB',
        action: 'putItem',
        parameters: {
          TableName: props.table.tableName,
          Item: {
            campaignId: { S: campaign.id },
            version: { S: 'current' },
            definition: { S: definition },
            updatedAt: { S: `deploy:${digest}` },
          },
        },
        physicalResourceId: PhysicalResourceId.of(`${campaign.id}:${digest}`),
      };
      new AwsCustomResource(this, `Campaign-${campaign.id}`, {
        onCreate: putItem,
        onUpdate: putItem,
        policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: [props.table.tableArn] }),
        installLatestAwsSdk: false,
      });
    }
  }
}
