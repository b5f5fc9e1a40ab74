/**
 * A meter for the embedded local stack: counts, while the stack runs, what AWS would bill for the same work — DynamoDB
 * read and write request units per table, index and operation, Lambda invocations with their measured duration and log
 * output, Step Functions executions with their state transitions and duration, EventBridge entries (custom or AWS
 * service events), HTTP API requests and their access-log lines, and Secrets Manager calls. bench/cost.ts prices it.
 *
 * Nothing is metered unless a meter is handed to startLocalStack ({ meter }); without one every hook is an `undefined`
 * check. The unit arithmetic is in small pure functions below (exported, tested in test/local/meter.test.ts).
 *
 * DynamoDB units are computed here, not taken from dynalite: dynalite reports no index writes at all and rounds every
 * write to the table item alone. The meter hooks dynalite's internal db module (the same process) where it has the
 * item before and after each write, and applies DynamoDB's rules: item size = attribute names + values (UTF-8); a
 * write costs ceil(larger of before/after ÷ 1 KB) on the table; on each global secondary index, an item entering the
 * index costs one put of its index entry, leaving it one delete, a change of an index key a delete + a put, a change
 * of a projected attribute one write, anything else nothing; a failed conditional write costs ceil(existing item ÷
 * 1 KB), at least 1. GetItem costs ceil(size ÷ 4 KB) (a missing item 1), halved for eventually consistent reads;
 * Query and Scan cost the items they read (before any filter) summed and rounded up to 4 KB, which dynalite computes
 * when asked for ReturnConsumedCapacity: INDEXES (the meter asks, and takes the answer out again when the caller did
 * not), with DynamoDB's minimum of one unit (half for eventually consistent) for a request that reads nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------------------------------------------
// Pure arithmetic
// ---------------------------------------------------------------------------------------------------------------

/** A DynamoDB attribute value on the wire (B and BS as base64 strings, as the JSON protocol carries them). */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  SS?: string[];
  NS?: string[];
  BS?: string[];
  L?: AttributeValue[];
  M?: Record<string, AttributeValue>;
}
export type Item = Record<string, AttributeValue>;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** DynamoDB's size of a number: about one byte per two significant digits, plus one (leading/trailing zeros trimmed). */
export function numberSize(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** The size of one attribute value by DynamoDB's rules (docs: "Item sizes and formats"). */
export function attributeValueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return Buffer.from(value.B, 'base64').length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS) return value.BS.reduce((sum, b) => sum + Buffer.from(b, 'base64').length, 0);
  // Lists and maps: 3 bytes, plus 1 byte per element, plus the elements (and, in a map, their names).
  if (value.L) return 3 + value.L.reduce((sum, v) => sum + 1 + attributeValueSize(v), 0);
  if (value.M) return 3 + Object.entries(value.M).reduce((sum, [name, v]) => sum + 1 + utf8(name) + attributeValueSize(v), 0);
  return 0;
}

/** An item's size: the UTF-8 length of every attribute name plus its value's size. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + attributeValueSize(value), 0);
}

/** Write request units for an item of `bytes` (1 KB each, at least 1). */
export function writeUnitsFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** Read request units for `bytes` read in one request (4 KB each, at least one), halved when eventually consistent. */
export function readUnitsFor(bytes: number, consistent: boolean): number {
  return Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
}

export interface IndexDefinition {
  name: string;
  /** The index's key attributes (partition, then sort). */
  keys: string[];
  projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  include?: string[];
}

export interface TableDefinition {
  /** The table's key attributes. */
  keys: string[];
  indexes: IndexDefinition[];
}

/** The entry `item` has in `index` (its projection), or undefined when an index key is missing: the index is sparse. */
export function indexEntry(table: TableDefinition, index: IndexDefinition, item: Item | undefined): Item | undefined {
  if (!item || index.keys.some((key) => item[key] === undefined)) return undefined;
  if (index.projection === 'ALL') return item;
  const names = new Set([...index.keys, ...table.keys, ...(index.projection === 'INCLUDE' ? (index.include ?? []) : [])]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name)));
}

