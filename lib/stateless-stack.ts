import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { OutreachRuntime, type OutreachRuntimeProps } from './constructs/outreach-runtime.ts';

export interface OutreachStatelessStackProps extends StackProps, OutreachRuntimeProps {}

/** Everything that can be replaced: receives the tables and bus from the stateful stack through typed props. */
export class OutreachStatelessStack extends Stack {
  readonly runtime: OutreachRuntime;

  constructor(scope: Construct, id: string, props: OutreachStatelessStackProps) {
    super(scope, id, props);
    const runtime = (this.runtime = new OutreachRuntime(this, 'Runtime', props));

    new CfnOutput(this, 'EventBusName', { value: runtime.eventBus.eventBusName, description: 'Publish purchase and refund events to this bus' });
    new CfnOutput(this, 'ApiUrl', { value: runtime.apiUrl, description: 'HTTP API of the links in emails' });
    new CfnOutput(this, 'PublicBaseUrl', { value: runtime.publicBaseUrl, description: 'Base URL of the links in emails' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: runtime.deadLetterQueue.queueUrl, description: 'Events and schedule runs that failed, with the error' });
    new CfnOutput(this, 'AlarmTopicArn', { value: runtime.alarms.topic.topicArn });
    new CfnOutput(this, 'DashboardUrl', { value: runtime.dashboardUrl, description: 'The metrics dashboard; open it with #token=<MetricsTokenSecretName value> appended' });
    new CfnOutput(this, 'MetricsTokenSecretName', {
      value: runtime.metricsToken.secretName,
      description: 'The metrics API token: aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text',
    });
    new CfnOutput(this, 'MailboxSetup', {
      description: 'What to do in SES before real emails go out',
      value: [
        `Verify ${props.sesIdentity ?? props.senderAddress} in SES (${this.region}) and publish its DKIM records.`,
        'Request SES production access; in the sandbox only verified recipients listed in outreach:sandboxRecipients receive mail.',
        `Replies go to ${props.senderAddress}: make sure that mailbox exists and is read.`,
      ].join(' '),
    });
    const identity = runtime.sending.emailIdentity;
    if (identity && props.sesIdentity && !props.sesIdentity.includes('@')) {
      const records = [
        [identity.dkimDnsTokenName1, identity.dkimDnsTokenValue1],
        [identity.dkimDnsTokenName2, identity.dkimDnsTokenValue2],
        [identity.dkimDnsTokenName3, identity.dkimDnsTokenValue3],
      ];
      records.forEach(([name, value], index) => new CfnOutput(this, `DkimRecord${index + 1}`, { value: `${name} CNAME ${value}`, description: 'DNS record verifying the SES domain identity' }));
    }
  }
}
