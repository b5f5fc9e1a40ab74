/**
 * The embedded local stack: the whole system on 127.0.0.1 with no Docker, no AWS account and no Java, running the
 * same workflows/*.asl.json and the same functions/<name>/handler.ts modules that AWS runs.
 *
 * Order matters: servers start first, then process.env points the standard `AWS_ENDPOINT_URL_<SERVICE>` variables
 * (and the ENV names from core/topology.ts) at them, and only then are the handler modules imported — they build
 * their SDK clients and parse their environment when they load.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as dynamodbCommands from '@aws-sdk/client-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as eventbridgeCommands from '@aws-sdk/client-eventbridge';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandOutput, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import * as sesv2Commands from '@aws-sdk/client-sesv2';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import {
  ALL_WORKFLOWS,
  DEFAULT_COMMERCE_EVENT_SOURCE,
  DEFAULT_DISPATCH_SHARDS,
  ENV,
  EVENT_RULES,
  FUNCTION_NAMES,
  HTTP_ROUTES,
  SCHEDULES,
  WORKFLOWS,
  type ScheduleSpec,
} from '../core/topology.ts';
import { loadTargetsFile } from '../core/metrics/targets.ts';
import { createApiGatewayServer } from './api-gateway.ts';
import { createAwsGateway, gatewayOperations } from './aws-gateway.ts';
import { LocalClock, parseIsoDuration } from './clock.ts';
import { DEFAULT_PORT_BASE, LOCAL_EVENT_BUS_NAME, PORT_OFFSETS } from './constants.ts';
import { createControlApi } from './control-api.ts';
import { createTables, localTableNames, pendingDueProbe, startDynamo, type TableNames } from './dynamodb.ts';
import { LocalEventBus } from './event-bus.ts';
import { closeServer, listen } from './http.ts';
import { handlerModuleLoader, LocalFunctions, LOCAL_REGION, type DeadLetter, type HandlerLoader } from './lambda-runtime.ts';
import { LocalScheduler, type AdvanceSummary } from './scheduler.ts';
import { countTouchpointsByStatus, readMailbox, summarise, type MailboxEmail, type StackSummary } from './observe.ts';
import { createLinkSecret, createMetricsTokenSecret, createSurveyKeyringSecret, LocalSecretsManager } from './secrets.ts';
import { startSes, type SesAcceptedSend, type SesFaults, type SesFrontStats } from './ses.ts';
import { LocalStepFunctions, stateMachineArn, type ExecutionRecord } from './step-functions.ts';
import { PRODUCT_FUNCTIONS } from './task-dispatch.ts';
import { loadWorkflow, localSubstitutions } from './workflow-loader.ts';
import { WorkTracker } from './work-tracker.ts';
import type { LocalMeter } from './meter.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Real milliseconds between SES's answer to a SendEmail and the sending events it publishes (AWS: seconds). */
const SES_EVENT_DELAY_MS = 50;

export interface LocalStackOptions {
  /** Ports are portBase (web), +1 (AWS gateway + control API), +2 (DynamoDB), +3 (SES). 0 = ephemeral ports. */
  portBase?: number;
  /** Virtual seconds per real second: 1 real time (default), N accelerated, 0 manual (moves only when advanced). */
  speed?: number;
  /** Virtual time at start (default: now). */
  startAt?: Date | string;
  /** Keep DynamoDB data and the link-signing secret on disk here (default: in memory). */
  dataDir?: string;
  /** Project root holding functions/, workflows/, campaigns/ (default: this repository). */
  rootDir?: string;
  /** The EventBridge source the rules match (default DEFAULT_COMMERCE_EVENT_SOURCE). */
  eventSource?: string;
  /** The product's bus, where the commerce rules are (default LOCAL_EVENT_BUS_NAME, 'outreach', as in AWS). */
  eventBusName?: string;
  dispatchShards?: number;
  senderAddress?: string;
  configurationSet?: string;
  /** Where detractor alerts go (CX_ADDRESS); default cx-team@shop.example, so they show in the mailbox. */
  cxAddress?: string;
  /** Real milliseconds a workflow retrier waits locally (default 10). */
  retryDelayMs?: number;
  /**
   * How long the functions keep the campaign rules (CAMPAIGN_CACHE_SECONDS; AWS: 60). Default 0: read on every use, so
   * a `campaigns apply` shows in the next event at any clock speed. Benchmarks that change no rule may cache them as AWS does.
   */
  campaignCacheSeconds?: number;
  /** Runs every Express execution twice, as Express's at-least-once delivery may (tests of the send claim). */
  expressRunsTwice?: boolean;
  /** Where log lines go (default console.log); `false` for silence. */
  log?: ((line: string) => void) | false;
  /** Loads campaign rules into the campaigns table after start (default: campaigns/ via core/campaigns). */
  loadCampaigns?: ((stack: LocalStack) => Promise<unknown>) | false;
  /** Handler modules (default: functions/<name>/handler.ts). Tests inject fixtures. */
  handlers?: HandlerLoader;
  /** The metric targets (default: <rootDir>/metrics/targets.yaml, else this repository's). */
  targetsFile?: string;
  /** Counts the billable operations of everything the stack runs (local/meter.ts, bench/cost.ts); default: none. */
  meter?: LocalMeter;
  /**
   * The local SES: maximum send rate in emails per second (default 14, real time), injected faults (docs/local-stack.md),
   * and a hook called for every SendEmail it accepted (bench/burst.ts reads the real-time accept rate from it).
   */
  ses?: { maxSendRate?: number; faults?: SesFaults; onAccepted?: (send: SesAcceptedSend) => void };
}

