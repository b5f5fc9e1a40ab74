/**
 * Operating the outbox: list touchpoints by status, re-drive FAILED (and, on request, UNCONFIRMED) ones, and measure
 * the send backlog. What `outreach touchpoints list | redrive | backlog` runs (cli/touchpoints.ts); plain TypeScript,
 * "now" passed in.
 *
 * A re-drive puts the touchpoint back exactly where a new one starts: PENDING, due now, in the due index, with
 * generation + 1 (so no write of the execution that failed it matches any more, and the next execution gets a new
 * name), its reason cleared and its per-send budgets (deferrals, re-dispatches, unconfirmed re-sends) reset; it keeps
 * `redrives` (how often) and `redrivenAt` (when last). Dispatch then sends it like any other: eligibility (consent,
 * unsubscribe, caps, quiet hours) is checked again at that time.
 */
import type { Touchpoint, TouchpointKind, TouchpointStatus } from '../model.ts';
import { TOUCHPOINT_STATUSES } from '../model.ts';
import type { DuePage } from '../ports.ts';
import { InvalidInputError } from '../errors.ts';
import { addDuration, toUtcIso } from '../schedule.ts';

/** What an operator sees of a touchpoint: never the customer's data (no customer id, address, name or context). */
export interface TouchpointRow {
  touchpointId: string;
  kind: TouchpointKind;
  campaignId: string;
  status: TouchpointStatus;
  dueAt: string;
  generation: number;
  updatedAt: string;
  reason?: string;
  redrives?: number;
  redrivenAt?: string;
  /** UNCONFIRMED sends sent again: a FAILED touchpoint with one may have been delivered. */
  unconfirmedResends?: number;
}

/** `newest`: the latest transition first (updatedAt, descending); `due`: the earliest due time first. */
export const LIST_ORDERS = ['newest', 'due'] as const;
export type ListOrder = (typeof LIST_ORDERS)[number];

