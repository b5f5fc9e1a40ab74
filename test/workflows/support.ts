/** Loading, substituting and walking the workflow definitions under workflows/. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKFLOW_FUNCTION_PLACEHOLDERS, type FunctionName } from '../../core/topology.ts';
import { EVENT_BUS_PLACEHOLDER } from '../../lib/constructs/workflow-definition.ts';
import '../../local/promise-with-resolvers.ts';

export const WORKFLOWS_DIR = 'workflows';

export interface WorkflowFile {
  file: string;
  /** The definition text as committed, placeholders included. */
  text: string;
}

export function workflowFiles(): WorkflowFile[] {
  return readdirSync(WORKFLOWS_DIR)
    .filter((f) => f.endsWith('.asl.json'))
    .sort()
    .map((file) => ({ file, text: readFileSync(join(WORKFLOWS_DIR, file), 'utf8') }));
}

/** A Lambda function ARN, shaped as CDK's definitionSubstitutions would give it. */
export const functionArn = (fn: FunctionName): string => `arn:aws:lambda:us-east-1:123456789012:function:outreach-${fn}`;

const functionArnFor = (placeholder: string): string => {
  const fn = WORKFLOW_FUNCTION_PLACEHOLDERS[placeholder];
  if (!fn) throw new Error(`unknown placeholder \${${placeholder}}`);
  return functionArn(fn);
};

/** The product's bus, as CDK substitutes `${EventBusName}` (its name). */
export const EVENT_BUS_NAME = 'outreach-bus';

/** Every placeholder CDK substitutes: the functions' and the product's bus. */
export const KNOWN_PLACEHOLDERS: readonly string[] = [...Object.keys(WORKFLOW_FUNCTION_PLACEHOLDERS), EVENT_BUS_PLACEHOLDER];

/** `${Name}` occurrences in a definition text. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? '');
}

/** Replaces every function `${Placeholder}` by its function ARN and `${EventBusName}` by the bus name, as CDK does at deploy. */
export function substitute(text: string): string {
  let result = text.replaceAll(`\${${EVENT_BUS_PLACEHOLDER}}`, EVENT_BUS_NAME);
  for (const placeholder of Object.keys(WORKFLOW_FUNCTION_PLACEHOLDERS)) {
    result = result.replaceAll(`\${${placeholder}}`, functionArnFor(placeholder));
  }
  return result;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type State = { Type: string; [field: string]: Json };
export interface StatesScope {
  /** Where the scope is, e.g. "(top)" or "Fan.Branches[0]". */
  where: string;
  StartAt: string;
  States: Record<string, State>;
}

/** The top-level States and every nested one (Parallel branches, Map item processors). */
export function scopesOf(definition: { StartAt: string; States: Record<string, State> }, where = '(top)'): StatesScope[] {
  const scopes: StatesScope[] = [{ where, StartAt: definition.StartAt, States: definition.States }];
  for (const [name, state] of Object.entries(definition.States)) {
    const nested: Array<[string, Json | undefined]> = [];
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, i) => nested.push([`${name}.Branches[${i}]`, branch]));
    }
    if (state.Type === 'Map') {
      nested.push([`${name}.ItemProcessor`, state.ItemProcessor], [`${name}.Iterator`, state.Iterator]);
    }
    for (const [path, child] of nested) {
      if (child && typeof child === 'object' && !Array.isArray(child)) {
        scopes.push(...scopesOf(child as unknown as { StartAt: string; States: Record<string, State> }, path));
      }
    }
  }
  return scopes;
}
