/**
 * `npm run outreach -- contracts import <file>`: loads existing contracts (a CRM export) into the contracts table.
 *
 *   contracts import <file> [--format csv|jsonl] [--table-contracts <t>] [--table-customers <t>] [--table-touchpoints <t>]
 *                    [--dry-run] [--json]
 *
 * CSV with a header row (.csv) or JSON Lines (.jsonl / .ndjson); the columns are those of core/contracts/import.ts
 * (examples/contracts/ has samples). Good rows are imported, every bad row is printed as `<file>:<line> <reason>`
 * and makes the exit code 1. Importing is idempotent: the same file again changes nothing (rows are "unchanged").
 * After the import, with the campaigns table, the reminders the daily sweep has already passed over (due within about a
 * day, or overdue today) are planned at once, as a contract event would; the sweep plans the rest.
 * Table names default to CONTRACTS_TABLE, CUSTOMERS_TABLE, TOUCHPOINTS_TABLE and CAMPAIGNS_TABLE; --shards to DISPATCH_SHARDS.
 * Exit codes: 0 every row imported (or would be, with --dry-run), 1 the file has bad rows (the good ones are
 * imported all the same), 2 a bad option, an unreadable file or an unreachable table.
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { DEFAULT_CONTRACT_END_SHARDS, DynamoDbContractRepository } from '../adapters/dynamodb-contracts.ts';
import { DynamoDbCustomerRepository } from '../adapters/dynamodb-customers.ts';
import { DynamoDbTouchpointRepository } from '../adapters/dynamodb-touchpoints.ts';
import { DynamoDbCampaignCatalog } from '../adapters/dynamodb-campaigns.ts';
import { sweepRenewals } from '../core/contracts/sweep-renewals.ts';
import { subtractDuration } from '../core/schedule.ts';
import { renewalCampaigns } from '../core/use-cases/renewals.ts';
import { type BadRow, type ContractImportRow, type ImportFormat, type ImportResult, importContracts, parseContractImport } from '../core/contracts/import.ts';
import { DEFAULT_DISPATCH_SHARDS } from '../core/topology.ts';
import type { CliHelpers } from './outreach.ts';

/** Said in the output when no campaigns table is given, so nobody waits for reminders that were not planned. */
export const IMPORT_REMINDERS_NOTE =
  'Reminders: without --table-campaigns (or CAMPAIGNS_TABLE) the import plans none; the daily renewal sweep plans each one ' +
  'about a day before it is due, so a reminder due within about a day of the import (or already past) is not sent.';

/**
 * How far back the catch-up re-sweeps: the sweep looks 27 h ahead of `since`, so its window is the reminder days that
 * began in the last 24 hours, today's included at any hour (P2D left out today's after 21:00 UTC).
 */
const CATCH_UP = 'PT51H';

/** Rows per importContracts call; progress goes to stderr after each batch of a bigger file. */
export const IMPORT_BATCH = 1000;

const FORMATS: readonly ImportFormat[] = ['csv', 'jsonl'];

interface ImportOptions {
  format?: ImportFormat;
  tableContracts?: string;
  tableCustomers?: string;
  tableTouchpoints?: string;
  tableCampaigns?: string;
  shards: string;
  dryRun?: boolean;
  json?: boolean;
}

/** The format the file name gives (.csv, .jsonl, .ndjson); undefined for any other name. */
export function formatFromFileName(file: string): ImportFormat | undefined {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  return undefined;
}

export const badRowText = (file: string, row: BadRow) => `${file}:${row.line} ${row.reason}`;

const describeResult = (r: ImportResult) =>
  `${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged, ${r.stale} stale (the stored contract is newer than the row)`;

