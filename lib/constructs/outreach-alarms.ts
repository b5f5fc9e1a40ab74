import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../../adapters/metrics.ts';
import { pascalCase } from '../naming.ts';

export interface OutreachAlarmsProps {
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly stateMachines: Readonly<Record<string, IStateMachine>>;
  readonly deadLetterQueue: IQueue;
  /** Minutes the oldest due touchpoint may wait before the backlog alarm goes off. */
  readonly backlogAlarmMinutes: number;
  /** @default - no subscription; subscribe to `topic` yourself */
  readonly alertEmail?: string;
}

/**
 * Nobody watches the system, so anything that went wrong pages: a dead letter, a function error, a workflow that did
 * not succeed. All alarms go to one encrypted SNS topic.
 */
export class OutreachAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: OutreachAlarmsProps) {
    super(scope, id);
    // A customer managed key: CloudWatch cannot publish to a topic encrypted with the AWS managed aws/sns key.
    const key = new Key(this, 'TopicKey', { enableKeyRotation: true, description: 'Encrypts the outreach alarm topic' });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', { displayName: 'Outreach alarms', masterKey: key, enforceSSL: true });
    if (props.alertEmail) this.topic.addSubscription(new EmailSubscription(props.alertEmail));

    const alarms: Alarm[] = [];
    const alarm = (alarmId: string, description: string, metric: IMetric, threshold = 0) => {
      const created = new Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      alarms.push(created);
    };

    alarm(
      'DeadLetters',
      'Events or schedule runs that could not be processed are waiting in the dead-letter queue (each message says why).',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${pascalCase(name)}Errors`, `The ${name} function failed.`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }));
    }
    for (const [name, machine] of Object.entries(props.stateMachines)) {
      alarm(
        `${pascalCase(name)}WorkflowFailed`,
        `Executions of the ${name} workflow failed or timed out (the touchpoint is the execution name).`,
        new MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
          usingMetrics: { failed: machine.metricFailed(), timedOut: machine.metricTimedOut() },
          period: Duration.minutes(5),
        }),
      );
    }
    // Sender reputation, from the functions' EMF metrics (adapters/metrics.ts): SES reviews an account above a 5 %
    // bounce rate or a 0.1 % complaint rate, and may pause its sending at 10 % / 0.5 %. Alert well before that, per day.
    const daily = (metricName: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: METRICS_SERVICE }, statistic: 'Sum', period: Duration.days(1) });
    const rate = (numerator: string) =>
      new MathExpression({
        // Only meaningful with volume: below 100 emails a day a single bounce is noise.
        expression: 'IF(sent >= 100, 100 * FILL(n, 0) / sent, 0)',
        usingMetrics: { n: daily(numerator), sent: daily(METRIC.emailsSent) },
        period: Duration.days(1),
      });
    alarm('BounceRate', 'Hard bounces above 4 % of the emails sent in a day (SES reviews accounts at 5 %): check the address source.', rate(METRIC.bounces), 4);
    alarm(
      'ComplaintRate',
      'Complaints above 0.08 % of the emails sent in a day (SES reviews accounts at 0.1 %): check consent and frequency caps.',
      rate(METRIC.complaints),
      0.08,
    );
    // The send backlog, from dispatch's EMF metrics: touchpoints due and not yet dispatched drain at the paced send
    // rate, so a launch makes the oldest one wait. Waiting longer than allowed for 3 minutes running means the rate
    // cannot keep up (raise the SES quota or the share) or dispatch is not running.
    const backlog = new Alarm(this, 'SendBacklog', {
      alarmDescription: `The oldest due touchpoint has waited more than ${props.backlogAlarmMinutes} minutes to be sent (npm run outreach -- touchpoints backlog).`,
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.oldestDueAge,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      threshold: props.backlogAlarmMinutes * 60,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // No datapoint: dispatch published none (the schedule is off, or the function fails: its own alarm says so).
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    backlog.addAlarmAction(new SnsAction(this.topic));
    alarms.push(backlog);
    this.alarms = alarms;
  }
}
