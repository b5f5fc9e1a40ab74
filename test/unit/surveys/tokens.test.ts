import { describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidLinkTokenError } from '../../../core/errors.ts';
import { signLink } from '../../../core/links.ts';
import { SurveyTokenRejectedError, type SurveyTokenRejection } from '../../../core/surveys/errors.ts';
import {
  keyringFromSecret,
  parseSurveyKeyring,
  parseSurveyLink,
  signSurveyToken,
  surveyAnswerUrl,
  surveyLinkParams,
  verifySurveyLink,
  verifySurveyToken,
  type SurveyLinkClaims,
} from '../../../core/surveys/tokens.ts';
import { BASE_URL, KEYRING } from './fakes.ts';

const claims: SurveyLinkClaims = {
  surveyId: 'tp-0123456789abcdef0123456789abcdef01234567',
  customerId: 'c-42',
  score: 9,
  expiresAt: '2026-12-31T00:00:00.000Z',
};
const NOW = '2026-12-01T10:00:00Z';

function rejection(action: () => unknown): SurveyTokenRejection | 'accepted' {
  try {
    action();
    return 'accepted';
  } catch (error) {
    if (error instanceof SurveyTokenRejectedError) return error.reason;
    throw error;
  }
}

describe('survey link tokens', () => {
  it('verifies a token it signed, with the current key version', () => {
    const token = signSurveyToken(KEYRING, claims);
    expect(token).toMatch(/^k2\.[A-Za-z0-9_-]{43}$/);
    expect(rejection(() => verifySurveyToken(KEYRING, claims, token, NOW))).toBe('accepted');
  });

  it.each([
    ['survey id', { surveyId: 'tp-ffffffffffffffffffffffffffffffffffffffff' }],
    ['customer id', { customerId: 'c-43' }],
    ['score', { score: 10 }],
    ['expiry', { expiresAt: '2027-12-31T00:00:00.000Z' }],
  ])('rejects a token whose %s was changed (tampered or replayed on another link)', (_field, change) => {
    const token = signSurveyToken(KEYRING, claims);
    expect(rejection(() => verifySurveyToken(KEYRING, { ...claims, ...change }, token, NOW))).toBe('bad-signature');
  });

  it('rejects a tampered signature and one forged with another secret', () => {
    const token = signSurveyToken(KEYRING, claims);
    const flipped = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;
    expect(rejection(() => verifySurveyToken(KEYRING, claims, flipped, NOW))).toBe('bad-signature');

    const forger = { current: 'k2', secrets: { k2: 'a-guess-at-the-secret-that-is-long-enough-0000' } };
    expect(rejection(() => verifySurveyToken(KEYRING, claims, signSurveyToken(forger, claims), NOW))).toBe('bad-signature');
  });

  it('rejects an unsubscribe token replayed as a survey token', () => {
    const secret = KEYRING.secrets.k2!;
    const unsubscribe = signLink(secret, 'unsubscribe', claims.customerId).replace(/^v1\./, 'k2.');
    expect(rejection(() => verifySurveyToken(KEYRING, claims, unsubscribe, NOW))).toBe('bad-signature');
  });

  it('rejects a genuine token at and after its expiry, and calls only a genuine token expired', () => {
    const token = signSurveyToken(KEYRING, claims);
    expect(rejection(() => verifySurveyToken(KEYRING, claims, token, '2026-12-30T23:59:59.999Z'))).toBe('accepted');
    expect(rejection(() => verifySurveyToken(KEYRING, claims, token, claims.expiresAt))).toBe('expired');
    expect(rejection(() => verifySurveyToken(KEYRING, claims, token, '2027-01-05T00:00:00Z'))).toBe('expired');
    expect(rejection(() => verifySurveyToken(KEYRING, { ...claims, customerId: 'c-43' }, token, '2027-01-05T00:00:00Z'))).toBe(
      'bad-signature',
    );
  });

  it('keeps verifying a rotated-out key while it is in the keyring, and rejects it once removed', () => {
    const oldKeyring = { current: 'k1', secrets: { k1: KEYRING.secrets.k1! } };
    const oldToken = signSurveyToken(oldKeyring, claims);
    expect(oldToken.startsWith('k1.')).toBe(true);

    expect(rejection(() => verifySurveyToken(KEYRING, claims, oldToken, NOW))).toBe('accepted');
    const withoutK1 = { current: 'k2', secrets: { k2: KEYRING.secrets.k2! } };
    expect(rejection(() => verifySurveyToken(withoutK1, claims, oldToken, NOW))).toBe('unknown-key-version');
    expect(rejection(() => verifySurveyToken(KEYRING, claims, oldToken.replace(/^k1\./, 'k9.'), NOW))).toBe('unknown-key-version');
    // A version that is an Object.prototype property is not a key.
    expect(rejection(() => verifySurveyToken(KEYRING, claims, oldToken.replace(/^k1\./, 'constructor.'), NOW))).toBe(
      'unknown-key-version',
    );
  });

  it.each(['', 'k2', 'k2.', '.abc', 'k2.short', 'k2.has space in it 0123456789012345678901234567', 'k2.a.b'])(
    'rejects the malformed token %j',
    (token) => {
      expect(rejection(() => verifySurveyToken(KEYRING, claims, token, NOW))).toBe('malformed');
    },
  );

  it('accepts only the canonical spelling of a signature', () => {
    const token = signSurveyToken(KEYRING, claims);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    // The low 2 bits of the 43rd character are padding: flipping one decodes to the same 32 bytes.
    const sameBytes = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(sameBytes.split('.')[1]!, 'base64url')).toEqual(Buffer.from(token.split('.')[1]!, 'base64url'));
    expect(rejection(() => verifySurveyToken(KEYRING, claims, sameBytes, NOW))).toBe('malformed');
  });

  it('is an InvalidLinkTokenError whose message names neither ids nor token', () => {
    const token = signSurveyToken(KEYRING, claims);
    const error = (() => {
      try {
        verifySurveyToken(KEYRING, { ...claims, score: 3 }, token, NOW);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a rejection');
    })();
    expect(error).toBeInstanceOf(InvalidLinkTokenError);
    expect(error.name).toBe('SurveyTokenRejectedError');
    expect(error.message).not.toContain(claims.surveyId);
    expect(error.message).not.toContain(claims.customerId);
    expect(error.message).not.toContain(token);
  });
});

