import { Duration } from 'aws-cdk-lib';
import type { HttpApi, ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_CAMPAIGN_CACHE_SECONDS, DEFAULT_COMMERCE_EVENT_SOURCE, DEFAULT_DISPATCH_SHARDS, EVENT_RULES, type WorkflowName } from '../../core/topology.ts';
import { acknowledgeNag } from '../nag.ts';
import { CampaignSeed } from './campaign-seed.ts';
import { OutreachAlarms } from './outreach-alarms.ts';
import type { OutreachDataRefs } from './outreach-data.ts';
import { createOutreachFunctions, type OutreachFunctions, wireOutreachFunctions } from './outreach-functions.ts';
import { OutreachHttpApi } from './outreach-http-api.ts';
import { OutreachSending } from './outreach-sending.ts';
import { OutreachTriggers } from './outreach-triggers.ts';
import { OutreachWorkflows } from './outreach-workflows.ts';

export interface OutreachRuntimeProps {
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
}

function validate(path: string, props: OutreachRuntimeProps): void {
  const problems: string[] = [];
  const shards = props.dispatchShards;
  if (shards !== undefined && !(Number.isInteger(shards) && shards >= 1 && shards <= 64)) problems.push(`dispatchShards must be an integer from 1 to 64, got ${shards}`);
  if (props.publicBaseUrl !== undefined && !/^https:\/\/[^/]+(\/.*[^/])?$/.test(props.publicBaseUrl)) {
    problems.push(`publicBaseUrl must be an https:// URL without a trailing slash, got "${props.publicBaseUrl}"`);
  }
  if (props.eventSource?.startsWith('aws.')) problems.push(`eventSource "${props.eventSource}" is reserved for AWS services`);
  if (problems.length > 0) throw new Error(`OutreachRuntime ${path}:\n  - ${problems.join('\n  - ')}`);
}

/**
 * The stateless part: functions, workflows, bus rules, schedules, the public HTTP API, SES configuration, the link
 * secret, the dead-letter queue and alarms. Everything here can be destroyed and redeployed without losing data.
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

    this.functions = createOutreachFunctions(this, props.functionsDir);
    this.stateMachines = new OutreachWorkflows(this, 'Workflows', {
      functions: this.functions,
      sending: this.sending,
      eventBus: this.eventBus,
      ...(props.workflowsDir ? { workflowsDir: props.workflowsDir } : {}),
    }).stateMachines;
    const api = new OutreachHttpApi(this, 'Http', { functions: this.functions, ...(props.apiThrottle ? { throttle: props.apiThrottle } : {}) });
    this.httpApi = api.httpApi;
    this.apiUrl = api.url;
    this.publicBaseUrl = props.publicBaseUrl ?? api.url;

    wireOutreachFunctions(this.functions, {
      tables: props.data.tables,
      linkSecret: this.linkSecret,
      surveyKeyring: this.surveyKeyring,
      eventBus: this.eventBus,
      workflows: this.stateMachines,
      settings: {
        dispatchShards: String(props.dispatchShards ?? DEFAULT_DISPATCH_SHARDS),
        senderAddress: props.senderAddress,
        configurationSet: this.sending.configurationSet.configurationSetName,
        publicBaseUrl: this.publicBaseUrl,
        campaignCacheSeconds: String(DEFAULT_CAMPAIGN_CACHE_SECONDS),
        cxAddress: props.cxAddress ?? '',
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
      ...(props.alertEmail ? { alertEmail: props.alertEmail } : {}),
    });
  }
}
