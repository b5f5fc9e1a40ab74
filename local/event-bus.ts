/**
 * An EventBridge-compatible bus: PutEvents validates entries the way AWS does (per entry, counted in
 * FailedEntryCount), stamps id/time/account/region, and routes each event through EVENT_RULES — by bus, source and
 * detail-type — to its target: a function, invoked asynchronously like Lambda's async invoke (retries, then the
 * dead-letter store), or a workflow, which gets an execution with the whole event as input.
 */
import { randomUUID } from 'node:crypto';
import { type EventRuleSpec, type FunctionName, matchesDetail, type WorkflowName } from '../core/topology.ts';
import { AwsServiceError } from './aws-error.ts';
import type { LocalClock } from './clock.ts';
import type { LocalMeter } from './meter.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './lambda-runtime.ts';

/** A PutEvents request entry as it arrives on the wire (AWS JSON protocol: Time is epoch seconds). */
export interface PutEventsEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Time?: unknown;
  Resources?: unknown;
  EventBusName?: unknown;
  TraceHeader?: unknown;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

/** The event as targets receive it. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface LocalEventBusOptions {
  clock: LocalClock;
  /** The product's bus, where rules with `bus: 'product'` live; rules with `bus: 'default'` live on `default`. */
  productBusName: string;
  rules: readonly EventRuleSpec[];
  /** The commerce `source`, matched by rules that name no source of their own (DEFAULT_COMMERCE_EVENT_SOURCE unless configured). */
  commerceSource: string;
  /** A rule whose target is a function: invoke it asynchronously with the event. */
  deliver: (target: FunctionName, event: BusEvent, rule: string) => void;
  /** A rule whose target is a workflow: start an execution with the whole event as input (absent: such rules only log). */
  startWorkflow?: (workflow: WorkflowName, event: BusEvent, rule: string) => void;
  log?: (line: string) => void;
  /** Counts each accepted entry (bench/cost.ts); absent: nothing is metered. */
  meter?: LocalMeter;
}

export interface RecordedEvent {
  event: BusEvent;
  bus: string;
  matchedRules: string[];
}

export class LocalEventBus {
  /** The latest accepted events, newest last (for the control API). */
  readonly history: RecordedEvent[] = [];
  private static readonly HISTORY_LIMIT = 1_000;

  constructor(private readonly options: LocalEventBusOptions) {}

  putEvents(entries: unknown): PutEventsResult {
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > 10) {
      throw new AwsServiceError('ValidationException', '1 validation error detected: Value at \'entries\' failed to satisfy constraint: Member must have length between 1 and 10');
    }
    const results = entries.map((entry: PutEventsEntry) => this.putOne(entry ?? {}));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  private busOf(rule: EventRuleSpec): string {
    return rule.bus === 'default' ? 'default' : this.options.productBusName;
  }

  private putOne(entry: PutEventsEntry): PutEventsResultEntry {
    const problem = validateEntry(entry);
    if (problem) return problem;
    const time = entry.Time === undefined || entry.Time === null ? this.options.clock.now() : toDate(entry.Time);
    if (!time) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid. Reason: Time must be a timestamp.' };
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType as string,
      source: entry.Source as string,
      account: LOCAL_ACCOUNT_ID,
      // EventBridge stamps whole seconds: 2026-03-10T09:00:00Z.
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: LOCAL_REGION,
      resources: Array.isArray(entry.Resources) ? (entry.Resources as string[]) : [],
      detail: JSON.parse(entry.Detail as string) as Record<string, unknown>,
    };
    const bus = busNameOf(entry.EventBusName);
    const busRules = this.options.rules.filter((rule) => this.busOf(rule) === bus);
    const matched = busRules.filter((rule) => event.source === (rule.source ?? this.options.commerceSource) && rule.detailTypes.includes(event['detail-type']) && matchesDetail(rule, event.detail));
    this.options.meter?.busEvent(
      bus,
      entry as Parameters<LocalMeter['busEvent']>[1],
      matched.map(({ target }) => (typeof target === 'string' ? target : `workflow:${target.workflow}`)),
    );
    this.history.push({ event, bus, matchedRules: matched.map((rule) => rule.name) });
    if (this.history.length > LocalEventBus.HISTORY_LIMIT) this.history.shift();
    this.options.log?.(
      `→ event ${event.id} "${event['detail-type']}" from ${event.source} on bus ${bus}: ${
        matched.length
          ? matched.map((r) => `${r.name} → ${targetLabel(r.target)}`).join(', ')
          : busRules.length
            ? 'no rule matched'
            : `⚠ no rules on this bus — the product's rules are on bus "${this.options.productBusName}" (set EventBusName)`
      }`,
    );
    for (const rule of matched) {
      const { target } = rule;
      if (typeof target === 'string') this.options.deliver(target, event, `rule ${rule.name}`);
      else if (this.options.startWorkflow) this.options.startWorkflow(target.workflow, event, `rule ${rule.name}`);
      else this.options.log?.(`⚠ rule ${rule.name} targets workflow ${target.workflow}, but this bus starts no workflows`);
    }
    return { EventId: event.id };
  }
}

function targetLabel(target: EventRuleSpec['target']): string {
  return typeof target === 'string' ? target : `workflow ${target.workflow}`;
}

function validateEntry(entry: PutEventsEntry): PutEventsResultEntry | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    const value = entry[field];
    if (typeof value !== 'string' || value.length === 0) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
    }
  }
  try {
    const detail: unknown = JSON.parse(entry.Detail as string);
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) throw new TypeError('not an object');
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (entry.Resources !== undefined && (!Array.isArray(entry.Resources) || entry.Resources.some((r) => typeof r !== 'string'))) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Resources is not valid. Reason: Resources must be a list of ARNs.' };
  }
  return undefined;
}

/** `EventBusName` may be a name or an ARN (`arn:aws:events:…:event-bus/<name>`); absent means the default bus. */
function busNameOf(value: unknown): string {
  if (typeof value !== 'string' || value === '') return 'default';
  return value.startsWith('arn:') ? (value.split('event-bus/')[1] ?? value) : value;
}

function toDate(value: unknown): Date | undefined {
  const date =
    typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(/^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}
