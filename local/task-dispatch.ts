/**
 * Dispatches each Task state of a workflow by its `Resource`, as Step Functions does in AWS. aws-local-stepfunctions
 * keys its local handlers by state name, so we walk every state (Parallel branches and Map processors included) and
 * build one handler per Task from its Resource:
 *
 * - `arn:aws:states:::lambda:invoke` → the in-process handler named by `FunctionName`, result wrapped like AWS
 *   (`{ Payload, StatusCode, ExecutedVersion }`); a handler error surfaces with the error's `name` as Error and
 *   Lambda's JSON (`{"errorType","errorMessage","trace"}`) as Cause.
 * - `arn:aws:lambda:…:function:<name>` (direct Resource) → the same handler, result unwrapped.
 * - `arn:aws:states:::aws-sdk:<service>:<action>` → the real SDK v3 client; errors as `<Service>.<Name>Exception`.
 * - `arn:aws:states:::events:putEvents` → the local bus; failed entries raise `EventBridge.FailedEntry`.
 */
import { FUNCTION_NAMES } from '../core/topology.ts';
import type { PutEventsResult } from './event-bus.ts';
import { describeError, functionNameOf } from './lambda-runtime.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type TaskHandler = (input: Json) => Promise<Json>;

interface StateLike {
  Type?: string;
  Resource?: string;
  Retry?: unknown[];
  Branches?: WorkflowLike[];
  ItemProcessor?: WorkflowLike;
  Iterator?: WorkflowLike;
  [key: string]: unknown;
}
export interface WorkflowLike {
  StartAt?: string;
  States: Record<string, StateLike>;
  [key: string]: unknown;
}

/** An SDK v3 client and its module's commands, e.g. `SendEmailCommand` from @aws-sdk/client-sesv2. */
export interface SdkServiceBinding {
  /** The Step Functions error prefix for this service (`SesV2`, `DynamoDb`, `EventBridge`). */
  errorPrefix: string;
  client: { send(command: never): Promise<unknown> };
  commands: Record<string, unknown>;
}

export interface TaskServices {
  invokeFunction(name: string, payload: unknown): Promise<unknown>;
  /** Keyed by the service name as it appears in the Resource (`sesv2`, `dynamodb`, `eventbridge`). */
  sdk: Record<string, SdkServiceBinding>;
  putEvents(entries: unknown[]): PutEventsResult;
  /** Told about every successful SDK call (the stack records when SES accepted each message). */
  onSdkResult?(service: string, action: string, input: unknown, output: unknown): void;
  /** Function names that exist; a Task naming any other fails like Lambda's ResourceNotFoundException. */
  knownFunctions?: ReadonlySet<string>;
}

/** An error as the local engine matches it against `ErrorEquals`: by `name`. `message` becomes the Cause. */
export class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

export function walkStates(workflow: WorkflowLike, visit: (name: string, state: StateLike) => void): void {
  for (const [name, state] of Object.entries(workflow.States)) {
    visit(name, state);
    for (const branch of state.Branches ?? []) walkStates(branch, visit);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) walkStates(processor, visit);
  }
}

/** Every state name is a key of `taskResourceLocalHandlers`, so names must be unique across nested branches too. */
export function assertUniqueStateNames(workflow: WorkflowLike, label: string): void {
  const seen = new Set<string>();
  walkStates(workflow, (name) => {
    if (seen.has(name)) throw new Error(`${label}: state name "${name}" is used twice; the local runtime dispatches Tasks by state name`);
    seen.add(name);
  });
}

const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke$/;
const LAMBDA_ARN = /^arn:aws:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$/;
const SDK = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/;
const PUT_EVENTS = /^arn:aws:states:::events:putEvents$/;

/** Builds `taskResourceLocalHandlers` for a workflow; fails at load time for a Resource the local stack cannot run. */
export function buildTaskHandlers(workflow: WorkflowLike, services: TaskServices, label = 'workflow'): Record<string, TaskHandler> {
  assertUniqueStateNames(workflow, label);
  const handlers: Record<string, TaskHandler> = {};
  walkStates(workflow, (name, state) => {
    if (state.Type !== 'Task') return;
    const resource = state.Resource ?? '';
    const handler = handlerFor(resource, services);
    if (!handler) throw new Error(`${label}: Task "${name}" has Resource ${resource}, which the local stack cannot run`);
    // Deferred by one tick: the engine calls this synchronously inside run(), while the start time is being stamped.
    handlers[name] = async (input) => {
      await Promise.resolve();
      return handler(input);
    };
  });
  return handlers;
}