export interface LocalEndpoints {
  /** Public base URL: API Gateway routes (links in emails) and the index page. */
  web: string;
  /** EventBridge / Step Functions / Secrets Manager (AWS JSON protocol), and the control API under /_local/. */
  gateway: string;
  dynamodb: string;
  ses: string;
  /** aws-ses-v2-local's web page listing every email. */
  mailbox: string;
  control: string;
}

export type { MailboxEmail, StackSummary };

export interface AdvanceReport extends AdvanceSummary {
  executionsStarted: number;
  executionsFailed: number;
  emailsSent: number;
  deadLetters: number;
}

export interface LocalStack {
  endpoints: LocalEndpoints;
  /** The environment the handlers were loaded with. */
  env: Record<string, string>;
  tables: TableNames;
  workflowArns: Record<string, string>;
  linkSecretArn: string;
  /** The bearer token of GET /metrics (random per start). */
  metricsToken: string;
  /** The dashboard with the token in its fragment: `<web>/dashboard#token=<token>`. */
  dashboardUrl: string;
  clock: LocalClock;
  /** Clients pointed at the local stack, for tests and scripts. */
  clients: { dynamodb: DynamoDBClient; eventbridge: EventBridgeClient };
  /** PutEvents through the local bus with the real EventBridge client (the same path as any producer). */
  putEvents(entries: PutEventsRequestEntry[]): Promise<PutEventsCommandOutput>;
  /** Advances the clock by an ISO-8601 duration (or milliseconds), firing schedules; resolves once all work settled. */
  advance(by: string | number): Promise<AdvanceReport>;
  /** Waits until no event delivery, execution or scheduled invocation is in flight. */
  settle(): Promise<void>;
  mailbox(): Promise<MailboxEmail[]>;
  deadLetters(): DeadLetter[];
  executions(): ExecutionRecord[];
  summary(): Promise<StackSummary>;
  /** The meter given in the options, if any. */
  meter?: LocalMeter;
  /** What the local SES did with SendEmail calls: accepted, throttled, reset, dropped (local/ses-front.ts). */
  sesStats(): SesFrontStats;
  stop(): Promise<void>;
}

