import { describe, expect, it } from 'vitest';
import { parseCommerceEvent } from '../../core/events.ts';
import { sendingEvents } from '../../local/ses-feedback.ts';

const at = new Date('2031-04-01T09:00:00.000Z');
const request = (to: string | string[], configurationSet: string | null = 'outreach-local') => ({
  FromEmailAddress: 'Shop <hello@shop.example>',
  ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
  Destination: { ToAddresses: Array.isArray(to) ? to : [to] },
  EmailTags: [{ Name: 'customerId', Value: 'cust-1' }, { Name: 'touchpointId', Value: 'tp-1' }],
  Content: { Simple: { Subject: { Data: 'How is your kettle?' } } },
});
type Entry = ReturnType<typeof sendingEvents>[number];
/** The event EventBridge would deliver for the entry. */
const delivered = (entry: Entry) => ({
  id: 'e-1',
  'detail-type': entry.DetailType,
  source: entry.Source,
  time: at.toISOString(),
  detail: JSON.parse(entry.Detail!),
});
const detail = (entry: Entry | undefined) => JSON.parse(entry!.Detail!) as Record<string, any>;
const types = (entries: Entry[]) => entries.map((e) => e.DetailType);

describe('SES sending events (what the configuration set\'s EventBridge destination publishes)', () => {
  it('publishes "Email Sent" and then "Email Delivered" for an ordinary recipient, on the default bus, with the message and its tags', () => {
    // Prepare / Act
    const entries = sendingEvents(request('ada@example.com'), 'msg-0', at);

    // Assess
    expect(types(entries)).toEqual(['Email Sent', 'Email Delivered']);
    for (const entry of entries) {
      expect(entry).toMatchObject({ Source: 'aws.ses', Time: at, Resources: ['arn:aws:ses:us-east-1:000000000000:configuration-set/outreach-local'] });
      expect(entry.EventBusName).toBeUndefined();
    }
    const mail = {
      timestamp: '2031-04-01T09:00:00.000Z',
      source: 'Shop <hello@shop.example>',
      sendingAccountId: '000000000000',
      messageId: 'msg-0',
      destination: ['ada@example.com'],
      commonHeaders: { from: ['Shop <hello@shop.example>'], to: ['ada@example.com'], messageId: 'msg-0', subject: 'How is your kettle?' },
      tags: { 'ses:configuration-set': ['outreach-local'], 'ses:from-domain': ['shop.example'], customerId: ['cust-1'], touchpointId: ['tp-1'] },
    };
    expect(detail(entries[0])).toMatchObject({ eventType: 'Send', send: {}, mail });
    expect(detail(entries[1])).toMatchObject({
      eventType: 'Delivery',
      delivery: { timestamp: '2031-04-01T09:00:00.000Z', recipients: ['ada@example.com'], smtpResponse: expect.stringMatching(/^250 /) },
      mail,
    });
  });

  it('publishes a permanent bounce instead of a delivery for bounce@simulator.amazonses.com, in the shape the product parses', () => {
    // Prepare / Act
    const entries = sendingEvents(request('bounce@simulator.amazonses.com'), 'msg-1', at);

    // Assess
    expect(types(entries)).toEqual(['Email Sent', 'Email Bounced']);
    expect(parseCommerceEvent(delivered(entries[1]!))).toMatchObject({
      type: 'Email Bounced',
      detail: { eventType: 'Bounce', bounce: { bounceType: 'Permanent' }, mail: { messageId: 'msg-1', tags: { customerId: ['cust-1'], touchpointId: ['tp-1'] } } },
    });
  });

  it('delivers to complaint@simulator.amazonses.com and then publishes the complaint', () => {
    // Prepare / Act
    const entries = sendingEvents(request('complaint@simulator.amazonses.com'), 'msg-2', at);

    // Assess
    expect(types(entries)).toEqual(['Email Sent', 'Email Delivered', 'Email Complaint Received']);
    expect(parseCommerceEvent(delivered(entries[2]!))).toMatchObject({ type: 'Email Complaint Received', detail: { eventType: 'Complaint' } });
  });

  it('reports each recipient apart: a delivery per delivered recipient, the bounce for the simulator address only (labels and display names too)', () => {
    // Prepare / Act
    const entries = sendingEvents(request(['ada@example.com', 'Sim <Bounce+run-7@simulator.amazonses.com>', 'bob@example.com']), 'msg-3', at);

    // Assess
    expect(types(entries)).toEqual(['Email Sent', 'Email Delivered', 'Email Delivered', 'Email Bounced']);
    expect(detail(entries[0]).mail.destination).toEqual(['ada@example.com', 'Sim <Bounce+run-7@simulator.amazonses.com>', 'bob@example.com']);
    expect(entries.slice(1, 3).map((e) => detail(e).delivery.recipients)).toEqual([['ada@example.com'], ['bob@example.com']]);
    expect(detail(entries[3]).bounce.bouncedRecipients).toEqual([expect.objectContaining({ emailAddress: 'Bounce+run-7@simulator.amazonses.com', action: 'failed' })]);
  });

  it('publishes nothing without a configuration set (no event destination)', () => {
    expect(sendingEvents(request('ada@example.com', null), 'msg-4', at)).toEqual([]);
    expect(sendingEvents(request('bounce@simulator.amazonses.com', null), 'msg-5', at)).toEqual([]);
  });
});
