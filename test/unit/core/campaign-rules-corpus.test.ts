/**
 * The corpus of bad rule files: every `test/fixtures/campaigns-bad/<case>.yaml` must be rejected with exactly the
 * problems in its sibling `<case>.expected.txt` (one per line, in file order), so a marketer-facing message never
 * changes by accident. To add a case, add both files.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCampaignText } from '../../../core/campaigns/load.ts';

const DIR = 'test/fixtures/campaigns-bad';
const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => f.replace(/\.yaml$/, ''));

describe('bad campaign rule files', () => {
  it('covers at least the documented mistakes', () => {
    expect(cases).toEqual(
      expect.arrayContaining([
        'bad-duration',
        'unknown-field',
        'unknown-kind',
        'missing-template',
        'template-and-variants',
        'bad-variant-weights',
        'duplicate-variant-id',
        'bad-holdout-percent',
        'active-until-before-from',
        'quiet-hours-too-long',
        'bad-template-syntax',
        'yaml-syntax-error',
        'send-window-backwards',
        'send-window-inside-quiet-hours',
        'bad-loyalty-tier',
      ]),
    );
  });

  it.each(cases)('%s.yaml is rejected with exactly the expected messages', (name) => {
    const file = join(DIR, `${name}.yaml`);
    const expected = readFileSync(join(DIR, `${name}.expected.txt`), 'utf8').split('\n').filter((line) => line !== '');
    const result = parseCampaignText(readFileSync(file, 'utf8'), file);
    expect(result.campaign).toBeUndefined();
    expect(result.problems).toEqual(expected);
  });
});
