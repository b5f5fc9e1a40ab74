/**
 * How much the deployment traces and logs: X-Ray tracing of functions and workflows, and the Step Functions
 * execution log level. Both are billed per execution, so the defaults keep what finds a failure (sampled traces,
 * ERROR-level execution logs) and leave the per-transition record to a deliberate `-c outreach:workflowLogLevel=ALL`.
 */
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel } from 'aws-cdk-lib/aws-stepfunctions';

/** 'sampled': X-Ray traces the requests its sampling rules pick (default rule: 1 a second, then 5 %); 'off': none. */
export const TRACING_MODES = ['sampled', 'off'] as const;
export type TracingMode = (typeof TRACING_MODES)[number];
export const DEFAULT_TRACING: TracingMode = 'sampled';

/** Step Functions execution log levels (never with execution data: inputs carry addresses and rendered emails). */
export const WORKFLOW_LOG_LEVELS = ['OFF', 'FATAL', 'ERROR', 'ALL'] as const;
export type WorkflowLogLevel = (typeof WORKFLOW_LOG_LEVELS)[number];
export const DEFAULT_WORKFLOW_LOG_LEVEL: WorkflowLogLevel = 'ERROR';

export interface ObservabilityProps {
  /**
   * X-Ray tracing of every function and state machine.
   * @default 'sampled'
   */
  readonly tracing?: TracingMode;
  /**
   * Step Functions execution log level of every state machine.
   * @default 'ERROR'
   */
  readonly workflowLogLevel?: WorkflowLogLevel;
}

/**
 * A function's Lambda tracing. `upstreamOnly`: a function that workflows (and AWS service events, which carry no
 * trace) invoke is traced only inside a trace its caller sampled (PassThrough), so it never starts a trace of its own:
 * SES's Send events, one per email, would otherwise each be a recorded trace.
 */
export const lambdaTracing = (mode: TracingMode = DEFAULT_TRACING, upstreamOnly = false): Tracing =>
  mode === 'off' ? Tracing.DISABLED : upstreamOnly ? Tracing.PASS_THROUGH : Tracing.ACTIVE;

export const stepFunctionsLogLevel = (level: WorkflowLogLevel = DEFAULT_WORKFLOW_LOG_LEVEL): LogLevel => LogLevel[level];
