import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CURRENT_VERSION } from '../../core/campaigns/changes.ts';
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
    // Our own role and log group instead of the provider's default AWS managed policy (logs anywhere).
    const role = new Role(this, 'ProviderRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    const logGroup = new LogGroup(this, 'ProviderLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    logGroup.grantWrite(role);
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
            version: { S: CURRENT_VERSION },
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
        role,
        logGroup,
      });
    }
  }
}
