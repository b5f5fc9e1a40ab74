import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_WORKFLOWS,
  DETAIL_TYPES,
  detailPattern,
  ENV,
  EVENT_RULES,
  FUNCTION_NAMES,
  type FunctionName,
  HTTP_ROUTES,
  PRODUCT_EVENT_SOURCE,
  SCHEDULES,
  WORKFLOWS,
  WORKFLOW_FUNCTION_PLACEHOLDERS,
  type WorkflowName,
} from '../../core/topology.ts';
import { InvalidTargetsError, loadTargetsFile } from '../../core/metrics/targets.ts';
import { OutreachData, type TableKey } from '../../lib/constructs/outreach-data.ts';
import { OUTREACH_RUNTIME } from '../../lib/constructs/outreach-function.ts';
import { OutreachRuntime } from '../../lib/constructs/outreach-runtime.ts';
import { EVENT_BUS_PLACEHOLDER } from '../../lib/constructs/workflow-definition.ts';
import { DEFAULT_FUNCTIONS_DIR, DEFAULT_TARGETS_FILE, DEFAULT_WORKFLOWS_DIR } from '../../lib/paths.ts';
import { SETTINGS, synthOutreach } from './support.ts';
import { actionsOf, allStatements, flat, isCampaignSeedProvider, logicalIdOf, productFunctions, resourcesOf, statementsOfRole, type Statement } from './template-helpers.ts';

const SENDER = SETTINGS['outreach:senderAddress'];

