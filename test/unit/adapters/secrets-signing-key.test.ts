import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { secretsManagerSigningKey } from '../../../adapters/secrets-signing-key.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:outreach-link-signing-AbCdEf';

const secrets = mockClient(SecretsManagerClient);
const signingKey = () => secretsManagerSigningKey(SECRET_ARN, new SecretsManagerClient({ region: 'us-east-1' }));

beforeEach(() => {
  secrets.reset();
});

afterAll(() => {
  secrets.restore();
});

describe('secretsManagerSigningKey', () => {
  it('fetches the secret once and answers every later call from memory', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k3y-material' });
    const key = signingKey();

    // Act
    const first = await key();
    const second = await key();
    const third = await key();

    // Assess
    expect([first, second, third]).toEqual(['k3y-material', 'k3y-material', 'k3y-material']);
    expect(secrets).toHaveReceivedCommandExactlyOnceWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });

  it('shares one fetch between concurrent calls', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k3y-material' });
    const key = signingKey();

    // Act
    const values = await Promise.all([key(), key(), key()]);

    // Assess
    expect(values).toEqual(['k3y-material', 'k3y-material', 'k3y-material']);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('does not keep a failed fetch: the next call fetches again', async () => {
    // Prepare
    const error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    secrets.on(GetSecretValueCommand).rejectsOnce(error).resolves({ SecretString: 'k3y-material' });
    const key = signingKey();

    // Act
    const first = key();
    await expect(first).rejects.toBe(error);
    const second = await key();
    const third = await key();

    // Assess
    expect(second).toBe('k3y-material');
    expect(third).toBe('k3y-material');
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(secrets).toHaveReceivedNthCommandWith(GetSecretValueCommand, 2, { SecretId: SECRET_ARN });
  });

  it('rejects a secret without a string value, and fetches again next time', async () => {
    // Prepare
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretBinary: new Uint8Array([1, 2, 3]) })
      .resolves({ SecretString: 'k3y-material' });
    const key = signingKey();

    // Act
    const first = key();
    await expect(first).rejects.toThrow('link-signing secret has no string value');
    const second = await key();

    // Assess
    expect(second).toBe('k3y-material');
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });
});
