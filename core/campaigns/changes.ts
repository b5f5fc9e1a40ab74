/**
 * What `outreach campaigns diff` and `apply` decide, in plain data: which campaigns are added, changed (and where),
 * unchanged or only stored; the next immutable version; and the writes an apply makes, including the repair of an
 * apply that stopped half-way (see docs/campaigns.md, "How apply writes"). No I/O here: the store adapter reads the
 * table into `StoredCampaign`s and executes the `ApplyStep`s.
 */
import type { Campaign } from './schema.ts';

export const CURRENT_VERSION = 'current';
const VERSION_PATTERN = /^v(\d{6,})$/;
const AUDIT_PREFIX = 'audit#';

/** `v000001`: zero-padded so versions sort as strings in the table's sort key. */
export function formatVersion(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`a version number is a positive integer, not ${n}`);
  return `v${String(n).padStart(6, '0')}`;
}

/** The number of `v000042`, or undefined for `current`, audit keys and anything else. */
export function parseVersion(version: string): number | undefined {
  const match = VERSION_PATTERN.exec(version);
  return match ? Number(match[1]) : undefined;
}

/** The version after the highest existing one (`v000001` when there is none). */
export function nextVersion(existing: Iterable<string>): string {
  let highest = 0;
  for (const version of existing) highest = Math.max(highest, parseVersion(version) ?? 0);
  return formatVersion(highest + 1);
}

/** The sort key of an audit item: `audit#<ISO time>#v000002` (sorts by time; names the version it made current). */
export function auditKey(at: string, version: string): string {
  return `${AUDIT_PREFIX}${at}#${version}`;
}

/** The version an audit key records, or undefined when the key is not an audit key. */
export function auditedVersion(key: string): string | undefined {
  if (!key.startsWith(AUDIT_PREFIX)) return undefined;
  const version = key.slice(key.lastIndexOf('#') + 1);
  return parseVersion(version) === undefined ? undefined : version;
}

/** The definition as stored and compared: the validated campaign (defaults applied) as JSON. */
export function definitionText(campaign: Campaign): string {
  return JSON.stringify(campaign);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const join = (prefix: string, key: string | number) =>
  typeof key === 'number' ? `${prefix}[${key}]` : prefix ? `${prefix}.${key}` : key;

/**
 * Field paths where two JSON values differ, e.g. `delay`, `template.locales.de`, `trigger.currencies[1]`. A field
 * present on one side only is reported at its own path; arrays of different length at the array's path.
 */
export function changedPaths(before: unknown, after: unknown, prefix = ''): string[] {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedPaths(before[key], after[key], join(prefix, key)));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, index) => changedPaths(item, after[index], join(prefix, index)));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix || '(root)'];
}

/** One stored version item (`v000001`…). */
export interface StoredVersion {
  version: string;
  definition: string;
  appliedAt: string;
  actor: string;
  action: 'added' | 'changed';
  changedPaths: string[];
  previousVersion?: string;
}

/** The `current` item: what the runtime reads. `appliedVersion` is absent when it was written outside `apply` (local start). */
export interface StoredCurrent {
  definition: string;
  appliedVersion?: string;
}

/** Everything stored for one campaign id. */
export interface StoredCampaign {
  campaignId: string;
  current?: StoredCurrent;
  versions: StoredVersion[];
  /** Versions that have an audit item. */
  auditedVersions: string[];
}

export type ChangeStatus = 'added' | 'changed' | 'unchanged' | 'only-stored';

export interface CampaignChange {
  campaignId: string;
  status: ChangeStatus;
  /** For `changed`: the field paths that differ from the stored current definition. */
  changedPaths: string[];
  /** The version `current` points at (absent when none, or written outside apply). */
  storedVersion?: string;
}

