import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, EVENT_RULES, FUNCTION_NAMES, type FunctionName, HTTP_ROUTES, SCHEDULES, WORKFLOWS, WORKFLOW_FUNCTION_PLACEHOLDERS } from '../../core/topology.ts';
import { OutreachData, type TableKey } from '../../lib/constructs/outreach-data.ts';
import { OUTREACH_RUNTIME } from '../../lib/constructs/outreach-function.ts';
import { OutreachRuntime } from '../../lib/constructs/outreach-runtime.ts';
import { DEFAULT_FUNCTIONS_DIR, DEFAULT_WORKFLOWS_DIR } from '../../lib/paths.ts';
import { SETTINGS, synthOutreach } from './support.ts';
import { actionsOf, allStatements, flat, isCampaignSeedProvider, logicalIdOf, productFunctions, resourcesOf, statementsOfRole, type Statement } from './template-helpers.ts';

const SENDER = SETTINGS['outreach:senderAddress'];

describe('stateless stack', () => {
  let synth: ReturnType<typeof synthOutreach>;
  let template: Template;
  const fnId = (name: FunctionName) => logicalIdOf(synth.stateless.runtime.functions[name]);
  const roleStatements = (name: FunctionName) => statementsOfRole(template, logicalIdOf(synth.stateless.runtime.functions[name].role!));
  const machineId = () => logicalIdOf(synth.stateless.runtime.stateMachines['check-in']);
  const dlqArn = () => ({ 'Fn::GetAtt': [logicalIdOf(synth.stateless.runtime.deadLetterQueue), 'Arn'] });

  beforeAll(() => {
    synth = synthOutreach({ context: { 'outreach:sesIdentity': 'shop.example' } });
    template = Template.fromStack(synth.stateless);
  });

  describe('functions', () => {
    it('creates one function per FUNCTION_NAMES entry, each with the shared defaults', () => {
      const all = template.findResources('AWS::Lambda::Function');
      const functions = productFunctions(all);
      expect(functions).toHaveLength(FUNCTION_NAMES.length);
      expect(Object.keys(all).filter(isCampaignSeedProvider)).toHaveLength(1);
      for (const fn of functions) {
        expect(fn.Properties).toMatchObject({
          Runtime: OUTREACH_RUNTIME.name,
          Architectures: ['arm64'],
          MemorySize: 256,
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
          Handler: 'index.handler',
          Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'outreach', LOG_LEVEL: 'INFO' } },
        });
      }
    });

    it('runs Node.js 22 or newer', () => {
      expect(Number(/^nodejs(\d+)/.exec(OUTREACH_RUNTIME.name)?.[1])).toBeGreaterThanOrEqual(22);
    });

    it('gives every log group a retention', () => {
      for (const logGroup of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
        expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
      }
    });

    it('uses no AWS managed policy (each role writes to its own log group only)', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const logStatement = roleStatements('ingest-event').find((statement) => actionsOf(statement).includes('logs:PutLogEvents'));
      expect(flat(logStatement?.Resource)).toMatch(/^\$\{RuntimeIngestEventLogs\w+\.Arn\}$/);
    });
  });

  describe('least privilege', () => {
    const EXPECTED_TABLE_ACCESS: Record<FunctionName, Partial<Record<TableKey, 'read' | 'readWrite'>>> = {
      'ingest-event': { customers: 'readWrite', touchpoints: 'readWrite', campaigns: 'read' },
      'dispatch-due': { touchpoints: 'readWrite' },
      'check-eligibility': { customers: 'read', touchpoints: 'read', campaigns: 'read' },
      'render-email': { campaigns: 'read' },
      'record-outcome': { touchpoints: 'readWrite' },
      unsubscribe: { customers: 'readWrite', touchpoints: 'readWrite' },
    };

    const tableAccess = (statements: Statement[]) => {
      const access: Partial<Record<TableKey, 'read' | 'readWrite'>> = {};
      for (const statement of statements.filter((s) => actionsOf(s).some((action) => action.startsWith('dynamodb:')))) {
        for (const [key, table] of Object.entries(synth.stateful.data.tables) as Array<[TableKey, OutreachData['customers']]>) {
          if (!resourcesOf(statement).some((resource) => flat(resource).includes(logicalIdOf(table)))) continue;
          access[key] = actionsOf(statement).includes('dynamodb:PutItem') ? 'readWrite' : 'read';
        }
      }
      return access;
    };

    it.each(FUNCTION_NAMES)('%s reaches exactly its tables, with exactly its access', (name) => {
      expect(tableAccess(roleStatements(name))).toEqual(EXPECTED_TABLE_ACCESS[name]);
    });

    it('the unsubscribe role cannot touch the campaigns table', () => {
      const campaigns = logicalIdOf(synth.stateful.data.campaigns);
      expect(roleStatements('unsubscribe').flatMap(resourcesOf).map(flat).filter((resource) => resource.includes(campaigns))).toEqual([]);
    });

    it('grants the touchpoints indexes by name, never index/*', () => {
      const touchpoints = roleStatements('dispatch-due').find((statement) => actionsOf(statement).includes('dynamodb:Query'));
      const table = `\${Import:${flat(synth.stateless.resolve(synth.stateful.data.touchpoints.tableArn)['Fn::ImportValue'] ?? '')}}`;
      expect(resourcesOf(touchpoints!).map(flat).sort()).toEqual([table, `${table}/index/byCustomer`, `${table}/index/byDue`].sort());
      for (const resource of allStatements(template).flatMap(resourcesOf).map(flat)) expect(resource).not.toMatch(/index\/\*$/);
    });

    it('allows no wildcard action anywhere (no dynamodb:*, no *)', () => {
      for (const action of allStatements(template).flatMap(actionsOf)) expect(action).not.toMatch(/(^|:)\*$/);
    });

    it('puts each table name in the environment of exactly the functions granted that table', () => {
      for (const name of FUNCTION_NAMES) {
        const variables = template.findResources('AWS::Lambda::Function')[fnId(name)]!.Properties.Environment.Variables as Record<string, unknown>;
        const tablesInEnv = (Object.keys(EXPECTED_TABLE_ACCESS[name]) as TableKey[]).map((key) => ENV[`${key}Table`]).sort();
        expect(Object.keys(variables).filter((variable) => variable.endsWith('_TABLE')).sort()).toEqual(tablesInEnv);
      }
    });

    it.each(FUNCTION_NAMES)('%s gets exactly the ENV variables its handler parses', (name) => {
      const handler = readFileSync(join(DEFAULT_FUNCTIONS_DIR, name, 'handler.ts'), 'utf8');
      const parsed = /parseEnv\(\{([\s\S]*?)\n\}\)/.exec(handler)?.[1];
      expect(parsed, 'the handler parses its environment with parseEnv({ ... })').toBeDefined();
      const wanted = [...parsed!.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]).sort();
      const variables = template.findResources('AWS::Lambda::Function')[fnId(name)]!.Properties.Environment.Variables as Record<string, unknown>;
      const given = Object.keys(variables).filter((variable) => (Object.values(ENV) as string[]).includes(variable)).sort();
      expect(given).toEqual(wanted);
    });

    it('lets only render-email and unsubscribe read the link secret, which is 64 generated characters', () => {
      const readers = FUNCTION_NAMES.filter((name) => roleStatements(name).some((statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue')));
      expect(readers).toEqual(['render-email', 'unsubscribe']);
      template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 64 }) });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Outreach: unsubscribe',
        Environment: { Variables: Match.objectLike({ [ENV.linkSecretArn]: { Ref: Match.stringLikeRegexp('LinkSigningSecret') } }) },
      });
    });

    it('lets dispatch-due start exactly the workflows it is given in WORKFLOW_ARNS', () => {
      const start = roleStatements('dispatch-due').filter((statement) => actionsOf(statement).some((action) => action.startsWith('states:')));
      expect(start).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: machineId() } }]);
      const workflowArns = new Capture();
      template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [ENV.workflowArns]: workflowArns }) } });
      expect(flat(workflowArns.asObject())).toBe(`{"check-in":"\${${machineId()}}"}`);
    });

    it('gives ses:SendEmail to the workflow only: on the sender identities and the configuration set, from the sender address', () => {
      const senders = allStatements(template).filter((statement) => actionsOf(statement).some((action) => action.startsWith('ses:')));
      expect(senders).toHaveLength(1);
      const [send] = senders;
      expect(roleStatements('render-email')).not.toContainEqual(send);
      const configurationSet = logicalIdOf(synth.stateless.runtime.sending.configurationSet);
      expect(send).toMatchObject({ Effect: 'Allow', Action: 'ses:SendEmail', Condition: { StringEquals: { 'ses:FromAddress': SENDER } } });
      const arns = resourcesOf(send!).map(flat).map((arn) => arn.replace('${AWS::Partition}', 'aws'));
      expect(arns.sort()).toEqual(
        [
          'arn:aws:ses:eu-west-1:123456789012:identity/outreach@shop.example',
          'arn:aws:ses:eu-west-1:123456789012:identity/shop.example',
          `arn:aws:ses:eu-west-1:123456789012:configuration-set/\${${configurationSet}}`,
        ].sort(),
      );
      const machineRole = logicalIdOf(synth.stateless.runtime.stateMachines['check-in'].role);
      expect(statementsOfRole(template, machineRole)).toContainEqual(send);
    });
  });

  describe('workflows', () => {
    const machine = (kind: string) =>
      template.findResources('AWS::StepFunctions::StateMachine')[logicalIdOf(synth.stateless.runtime.stateMachines[kind as keyof typeof WORKFLOWS])]!.Properties;

    it.each(Object.keys(WORKFLOWS))('%s is a Standard state machine with ALL-level logs without execution data, and tracing', (kind) => {
      expect(machine(kind)).toMatchObject({
        StateMachineType: 'STANDARD',
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [expect.anything()] },
        TracingConfiguration: { Enabled: true },
      });
      const logGroup = flat(machine(kind).LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn).replace(/^\$\{(\w+)\.Arn\}$/, '$1');
      expect(template.findResources('AWS::Logs::LogGroup')[logGroup]?.Properties.LogGroupName).toMatch(/^\/aws\/vendedlogs\/states\//);
    });

    it.each(Object.entries(WORKFLOWS))('%s: substitutions leave no ${…} in the definition, which times out within 5 minutes', (kind, file) => {
      const values = machine(kind).DefinitionSubstitutions as Record<string, unknown>;
      for (const [placeholder, target] of Object.entries(values)) {
        expect(target).toEqual({ 'Fn::GetAtt': [fnId(WORKFLOW_FUNCTION_PLACEHOLDERS[placeholder]!), 'Arn'] });
      }
      const text = readFileSync(join(DEFAULT_WORKFLOWS_DIR, `${file}.asl.json`), 'utf8');
      const substituted = text.replaceAll(/\$\{(\w+)\}/g, (match, key: string) => (key in values ? `arn:aws:lambda:eu-west-1:123456789012:function:${key}` : match));
      expect(substituted).not.toContain('${');
      expect(JSON.parse(substituted).TimeoutSeconds).toBeLessThanOrEqual(300);
    });

    it('invokes exactly the functions of its placeholders, by unqualified ARN', () => {
      const machineRole = logicalIdOf(synth.stateless.runtime.stateMachines['check-in'].role);
      const invoke = statementsOfRole(template, machineRole).filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'));
      expect(invoke).toHaveLength(1);
      const expected = Object.values(WORKFLOW_FUNCTION_PLACEHOLDERS).map((name) => ({ 'Fn::GetAtt': [fnId(name), 'Arn'] }));
      expect(resourcesOf(invoke[0]!)).toEqual(expect.arrayContaining(expected));
      expect(resourcesOf(invoke[0]!)).toHaveLength(expected.length);
    });
  });

  describe('triggers', () => {
    it.each(EVENT_RULES.map((rule) => [rule.name, rule] as const))('rule %s routes its source to its function, with retries and a DLQ', (_, rule) => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: rule.bus === 'default' ? 'default' : { 'Fn::ImportValue': Match.stringLikeRegexp('EventBus') },
        EventPattern: { source: [rule.source ?? 'outreach.commerce'], 'detail-type': rule.detailTypes },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [fnId(rule.target), 'Arn'] },
            DeadLetterConfig: { Arn: dlqArn() },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          }),
        ],
      });
    });

    it('sends an event the ingest function keeps failing on to the dead-letter queue after 2 retries', () => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fnId('ingest-event') },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: dlqArn() } },
      });
    });

    it.each(SCHEDULES.map((schedule) => [schedule.name, schedule] as const))('schedule %s passes {scheduledTime}, retries, and has a DLQ', (_, schedule) => {
      const input = new Capture();
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: schedule.expression,
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId(schedule.target), 'Arn'] },
          Input: input,
          DeadLetterConfig: { Arn: dlqArn() },
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        }),
      });
      expect(JSON.parse(input.asString())).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>' });
    });

    it('lets the scheduler invoke the unqualified function only', () => {
      const invokes = allStatements(template).filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'));
      for (const resource of invokes.flatMap(resourcesOf).map(flat)) expect(resource).not.toMatch(/:\*$/);
    });

    it('keeps dead letters 14 days, encrypted, TLS only', () => {
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });
  });

  describe('HTTP API', () => {
    it.each(HTTP_ROUTES.map((route) => `${route.method} ${route.path}`))('serves %s', (routeKey) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey });
    });

    it('logs access without personal data and throttles the default stage', () => {
      const format = new Capture();
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: format },
      });
      expect(format.asString()).not.toMatch(/sourceIp|path|querystring/i);
    });

    it('makes the API endpoint the PUBLIC_BASE_URL of the links render-email writes, when none is configured', () => {
      const variables = template.findResources('AWS::Lambda::Function')[fnId('render-email')]!.Properties.Environment.Variables;
      expect(variables[ENV.publicBaseUrl]).toEqual({ 'Fn::GetAtt': [logicalIdOf(synth.stateless.runtime.httpApi), 'ApiEndpoint'] });
    });
  });

  describe('SES', () => {
    it('requires TLS and records reputation metrics in the configuration set', () => {
      template.hasResourceProperties('AWS::SES::ConfigurationSet', {
        DeliveryOptions: { TlsPolicy: 'REQUIRE' },
        ReputationOptions: { ReputationMetricsEnabled: true },
      });
      template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'shop.example' });
    });

    it('tells render-email the sender and configuration set', () => {
      const configurationSet = logicalIdOf(synth.stateless.runtime.sending.configurationSet);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Outreach: render-email',
        Environment: { Variables: Match.objectLike({ [ENV.senderAddress]: SENDER, [ENV.configurationSet]: { Ref: configurationSet } }) },
      });
    });
  });

  describe('alarms', () => {
    const alarmsOn = (metricName: string) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) => JSON.stringify(alarm.Properties).includes(`"${metricName}"`));

    it('alarms on any dead letter, any function error and any failed execution', () => {
      expect(alarmsOn('ApproximateNumberOfMessagesVisible')).toHaveLength(1);
      expect(alarmsOn('Errors')).toHaveLength(FUNCTION_NAMES.length);
      expect(alarmsOn('ExecutionsFailed')).toHaveLength(Object.keys(WORKFLOWS).length);
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [{ Ref: expect.stringMatching(/AlarmsTopic/) }] });
      }
    });

    it('sends alarms to an encrypted, TLS-only topic with the alert address subscribed', () => {
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: SETTINGS['outreach:alertEmail'] });
    });
  });

  it('outputs the bus name, API URL, dead-letter queue URL and mailbox setup', () => {
    for (const output of ['EventBusName', 'ApiUrl', 'PublicBaseUrl', 'DeadLetterQueueUrl', 'MailboxSetup', 'DkimRecord1']) template.hasOutput(output, Match.anyValue());
  });
});

describe('runtime props validation', () => {
  const runtime = (props: Partial<ConstructorParameters<typeof OutreachRuntime>[2]>) => () => {
    const stack = new Stack();
    new OutreachRuntime(stack, 'Runtime', { data: new OutreachData(stack, 'Data'), senderAddress: SENDER, ...props });
  };

  it('refuses an SES identity that does not cover the sender', () => {
    expect(runtime({ sesIdentity: 'other.example' })).toThrowError('sesIdentity "other.example" does not cover senderAddress "outreach@shop.example"');
  });

  it('refuses out-of-range shards, a plain-http base URL and an AWS event source, all at once', () => {
    expect(runtime({ dispatchShards: 0, publicBaseUrl: 'http://x.example', eventSource: 'aws.s3' })).toThrowError(
      /dispatchShards must be an integer from 1 to 64, got 0\n.*publicBaseUrl must be an https:\/\/ URL.*\n.*eventSource "aws.s3" is reserved/,
    );
  });
});
