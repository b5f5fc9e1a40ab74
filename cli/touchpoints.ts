/**
 * `npm run outreach -- touchpoints <command>`: operating the outbox (core/use-cases/operate-touchpoints.ts).
 *
 *   touchpoints list --status <status> [--order newest|due] [--limit N] [--after CURSOR] [--json]
 *                        one page of the touchpoints with a status (FAILED with their reasons), newest first or by due time
 *   touchpoints redrive <ids...> | --all-failed [--dry-run] [--accept-duplicate] [--json]
 *                        FAILED (and, with --accept-duplicate, UNCONFIRMED) touchpoints back to PENDING, due now
 *   touchpoints backlog [--json]
 *                        touchpoints due and not sent, the oldest one's age, and those in flight, per shard
 *
 * Every command takes `--table-touchpoints` (default TOUCHPOINTS_TABLE) and `--shards` (default DISPATCH_SHARDS): the
 * deployment's dispatchShards, which a re-drive must use to put the touchpoint where dispatch reads it. Output never
 * shows a customer's id, address or name. Exit codes: 0 done; 1 a re-drive left some touchpoint not re-driven (the
 * report says why; already re-driven ones count as done); 2 a bad option or an unreachable table. See docs/operations.md.
 */
import { type Command, Option } from 'commander';
import { DynamoDbTouchpointOperations } from '../adapters/dynamodb-touchpoint-operations.ts';
import { InvalidInputError } from '../core/errors.ts';
import { toUtcIso } from '../core/schedule.ts';
import { DEFAULT_DISPATCH_SHARDS } from '../core/topology.ts';
import {
  listTouchpoints,
  MAX_LIST_LIMIT,
  measureBacklog,
  redriveTouchpoints,
  type BacklogMeasure,
  type ListOrder,
  type ListPage,
  type RedriveReport,
  type TouchpointRow,
} from '../core/use-cases/operate-touchpoints.ts';
import type { TouchpointStatus } from '../core/model.ts';
import type { CliHelpers } from './outreach.ts';

interface TableOptions {
  tableTouchpoints: string;
  shards: string;
  json?: boolean;
}
interface ListOptions extends TableOptions {
  status?: string;
  order?: string;
  limit?: string;
  after?: string;
}
interface RedriveOptions extends TableOptions {
  allFailed?: boolean;
  dryRun?: boolean;
  acceptDuplicate?: boolean;
}

/** Rows per listed page when --all-failed collects the FAILED touchpoints (each page is one Scan of the table). */
const ALL_FAILED_PAGE = MAX_LIST_LIMIT;

/** Cells as aligned columns under their headings, `|`-separated. */
export function textTable(headings: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = headings.map((heading, i) => Math.max(heading.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(headings), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)];
}

