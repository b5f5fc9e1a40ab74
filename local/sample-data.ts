/**
 * Sample customers and orders for the local stack, as EventBridge PutEvents entries in the documented event contract
 * (core/events.ts). They go through the local bus like any real producer's events.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
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
