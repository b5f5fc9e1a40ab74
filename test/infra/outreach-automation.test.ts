import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_WORKFLOWS, FUNCTION_NAMES, TABLES } from '../../core/topology.ts';
import { OutreachAutomation } from '../../lib/index.ts';
import { featureFlags } from './support.ts';
import { productFunctions } from './template-helpers.ts';

describe('OutreachAutomation (L3, in any app)', () => {
  let automation: OutreachAutomation;
  let template: Template;

  beforeAll(() => {
    const app = new App({ context: { ...featureFlags(), 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'HostApp', { env: { account: '123456789012', region: 'us-east-1' } });
    automation = new OutreachAutomation(stack, 'Outreach', {
      senderAddress: 'hello@shop.example',
      data: { removalPolicy: RemovalPolicy.DESTROY, eventBusName: 'shop-outreach' },
      publicBaseUrl: 'https://links.shop.example',
    });
    template = Template.fromStack(stack);
  });

  it('puts the data and the runtime in one scope', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLES).length);
    expect(productFunctions(template.findResources('AWS::Lambda::Function'))).toHaveLength(FUNCTION_NAMES.length);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', Object.keys(ALL_WORKFLOWS).length);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'shop-outreach' });
  });

  it('exposes what callers need', () => {
    expect(Object.keys(automation.tables).sort()).toEqual(Object.keys(TABLES).sort());
    expect(Object.keys(automation.functions).sort()).toEqual([...FUNCTION_NAMES].sort());
    expect(Object.keys(automation.stateMachines)).toEqual(Object.keys(ALL_WORKFLOWS));
    expect(automation.eventBus).toBe(automation.data.eventBus);
    expect(automation.httpApi).toBe(automation.runtime.httpApi);
    expect(automation.publicBaseUrl).toBe('https://links.shop.example');
  });

  it('honours a throwaway removal policy (no retention, no deletion protection)', () => {
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });

  it('uses the configured public base URL in the links', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Outreach: render-email',
      Environment: { Variables: Match.objectLike({ PUBLIC_BASE_URL: 'https://links.shop.example' }) },
    });
  });
});
