import { join } from 'node:path';
import { Names, RemovalPolicy } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ALL_WORKFLOWS, WORKFLOWS, type FunctionName, type WorkflowName } from '../../core/topology.ts';
import { acknowledgeNag } from '../nag.ts';
import { pascalCase } from '../naming.ts';
import { DEFAULT_WORKFLOWS_DIR } from '../paths.ts';
import type { OutreachSending } from './outreach-sending.ts';
import { stepFunctionsLogLevel, type ObservabilityProps } from './observability.ts';
import { EVENT_BUS_PLACEHOLDER, inspectWorkflow } from './workflow-definition.ts';

export interface OutreachWorkflowsProps extends ObservabilityProps {
  readonly functions: Readonly<Record<FunctionName, IFunction>>;
  readonly sending: OutreachSending;
  /** The product's bus: `${EventBusName}` in a definition, and the only bus its events:putEvents tasks are granted. */
  readonly eventBus: IEventBus;
  /**
   * Folder holding `<name>.asl.json` for every WORKFLOWS entry.
   * @default the project's `workflows/` folder
   */
  readonly workflowsDir?: string;
}

const SF1_REASON =
  'Execution logs at ERROR by default: ALL logs every state transition and costs more than the transitions themselves. Failed executions are logged, every touchpoint records its outcome in the touchpoints table, and -c outreach:workflowLogLevel=ALL turns the full record on.';

/**
 * One state machine per ALL_WORKFLOWS entry, deployed from the same workflows/<name>.asl.json the local stack runs, with
 * each function placeholder (and the product's bus) substituted and granted, and nothing else. The touchpoint kinds'
 * send workflows are Express (seconds long, priced per request: a Standard execution's transitions cost more than the
 * email); the event workflows stay Standard, where an execution named by the event id makes a redelivery a no-op.
 */
export class OutreachWorkflows extends Construct {
  readonly stateMachines: Readonly<Record<WorkflowName, StateMachine>>;

  constructor(scope: Construct, id: string, props: OutreachWorkflowsProps) {
    super(scope, id);
    const dir = props.workflowsDir ?? DEFAULT_WORKFLOWS_DIR;
    this.stateMachines = Object.fromEntries(
      (Object.entries(ALL_WORKFLOWS) as Array<[WorkflowName, string]>).map(([kind, file]) => [kind, this.stateMachine(kind, join(dir, `${file}.asl.json`), props)]),
    ) as Record<WorkflowName, StateMachine>;
  }

  private stateMachine(kind: WorkflowName, path: string, props: OutreachWorkflowsProps): StateMachine {
    const usage = inspectWorkflow(path);
    const id = pascalCase(kind);
    const logGroup = new LogGroup(this, `${id}Logs`, {
      // The /aws/vendedlogs/ prefix keeps Step Functions' log delivery out of the account's log resource policy size limit.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}-${kind}`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const functions = [...usage.functions].map(([placeholder, name]) => [placeholder, props.functions[name]] as const);
    const machine = new StateMachine(this, id, {
      stateMachineType: kind in WORKFLOWS ? StateMachineType.EXPRESS : StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(path),
      definitionSubstitutions: {
        ...Object.fromEntries(functions.map(([placeholder, fn]) => [placeholder, fn.functionArn])),
        ...(usage.publishesEvents ? { [EVENT_BUS_PLACEHOLDER]: props.eventBus.eventBusName } : {}),
      },
      tracingEnabled: props.tracing !== 'off',
      // ERROR by default (ALL logs every transition and costs more than the transitions); never with input or output:
      // those carry email addresses, names and rendered emails. The execution name is the touchpoint id.
      logs: { destination: logGroup, level: stepFunctionsLogLevel(props.workflowLogLevel), includeExecutionData: false },
    });
    // The unqualified ARN only: fn.grantInvoke() would add `<arn>:*` (every version and alias).
    if (functions.length > 0) {
      machine.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: functions.map(([, fn]) => fn.functionArn) }));
    }
    if (usage.sendsEmail) props.sending.grantSendEmail(machine);
    if (usage.publishesEvents) props.eventBus.grantPutEventsTo(machine);
    if (stepFunctionsLogLevel(props.workflowLogLevel) !== LogLevel.ALL) {
      acknowledgeNag(machine, 'AwsSolutions-SF1', SF1_REASON);
    }
    acknowledgeNag(
      machine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions log delivery (logs:CreateLogDelivery, logs:GetLogDelivery, …, logs:DescribeLogGroups) and X-Ray (xray:PutTraceSegments, …) support no resource-level permissions.',
    );
    return machine;
  }
}
