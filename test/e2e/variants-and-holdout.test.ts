/**
 * A/B variants and holdout end to end: a campaign stored in the campaigns table (as `campaigns apply` stores it),
 * run through the real handlers and workflow on the embedded stack. Checks that the variant chosen at planning is
 * the one rendered, even after the weights change (it crosses check-eligibility → Step Functions → render-email), and
 * that held-out customers get nothing while their touchpoint records why.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eStack, type E2eStack } from './support.ts';
import { saveCampaign } from '../../adapters/dynamodb-campaigns.ts';
import { chooseVariant, isHeldOut } from '../../core/campaigns/assignment.ts';
import { campaignSchema, type Campaign } from '../../core/campaigns/schema.ts';
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../../core/topology.ts';
import { touchpointIdFor } from '../../core/touchpoint-id.ts';
import { purchaseEntry, type SampleCustomer } from '../../local/sample-data.ts';
import type { LocalStack } from '../../local/stack.ts';

const content = (label: string) => ({
  subject: `${label}: how is your {{order.items.0.name}}?`,
  html: `<p>${label} for {{customer.firstName}}</p>`,
  text: `${label} for {{customer.firstName}}`,
});
const campaign: Campaign = campaignSchema.parse({
  id: 'ab-check-in',
  kind: 'check-in',
  trigger: { event: 'Purchase Completed' },
  delay: 'PT1H',
  holdout: { percent: 20 },
  frequencyCap: { perCampaign: { maxEmails: 5, per: 'P1D' } },
  variants: [
    { id: 'warm', weight: 50, template: { defaultLocale: 'en', locales: { en: content('WARM') } } },
    { id: 'brief', weight: 50, template: { defaultLocale: 'en', locales: { en: content('BRIEF') } } },
  ],
});

let stack: LocalStack;
let events: EventBridgeClient;
let db: DynamoDBDocumentClient;

let e2e: E2eStack | undefined;

beforeAll(async () => {
  e2e = await startE2eStack({
    startAt: '2031-05-05T09:00:00.000Z',
    // Only this campaign, stored the way the CLI stores it.
    loadCampaigns: async (s) => saveCampaign(s.tables.campaigns, campaign, s.clock.nowIso(), DynamoDBDocumentClient.from(s.clients.dynamodb)),
  });
  ({ stack, events, db } = e2e);
});
afterAll(async () => {
  await e2e?.stop();
});

describe('variants and holdout on the local stack', () => {
  it('renders the variant chosen at planning, and sends nothing to held-out customers', async () => {
    // Prepare: 40 customers in a zone where 10:00 is outside the default (no) quiet hours.
    const customers: SampleCustomer[] = Array.from({ length: 40 }, (_, i) => ({
      customerId: `ab-${i}`,
      name: `Pat${i} Doe`,
      email: `ab-${i}@example.com`,
      timeZone: 'Europe/Lisbon',
      locale: 'en',
      marketingConsent: true,
    }));
    const entries = customers.map((c, i) =>
      purchaseEntry(DEFAULT_COMMERCE_EVENT_SOURCE, c, { orderId: `ab-order-${i}`, currency: 'EUR', items: [{ sku: 'K', name: 'Kettle', quantity: 1, unitPrice: 40 }] }, stack.clock.now()),
    );
    for (let i = 0; i < entries.length; i += 10) {
      const result = await events.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
      expect(result.FailedEntryCount).toBe(0);
    }

    await stack.settle();
    // The marketer then shifts the weights: customers already planned must keep the variant recorded for them.
    const shifted = campaignSchema.parse({
      ...campaign,
      variants: campaign.variants!.map((v) => ({ ...v, weight: v.id === 'warm' ? 99 : 1 })),
    });
    await saveCampaign(stack.tables.campaigns, shifted, stack.clock.nowIso(), db);
    expect(customers.some((c) => chooseVariant(shifted, c.customerId)!.id !== chooseVariant(campaign, c.customerId)!.id)).toBe(true);

    // Act
    await stack.advance('PT2H');

    // Assess
    const mail = await stack.mailbox();
    const heldOut = customers.filter((c) => isHeldOut(campaign, c.customerId));
    expect(heldOut.length).toBeGreaterThan(0);
    expect(heldOut.length).toBeLessThan(customers.length);
    for (const customer of customers) {
      const received = mail.filter((m) => m.to.includes(customer.email));
      const touchpointId = touchpointIdFor(campaign.id, `order:ab-order-${customers.indexOf(customer)}`);
      const { Item } = await db.send(new GetCommand({ TableName: stack.tables.touchpoints, Key: { touchpointId } }));
      if (isHeldOut(campaign, customer.customerId)) {
        expect(received).toHaveLength(0);
        expect(Item).toMatchObject({ status: 'HELD_OUT', reason: 'holdout (20%)' });
        expect(Item?.dueShard).toBeUndefined();
        continue;
      }
      const variant = chooseVariant(campaign, customer.customerId)!.id;
      expect(Item).toMatchObject({ status: 'SENT', variant });
      expect(received).toHaveLength(1);
      expect(received[0]!.subject).toBe(`${variant === 'warm' ? 'WARM' : 'BRIEF'}: how is your Kettle?`);
    }
    const variantsSent = new Set(customers.filter((c) => !isHeldOut(campaign, c.customerId)).map((c) => chooseVariant(campaign, c.customerId)!.id));
    expect([...variantsSent].sort()).toEqual(['brief', 'warm']);
  });
});
