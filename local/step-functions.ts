/**
 * Step Functions for the local stack: registered state machines run in aws-local-stepfunctions, with AWS's
 * StartExecution / DescribeExecution / ListExecutions semantics on top and an execution history kept in memory.
 * Standard machines deduplicate execution names; Express machines do not (AWS: "starting multiple workflows with the
 * same name results in concurrent executions"), and with `expressRunsTwice` every Express execution runs twice, as
 * Express's at-least-once delivery allows.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError } from './aws-error.ts';
import type { LocalClock } from './clock.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './lambda-runtime.ts';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from './local-engine.ts';
import { bindStateNames, buildTaskHandlers, retryIntervalOverrides, type TaskServices, type WorkflowLike } from './task-dispatch.ts';
import type { LocalMeter } from './meter.ts';
import type { WorkTracker } from './work-tracker.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Local clock. */
  startDate: Date;
  stopDate?: Date;
}

export type StateMachineKind = 'STANDARD' | 'EXPRESS';

interface RegisteredMachine {
  name: string;
  arn: string;
  type: StateMachineKind;
  creationDate: Date;
  machine: StateMachine;
  workflow: WorkflowLike;
  handlers: ReturnType<typeof buildTaskHandlers>;
  retryOverrides: Record<string, number>;
}

export interface LocalStepFunctionsOptions {
  clock: LocalClock;
  tracker: WorkTracker;
  services: TaskServices;
  /** Real milliseconds each retrier waits locally (default 10). */
  retryDelayMs?: number;
  /** Runs every Express execution twice, concurrently (at-least-once delivery, for tests). */
  expressRunsTwice?: boolean;
  log?: (line: string) => void;
  /** Counts each execution's state transitions and duration (bench/cost.ts); absent: nothing is metered. */
  meter?: LocalMeter;
}

export function stateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;
}

const VALIDATED = new Set<string>();

const NAME_PATTERN = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

export class LocalStepFunctions {
  private readonly machines = new Map<string, RegisteredMachine>();
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly aborts = new Map<string, () => void>();

  constructor(private readonly options: LocalStepFunctionsOptions) {}

  /** Registers a workflow definition (placeholders already substituted); returns its state machine ARN. */
  register(name: string, definition: WorkflowLike, type: StateMachineKind = 'STANDARD'): string {
    const arn = stateMachineArn(name);
    const workflow = bindStateNames(definition);
    const handlers = buildTaskHandlers(workflow, this.options.services, `state machine ${name}`);
    // asl-validator takes ~0.5 s per definition: validate each distinct definition once per process.
    const text = JSON.stringify(workflow);
    const machine = new StateMachine(workflow as unknown as StateMachineDefinition, {
      validationOptions: VALIDATED.has(text) ? { noValidate: true } : { checkArn: true, checkPaths: true },
    });
    VALIDATED.add(text);
    this.machines.set(arn, {
      name,
      arn,
      type,
      creationDate: this.options.clock.now(),
      machine,
      workflow,
      handlers,
      retryOverrides: retryIntervalOverrides(workflow, this.options.retryDelayMs ?? 10),
    });
    return arn;
  }

  stateMachines(): Array<{ name: string; stateMachineArn: string; type: StateMachineKind; creationDate: Date }> {
    return [...this.machines.values()].map((m) => ({ name: m.name, stateMachineArn: m.arn, type: m.type, creationDate: m.creationDate }));
  }

