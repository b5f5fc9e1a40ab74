import { GetAccountCommand, type SESv2Client } from '@aws-sdk/client-sesv2';

export interface SendQuota {
  /** SES's maximum send rate for the account, emails per second. */
  maxSendRate: number;
  max24HourSend: number;
  sentLast24Hours: number;
}

/** Reads the account's SES sending quota (GetAccount), keeping it for `cacheMs` (it changes when AWS raises it). */
export function sesSendQuota(ses: SESv2Client, cacheMs = 5 * 60_000, nowMs: () => number = Date.now): () => Promise<SendQuota> {
  let cached: { quota: SendQuota; at: number } | undefined;
  return async () => {
    if (cached && nowMs() - cached.at < cacheMs) return cached.quota;
    const { SendQuota: quota } = await ses.send(new GetAccountCommand({}));
    if (!quota?.MaxSendRate || quota.MaxSendRate <= 0) throw new Error('SES GetAccount returned no maximum send rate');
    cached = {
      quota: { maxSendRate: quota.MaxSendRate, max24HourSend: quota.Max24HourSend ?? 0, sentLast24Hours: quota.SentLast24Hours ?? 0 },
      at: nowMs(),
    };
    return cached.quota;
  };
}
