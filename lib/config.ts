/**
 * Deploy settings, read from CDK context (`cdk.json` "context", or `-c outreach:<key>=<value>`) and validated at
 * synth, so a wrong value stops `cdk synth` with the key, what was expected and an example, before anything deploys.
 */
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { DEFAULT_BACKLOG_ALARM_MINUTES, DEFAULT_COMMERCE_EVENT_SOURCE, DEFAULT_DISPATCH_SHARDS, DEFAULT_SEND_RATE_SHARE } from '../core/topology.ts';
import { DEFAULT_TRACING, DEFAULT_WORKFLOW_LOG_LEVEL, TRACING_MODES, WORKFLOW_LOG_LEVELS } from './constructs/observability.ts';

export const CONTEXT_PREFIX = 'outreach:';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const MAX_DISPATCH_SHARDS = 64;

/** `-c key=` (empty) unsets an optional key, e.g. to drop the alert address cdk.json sets. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());

const email = z.string().trim().pipe(z.email());
const httpsUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https$/ }))
  .transform((url) => url.replace(/\/+$/, ''));

const settingsSchema = z.object({
  senderAddress: email,
  region: z.string().trim().regex(REGION),
  publicBaseUrl: optional(httpsUrl),
  alertEmail: optional(email),
  cxAddress: optional(email),
  eventSource: z.preprocess(
    (value) => unsetIfEmpty(value) ?? DEFAULT_COMMERCE_EVENT_SOURCE,
    z.string().trim().min(1).max(256).refine((source) => !source.startsWith('aws.')),
  ),
  // CLI context values are strings: "8" must be accepted as 8.
  dispatchShards: z.preprocess(
    (value) => unsetIfEmpty(value) ?? DEFAULT_DISPATCH_SHARDS,
    z.coerce.number().int().min(1).max(MAX_DISPATCH_SHARDS),
  ),
  sendRateShare: z.preprocess((value) => unsetIfEmpty(value) ?? DEFAULT_SEND_RATE_SHARE, z.coerce.number().gt(0).max(1)),
  maxSendsPerSecond: optional(z.coerce.number().positive().max(100_000)),
  backlogAlarmMinutes: z.preprocess((value) => unsetIfEmpty(value) ?? DEFAULT_BACKLOG_ALARM_MINUTES, z.coerce.number().int().min(1).max(10_080)),
  account: optional(z.coerce.string().regex(/^\d{12}$/)),
  sesIdentity: optional(
    z
      .string()
      .trim()
      .toLowerCase()
      .refine((identity) => DOMAIN.test(identity) || z.email().safeParse(identity).success),
  ),
  tracing: z.preprocess((value) => unsetIfEmpty(value) ?? DEFAULT_TRACING, z.enum(TRACING_MODES)),
  workflowLogLevel: z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toUpperCase() || undefined : value) ?? DEFAULT_WORKFLOW_LOG_LEVEL,
    z.enum(WORKFLOW_LOG_LEVELS),
  ),
  // A list in cdk.json, or comma-separated on the command line.
  sandboxRecipients: optional(
    z.preprocess((value) => (typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value), z.array(email).min(1)),
  ),
});

export type OutreachConfig = z.output<typeof settingsSchema>;
export type SettingKey = keyof OutreachConfig;

/** What each key expects, in the words an admin reads in the error. */
export const SETTINGS: Readonly<Record<SettingKey, { expected: string; example: string }>> = {
  senderAddress: { expected: 'the email address outreach emails are sent from (its address or domain verified in SES)', example: 'outreach@yourdomain.com' },
  region: { expected: 'the AWS region to deploy to', example: 'us-east-1' },
  publicBaseUrl: { expected: 'an https:// URL under which the links in emails are served (default: the HTTP API endpoint)', example: 'https://outreach.yourdomain.com' },
  alertEmail: { expected: 'an email address that receives alarm notifications (optional)', example: 'ops@yourdomain.com' },
  cxAddress: { expected: "the customer-experience team's address that receives detractor alerts (optional; without it only the Detractor Alert event is published)", example: 'cx@yourdomain.com' },
  eventSource: { expected: `the EventBridge "source" your commerce system publishes with, not starting with "aws." (default ${DEFAULT_COMMERCE_EVENT_SOURCE})`, example: 'com.yourshop.orders' },
  dispatchShards: { expected: `an integer from 1 to ${MAX_DISPATCH_SHARDS} (default ${DEFAULT_DISPATCH_SHARDS})`, example: String(DEFAULT_DISPATCH_SHARDS) },
  sendRateShare: {
    expected: `the share of the SES account's maximum send rate dispatch may use, above 0 and at most 1 (default ${DEFAULT_SEND_RATE_SHARE}; the rest is left for other senders and retries)`,
    example: '0.5',
  },
  maxSendsPerSecond: { expected: 'an upper bound on emails sent per second, whatever SES allows (optional)', example: '50' },
  backlogAlarmMinutes: {
    expected: `the minutes a due touchpoint may wait to be sent before the backlog alarm goes off, an integer from 1 to 10080 (default ${DEFAULT_BACKLOG_ALARM_MINUTES})`,
    example: '30',
  },
  account: { expected: 'a 12-digit AWS account id (optional; default: the account of your credentials)', example: '123456789012' },
  sesIdentity: { expected: 'a domain or email address to create an SES identity for (optional)', example: 'yourdomain.com' },
  tracing: { expected: `"sampled" (X-Ray traces what its sampling rules pick) or "off" (default ${DEFAULT_TRACING})`, example: 'off' },
  workflowLogLevel: {
    expected: `the Step Functions execution log level: ${WORKFLOW_LOG_LEVELS.join(', ')} (default ${DEFAULT_WORKFLOW_LOG_LEVEL})`,
    example: 'ALL',
  },
  sandboxRecipients: {
    expected: 'comma-separated verified recipient addresses allowed while SES is in the sandbox (optional)',
    example: 'you@yourdomain.com,colleague@yourdomain.com',
  },
};

