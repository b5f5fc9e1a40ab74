import { Duration } from 'aws-cdk-lib';
import { EventBus, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, type ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_RULES, type FunctionName, SCHEDULES } from '../../core/topology.ts';
import { pascalCase } from '../naming.ts';

export interface OutreachTriggersProps {
  readonly functions: Readonly<Record<FunctionName, IFunction>>;
  readonly eventBus: IEventBus;
  /** The `source` the commerce system publishes with. */
  readonly eventSource: string;
  /** Where events and schedule runs go when they cannot be delivered to their function. */
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

/** What starts the functions: the bus rules of EVENT_RULES and the schedules of SCHEDULES. */
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
          eventPattern: { source: [spec.source ?? props.eventSource], detailType: [...spec.detailTypes] },
          // EventBridge's own maximum: a lost purchase event is a customer never contacted.
          targets: [new LambdaFunction(props.functions[spec.target], { deadLetterQueue: props.deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
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
