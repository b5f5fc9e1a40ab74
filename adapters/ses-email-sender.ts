import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { EmailSender, SendAttemptResult } from '../core/use-cases/send-touchpoint-email.ts';
import type { SendEmailRequest } from '../core/use-cases/render-touchpoint-email.ts';

/**
 * No SDK retries: the SDK retries throttling, but also reset connections and 5xx, and a retry of a request SES may have
 * accepted sends the email twice. The send path retries what is safe itself (core/use-cases/send-touchpoint-email.ts).
 */
export function createSesClient(): SESv2Client {
  return new SESv2Client({ maxAttempts: 1 });
}

/** SES's answers that mean "not now": nothing was sent. */
const NOT_NOW = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException', 'SendingPausedException', 'AccountSuspendedException']);
/** SES's answers that mean "never this message". */
const NEVER = new Set(['MessageRejected', 'BadRequestException', 'MailFromDomainNotVerifiedException', 'NotFoundException', 'ValidationException']);
/** Network errors raised before a request could be written: nothing reached SES. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

/** Sorts an SES SendEmail error into what the send path may do with it (see SendAttemptResult). */
export function classifySendError(error: unknown): Exclude<SendAttemptResult, { result: 'SENT' }> {
  const e = (error ?? {}) as { name?: string; code?: string; message?: string; cause?: { code?: string }; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  // The message of an SES error can echo the request (the address); keep it short.
  const described = { Error: name, Cause: String(e.message ?? '').slice(0, 200) };
  const code = e.code ?? e.cause?.code;
  const status = e.$metadata?.httpStatusCode;
  if (NOT_NOW.has(name) || status === 429) return { result: 'NOT_SENT', error: described };
  if (code !== undefined && NOT_CONNECTED.has(code)) return { result: 'NOT_SENT', error: { ...described, Error: code } };
  if (NEVER.has(name) || (status !== undefined && status >= 400 && status < 500)) return { result: 'REJECTED', error: described };
  // A reset or timed-out connection, a lost response, a 5xx: SES may have accepted it.
  return { result: 'AMBIGUOUS', error: code === undefined ? described : { ...described, Error: code } };
}

export class SesEmailSender implements EmailSender {
  constructor(private readonly ses: SESv2Client = createSesClient()) {}

  async send(request: SendEmailRequest): Promise<SendAttemptResult> {
    try {
      const { MessageId } = await this.ses.send(new SendEmailCommand(request));
      if (!MessageId) return { result: 'AMBIGUOUS', error: { Error: 'NoMessageId', Cause: 'SES answered without a message id' } };
      return { result: 'SENT', messageId: MessageId };
    } catch (error) {
      return classifySendError(error);
    }
  }
}
