/**
 * The bearer token that guards GET /metrics: a Secrets Manager secret (its plain string value), read at most once per
 * `ttlMs` per container, so a rotated token takes effect within that time without a deploy; and a comparison that
 * takes the same time whatever the presented token is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Resolves the current token. */
export type TokenSource = () => Promise<string>;

/** How long a container keeps the token before reading the secret again. */
export const TOKEN_CACHE_MS = 60_000;

/**
 * The secret's string value, cached for `ttlMs`. A failed read is not cached (the next request tries again); while a
 * read is under way, concurrent requests wait for the same one.
 */
export function cachedSecretToken(
  secretId: string,
  options: { client?: SecretsManagerClient; ttlMs?: number; nowMs?: () => number } = {},
): TokenSource {
  const client = options.client ?? new SecretsManagerClient({});
  const ttlMs = options.ttlMs ?? TOKEN_CACHE_MS;
  const nowMs = options.nowMs ?? Date.now;
  let cached: { value: Promise<string>; readAt: number } | undefined;
  return () => {
    if (!cached || nowMs() - cached.readAt >= ttlMs) {
      const value = client.send(new GetSecretValueCommand({ SecretId: secretId })).then((out) => {
        const token = out.SecretString?.trim();
        if (!token) throw new Error('the metrics API token secret has no string value');
        return token;
      });
      const entry = { value, readAt: nowMs() };
      cached = entry;
      value.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive); undefined for anything else. */
export function bearerTokenOf(headers: Readonly<Record<string, string | undefined>> | undefined): string | undefined {
  const header = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time equality: both sides are hashed first, so neither the content nor the length leaks through timing. */
export function sameToken(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