/** `1h 02m 03s`, `4m 05s`, `6s`. */
export function formatAge(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${two(m)}m ${two(s)}s`;
  if (m > 0) return `${m}m ${two(s)}s`;
  return `${s}s`;
}

const ORDER_WORDS: Readonly<Record<ListOrder, string>> = { newest: 'newest first', due: 'earliest due first' };

/** A page of touchpoints as text: a heading, the table, and how to get the next page. */
export function listText(page: ListPage & { status: TouchpointStatus; order: ListOrder }): string[] {
  if (page.items.length === 0) return [`no ${page.status} touchpoints${page.next === undefined ? '' : ' on this page'}`];
  const rows = page.items.map((row: TouchpointRow) => [
    row.touchpointId,
    row.campaignId,
    row.kind,
    String(row.generation),
    row.dueAt,
    row.updatedAt,
    String(row.redrives ?? 0),
    row.reason ?? '',
  ]);
  const lines = [
    `${page.items.length} ${page.status} touchpoint(s), ${ORDER_WORDS[page.order]}:`,
    '',
    ...textTable(['touchpoint', 'campaign', 'kind', 'gen', 'due at', 'updated at', 're-drives', 'reason'], rows),
  ];
  const risky = page.items.filter((row) => (row.unconfirmedResends ?? 0) > 0 && row.status === 'FAILED').map((row) => row.touchpointId);
  if (risky.length > 0) {
    lines.push('', `had an unconfirmed send (may have been delivered; re-driving needs --accept-duplicate): ${risky.join(', ')}`);
  }
  if (page.next !== undefined) lines.push('', `more: --after '${page.next}'`);
  return lines;
}

/** The re-drive report as text: one line per touchpoint, then the totals. */
export function redriveText(report: RedriveReport): string[] {
  const width = Math.max(0, ...report.results.map((r) => r.touchpointId.length));
  const lines = report.results.map((r) => `${r.touchpointId.padEnd(width)}  ${r.message}`);
  const done = report.dryRun ? `${report.redriven} would be re-driven` : `${report.redriven} re-driven`;
  lines.push(`${report.dryRun ? 'dry run, nothing written: ' : ''}${done}, ${report.notRedriven} not, at ${report.at}`);
  return lines;
}

/** The backlog as text: the totals, then one row per shard. */
export function backlogText(backlog: BacklogMeasure): string[] {
  const oldest =
    backlog.oldestDueAt === undefined ? '' : ` (the oldest due ${backlog.oldestDueAt}, waiting ${formatAge(backlog.oldestDueAgeSeconds)})`;
  const lines = [
    `send backlog at ${backlog.at}${backlog.truncated ? ' (lower bounds: a shard had more rows than were read)' : ''}`,
    `due and not sent: ${backlog.due}${oldest}`,
    `in flight:        ${backlog.inFlight} (a workflow or the send step has them)`,
    `unconfirmed:      ${backlog.unconfirmed} (waiting for SES's Send event or their deadline)`,
    '',
    ...textTable(
      ['shard', 'due', 'oldest due', 'in flight', 'unconfirmed'],
      backlog.byShard.map((s) => [
        `${s.shard}${s.truncated ? '+' : ''}`,
        String(s.due),
        s.oldestDueAt ?? '-',
        String(s.inFlight),
        String(s.unconfirmed),
      ]),
    ),
  ];
  return lines;
}

