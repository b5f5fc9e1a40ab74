import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Validations } from 'aws-cdk-lib';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FUNCTION_NAMES } from '../../core/topology.ts';
import { DASHBOARD_ASSETS } from '../../functions/metrics-api/assets.ts';
import { PROJECT_ROOT } from '../../lib/paths.ts';
import { acknowledgements, synthOutreach } from './support.ts';
import { productFunctions } from './template-helpers.ts';

/** The pack with acknowledgements ignored: what cdk-nag would report if nothing were acknowledged. */
class UnacknowledgedChecks extends AwsSolutionsChecks {}
(UnacknowledgedChecks.prototype as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;

const DOCS = readFileSync(fileURLToPath(new URL('../../docs/cdk-nag.md', import.meta.url)), 'utf8');

describe('cdk-nag AwsSolutions', () => {
  let synth: ReturnType<typeof synthOutreach>;
  let assembly: CloudAssembly;
  let report: PolicyValidationPluginReport;

  beforeAll(() => {
    // As `cdk synth` does: handlers bundled with esbuild, the pack registered as a validation plugin (v3), which
    // fails synthesis on any unacknowledged finding, error or warning.
    synth = synthOutreach({ bundle: true, context: { 'outreach:sesIdentity': 'shop.example' } });
    Validations.of(synth.app).addPlugins(new AwsSolutionsChecks(synth.app));
    assembly = synth.app.synth();
    report = new AwsSolutionsChecks().validateScope(synth.app);
  });

  it('synthesizes both stacks offline, with every function bundled as an ESM module', () => {
    expect(assembly.stacks.map((stack) => stack.stackName).sort()).toEqual(['OutreachStateful', 'OutreachStateless']);
    const functions = productFunctions(assembly.getStackByName('OutreachStateless').template.Resources as Record<string, { Type: string; Properties: { Code: { S3Key: string } } }>).filter(
      (resource) => resource.Type === 'AWS::Lambda::Function',
    );
    expect(functions).toHaveLength(FUNCTION_NAMES.length);
    for (const fn of functions) {
      const bundle = readFileSync(join(assembly.directory, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`, 'index.mjs'), 'utf8');
      expect(bundle.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);")).toBe(true);
      expect(bundle).toContain('sourceMappingURL=index.mjs.map');
    }
  });

  it('bundles the metrics API with the dashboard\'s files next to it, and the bundle serves the page with chart.js', async () => {
    const template = assembly.getStackByName('OutreachStateless').template as { Resources: Record<string, { Type: string; Properties: { Description?: string; Code?: { S3Key: string } } }> };
    const fn = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Description === 'Outreach: metrics-api');
    const bundle = join(assembly.directory, `asset.${String(fn!.Properties.Code!.S3Key).replace(/\.zip$/, '')}`);
    for (const [name, source] of Object.entries(DASHBOARD_ASSETS)) {
      expect(readFileSync(join(bundle, name), 'utf8'), name).toBe(readFileSync(join(PROJECT_ROOT, source), 'utf8'));
    }

    // As Lambda loads it (the SDK is external: the runtime has it; here it comes from the project's node_modules).
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(bundle, 'node_modules'), 'dir');
    const env = { METRICS_TABLE: 'm', SURVEY_AGGREGATES_TABLE: 'a', METRICS_TOKEN_SECRET_ARN: 'arn:secret', METRIC_TARGETS: '{"targets":{}}', AWS_REGION: 'eu-west-1' };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    try {
      const { handler } = (await import(pathToFileURL(join(bundle, 'index.mjs')).href)) as { handler: (event: unknown) => Promise<{ statusCode: number; body: string }> };
      const page = await handler({ routeKey: 'GET /dashboard', rawPath: '/dashboard', headers: {}, requestContext: { http: { method: 'GET' }, timeEpoch: 0 } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Chart.js v4.6.1');
      expect(page.body).toContain(readFileSync(join(PROJECT_ROOT, DASHBOARD_ASSETS['dashboard.js']), 'utf8'));
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('reports no AwsSolutions error or warning', () => {
    expect(report.violations.map((violation) => `${violation.ruleName} (${violation.severity}) at ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only findings that exist, each at the resource it concerns', () => {
    const findings = new UnacknowledgedChecks().validateScope(synth.app).violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => ({ id: violation.ruleName, path: resource.constructPath! })),
    );
    for (const acknowledgement of acknowledgements(synth.app)) {
      const covered = findings.filter((finding) => finding.id === acknowledgement.id && finding.path.startsWith(`${acknowledgement.path}/`));
      expect(covered, `${acknowledgement.id} at ${acknowledgement.path} acknowledges nothing`).not.toHaveLength(0);
    }
  });

  it('acknowledges nothing at stack or app level', () => {
    const roots = new Set(['', ...synth.app.node.children.map((child) => child.node.path)]);
    expect(acknowledgements(synth.app).filter((acknowledgement) => roots.has(acknowledgement.path))).toEqual([]);
  });

  it('lists every acknowledgement, with its reason, in docs/cdk-nag.md', () => {
    const acknowledged = acknowledgements(synth.app);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledged) {
      expect(DOCS).toContain(id);
      expect(DOCS).toContain(reason);
    }
  });
});
