import { relative } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { HttpApi, ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_BACKLOG_ALARM_MINUTES, DEFAULT_CAMPAIGN_CACHE_SECONDS, DEFAULT_COMMERCE_EVENT_SOURCE, DEFAULT_DISPATCH_SHARDS, DEFAULT_SEND_RATE_SHARE, EVENT_RULES, type WorkflowName } from '../../core/topology.ts';
import { InvalidTargetsError, loadTargetsFile } from '../../core/metrics/targets.ts';
import { acknowledgeNag } from '../nag.ts';
import { DEFAULT_TARGETS_FILE } from '../paths.ts';
import { CampaignSeed } from './campaign-seed.ts';
import { OutreachAlarms } from './outreach-alarms.ts';
import type { OutreachDataRefs } from './outreach-data.ts';
import { createOutreachFunctions, type OutreachFunctions, wireOutreachFunctions } from './outreach-functions.ts';
import { OutreachHttpApi } from './outreach-http-api.ts';
import { OutreachSending } from './outreach-sending.ts';
import { OutreachTriggers } from './outreach-triggers.ts';
import type { ObservabilityProps } from './observability.ts';
import { OutreachWorkflows } from './outreach-workflows.ts';

export interface OutreachRuntimeProps extends ObservabilityProps {
  /** Tables and event bus, usually from an `OutreachData` in a stateful stack. */
  readonly data: OutreachDataRefs;
  /** The From address of every email; its address or domain must be verified in SES. */
  readonly senderAddress: string;
  /**
   * A domain or address to create an SES identity for; must cover `senderAddress`.
   * @default - none; verify the sender in SES yourself
   */
  readonly sesIdentity?: string;
  /**
   * Verified recipients allowed while SES is in the sandbox.
   * @default - none
   */
  readonly sandboxRecipients?: readonly string[];
  /**
   * Base URL (https, no trailing slash) of the links in emails, if a custom domain fronts the HTTP API.
   * @default - the HTTP API endpoint
   */
  readonly publicBaseUrl?: string;
  /**
   * Address subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly alertEmail?: string;
  /** Detractor alerts go to this address (the customer-experience team); without it only the event is published. */
  readonly cxAddress?: string;
  /**
   * The EventBridge `source` the commerce system publishes with.
   * @default DEFAULT_COMMERCE_EVENT_SOURCE ('outreach.commerce')
   */
  readonly eventSource?: string;
  /**
   * Shards of the due index: an integer from 1 to 64.
   * @default DEFAULT_DISPATCH_SHARDS (8)
   */
  readonly dispatchShards?: number;
  /**
   * The share of the SES account's maximum send rate (GetAccount) dispatch may start sends at: above 0, at most 1.
   * @default DEFAULT_SEND_RATE_SHARE (0.9)
   */
  readonly sendRateShare?: number;
  /** An upper bound on sends per second, whatever SES allows. @default none */
  readonly maxSendsPerSecond?: number;
  /**
   * Minutes the oldest due touchpoint may wait before the backlog alarm goes off.
   * @default DEFAULT_BACKLOG_ALARM_MINUTES (60)
   */
  readonly backlogAlarmMinutes?: number;
  /**
   * Folder with `<name>/handler.ts` per function.
   * @default the project's `functions/`
   */
  readonly functionsDir?: string;
  /**
   * Folder with `<name>.asl.json` per workflow.
   * @default the project's `workflows/`
   */
  readonly workflowsDir?: string;
  /**
   * Folder of campaign rule files, validated at synth and written to the campaigns table on deploy.
   * @default the project's `campaigns/`
   */
  readonly campaignsDir?: string;
  /**
   * Throttling of the public HTTP API.
   * @default 50 requests per second, bursts of 100
   */
  readonly apiThrottle?: ThrottleSettings;
  /**
   * The metric targets (metrics/targets.yaml format), validated at synth: a problem stops the synth with file:line.
   * @default the project's `metrics/targets.yaml`
   */
  readonly targetsFile?: string;
}


/** Lambda allows 4 KB of environment per function; the targets get at most this much of it. */
const MAX_TARGETS_JSON = 2048;

