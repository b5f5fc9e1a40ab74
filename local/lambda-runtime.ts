/**
 * Runs the product's Lambda handlers in-process, the way Lambda would: JSON in, JSON out, a Lambda-like context, and
 * for asynchronous invocations (EventBridge rules, Scheduler) two retries and then a dead-letter store.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LocalClock } from './clock.ts';
import type { LocalMeter } from './meter.ts';
import type { WorkTracker } from './work-tracker.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';

export interface LambdaContextLike {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

export type LambdaHandler = (event: unknown, context: LambdaContextLike) => unknown;
export type HandlerLoader = (name: string) => Promise<LambdaHandler>;

export function functionArn(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
}

/** The function name in a Lambda ARN, a partial ARN or a plain name (`name`, `name:$LATEST`, `arn:…:function:name[:alias]`). */
export function functionNameOf(nameOrArn: string): string {
  const parts = nameOrArn.split(':');
  if (nameOrArn.startsWith('arn:')) return parts[6] ?? nameOrArn;
  return parts[0] ?? nameOrArn;
}

/** Loads `functions/<name>/handler.ts` (export `handler`) from the project root, once per function. */
export function handlerModuleLoader(rootDir: string): HandlerLoader {
  const cache = new Map<string, Promise<LambdaHandler>>();
  return (name) => {
    let loaded = cache.get(name);
    if (!loaded) {
      const url = pathToFileURL(join(rootDir, 'functions', name, 'handler.ts')).href;
      loaded = import(url).then((module: { handler?: unknown }) => {
        if (typeof module.handler !== 'function') throw new TypeError(`functions/${name}/handler.ts does not export a handler function`);
        return module.handler as LambdaHandler;
      });
      cache.set(name, loaded);
    }
    return loaded;
  };
}

/** An error as Lambda reports it: `errorType` is the error's `name`, which Step Functions and the DLQ show. */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export function describeError(error: unknown): FunctionError {
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

export interface DeadLetter {
  id: string;
  functionName: string;
  /** What delivered the event: an EventBridge rule or a schedule. */
  source: string;
  event: unknown;
  errorName: string;
  errorMessage: string;
  attempts: number;
  /** Local clock time of the last failure. */
  failedAt: string;
}

export type AsyncOutcome = { ok: true; result: unknown } | { ok: false; deadLetter: DeadLetter };

export interface LocalFunctionsOptions {
  load: HandlerLoader;
  clock: LocalClock;
  tracker: WorkTracker;
  /** Retries after the first failed asynchronous attempt (Lambda: 2). */
  asyncRetries?: number;
  log?: (line: string) => void;
  timeoutMs?: number;
  /** Counts each invocation's duration and log output (bench/cost.ts); absent: nothing is metered. */
  meter?: LocalMeter;
}

export class LocalFunctions {
  readonly deadLetters: DeadLetter[] = [];
  private readonly options: Required<Omit<LocalFunctionsOptions, 'log' | 'meter'>> & Pick<LocalFunctionsOptions, 'meter'> & { log: (line: string) => void };

  constructor(options: LocalFunctionsOptions) {
    this.options = { asyncRetries: 2, timeoutMs: 900_000, log: () => {}, ...options };
  }

  /** Imports the handler module now (the stack loads them all at start, after setting the environment). */
  async load(name: string): Promise<void> {
    await this.options.load(name);
  }

  /** Synchronous (RequestResponse) invocation: resolves with the JSON result or rejects with the handler's error. */
  async invoke(name: string, event: unknown): Promise<unknown> {
    const handler = await this.options.load(name);
    const started = Date.now();
    const context: LambdaContextLike = {
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionArn(name),
      memoryLimitInMB: '256',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, this.options.timeoutMs - (Date.now() - started)),
    };
    // Lambda hands the handler a fresh copy of the JSON payload and serialises what it returns.
    const run = () => handler(JSON.parse(JSON.stringify(event ?? null)), context);
    const result = await (this.options.meter ? this.options.meter.invocation(name, run) : run());
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  }

  /**
   * Asynchronous (Event) invocation, as EventBridge and Scheduler do it: the caller does not wait on it; on error the
   * event is tried again up to `asyncRetries` times (immediately: locally there is nothing to wait for) and then
   * dead-lettered. The returned promise (tracked, never rejecting) tells the local stack how it ended.
   */
  invokeAsync(name: string, event: unknown, source: string): Promise<AsyncOutcome> {
    return this.options.tracker.track(this.deliver(name, event, source));
  }

  private async deliver(name: string, event: unknown, source: string): Promise<AsyncOutcome> {
    const attempts = 1 + this.options.asyncRetries;
    let last: FunctionError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        return { ok: true, result: await this.invoke(name, event) };
      } catch (error) {
        last = describeError(error);
        this.options.log(`✗ ${name} attempt ${attempt}/${attempts} failed: ${last.errorType}: ${last.errorMessage}`);
      }
    }
    const letter: DeadLetter = {
      id: randomUUID(),
      functionName: name,
      source,
      event,
      errorName: last!.errorType,
      errorMessage: last!.errorMessage,
      attempts,
      failedAt: this.options.clock.nowIso(),
    };
    this.deadLetters.push(letter);
    this.options.log(`☠ dead letter ${letter.id}: ${name} (${source}) gave up after ${attempts} attempts: ${letter.errorName}: ${letter.errorMessage}`);
    return { ok: false, deadLetter: letter };
  }
}

