import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { TouchpointKind } from '../core/model.ts';
import type { StartOutcome, WorkflowStarter } from '../core/ports.ts';

/** Starts Standard executions named by the touchpoint, so a repeated start is answered by ExecutionAlreadyExists. */
export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly stateMachineArns: Readonly<Record<string, string>>,
    private readonly sfn: SFNClient = new SFNClient({}),
  ) {}

  async start(kind: TouchpointKind, executionName: string, input: Record<string, unknown>): Promise<StartOutcome> {
    const stateMachineArn = this.stateMachineArns[kind];
    if (!stateMachineArn) throw new Error(`no workflow is configured for touchpoint kind "${kind}"`);
    try {
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }));
      return 'started';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') return 'already-exists';
      throw error;
    }
  }
}