export interface ConfigProblem {
  /** The context key, with its prefix: `outreach:senderAddress`. */
  key: string;
  message: string;
}

export class OutreachConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      [
        'Invalid outreach deploy settings (CDK context: "context" in cdk.json, or -c on the command line):',
        ...problems.map((problem) => `  - ${problem.message}`),
      ].join('\n'),
    );
    this.name = 'OutreachConfigError';
  }
}

const isSettingKey = (key: string): key is SettingKey => Object.hasOwn(SETTINGS, key);

function describeProblem(key: SettingKey, value: unknown): ConfigProblem {
  const contextKey = CONTEXT_PREFIX + key;
  const { expected, example } = SETTINGS[key];
  const found = value === undefined ? 'is missing' : `is ${JSON.stringify(value)}`;
  return {
    key: contextKey,
    message: `${contextKey} ${found}. Expected ${expected}. Example: npx cdk synth -c ${contextKey}=${example}`,
  };
}

/** Validates a flat context map (keys with the `outreach:` prefix); reports every problem at once. */
export function parseOutreachConfig(context: Readonly<Record<string, unknown>>): OutreachConfig {
  const raw: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [contextKey, value] of Object.entries(context)) {
    if (!contextKey.startsWith(CONTEXT_PREFIX)) continue;
    const key = contextKey.slice(CONTEXT_PREFIX.length);
    if (isSettingKey(key)) raw[key] = value;
    else problems.push({ key: contextKey, message: `${contextKey} is not a known setting. Known settings: ${Object.keys(SETTINGS).map((k) => CONTEXT_PREFIX + k).join(', ')}` });
  }
  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    const invalidKeys = new Set(result.error.issues.map((issue) => String(issue.path[0])).filter(isSettingKey));
    problems.push(...[...invalidKeys].map((key) => describeProblem(key, raw[key])));
    if (invalidKeys.size === 0) problems.push({ key: CONTEXT_PREFIX, message: z.prettifyError(result.error) });
  }
  if (problems.length > 0 || !result.success) throw new OutreachConfigError(problems);
  return result.data;
}

/** Reads and validates the `outreach:*` context visible from `scope` (usually the App). */
export function readOutreachConfig(scope: IConstruct): OutreachConfig {
  return parseOutreachConfig(scope.node.getAllContext());
}
