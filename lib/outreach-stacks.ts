import type { App } from 'aws-cdk-lib';
import type { OutreachConfig } from './config.ts';
import { OutreachStatefulStack } from './stateful-stack.ts';
import { OutreachStatelessStack } from './stateless-stack.ts';

export interface OutreachStacks {
  readonly stateful: OutreachStatefulStack;
  readonly stateless: OutreachStatelessStack;
}

/** The project's deployment: the stateful and the stateless stack, configured from validated settings. */
export function addOutreachStacks(app: App, config: OutreachConfig): OutreachStacks {
  const env = { account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT, region: config.region };
  const stateful = new OutreachStatefulStack(app, 'OutreachStateful', {
    env,
    description: 'Proactive outreach: tables and event bus (retained)',
  });
  const stateless = new OutreachStatelessStack(app, 'OutreachStateless', {
    env,
    description: 'Proactive outreach: functions, workflows, triggers, HTTP API, SES configuration, alarms',
    data: stateful.data,
    senderAddress: config.senderAddress,
    eventSource: config.eventSource,
    dispatchShards: config.dispatchShards,
    sendRateShare: config.sendRateShare,
    ...(config.maxSendsPerSecond ? { maxSendsPerSecond: config.maxSendsPerSecond } : {}),
    backlogAlarmMinutes: config.backlogAlarmMinutes,
    tracing: config.tracing,
    workflowLogLevel: config.workflowLogLevel,
    ...(config.sesIdentity ? { sesIdentity: config.sesIdentity } : {}),
    ...(config.sandboxRecipients ? { sandboxRecipients: config.sandboxRecipients } : {}),
    ...(config.publicBaseUrl ? { publicBaseUrl: config.publicBaseUrl } : {}),
    ...(config.alertEmail ? { alertEmail: config.alertEmail } : {}),
    ...(config.cxAddress ? { cxAddress: config.cxAddress } : {}),
  });
  return { stateful, stateless };
}
