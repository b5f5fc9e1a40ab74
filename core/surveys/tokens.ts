/**
 * Signed one-click survey links. A link names an opaque survey id (the touchpoint id), an opaque customer id, the
 * score it answers and its expiry; an HMAC-SHA256 over those (and the key version) proves we made it. No personal
 * data is in the URL. Keys rotate through a keyring: new links use the current version, older versions verify for as
 * long as they stay in the keyring, and removing a version revokes every link signed with it.
 *
 *   <base>/survey?s=<surveyId>&c=<customerId>&v=<score>&e=<expiry, epoch seconds>&t=<keyVersion>.<base64url mac>
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { InvalidInputError, describeIssues } from '../errors.ts';
import { SurveyTokenRejectedError } from './errors.ts';

/** Signing secrets by key version; `current` signs new links. Stored as JSON in Secrets Manager. */
export interface SurveyKeyring {
  current: string;
  secrets: Readonly<Record<string, string>>;
}

/** Where the keyring comes from (fetched once per execution environment by the adapter). */
export type SurveyKeyringSource = () => Promise<SurveyKeyring>;

/** What a link asserts. `expiresAt` is an ISO-8601 instant; links carry it in whole seconds. */
export interface SurveyLinkClaims {
  surveyId: string;
  customerId: string;
  score: number;
  expiresAt: string;
}

/** A link as received: its claims and the token that should prove them. */
export interface SurveyLink extends SurveyLinkClaims {
  token: string;
}

/** The query (GET) or form (POST) fields of a survey link. */
export interface SurveyLinkParams {
  s: string;
  c: string;
  v: string;
  e: string;
  t: string;
}