export function registerContractCommands(program: Command, helpers: CliHelpers): void {
  const { UsageError, ReportedFailure, withTable, openDocumentClient, print, printJson, currentTime } = helpers;

  const contracts = program.command('contracts').description('contracts for renewal reminders: import a CRM export');

  contracts
    .command('import')
    .description('import contracts from a CSV (header row) or JSON Lines file; bad rows are reported as `file:line reason`, the good ones imported')
    .argument('<file>', 'the file, e.g. examples/contracts/contracts.csv')
    .addOption(new Option('--format <format>', 'csv or jsonl (default: from the extension, .csv / .jsonl / .ndjson)').choices(FORMATS))
    .addOption(new Option('--table-contracts <name>', 'contracts table, e.g. outreach-contracts').env('CONTRACTS_TABLE'))
    .addOption(new Option('--table-customers <name>', "customers table (each row's customer profile), e.g. outreach-customers").env('CUSTOMERS_TABLE'))
    .addOption(
      new Option('--table-touchpoints <name>', 'touchpoints table (reminders of a changed end date are cancelled), e.g. outreach-touchpoints').env(
        'TOUCHPOINTS_TABLE',
      ),
    )
    .addOption(
      new Option('--table-campaigns <name>', 'campaigns table: plan at once the reminders the daily sweep has passed over').env('CAMPAIGNS_TABLE'),
    )
    .addOption(new Option('--shards <n>', 'dispatch shards of the deployment').env('DISPATCH_SHARDS').default(String(DEFAULT_DISPATCH_SHARDS)))
    .option('--dry-run', 'parse and report only; read and write no table')
    .option('--json', 'machine-readable output')
    .action(async (file: string, options: ImportOptions) => {
      const shards = Number(options.shards);
      if (!/^\d+$/.test(options.shards) || shards < 1 || shards > 64) throw new UsageError(`--shards must be a whole number from 1 to 64 (got ${options.shards})`);
      const format = options.format ?? formatFromFileName(file);
      if (!format) throw new UsageError(`cannot tell the format of ${file} from its name: pass --format csv or --format jsonl`);
      const tables = {
        contracts: options.tableContracts?.trim() ?? '',
        customers: options.tableCustomers?.trim() ?? '',
        touchpoints: options.tableTouchpoints?.trim() ?? '',
      };
      if (!options.dryRun) {
        const missing = [
          ['--table-contracts', 'CONTRACTS_TABLE', tables.contracts],
          ['--table-customers', 'CUSTOMERS_TABLE', tables.customers],
          ['--table-touchpoints', 'TOUCHPOINTS_TABLE', tables.touchpoints],
        ].filter(([, , name]) => !name);
        if (missing.length > 0) {
          throw new UsageError(`${missing.map(([flag, variable]) => `${flag} (or ${variable})`).join(', ')} must name the table(s), unless --dry-run`);
        }
      }

      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
        throw new UsageError(`cannot read ${file}: ${why}`);
      }
      const { good, bad } = parseContractImport(text, format);

      let result: ImportResult | undefined;
      if (!options.dryRun && good.length > 0) {
        result = await withTable(`${tables.contracts}, ${tables.customers} or ${tables.touchpoints}`, () =>
          importInBatches(good, tables, shards, (done) => process.stderr.write(`imported ${done} of ${good.length} row(s)…\n`)),
        );
      } else if (!options.dryRun) {
        result = { created: 0, updated: 0, unchanged: 0, stale: 0 };
      }
      let planned: number | undefined;
      const campaignsTable = options.tableCampaigns?.trim();
      if (!options.dryRun && good.length > 0 && campaignsTable) {
        planned = await withTable(`${campaignsTable}, ${tables.contracts} or ${tables.touchpoints}`, () => catchUp(campaignsTable, tables, shards));
      }

      if (options.json) {
        printJson({
          file,
          format,
          dryRun: options.dryRun === true,
          rows: { good: good.length, bad: bad.length },
          bad: bad.map((row) => ({ ...row, text: badRowText(file, row) })),
          ...(result ? { table: tables.contracts, result } : {}),
          ...(planned !== undefined ? { remindersPlanned: planned } : { note: IMPORT_REMINDERS_NOTE }),
        });
      } else {
        for (const row of bad) print(badRowText(file, row));
        print(`${file} (${format}): ${good.length} good row(s), ${bad.length} bad`);
        if (result) print(`imported into ${tables.contracts}: ${describeResult(result)}`);
        else print(`dry run: ${good.length} row(s) would be imported; nothing was read or written`);
        if (planned !== undefined) print(`${planned} reminder(s) due within about a day planned now; the daily renewal sweep plans the rest`);
        else print(IMPORT_REMINDERS_NOTE);
      }
      if (bad.length > 0) {
        const goodRows = options.dryRun ? 'dry run: nothing was written' : 'the good rows are imported, and importing them again changes nothing';
        throw new ReportedFailure(`${bad.length} bad row(s) in ${file}: fix them and import the file again (${goodRows})`);
      }
    });

  /** importContracts in batches of IMPORT_BATCH rows, reporting progress after each batch when there is more than one. */
  async function importInBatches(
    rows: readonly ContractImportRow[],
    tables: { contracts: string; customers: string; touchpoints: string },
    shards: number,
    onProgress: (done: number) => void,
  ): Promise<ImportResult> {
    const db = openDocumentClient();
    const deps = {
      contracts: new DynamoDbContractRepository(tables.contracts, DEFAULT_CONTRACT_END_SHARDS, db),
      customers: new DynamoDbCustomerRepository(tables.customers, db),
      touchpoints: new DynamoDbTouchpointRepository(tables.touchpoints, shards, db),
    };
    const at = await currentTime();
    const total: ImportResult = { created: 0, updated: 0, unchanged: 0, stale: 0 };
    for (let start = 0; start < rows.length; start += IMPORT_BATCH) {
      const counts = await importContracts(rows.slice(start, start + IMPORT_BATCH), deps, { at });
      for (const key of Object.keys(total) as Array<keyof ImportResult>) total[key] += counts[key];
      const done = Math.min(start + IMPORT_BATCH, rows.length);
      if (rows.length > IMPORT_BATCH) onProgress(done);
    }
    return total;
  }

  /**
   * The reminders the daily sweep has already passed over for the imported contracts: each renewal campaign's last two
   * days of sweep windows again (reads that day's contracts through byEnd; existing reminders are left as they are).
   */
  async function catchUp(campaignsTable: string, tables: { contracts: string; touchpoints: string }, shards: number): Promise<number> {
    const db = openDocumentClient();
    const now = await currentTime();
    const deps = {
      contracts: new DynamoDbContractRepository(tables.contracts, DEFAULT_CONTRACT_END_SHARDS, db),
      touchpoints: new DynamoDbTouchpointRepository(tables.touchpoints, shards, db),
    };
    let planned = 0;
    for (const campaign of await renewalCampaigns(new DynamoDbCampaignCatalog(campaignsTable, db, 0), now)) {
      planned += (await sweepRenewals({ campaign, since: subtractDuration(now, CATCH_UP), now }, deps)).touchpointsCreated;
    }
    return planned;
  }
}