function handlerFor(resource: string, services: TaskServices): TaskHandler | undefined {
  if (LAMBDA_INVOKE.test(resource)) {
    return async (input) => {
      const params = (input ?? {}) as { FunctionName?: unknown; Payload?: Json };
      if (typeof params.FunctionName !== 'string') throw new TaskFailure('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
      const payload = await invokeLambda(services, functionNameOf(params.FunctionName), params.Payload ?? null);
      return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
    };
  }
  if (LAMBDA_ARN.test(resource)) return (input) => invokeLambda(services, functionNameOf(resource), input);
  const sdk = SDK.exec(resource);
  if (sdk) return sdkHandler(services, sdk[1]!, sdk[2]!);
  if (PUT_EVENTS.test(resource)) {
    return async (input) => {
      const entries = ((input as { Entries?: unknown })?.Entries ?? []) as Array<Record<string, unknown>>;
      // The optimised integration takes Detail as JSON; the bus (like the PutEvents API) takes a string.
      const wire = entries.map((e) => ({ ...e, Detail: typeof e.Detail === 'string' ? e.Detail : JSON.stringify(e.Detail ?? {}) }));
      const result = services.putEvents(wire);
      if (result.FailedEntryCount > 0) throw new TaskFailure('EventBridge.FailedEntry', JSON.stringify(result));
      return result as unknown as Json;
    };
  }
  return undefined;
}

async function invokeLambda(services: TaskServices, name: string, payload: Json): Promise<Json> {
  if (services.knownFunctions && !services.knownFunctions.has(name)) {
    throw new TaskFailure('Lambda.ResourceNotFoundException', `Function not found: ${name}`);
  }
  try {
    return (await services.invokeFunction(name, payload)) as Json;
  } catch (error) {
    const described = describeError(error);
    throw new TaskFailure(described.errorType, JSON.stringify(described));
  }
}

function sdkHandler(services: TaskServices, service: string, action: string): TaskHandler | undefined {
  const binding = services.sdk[service];
  const Command = binding?.commands[`${action[0]!.toUpperCase()}${action.slice(1)}Command`] as (new (input: unknown) => never) | undefined;
  if (!binding || !Command) return undefined;
  return async (input) => {
    let output: unknown;
    try {
      output = await binding.client.send(new Command(input ?? {}));
    } catch (error) {
      throw sdkFailure(binding.errorPrefix, error);
    }
    const { $metadata: _metadata, ...rest } = (output ?? {}) as Record<string, unknown>;
    services.onSdkResult?.(service, action, input, rest);
    return JSON.parse(JSON.stringify(rest)) as Json;
  };
}

/**
 * Step Functions names SDK errors `<Service>.<ErrorName>` and always ends the name in `Exception`
 * (S3 `BucketAlreadyExists` → `S3.BucketAlreadyExistsException`; SES v2 `MessageRejected` →
 * `SesV2.MessageRejectedException`). Errors that never reached the service stay `States.TaskFailed`.
 */
export function sdkFailure(prefix: string, error: unknown): TaskFailure {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  if (!e?.$metadata?.httpStatusCode) return new TaskFailure('States.TaskFailed', `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`);
  const name = (e.name ?? 'Unknown').endsWith('Exception') ? e.name! : `${e.name ?? 'Unknown'}Exception`;
  const cause = `${e.message ?? name} (Service: ${prefix}, Status Code: ${e.$metadata.httpStatusCode}, Request ID: ${e.$metadata.requestId ?? 'local'})`;
  return new TaskFailure(`${prefix}.${name}`, cause);
}

/** A short local wait for every retrier (AWS would wait IntervalSeconds × BackoffRate^n, up to minutes). */
export function retryIntervalOverrides(workflow: WorkflowLike, delayMs: number): Record<string, number> {
  const overrides: Record<string, number> = {};
  walkStates(workflow, (name, state) => {
    if (Array.isArray(state.Retry) && state.Retry.length > 0) overrides[name] = delayMs;
  });
  return overrides;
}

/**
 * `$$.State.Name` is constant per state, so a path to it is replaced by the literal name (the engine's context object
 * is shared by all states and cannot carry it). Returns a copy.
 */
export function bindStateNames(workflow: WorkflowLike): WorkflowLike {
  const copy = JSON.parse(JSON.stringify(workflow)) as WorkflowLike;
  const bind = (template: unknown, stateName: string): unknown => {
    if (Array.isArray(template)) return template.map((t) => bind(t, stateName));
    if (template === null || typeof template !== 'object') return template;
    return Object.fromEntries(
      Object.entries(template as Record<string, unknown>).map(([key, value]) =>
        key.endsWith('.$') && value === '$$.State.Name' ? [key.slice(0, -2), stateName] : [key, bind(value, stateName)],
      ),
    );
  };
  walkStates(copy, (name, state) => {
    for (const field of ['Parameters', 'ResultSelector', 'ItemSelector'] as const) {
      if (state[field] !== undefined) state[field] = bind(state[field], name);
    }
  });
  return copy;
}

export const PRODUCT_FUNCTIONS: ReadonlySet<string> = new Set(FUNCTION_NAMES);
