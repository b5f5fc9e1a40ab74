/** The metrics API token: read from Secrets Manager once per TTL (so a rotation takes effect), and compared in constant time. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { bearerTokenOf, cachedSecretToken, sameToken, TOKEN_CACHE_MS } from '../../../functions/metrics-api/bearer-token.ts';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:MetricsApiToken-AbCdEf';
const secrets = mockClient(SecretsManagerClient);

describe('cachedSecretToken', () => {
  let now = 0;
  const source = () => cachedSecretToken(SECRET, { client: new SecretsManagerClient({ region: 'eu-west-1' }), nowMs: () => now });

  beforeEach(() => {
    secrets.reset();
    now = 1_000_000;
  });

  it('reads the secret once for every request within the TTL, then again: a rotated token takes effect', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'first-token' }).resolvesOnce({ SecretString: 'second-token\n' });
    const token = source();

    const [a, b] = await Promise.all([token(), token()]);
    now += TOKEN_CACHE_MS - 1;
    const c = await token();
    now += 1;
    const d = await token();

    expect([a, b, c, d]).toEqual(['first-token', 'first-token', 'first-token', 'second-token']);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET });
  });

  it('does not keep a failed read: the next request reads again', async () => {
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolvesOnce({ SecretString: 'the-token' });
    const token = source();

    await expect(token()).rejects.toThrow('throttled');
    expect(await token()).toBe('the-token');
  });

  it('refuses a secret without a string value', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    await expect(source()()).rejects.toThrow('the metrics API token secret has no string value');
  });
});

describe('bearerTokenOf', () => {
  it.each([
    [{ authorization: 'Bearer abc' }, 'abc'],
    [{ Authorization: 'bearer abc ' }, 'abc'],
    [{ authorization: 'BEARER  a.b-c_d~e+f/g=' }, 'a.b-c_d~e+f/g='],
  ])('takes the token of %o', (headers, token) => {
    expect(bearerTokenOf(headers)).toBe(token);
  });

  it.each([[{}], [undefined], [{ authorization: 'Basic abc' }], [{ authorization: 'Bearer' }], [{ authorization: 'Bearer a b' }], [{ 'x-token': 'Bearer abc' }]])(
    'finds none in %o',
    (headers) => {
      expect(bearerTokenOf(headers)).toBeUndefined();
    },
  );
});

describe('sameToken', () => {
  it('is true for the same text only, whatever the lengths', () => {
    expect(sameToken('s3cret-token', 's3cret-token')).toBe(true);
    expect(sameToken('s3cret-tokem', 's3cret-token')).toBe(false);
    expect(sameToken('s3cret', 's3cret-token')).toBe(false);
    expect(sameToken('', 's3cret-token')).toBe(false);
  });
});