/** The targets file as the metrics API's METRIC_TARGETS: validated (InvalidTargetsError with file:line), as JSON. */
function metricTargetsSetting(file: string): string {
  const json = JSON.stringify(loadTargetsFile(file));
  if (json.length > MAX_TARGETS_JSON) {
    throw new InvalidTargetsError([
      `${relative(process.cwd(), file) || file}: the targets take ${json.length} characters as JSON, more than the ${MAX_TARGETS_JSON} the metrics API's environment has room for; set fewer per-campaign targets`,
    ]);
  }
  return json;
}

function validate(path: string, props: OutreachRuntimeProps): void {
  const problems: string[] = [];
  const shards = props.dispatchShards;
  if (shards !== undefined && !(Number.isInteger(shards) && shards >= 1 && shards <= 64)) problems.push(`dispatchShards must be an integer from 1 to 64, got ${shards}`);
  const share = props.sendRateShare;
  if (share !== undefined && !(share > 0 && share <= 1)) problems.push(`sendRateShare must be above 0 and at most 1, got ${share}`);
  const cap = props.maxSendsPerSecond;
  if (cap !== undefined && !(cap > 0)) problems.push(`maxSendsPerSecond must be above 0, got ${cap}`);
  const backlogMinutes = props.backlogAlarmMinutes;
  if (backlogMinutes !== undefined && !(Number.isInteger(backlogMinutes) && backlogMinutes >= 1)) problems.push(`backlogAlarmMinutes must be a whole number of minutes ≥ 1, got ${backlogMinutes}`);
  if (props.publicBaseUrl !== undefined && !/^https:\/\/[^/]+(\/.*[^/])?$/.test(props.publicBaseUrl)) {
    problems.push(`publicBaseUrl must be an https:// URL without a trailing slash, got "${props.publicBaseUrl}"`);
  }
  if (props.eventSource?.startsWith('aws.')) problems.push(`eventSource "${props.eventSource}" is reserved for AWS services`);
  if (problems.length > 0) throw new Error(`OutreachRuntime ${path}:\n  - ${problems.join('\n  - ')}`);
}

/**
 * The stateless part: functions, workflows, bus rules, schedules, the HTTP API (links in emails, the metrics API and
 * dashboard), SES configuration, the secrets (link signing, survey key ring, metrics token), the dead-letter queue and
 * alarms. Everything here can be destroyed and redeployed without losing data.
 */
export class OutreachRuntime extends Construct {
  readonly functions: OutreachFunctions;
  readonly stateMachines: Readonly<Record<WorkflowName, StateMachine>>;
  readonly eventBus: IEventBus;
  readonly httpApi: HttpApi;
  /** The base of the links in emails. */
  readonly publicBaseUrl: string;
  /** The HTTP API endpoint. */
  readonly apiUrl: string;
  readonly linkSecret: Secret;
  readonly surveyKeyring: Secret;
  /** The bearer token of GET /metrics (and so of the dashboard): generated, read by admins from Secrets Manager. */
  readonly metricsToken: Secret;
  /** `<publicBaseUrl>/dashboard`. */
  readonly dashboardUrl: string;
  readonly sending: OutreachSending;
  readonly deadLetterQueue: Queue;
  readonly alarms: OutreachAlarms;

