/**
 * Bulk import of existing contracts (from a CRM export) as CSV with a header row, or as JSON Lines. Parsing reports
 * every bad row with its line and what is wrong; importing is idempotent: a row that matches what is stored writes
 * nothing, so the same file can be imported again (after fixing the bad rows) safely.
 */
import { z } from 'zod';
import { describeIssues } from '../errors.ts';
import type { CustomerProfile, TouchpointRepository } from '../ports.ts';
import { checkTermDates, contractProfileShape, contractTermsShape, isoDateTimeSchema } from './contract-events.ts';
import { parseCsv } from './csv.ts';
import { type Contract, type ContractTerms, isRunning, sameTerms } from './model.ts';
import type { ContractCustomers, ContractRepository } from './ports.ts';
import { cancelReminders, contractReminders, forEachLimited } from './reminders.ts';
import { startOfLocalDay, utcInstant } from './renewal-offsets.ts';

export const contractImportRowSchema = z
  .strictObject({
    ...contractProfileShape,
    ...contractTermsShape,
    /** When the source system last changed the contract; orders the row against events. Default: the import time. */
    updatedAt: isoDateTimeSchema.optional(),
  })
  .superRefine(checkTermDates);
export type ContractImportRow = z.infer<typeof contractImportRowSchema>;

export const REQUIRED_COLUMNS = [
  'contractId',
  'customerId',
  'email',
  'name',
  'timeZone',
  'locale',
  'marketingConsent',
  'plan',
  'value',
  'currency',
  'startDate',
  'endDate',
  'autoRenew',
] as const;
export const OPTIONAL_COLUMNS = ['updatedAt'] as const;
const KNOWN_COLUMNS: readonly string[] = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS];
const NUMBER_COLUMNS = new Set(['value']);
const BOOLEAN_COLUMNS = new Set(['marketingConsent', 'autoRenew']);

export type ImportFormat = 'csv' | 'jsonl';

export interface BadRow {
  /** 1-based line of the file where the row starts (the CSV header is line 1). */
  line: number;
  /** `field: expectation` parts joined with "; ". Never quotes a personal value. */
  reason: string;
}

export interface ParsedImport {
  good: ContractImportRow[];
  bad: BadRow[];
}

/** The format a file name suggests: `.jsonl` / `.ndjson` are JSON Lines, anything else CSV. */
export function importFormatOf(fileName: string): ImportFormat {
  return /\.(jsonl|ndjson)$/i.test(fileName) ? 'jsonl' : 'csv';
}

export function parseContractImport(text: string, format: ImportFormat): ParsedImport {
  const candidates = format === 'csv' ? csvCandidates(text) : jsonLinesCandidates(text);
  const good: ContractImportRow[] = [];
  const bad: BadRow[] = [...candidates.bad];
  const firstLineOf = new Map<string, number>();
  for (const { line, value } of candidates.rows) {
    const parsed = contractImportRowSchema.safeParse(value);
    if (!parsed.success) {
      bad.push({ line, reason: rowProblems(parsed.error.issues).join('; ') });
      continue;
    }
    const first = firstLineOf.get(parsed.data.contractId);
    if (first !== undefined) {
      bad.push({ line, reason: `contractId: repeated (first on line ${first}); each contract may appear once per file` });
      continue;
    }
    firstLineOf.set(parsed.data.contractId, line);
    good.push(parsed.data);
  }
  bad.sort((a, b) => a.line - b.line);
  return { good, bad };
}

