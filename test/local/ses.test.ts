import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSesStore, startSes } from '../../local/ses.ts';

let ses: Awaited<ReturnType<typeof startSes>>;
beforeAll(async () => {
  ses = await startSes({ port: 0 });
});
afterAll(() => ses.close());

describe('the local SES v2 (aws-ses-v2-local)', () => {
  it('returns a MessageId for SendEmail with Simple content and custom List-Unsubscribe headers, and keeps the headers', async () => {
    const client = new SESv2Client({ endpoint: ses.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const unsubscribe = '<http://127.0.0.1:4010/unsubscribe?c=cust-1&t=abc>';

    const { MessageId } = await client.send(
      new SendEmailCommand({
        FromEmailAddress: 'hello@shop.example',
        Destination: { ToAddresses: ['ada@example.com'] },
        ConfigurationSetName: 'outreach-local',
        Content: {
          Simple: {
            Subject: { Data: 'How is your kettle?' },
            Body: { Text: { Data: 'Hi Ada' }, Html: { Data: '<p>Hi Ada</p>' } },
            Headers: [
              { Name: 'List-Unsubscribe', Value: unsubscribe },
              { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
            ],
          },
        },
      }),
    );
    client.destroy();

    expect(MessageId).toBeTruthy();
    const stored = (await readSesStore(ses.endpoint)).find((e) => e.messageId === MessageId);
    expect(stored).toMatchObject({
      destination: { to: ['ada@example.com'] },
      subject: 'How is your kettle?',
      headers: [
        { name: 'List-Unsubscribe', value: unsubscribe },
        { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      ],
    });
  });

  it('serves the mailbox page', async () => {
    const page = await fetch(`${ses.endpoint}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });
});