/** Handler modules read their environment once; a second stack in one process would talk to the first one's ports. */
let handlersLoadedWith: string | undefined;

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const rootDir = options.rootDir ?? PROJECT_ROOT;
  const log = options.log === false ? () => {} : (options.log ?? ((line: string) => console.log(line)));
  const portBase = options.portBase ?? DEFAULT_PORT_BASE;
  const port = (offset: number) => (portBase === 0 ? 0 : portBase + offset);
  const startAt = options.startAt === undefined ? undefined : new Date(options.startAt);
  const clock = new LocalClock({ speed: options.speed ?? 1, ...(startAt ? { start: startAt } : {}) });
  const stamp = (line: string) => log(`[${clock.nowIso().slice(0, 19)}Z] ${line}`);
  const tracker = new WorkTracker();
  const cleanups: Array<() => Promise<void> | void> = [];

  try {
    // 1. Servers that need nothing from us.
    const meter = options.meter;
    const dynamo = await startDynamo({ port: port(PORT_OFFSETS.dynamodb), ...(options.dataDir ? { dataDir: options.dataDir } : {}), ...(meter ? { meter } : {}) });
    cleanups.push(() => dynamo.close());
    // Every SendEmail SES accepts, whoever sent it: its local-clock send time, and the events SES would publish.
    const sentAt = new Map<string, string>();
    const ses = await startSes({
      port: port(PORT_OFFSETS.ses),
      ...(options.ses?.maxSendRate === undefined ? {} : { maxSendRate: options.ses.maxSendRate }),
      ...(options.ses?.faults ? { faults: options.ses.faults } : {}),
      now: () => clock.now(),
      onAccepted: (send) => {
        sentAt.set(send.messageId, send.at.toISOString());
        stamp(`✉ SES accepted ${send.messageId}${send.dropped ? ' (answer dropped: injected fault)' : ''}`);
        options.ses?.onAccepted?.(send);
      },
      // SES publishes its sending events seconds after it answered, so the sender has usually recorded the send before
      // the Send event arrives. Locally they follow the answer by SES_EVENT_DELAY_MS of real time (tracked work, so an
      // advance waits for them), not before it: otherwise every Send event would race the workflow's RecordSent.
      onEvents: (entries) =>
        void tracker.track(
          new Promise<void>((resolve) => setTimeout(resolve, SES_EVENT_DELAY_MS)).then(() => {
            bus.putEvents(entries.map((e) => ({ ...e, Time: (e.Time as Date).getTime() / 1000 })));
          }),
        ),
    });
    cleanups.push(() => ses.close());

    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const clientConfig = (endpoint: string) => ({ region: LOCAL_REGION, endpoint, credentials, maxAttempts: 1 });
    const dynamodb = new DynamoDBClient(clientConfig(dynamo.endpoint));
    const sesv2 = new SESv2Client(clientConfig(ses.endpoint));
    cleanups.push(() => dynamodb.destroy(), () => sesv2.destroy());

    const tables = localTableNames();
    await createTables(dynamodb, tables);
    const linkSecret = createLinkSecret(options.dataDir);
    const surveyKeyring = createSurveyKeyringSecret(options.dataDir);
    const metricsToken = createMetricsTokenSecret();
    const projectTargets = join(PROJECT_ROOT, 'metrics', 'targets.yaml');
    const targetsFile = options.targetsFile ?? [join(rootDir, 'metrics', 'targets.yaml')].find((file) => existsSync(file)) ?? projectTargets;
    // Parsed as at synth (a bad file stops the start with file:line), then handed over as AWS does: JSON in the env.
    const metricTargets = JSON.stringify(loadTargetsFile(targetsFile));
    const shards = options.dispatchShards ?? DEFAULT_DISPATCH_SHARDS;

    // 2. The pieces of the local AWS: functions, bus, Step Functions, Secrets Manager.
    const functions = new LocalFunctions({ load: options.handlers ?? handlerModuleLoader(rootDir), clock, tracker, log: stamp, ...(meter ? { meter } : {}) });
    const bus = new LocalEventBus({
      ...(meter ? { meter } : {}),
      clock,
      productBusName: options.eventBusName ?? LOCAL_EVENT_BUS_NAME,
      rules: EVENT_RULES,
      commerceSource: options.eventSource ?? DEFAULT_COMMERCE_EVENT_SOURCE,
      deliver: (target, event, rule) => void functions.invokeAsync(target, event, rule),
      // One execution per event, named by the event id: a redelivered event starts nothing new (ExecutionAlreadyExists).
      startWorkflow: (workflow, event, rule) => {
        try {
          stepFunctions.startExecution({ stateMachineArn: stateMachineArn(ALL_WORKFLOWS[workflow]), name: event.id, input: JSON.stringify(event) });
        } catch (error) {
          stamp(`✗ ${rule}: could not start workflow ${workflow} for event ${event.id}: ${(error as Error).name}: ${(error as Error).message}`);
        }
      },
      log: stamp,
    });
    let eventbridgeForTasks: EventBridgeClient | undefined;
    const stepFunctions = new LocalStepFunctions({
      ...(meter ? { meter } : {}),
      clock,
      tracker,
      retryDelayMs: options.retryDelayMs ?? 10,
      ...(options.expressRunsTwice ? { expressRunsTwice: true } : {}),
      log: stamp,
      services: {
        invokeFunction: (name, payload) => functions.invoke(name, payload),
        knownFunctions: options.handlers ? undefined : PRODUCT_FUNCTIONS,
        putEvents: (entries) => bus.putEvents(entries),
        sdk: {
          sesv2: { errorPrefix: 'SesV2', client: sesv2, commands: sesv2Commands },
          dynamodb: { errorPrefix: 'DynamoDb', client: dynamodb, commands: dynamodbCommands },
          eventbridge: {
            errorPrefix: 'EventBridge',
            client: { send: (command: never) => eventbridgeForTasks!.send(command) },
            commands: eventbridgeCommands,
          },
        },
      },
    });
    const workflowArns: Record<string, string> = {};
    // One local state machine per workflow file (AWS has one per kind); the event workflows are started by bus rules.
    const substitutions = localSubstitutions(options.eventBusName ?? LOCAL_EVENT_BUS_NAME);
    const registered = new Map<string, string>();
    // The touchpoint kinds' send workflows are Express in AWS (lib/constructs/outreach-workflows.ts), the event workflows Standard.
    const express = new Set<string>(Object.values(WORKFLOWS));
    for (const file of new Set(Object.values(ALL_WORKFLOWS))) {
      registered.set(file, stepFunctions.register(file, loadWorkflow(rootDir, file, substitutions), express.has(file) ? 'EXPRESS' : 'STANDARD'));
    }
    for (const [kind, file] of Object.entries(WORKFLOWS)) workflowArns[kind] = registered.get(file)!;
    const secrets = new LocalSecretsManager([linkSecret, surveyKeyring, metricsToken], meter);

    // 3. Our servers: the AWS JSON-protocol gateway (+ control API) and the web server (API Gateway).
    let stack: LocalStack | undefined;
    let dashboardUrl = '';
    const gatewayServer = createAwsGateway(
      gatewayOperations({ bus, stepFunctions, secrets }),
      createControlApi(() => stack!, bus),
      stamp,
    );
    const gatewayPort = await listen(gatewayServer, port(PORT_OFFSETS.gateway));
    cleanups.push(() => closeServer(gatewayServer));
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const webServer = createApiGatewayServer({
      ...(meter ? { meter } : {}),
      routes: HTTP_ROUTES,
      invoke: (target, event) => functions.invoke(target, event),
      nowMs: () => clock.nowMs(),
      links: () => [
        { label: 'Mailbox (every email sent)', href: `${ses.endpoint}/` },
        { label: 'Metrics dashboard', href: dashboardUrl },
        { label: 'Executions', href: `${gatewayUrl}/_local/executions` },
        { label: 'Dead letters', href: `${gatewayUrl}/_local/dead-letters` },
        { label: 'Clock', href: `${gatewayUrl}/_local/clock`, note: `${clock.mode}, now ${clock.nowIso()}` },
        { label: 'Events received', href: `${gatewayUrl}/_local/events` },
        { label: 'Summary', href: `${gatewayUrl}/_local/summary` },
      ],
      log: stamp,
    });
    const webPort = await listen(webServer, port(PORT_OFFSETS.web));
    cleanups.push(() => closeServer(webServer));
    const webUrl = `http://127.0.0.1:${webPort}`;
    dashboardUrl = `${webUrl}/dashboard#token=${encodeURIComponent(metricsToken.value)}`;

    const eventbridge = new EventBridgeClient(clientConfig(gatewayUrl));
    eventbridgeForTasks = eventbridge;
    cleanups.push(() => eventbridge.destroy());

    // 4. The environment every handler reads when its module loads, then the handlers themselves.
    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_SFN: gatewayUrl,
      AWS_ENDPOINT_URL_EVENTBRIDGE: gatewayUrl,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: gatewayUrl,
      [ENV.customersTable]: tables.customers,
      [ENV.touchpointsTable]: tables.touchpoints,
      [ENV.campaignsTable]: tables.campaigns,
      [ENV.workflowArns]: JSON.stringify(workflowArns),
      [ENV.dispatchShards]: String(shards),
      [ENV.senderAddress]: options.senderAddress ?? 'Outreach Demo <hello@shop.example>',
      [ENV.configurationSet]: options.configurationSet ?? 'outreach-local',
      [ENV.publicBaseUrl]: webUrl,
      [ENV.linkSecretArn]: linkSecret.arn,
      [ENV.contractsTable]: tables.contracts,
      [ENV.responsesTable]: tables.responses,
      [ENV.surveyAggregatesTable]: tables.surveyAggregates,
      [ENV.surveyKeyringArn]: surveyKeyring.arn,
      [ENV.metricsTable]: tables.metrics,
      [ENV.metricsTokenArn]: metricsToken.arn,
      [ENV.metricTargets]: metricTargets,
      [ENV.eventBusName]: options.eventBusName ?? LOCAL_EVENT_BUS_NAME,
      [ENV.cxAddress]: options.cxAddress ?? 'cx-team@shop.example',
      // Read the rules on every use, so `campaigns apply` against the local stack shows in the next event at any clock speed.
      [ENV.campaignCacheSeconds]: String(options.campaignCacheSeconds ?? 0),
    };
    if (!options.handlers) {
      const fingerprint = JSON.stringify(env);
      if (handlersLoadedWith !== undefined && handlersLoadedWith !== fingerprint) {
        throw new Error('the handler modules were already loaded by another local stack in this process (with other endpoints); start one stack per process');
      }
      handlersLoadedWith = fingerprint;
    }
    delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
    delete process.env.AWS_SESSION_TOKEN;
    Object.assign(process.env, env);
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    // The functions' CloudWatch metrics (EMF lines on stdout) have no CloudWatch to go to here; the summary counts.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    if (!options.handlers) {
      for (const name of FUNCTION_NAMES) await functions.load(name);
    }

    // 5. Schedules against the local clock.
    const scheduler = new LocalScheduler({
      schedules: SCHEDULES,
      clock,
      tracker,
      // The probe is the local scheduler's own bookkeeping, not a request AWS would see: not metered.
      earliestPendingDue: meter ? meter.unmetered(pendingDueProbe(dynamodb, tables.touchpoints, shards)) : pendingDueProbe(dynamodb, tables.touchpoints, shards),
      fire: async (schedule: ScheduleSpec, scheduledTime: string) => {
        const outcome = await functions.invokeAsync(schedule.target, { scheduledTime }, `schedule ${schedule.name}`);
        return outcome.ok ? { ok: true, result: outcome.result } : { ok: false, error: `${outcome.deadLetter.errorName}: ${outcome.deadLetter.errorMessage}` };
      },
      log: stamp,
    });
    cleanups.push(() => scheduler.stop());

    const mailbox = () => readMailbox(ses.endpoint, sentAt);

    let stopped = false;
    stack = {
      endpoints: { web: webUrl, gateway: gatewayUrl, dynamodb: dynamo.endpoint, ses: ses.endpoint, mailbox: `${ses.endpoint}/`, control: `${gatewayUrl}/_local` },
      env,
      tables,
      workflowArns,
      linkSecretArn: linkSecret.arn,
      metricsToken: metricsToken.value,
      dashboardUrl,
      clock,
      clients: { dynamodb, eventbridge },
      ...(meter ? { meter } : {}),
      putEvents: (entries) => eventbridge.send(new PutEventsCommand({ Entries: entries })),
      advance: async (by) => {
        const ms = typeof by === 'number' ? by : parseIsoDuration(by);
        const before = { executions: stepFunctions.executions().length, emails: (await mailbox()).length, dead: functions.deadLetters.length };
        const summary = await scheduler.advance(ms);
        const executions = stepFunctions.executions().slice(before.executions);
        return {
          ...summary,
          executionsStarted: executions.length,
          executionsFailed: executions.filter((e) => e.status !== 'SUCCEEDED').length,
          emailsSent: (await mailbox()).length - before.emails,
          deadLetters: functions.deadLetters.length - before.dead,
        };
      },
      settle: () => tracker.idle(),
      mailbox,
      deadLetters: () => [...functions.deadLetters],
      executions: () => stepFunctions.executions(),
      summary: async () =>
        summarise({
          clock: clock.nowIso(),
          emailsSent: (await mailbox()).length,
          touchpointsByStatus: await countTouchpointsByStatus(dynamodb, tables.touchpoints),
          executions: stepFunctions.executions(),
          deadLetters: functions.deadLetters,
        }),
      sesStats: () => ses.stats(),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await scheduler.stop();
        if (!(await tracker.idleWithin(5_000))) {
          stamp(`stopping with ${tracker.size} unit(s) of work still running: aborting executions`);
          stepFunctions.abortAll();
          await tracker.idleWithin(2_000);
        }
        await runCleanups(cleanups);
      },
    };

    if (options.loadCampaigns !== false) {
      const load = options.loadCampaigns ?? (async (s: LocalStack) => (await import('./campaigns.ts')).loadCampaignsIntoTable(join(rootDir, 'campaigns'), s, stamp));
      await load(stack);
    }
    scheduler.start();
    return stack;
  } catch (error) {
    await runCleanups(cleanups);
    throw error;
  }
}

async function runCleanups(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // Best effort: a server that failed to close must not keep the others open.
    }
  }
}
