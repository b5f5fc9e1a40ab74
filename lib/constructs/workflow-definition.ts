import { readFileSync } from 'node:fs';
import { WORKFLOW_FUNCTION_PLACEHOLDERS, type FunctionName } from '../../core/topology.ts';

/** Task resources the runtime knows how to grant. Anything else stops synth rather than deploying a workflow that fails. */
export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const SES_SEND_EMAIL = 'arn:aws:states:::aws-sdk:sesv2:sendEmail';
export const EVENTS_PUT_EVENTS = 'arn:aws:states:::events:putEvents';
/** `${EventBusName}`: the product's bus, by name. The only bus a workflow may put events on, and the one granted. */
export const EVENT_BUS_PLACEHOLDER = 'EventBusName';

export interface WorkflowUsage {
  /** Functions the workflow invokes, by placeholder. */
  readonly functions: ReadonlyMap<string, FunctionName>;
  readonly sendsEmail: boolean;
  /** Puts events on the product's bus (`${EventBusName}`). */
  readonly publishesEvents: boolean;
  /** The top-level TimeoutSeconds. */
  readonly timeoutSeconds: number;
}

interface State {
  Type?: string;
  Resource?: string;
  Parameters?: { FunctionName?: unknown; Entries?: unknown };
  Branches?: StateMachineFragment[];
  Iterator?: StateMachineFragment;
  ItemProcessor?: StateMachineFragment;
}
interface StateMachineFragment {
  States?: Record<string, State>;
  TimeoutSeconds?: unknown;
}

function* tasks(fragment: StateMachineFragment | undefined): Generator<[string, State]> {
  for (const [name, state] of Object.entries(fragment?.States ?? {})) {
    if (state.Type === 'Task') yield [name, state];
    for (const branch of state.Branches ?? []) yield* tasks(branch);
    yield* tasks(state.ItemProcessor ?? state.Iterator);
  }
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const placeholderOf = (value: unknown) => (typeof value === 'string' ? /^\$\{([^}]+)\}$/.exec(value)?.[1] : undefined);

/**
 * Reads a workflow definition and checks, at synth, that every `${Placeholder}` is one CDK substitutes and every Task
 * is one whose permission the runtime grants; returns what the state machine role needs.
 */
export function inspectWorkflow(path: string): WorkflowUsage {
  const text = readFileSync(path, 'utf8');
  const problems: string[] = [];
  const functions = new Map<string, FunctionName>();
  for (const [, placeholder = ''] of text.matchAll(PLACEHOLDER)) {
    const target = WORKFLOW_FUNCTION_PLACEHOLDERS[placeholder];
    if (target) functions.set(placeholder, target);
    else if (placeholder !== EVENT_BUS_PLACEHOLDER) {
      problems.push(`\${${placeholder}} is not a known placeholder (known: ${[...Object.keys(WORKFLOW_FUNCTION_PLACEHOLDERS), EVENT_BUS_PLACEHOLDER].join(', ')})`);
    }
  }

  const definition = JSON.parse(text) as StateMachineFragment;
  // CDK's `timeout` prop is ignored for a definition from a file, and the local engine reads it from the file too.
  const timeoutSeconds = definition.TimeoutSeconds;
  if (!(typeof timeoutSeconds === 'number' && Number.isInteger(timeoutSeconds) && timeoutSeconds > 0)) {
    problems.push('a top-level "TimeoutSeconds" is required (without it an execution can run for a year), e.g. "TimeoutSeconds": 300');
  }

  let sendsEmail = false;
  let publishesEvents = false;
  for (const [name, task] of tasks(definition)) {
    if (task.Resource === SES_SEND_EMAIL) sendsEmail = true;
    else if (task.Resource === EVENTS_PUT_EVENTS) {
      publishesEvents = true;
      const entries = task.Parameters?.Entries;
      const onProductBus = Array.isArray(entries) && entries.every((entry) => placeholderOf((entry as { EventBusName?: unknown }).EventBusName) === EVENT_BUS_PLACEHOLDER);
      if (!onProductBus) problems.push(`Task "${name}" must put every entry on "\${${EVENT_BUS_PLACEHOLDER}}" (a literal Entries list): only the product's bus is granted`);
    } else if (task.Resource === LAMBDA_INVOKE ? !placeholderOf(task.Parameters?.FunctionName) : !placeholderOf(task.Resource)) {
      problems.push(
        `Task "${name}" uses ${JSON.stringify(task.Resource)}: only ${LAMBDA_INVOKE} (FunctionName = a function placeholder), a function placeholder, ${SES_SEND_EMAIL} or ${EVENTS_PUT_EVENTS} are granted`,
      );
    }
  }
  if (problems.length > 0) throw new Error(`Workflow ${path}:\n  - ${problems.join('\n  - ')}`);
  return { functions, sendsEmail, publishesEvents, timeoutSeconds: timeoutSeconds as number };
}
