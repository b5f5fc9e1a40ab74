import { Duration } from 'aws-cdk-lib';
import { EventBus, type IEventBus, type IRuleTarget, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, type ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { detailPattern, EVENT_RULES, type EventRuleSpec, type FunctionName, SCHEDULES, type WorkflowName } from '../../core/topology.ts';
import { pascalCase } from '../naming.ts';

export interface OutreachTriggersProps {
  readonly functions: Readonly<Record<FunctionName, IFunction>>;
  /** The state machines of the rules whose target is a workflow (`{ workflow }` in EVENT_RULES). */
  readonly stateMachines: Readonly<Record<WorkflowName, IStateMachine>>;
  readonly eventBus: IEventBus;
  /** The `source` the commerce system publishes with. */
  readonly eventSource: string;
  /** Where events and schedule runs go when they cannot be delivered to their function or workflow. */
  readonly deadLetterQueue: IQueue;
}

/** LambdaInvoke without the `<arn>:*` (every version and alias) that grantInvoke adds: schedules call the function itself. */
class InvokeFunction extends LambdaInvoke {
  constructor(
    private readonly fn: IFunction,
    props: ScheduleTargetBaseProps,
  ) {
    super(fn, props);
  }

  protected override addTargetActionToRole(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.fn.functionArn] }));
  }
}

/**
 * A function is invoked asynchronously with the event; a workflow gets an execution per event, with the whole event as
 * input. Either way EventBridge retries for as long as it can, then the dead-letter queue keeps the event.
 */
function ruleTarget(target: EventRuleSpec['target'], props: OutreachTriggersProps): IRuleTarget {
  // EventBridge's own maximum: a lost purchase event is a customer never contacted.
  const delivery = { deadLetterQueue: props.deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) };
  if (typeof target === 'string') return new LambdaFunction(props.functions[target], delivery);
  const machine = props.stateMachines[target.workflow];
  if (!machine) throw new Error(`OutreachTriggers: no state machine for workflow "${target.workflow}"`);
  return new SfnStateMachine(machine, delivery);
}

/** What starts the functions and event workflows: the bus rules of EVENT_RULES and the schedules of SCHEDULES. */
export class OutreachTriggers extends Construct {
  readonly rules: readonly Rule[];
  readonly schedules: readonly Schedule[];

  constructor(scope: Construct, id: string, props: OutreachTriggersProps) {
    super(scope, id);
    const defaultBus = EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.rules = EVENT_RULES.map(
      (spec) =>
        new Rule(this, pascalCase(spec.name), {
          eventBus: spec.bus === 'default' ? defaultBus : props.eventBus,
          description: spec.description,
          eventPattern: { source: [spec.source ?? props.eventSource], detailType: [...spec.detailTypes], detail: detailPattern(spec) },
          targets: [ruleTarget(spec.target, props)],
        }),
    );
    this.schedules = SCHEDULES.map(
      (spec) =>
        new Schedule(this, pascalCase(spec.name), {
          description: spec.description,
          schedule: ScheduleExpression.expression(spec.expression),
          target: new InvokeFunction(props.functions[spec.target], {
            // Handlers take "now" from the event: Scheduler's scheduled time, not their own clock.
            input: ScheduleTargetInput.fromObject({ scheduledTime: ContextAttribute.scheduledTime }),
            deadLetterQueue: props.deadLetterQueue,
            retryAttempts: 3,
            maxEventAge: Duration.hours(1),
          }),
        }),
    );
  }
}