/** zod issues as `field: problem`; an unknown field is named as such (it is usually a misspelt column). */
function rowProblems(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${JSON.stringify(key)}: unknown field (expected: ${KNOWN_COLUMNS.join(', ')})`)
      : describeIssues([issue]),
  );
}

interface Candidates {
  rows: Array<{ line: number; value: unknown }>;
  bad: BadRow[];
}

function csvCandidates(text: string): Candidates {
  const records = parseCsv(text);
  const [header, ...body] = records;
  if (!header) return { rows: [], bad: [{ line: 1, reason: 'file: empty (expected a header row and one row per contract)' }] };
  if ('error' in header) return { rows: [], bad: [{ line: header.line, reason: `header: ${header.error}` }] };
  const columns = header.fields.map((name) => name.trim());
  const problems = headerProblems(columns);
  if (problems.length > 0) return { rows: [], bad: [{ line: header.line, reason: problems.join('; ') }] };

  const candidates: Candidates = { rows: [], bad: [] };
  for (const record of body) {
    if ('error' in record) {
      candidates.bad.push({ line: record.line, reason: record.error });
    } else if (record.fields.length !== columns.length) {
      candidates.bad.push({
        line: record.line,
        reason: `row: has ${record.fields.length} fields, the header has ${columns.length} (quote a field that contains a comma)`,
      });
    } else {
      candidates.rows.push({ line: record.line, value: fromCsvFields(columns, record.fields) });
    }
  }
  return candidates;
}

function headerProblems(columns: string[]): string[] {
  const problems: string[] = [];
  const missing = REQUIRED_COLUMNS.filter((column) => !columns.includes(column));
  if (missing.length > 0) problems.push(`header: missing column(s) ${missing.join(', ')}`);
  const unknown = columns.filter((column) => !KNOWN_COLUMNS.includes(column));
  if (unknown.length > 0) {
    problems.push(`header: unknown column(s) ${unknown.map((c) => JSON.stringify(c)).join(', ')} (expected: ${KNOWN_COLUMNS.join(', ')})`);
  }
  const repeated = columns.filter((column, i) => columns.indexOf(column) !== i);
  if (repeated.length > 0) problems.push(`header: column(s) ${[...new Set(repeated)].join(', ')} appear more than once`);
  return problems;
}

/** CSV cells are text: numbers and booleans are converted where they are unambiguous, the rest is left to the schema. */
function fromCsvFields(columns: string[], fields: string[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  columns.forEach((column, i) => {
    const cell = fields[i]!.trim();
    if (cell === '' && (OPTIONAL_COLUMNS as readonly string[]).includes(column)) return;
    if (NUMBER_COLUMNS.has(column) && /^-?\d+(\.\d+)?$/.test(cell)) row[column] = Number(cell);
    else if (BOOLEAN_COLUMNS.has(column) && /^(true|false)$/i.test(cell)) row[column] = cell.toLowerCase() === 'true';
    else row[column] = cell;
  });
  return row;
}

function jsonLinesCandidates(text: string): Candidates {
  const candidates: Candidates = { rows: [], bad: [] };
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((content, index) => {
      const line = index + 1;
      if (content.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(content);
      } catch {
        candidates.bad.push({ line, reason: 'row: not valid JSON (expected one JSON object per line)' });
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        candidates.bad.push({ line, reason: 'row: must be a JSON object' });
        return;
      }
      candidates.rows.push({ line, value });
    });
  return candidates;
}

export interface ImportDeps {
  contracts: ContractRepository;
  customers: ContractCustomers;
  touchpoints: TouchpointRepository;
}

export interface ImportResult {
  created: number;
  updated: number;
  /** Same terms as stored: nothing written. */
  unchanged: number;
  /** Different terms, but the stored contract is newer than the row (`updatedAt`, or the import time). */
  stale: number;
}

const MAX_ATTEMPTS = 5;

/**
 * Imports validated rows. Per row: the customer's profile is written if it differs from the stored one; a new
 * contract is created ACTIVE; an existing one is updated only when its terms differ and the row is newer than the
 * contract's version (keeping its status, renewals and outcome; reminders of a previous end date are cancelled).
 * An import never records an outcome, so it moves no renewal or churn count (outcome-counts.ts): the outcome history
 * is left to the contract events and the sweep.
 */
export async function importContracts(
  rows: readonly ContractImportRow[],
  deps: ImportDeps,
  options: { at: string; concurrency?: number },
): Promise<ImportResult> {
  const counts: ImportResult = { created: 0, updated: 0, unchanged: 0, stale: 0 };
  await forEachLimited(rows, options.concurrency ?? 16, async (row) => {
    counts[await importRow(row, utcInstant(row.updatedAt ?? options.at), deps)] += 1;
  });
  return counts;
}

async function importRow(row: ContractImportRow, at: string, deps: ImportDeps): Promise<keyof ImportResult> {
  const { email, name, locale, marketingConsent, updatedAt: _rowTime, ...terms } = row;
  await syncProfile({ customerId: terms.customerId, email, name, timeZone: terms.timeZone, locale, marketingConsent }, at, deps.customers);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const existing = await deps.contracts.get(terms.contractId);
    if (existing && sameTerms(existing, terms)) return 'unchanged';
    if (existing && existing.version >= at) return 'stale';
    const next = nextContract(existing, terms, at);
    if (!(await deps.contracts.upsertFromEvent(next, existing?.version))) continue;
    if (existing && isRunning(next.status) && existing.endDate !== next.endDate) {
      const reminders = await contractReminders(deps.touchpoints, next.customerId, next.contractId);
      await cancelReminders(deps.touchpoints, reminders, (r) => r.context.contract?.endDate !== next.endDate, 'contract end date changed', at);
    }
    return existing ? 'updated' : 'created';
  }
  throw new Error(`contract ${terms.contractId}: ${MAX_ATTEMPTS} conflicting writes in a row`);
}

function nextContract(existing: Contract | undefined, terms: ContractTerms, at: string): Contract {
  const endsAt = startOfLocalDay(terms.endDate, terms.timeZone);
  if (existing) return { ...existing, ...terms, endsAt, version: at, updatedAt: at };
  return { ...terms, status: 'ACTIVE', endsAt, renewals: 0, version: at, createdAt: at, updatedAt: at };
}

const PROFILE_FIELDS = ['email', 'name', 'timeZone', 'locale', 'marketingConsent'] as const;

async function syncProfile(profile: CustomerProfile, at: string, customers: ContractCustomers): Promise<void> {
  const stored = await customers.get(profile.customerId);
  if (stored && PROFILE_FIELDS.every((field) => stored[field] === profile[field])) return;
  await customers.recordProfile(profile, at);
}