  startExecution(request: { stateMachineArn?: unknown; name?: unknown; input?: unknown }): { executionArn: string; startDate: Date } {
    const machine = this.machineOf(request.stateMachineArn);
    const name = request.name === undefined ? randomUUID() : request.name;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${String(name)}'`);
    const input = request.input === undefined ? '{}' : request.input;
    let parsed: unknown;
    try {
      if (typeof input !== 'string') throw new TypeError('input must be a string');
      parsed = JSON.parse(input);
    } catch {
      throw new AwsServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${String(input)}'`);
    }
    if (machine.type === 'EXPRESS') {
      const first = this.run(machine, name, input as string, parsed, `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:express:${machine.name}:${name}:${randomUUID()}`);
      if (this.options.expressRunsTwice) this.run(machine, name, input as string, parsed, `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:express:${machine.name}:${name}:${randomUUID()}`);
      return first;
    }
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${machine.name}:${name}`;
    const existing = this.records.get(executionArn);
    if (existing) {
      // Standard workflows: the same name and input while RUNNING is idempotent; anything else is a conflict.
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn, startDate: existing.startDate };
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    return this.run(machine, name, input as string, parsed, executionArn);
  }

  private run(machine: RegisteredMachine, name: string, input: string, parsed: unknown, executionArn: string): { executionArn: string; startDate: Date } {
    const clock = this.options.clock;
    const startDate = clock.now();
    const record: ExecutionRecord = { executionArn, stateMachineArn: machine.arn, name, status: 'RUNNING', input, startDate };
    this.records.set(executionArn, record);
    const execution = machine.machine.run(parsed as never, {
      overrides: { taskResourceLocalHandlers: machine.handlers as never, retryIntervalOverrides: machine.retryOverrides },
      context: {
        Execution: { Id: executionArn, Name: name, StartTime: startDate.toISOString(), Input: parsed as never, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/local`, RedriveCount: 0 },
        StateMachine: { Id: machine.arn, Name: machine.name },
        State: {
          get EnteredTime() {
            return clock.nowIso();
          },
          RetryCount: 0,
        },
        Task: {
          get Token() {
            return `local-task-token-${randomUUID()}`;
          },
        },
      },
    });
    this.aborts.set(executionArn, execution.abort);
    this.options.meter?.execution(machine.name, machine.type, executionArn, execution);
    this.options.log?.(`▶ execution ${machine.name}/${name} started`);
    this.options.tracker.track(this.settle(record, execution.result));
    return { executionArn, startDate };
  }

  private async settle(record: ExecutionRecord, result: Promise<unknown>): Promise<void> {
    try {
      const output = await result;
      record.status = 'SUCCEEDED';
      record.output = JSON.stringify(output ?? null);
    } catch (error) {
      if (error instanceof ExecutionTimeoutError) {
        record.status = 'TIMED_OUT';
        record.error = 'States.Timeout';
      } else if (error instanceof ExecutionAbortedError) {
        record.status = 'ABORTED';
      } else {
        const cause = error instanceof ExecutionError ? (error.cause as Error | undefined) : (error as Error);
        record.status = 'FAILED';
        record.error = cause?.name ?? 'Error';
        record.cause = cause?.message ?? String(error);
      }
    } finally {
      record.stopDate = this.options.clock.now();
      this.aborts.delete(record.executionArn);
    }
    const machineName = record.stateMachineArn.split(':').pop();
    const detail = record.status === 'SUCCEEDED' ? '' : ` ${record.error ?? ''}${record.cause ? `: ${record.cause}` : ''}`;
    this.options.log?.(`${record.status === 'SUCCEEDED' ? '■' : '✗'} execution ${machineName}/${record.name} ${record.status}${detail}`);
  }

  describeExecution(executionArn: unknown): ExecutionRecord {
    if (typeof executionArn !== 'string' || !executionArn.startsWith('arn:aws:states:')) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${String(executionArn)}'`);
    const record = this.records.get(executionArn);
    if (!record) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  listExecutions(request: { stateMachineArn?: unknown; statusFilter?: unknown; maxResults?: unknown; nextToken?: unknown }): {
    executions: ExecutionRecord[];
    nextToken?: string;
  } {
    const machine = this.machineOf(request.stateMachineArn);
    const all = [...this.records.values()]
      .filter((r) => r.stateMachineArn === machine.arn && (request.statusFilter === undefined || r.status === request.statusFilter))
      .reverse();
    const max = typeof request.maxResults === 'number' && request.maxResults > 0 ? Math.min(request.maxResults, 1000) : 100;
    const offset = typeof request.nextToken === 'string' ? Number.parseInt(request.nextToken, 10) || 0 : 0;
    const page = all.slice(offset, offset + max);
    return offset + max < all.length ? { executions: page, nextToken: String(offset + max) } : { executions: page };
  }

  /** Every execution, oldest first. */
  executions(): ExecutionRecord[] {
    return [...this.records.values()];
  }

  abortAll(): void {
    for (const abort of this.aborts.values()) abort();
  }

  private machineOf(arn: unknown): RegisteredMachine {
    if (typeof arn !== 'string' || !arn.startsWith('arn:aws:states:')) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${String(arn)}'`);
    const machine = this.machines.get(arn);
    if (!machine) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }
}
