/**
 * Signed links in emails. The URL carries an opaque customer id and an HMAC, never personal data. Tokens are
 * versioned by key so the signing secret can be rotated.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidLinkTokenError } from './errors.ts';

const KEY_VERSION = 'v1';

export type LinkPurpose = 'unsubscribe';

/** Where the signing secret comes from (Secrets Manager in AWS and locally). */
export type SigningKeySource = () => Promise<string>;

function mac(secret: string, purpose: LinkPurpose, subject: string): Buffer {
  return createHmac('sha256', secret).update(`${KEY_VERSION}\u0000${purpose}\u0000${subject}`).digest();
}

export function signLink(secret: string, purpose: LinkPurpose, subject: string): string {
  return `${KEY_VERSION}.${mac(secret, purpose, subject).toString('base64url')}`;
}

/** Throws InvalidLinkTokenError unless `token` was made by signLink with the same secret, purpose and subject. */
export function verifyLink(secret: string, purpose: LinkPurpose, subject: string, token: string): void {
  const [version, signature] = token.split('.');
  if (version !== KEY_VERSION || !signature) throw new InvalidLinkTokenError('unknown token format or key version');
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(secret, purpose, subject);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InvalidLinkTokenError('signature does not match');
  }
}

export function unsubscribeUrl(baseUrl: string, secret: string, customerId: string): string {
  const url = new URL('unsubscribe', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('c', customerId);
  url.searchParams.set('t', signLink(secret, 'unsubscribe', customerId));
  return url.toString();
}
