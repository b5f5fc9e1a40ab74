/**
 * How an SES SendEmail failure is sorted: only what surely did not reach SES may be sent again; a rejection is final;
 * anything that may have reached SES (a reset, a lost answer, a 5xx) is ambiguous. The client never retries by itself.
 */
import { GetAccountCommand, MessageRejected, SendEmailCommand, SESv2Client, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { classifySendError, createSesClient, SesEmailSender } from '../../../adapters/ses-email-sender.ts';
import { sesSendQuota } from '../../../adapters/ses-send-quota.ts';
import type { SendEmailRequest } from '../../../core/use-cases/render-touchpoint-email.ts';

const ses = mockClient(SESv2Client);
beforeEach(() => ses.reset());
afterAll(() => ses.restore());

const request = { FromEmailAddress: 'hello@shop.example', Destination: { ToAddresses: ['ada@example.com'] } } as unknown as SendEmailRequest;
const networkError = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('classifySendError', () => {
  it.each([
    ['TooManyRequestsException', new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: { httpStatusCode: 429 } })],
    ['ECONNREFUSED', networkError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:4579')],
    ['ENOTFOUND', networkError('ENOTFOUND')],
  ])('%s did not reach SES: NOT_SENT', (name, error) => {
    expect(classifySendError(error)).toMatchObject({ result: 'NOT_SENT', error: { Error: name } });
  });

  it('MessageRejected is final: REJECTED', () => {
    const error = new MessageRejected({ message: 'Email address is not verified.', $metadata: { httpStatusCode: 400 } });
    expect(classifySendError(error)).toEqual({ result: 'REJECTED', error: { Error: 'MessageRejected', Cause: 'Email address is not verified.' } });
  });

  it.each([
    ['ECONNRESET', networkError('ECONNRESET', 'socket hang up')],
    ['EPIPE', networkError('EPIPE')],
    ['InternalFailure', Object.assign(new Error('internal'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } })],
    ['TimeoutError', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })],
  ])('%s may have reached SES: AMBIGUOUS', (name, error) => {
    expect(classifySendError(error)).toMatchObject({ result: 'AMBIGUOUS', error: { Error: name } });
  });

  it('keeps a cause short (an SES message can echo the request)', () => {
    const error = new MessageRejected({ message: 'x'.repeat(1000), $metadata: { httpStatusCode: 400 } });
    expect(classifySendError(error).error.Cause).toHaveLength(200);
  });
});

describe('SesEmailSender', () => {
  it('sends once and answers SENT with the message id', async () => {
    // Prepare
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });

    // Act
    const result = await new SesEmailSender(new SESv2Client({ region: 'us-east-1' })).send(request);

    // Assess
    expect(result).toEqual({ result: 'SENT', messageId: 'm-1' });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it('answers a failure with its class instead of throwing', async () => {
    // Prepare
    ses.on(SendEmailCommand).rejects(networkError('ECONNRESET', 'socket hang up'));

    // Act
    const result = await new SesEmailSender(new SESv2Client({ region: 'us-east-1' })).send(request);

    // Assess
    expect(result).toEqual({ result: 'AMBIGUOUS', error: { Error: 'ECONNRESET', Cause: 'socket hang up' } });
  });

  it('builds a client that never retries (a retry after an ambiguous failure could send twice)', async () => {
    expect(await createSesClient().config.maxAttempts()).toBe(1);
  });
});

describe('sesSendQuota', () => {
  it('reads GetAccount once per cache period', async () => {
    // Prepare
    ses.on(GetAccountCommand).resolves({ SendQuota: { MaxSendRate: 14, Max24HourSend: 50_000, SentLast24Hours: 12 } });
    let now = 0;
    const quota = sesSendQuota(new SESv2Client({ region: 'us-east-1' }), 60_000, () => now);

    // Act
    const first = await quota();
    now = 59_999;
    await quota();
    now = 60_000;
    await quota();

    // Assess
    expect(first).toEqual({ maxSendRate: 14, max24HourSend: 50_000, sentLast24Hours: 12 });
    expect(ses.commandCalls(GetAccountCommand)).toHaveLength(2);
  });

  it('refuses an account without a send rate', async () => {
    ses.on(GetAccountCommand).resolves({ SendQuota: {} });
    await expect(sesSendQuota(new SESv2Client({ region: 'us-east-1' }))()).rejects.toThrow('SES GetAccount returned no maximum send rate');
  });
});