/** A canonical JSON of an attribute value: sets compare unordered, maps by name. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries
    .map(([k, v]) => `${JSON.stringify(k)}:${(k === 'SS' || k === 'NS' || k === 'BS') && Array.isArray(v) ? canonical([...v].sort()) : canonical(v)}`)
    .join(',')}}`;
}

const sameValue = (a: AttributeValue | undefined, b: AttributeValue | undefined) => (a === undefined || b === undefined ? a === b : canonical(a) === canonical(b));
const sameItem = (a: Item, b: Item) => canonical(a) === canonical(b);

/** What one write does to one index: item writes and their write units. */
export function indexWriteCost(table: TableDefinition, index: IndexDefinition, before: Item | undefined, after: Item | undefined): { writes: number; units: number } {
  const was = indexEntry(table, index, before);
  const is = indexEntry(table, index, after);
  if (!was && !is) return { writes: 0, units: 0 };
  if (!was) return { writes: 1, units: writeUnitsFor(itemSize(is!)) };
  if (!is) return { writes: 1, units: writeUnitsFor(itemSize(was)) };
  // A new index key is a new index item: the old one is deleted and the new one put.
  if (index.keys.some((key) => !sameValue(was[key], is[key]))) return { writes: 2, units: writeUnitsFor(itemSize(was)) + writeUnitsFor(itemSize(is)) };
  if (sameItem(was, is)) return { writes: 0, units: 0 };
  return { writes: 1, units: writeUnitsFor(Math.max(itemSize(was), itemSize(is))) };
}

/** The write units of one successful PutItem / UpdateItem / DeleteItem: the table's and each index's. */
export function writeCost(table: TableDefinition, before: Item | undefined, after: Item | undefined): { table: number; indexes: Record<string, { writes: number; units: number }> } {
  const sizes = [before, after].filter((i): i is Item => i !== undefined).map(itemSize);
  const tableUnits = writeUnitsFor(sizes.length > 0 ? Math.max(...sizes) : 0);
  const indexes: Record<string, { writes: number; units: number }> = {};
  for (const index of table.indexes) indexes[index.name] = indexWriteCost(table, index, before, after);
  return { table: tableUnits, indexes };
}

/** A conditional write whose condition failed still costs the existing item's write units (at least 1). */
export function failedConditionUnits(existing: Item | undefined): number {
  return writeUnitsFor(existing ? itemSize(existing) : 0);
}

/** Lambda bills duration per millisecond, rounded up (at least 1 ms). */
export function lambdaBilledMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

/** Step Functions Express bills duration rounded up to the next 100 ms. */
export function expressBilledMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs / 100)) * 100;
}

/** A PutEvents entry's size as EventBridge counts it: Time (14 bytes when given), Source, DetailType, Detail, Resources. */
export function eventEntrySize(entry: { Time?: unknown; Source?: string; DetailType?: string; Detail?: string; Resources?: string[] }): number {
  return (
    (entry.Time === undefined || entry.Time === null ? 0 : 14) +
    utf8(entry.Source ?? '') +
    utf8(entry.DetailType ?? '') +
    utf8(entry.Detail ?? '') +
    (entry.Resources ?? []).reduce((sum, r) => sum + utf8(r), 0)
  );
}

/** Custom events are billed per 64 KB chunk of payload. */
export function eventChunks(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / (64 * 1024)));
}

/** HTTP API requests are metered in 512 KB increments (here of the larger of request and response). */
export function httpBilledRequests(requestBytes: number, responseBytes: number): number {
  return Math.max(1, Math.ceil(Math.max(requestBytes, responseBytes) / (512 * 1024)));
}

