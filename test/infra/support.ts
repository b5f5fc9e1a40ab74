import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { parseOutreachConfig } from '../../lib/config.ts';
import { addOutreachStacks } from '../../lib/outreach-stacks.ts';

const CDK_JSON = fileURLToPath(new URL('../../cdk.json', import.meta.url));

/** cdk.json's feature flags (not its outreach: settings), so tests synthesize what `cdk synth` does. */
export function featureFlags(): Record<string, unknown> {
  const { context } = JSON.parse(readFileSync(CDK_JSON, 'utf8')) as { context: Record<string, unknown> };
  return Object.fromEntries(Object.entries(context).filter(([key]) => !key.startsWith('outreach:')));
}

export const SETTINGS = {
  'outreach:senderAddress': 'outreach@shop.example',
  'outreach:region': 'eu-west-1',
  'outreach:account': '123456789012',
  'outreach:alertEmail': 'ops@shop.example',
} as const;

/**
 * Both stacks from validated settings, as bin/app.ts builds them. `bundle: false` skips esbuild (CDK's
 * aws:cdk:bundling-stacks context): the template is the same but for the asset hashes, and it is much faster.
 */
export function synthOutreach(options: { bundle?: boolean; context?: Record<string, unknown> } = {}) {
  const context = { ...SETTINGS, ...options.context };
  const app = new App({ context: { ...featureFlags(), ...context, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) } });
  return { app, ...addOutreachStacks(app, parseOutreachConfig(context)) };
}

/** Every cdk-nag acknowledgement in the tree: construct path, rule id (as cdk-nag reports it), reason. */
export function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason })),
      ),
  );
}
