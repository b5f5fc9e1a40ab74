/**
 * The send workflows (check-in, survey, renewal-reminder) are generated from workflows/source: the committed files
 * must be exactly what the source makes, and every Retry in them is one of the named policies.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generatedWorkflows, staleWorkflows } from '../../workflows/generate.ts';
import { DEPENDENCY_TRANSIENT_ERRORS, FUNCTION_RETRY, LAMBDA_SERVICE_ERRORS } from '../../workflows/source/retry-policies.ts';
import { SEND_WORKFLOWS } from '../../workflows/source/send-touchpoint.ts';
import type { Json, State } from './support.ts';

const NAMED_POLICIES: Json[] = [LAMBDA_SERVICE_ERRORS, DEPENDENCY_TRANSIENT_ERRORS].map((p) => structuredClone(p) as unknown as Json);

let scratch: string | undefined;
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

describe('generated send workflows', () => {
  it('are committed exactly as workflows/source generates them (npm run workflows)', () => {
    // Act
    const stale = staleWorkflows().map(({ path }) => basename(path));

    // Assess
    expect(stale).toEqual([]);
  });

  it('a hand edit to a committed file is caught (the check above can fail)', () => {
    // Prepare
    scratch = mkdtempSync(join(tmpdir(), 'workflows-'));
    for (const { path, text } of generatedWorkflows()) writeFileSync(join(scratch, basename(path)), text);
    const edited = join(scratch, 'survey.asl.json');
    writeFileSync(edited, readFileSync(edited, 'utf8').replace('"MaxAttempts": 4', '"MaxAttempts": 40'));

    // Act
    const stale = staleWorkflows(scratch).map(({ path }) => basename(path));

    // Assess
    expect(stale).toEqual(['survey.asl.json']);
  });

  it('one file per touchpoint kind, each with its own failure state', () => {
    // Act
    const files = generatedWorkflows().map(({ path }) => basename(path));
    const failStates = SEND_WORKFLOWS.map((v) => v.failState);

    // Assess
    expect(files).toEqual(['check-in.asl.json', 'survey.asl.json', 'renewal-reminder.asl.json']);
    expect(new Set(failStates).size).toBe(SEND_WORKFLOWS.length);
  });

  it('every Task retries with named policies only, and the send step only when the function did not finish (its claim makes a rerun send nothing)', () => {
    for (const { path, text } of generatedWorkflows()) {
      // Prepare
      const states = (JSON.parse(text) as { States: Record<string, State> }).States;

      for (const [name, state] of Object.entries(states)) {
        if (state.Type !== 'Task') continue;
        // Act
        const retry = state.Retry as Json[];

        // Assess
        for (const policy of retry) expect(NAMED_POLICIES, `${basename(path)} ${name}`).toContainEqual(policy);
        if (name === 'SendEmail') {
          expect(state.Resource).toBe('arn:aws:states:::lambda:invoke');
          expect(retry, basename(path)).toEqual(structuredClone(FUNCTION_RETRY));
          expect((state.Catch as Array<{ Next: string }>).map((c) => c.Next)).toEqual(['RecordSendStepError']);
        }
      }
    }
  });
});
