import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS } from '../../core/topology.ts';
import { inspectWorkflow } from '../../lib/constructs/workflow-definition.ts';
import { DEFAULT_WORKFLOWS_DIR } from '../../lib/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'outreach-workflow-'));
const write = (definition: unknown) => {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.asl.json`);
  writeFileSync(path, JSON.stringify(definition));
  return path;
};
const task = (Resource: string, Parameters?: object) => ({ Type: 'Task', Resource, ...(Parameters ? { Parameters } : {}), End: true });

describe('workflow definitions, checked at synth', () => {
  it.each(Object.values(WORKFLOWS))('%s: every placeholder and task is one the stack grants', (file) => {
    const usage = inspectWorkflow(join(DEFAULT_WORKFLOWS_DIR, `${file}.asl.json`));
    expect(usage.functions.size).toBeGreaterThan(0);
    expect(usage.timeoutSeconds).toBeLessThanOrEqual(300);
  });

  it('finds invoked functions and SES sends, inside Parallel branches too', () => {
    const usage = inspectWorkflow(
      write({
        StartAt: 'Both',
        TimeoutSeconds: 60,
        States: {
          Both: {
            Type: 'Parallel',
            End: true,
            Branches: [
              { StartAt: 'Check', States: { Check: task('arn:aws:states:::lambda:invoke', { FunctionName: '${CheckEligibilityFunctionArn}' }) } },
              { StartAt: 'Send', States: { Send: task('arn:aws:states:::aws-sdk:sesv2:sendEmail') } },
            ],
          },
        },
      }),
    );
    expect([...usage.functions]).toEqual([['CheckEligibilityFunctionArn', 'check-eligibility']]);
    expect(usage.sendsEmail).toBe(true);
  });

  it('stops synth on an unknown placeholder, an ungranted task and a missing timeout, all at once', () => {
    const path = write({
      StartAt: 'Put',
      States: {
        Put: { ...task('arn:aws:states:::dynamodb:putItem', { TableName: '${TouchpointsTable}' }), End: undefined, Next: 'Invoke' },
        Invoke: task('arn:aws:states:::lambda:invoke', { 'FunctionName.$': '$.fn' }),
      },
    });
    expect(() => inspectWorkflow(path)).toThrowError(
      /\$\{TouchpointsTable\} is not a known placeholder[\s\S]*"TimeoutSeconds" is required[\s\S]*Task "Put" uses "arn:aws:states:::dynamodb:putItem"[\s\S]*Task "Invoke" uses "arn:aws:states:::lambda:invoke"/,
    );
  });
});