/** An API Gateway access-log line rendered from its `$context.*` format with the request's values ("-" when absent). */
export function renderAccessLog(format: string, values: Record<string, string | number | undefined>): string {
  return format.replace(/\$context\.([A-Za-z0-9_.]+)/g, (_m, name: string) => {
    const value = values[name];
    return value === undefined || value === '' ? '-' : String(value);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------------------------

export interface DynamoRow {
  table: string;
  /** Absent: the table itself. */
  index?: string;
  operation: string;
  requests: number;
  readUnits: number;
  writeUnits: number;
  /** Item writes (an index key change is 2: a delete and a put). */
  itemWrites: number;
  failedConditions: number;
}

export interface LambdaRow {
  function: string;
  invocations: number;
  errors: number;
  durationMs: number;
  billedMs: number;
  /** Bytes the handler wrote to stdout/stderr (its structured log lines and EMF metric lines) and error reports. */
  logBytes: number;
  logLines: number;
}

export interface WorkflowRow {
  machine: string;
  type: 'STANDARD' | 'EXPRESS';
  executions: number;
  failed: number;
  /** States entered plus retries (Standard bills each). */
  transitions: number;
  durationMs: number;
  /** Express: every execution's duration rounded up to 100 ms. */
  billedMs: number;
  /** Engine events by type (StateEntered, StateRetried, StateFailed, ExecutionFailed, …) for the execution logs. */
  events: Record<string, number>;
  /** Sum of the execution ARNs' lengths (a log record carries it). */
  arnBytes: number;
}

export interface EventRow {
  bus: string;
  source: string;
  detailType: string;
  entries: number;
  chunks: number;
  bytes: number;
  /** Rule targets the entries reached (a target invocation or execution each). */
  targets: number;
  /** The same, per target: a function's name, or `workflow:<name>`. */
  targetNames: Record<string, number>;
}

export interface HttpRow {
  route: string;
  requests: number;
  billedRequests: number;
  /** Bytes of the response bodies (data transfer out to the internet). */
  responseBytes: number;
  accessLogBytes: number;
}

export interface MeterSnapshot {
  dynamodb: DynamoRow[];
  lambda: LambdaRow[];
  workflows: WorkflowRow[];
  events: EventRow[];
  http: HttpRow[];
  secrets: Array<{ secret: string; calls: number }>;
}

/** `after − before`, row by row (rows are matched by their identifying fields). */
export function diffSnapshots(after: MeterSnapshot, before: MeterSnapshot): MeterSnapshot {
  const sub = <T extends object>(rows: T[], old: T[], key: (row: T) => string): T[] => {
    const previous = new Map(old.map((row) => [key(row), row]));
    return rows
      .map((row) => {
        const was = previous.get(key(row)) as Record<string, unknown> | undefined;
        if (!was) return row;
        const out: Record<string, unknown> = {};
        for (const [field, value] of Object.entries(row)) {
          const prior = was[field];
          if (typeof value === 'number' && typeof prior === 'number') out[field] = value - prior;
          else if (value && typeof value === 'object' && !Array.isArray(value) && prior && typeof prior === 'object') {
            out[field] = Object.fromEntries(Object.entries(value as Record<string, number>).map(([k, v]) => [k, v - ((prior as Record<string, number>)[k] ?? 0)]));
          } else out[field] = value;
        }
        return out as T;
      })
      .filter((row) => Object.values(row).some((v) => typeof v === 'number' && v !== 0));
  };
  return {
    dynamodb: sub(after.dynamodb, before.dynamodb, (r) => `${r.table}|${r.index ?? ''}|${r.operation}`),
    lambda: sub(after.lambda, before.lambda, (r) => r.function),
    workflows: sub(after.workflows, before.workflows, (r) => r.machine),
    events: sub(after.events, before.events, (r) => `${r.bus}|${r.source}|${r.detailType}`),
    http: sub(after.http, before.http, (r) => r.route),
    secrets: sub(after.secrets, before.secrets, (r) => r.secret),
  };
}

/** The shape of one aws-local-stepfunctions run that the meter reads. */
export interface MeteredExecution {
  result: Promise<unknown>;
  eventLogs: AsyncIterable<{ type: string }>;
}

interface InvocationContext {
  row: LambdaRow;
}

export interface LocalMeterOptions {
  /** API Gateway's access-log format (`$context.*` variables): each request's rendered line is counted. */
  httpAccessLogFormat?: string;
}

export class LocalMeter {
  private readonly dynamoRows = new Map<string, DynamoRow>();
  private readonly lambdaRows = new Map<string, LambdaRow>();
  private readonly workflowRows = new Map<string, WorkflowRow>();
  private readonly eventRows = new Map<string, EventRow>();
  private readonly httpRows = new Map<string, HttpRow>();
  private readonly secretRows = new Map<string, { secret: string; calls: number }>();
  private readonly invocationContext = new AsyncLocalStorage<InvocationContext>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private paused = 0;
  private restoreOutput: (() => void) | undefined;

  constructor(private readonly options: LocalMeterOptions = {}) {}

  // ----- DynamoDB (called by the dynalite hooks) -----

  /** False while the stack's own bookkeeping requests run (unmetered()): AWS would not see them. */
  get metering(): boolean {
    return this.paused === 0;
  }

  private dynamo(table: string, index: string | undefined, operation: string): DynamoRow {
    const key = `${table}|${index ?? ''}|${operation}`;
    let row = this.dynamoRows.get(key);
    if (!row) {
      row = { table, ...(index ? { index } : {}), operation, requests: 0, readUnits: 0, writeUnits: 0, itemWrites: 0, failedConditions: 0 };
      this.dynamoRows.set(key, row);
    }
    return row;
  }

  dynamoRequest(table: string, operation: string): void {
    if (this.metering) this.dynamo(table, undefined, operation).requests += 1;
  }

  dynamoRead(table: string, index: string | undefined, operation: string, units: number): void {
    if (this.metering) this.dynamo(table, index, operation).readUnits += units;
  }

  dynamoWrite(table: string, definition: TableDefinition, operation: string, before: Item | undefined, after: Item | undefined): void {
    if (!this.metering) return;
    const cost = writeCost(definition, before, after);
    const row = this.dynamo(table, undefined, operation);
    row.writeUnits += cost.table;
    row.itemWrites += 1;
    for (const [index, { writes, units }] of Object.entries(cost.indexes)) {
      if (writes === 0) continue;
      const indexRow = this.dynamo(table, index, operation);
      indexRow.writeUnits += units;
      indexRow.itemWrites += writes;
    }
  }

  dynamoFailedCondition(table: string, operation: string, existing: Item | undefined): void {
    if (!this.metering) return;
    const row = this.dynamo(table, undefined, operation);
    row.failedConditions += 1;
    row.writeUnits += failedConditionUnits(existing);
  }

  /** Runs `fn` without metering DynamoDB (the stack's own probes; exact while nothing else runs, as in `advance`). */
  unmetered<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      this.paused += 1;
      try {
        return await fn(...args);
      } finally {
        this.paused -= 1;
      }
    };
  }

  // ----- Lambda -----

  private lambda(name: string): LambdaRow {
    let row = this.lambdaRows.get(name);
    if (!row) {
      row = { function: name, invocations: 0, errors: 0, durationMs: 0, billedMs: 0, logBytes: 0, logLines: 0 };
      this.lambdaRows.set(name, row);
    }
    return row;
  }

  /**
   * One invocation of the in-process handler: its real (wall-clock) duration, and what it writes to stdout/stderr
   * (captureLogs). Handlers share this one process: invocations running at the same time wait for each other and each
   * bills that wait, so a measurement of durations runs its work one at a time (bench/cost.ts does).
   */
  async invocation<T>(name: string, run: () => T | Promise<T>): Promise<T> {
    const row = this.lambda(name);
    const started = performance.now();
    try {
      return await this.invocationContext.run({ row }, run);
    } catch (error) {
      row.errors += 1;
      // Lambda's runtime logs the error it returns: {"errorType","errorMessage","stack"}.
      const e = error as Error;
      row.logBytes += utf8(JSON.stringify({ errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(error), stack: String(e?.stack ?? '').split('\n') })) + 1;
      row.logLines += 1;
      throw error;
    } finally {
      const ms = performance.now() - started;
      row.invocations += 1;
      row.durationMs += ms;
      row.billedMs += lambdaBilledMs(ms);
    }
  }

  /**
   * Counts what handlers write to stdout and stderr during an invocation (Powertools' log and EMF lines) and keeps it
   * off the terminal; output outside an invocation passes through. Undone by close().
   */
  captureLogs(): void {
    if (this.restoreOutput) return;
    const patch = (stream: NodeJS.WriteStream) => {
      const original = stream.write;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        const context = this.invocationContext.getStore();
        if (!context) return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
        const lines = text.split('\n').filter((line) => line.length > 0);
        context.row.logLines += lines.length;
        context.row.logBytes += lines.reduce((sum, line) => sum + utf8(line), 0);
        const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        if (callback) queueMicrotask(callback);
        return true;
      }) as typeof stream.write;
      return () => {
        stream.write = original;
      };
    };
    const undo = [patch(process.stdout), patch(process.stderr)];
    this.restoreOutput = () => undo.forEach((u) => u());
  }

  // ----- Step Functions -----

  /** One execution: counts its engine events (states entered, retries, failures) and its real duration. */
  execution(machine: string, type: 'STANDARD' | 'EXPRESS', executionArn: string, run: MeteredExecution): void {
    let row = this.workflowRows.get(machine);
    if (!row) {
      row = { machine, type, executions: 0, failed: 0, transitions: 0, durationMs: 0, billedMs: 0, events: {}, arnBytes: 0 };
      this.workflowRows.set(machine, row);
    }
    const target = row;
    const started = performance.now();
    const events: Record<string, number> = {};
    const read = (async () => {
      for await (const event of run.eventLogs) events[event.type] = (events[event.type] ?? 0) + 1;
    })();
    const done = run.result.then(
      () => false,
      () => true,
    ).then(async (failed) => {
      const ms = performance.now() - started;
      await read;
      target.executions += 1;
      if (failed) target.failed += 1;
      target.transitions += (events.StateEntered ?? 0) + (events.StateRetried ?? 0);
      target.durationMs += ms;
      target.billedMs += expressBilledMs(ms);
      target.arnBytes += utf8(executionArn);
      for (const [name, n] of Object.entries(events)) target.events[name] = (target.events[name] ?? 0) + n;
    });
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  // ----- EventBridge -----

  busEvent(bus: string, entry: { Time?: unknown; Source?: string; DetailType?: string; Detail?: string; Resources?: string[] }, targets: readonly string[]): void {
    const source = entry.Source ?? '';
    const detailType = entry.DetailType ?? '';
    const key = `${bus}|${source}|${detailType}`;
    let row = this.eventRows.get(key);
    if (!row) {
      row = { bus, source, detailType, entries: 0, chunks: 0, bytes: 0, targets: 0, targetNames: {} };
      this.eventRows.set(key, row);
    }
    const bytes = eventEntrySize(entry);
    row.entries += 1;
    row.bytes += bytes;
    row.chunks += eventChunks(bytes);
    row.targets += targets.length;
    for (const target of targets) row.targetNames[target] = (row.targetNames[target] ?? 0) + 1;
  }

  // ----- API Gateway (HTTP API) -----

  httpRequest(request: { routeKey: string; requestBytes: number; responseBytes: number; values: Record<string, string | number | undefined> }): void {
    let row = this.httpRows.get(request.routeKey);
    if (!row) {
      row = { route: request.routeKey, requests: 0, billedRequests: 0, responseBytes: 0, accessLogBytes: 0 };
      this.httpRows.set(request.routeKey, row);
    }
    row.requests += 1;
    row.billedRequests += httpBilledRequests(request.requestBytes, request.responseBytes);
    row.responseBytes += request.responseBytes;
    if (this.options.httpAccessLogFormat) row.accessLogBytes += utf8(renderAccessLog(this.options.httpAccessLogFormat, request.values));
  }

  // ----- Secrets Manager -----

  secretCall(secret: string): void {
    const row = this.secretRows.get(secret) ?? { secret, calls: 0 };
    row.calls += 1;
    this.secretRows.set(secret, row);
  }

  // ----- Reading -----

  /** Resolves once every execution being metered has been counted. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  snapshot(): MeterSnapshot {
    const copy = <T>(rows: Iterable<T>): T[] => [...rows].map((row) => structuredClone(row));
    return {
      dynamodb: copy(this.dynamoRows.values()),
      lambda: copy(this.lambdaRows.values()),
      workflows: copy(this.workflowRows.values()),
      events: copy(this.eventRows.values()),
      http: copy(this.httpRows.values()),
      secrets: copy(this.secretRows.values()),
    };
  }

  close(): void {
    this.restoreOutput?.();
    this.restoreOutput = undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// dynalite hooks
// ---------------------------------------------------------------------------------------------------------------

interface DynaliteTable {
  TableName: string;
  KeySchema: Array<{ AttributeName: string }>;
  GlobalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: Array<{ AttributeName: string }>; Projection: { ProjectionType: string; NonKeyAttributes?: string[] } }>;
  LocalSecondaryIndexes?: DynaliteTable['GlobalSecondaryIndexes'];
}

interface DynaliteRequest {
  TableName?: string;
  RequestItems?: Record<string, unknown>;
  ConsistentRead?: boolean;
  IndexName?: string;
  ReturnConsumedCapacity?: string;
}

type Callback = (error: unknown, result?: Record<string, unknown>) => void;

interface DynaliteDb {
  addConsumedCapacity(data: DynaliteRequest, isRead: boolean, item1?: Item, item2?: Item): unknown;
  checkConditional(data: DynaliteRequest, existing?: Item): unknown;
  updateIndexes(store: unknown, table: DynaliteTable, before: Item | undefined, after: Item | null | undefined, cb: Callback): void;
  queryTable(store: unknown, table: DynaliteTable, data: DynaliteRequest, opts: unknown, isLocal: boolean, fetchFromItemDb: boolean, startKeyNames: unknown, cb: Callback): void;
}

interface DynaliteValidations {
  checkValidations(data: DynaliteRequest, types: unknown, custom: unknown, store: unknown): unknown;
}

const METERED_OPERATIONS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem'] as const;

export function tableDefinitionOf(table: DynaliteTable): TableDefinition {
  const indexes = [...(table.GlobalSecondaryIndexes ?? []), ...(table.LocalSecondaryIndexes ?? [])].map((index) => ({
    name: index.IndexName,
    keys: index.KeySchema.map((k) => k.AttributeName),
    projection: index.Projection.ProjectionType as IndexDefinition['projection'],
    ...(index.Projection.NonKeyAttributes ? { include: index.Projection.NonKeyAttributes } : {}),
  }));
  return { keys: table.KeySchema.map((k) => k.AttributeName), indexes };
}

let installed: LocalMeter | undefined;

/**
 * Hooks dynalite's db module (dynalite 4.0.0: node_modules/dynalite/db/index.js; its actions call these through the
 * module object) so `meter` sees every request. Returns the undo. One meter per process, like the stack.
 */
export function installDynaliteMeter(meter: LocalMeter): () => void {
  if (installed) throw new Error('a dynalite meter is already installed in this process');
  installed = meter;
  const require = createRequire(import.meta.url);
  const db = require('dynalite/db/index.js') as DynaliteDb;
  const validations = require('dynalite/validations/index.js') as DynaliteValidations;
  const operationByTypes = new Map<unknown, string>(
    METERED_OPERATIONS.map((op) => [(require(`dynalite/validations/${op[0]!.toLowerCase()}${op.slice(1)}.js`) as { types: unknown }).types, op]),
  );
  // The operation of each top-level request; the items of a batch arrive as new, untagged request objects.
  const operationOf = new WeakMap<object, string>();
  const original = { ...db, checkValidations: validations.checkValidations };
  let pendingWrite: DynaliteRequest | undefined;

  validations.checkValidations = function checkValidations(data, types, custom, store) {
    const result = original.checkValidations.call(this, data, types, custom, store);
    const operation = operationByTypes.get(types);
    if (operation && data) {
      operationOf.set(data, operation);
      for (const table of data.TableName ? [data.TableName] : Object.keys(data.RequestItems ?? {})) meter.dynamoRequest(table, operation);
    }
    return result;
  };

  db.addConsumedCapacity = function addConsumedCapacity(data, isRead, item1, item2) {
    if (isRead) {
      // GetItem, or one key of a BatchGetItem: the item's size rounded up to 4 KB (a missing item costs the minimum).
      meter.dynamoRead(data.TableName!, undefined, operationOf.get(data) ?? 'BatchGetItem', readUnitsFor(item1 ? itemSize(item1) : 0, data.ConsistentRead === true));
    } else {
      // put/update/delete call updateIndexes right after this, synchronously, with the items before and after.
      pendingWrite = data;
    }
    return original.addConsumedCapacity.call(this, data, isRead, item1, item2);
  };

  db.checkConditional = function checkConditional(data, existing) {
    const failed = original.checkConditional.call(this, data, existing);
    if (failed != null && data.TableName) meter.dynamoFailedCondition(data.TableName, operationOf.get(data) ?? 'BatchWriteItem', existing);
    return failed;
  };

  db.updateIndexes = function updateIndexes(store, table, before, after, cb) {
    const data = pendingWrite;
    pendingWrite = undefined;
    meter.dynamoWrite(table.TableName, tableDefinitionOf(table), (data && operationOf.get(data)) ?? 'BatchWriteItem', before ?? undefined, after ?? undefined);
    return original.updateIndexes.call(this, store, table, before, after, cb);
  };

  db.queryTable = function queryTable(store, table, data, opts, isLocal, fetchFromItemDb, startKeyNames, cb) {
    const asked = data.ReturnConsumedCapacity;
    data.ReturnConsumedCapacity = 'INDEXES';
    const operation = operationOf.get(data) ?? 'Query';
    return original.queryTable.call(this, store, table, data, opts, isLocal, fetchFromItemDb, startKeyNames, (error, result) => {
      data.ReturnConsumedCapacity = asked;
      if (!error && result?.ConsumedCapacity) {
        const capacity = result.ConsumedCapacity as { Table?: { CapacityUnits: number }; GlobalSecondaryIndexes?: Record<string, { CapacityUnits: number }>; LocalSecondaryIndexes?: Record<string, { CapacityUnits: number }> };
        const minimum = data.ConsistentRead ? 1 : 0.5;
        if (data.IndexName) {
          const units = (capacity.GlobalSecondaryIndexes ?? capacity.LocalSecondaryIndexes ?? {})[data.IndexName]?.CapacityUnits ?? 0;
          meter.dynamoRead(table.TableName, data.IndexName, operation, Math.max(minimum, units));
          // An LSI query that fetches non-projected attributes also reads the table.
          if (capacity.Table?.CapacityUnits) meter.dynamoRead(table.TableName, undefined, operation, capacity.Table.CapacityUnits);
        } else {
          meter.dynamoRead(table.TableName, undefined, operation, Math.max(minimum, capacity.Table?.CapacityUnits ?? 0));
        }
        if (asked !== 'INDEXES' && asked !== 'TOTAL') delete result.ConsumedCapacity;
        else if (asked === 'TOTAL') result.ConsumedCapacity = { CapacityUnits: (result.ConsumedCapacity as { CapacityUnits: number }).CapacityUnits, TableName: table.TableName };
      }
      cb(error, result);
    });
  };

  return () => {
    Object.assign(db, { addConsumedCapacity: original.addConsumedCapacity, checkConditional: original.checkConditional, updateIndexes: original.updateIndexes, queryTable: original.queryTable });
    validations.checkValidations = original.checkValidations;
    installed = undefined;
  };
}
