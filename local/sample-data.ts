/**
 * Sample customers and orders for the local stack, as EventBridge PutEvents entries in the documented event contract
 * (core/events.ts). They go through the local bus like any real producer's events.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DateTime } from 'luxon';
import { DETAIL_TYPES } from '../core/topology.ts';
import { addDuration, nextAllowedTime, type QuietHours } from '../core/schedule.ts';
import { LOCAL_EVENT_BUS_NAME } from './constants.ts';

export interface SampleCustomer {
  customerId: string;
  name: string;
  email: string;
  timeZone: string;
  locale: string;
  marketingConsent: boolean;
}

export interface SampleOrder {
  orderId: string;
  items: Array<{ sku: string; name: string; quantity: number; unitPrice: number; category?: string }>;
  currency: string;
}

export const SAMPLE_CUSTOMERS = {
  ada: { customerId: 'cust-ada', name: 'Ada Lovelace', email: 'ada@example.com', timeZone: 'Europe/London', locale: 'en-GB', marketingConsent: true },
  kenji: { customerId: 'cust-kenji', name: 'Kenji Tanaka', email: 'kenji@example.jp', timeZone: 'Asia/Tokyo', locale: 'ja', marketingConsent: true },
  maria: { customerId: 'cust-maria', name: 'María García', email: 'maria@example.mx', timeZone: 'America/Mexico_City', locale: 'es-MX', marketingConsent: true },
  olivia: { customerId: 'cust-olivia', name: 'Olivia Smith', email: 'olivia@example.com', timeZone: 'America/New_York', locale: 'en-US', marketingConsent: true },
  lars: { customerId: 'cust-lars', name: 'Lars Schmidt', email: 'lars@example.de', timeZone: 'Europe/Berlin', locale: 'de-DE', marketingConsent: true },
  /** Time zone chosen at seeding time so that the check-in falls due during quiet hours. */
  noor: { customerId: 'cust-noor', name: 'Noor Haddad', email: 'noor@example.com', timeZone: 'UTC', locale: 'en', marketingConsent: true },
} satisfies Record<string, SampleCustomer>;

export const SAMPLE_ORDERS = {
  adaKettle: { orderId: 'ord-1001', currency: 'GBP', items: [{ sku: 'KET-GOOSE-1', name: 'Gooseneck kettle', quantity: 1, unitPrice: 79, category: 'kitchen' }] },
  kenjiKnives: {
    orderId: 'ord-1002',
    currency: 'JPY',
    items: [
      { sku: 'KNF-SANTOKU', name: 'Santoku knife', quantity: 1, unitPrice: 18500, category: 'kitchen' },
      { sku: 'WHT-STONE', name: 'Whetstone 1000/6000', quantity: 1, unitPrice: 4200, category: 'kitchen' },
    ],
  },
  mariaMolcajete: { orderId: 'ord-1003', currency: 'MXN', items: [{ sku: 'MOL-BASALT', name: 'Basalt molcajete', quantity: 1, unitPrice: 899, category: 'kitchen' }] },
  oliviaBlender: { orderId: 'ord-1004', currency: 'USD', items: [{ sku: 'BLN-PRO', name: 'Pro blender', quantity: 1, unitPrice: 249, category: 'appliances' }] },
  larsGrinder: { orderId: 'ord-1005', currency: 'EUR', items: [{ sku: 'GRD-BURR', name: 'Burr coffee grinder', quantity: 1, unitPrice: 129, category: 'coffee' }] },
  larsBeans: { orderId: 'ord-1006', currency: 'EUR', items: [{ sku: 'BEAN-ETH', name: 'Ethiopian beans 1 kg', quantity: 2, unitPrice: 32, category: 'coffee' }] },
  noorTeapot: { orderId: 'ord-1007', currency: 'USD', items: [{ sku: 'TEA-CAST', name: 'Cast-iron teapot', quantity: 1, unitPrice: 64, category: 'kitchen' }] },
} satisfies Record<string, SampleOrder>;

/** A contract the commerce or billing system reports (Contract Started); its dates are chosen relative to the scenario start. */
export interface SampleContract {
  contractId: string;
  plan: string;
  value: number;
  currency: string;
  autoRenew: boolean;
}

