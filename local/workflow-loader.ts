/**
 * Loads workflows/<name>.asl.json — the same files CDK deploys — and substitutes `${Placeholder}`s the way CDK's
 * `definitionSubstitutions` does, with local values: Lambda ARNs of the same shape as in AWS, and the product's bus.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKFLOW_FUNCTION_PLACEHOLDERS } from '../core/topology.ts';
import { LOCAL_EVENT_BUS_NAME } from './constants.ts';
import { functionArn } from './lambda-runtime.ts';
import type { WorkflowLike } from './task-dispatch.ts';

/** `${EventBusName}`: the product's bus, where events:putEvents tasks publish (lib/constructs/workflow-definition.ts). */
export const EVENT_BUS_PLACEHOLDER = 'EventBusName';

/** @param eventBusName the product's bus (the stack's `eventBusName` option; LOCAL_EVENT_BUS_NAME by default) */
export function localSubstitutions(eventBusName: string = LOCAL_EVENT_BUS_NAME): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(WORKFLOW_FUNCTION_PLACEHOLDERS).map(([placeholder, fn]) => [placeholder, functionArn(fn)])),
    [EVENT_BUS_PLACEHOLDER]: eventBusName,
  };
}

export function substitute(text: string, substitutions: Record<string, string>, label: string): string {
  const result = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => substitutions[name] ?? whole);
  const left = [...new Set(result.match(/\$\{[^}]*\}/g) ?? [])];
  if (left.length > 0) {
    throw new Error(`${label}: no local value for ${left.join(', ')} (known: ${Object.keys(substitutions).join(', ')}); add it to core/topology.ts`);
  }
  return result;
}

export function loadWorkflow(rootDir: string, name: string, substitutions = localSubstitutions()): WorkflowLike {
  const file = join(rootDir, 'workflows', `${name}.asl.json`);
  const label = `workflows/${name}.asl.json`;
  const definition = JSON.parse(substitute(readFileSync(file, 'utf8'), substitutions, label)) as WorkflowLike;
  if (typeof definition.StartAt !== 'string' || typeof definition.States !== 'object') throw new Error(`${label} is not an ASL definition`);
  return definition;
}
