import { describe, expect, it } from 'vitest';
import { parseCommerceEvent } from '../../core/events.ts';
import { addDuration, nextAllowedTime } from '../../core/schedule.ts';
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../../core/topology.ts';
import { purchaseEntry, quietHoursZone, refundEntry, SAMPLE_CUSTOMERS, SAMPLE_ORDERS } from '../../local/sample-data.ts';

/** The envelope EventBridge would deliver for a PutEvents entry. */
const asEvent = (entry: ReturnType<typeof purchaseEntry>) => ({
  id: 'e-1',
  'detail-type': entry.DetailType,
  source: entry.Source,
  time: (entry.Time as Date).toISOString(),
  detail: JSON.parse(entry.Detail!),
});

describe('sample data', () => {
  const at = new Date('2031-03-10T10:00:00Z');

  it('follows the documented event contract', () => {
    const customers = Object.values(SAMPLE_CUSTOMERS);
    const orders = Object.values(SAMPLE_ORDERS);
    for (const [i, order] of orders.entries()) {
      expect(() => parseCommerceEvent(asEvent(purchaseEntry(DEFAULT_COMMERCE_EVENT_SOURCE, customers[i % customers.length]!, order, at)))).not.toThrow();
    }
    const refund = refundEntry(DEFAULT_COMMERCE_EVENT_SOURCE, SAMPLE_CUSTOMERS.olivia, SAMPLE_ORDERS.oliviaBlender, at, 'changed my mind');
    expect(parseCommerceEvent(asEvent(refund))).toMatchObject({ type: 'Order Refunded', detail: { orderId: 'ord-1004' } });
  });

  it('finds a zone where a purchase comes due in quiet hours, whatever the hour', () => {
    const quiet = { start: '21:00', end: '08:00' };
    for (let hour = 0; hour < 24; hour++) {
      const purchasedAt = new Date(Date.UTC(2031, 2, 27, hour, 17));
      const zone = quietHoursZone(purchasedAt, 'P3D', quiet);
      expect(zone, `purchased ${purchasedAt.toISOString()}`).toBeDefined();
      const due = addDuration(purchasedAt.toISOString(), 'P3D', zone!);
      expect(nextAllowedTime(due, quiet, zone!)).not.toBe(due);
    }
  });
});