export function registerTouchpointCommands(program: Command, helpers: CliHelpers): void {
  const { ReportedFailure, withTable, openDocumentClient, print, printJson, tableOption, currentTime } = helpers;

  const touchpoints = program
    .command('touchpoints')
    .description('operate the outbox: list touchpoints by status (FAILED with their reasons), re-drive failed ones, the send backlog');

  const withTableOptions = (command: Command) =>
    command
      .addOption(tableOption('--table-touchpoints <name>', 'touchpoints table, e.g. outreach-touchpoints', 'TOUCHPOINTS_TABLE'))
      .addOption(
        new Option('--shards <n>', "dispatch shards of the deployment (its dispatchShards)").env('DISPATCH_SHARDS').default(String(DEFAULT_DISPATCH_SHARDS)),
      )
      .option('--json', 'machine-readable output');

  function openOperations(options: TableOptions): DynamoDbTouchpointOperations {
    const shards = Number(options.shards);
    if (!/^\d+$/.test(options.shards) || shards < 1 || shards > 64) {
      throw new InvalidInputError(`--shards must be a whole number from 1 to 64, the deployment's dispatchShards (got ${options.shards})`);
    }
    if (!options.tableTouchpoints.trim()) throw new InvalidInputError('--table-touchpoints must name the touchpoints table, e.g. --table-touchpoints outreach-touchpoints');
    return new DynamoDbTouchpointOperations(options.tableTouchpoints, shards, openDocumentClient());
  }

  /** withTable for the table's errors, leaving the use cases' InvalidInputError as it is. */
  async function onTable<T>(table: string, work: () => Promise<T>): Promise<T> {
    let invalid: InvalidInputError | undefined;
    const result = await withTable(table, async () => {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        invalid = error;
        return undefined;
      }
    });
    if (invalid) throw invalid;
    return result as T;
  }

  withTableOptions(
    touchpoints
      .command('list')
      .description('one page of the touchpoints with a status, e.g. --status FAILED (with the reason each failed)')
      .option('--status <status>', 'PENDING, DISPATCHED, SENDING, UNCONFIRMED, SENT, SKIPPED, FAILED, CANCELLED or HELD_OUT')
      .option('--order <order>', 'newest (the latest change first) or due (the earliest due first)', 'newest')
      .option('--limit <n>', `rows per page, 1 to ${MAX_LIST_LIMIT}`, '50')
      .option('--after <cursor>', 'the next page: the cursor the previous page printed'),
  ).action(async (options: ListOptions) => {
    if (options.status === undefined) throw new InvalidInputError('--status is required, e.g. --status FAILED');
    if (!/^\d+$/.test(options.limit ?? '')) throw new InvalidInputError(`--limit must be a whole number from 1 to ${MAX_LIST_LIMIT} (got ${options.limit})`);
    const operations = openOperations(options);
    const request = {
      status: options.status.toUpperCase(),
      order: options.order as ListOrder,
      limit: Number(options.limit),
      ...(options.after !== undefined ? { after: options.after } : {}),
    };
    const page = await onTable(options.tableTouchpoints, () => listTouchpoints(request, { operations }));
    if (options.json) printJson(page);
    else for (const line of listText(page)) print(line);
  });

  withTableOptions(
    touchpoints
      .command('redrive')
      .description('put FAILED touchpoints back to PENDING, due now (dispatch then checks eligibility and sends them); idempotent')
      .argument('[ids...]', 'touchpoint ids (as `touchpoints list` shows them)')
      .option('--all-failed', 'every FAILED touchpoint (instead of ids)')
      .option('--dry-run', 'say what would be re-driven; write nothing')
      .option('--accept-duplicate', 'also re-drive UNCONFIRMED touchpoints and FAILED ones that had an unconfirmed send: the email may go twice'),
  ).action(async (ids: string[], options: RedriveOptions) => {
    if (options.allFailed && ids.length > 0) throw new InvalidInputError('give touchpoint ids or --all-failed, not both');
    if (!options.allFailed && ids.length === 0) throw new InvalidInputError('name the touchpoints to re-drive (ids from `touchpoints list --status FAILED`) or pass --all-failed');
    const operations = openOperations(options);
    const at = await currentTime();
    const flags = { at, ...(options.acceptDuplicate ? { acceptDuplicate: true } : {}), ...(options.dryRun ? { dryRun: true } : {}) };
    const report = await onTable(options.tableTouchpoints, async () => {
      if (!options.allFailed) return redriveTouchpoints({ ...flags, touchpointIds: ids }, { operations });
      // Page by page, each re-driven before the next is listed, so memory stays bounded however many failed.
      const total: RedriveReport = { at: toUtcIso(at), dryRun: options.dryRun === true, results: [], redriven: 0, notRedriven: 0 };
      let after: string | undefined;
      do {
        const page = await listTouchpoints({ status: 'FAILED', order: 'newest', limit: ALL_FAILED_PAGE, ...(after !== undefined ? { after } : {}) }, { operations });
        after = page.next;
        if (page.items.length === 0) break;
        const part = await redriveTouchpoints({ ...flags, touchpointIds: page.items.map((row) => row.touchpointId) }, { operations });
        Object.assign(total, { at: part.at, redriven: total.redriven + part.redriven, notRedriven: total.notRedriven + part.notRedriven });
        total.results.push(...part.results);
      } while (after !== undefined);
      return total;
    });
    if (options.allFailed && report.results.length === 0) {
      if (options.json) printJson(report);
      else print('no FAILED touchpoints');
      return;
    }
    if (options.json) printJson(report);
    else for (const line of redriveText(report)) print(line);
    const left = report.results.filter((r) => !['redriven', 'would-redrive', 'already-redriven'].includes(r.outcome));
    if (left.length > 0) {
      const risky = left.some((r) => r.outcome === 'duplicate-risk') ? '; those that may have been delivered need --accept-duplicate' : '';
      throw new ReportedFailure(`${left.length} touchpoint(s) not re-driven (see above)${risky}`);
    }
  });

  withTableOptions(
    touchpoints
      .command('backlog')
      .description('touchpoints due and not sent, the age of the oldest, and those in flight or unconfirmed, per shard (reads the due index only)'),
  ).action(async (options: TableOptions) => {
    const operations = openOperations(options);
    const now = await currentTime();
    const backlog = await onTable(options.tableTouchpoints, () => measureBacklog(now, { operations }));
    if (options.json) printJson(backlog);
    else for (const line of backlogText(backlog)) print(line);
  });
}