describe('survey answer URLs', () => {
  it('carries the opaque ids, score, expiry in epoch seconds and token, and nothing else', () => {
    const url = new URL(surveyAnswerUrl(BASE_URL, KEYRING, claims));
    expect(`${url.origin}${url.pathname}`).toBe('https://surveys.example.com/prod/survey');
    expect([...url.searchParams.keys()]).toEqual(['s', 'c', 'v', 'e', 't']);
    expect(url.searchParams.get('s')).toBe(claims.surveyId);
    expect(url.searchParams.get('c')).toBe('c-42');
    expect(url.searchParams.get('v')).toBe('9');
    expect(url.searchParams.get('e')).toBe(String(Date.parse(claims.expiresAt) / 1000));
    expect(url.searchParams.get('t')).toBe(signSurveyToken(KEYRING, claims));
  });

  it('parses and verifies its own link', () => {
    const link = parseSurveyLink(new URL(surveyAnswerUrl(`${BASE_URL}/`, KEYRING, claims)).searchParams);
    expect(link).toEqual({ ...claims, token: signSurveyToken(KEYRING, claims) });
    expect(verifySurveyLink(KEYRING, link, NOW)).toEqual(claims);
  });

  it('parses form fields too, and signs expiries to the second', () => {
    const params = surveyLinkParams(KEYRING, { ...claims, expiresAt: '2026-12-31T00:00:00.750Z' });
    const link = parseSurveyLink({ ...params });
    expect(link.expiresAt).toBe('2026-12-31T00:00:00.000Z');
    expect(verifySurveyLink(KEYRING, link, NOW)).toEqual(claims);
  });

  it.each([
    ['a missing token', { t: undefined }],
    ['a score out of range', { v: '11' }],
    ['a signed score', { v: '-1' }],
    ['a non-numeric expiry', { e: 'tomorrow' }],
    ['an email address as customer id', { c: 'ada lovelace@example.com' }],
    ['an over-long survey id', { s: 'x'.repeat(129) }],
  ])('rejects a link with %s as malformed', (_what, change) => {
    const params = { ...surveyLinkParams(KEYRING, claims), ...change };
    expect(rejection(() => parseSurveyLink(params))).toBe('malformed');
  });
});

describe('survey keyring', () => {
  it('parses a keyring secret and refuses bad ones without echoing a secret', () => {
    expect(parseSurveyKeyring(JSON.stringify(KEYRING))).toEqual(KEYRING);
    const short = JSON.stringify({ current: 'k1', secrets: { k1: 'too-short-secret' } });
    expect(() => parseSurveyKeyring(short)).toThrow(InvalidInputError);
    expect(() => parseSurveyKeyring(short)).toThrow(/secrets\.k1: must be at least 32 characters/);
    expect(() => parseSurveyKeyring(short)).not.toThrow(/too-short-secret/);
    expect(() => parseSurveyKeyring(JSON.stringify({ current: 'k3', secrets: KEYRING.secrets }))).toThrow(/current: the current key version has no secret/);
    expect(() => parseSurveyKeyring('not json')).toThrow('survey keyring is not JSON');
  });

  it('also reads the flat form a generated Secrets Manager secret has', () => {
    expect(parseSurveyKeyring(JSON.stringify({ current: 'k2', ...KEYRING.secrets }))).toEqual(KEYRING);
    expect(() => parseSurveyKeyring(JSON.stringify({ current: 'k1', k1: 12345 }))).toThrow(/secrets\.k1/);
  });

  it('parses the secret once per value and again after a rotation', async () => {
    let secret = JSON.stringify(KEYRING);
    const source = keyringFromSecret(async () => secret);
    const first = await source();
    expect(await source()).toBe(first);
    secret = JSON.stringify({ current: 'k3', secrets: { ...KEYRING.secrets, k3: 'k3-secret-0123456789abcdefghijklmnopqrstuvwxyz' } });
    expect((await source()).current).toBe('k3');
  });
});
