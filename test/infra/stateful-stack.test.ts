import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '../../core/topology.ts';
import { OutreachData } from '../../lib/constructs/outreach-data.ts';
import { OutreachStatefulStack } from '../../lib/stateful-stack.ts';
import { featureFlags } from './support.ts';

/** The sparse index of entities with pending metric counts (the recovery sweep's listing), on touchpoints, contracts, customers. */
const pendingCountsIndex = {
  IndexName: TABLES.customers.pendingCountsIndex.name,
  KeySchema: [
    { AttributeName: TABLES.customers.pendingCountsIndex.partitionKey, KeyType: 'HASH' },
    { AttributeName: TABLES.customers.pendingCountsIndex.sortKey, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'KEYS_ONLY' },
};

describe('stateful stack', () => {
  let template: Template;
  let stack: OutreachStatefulStack;

  beforeAll(() => {
    stack = new OutreachStatefulStack(new App({ context: featureFlags() }), 'Stateful', { env: { account: '123456789012', region: 'eu-west-1' } });
    template = Template.fromStack(stack);
  });

  it('is termination-protected', () => {
    expect(stack.terminationProtection).toBe(true);
  });

  it('creates exactly the tables of TABLES', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLES).length);
  });

  it('retains every table, with deletion protection, PITR, on-demand billing and AWS-managed encryption', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    for (const table of Object.values(tables)) {
      expect(table).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
        },
      });
      // SSEEnabled without a key is the AWS managed aws/dynamodb key: no customer managed key to pay for or lose.
      expect(table.Properties.SSESpecification.KMSMasterKeyId).toBeUndefined();
    }
  });

  it('keys customers by customerId, with only the sparse pending-counts index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: TABLES.customers.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [pendingCountsIndex],
    });
  });

  it('gives contracts the sparse end index and the sparse pending-counts index', () => {
    const { endIndex } = TABLES.contracts;
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: TABLES.contracts.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: endIndex.name }), pendingCountsIndex],
    });
  });

  it('keys campaigns by campaignId and version', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLES.campaigns.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLES.campaigns.sortKey, KeyType: 'RANGE' },
      ],
    });
  });

  it('gives touchpoints the sparse due index (INCLUDE), the customer index (ALL) and TTL', () => {
    const { dueIndex, customerIndex } = TABLES.touchpoints;
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: TABLES.touchpoints.partitionKey, KeyType: 'HASH' }],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'dueShard', AttributeType: 'S' },
        { AttributeName: 'dueKey', AttributeType: 'S' },
        { AttributeName: 'customerId', AttributeType: 'S' },
        { AttributeName: 'dueAt', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: dueIndex.name,
          KeySchema: [
            { AttributeName: dueIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: dueIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...dueIndex.include] },
        },
        {
          IndexName: customerIndex.name,
          KeySchema: [
            { AttributeName: customerIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: customerIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        pendingCountsIndex,
      ],
      TimeToLiveSpecification: { AttributeName: TABLES.touchpoints.ttlAttribute, Enabled: true },
    });
  });

  it('owns the outreach event bus the commerce system publishes to', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'outreach' });
  });

  it('refuses DESTROY together with deletion protection', () => {
    expect(() => new OutreachData(new Stack(), 'Data', { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: true })).toThrowError(
      /removalPolicy DESTROY conflicts with deletionProtection: true/,
    );
  });
});