function parseDefinition(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Compares the files' campaigns with what is stored as current: one entry per campaign id, files first, in order. */
export function compareCampaigns(desired: readonly Campaign[], stored: readonly StoredCampaign[]): CampaignChange[] {
  const byId = new Map(stored.map((s) => [s.campaignId, s]));
  const changes: CampaignChange[] = desired.map((campaign) => {
    const current = byId.get(campaign.id)?.current;
    const storedVersion = current?.appliedVersion ? { storedVersion: current.appliedVersion } : {};
    if (!current) return { campaignId: campaign.id, status: 'added', changedPaths: [] };
    const paths = changedPaths(parseDefinition(current.definition), parseDefinition(definitionText(campaign)));
    return { campaignId: campaign.id, status: paths.length > 0 ? 'changed' : 'unchanged', changedPaths: paths, ...storedVersion };
  });
  const wanted = new Set(desired.map((c) => c.id));
  for (const s of stored) {
    if (!wanted.has(s.campaignId) && s.current) {
      changes.push({
        campaignId: s.campaignId,
        status: 'only-stored',
        changedPaths: [],
        ...(s.current.appliedVersion ? { storedVersion: s.current.appliedVersion } : {}),
      });
    }
  }
  return changes;
}

/** An audit item's content. */
export interface AuditRecord {
  campaignId: string;
  at: string;
  actor: string;
  action: 'added' | 'changed';
  version: string;
  previousVersion?: string;
  changedPaths: string[];
}

/** The writes for one campaign, in this order: version item (unless it exists), move current, audit. */
export interface ApplyStep {
  campaignId: string;
  /** The version item to make current. */
  version: StoredVersion;
  /** True when the version item was already written by an apply that stopped before moving current (a repair). */
  versionExists: boolean;
  /** The current item the move is conditional on (absent: there must be none). */
  expectedCurrent?: StoredCurrent;
  audit: AuditRecord;
}

export interface ApplyPlan {
  changes: CampaignChange[];
  steps: ApplyStep[];
  /** Audit items missing for the version already current (an apply stopped after moving current): write them. */
  auditRepairs: AuditRecord[];
}

const auditOf = (campaignId: string, version: StoredVersion): AuditRecord => ({
  campaignId,
  at: version.appliedAt,
  actor: version.actor,
  action: version.action,
  version: version.version,
  ...(version.previousVersion ? { previousVersion: version.previousVersion } : {}),
  changedPaths: version.changedPaths,
});

const highestVersion = (versions: readonly StoredVersion[]): StoredVersion | undefined =>
  versions.reduce<StoredVersion | undefined>(
    (best, v) => ((parseVersion(v.version) ?? 0) > (best ? (parseVersion(best.version) ?? 0) : 0) ? v : best),
    undefined,
  );

/**
 * The writes that bring the table to the files. Unchanged campaigns get no writes (except a missing audit item for
 * their current version); campaigns only in the table are left alone (apply never deletes: set `enabled: false`).
 */
export function planApply(
  desired: readonly Campaign[],
  stored: readonly StoredCampaign[],
  context: { at: string; actor: string },
): ApplyPlan {
  const changes = compareCampaigns(desired, stored);
  const byId = new Map(stored.map((s) => [s.campaignId, s]));
  const steps: ApplyStep[] = [];
  const auditRepairs: AuditRecord[] = [];
  for (const campaign of desired) {
    const change = changes.find((c) => c.campaignId === campaign.id);
    const state = byId.get(campaign.id) ?? { campaignId: campaign.id, versions: [], auditedVersions: [] };
    const current = state.current;
    if (!change || change.status === 'unchanged') {
      const version = current?.appliedVersion ? state.versions.find((v) => v.version === current.appliedVersion) : undefined;
      if (version && !state.auditedVersions.includes(version.version)) auditRepairs.push(auditOf(campaign.id, version));
      continue;
    }
    const definition = definitionText(campaign);
    const highest = highestVersion(state.versions);
    // An earlier apply wrote this very definition as a version but stopped before moving current: reuse it.
    const reusable = highest && highest.version !== current?.appliedVersion && highest.definition === definition ? highest : undefined;
    const version: StoredVersion = reusable ?? {
      version: nextVersion(state.versions.map((v) => v.version)),
      definition,
      appliedAt: context.at,
      actor: context.actor,
      action: change.status === 'added' ? 'added' : 'changed',
      changedPaths: change.changedPaths,
      ...(current?.appliedVersion ? { previousVersion: current.appliedVersion } : {}),
    };
    steps.push({
      campaignId: campaign.id,
      version,
      versionExists: reusable !== undefined,
      ...(current ? { expectedCurrent: current } : {}),
      audit: auditOf(campaign.id, version),
    });
  }
  return { changes, steps, auditRepairs };
}
