/**
 * The metrics API on the embedded stack, as an admin meets it: `npm start` prints a dashboard link whose fragment
 * holds the token, the token is a secret of the local Secrets Manager (read by name, as in AWS), and the local HTTP
 * API serves GET /dashboard to anyone and GET /metrics only with that token. (The page in a browser:
 * test/browser/dashboard.test.ts.)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS_TOKEN_NAME } from '../../local/secrets.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = import.meta.resolve('tsx');

describe('the metrics API on the local stack', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    stack = await startLocalStack({ portBase: 0, speed: 0, startAt: '2031-06-02T07:00:00.000Z', log: false, loadCampaigns: false });
  });
  afterAll(() => stack?.stop());

  it('keeps the token in the local Secrets Manager, where `aws secretsmanager get-secret-value` reads it by name', async () => {
    const secrets = new SecretsManagerClient({ endpoint: stack.endpoints.gateway, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const secret = await secrets.send(new GetSecretValueCommand({ SecretId: METRICS_TOKEN_NAME }));
      expect(secret.SecretString).toBe(stack.metricsToken);
      expect(stack.metricsToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(stack.dashboardUrl).toBe(`${stack.endpoints.web}/dashboard#token=${stack.metricsToken}`);
    } finally {
      secrets.destroy();
    }
  });

  it('serves the page to anyone and the figures only with the token, for the range ending on the clock\'s day', async () => {
    const page = await fetch(`${stack.endpoints.web}/dashboard`);
    const refused = await fetch(`${stack.endpoints.web}/metrics`);
    const wrong = await fetch(`${stack.endpoints.web}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    const answered = await fetch(`${stack.endpoints.web}/metrics?days=7`, { headers: { authorization: `Bearer ${stack.metricsToken}` } });

    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect([refused.status, wrong.status]).toEqual([401, 401]);
    expect(await refused.text()).toBe(await wrong.text());
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { result: { period: unknown } }).result.period).toEqual({ from: '2031-05-27', to: '2031-06-02', days: 7 });
  });

  it('exports the metrics table and the Secrets Manager endpoint for the CLIs, and no secret value', async () => {
    const env = (await (await fetch(`${stack.endpoints.control}/env`)).json()) as Record<string, string>;
    expect(env).toMatchObject({ METRICS_TABLE: stack.tables.metrics, AWS_ENDPOINT_URL_SECRETS_MANAGER: stack.endpoints.gateway });
    expect(JSON.stringify(env)).not.toContain(stack.metricsToken);
  });
});

describe('npm start', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((done) => child!.once('exit', done));
      child.kill('SIGINT');
      await exited;
    }
  });

  it('prints a dashboard link that shows the metrics', async () => {
    child = spawn(process.execPath, ['--import', TSX, 'local/main.ts', '--port-base', '0', '--no-seed', '--speed', '0'], {
      cwd: ROOT,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    let output = '';
    const link = await new Promise<string>((found, failed) => {
      child!.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /^Dashboard: (http:\/\/127\.0\.0\.1:\d+\/dashboard#token=\S+)$/m.exec(output);
        if (match) found(match[1]!);
      });
      child!.once('exit', (code) => failed(new Error(`npm start exited (${code}) before printing the dashboard link:\n${output}`)));
    });

    const url = new URL(link);
    const token = new URLSearchParams(url.hash.slice(1)).get('token')!;
    const metrics = await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect((await fetch(new URL('/metrics', url), { headers: { authorization: 'Bearer guess' } })).status).toBe(401);
  });
});
