import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SigningKeySource } from '../core/links.ts';

/**
 * The link-signing secret from Secrets Manager, fetched once per execution environment and kept in memory. A failed
 * fetch is not cached, so the next invocation tries again.
 */
export function secretsManagerSigningKey(secretArn: string, client = new SecretsManagerClient({})): SigningKeySource {
  let cached: Promise<string> | undefined;
  return () => {
    cached ??= client.send(new GetSecretValueCommand({ SecretId: secretArn })).then((out) => {
      if (!out.SecretString) throw new Error('link-signing secret has no string value');
      return out.SecretString;
    });
    cached.catch(() => (cached = undefined));
    return cached;
  };
}