  constructor(scope: Construct, id: string, props: OutreachRuntimeProps) {
    super(scope, id);
    validate(this.node.path, props);
    this.eventBus = props.data.eventBus;

    this.linkSecret = new Secret(this, 'LinkSigningSecret', {
      description: 'Signs and verifies the tokens in email links (unsubscribe, survey)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledgeNag(
      this.linkSecret,
      'AwsSolutions-SMG4',
      'Rotating the link-signing key would invalidate the unsubscribe links in every email already sent, which must keep working (CAN-SPAM: at least 30 days). Rotate by hand only after a compromise.',
    );

    // A key ring, so survey links can move to a new key while links already sent keep working: add k2, make it
    // current, remove k1 once the longest link lifetime (30 days) has passed.
    this.surveyKeyring = new Secret(this, 'SurveyKeyring', {
      description: 'Signs and verifies one-click survey links: {"current":"k1","k1":"<key>"}',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ current: 'k1' }),
        generateStringKey: 'k1',
        passwordLength: 64,
        excludePunctuation: true,
      },
    });
    acknowledgeNag(
      this.surveyKeyring,
      'AwsSolutions-SMG4',
      'Survey links are signed with the key ring\'s current key and verified by the version they name; automatic rotation would replace the value and break every link already sent. Rotate by adding a key version (docs/surveys.md).',
    );

    // Read before the functions are built: a bad file stops the synth with its own message (file:line).
    const targets = metricTargetsSetting(props.targetsFile ?? DEFAULT_TARGETS_FILE);
    this.metricsToken = new Secret(this, 'MetricsApiToken', {
      description: 'Bearer token of the metrics API and dashboard (GET /metrics); see docs/metrics.md',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    acknowledgeNag(
      this.metricsToken,
      'AwsSolutions-SMG4',
      'The metrics token is a bearer token admins read from Secrets Manager and paste into the dashboard; Secrets Manager has no hosted rotation for such a value. Rotate it by writing a new random value (docs/metrics.md): the function reads the secret again within a minute.',
    );

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNag(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue (Lambda on-failure destination, EventBridge target DLQ, Scheduler DLQ); a dead-letter queue of its own would only move the problem.',
    );

    this.sending = new OutreachSending(this, 'Sending', {
      senderAddress: props.senderAddress,
      ...(props.sesIdentity ? { sesIdentity: props.sesIdentity } : {}),
      ...(props.sandboxRecipients ? { sandboxRecipients: props.sandboxRecipients } : {}),
    });

    this.functions = createOutreachFunctions(this, props.functionsDir, props.tracing);
    this.stateMachines = new OutreachWorkflows(this, 'Workflows', {
      functions: this.functions,
      sending: this.sending,
      eventBus: this.eventBus,
      ...(props.workflowsDir ? { workflowsDir: props.workflowsDir } : {}),
      ...(props.tracing ? { tracing: props.tracing } : {}),
      ...(props.workflowLogLevel ? { workflowLogLevel: props.workflowLogLevel } : {}),
    }).stateMachines;
    const api = new OutreachHttpApi(this, 'Http', { functions: this.functions, ...(props.apiThrottle ? { throttle: props.apiThrottle } : {}) });
    this.httpApi = api.httpApi;
    this.apiUrl = api.url;
    this.publicBaseUrl = props.publicBaseUrl ?? api.url;
    this.dashboardUrl = `${this.publicBaseUrl}/dashboard`;

    wireOutreachFunctions(this.functions, {
      tables: props.data.tables,
      linkSecret: this.linkSecret,
      surveyKeyring: this.surveyKeyring,
      metricsToken: this.metricsToken,
      eventBus: this.eventBus,
      sending: this.sending,
      workflows: this.stateMachines,
      settings: {
        dispatchShards: String(props.dispatchShards ?? DEFAULT_DISPATCH_SHARDS),
        sendRateShare: String(props.sendRateShare ?? DEFAULT_SEND_RATE_SHARE),
        maxSendsPerSecond: props.maxSendsPerSecond === undefined ? '' : String(props.maxSendsPerSecond),
        senderAddress: props.senderAddress,
        configurationSet: this.sending.configurationSet.configurationSetName,
        publicBaseUrl: this.publicBaseUrl,
        campaignCacheSeconds: String(DEFAULT_CAMPAIGN_CACHE_SECONDS),
        cxAddress: props.cxAddress ?? '',
        metricTargets: targets,
      },
    });

    // An invalid event fails the same way three times: then it lands in the queue with the error, and an alarm fires.
    for (const name of new Set(EVENT_RULES.flatMap((rule) => (typeof rule.target === 'string' ? [rule.target] : [])))) {
      this.functions[name].configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.deadLetterQueue) });
    }
    // The next run a minute later queries everything still due, so retrying an old run only overlaps it.
    this.functions['dispatch-due'].configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(5) });

    new CampaignSeed(this, 'Campaigns', {
      table: props.data.tables.campaigns,
      ...(props.campaignsDir ? { campaignsDir: props.campaignsDir } : {}),
    });
    new OutreachTriggers(this, 'Triggers', {
      functions: this.functions,
      stateMachines: this.stateMachines,
      eventBus: this.eventBus,
      eventSource: props.eventSource ?? DEFAULT_COMMERCE_EVENT_SOURCE,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.alarms = new OutreachAlarms(this, 'Alarms', {
      functions: this.functions,
      stateMachines: this.stateMachines,
      deadLetterQueue: this.deadLetterQueue,
      backlogAlarmMinutes: props.backlogAlarmMinutes ?? DEFAULT_BACKLOG_ALARM_MINUTES,
      ...(props.alertEmail ? { alertEmail: props.alertEmail } : {}),
    });
  }
}
