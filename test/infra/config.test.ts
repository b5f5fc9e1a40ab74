import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKLOG_ALARM_MINUTES, DEFAULT_COMMERCE_EVENT_SOURCE, DEFAULT_DISPATCH_SHARDS, DEFAULT_SEND_RATE_SHARE } from '../../core/topology.ts';
import { OutreachConfigError, parseOutreachConfig, readOutreachConfig } from '../../lib/config.ts';

const valid = { 'outreach:senderAddress': 'outreach@shop.example', 'outreach:region': 'us-east-1' };

function problemsOf(context: Record<string, unknown>): string[] {
  try {
    parseOutreachConfig(context);
  } catch (error) {
    expect(error).toBeInstanceOf(OutreachConfigError);
    return (error as OutreachConfigError).problems.map((problem) => problem.message);
  }
  throw new Error('expected the settings to be rejected');
}

describe('deploy settings (CDK context)', () => {
  it('applies the defaults from core/topology.ts', () => {
    expect(parseOutreachConfig(valid)).toEqual({
      senderAddress: 'outreach@shop.example',
      region: 'us-east-1',
      eventSource: DEFAULT_COMMERCE_EVENT_SOURCE,
      dispatchShards: DEFAULT_DISPATCH_SHARDS,
      sendRateShare: DEFAULT_SEND_RATE_SHARE,
      backlogAlarmMinutes: DEFAULT_BACKLOG_ALARM_MINUTES,
      tracing: 'sampled',
      workflowLogLevel: 'ERROR',
    });
  });

  it('takes the tracing mode and the workflow log level from context, and names a wrong one', () => {
    expect(parseOutreachConfig({ ...valid, 'outreach:tracing': 'off', 'outreach:workflowLogLevel': 'all' })).toMatchObject({
      tracing: 'off',
      workflowLogLevel: 'ALL',
    });
    const problems = problemsOf({ ...valid, 'outreach:tracing': 'full', 'outreach:workflowLogLevel': 'VERBOSE' });
    expect(problems.map((problem) => problem.split(' ')[0])).toEqual(['outreach:tracing', 'outreach:workflowLogLevel']);
  });

  it('accepts command-line strings and normalizes them', () => {
    const config = parseOutreachConfig({
      ...valid,
      'outreach:dispatchShards': '16',
      'outreach:publicBaseUrl': 'https://links.shop.example/',
      'outreach:sandboxRecipients': 'a@shop.example, b@shop.example',
      'outreach:sesIdentity': 'Shop.Example',
      'outreach:account': 123456789012,
      'outreach:alertEmail': '',
    });
    expect(config).toMatchObject({
      dispatchShards: 16,
      publicBaseUrl: 'https://links.shop.example',
      sandboxRecipients: ['a@shop.example', 'b@shop.example'],
      sesIdentity: 'shop.example',
      account: '123456789012',
    });
    expect(config.alertEmail).toBeUndefined();
  });

  it('names a missing senderAddress, what it expects and an example command', () => {
    expect(problemsOf({ 'outreach:region': 'us-east-1' })).toEqual([
      'outreach:senderAddress is missing. Expected the email address outreach emails are sent from (its address or domain verified in SES). Example: npx cdk synth -c outreach:senderAddress=outreach@yourdomain.com',
    ]);
  });

  it('names a bad email with the value found', () => {
    expect(problemsOf({ ...valid, 'outreach:senderAddress': 'outreach-at-shop' })).toEqual([
      'outreach:senderAddress is "outreach-at-shop". Expected the email address outreach emails are sent from (its address or domain verified in SES). Example: npx cdk synth -c outreach:senderAddress=outreach@yourdomain.com',
    ]);
  });

  it.each([0, 65, '2.5', 'eight'])('rejects dispatchShards %j', (shards) => {
    expect(problemsOf({ ...valid, 'outreach:dispatchShards': shards })).toEqual([
      `outreach:dispatchShards is ${JSON.stringify(shards)}. Expected an integer from 1 to 64 (default 8). Example: npx cdk synth -c outreach:dispatchShards=8`,
    ]);
  });

  it('reports every problem at once, unknown keys included', () => {
    const problems = problemsOf({
      'outreach:senderAdress': 'outreach@shop.example',
      'outreach:region': 'Virginia',
      'outreach:publicBaseUrl': 'http://links.shop.example',
      'outreach:eventSource': 'aws.events',
      'outreach:account': '1234',
      'outreach:sesIdentity': 'not a domain',
      'outreach:sandboxRecipients': 'a@shop.example,nobody',
      unrelated: 'ignored',
    });
    expect(problems.map((problem) => problem.split(' ')[0])).toEqual([
      'outreach:senderAdress',
      'outreach:senderAddress',
      'outreach:region',
      'outreach:publicBaseUrl',
      'outreach:eventSource',
      'outreach:account',
      'outreach:sesIdentity',
      'outreach:sandboxRecipients',
    ]);
    expect(problems[0]).toContain('is not a known setting');
  });

  it('puts every problem in the error message that stops synth', () => {
    const app = new App({ context: { 'outreach:dispatchShards': '100' } });
    expect(() => readOutreachConfig(app)).toThrowError(/outreach:senderAddress is missing[\s\S]*outreach:region is missing[\s\S]*outreach:dispatchShards is "100"/);
  });
});
