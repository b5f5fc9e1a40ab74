import { describe, expect, it } from 'vitest';
import {
  auditKey,
  auditedVersion,
  changedPaths,
  compareCampaigns,
  definitionText,
  formatVersion,
  nextVersion,
  parseVersion,
  planApply,
  type StoredCampaign,
  type StoredVersion,
} from '../../../core/campaigns/changes.ts';
import { loadCampaignDirectory } from '../../../core/campaigns/load.ts';
import type { Campaign } from '../../../core/campaigns/schema.ts';

const [shipped] = loadCampaignDirectory('campaigns');
if (!shipped) throw new Error('campaigns/ holds no campaign');
const base: Campaign = shipped;
const other: Campaign = { ...base, id: 'spring-check-in', delay: 'P5D' };
const context = { at: '2026-11-23T10:00:00.000Z', actor: 'sam' };

const version = (n: number, campaign: Campaign, extra: Partial<StoredVersion> = {}): StoredVersion => ({
  version: formatVersion(n),
  definition: definitionText(campaign),
  appliedAt: `2026-11-0${n}T00:00:00.000Z`,
  actor: 'kim',
  action: n === 1 ? 'added' : 'changed',
  changedPaths: [],
  ...extra,
});

/** A campaign applied up to version n, with current on n and every version audited. */
const applied = (campaign: Campaign, n = 1): StoredCampaign => ({
  campaignId: campaign.id,
  current: { definition: definitionText(campaign), appliedVersion: formatVersion(n) },
  versions: Array.from({ length: n }, (_, i) => version(i + 1, campaign)),
  auditedVersions: Array.from({ length: n }, (_, i) => formatVersion(i + 1)),
});

describe('versions', () => {
  it('are zero-padded to six digits, parsed back, and the next follows the highest', () => {
    expect(formatVersion(1)).toBe('v000001');
    expect(formatVersion(1234567)).toBe('v1234567');
    expect(parseVersion('v000042')).toBe(42);
    expect(parseVersion('current')).toBeUndefined();
    expect(parseVersion('audit#2026-11-23T10:00:00.000Z#v000002')).toBeUndefined();
    expect(nextVersion([])).toBe('v000001');
    expect(nextVersion(['v000001', 'current', 'v000009', 'v000003'])).toBe('v000010');
    expect(() => formatVersion(0)).toThrow(RangeError);
  });

  it('audit keys sort by time and name the version', () => {
    const key = auditKey(context.at, 'v000002');
    expect(key).toBe('audit#2026-11-23T10:00:00.000Z#v000002');
    expect(auditedVersion(key)).toBe('v000002');
    expect(auditedVersion('v000002')).toBeUndefined();
    expect(auditKey('2026-01-01T00:00:00.000Z', 'v000009') < auditKey('2026-02-01T00:00:00.000Z', 'v000001')).toBe(true);
  });
});

describe('changedPaths', () => {
  it('names every differing leaf, added and removed fields, and arrays by index or whole', () => {
    const before = { delay: 'P3D', trigger: { event: 'x', currencies: ['EUR', 'USD'] }, quietHours: { start: '21:00', end: '08:00' } };
    const after = { delay: 'P5D', trigger: { event: 'x', currencies: ['EUR', 'GBP'], minimumTotal: 10 }, description: 'new' };
    expect(changedPaths(before, after)).toEqual(['delay', 'description', 'quietHours', 'trigger.currencies[1]', 'trigger.minimumTotal']);
    expect(changedPaths({ stopOn: ['refund'] }, { stopOn: [] })).toEqual(['stopOn']);
    expect(changedPaths({ a: { b: 1 } }, { b: 1, a: { b: 1 } })).toEqual(['b']);
    expect(changedPaths({ a: 1, b: 2 }, { b: 2, a: 1 })).toEqual([]);
    expect(changedPaths(undefined, { a: 1 })).toEqual(['(root)']);
  });
});