export interface ListPage {
  items: TouchpointRow[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

/** The statuses a re-drive starts from. */
export const REDRIVABLE_STATUSES = ['FAILED', 'UNCONFIRMED'] as const;
export type RedrivableStatus = (typeof REDRIVABLE_STATUSES)[number];

/** One conditional write: `from` + `generation` → PENDING due `at`. */
export interface RedriveWrite {
  touchpointId: string;
  from: RedrivableStatus;
  /** The generation read; the write applies only while the touchpoint still has it. */
  generation: number;
  at: string;
  /** Required to re-drive an UNCONFIRMED touchpoint, or a FAILED one that had an unconfirmed send (it may have gone). */
  acceptDuplicate?: boolean;
}

/** Raised (before any write) for a re-drive that may send an email twice and was not explicitly accepted. */
export class DuplicateSendRiskError extends Error {
  constructor(readonly touchpointId: string, readonly why: string) {
    super(`touchpoint ${touchpointId} was not re-driven: ${why}; re-driving it may send the email twice, so it needs acceptDuplicate`);
    this.name = 'DuplicateSendRiskError';
  }
}

/** The port: what operating the outbox needs from the touchpoints table. */
export interface TouchpointOperations {
  /** The shards of the due index (the deployment's DISPATCH_SHARDS). */
  readonly shards: number;
  get(touchpointId: string): Promise<Touchpoint | undefined>;
  /**
   * Up to `limit` touchpoints with `status`, in `order`, after the cursor `after` (a `next` from an earlier page). The
   * sort is over every touchpoint with that status, so a page is exact however the table is stored.
   */
  listByStatus(status: TouchpointStatus, options: { order: ListOrder; limit: number; after?: string }): Promise<ListPage>;
  /**
   * `from` + `generation` → PENDING due `at`, back in the due index as a new PENDING touchpoint is, generation + 1,
   * reason removed, budgets reset, `redrives` + 1 and `redrivenAt` = `at`. False, and nothing written, when the
   * touchpoint has moved on (another status or generation), or, without `acceptDuplicate`, when it is a FAILED one that
   * had an unconfirmed send. Throws DuplicateSendRiskError for `from` UNCONFIRMED without `acceptDuplicate`.
   */
  redrive(write: RedriveWrite): Promise<boolean>;
  /** One page of a shard's due index up to `until` (inclusive), earliest due key first: index rows only. */
  dueIndexPage(shard: number, until: string, limit: number, startKey?: string): Promise<DuePage>;
}

export interface OperationsDeps {
  operations: TouchpointOperations;
}

/** An SES error's message can echo the request, so a reason may hold the recipient's address: shown without it. */
const EMAIL_ADDRESS = /[^\s<>()[\]"',;:]+@[^\s<>()[\]"',;:]+\.[A-Za-z]{2,}/g;
export const withoutAddresses = (reason: string) => reason.replace(EMAIL_ADDRESS, '<address>');

/** The operator's view of a stored touchpoint. */
export function rowOf(t: Touchpoint & { redrives?: number; redrivenAt?: string }): TouchpointRow {
  return {
    touchpointId: t.touchpointId,
    kind: t.kind,
    campaignId: t.campaignId,
    status: t.status,
    dueAt: t.dueAt,
    generation: t.generation,
    updatedAt: t.updatedAt,
    ...(t.reason !== undefined ? { reason: withoutAddresses(t.reason) } : {}),
    ...(t.redrives !== undefined ? { redrives: t.redrives } : {}),
    ...(t.redrivenAt !== undefined ? { redrivenAt: t.redrivenAt } : {}),
    ...(t.unconfirmedResends !== undefined ? { unconfirmedResends: t.unconfirmedResends } : {}),
  };
}

export const MAX_LIST_LIMIT = 1000;

const sortValue = (row: TouchpointRow, order: ListOrder) => (order === 'newest' ? row.updatedAt : row.dueAt);

/** `newest`: updatedAt descending; `due`: dueAt ascending; ties by id. */
export function compareRows(order: ListOrder): (a: TouchpointRow, b: TouchpointRow) => number {
  return (a, b) => {
    const byTime = Date.parse(sortValue(a, order)) - Date.parse(sortValue(b, order));
    return (order === 'newest' ? -byTime : byTime) || (a.touchpointId < b.touchpointId ? -1 : a.touchpointId > b.touchpointId ? 1 : 0);
  };
}

/** The cursor after `row`: `<its sort time>|<id>`. */
export const cursorOf = (row: TouchpointRow, order: ListOrder) => `${sortValue(row, order)}|${row.touchpointId}`;

const CURSOR = /^(\d{4}-\d{2}-\d{2}T[^|]+)\|([A-Za-z0-9_-]+)$/;
export const isCursor = (after: string) => CURSOR.test(after) && !Number.isNaN(Date.parse(CURSOR.exec(after)![1]!));

/**
 * Collects the page `after` the cursor from rows arriving in any order (a Scan's), holding at most 2 × limit + 1 of
 * them at a time, so listing a big table stays in bounded memory.
 */
export class PageCollector {
  private rows: TouchpointRow[] = [];
  private readonly compare: (a: TouchpointRow, b: TouchpointRow) => number;
  private readonly after?: TouchpointRow;

  constructor(private readonly options: { order: ListOrder; limit: number; after?: string }) {
    this.compare = compareRows(options.order);
    if (options.after !== undefined) {
      const [, at = '', touchpointId = ''] = CURSOR.exec(options.after) ?? [];
      const time = { updatedAt: at, dueAt: at };
      this.after = { touchpointId, ...time } as TouchpointRow;
    }
  }

  add(row: TouchpointRow): void {
    if (this.after && this.compare(row, this.after) <= 0) return;
    this.rows.push(row);
    if (this.rows.length > 2 * this.options.limit + 1) this.trim();
  }

  private trim(): void {
    this.rows.sort(this.compare);
    this.rows.length = Math.min(this.rows.length, this.options.limit + 1);
  }

  page(): ListPage {
    this.trim();
    const items = this.rows.slice(0, this.options.limit);
    return this.rows.length > this.options.limit ? { items, next: cursorOf(items.at(-1)!, this.options.order) } : { items };
  }
}

// ---------------------------------------------------------------------------------------------------------------- list

export interface ListRequest {
  status: string;
  order?: ListOrder;
  limit?: number;
  after?: string;
}

/** One page of the touchpoints with a status; throws InvalidInputError for an unknown status, order or limit. */
export async function listTouchpoints(request: ListRequest, deps: OperationsDeps): Promise<ListPage & { status: TouchpointStatus; order: ListOrder }> {
  const status = request.status as TouchpointStatus;
  if (!TOUCHPOINT_STATUSES.includes(status)) {
    throw new InvalidInputError(`unknown status ${request.status}: one of ${TOUCHPOINT_STATUSES.join(', ')}`);
  }
  const order = request.order ?? 'newest';
  if (!LIST_ORDERS.includes(order)) throw new InvalidInputError(`unknown order ${String(order)}: one of ${LIST_ORDERS.join(', ')}`);
  const limit = request.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new InvalidInputError(`the limit must be a whole number from 1 to ${MAX_LIST_LIMIT} (got ${limit})`);
  if (request.after !== undefined && !isCursor(request.after)) throw new InvalidInputError(`not a list cursor: ${request.after} (pass the "next" of an earlier page)`);
  const page = await deps.operations.listByStatus(status, { order, limit, ...(request.after !== undefined ? { after: request.after } : {}) });
  return { status, order, ...page };
}

// -------------------------------------------------------------------------------------------------------------- redrive

/** Touchpoint ids as touchpointIdFor makes them, and as Step Functions takes them in an execution name. */
const TOUCHPOINT_ID = /^[A-Za-z0-9_-]{1,72}$/;

export type RedriveOutcome =
  /** Written: PENDING, due now. */
  | 'redriven'
  /** A dry run: would be written. */
  | 'would-redrive'
  /** No longer re-drivable because a re-drive took it back already (the same command run twice): nothing written. */
  | 'already-redriven'
  /** Not FAILED or UNCONFIRMED: nothing written. */
  | 'not-redrivable'
  /** It may have been delivered, and acceptDuplicate was not given: nothing written. */
  | 'duplicate-risk'
  | 'not-found'
  /** It changed between the read and the write (e.g. SES's Send event settled it): nothing written. */
  | 'changed';

export interface RedriveResult {
  touchpointId: string;
  outcome: RedriveOutcome;
  /** The status read before the re-drive (absent when not found). */
  status?: TouchpointStatus;
  /** One line for people: `re-driven: …` or `not re-driven: …`. */
  message: string;
  /** redriven / would-redrive: the new due time. */
  dueAt?: string;
}

export interface RedriveReport {
  at: string;
  dryRun: boolean;
  results: RedriveResult[];
  /** Written (or, dry run, to be written). */
  redriven: number;
  /** Not written, whatever the reason (already-redriven included). */
  notRedriven: number;
}

export interface RedriveRequest {
  touchpointIds: readonly string[];
  /** "Now": the new due time and redrivenAt. */
  at: string;
  acceptDuplicate?: boolean;
  dryRun?: boolean;
}

/** Why re-driving this touchpoint may send its email a second time, or undefined when it cannot. */
function duplicateRisk(t: Touchpoint): string | undefined {
  if (t.status === 'UNCONFIRMED') {
    return 'UNCONFIRMED: SES may have accepted the email (its answer was lost); SES\'s Send event settles it, else dispatch sends it once more after its deadline';
  }
  if (t.status === 'FAILED' && (t.unconfirmedResends ?? 0) > 0) {
    return 'FAILED after an unconfirmed send: SES may have delivered it';
  }
  return undefined;
}

type Redrivable = Touchpoint & { status: RedrivableStatus; redrives?: number; redrivenAt?: string };

function classify(id: string, stored: (Touchpoint & { redrivenAt?: string }) | undefined, acceptDuplicate: boolean): RedriveResult | Redrivable {
  if (!stored) return { touchpointId: id, outcome: 'not-found', message: 'not re-driven: no such touchpoint' };
  const status = stored.status;
  if (!(REDRIVABLE_STATUSES as readonly string[]).includes(status)) {
    return stored.redrivenAt !== undefined
      ? { touchpointId: id, outcome: 'already-redriven', status, message: `not re-driven: already re-driven at ${stored.redrivenAt} (now ${status})` }
      : { touchpointId: id, outcome: 'not-redrivable', status, message: `not re-driven: ${status}` };
  }
  const risk = duplicateRisk(stored);
  if (risk !== undefined && !acceptDuplicate) {
    return { touchpointId: id, outcome: 'duplicate-risk', status, message: `not re-driven: ${risk}; re-driving may send the email twice (accept that explicitly to re-drive it)` };
  }
  return stored as Redrivable;
}

const isResult = (value: RedriveResult | Redrivable): value is RedriveResult => 'outcome' in value;

/**
 * Re-drives touchpoints by id. Every id is checked before anything is written: a malformed one fails the whole request
 * (InvalidInputError, nothing read or written); then every touchpoint is read and only the re-drivable ones are
 * written, each by one conditional write. At least once: the same request again writes nothing and reports
 * `already-redriven`. Ids given twice are handled once.
 */
export async function redriveTouchpoints(request: RedriveRequest, deps: OperationsDeps): Promise<RedriveReport> {
  const at = toUtcIso(request.at);
  const ids = [...new Set(request.touchpointIds)];
  if (ids.length === 0) throw new InvalidInputError('no touchpoint ids to re-drive');
  const malformed = ids.filter((id) => !TOUCHPOINT_ID.test(id));
  if (malformed.length > 0) {
    throw new InvalidInputError(`not a touchpoint id (letters, digits, - and _, at most 72): ${malformed.map((id) => JSON.stringify(id)).join(', ')}; nothing was re-driven`);
  }
  const acceptDuplicate = request.acceptDuplicate === true;
  const dryRun = request.dryRun === true;
  const read = await Promise.all(ids.map(async (id) => classify(id, await deps.operations.get(id), acceptDuplicate)));
  const results: RedriveResult[] = [];
  for (const [index, id] of ids.entries()) {
    const checked = read[index]!;
    if (isResult(checked)) {
      results.push(checked);
      continue;
    }
    const from = checked.status;
    const redriven = { touchpointId: id, status: from, dueAt: at };
    if (dryRun) {
      results.push({ ...redriven, outcome: 'would-redrive', message: `would re-drive: ${from} → PENDING, due ${at}` });
      continue;
    }
    const written = await deps.operations.redrive({ touchpointId: id, from, generation: checked.generation, at, ...(acceptDuplicate ? { acceptDuplicate } : {}) });
    if (written) {
      results.push({ ...redriven, outcome: 'redriven', message: `re-driven: ${from} → PENDING, due ${at} (re-drive ${(checked.redrives ?? 0) + 1})` });
      continue;
    }
    // Moved on between the read and the write: say what it is now.
    const now = classify(id, await deps.operations.get(id), acceptDuplicate);
    results.push(
      isResult(now)
        ? now
        : { touchpointId: id, outcome: 'changed', status: now.status, message: `not re-driven: it changed meanwhile (now ${now.status}, generation ${now.generation}); run again` },
    );
  }
  const redriven = results.filter((r) => r.outcome === 'redriven' || r.outcome === 'would-redrive').length;
  return { at, dryRun, results, redriven, notRedriven: results.length - redriven };
}

// -------------------------------------------------------------------------------------------------------------- backlog

/**
 * How far past "now" the backlog reads the due index. In-flight touchpoints hold the due key of their lease or deadline
 * (dispatch's lease, 15 min by default; the send step's SENDING_LEASE, 10 min; UNCONFIRMED_WINDOW, 30 min), each at most
 * that far after the write that set it, so every one of them is inside the range; PENDING touchpoints due within it
 * are read too (and not counted as due).
 */
export const IN_FLIGHT_HORIZON = 'PT2H';

/** Rows read per shard at most; above it the counts are lower bounds (`truncated`). */
export const MAX_BACKLOG_ROWS_PER_SHARD = 100_000;
const BACKLOG_PAGE = 1000;

export interface ShardBacklog {
  shard: number;
  /** PENDING, due at or before now. */
  due: number;
  oldestDueAt?: string;
  /** DISPATCHED or SENDING: a workflow or a send step has it. */
  inFlight: number;
  /** UNCONFIRMED: waiting for SES's Send event (or its deadline). */
  unconfirmed: number;
  /** The shard had more rows than were read: its counts are lower bounds. */
  truncated?: boolean;
}

export interface BacklogMeasure {
  at: string;
  due: number;
  oldestDueAt?: string;
  /** now − oldestDueAt, whole seconds; 0 without anything due. */
  oldestDueAgeSeconds: number;
  inFlight: number;
  unconfirmed: number;
  byShard: ShardBacklog[];
  /** Some shard had more rows than MAX_BACKLOG_ROWS_PER_SHARD: the counts are lower bounds. */
  truncated: boolean;
}

/**
 * The backlog at `now`: PENDING touchpoints due at or before it (how many, the oldest and its age), and those in flight
 * or unconfirmed, per shard and in total. Reads only the due index, up to now + IN_FLIGHT_HORIZON, every shard in
 * parallel, at most `maxRowsPerShard` rows each. The result also fits dispatch's `backlog` dependency.
 */
export async function measureBacklog(now: string, deps: OperationsDeps & { maxRowsPerShard?: number }): Promise<BacklogMeasure> {
  const at = toUtcIso(now);
  const until = addDuration(at, IN_FLIGHT_HORIZON);
  const nowMs = Date.parse(at);
  const max = deps.maxRowsPerShard ?? MAX_BACKLOG_ROWS_PER_SHARD;
  const shards = Array.from({ length: deps.operations.shards }, (_, shard) => shard);
  const byShard = await Promise.all(
    shards.map(async (shard): Promise<ShardBacklog> => {
      const measure: ShardBacklog = { shard, due: 0, inFlight: 0, unconfirmed: 0 };
      let read = 0;
      let startKey: string | undefined;
      do {
        const page = await deps.operations.dueIndexPage(shard, until, Math.min(BACKLOG_PAGE, max - read), startKey);
        for (const row of page.items) {
          if (row.status === 'PENDING') {
            if (Date.parse(row.dueAt) > nowMs) continue;
            measure.due += 1;
            if (measure.oldestDueAt === undefined || Date.parse(row.dueAt) < Date.parse(measure.oldestDueAt)) measure.oldestDueAt = row.dueAt;
          } else if (row.status === 'DISPATCHED' || row.status === 'SENDING') measure.inFlight += 1;
          else if (row.status === 'UNCONFIRMED') measure.unconfirmed += 1;
        }
        read += page.items.length;
        startKey = page.nextKey;
      } while (startKey !== undefined && read < max);
      if (startKey !== undefined) measure.truncated = true;
      return measure;
    }),
  );
  const oldestDueAt = byShard
    .map((s) => s.oldestDueAt)
    .filter((d): d is string => d !== undefined)
    .sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  const sum = (field: 'due' | 'inFlight' | 'unconfirmed') => byShard.reduce((total, s) => total + s[field], 0);
  return {
    at,
    due: sum('due'),
    ...(oldestDueAt !== undefined ? { oldestDueAt } : {}),
    oldestDueAgeSeconds: oldestDueAt === undefined ? 0 : Math.max(0, Math.floor((nowMs - Date.parse(oldestDueAt)) / 1000)),
    inFlight: sum('inFlight'),
    unconfirmed: sum('unconfirmed'),
    byShard,
    truncated: byShard.some((s) => s.truncated === true),
  };
}