describe('stateless stack', () => {
  let synth: ReturnType<typeof synthOutreach>;
  let template: Template;
  const fnId = (name: FunctionName) => logicalIdOf(synth.stateless.runtime.functions[name]);
  const roleStatements = (name: FunctionName) => statementsOfRole(template, logicalIdOf(synth.stateless.runtime.functions[name].role!));
  const machineIdOf = (workflow: WorkflowName) => logicalIdOf(synth.stateless.runtime.stateMachines[workflow]);
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
      const dispatchFunction = template.toJSON().Resources[fnId('dispatch-due')];
      // Invoked only by workflows and SES's events: traced inside their caller's trace, never a trace of their own.
      const upstreamOnly: FunctionName[] = ['check-eligibility', 'render-email', 'send-email', 'record-outcome', 'detractor-alert'];
      for (const fn of functions) {
        expect(fn.Properties).toMatchObject({
          Runtime: OUTREACH_RUNTIME.name,
          Architectures: ['arm64'],
          MemorySize: fn === dispatchFunction ? 1769 : 256,
          TracingConfig: { Mode: upstreamOnly.some((name) => fn === template.toJSON().Resources[fnId(name)]) ? 'PassThrough' : 'Active' },
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
      'ingest-event': { customers: 'readWrite', touchpoints: 'readWrite', campaigns: 'read', metrics: 'readWrite' },
      'dispatch-due': { touchpoints: 'readWrite' },
      'check-eligibility': { customers: 'read', touchpoints: 'read', campaigns: 'read', responses: 'read', contracts: 'read' },
      'render-email': { campaigns: 'read' },
      'send-email': { touchpoints: 'readWrite' },
      'record-outcome': { touchpoints: 'readWrite', metrics: 'readWrite' },
      unsubscribe: { customers: 'readWrite', touchpoints: 'readWrite' },
      'survey-answer': { touchpoints: 'readWrite', campaigns: 'read', responses: 'readWrite', surveyAggregates: 'readWrite', metrics: 'readWrite' },
      'settle-responses': {
        responses: 'readWrite',
        surveyAggregates: 'readWrite',
        metrics: 'readWrite',
        touchpoints: 'readWrite',
        contracts: 'readWrite',
        customers: 'readWrite',
      },
      'detractor-alert': { responses: 'read', customers: 'read', touchpoints: 'read' },
      'contract-events': { contracts: 'readWrite', customers: 'readWrite', touchpoints: 'readWrite', campaigns: 'read', metrics: 'readWrite' },
      'renewal-sweep': { contracts: 'readWrite', touchpoints: 'readWrite', campaigns: 'read', customers: 'read', metrics: 'readWrite' },
      'metrics-api': { metrics: 'read', surveyAggregates: 'read' },
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
      expect(resourcesOf(touchpoints!).map(flat).sort()).toEqual(
        [table, `${table}/index/byCustomer`, `${table}/index/byDue`, `${table}/index/byPendingCounts`].sort(),
      );
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
      const readersOf = (secret: string) =>
        FUNCTION_NAMES.filter((name) =>
          roleStatements(name).some(
            (statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue') && resourcesOf(statement).some((resource) => flat(resource).includes(secret)),
          ),
        );
      expect(readersOf(logicalIdOf(synth.stateless.runtime.linkSecret))).toEqual(['render-email', 'unsubscribe']);
      expect(readersOf(logicalIdOf(synth.stateless.runtime.surveyKeyring))).toEqual(['render-email', 'survey-answer']);
      template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 64 }) });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Outreach: unsubscribe',
        Environment: { Variables: Match.objectLike({ [ENV.linkSecretArn]: { Ref: Match.stringLikeRegexp('LinkSigningSecret') } }) },
      });
    });

    it('lets only metrics-api read the metrics token, a generated secret it gets by ARN, and gives it the parsed targets file', () => {
      const token = logicalIdOf(synth.stateless.runtime.metricsToken);
      const readers = FUNCTION_NAMES.filter((name) =>
        roleStatements(name).some(
          (statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue') && resourcesOf(statement).some((resource) => flat(resource).includes(token)),
        ),
      );
      expect(readers).toEqual(['metrics-api']);
      expect(template.findResources('AWS::SecretsManager::Secret')[token]!.Properties.GenerateSecretString).toEqual({ PasswordLength: 48, ExcludePunctuation: true });
      const variables = template.findResources('AWS::Lambda::Function')[fnId('metrics-api')]!.Properties.Environment.Variables as Record<string, unknown>;
      expect(variables[ENV.metricsTokenArn]).toEqual({ Ref: token });
      expect(JSON.parse(String(variables[ENV.metricTargets]))).toEqual(loadTargetsFile(DEFAULT_TARGETS_FILE));
    });

    it('lets dispatch-due start exactly the workflows it is given in WORKFLOW_ARNS', () => {
      const kinds = Object.keys(WORKFLOWS) as Array<keyof typeof WORKFLOWS>;
      const start = roleStatements('dispatch-due').filter((statement) => actionsOf(statement).some((action) => action.startsWith('states:')));
      expect(start.map((statement) => ({ ...statement, Resource: resourcesOf(statement).map(flat).sort() }))).toEqual([
        { Effect: 'Allow', Action: 'states:StartExecution', Resource: kinds.map((kind) => `\${${machineIdOf(kind)}}`).sort() },
      ]);
      const workflowArns = new Capture();
      template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [ENV.workflowArns]: workflowArns }) } });
      // The touchpoint kinds' machines only: event workflows (close-the-loop) are started by their rule, never by dispatch-due.
      expect(JSON.parse(flat(workflowArns.asObject()))).toEqual(Object.fromEntries(kinds.map((kind) => [kind, `\${${machineIdOf(kind)}}`])));
    });

    it('gives ses:SendEmail to send-email and close-the-loop only: on the sender identities and the configuration set, from the sender address', () => {
      const senders = allStatements(template).filter((statement) => actionsOf(statement).includes('ses:SendEmail'));
      // One grant, repeated in the role of each sender, and in no other function's role.
      expect(new Set(senders.map((statement) => JSON.stringify(statement))).size).toBe(1);
      const [send] = senders;
      for (const name of FUNCTION_NAMES) {
        if (name === 'send-email') expect(roleStatements(name)).toContainEqual(send);
        else expect(roleStatements(name)).not.toContainEqual(send);
      }
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
      expect(statementsOfRole(template, logicalIdOf(synth.stateless.runtime.stateMachines['close-the-loop'].role))).toContainEqual(send);
      expect(statementsOfRole(template, logicalIdOf(synth.stateless.runtime.stateMachines['check-in'].role))).not.toContainEqual(send);
    });

    it('gives ses:GetAccount (the send rate) to dispatch-due only', () => {
      const readers = FUNCTION_NAMES.filter((name) => roleStatements(name).some((statement) => actionsOf(statement).includes('ses:GetAccount')));
      expect(readers).toEqual(['dispatch-due']);
    });
  });

  describe('workflows', () => {
    const machine = (kind: string) => template.findResources('AWS::StepFunctions::StateMachine')[machineIdOf(kind as WorkflowName)]!.Properties;
    const machineStatements = (kind: WorkflowName) => statementsOfRole(template, logicalIdOf(synth.stateless.runtime.stateMachines[kind].role));
    const busName = () => synth.stateless.resolve(synth.stateful.data.eventBus.eventBusName) as { 'Fn::ImportValue'?: unknown };

    it.each(Object.keys(ALL_WORKFLOWS))('%s is an Express (send) or Standard (event) state machine with ERROR-level logs (the default) without execution data, and tracing', (kind) => {
      expect(machine(kind)).toMatchObject({
        StateMachineType: kind in WORKFLOWS ? 'EXPRESS' : 'STANDARD',
        LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false, Destinations: [expect.anything()] },
        TracingConfiguration: { Enabled: true },
      });
      const logGroup = flat(machine(kind).LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn).replace(/^\$\{(\w+)\.Arn\}$/, '$1');
      expect(template.findResources('AWS::Logs::LogGroup')[logGroup]?.Properties.LogGroupName).toMatch(/^\/aws\/vendedlogs\/states\//);
    });

    it.each(Object.entries(ALL_WORKFLOWS))('%s: substitutions leave no ${…} in the definition, which times out within 5 minutes', (kind, file) => {
      const values = machine(kind).DefinitionSubstitutions as Record<string, unknown>;
      for (const [placeholder, target] of Object.entries(values)) {
        if (placeholder === EVENT_BUS_PLACEHOLDER) expect(target).toEqual({ 'Fn::ImportValue': busName()['Fn::ImportValue'] });
        else expect(target).toEqual({ 'Fn::GetAtt': [fnId(WORKFLOW_FUNCTION_PLACEHOLDERS[placeholder]!), 'Arn'] });
      }
      const text = readFileSync(join(DEFAULT_WORKFLOWS_DIR, `${file}.asl.json`), 'utf8');
      const substituted = text.replaceAll(/\$\{(\w+)\}/g, (match, key: string) => (key in values ? `arn:aws:lambda:eu-west-1:123456789012:function:${key}` : match));
      expect(substituted).not.toContain('${');
      expect(JSON.parse(substituted).TimeoutSeconds).toBeLessThanOrEqual(300);
    });

    it.each(Object.entries(ALL_WORKFLOWS))('%s invokes exactly the functions of its placeholders, by unqualified ARN', (kind, file) => {
      const invoke = machineStatements(kind as WorkflowName).filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'));
      expect(invoke).toHaveLength(1);
      const text = readFileSync(join(DEFAULT_WORKFLOWS_DIR, `${file}.asl.json`), 'utf8');
      const names = [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((match) => WORKFLOW_FUNCTION_PLACEHOLDERS[match[1]!]).filter((name) => name !== undefined))];
      const expected = names.map((name) => ({ 'Fn::GetAtt': [fnId(name), 'Arn'] }));
      expect(expected.length).toBeGreaterThan(0);
      expect(resourcesOf(invoke[0]!)).toEqual(expect.arrayContaining(expected));
      expect(resourcesOf(invoke[0]!)).toHaveLength(expected.length);
    });

    it('lets close-the-loop put events on the product bus only, and gives it the bus by name', () => {
      const put = machineStatements('close-the-loop').filter((statement) => actionsOf(statement).some((action) => action.startsWith('events:')));
      expect(put).toHaveLength(1);
      expect(put[0]).toMatchObject({ Effect: 'Allow', Action: 'events:PutEvents' });
      expect(resourcesOf(put[0]!).map(flat)).toEqual([flat(synth.stateless.resolve(synth.stateful.data.eventBus.eventBusArn))]);
      expect(busName()['Fn::ImportValue']).toBeDefined();
      expect(machine('close-the-loop').DefinitionSubstitutions[EVENT_BUS_PLACEHOLDER]).toEqual(busName());
      for (const kind of Object.keys(WORKFLOWS) as WorkflowName[]) {
        expect(machineStatements(kind).flatMap(actionsOf).filter((action) => action.startsWith('events:'))).toEqual([]);
      }
    });
  });

  describe('triggers', () => {
    it.each(EVENT_RULES.map((rule) => [rule.name, rule] as const))('rule %s routes its source to its function or workflow, with retries and a DLQ', (_, rule) => {
      const { target } = rule;
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: rule.bus === 'default' ? 'default' : { 'Fn::ImportValue': Match.stringLikeRegexp('EventBus') },
        EventPattern: {
          source: [rule.source ?? 'outreach.commerce'],
          'detail-type': rule.detailTypes,
          ...(rule.detailExists || rule.detailAnyOf ? { detail: detailPattern(rule) } : {}),
        },
        Targets: [
          Match.objectLike({
            Arn: typeof target === 'string' ? { 'Fn::GetAtt': [fnId(target), 'Arn'] } : { Ref: machineIdOf(target.workflow) },
            DeadLetterConfig: { Arn: dlqArn() },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          }),
        ],
      });
    });

    it("settles sends from SES's Send events only when they carry a touchpoint id (alerts and test sends do not)", () => {
      const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.EventPattern['detail-type'][0] === DETAIL_TYPES.emailSent);
      expect(rule?.Properties.EventPattern.detail).toEqual({ mail: { tags: { touchpointId: [{ exists: true }] } } });
    });

    it("starts a close-the-loop execution per detractor's Survey Answered event, with the whole event, through a role that may start only that", () => {
      const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.Targets[0].Arn.Ref === machineIdOf('close-the-loop'));
      expect(rule?.Properties.EventPattern).toEqual({
        source: [PRODUCT_EVENT_SOURCE],
        'detail-type': [DETAIL_TYPES.surveyAnswered],
        detail: {
          $or: [
            { kind: ['nps'], score: [{ numeric: ['<=', 6] }] },
            { kind: ['csat'], score: [{ numeric: ['<=', 2] }] },
            { kind: ['ces'], score: [{ numeric: ['<=', 2] }] },
          ],
        },
      });
      const target = rule!.Properties.Targets[0];
      expect(target.Input ?? target.InputPath ?? target.InputTransformer).toBeUndefined();
      const role = flat(target.RoleArn).replace(/^\$\{(\w+)\.Arn\}$/, '$1');
      const start = statementsOfRole(template, role).filter((statement) => actionsOf(statement).includes('states:StartExecution'));
      expect(start).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: machineIdOf('close-the-loop') } }]);
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

    it.each(HTTP_ROUTES.map((route) => [`${route.method} ${route.path}`, route.target] as const))('sends %s to %s', (routeKey, target) => {
      const route = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).find((r) => r.Properties.RouteKey === routeKey)!;
      const integrationId = flat(route.Properties.Target).replace(/^integrations\/\$\{(\w+)\}$/, '$1');
      const integration = template.findResources('AWS::ApiGatewayV2::Integration')[integrationId];
      expect(integration?.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::GetAtt': [fnId(target), 'Arn'] }, PayloadFormatVersion: '2.0' });
      // No API Gateway authorizer: the function authorizes each request (the link's HMAC, the metrics bearer token).
      expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    });

    it('logs access without personal data and throttles the default stage', () => {
      const format = new Capture();
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: format },
      });
      expect(format.asString()).not.toMatch(/sourceIp|path|querystring|header|authorization/i);
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
      expect(alarmsOn('ExecutionsFailed')).toHaveLength(Object.keys(ALL_WORKFLOWS).length);
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        const reputation = JSON.stringify(alarm.Properties).includes('"Outreach"');
        expect(alarm.Properties).toMatchObject({
          Threshold: reputation ? expect.any(Number) : 0,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: expect.stringMatching(/AlarmsTopic/) }],
        });
      }
    });

    it('alarms on the daily hard-bounce and complaint rates of the functions\' EMF metrics, below SES\'s review thresholds', () => {
      const rates = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) => JSON.stringify(alarm.Properties.Metrics ?? []).includes('"EmailsSent"'));
      const byMetric = (name: string) => rates.find((alarm) => JSON.stringify(alarm.Properties.Metrics).includes(`"${name}"`))!;
      expect(rates).toHaveLength(2);
      expect(byMetric('Bounces').Properties).toMatchObject({ Threshold: 4 });
      expect(byMetric('Complaints').Properties).toMatchObject({ Threshold: 0.08 });
      for (const alarm of rates) {
        expect(JSON.stringify(alarm.Properties.Metrics)).toContain('"EmailsSent"');
        expect(JSON.stringify(alarm.Properties.Metrics)).toContain('"service","Value":"outreach"');
      }
    });

    it('alarms when the oldest due touchpoint has waited longer than backlogAlarmMinutes for 3 minutes running', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Outreach',
        MetricName: 'OldestDueAgeSeconds',
        Dimensions: [{ Name: 'service', Value: 'outreach' }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 60 * 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmsTopic') }],
      });
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

  it('outputs the bus name, API URL, dead-letter queue URL, mailbox setup, dashboard URL and the metrics token secret', () => {
    for (const output of ['EventBusName', 'ApiUrl', 'PublicBaseUrl', 'DeadLetterQueueUrl', 'MailboxSetup', 'DkimRecord1', 'DashboardUrl', 'MetricsTokenSecretName']) {
      template.hasOutput(output, Match.anyValue());
    }
    const token = logicalIdOf(synth.stateless.runtime.metricsToken);
    // The name the admin passes to `aws secretsmanager get-secret-value --secret-id` (docs/metrics.md).
    expect(template.findOutputs('MetricsTokenSecretName').MetricsTokenSecretName!.Value).toEqual(synth.stateless.resolve(synth.stateless.runtime.metricsToken.secretName));
    expect(JSON.stringify(template.findOutputs('MetricsTokenSecretName'))).toContain(`{"Ref":"${token}"}`);
    expect(flat(template.findOutputs('DashboardUrl').DashboardUrl!.Value)).toBe(`\${${logicalIdOf(synth.stateless.runtime.httpApi)}.ApiEndpoint}/dashboard`);
  });
});

