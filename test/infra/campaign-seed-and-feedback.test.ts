import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { CampaignSeed } from '../../lib/constructs/campaign-seed.ts';
import { loadCampaignDirectory } from '../../core/campaigns/load.ts';
import { synthOutreach } from './support.ts';

describe('campaign seeding', () => {
  it('writes each validated campaign as the current version of the campaigns table', () => {
    // Prepare
    const stack = new Stack(new App(), 'Seed');
    const table = new Table(stack, 'Campaigns', {
      partitionKey: { name: 'campaignId', type: AttributeType.STRING },
      sortKey: { name: 'version', type: AttributeType.STRING },
    });

    // Act
    const seed = new CampaignSeed(stack, 'Seed', { table });

    // Assess
    const campaigns = loadCampaignDirectory('campaigns');
    expect(seed.campaignIds).toEqual(campaigns.map((c) => c.id));
    expect(seed.campaignIds).toEqual(['post-purchase-check-in', 'nps-after-purchase', 'promoter-review-ask', 'contract-renewal']);
    const template = Template.fromStack(stack);
    const resources = Object.values(template.findResources('Custom::AWS')) as Array<{ Properties: { Create: { 'Fn::Join': [string, unknown[]] } } }>;
    expect(resources).toHaveLength(campaigns.length);
    // Each call is a JSON string joined around the table reference: put the name back and read it.
    const calls = resources.map((resource) => {
      const parts = resource.Properties.Create['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'campaigns-table'));
      return JSON.parse(parts.join('')) as { action: string; parameters: { TableName: string; Item: Record<string, { S: string }> } };
    });
    for (const campaign of campaigns) {
      const call = calls.find((c) => c.parameters.Item.campaignId?.S === campaign.id)!;
      expect(call.action).toBe('putItem');
      expect(call.parameters.TableName).toBe('campaigns-table');
      expect(call.parameters.Item.version).toEqual({ S: 'current' });
      expect(JSON.parse(call.parameters.Item.definition!.S)).toEqual(campaign);
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Campaigns'), 'Arn'] } })],
      },
    });
  });

  it('stops the synth with file, line and field when a rule file is invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaigns-'));
    writeFileSync(join(dir, 'broken.yaml'), 'id: broken\nkind: check-in\ntrigger:\n  event: Purchase Completed\ndelay: 3 days\n');
    const stack = new Stack(new App(), 'Seed');
    const table = new Table(stack, 'Campaigns', { partitionKey: { name: 'campaignId', type: AttributeType.STRING } });
    expect(() => new CampaignSeed(stack, 'Seed', { table, campaignsDir: dir })).toThrow(
      /broken\.yaml:1 template: is missing \(give template, or variants with a template each\)\n  \S*broken\.yaml:5 delay: "3 days" is not an ISO-8601 duration \(try P3D\)/,
    );
  });
});

describe('SES feedback', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(synthOutreach().stateless);
  });

  it('publishes bounces and complaints from the configuration set to the default bus', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({
        Enabled: true,
        MatchingEventTypes: Match.arrayWith(['bounce', 'complaint']),
        EventBridgeDestination: { EventBusArn: Match.anyValue() },
      }),
    });
  });

  it('routes them from the default bus to the ingest function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ses'], 'detail-type': ['Email Bounced', 'Email Complaint Received'] },
      EventBusName: 'default',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestEvent'), 'Arn'] } })],
    });
  });
});
