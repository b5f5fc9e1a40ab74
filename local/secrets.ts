/**
 * The local Secrets Manager, with the secrets the stack creates in AWS: the key that signs links in emails
 * (unsubscribe), the survey key ring, and the metrics API token. The signing keys are random per start, or kept in
 * <data-dir> so links in emails stay valid across restarts; the token is random per start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsServiceError } from './aws-error.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './lambda-runtime.ts';
import type { LocalMeter } from './meter.ts';

export interface LocalSecret {
  name: string;
  arn: string;
  value: string;
  versionId: string;
  createdDate: Date;
}

export const LINK_SECRET_NAME = 'outreach/link-signing-key';

export function createLinkSecret(dataDir?: string): LocalSecret {
  const suffix = 'L0c4lK';
  const base = { name: LINK_SECRET_NAME, arn: `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:secret:${LINK_SECRET_NAME}-${suffix}` };
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'link-signing-secret');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    return { ...base, value: readFileSync(file, 'utf8').trim(), versionId: 'local-persisted', createdDate: statSync(file).mtime };
  }
  return { ...base, value: randomBytes(32).toString('hex'), versionId: `local-${randomBytes(8).toString('hex')}`, createdDate: new Date() };
}

export const SURVEY_KEYRING_NAME = 'outreach/survey-keyring';

/**
 * The survey key ring, in the shape the deployed secret has (`{"current":"k1","k1":"<key>"}`): random per start, or
 * kept in <data-dir>/survey-keyring.json so survey links in the mailbox stay valid across restarts.
 */
export function createSurveyKeyringSecret(dataDir?: string): LocalSecret {
  const base = { name: SURVEY_KEYRING_NAME, arn: `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:secret:${SURVEY_KEYRING_NAME}-K3yR1n` };
  const fresh = () => JSON.stringify({ current: 'k1', k1: randomBytes(32).toString('hex') });
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'survey-keyring.json');
    if (!existsSync(file)) writeFileSync(file, fresh(), { mode: 0o600 });
    return { ...base, value: readFileSync(file, 'utf8').trim(), versionId: 'local-persisted', createdDate: statSync(file).mtime };
  }
  return { ...base, value: fresh(), versionId: `local-${randomBytes(8).toString('hex')}`, createdDate: new Date() };
}

export const METRICS_TOKEN_NAME = 'outreach/metrics-api-token';

/**
 * The bearer token of GET /metrics, random per start (as AWS generates one per stack): `npm start` prints the
 * dashboard link with it, and `aws secretsmanager get-secret-value` reads it here as in AWS.
 */
export function createMetricsTokenSecret(): LocalSecret {
  return {
    name: METRICS_TOKEN_NAME,
    arn: `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:secret:${METRICS_TOKEN_NAME}-M3tr1c`,
    value: randomBytes(24).toString('base64url'),
    versionId: `local-${randomBytes(8).toString('hex')}`,
    createdDate: new Date(),
  };
}

export class LocalSecretsManager {
  /** `meter` counts each GetSecretValue answered (bench/cost.ts). */
  constructor(
    private readonly secrets: readonly LocalSecret[],
    private readonly meter?: LocalMeter,
  ) {}

  getSecretValue(request: { SecretId?: unknown; VersionStage?: unknown }): Record<string, unknown> {
    const id = request.SecretId;
    if (typeof id !== 'string' || id.length === 0) throw new AwsServiceError('InvalidParameterException', 'You must provide a SecretId.');
    if (request.VersionStage !== undefined && request.VersionStage !== 'AWSCURRENT') {
      throw new AwsServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${String(request.VersionStage)}`);
    }
    // Like AWS, accept the name, the full ARN, or the ARN without its random 6-character suffix.
    const secret = this.secrets.find((s) => s.name === id || s.arn === id || s.arn.replace(/-[A-Za-z0-9]{6}$/, '') === id);
    if (!secret) throw new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    this.meter?.secretCall(secret.name);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      SecretString: secret.value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdDate.getTime() / 1000,
    };
  }
}