describe('observability from context', () => {
  it('outreach:tracing=off and outreach:workflowLogLevel=ALL reach every function and state machine, with no X-Ray grant left', () => {
    // Prepare
    const { stateless } = synthOutreach({ context: { 'outreach:tracing': 'off', 'outreach:workflowLogLevel': 'ALL' } });

    // Act
    const template = Template.fromStack(stateless);
    const functions = productFunctions(template.findResources('AWS::Lambda::Function'));
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const xray = allStatements(template).filter((statement) => actionsOf(statement).some((action) => action.startsWith('xray:')));

    // Assess
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(fn.Properties.TracingConfig).toBeUndefined();
    expect(machines).toHaveLength(Object.keys(ALL_WORKFLOWS).length);
    for (const machine of machines) {
      expect(machine.Properties).toMatchObject({ LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false }, TracingConfiguration: { Enabled: false } });
    }
    expect(xray).toEqual([]);
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

  it('refuses a targets file with a problem, naming its file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outreach-targets-'));
    try {
      const file = join(dir, 'targets.yaml');
      writeFileSync(file, 'targets:\n  nps: { comparator: ">=", value: 30 }\n  csat: { comparator: ">=", value: 180 }\n');
      expect(runtime({ targetsFile: file })).toThrowError(
        new InvalidTargetsError([`${relative(process.cwd(), file)}:3 targets.csat.value: must be a number from 0 to 100, in percent`]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses out-of-range shards, a plain-http base URL and an AWS event source, all at once', () => {
    expect(runtime({ dispatchShards: 0, publicBaseUrl: 'http://x.example', eventSource: 'aws.s3' })).toThrowError(
      /dispatchShards must be an integer from 1 to 64, got 0\n.*publicBaseUrl must be an https:\/\/ URL.*\n.*eventSource "aws.s3" is reserved/,
    );
  });
});
