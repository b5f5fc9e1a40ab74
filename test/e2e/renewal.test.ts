/**
 * Renewal reminders end to end on the embedded stack, with the shipped campaign (campaigns/renewal-reminder.yaml:
 * 60, 30 and 7 days before the last day, 09:00 local, Monday–Saturday 08:00–20:00): contract events on the bus →
 * the daily sweep (Scheduler cron) plans one reminder per contract × offset → each arrives on its day; a renewal
 * stops the remaining ones; a contract that ends without renewal is recorded as churned.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../../core/topology.ts';
import { LOCAL_EVENT_BUS_NAME } from '../../local/constants.ts';
import { startE2eStack, type E2eStack } from './support.ts';

let e2e: E2eStack;
const START = '2031-01-06T06:00:00.000Z'; // a Monday

const started = (contractId: string, who: { id: string; zone: string; locale: string }, endDate: string, autoRenew = false) => ({
  EventBusName: LOCAL_EVENT_BUS_NAME,
  Source: DEFAULT_COMMERCE_EVENT_SOURCE,
  DetailType: 'Contract Started',
  Detail: JSON.stringify({
    contractId,
    customerId: who.id,
    email: `${who.id}@example.com`,
    name: `${who.id === 'c-berlin' ? 'Bea' : 'Lou'} Customer`,
    timeZone: who.zone,
    locale: who.locale,
    marketingConsent: false,
    plan: 'Fibre 500',
    value: 39.9,
    currency: 'EUR',
    startDate: '2030-03-01',
    endDate,
    autoRenew,
    occurredAt: START,
  }),
});
const berlin = { id: 'c-berlin', zone: 'Europe/Berlin', locale: 'de' };
const losAngeles = { id: 'c-la', zone: 'America/Los_Angeles', locale: 'en' };

const reminders = async (who: { id: string }) =>
  (await e2e.stack.mailbox()).filter((m) => m.to.includes(`${who.id}@example.com`)).map((m) => ({ subject: m.subject, sentAt: m.sentAt }));

const contract = async (contractId: string) =>
  (await e2e.db.send(new GetCommand({ TableName: e2e.stack.tables.contracts, Key: { contractId }, ConsistentRead: true }))).Item;

beforeAll(async () => {
  e2e = await startE2eStack({ startAt: START });
  // Berlin: ends Sunday 2031-03-30 (DST starts that morning); LA: ends 2031-03-20.
  const result = await e2e.events.send(
    new PutEventsCommand({ Entries: [started('k-berlin', berlin, '2031-03-30'), started('k-la', losAngeles, '2031-03-20', true)] }),
  );
  expect(result.FailedEntryCount).toBe(0);
  await e2e.stack.settle();
});
afterAll(async () => {
  await e2e?.stop();
});

describe('renewal reminders on the local stack', () => {
  it('sends the 60-day reminders on their local day at 09:00, or when the send window opens after a Sunday', async () => {
    // 60 days before 2031-03-30 is Wednesday 2031-01-29: 09:00 CET. Before 2031-03-20 it is Sunday 2031-01-19, outside
    // the window's days: Monday 08:00 PST, when the window opens.
    await e2e.stack.advance('P24D');
    expect(await reminders(losAngeles)).toEqual([{ subject: 'Lou, your Fibre 500 plan ends on 2031-03-20', sentAt: '2031-01-20T16:00:00.000Z' }]);
    expect(await reminders(berlin)).toEqual([
      { subject: 'Bea, Ihr Tarif Fibre 500 endet am 2031-03-30', sentAt: '2031-01-29T08:00:00.000Z' },
    ]);
  });

  it('a renewal stops the remaining reminders of the old term', async () => {
    const renewed = await e2e.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: LOCAL_EVENT_BUS_NAME,
            Source: DEFAULT_COMMERCE_EVENT_SOURCE,
            DetailType: 'Contract Renewed',
            Detail: JSON.stringify({ contractId: 'k-la', customerId: 'c-la', endDate: '2032-03-20', occurredAt: e2e.stack.clock.nowIso() }),
          },
        ],
      }),
    );
    expect(renewed.FailedEntryCount).toBe(0);
    await e2e.stack.settle();
    expect(await contract('k-la')).toMatchObject({ status: 'RENEWED', endDate: '2032-03-20', outcome: { result: 'RENEWED' } });
  });

  it('sends the Berlin 30- and 7-day reminders across the DST change (none for the renewed contract) and records the churn', async () => {
    await e2e.stack.advance('P70D');
    // 30 days before: Friday 2031-02-28, 09:00 CET = 08:00Z; 7 days before: Sunday 2031-03-23 → Monday 08:00 CET (the
    // window opens) = 07:00Z. The contract's last day is the day the clocks go forward (2031-03-30).
    expect((await reminders(berlin)).map((r) => r.sentAt)).toEqual(['2031-01-29T08:00:00.000Z', '2031-02-28T08:00:00.000Z', '2031-03-24T07:00:00.000Z']);
    expect(await reminders(losAngeles)).toHaveLength(1);
    expect(await contract('k-berlin')).toMatchObject({ status: 'ENDED', outcome: { result: 'CHURNED', remindersSent: 3, endDate: '2031-03-30' } });
  });
});
