/** Targets files: the shipped defaults, what a valid file means, and every mistake reported with file:line and path. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidTargetsError, loadTargetsFile, meetsTarget, parseTargetsText, targetFor } from '../../../core/metrics/targets.ts';

const FILE = 'metrics/targets.yaml';
const problems = (text: string) => parseTargetsText(text, FILE).problems;

describe('the shipped metrics/targets.yaml', () => {
  it('loads, with its example targets', () => {
    expect(loadTargetsFile('metrics/targets.yaml')).toEqual({
      repeatPurchaseWindowDays: 90,
      targets: {
        nps: { comparator: '>=', value: 30 },
        csat: { comparator: '>=', value: 80 },
        ces: { comparator: '>=', value: 5 },
        responseRate: { comparator: '>=', value: 20 },
        renewalRate: { comparator: '>=', value: 80 },
        churnRate: { comparator: '<=', value: 20 },
        repeatPurchaseRate: { comparator: '>=', value: 25 },
      },
    });
  });
});

describe('a valid file', () => {
  const text = [
    'repeatPurchaseWindowDays: 30',
    'targets:',
    '  nps:',
    '    comparator: "≥"',
    '    value: 70',
    '    campaigns:',
    '      nps-after-purchase: { value: 75 }',
    '      nps-quarterly: { comparator: "<=", value: -10 }',
    '  csat: { comparator: ">=", value: 90 }',
    '  churnRate: { comparator: "≤", value: 12.5 }',
  ].join('\n');

  it('normalises ≥ and ≤, and an override without a comparator takes the metric’s', () => {
    expect(parseTargetsText(text, FILE)).toEqual({
      config: {
        repeatPurchaseWindowDays: 30,
        targets: {
          nps: {
            comparator: '>=',
            value: 70,
            campaigns: { 'nps-after-purchase': { comparator: '>=', value: 75 }, 'nps-quarterly': { comparator: '<=', value: -10 } },
          },
          csat: { comparator: '>=', value: 90 },
          churnRate: { comparator: '<=', value: 12.5 },
        },
      },
      problems: [],
    });
  });

  it('resolves a campaign’s target, falling back to the metric’s', () => {
    const config = parseTargetsText(text, FILE).config!;
    expect(targetFor(config, 'nps')).toEqual({ comparator: '>=', value: 70, source: 'default' });
    expect(targetFor(config, 'nps', 'nps-after-purchase')).toEqual({ comparator: '>=', value: 75, source: 'campaign' });
    expect(targetFor(config, 'nps', 'other')).toEqual({ comparator: '>=', value: 70, source: 'default' });
    expect(targetFor(config, 'csat', 'nps-after-purchase')).toEqual({ comparator: '>=', value: 90, source: 'default' });
    expect(targetFor(config, 'ces')).toBeUndefined();
  });

  it('an empty file or one with comments only sets no targets', () => {
    expect(parseTargetsText('', FILE)).toEqual({ config: { repeatPurchaseWindowDays: 90, targets: {} }, problems: [] });
    expect(parseTargetsText('# nothing yet\n', FILE)).toEqual({ config: { repeatPurchaseWindowDays: 90, targets: {} }, problems: [] });
  });
});

describe('meeting a target', () => {
  it('compares the exact value; no value meets nothing', () => {
    expect(meetsTarget(30, { comparator: '>=', value: 30 })).toBe(true);
    expect(meetsTarget(29.99, { comparator: '>=', value: 30 })).toBe(false);
    expect(meetsTarget(20, { comparator: '<=', value: 20 })).toBe(true);
    expect(meetsTarget(20.01, { comparator: '<=', value: 20 })).toBe(false);
    expect(meetsTarget(undefined, { comparator: '<=', value: 20 })).toBeUndefined();
  });
});

describe('mistakes, each with file:line and path', () => {
  it('unknown metrics, with a hint or the list', () => {
    const text = 'targets:\n  nps:\n    comparator: ">="\n    value: 30\n  npss:\n    comparator: ">="\n    value: 30\n  loyalty: { comparator: ">=", value: 1 }\n';
    expect(problems(text)).toEqual([
      'metrics/targets.yaml:5 targets.npss: is not a known metric (did you mean nps?)',
      'metrics/targets.yaml:8 targets.loyalty: is not a known metric (expected one of: nps, csat, ces, responseRate, renewalRate, churnRate, repeatPurchaseRate, retentionPromoter, retentionPassive, retentionDetractor, retentionNone)',
    ]);
  });

  it('a wrong or missing comparator', () => {
    expect(problems('targets:\n  nps:\n    comparator: "=>"\n    value: 30\n  csat:\n    value: 80\n')).toEqual([
      'metrics/targets.yaml:3 targets.nps.comparator: "=>" is not a comparator (expected ">=" or "<=")',
      'metrics/targets.yaml:5 targets.csat.comparator: is missing (expected ">=" or "<=")',
    ]);
  });

  it('values out of the metric’s range, not numbers, or missing', () => {
    const text = [
      'targets:',
      '  csat: { comparator: ">=", value: 180 }',
      '  ces: { comparator: ">=", value: 0.5 }',
      '  nps: { comparator: ">=", value: "70" }',
      '  churnRate: { comparator: "<=" }',
      '  responseRate: { comparator: ">=", value: 20% }',
    ].join('\n');
    expect(problems(text)).toEqual([
      'metrics/targets.yaml:2 targets.csat.value: must be a number from 0 to 100, in percent',
      'metrics/targets.yaml:3 targets.ces.value: must be a number from 1 to 7, a mean score (7 = very easy)',
      'metrics/targets.yaml:4 targets.nps.value: must be a number from -100 to 100, in NPS points',
      'metrics/targets.yaml:5 targets.churnRate.value: is missing (expected a number from 0 to 100, in percent)',
      'metrics/targets.yaml:6 targets.responseRate.value: must be a number from 0 to 100, in percent',
    ]);
  });

  it('per-campaign overrides: only for survey metrics, with campaign ids and known fields', () => {
    const text = [
      'targets:',
      '  renewalRate:',
      '    comparator: ">="',
      '    value: 80',
      '    campaigns:',
      '      renewal-reminder: { value: 90 }',
      '  nps:',
      '    comparator: ">="',
      '    value: 30',
      '    campaigns:',
      '      Bad_Id: { value: 40 }',
      '      nps-a: { value: 40, comparatr: "<=" }',
      '      nps-b: { comparator: "<=" }',
      '      nps-c: 40',
    ].join('\n');
    expect(problems(text)).toEqual([
      'metrics/targets.yaml:5 targets.renewalRate.campaigns: is not a known field: per-campaign targets apply only to nps, csat, ces, responseRate (contracts and purchases belong to no campaign)',
      'metrics/targets.yaml:11 targets.nps.campaigns.Bad_Id: is not a campaign id (lowercase letters, digits and dashes)',
      'metrics/targets.yaml:12 targets.nps.campaigns.nps-a.comparatr: is not a known field (did you mean comparator?)',
      'metrics/targets.yaml:13 targets.nps.campaigns.nps-b.value: is missing (expected a number from -100 to 100, in NPS points)',
      'metrics/targets.yaml:14 targets.nps.campaigns.nps-c: must be a mapping with value (and comparator), e.g. { comparator: ">=", value: 30 }',
    ]);
  });

  it('unknown fields, a target that is not a mapping, a bad repeat window', () => {
    expect(problems('targets:\n  nps: { comparator: ">=", value: 30, valeu: 3 }\ntarget: {}\n')).toEqual([
      'metrics/targets.yaml:2 targets.nps.valeu: is not a known field (did you mean value?)',
      'metrics/targets.yaml:3 target: is not a known field (did you mean targets?)',
    ]);
    expect(problems('repeatPurchaseWindowDays: 400\ntargets:\n  nps: 30\n  csat:\n')).toEqual([
      'metrics/targets.yaml:1 repeatPurchaseWindowDays: must be a whole number of days from 0 to 365, e.g. 90',
      'metrics/targets.yaml:3 targets.nps: must be a mapping with comparator and value, e.g. { comparator: ">=", value: 30 }',
      'metrics/targets.yaml:4 targets.csat: must be a mapping with comparator and value, e.g. { comparator: ">=", value: 30 }',
    ]);
    expect(problems('targets:\n')).toEqual(['metrics/targets.yaml:1 targets: must be a mapping of metric → { comparator, value }']);
    expect(problems('- nps\n- csat\n')).toEqual([
      'metrics/targets.yaml:1 (root): must be a mapping with `targets:` (e.g. targets: { nps: { comparator: ">=", value: 30 } })',
    ]);
  });

  it('YAML errors: syntax, a metric given twice', () => {
    expect(problems('targets:\n  nps: { comparator: ">=", value: 30\n  csat: 3\n')).toEqual([
      'metrics/targets.yaml:3 Flow map in block collection must be sufficiently indented and end with a }',
    ]);
    expect(problems('targets:\n  nps: { comparator: ">=", value: 30 }\n  nps: { comparator: ">=", value: 40 }\n')).toEqual([
      'metrics/targets.yaml:3 Map keys must be unique',
    ]);
  });
});

describe('loading a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'targets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file relative to the working directory in every problem', () => {
    writeFileSync(join(dir, 'targets.yaml'), 'targets:\n  nps: { comparator: ">=", value: 300 }\n');
    expect(() => loadTargetsFile(join(dir, 'targets.yaml'), dir)).toThrow(
      new InvalidTargetsError(['targets.yaml:2 targets.nps.value: must be a number from -100 to 100, in NPS points']),
    );
    try {
      loadTargetsFile(join(dir, 'targets.yaml'), dir);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTargetsError);
      expect((error as InvalidTargetsError).message).toBe(
        'metric targets are invalid:\n  targets.yaml:2 targets.nps.value: must be a number from -100 to 100, in NPS points',
      );
    }
  });

  it('a missing file is a problem too', () => {
    expect(() => loadTargetsFile(join(dir, 'none.yaml'), dir)).toThrow(new InvalidTargetsError(['none.yaml: cannot be read (no such file)']));
  });
});
