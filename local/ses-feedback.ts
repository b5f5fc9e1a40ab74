/**
 * The events SES's EventBridge destination publishes for an accepted SendEmail, locally. SES publishes them only for
 * a message sent with a configuration set (that is where the event destination lives), on the default bus, with
 * source `aws.ses` and the configuration set's ARN as the resource:
 *
 * - "Email Sent" (eventType `Send`, an empty `send` object) for every accepted message;
 * - "Email Delivered" (eventType `Delivery`) per recipient that the mailbox simulator does not bounce;
 * - SES's mailbox simulator: `bounce@simulator.amazonses.com` gets "Email Bounced" (a permanent bounce) instead of a
 *   delivery, `complaint@simulator.amazonses.com` is delivered and then "Email Complaint Received".
 *
 * Detail-types: EventBridge's event reference for SES (docs.aws.amazon.com/eventbridge/latest/ref/events-ref-ses.html)
 * and docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html. The detail is SES's event record: `eventType`,
 * `mail` and the object of that type (docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html,
 * examples in event-publishing-retrieving-sns-examples.html). SES publishes them seconds after the send; locally
 * they are produced at once. aws-ses-v2-local itself publishes nothing: local/ses-front.ts calls this for every
 * SendEmail it accepted.
 */
import { randomUUID } from 'node:crypto';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './lambda-runtime.ts';

export const SIMULATOR = { bounce: 'bounce@simulator.amazonses.com', complaint: 'complaint@simulator.amazonses.com' } as const;

/** The EventBridge detail-types of SES's email sending events that are produced locally. */
export const SES_DETAIL_TYPES = {
  send: 'Email Sent',
  delivery: 'Email Delivered',
  bounce: 'Email Bounced',
  complaint: 'Email Complaint Received',
} as const;

/** The fields of a SendEmail request (SES v2) the events are made from. */
export interface SendEmailInput {
  FromEmailAddress?: string;
  ConfigurationSetName?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  EmailTags?: Array<{ Name: string; Value: string }>;
  Content?: { Simple?: { Subject?: { Data?: string } } };
}

/** Every recipient of the request: To, then Cc, then Bcc. */
export function recipientsOf(input: SendEmailInput): string[] {
  const d = input.Destination ?? {};
  return [...(d.ToAddresses ?? []), ...(d.CcAddresses ?? []), ...(d.BccAddresses ?? [])];
}

/** `Name <bounce+label@simulator.amazonses.com>` → 'bounce' (the simulator allows a +label). */
function simulatorKind(recipient: string): 'bounce' | 'complaint' | undefined {
  const address = (/<([^>]*)>/.exec(recipient)?.[1] ?? recipient).trim().toLowerCase();
  const match = /^(bounce|complaint)(\+[^@]*)?@simulator\.amazonses\.com$/.exec(address);
  return match ? (match[1] as 'bounce' | 'complaint') : undefined;
}

/** The address part of `Name <address>` (recipients in delivery, bounce and complaint objects; the from-domain). */
function addressOf(mailbox: string): string {
  return (/<([^>]*)>/.exec(mailbox)?.[1] ?? mailbox).trim();
}

/**
 * The events SES would publish for this accepted SendEmail request, in order (Send, deliveries, bounce, complaint),
 * as PutEvents entries for the default bus with `Time` = `at`. Empty without a configuration set.
 */
export function sendingEvents(input: SendEmailInput, messageId: string, at: Date): PutEventsRequestEntry[] {
  const configurationSet = input.ConfigurationSetName;
  if (!configurationSet) return [];
  const destination = recipientsOf(input);
  const timestamp = at.toISOString();
  const source = input.FromEmailAddress ?? '';
  const fromAddress = addressOf(source);
  const fromDomain = fromAddress.includes('@') ? fromAddress.slice(fromAddress.lastIndexOf('@') + 1) : fromAddress;
  // SES's own tags first (as it adds them to every event of a configuration set), then the message's EmailTags.
  const tags: Record<string, string[]> = {
    'ses:operation': ['SendEmail'],
    'ses:configuration-set': [configurationSet],
    'ses:source-ip': ['127.0.0.1'],
    'ses:from-domain': [fromDomain],
    'ses:caller-identity': ['local'],
  };
  for (const tag of input.EmailTags ?? []) tags[tag.Name] = [tag.Value];
  const subject = input.Content?.Simple?.Subject?.Data;
  const mail = {
    timestamp,
    source,
    sourceArn: `arn:aws:ses:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:identity/${fromDomain}`,
    sendingAccountId: LOCAL_ACCOUNT_ID,
    messageId,
    destination,
    headersTruncated: false,
    commonHeaders: { from: [source], to: input.Destination?.ToAddresses ?? [], messageId, ...(subject === undefined ? {} : { subject }) },
    tags,
  };
  const entry = (detailType: string, detail: Record<string, unknown>): PutEventsRequestEntry => ({
    Source: 'aws.ses',
    DetailType: detailType,
    Time: at,
    Resources: [`arn:aws:ses:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:configuration-set/${configurationSet}`],
    Detail: JSON.stringify({ ...detail, mail }),
  });

  const entries: PutEventsRequestEntry[] = [entry(SES_DETAIL_TYPES.send, { eventType: 'Send', send: {} })];
  const bounced = destination.filter((d) => simulatorKind(d) === 'bounce');
  const complained = destination.filter((d) => simulatorKind(d) === 'complaint');
  for (const recipient of destination.filter((d) => simulatorKind(d) !== 'bounce')) {
    entries.push(
      entry(SES_DETAIL_TYPES.delivery, {
        eventType: 'Delivery',
        delivery: {
          timestamp,
          processingTimeMillis: 0,
          recipients: [addressOf(recipient)],
          smtpResponse: '250 2.6.0 Message received',
          reportingMTA: 'local.simulator',
          remoteMtaIp: '127.0.0.1',
        },
      }),
    );
  }
  if (bounced.length > 0) {
    entries.push(
      entry(SES_DETAIL_TYPES.bounce, {
        eventType: 'Bounce',
        bounce: {
          feedbackId: randomUUID(),
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: bounced.map((recipient) => ({ emailAddress: addressOf(recipient), action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' })),
          timestamp,
          reportingMTA: 'dns; local.simulator',
        },
      }),
    );
  }
  if (complained.length > 0) {
    entries.push(
      entry(SES_DETAIL_TYPES.complaint, {
        eventType: 'Complaint',
        complaint: { feedbackId: randomUUID(), complainedRecipients: complained.map((recipient) => ({ emailAddress: addressOf(recipient) })), timestamp, complaintFeedbackType: 'abuse' },
      }),
    );
  }
  return entries;
}
