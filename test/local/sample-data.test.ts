import { describe, expect, it } from 'vitest';
import { parseContractEvent } from '../../core/contracts/contract-events.ts';
import { parseCommerceEvent } from '../../core/events.ts';
import { addDuration, nextAllowedTime } from '../../core/schedule.ts';
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../../core/topology.ts';
import {
  contractRenewedEntry,
  contractStartedEntry,
  contractTerm,
  nextTermEnd,
  purchaseEntry,
  quietHoursZone,
  refundEntry,
  SAMPLE_CONTRACTS,
  SAMPLE_CUSTOMERS,
  SAMPLE_ORDERS,
} from '../../local/sample-data.ts';

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

  it('sends contracts in the documented contract events', () => {
    const term = contractTerm(at, SAMPLE_CUSTOMERS.ada.timeZone, 31);
    const started = contractStartedEntry(DEFAULT_COMMERCE_EVENT_SOURCE, SAMPLE_CUSTOMERS.ada, SAMPLE_CONTRACTS.adaKettleCare, term, at);
    expect(parseContractEvent(asEvent(started))).toMatchObject({
      type: 'Contract Started',
      detail: { contractId: 'ctr-2001', customerId: 'cust-ada', timeZone: 'Europe/London', plan: 'Kettle Care', startDate: '2030-04-11', endDate: '2031-04-10' },
    });
    const renewed = contractRenewedEntry(DEFAULT_COMMERCE_EVENT_SOURCE, SAMPLE_CUSTOMERS.ada, SAMPLE_CONTRACTS.adaKettleCare, nextTermEnd(term.endDate), at);
    expect(parseContractEvent(asEvent(renewed))).toMatchObject({ type: 'Contract Renewed', detail: { contractId: 'ctr-2001', endDate: '2032-04-10' } });
  });

  it('dates a contract term from the local calendar day of the scenario start', () => {
    // 2031-03-10T22:30Z is already 11 March in Tokyo, still 10 March in Mexico City.
    const late = new Date('2031-03-10T22:30:00Z');
    expect(contractTerm(late, 'Asia/Tokyo', 10)).toEqual({ startDate: '2030-03-22', endDate: '2031-03-21' });
    expect(contractTerm(late, 'America/Mexico_City', 10)).toEqual({ startDate: '2030-03-21', endDate: '2031-03-20' });
    expect(nextTermEnd('2031-12-31')).toBe('2032-12-31');
    expect(() => contractTerm(late, 'Mars/Olympus_Mons', 10)).toThrow(/time zone/);
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