export const SAMPLE_CONTRACTS = {
  adaKettleCare: { contractId: 'ctr-2001', plan: 'Kettle Care', value: 59, currency: 'GBP', autoRenew: false },
  mariaKitchenCare: { contractId: 'ctr-2002', plan: 'Kitchen Care', value: 499, currency: 'MXN', autoRenew: false },
  kenjiSharpening: { contractId: 'ctr-2003', plan: 'Knife Sharpening', value: 4800, currency: 'JPY', autoRenew: false },
} satisfies Record<string, SampleContract>;

/** A yearly term whose last day is `daysToEnd` local calendar days after the local date of `at` in `timeZone`. */
export function contractTerm(at: Date, timeZone: string, daysToEnd: number): { startDate: string; endDate: string } {
  const end = DateTime.fromJSDate(at, { zone: timeZone }).startOf('day').plus({ days: daysToEnd });
  if (!end.isValid) throw new RangeError(`"${timeZone}" is not an IANA time zone`);
  return { startDate: end.minus({ years: 1 }).plus({ days: 1 }).toISODate()!, endDate: end.toISODate()! };
}

/** The same calendar date a year later: the end of a renewed yearly term. */
export function nextTermEnd(endDate: string): string {
  return DateTime.fromISO(endDate, { zone: 'utc' }).plus({ years: 1 }).toISODate()!;
}

export function contractStartedEntry(
  source: string,
  customer: SampleCustomer,
  contract: SampleContract,
  term: { startDate: string; endDate: string },
  occurredAt: Date,
): PutEventsRequestEntry {
  return {
    EventBusName: LOCAL_EVENT_BUS_NAME,
    Source: source,
    DetailType: DETAIL_TYPES.contractStarted,
    Time: occurredAt,
    Detail: JSON.stringify({ ...customer, ...contract, ...term, occurredAt: occurredAt.toISOString() }),
  };
}

export function contractRenewedEntry(source: string, customer: SampleCustomer, contract: SampleContract, endDate: string, occurredAt: Date): PutEventsRequestEntry {
  return {
    EventBusName: LOCAL_EVENT_BUS_NAME,
    Source: source,
    DetailType: DETAIL_TYPES.contractRenewed,
    Time: occurredAt,
    Detail: JSON.stringify({ contractId: contract.contractId, customerId: customer.customerId, endDate, occurredAt: occurredAt.toISOString() }),
  };
}

const total = (order: SampleOrder) => order.items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);

export function purchaseEntry(source: string, customer: SampleCustomer, order: SampleOrder, purchasedAt: Date): PutEventsRequestEntry {
  return {
    EventBusName: LOCAL_EVENT_BUS_NAME,
    Source: source,
    DetailType: DETAIL_TYPES.purchaseCompleted,
    Time: purchasedAt,
    Detail: JSON.stringify({ ...customer, orderId: order.orderId, items: order.items, total: total(order), currency: order.currency, purchasedAt: purchasedAt.toISOString() }),
  };
}

export function refundEntry(source: string, customer: SampleCustomer, order: SampleOrder, refundedAt: Date, reason: string): PutEventsRequestEntry {
  return {
    EventBusName: LOCAL_EVENT_BUS_NAME,
    Source: source,
    DetailType: DETAIL_TYPES.orderRefunded,
    Time: refundedAt,
    Detail: JSON.stringify({ orderId: order.orderId, customerId: customer.customerId, refundedAt: refundedAt.toISOString(), reason }),
  };
}

/** Zones a quiet-hours sample customer may live in, spread around the globe. */
const CANDIDATE_ZONES = [
  'Pacific/Auckland',
  'Australia/Sydney',
  'Asia/Tokyo',
  'Asia/Shanghai',
  'Asia/Kolkata',
  'Asia/Dubai',
  'Europe/Athens',
  'Europe/Paris',
  'Atlantic/Azores',
  'America/Sao_Paulo',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Anchorage',
  'Pacific/Honolulu',
];

/**
 * A time zone where a purchase at `purchasedAt` comes due (`delay` later, in local time) inside the quiet hours, so the
 * sample shows an email held until morning; undefined if none of the candidates does.
 */
export function quietHoursZone(purchasedAt: Date, delay: string, quietHours: QuietHours): string | undefined {
  return CANDIDATE_ZONES.find((zone) => {
    const due = addDuration(purchasedAt.toISOString(), delay, zone);
    return nextAllowedTime(due, quietHours, zone) !== due;
  });
}