describe('compareCampaigns', () => {
  it('reports added, changed (with paths), unchanged and only-stored', () => {
    const changed: Campaign = { ...base, delay: 'P4D', template: { ...base.template!, defaultLocale: 'de' } };
    const gone: Campaign = { ...base, id: 'winter-check-in' };
    expect(compareCampaigns([changed, other], [applied(base, 2), applied(gone)])).toEqual([
      { campaignId: base.id, status: 'changed', changedPaths: ['delay', 'template.defaultLocale'], storedVersion: 'v000002' },
      { campaignId: other.id, status: 'added', changedPaths: [] },
      { campaignId: gone.id, status: 'only-stored', changedPaths: [], storedVersion: 'v000001' },
    ]);
    expect(compareCampaigns([base], [applied(base)])).toEqual([
      { campaignId: base.id, status: 'unchanged', changedPaths: [], storedVersion: 'v000001' },
    ]);
  });

  it('treats an unreadable stored definition as changed at the root', () => {
    const broken: StoredCampaign = { campaignId: base.id, current: { definition: '{not json' }, versions: [], auditedVersions: [] };
    expect(compareCampaigns([base], [broken])).toEqual([{ campaignId: base.id, status: 'changed', changedPaths: ['(root)'] }]);
  });
});

describe('planApply', () => {
  it('writes nothing for unchanged campaigns and leaves only-stored ones alone', () => {
    const plan = planApply([base], [applied(base, 3), applied(other)], context);
    expect(plan.steps).toEqual([]);
    expect(plan.auditRepairs).toEqual([]);
    expect(plan.changes.map((c) => c.status)).toEqual(['unchanged', 'only-stored']);
  });

  it('adds a new campaign as v000001, conditional on there being no current item', () => {
    const [step, ...rest] = planApply([other], [], context).steps;
    expect(rest).toEqual([]);
    expect(step).toEqual({
      campaignId: other.id,
      version: { version: 'v000001', definition: definitionText(other), appliedAt: context.at, actor: 'sam', action: 'added', changedPaths: [] },
      versionExists: false,
      audit: { campaignId: other.id, at: context.at, actor: 'sam', action: 'added', version: 'v000001', changedPaths: [] },
    });
  });

  it('writes a changed campaign as the version after the highest, conditional on the current it read', () => {
    const state = applied(base, 2);
    state.versions.push(version(3, { ...base, delay: 'P9D' })); // a version an interrupted apply left behind
    const changed: Campaign = { ...base, delay: 'P4D' };
    const [step] = planApply([changed], [state], context).steps;
    expect(step?.version).toMatchObject({ version: 'v000004', action: 'changed', changedPaths: ['delay'], previousVersion: 'v000002' });
    expect(step?.versionExists).toBe(false);
    expect(step?.expectedCurrent).toEqual(state.current);
    expect(step?.audit).toMatchObject({ version: 'v000004', previousVersion: 'v000002', changedPaths: ['delay'], actor: 'sam' });
  });

  it('finishes an apply that wrote its version but did not move current: reuses that version', () => {
    const changed: Campaign = { ...base, delay: 'P4D' };
    const state = applied(base, 1);
    const left = version(2, changed, { actor: 'kim', changedPaths: ['delay'], previousVersion: 'v000001' });
    state.versions.push(left);
    const [step] = planApply([changed], [state], context).steps;
    expect(step).toMatchObject({ versionExists: true, version: left, audit: { at: left.appliedAt, actor: 'kim', version: 'v000002' } });
  });

  it('writes the missing audit item of a version that became current without one', () => {
    const state = applied(base, 2);
    state.auditedVersions = ['v000001'];
    const plan = planApply([base], [state], context);
    expect(plan.steps).toEqual([]);
    expect(plan.auditRepairs).toEqual([
      { campaignId: base.id, at: state.versions[1]?.appliedAt, actor: 'kim', action: 'changed', version: 'v000002', changedPaths: [] },
    ]);
  });
});
