/**
 * SES's mailbox simulator, locally: an email sent with a configuration set to `bounce@simulator.amazonses.com` or
 * `complaint@simulator.amazonses.com` produces the event SES's EventBridge destination publishes in AWS ("Email
 * Bounced" / "Email Complaint Received", source `aws.ses`, on the default bus, with the message's tags), so the
 * suppression path can be exercised locally. aws-ses-v2-local itself publishes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './lambda-runtime.ts';

export const SIMULATOR = { bounce: 'bounce@simulator.amazonses.com', complaint: 'complaint@simulator.amazonses.com' } as const;

interface SendEmailInput {
  FromEmailAddress?: string;
  ConfigurationSetName?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  EmailTags?: Array<{ Name: string; Value: string }>;
}

/** The feedback events SES would publish for this accepted SendEmail request, as PutEvents entries (default bus). */
export function simulatorFeedback(input: SendEmailInput, messageId: string, at: Date): PutEventsRequestEntry[] {
  if (!input.ConfigurationSetName) return [];
  const destination = [...(input.Destination?.ToAddresses ?? []), ...(input.Destination?.CcAddresses ?? []), ...(input.Destination?.BccAddresses ?? [])];
  const recipients = (address: string) => destination.filter((d) => d.toLowerCase().includes(address));
  const timestamp = at.toISOString();
  const tags: Record<string, string[]> = { 'ses:configuration-set': [input.ConfigurationSetName] };
  for (const tag of input.EmailTags ?? []) tags[tag.Name] = [tag.Value];
  const mail = { timestamp, source: input.FromEmailAddress ?? '', sendingAccountId: LOCAL_ACCOUNT_ID, messageId, destination, headersTruncated: false, tags };
  const entry = (detailType: string, detail: Record<string, unknown>): PutEventsRequestEntry => ({
    Source: 'aws.ses',
    DetailType: detailType,
    Time: at,
    Resources: [`arn:aws:ses:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:configuration-set/${input.ConfigurationSetName}`],
    Detail: JSON.stringify({ ...detail, mail }),
  });
  const entries: PutEventsRequestEntry[] = [];
  const bounced = recipients(SIMULATOR.bounce);
  if (bounced.length > 0) {
    entries.push(
      entry('Email Bounced', {
        eventType: 'Bounce',
        bounce: {
          feedbackId: randomUUID(),
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: bounced.map((emailAddress) => ({ emailAddress, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' })),
          timestamp,
          reportingMTA: 'dns; local.simulator',
        },
      }),
    );
  }
  const complained = recipients(SIMULATOR.complaint);
  if (complained.length > 0) {
    entries.push(
      entry('Email Complaint Received', {
        eventType: 'Complaint',
        complaint: { feedbackId: randomUUID(), complainedRecipients: complained.map((emailAddress) => ({ emailAddress })), timestamp, complaintFeedbackType: 'abuse' },
      }),
    );
  }
  return entries;
}
