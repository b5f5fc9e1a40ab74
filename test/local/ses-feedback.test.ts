import { describe, expect, it } from 'vitest';
import { parseCommerceEvent } from '../../core/events.ts';
import { simulatorFeedback } from '../../local/ses-feedback.ts';

const at = new Date('2031-04-01T09:00:00.000Z');
const request = (to: string, configurationSet: string | null = 'outreach-local') => ({
  FromEmailAddress: 'hello@shop.example',
  ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
  Destination: { ToAddresses: [to] },
  EmailTags: [{ Name: 'customerId', Value: 'cust-1' }, { Name: 'touchpointId', Value: 'tp-1' }],
});
/** The event EventBridge would deliver for the entry. */
const delivered = (entry: ReturnType<typeof simulatorFeedback>[number]) => ({
  id: 'e-1',
  'detail-type': entry.DetailType,
  source: entry.Source,
  time: at.toISOString(),
  detail: JSON.parse(entry.Detail!),
});

describe('SES mailbox simulator feedback', () => {
  it('publishes a permanent bounce for bounce@simulator.amazonses.com, carrying the message tags, in the shape the product parses', () => {
    const [entry, ...rest] = simulatorFeedback(request('bounce@simulator.amazonses.com'), 'msg-1', at);

    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ Source: 'aws.ses', DetailType: 'Email Bounced' });
    expect(entry!.EventBusName).toBeUndefined();
    expect(parseCommerceEvent(delivered(entry!))).toMatchObject({
      type: 'Email Bounced',
      detail: { eventType: 'Bounce', bounce: { bounceType: 'Permanent' }, mail: { messageId: 'msg-1', tags: { customerId: ['cust-1'], touchpointId: ['tp-1'] } } },
    });
  });

  it('publishes a complaint for complaint@simulator.amazonses.com', () => {
    const [entry] = simulatorFeedback(request('complaint@simulator.amazonses.com'), 'msg-2', at);
    expect(parseCommerceEvent(delivered(entry!))).toMatchObject({ type: 'Email Complaint Received', detail: { eventType: 'Complaint' } });
  });

  it('publishes nothing for other recipients, or without a configuration set (no event destination)', () => {
    expect(simulatorFeedback(request('ada@example.com'), 'msg-3', at)).toEqual([]);
    expect(simulatorFeedback(request('bounce@simulator.amazonses.com', null), 'msg-4', at)).toEqual([]);
  });
});