const PURPOSE = 'survey-answer';
const OPAQUE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const KEY_VERSION = /^[A-Za-z0-9_-]{1,16}$/;
/** A SHA-256 MAC is 32 bytes: 43 base64url characters without padding. */
const TOKEN = /^([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{43})$/;
export const MIN_SECRET_LENGTH = 32;

const keyringSchema = z
  .object({
    current: z.string().regex(KEY_VERSION, 'must be 1–16 of A–Z a–z 0–9 _ -'),
    secrets: z.record(
      z.string().regex(KEY_VERSION, 'key versions must be 1–16 of A–Z a–z 0–9 _ -'),
      z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`),
    ),
  })
  .strict()
  .refine((k) => Object.hasOwn(k.secrets, k.current), { message: 'the current key version has no secret', path: ['current'] });

/**
 * Parses `{"current":"k2","secrets":{"k1":"…","k2":"…"}}`, or the flat `{"current":"k2","k1":"…","k2":"…"}` that a
 * Secrets Manager generated secret produces (`secretStringTemplate` {"current":"k1"}, `generateStringKey` "k1").
 * Throws InvalidInputError naming the bad fields, never a secret's value.
 */
export function parseSurveyKeyring(json: string): SurveyKeyring {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidInputError('survey keyring is not JSON');
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('secrets' in value)) {
    const { current, ...secrets } = value as Record<string, unknown>;
    value = { current, secrets };
  }
  const parsed = keyringSchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`survey keyring is invalid: ${describeIssues(parsed.error.issues).join('; ')}`);
  return parsed.data;
}

/** A keyring source over a secret string source (e.g. secretsManagerSigningKey), parsing each distinct value once. */
export function keyringFromSecret(secret: () => Promise<string>): SurveyKeyringSource {
  let last: { json: string; keyring: SurveyKeyring } | undefined;
  return async () => {
    const json = await secret();
    if (last?.json !== json) last = { json, keyring: parseSurveyKeyring(json) };
    return last.keyring;
  };
}

function expirySeconds(expiresAt: string): number {
  const ms = Date.parse(expiresAt);
  if (Number.isNaN(ms)) throw new RangeError(`invalid expiry: ${expiresAt}`);
  return Math.floor(ms / 1000);
}

function mac(secret: string, version: string, claims: SurveyLinkClaims): Buffer {
  const fields = [PURPOSE, version, claims.surveyId, claims.customerId, String(claims.score), String(expirySeconds(claims.expiresAt))];
  return createHmac('sha256', secret).update(fields.join('\u0000')).digest();
}

function assertClaims(claims: SurveyLinkClaims): void {
  if (!OPAQUE_ID.test(claims.surveyId) || !OPAQUE_ID.test(claims.customerId)) {
    throw new RangeError('survey and customer ids must be 1–128 of A–Z a–z 0–9 . _ : @ -');
  }
  if (!Number.isInteger(claims.score) || claims.score < 0 || claims.score > 10) throw new RangeError('score must be an integer 0–10');
}

/** `<current key version>.<base64url HMAC-SHA256>` over the claims. */
export function signSurveyToken(keyring: SurveyKeyring, claims: SurveyLinkClaims): string {
  assertClaims(claims);
  const secret = keyring.secrets[keyring.current];
  if (secret === undefined) throw new RangeError('the current key version has no secret');
  return `${keyring.current}.${mac(secret, keyring.current, claims).toString('base64url')}`;
}

/**
 * Throws SurveyTokenRejectedError unless `token` was signed for exactly these claims with a key still in the keyring
 * and `now` is before the expiry. The signature is checked before the expiry, so only a genuine link is ever called
 * "expired". Comparison is constant-time.
 */
export function verifySurveyToken(keyring: SurveyKeyring, claims: SurveyLinkClaims, token: string, now: string): void {
  const match = TOKEN.exec(token);
  if (!match) throw new SurveyTokenRejectedError('malformed');
  const [, version = '', signature = ''] = match;
  const secret = Object.hasOwn(keyring.secrets, version) ? keyring.secrets[version] : undefined;
  if (secret === undefined) throw new SurveyTokenRejectedError('unknown-key-version');
  const given = Buffer.from(signature, 'base64url');
  // The last character carries 2 spare bits: accept only the one canonical spelling of a MAC.
  if (given.toString('base64url') !== signature) throw new SurveyTokenRejectedError('malformed');
  const expected = mac(secret, version, claims);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SurveyTokenRejectedError('bad-signature');
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) throw new RangeError(`invalid instant: ${now}`);
  if (nowMs >= expirySeconds(claims.expiresAt) * 1000) throw new SurveyTokenRejectedError('expired');
}

/** The link's fields, signed with the keyring's current key. */
export function surveyLinkParams(keyring: SurveyKeyring, claims: SurveyLinkClaims): SurveyLinkParams {
  return {
    s: claims.surveyId,
    c: claims.customerId,
    v: String(claims.score),
    e: String(expirySeconds(claims.expiresAt)),
    t: signSurveyToken(keyring, claims),
  };
}

/** `<base>/survey?s=…&c=…&v=<score>&e=<expiry>&t=<token>` (the base may have a path, e.g. an API stage). */
export function surveyAnswerUrl(baseUrl: string, keyring: SurveyKeyring, claims: SurveyLinkClaims): string {
  const url = new URL('survey', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  for (const [name, value] of Object.entries(surveyLinkParams(keyring, claims))) url.searchParams.set(name, value);
  return url.toString();
}

const linkSchema = z.object({
  s: z.string().regex(OPAQUE_ID),
  c: z.string().regex(OPAQUE_ID),
  v: z.string().regex(/^(10|[0-9])$/),
  e: z.string().regex(/^[1-9][0-9]{0,11}$/),
  t: z.string().regex(TOKEN),
});

/**
 * Reads a link from query parameters or form fields. Throws SurveyTokenRejectedError('malformed') when a field is
 * missing or out of shape; says nothing about whether the token is genuine (see verifySurveyLink).
 */
export function parseSurveyLink(params: URLSearchParams | Readonly<Record<string, string | undefined>>): SurveyLink {
  const get = (name: string) => (params instanceof URLSearchParams ? (params.get(name) ?? undefined) : params[name]);
  const parsed = linkSchema.safeParse({ s: get('s'), c: get('c'), v: get('v'), e: get('e'), t: get('t') });
  if (!parsed.success) throw new SurveyTokenRejectedError('malformed');
  const { s, c, v, e, t } = parsed.data;
  return { surveyId: s, customerId: c, score: Number(v), expiresAt: new Date(Number(e) * 1000).toISOString(), token: t };
}

/** Verifies a parsed link (see verifySurveyToken) and returns its claims. */
export function verifySurveyLink(keyring: SurveyKeyring, link: SurveyLink, now: string): SurveyLinkClaims {
  const { token, ...claims } = link;
  verifySurveyToken(keyring, claims, token, now);
  return claims;
}

/** The link's fields again, for the confirm form's hidden inputs (so the POST re-verifies the same token). */
export function linkParamsOf(link: SurveyLink): SurveyLinkParams {
  return { s: link.surveyId, c: link.customerId, v: String(link.score), e: String(expirySeconds(link.expiresAt)), t: link.token };
}
