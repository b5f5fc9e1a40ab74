import { ExecutionAlreadyExists, ExecutionLimitExceeded, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { StepFunctionsWorkflowStarter } from '../../../adapters/sfn-workflow-starter.ts';

const CHECK_IN_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:outreach-check-in';
const EXECUTION_NAME = 'tp-5d41402abc4b2a76b9719d911017c592a1b2c3d4-g0';
const INPUT = { touchpointId: 'tp-5d41402abc4b2a76b9719d911017c592a1b2c3d4', generation: 0 };

const sfn = mockClient(SFNClient);
const starter = (arns: Record<string, string> = { 'check-in': CHECK_IN_ARN }) =>
  new StepFunctionsWorkflowStarter(arns, new SFNClient({ region: 'us-east-1' }));

beforeEach(() => {
  sfn.reset();
});

afterAll(() => {
  sfn.restore();
});

describe('StepFunctionsWorkflowStarter.start', () => {
  it("starts the kind's state machine with the execution name and the input as JSON", async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${CHECK_IN_ARN}:${EXECUTION_NAME}`, startDate: new Date() });

    // Act
    const outcome = await starter().start('check-in', EXECUTION_NAME, INPUT);

    // Assess
    expect(outcome).toBe('started');
    expect(sfn).toHaveReceivedCommandExactlyOnceWith(StartExecutionCommand, {
      stateMachineArn: CHECK_IN_ARN,
      name: EXECUTION_NAME,
      input: '{"touchpointId":"tp-5d41402abc4b2a76b9719d911017c592a1b2c3d4","generation":0}',
    });
  });

  it("answers 'already-exists' when an execution of that name was started before", async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: `Execution Already Exists: '${EXECUTION_NAME}'`, $metadata: {} }));

    // Act
    const outcome = await starter().start('check-in', EXECUTION_NAME, INPUT);

    // Assess
    expect(outcome).toBe('already-exists');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('recognises ExecutionAlreadyExists by name, as after bundling or from another SDK copy', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));

    // Act
    const outcome = await starter().start('check-in', EXECUTION_NAME, INPUT);

    // Assess
    expect(outcome).toBe('already-exists');
  });

  it('rethrows every other error', async () => {
    // Prepare
    const error = new ExecutionLimitExceeded({ message: 'Execution limit exceeded', $metadata: {} });
    sfn.on(StartExecutionCommand).rejects(error);

    // Act
    const attempt = starter().start('check-in', EXECUTION_NAME, INPUT);

    // Assess
    await expect(attempt).rejects.toBe(error);
  });

  it('fails, without calling Step Functions, for a kind that has no configured workflow', async () => {
    // Prepare
    const unconfigured = starter({});

    // Act
    const attempt = unconfigured.start('check-in', EXECUTION_NAME, INPUT);

    // Assess
    await expect(attempt).rejects.toThrow('no workflow is configured for touchpoint kind "check-in"');
    expect(sfn).not.toHaveReceivedAnyCommand();
  });
});
