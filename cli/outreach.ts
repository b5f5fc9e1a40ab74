/**
 * `npm run outreach -- campaigns <command>`: the campaign CLI for marketers.
 *
 *   campaigns validate [dir]                       check every rule file; problems as `file:line path: message`
 *   campaigns schema [--out file]                  the JSON Schema editors use (campaigns/campaign.schema.json)
 *   campaigns diff [dir] --table <name>            files vs. the campaigns table: added / changed / unchanged / only-stored
 *   campaigns apply [dir] --table <name>           store new and changed campaigns as new versions, with an audit item
 *   campaigns preview <campaignId> [dir] [--customer id] [--send [address]] [--out f]
 *                                                  render the email (sample or stored customer) to an HTML file; --send mails it
 *   campaigns forecast --days N --table-touchpoints <t> --table-customers <t> --table-campaigns <t> [--table-contracts <t>] [--at ISO]
 *                                                  emails each campaign will send in the next N days, per UTC day
 *
 * Every command takes `--json`. Table names default to CAMPAIGNS_TABLE, CUSTOMERS_TABLE and TOUCHPOINTS_TABLE (the
 * functions' own variables; `eval "$(npm run -s local -- env)"` sets them for the local stack). AWS is reached through
 * the standard SDK environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB / _SESV2, credentials), so the same commands
 * work against AWS and the local stack.
 * Exit codes: 0 done, 1 the rules are invalid or an apply conflicted, 2 a bad option or an unreachable table.
 *
 * `contracts import` (cli/contracts.ts), `surveys responses|summary|rebuild` (cli/surveys.ts), `metrics [report]|rebuild`
 * (cli/metrics.ts) and `touchpoints list|redrive|backlog` (cli/touchpoints.ts) follow the same rules.
 */
import { currentTime } from './clock.ts';
import { existsSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Command, CommanderError, Option } from 'commander';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { ConcurrentApplyError, DynamoDbCampaignStore } from '../adapters/dynamodb-campaign-store.ts';
import { createDocumentClient } from '../adapters/dynamodb-client.ts';
import { compareCampaigns, planApply, type CampaignChange } from '../core/campaigns/changes.ts';
import { campaignJsonSchemaText } from '../core/campaigns/json-schema.ts';
import { loadCampaignDirectory } from '../core/campaigns/load.ts';
import { renderCampaignEmail, type RenderedEmail, type SurveyTemplateData } from '../core/campaigns/render.ts';
import { renderSurveyScale } from '../core/surveys/email-scale.ts';
import type { TouchpointContext } from '../core/model.ts';
import type { Campaign, CampaignTemplate } from '../core/campaigns/schema.ts';
import { InvalidCampaignError } from '../core/errors.ts';
import { DEFAULT_DISPATCH_SHARDS } from '../core/topology.ts';
import { forecastSends, forecastSourcesNote, type SendForecast } from '../core/use-cases/forecast-sends.ts';
import { DEFAULT_CONTRACT_END_SHARDS, DynamoDbContractRepository, DynamoDbSweepCursors } from '../adapters/dynamodb-contracts.ts';
import { DynamoDbCampaignCatalog } from '../adapters/dynamodb-campaigns.ts';
import { DynamoDbCustomerRepository } from '../adapters/dynamodb-customers.ts';
import { DynamoDbTouchpointRepository } from '../adapters/dynamodb-touchpoints.ts';
import { registerContractCommands } from './contracts.ts';
import { registerMetricsCommands } from './metrics.ts';
import { registerSurveyCommands } from './surveys.ts';
import { registerTouchpointCommands } from './touchpoints.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in how the command was called or where it points: one line, exit 2. */
class UsageError extends Error {}

/** Invalid rule files: every problem, exit 1. */
class ProblemsError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length} problem(s)`);
  }
}

/** The command printed its own report (e.g. an import with bad rows): this one line on stderr, exit 1. */
export class ReportedFailure extends Error {}

const DEFAULT_DIR = 'campaigns';

interface JsonOption {
  json?: boolean;
}
interface TableOptions extends JsonOption {
  table: string;
}

const print = (line = '') => process.stdout.write(`${line}\n`);
const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

/** `file:line path: message` → its parts (YAML syntax errors have no path). */
export function parseProblem(text: string): { file: string; line: number; path?: string; message: string; text: string } {
  const match = /^(.+?):(\d+) (.*)$/s.exec(text);
  if (!match) return { file: '', line: 0, message: text, text };
  const [, file = '', line = '0', rest = ''] = match;
  const field = /^([^\s:]+): (.*)$/s.exec(rest);
  return field
    ? { file, line: Number(line), path: field[1] ?? '', message: field[2] ?? '', text }
    : { file, line: Number(line), message: rest, text };
}

/** Loads and validates the directory; throws ProblemsError with every problem, UsageError when there is no directory. */
function load(dir: string): Campaign[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`campaign directory ${dir} does not exist (run from the project folder or pass the directory)`);
  }
  try {
    return loadCampaignDirectory(dir);
  } catch (error) {
    if (error instanceof InvalidCampaignError) throw new ProblemsError(error.problems);
    throw error;
  }
}

const summary = (c: Campaign) =>
  [
    `${c.id}: ${c.kind}, ${c.enabled ? 'enabled' : 'disabled'}`,
    c.delay !== undefined ? `${c.trigger.event} + ${c.delay}` : c.trigger.event,
    ...triggerFilters(c.trigger),
    ...(c.survey ? [`${c.survey.scale.toUpperCase()} survey, reminder ${c.survey.reminderAfter}, at most one per ${c.survey.resurveyAfter}`] : []),
    ...(c.quietHours ? [`quiet ${c.quietHours.start}–${c.quietHours.end}`] : []),
    ...(c.sendWindow ? [`window ${c.sendWindow.days ? `${c.sendWindow.days.join(' ')} ` : ''}${c.sendWindow.start}–${c.sendWindow.end}`] : []),
    ...(c.frequencyCap?.maxEmails !== undefined ? [`cap ${c.frequencyCap.maxEmails} per ${c.frequencyCap.per}`] : []),
    ...(c.frequencyCap?.perCampaign ? [`campaign cap ${c.frequencyCap.perCampaign.maxEmails} per ${c.frequencyCap.perCampaign.per}`] : []),
    ...(c.holdout ? [`holdout ${c.holdout.percent}%`] : []),
    ...(c.activeFrom || c.activeUntil ? [`active ${c.activeFrom ?? '…'}–${c.activeUntil ?? '…'}`] : []),
    ...(c.variants ? [`variants ${c.variants.map((v) => `${v.id} (${v.weight})`).join(', ')}`] : []),
    `locales ${Object.keys(primaryTemplate(c).locales).join(', ')} (default ${primaryTemplate(c).defaultLocale})`,
  ].join('; ');

function triggerFilters(trigger: Campaign['trigger']): string[] {
  if (trigger.event === 'Survey Answered') {
    return [
      ...(trigger.answerCategories ? [`answers ${trigger.answerCategories.join(', ')}`] : []),
      ...(trigger.surveyCampaigns ? [`to ${trigger.surveyCampaigns.join(', ')}`] : []),
    ];
  }
  if (trigger.event === 'Contract Ending') return [`${trigger.offsetsDays.join(', ')} day(s) before the end at ${trigger.sendAt}`];
  return [
    ...(trigger.skus ? [`SKUs ${trigger.skus.join(', ')}`] : []),
    ...(trigger.categories ? [`categories ${trigger.categories.join(', ')}`] : []),
    ...(trigger.segments ? [`segments ${trigger.segments.join(', ')}`] : []),
    ...(trigger.currencies ? [`currencies ${trigger.currencies.join(', ')}`] : []),
    ...(trigger.minimumTotal ? [`total ≥ ${trigger.minimumTotal}`] : []),
    ...(trigger.lastNps ? [`last NPS ${trigger.lastNps.join(', ')}`] : []),
    ...(trigger.loyaltyTiers ? [`tiers ${trigger.loyaltyTiers.join(', ')}`] : []),
  ];
}

/** The campaign's template, or its first variant's. */
function primaryTemplate(c: Campaign): CampaignTemplate {
  const template = c.template ?? c.variants?.[0]?.template;
  if (!template) throw new RangeError(`campaign ${c.id} has neither a template nor variants`);
  return template;
}

const endpointDescription = () =>
  process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL ?? `DynamoDB in ${process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? '(no region set)'}`;

function openStore(table: string): DynamoDbCampaignStore {
  if (!table.trim()) throw new UsageError('--table must name the campaigns table, e.g. --table outreach-campaigns');
  return new DynamoDbCampaignStore(table, openDocumentClient());
}

function openDocumentClient() {
  // The SDK's multi-line notice about Node 20 support ending in 2027 is noise for the people using this CLI
  // (the project supports Node >= 20.19); an explicit setting in the environment still wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return createDocumentClient(new DynamoDBClient({}));
}

/** The forecast as a table: one row per campaign (total, then one column per UTC day), skips and late sends below. */
export function formatForecast(forecast: SendForecast): string[] {
  const days = forecast.days;
  const spanDays = Math.round((Date.parse(forecast.until) - Date.parse(forecast.from)) / 86_400_000);
  const lines = [
    `forecast ${forecast.from} → ${forecast.until} (${spanDays} day(s)) from ${forecast.pendingRead} pending touchpoint(s)${forecast.sources.contracts ? ` and ${forecast.contractRemindersRead} renewal reminder(s) not planned yet` : ""}`,
    forecastSourcesNote(forecast.sources.contracts),
    '',
  ];
  const width = Math.max('campaign'.length, ...forecast.campaigns.map((c) => c.campaignId.length));
  const cell = (value: string | number) => String(value).padStart(6);
  lines.push(`${'campaign'.padEnd(width)} ${cell('total')} ${days.map((d) => cell(d.slice(5))).join(' ')}`.trimEnd());
  for (const c of forecast.campaigns) {
    lines.push(`${c.campaignId.padEnd(width)} ${cell(c.total)} ${days.map((d) => cell(c.perDay[d] ?? 0)).join(' ')}`);
    const skipped = Object.entries(c.skipped).sort(([a], [b]) => a.localeCompare(b));
    if (skipped.length > 0) lines.push(`  skipped (${skipped.map(([reason, count]) => `${reason}: ${count}`).join(', ')})`);
    if (c.afterWindow > 0) lines.push(`  after the window (moved by quiet hours): ${c.afterWindow}`);
  }
  if (forecast.campaigns.length === 0) lines.push('(no pending touchpoints in the window)');
  const total = forecast.campaigns.reduce((sum, c) => sum + c.total, 0);
  lines.push('', `${total} email(s) in total`);
  return lines;
}

/** Turns an SDK failure into one line that says what and where. */
function tableError(error: unknown, table: string): Error {
  if (error instanceof ConcurrentApplyError || error instanceof UsageError) return error;
  const e = error as Error & { code?: string; $metadata?: unknown };
  const where = endpointDescription();
  const text = `${e.name ?? ''} ${e.message ?? ''} ${e.code ?? ''}`;
  if (e.name === 'ResourceNotFoundException') return new UsageError(`table ${table} does not exist at ${where}`);
  if (/Region is missing/i.test(text)) return new UsageError('no AWS region: set AWS_REGION (e.g. AWS_REGION=eu-west-1)');
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(text)) {
    return new UsageError(`no AWS credentials for ${where}: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (any values for the local stack)`);
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|TimeoutError|socket hang up/i.test(text)) {
    return new UsageError(`cannot reach ${where} (table ${table}): ${e.message || e.code || e.name} — is the endpoint right and running?`);
  }
  return new UsageError(`table ${table} at ${where}: ${e.name}: ${e.message}`);
}

async function withTable<T>(table: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw tableError(error, table);
  }
}

const changeLine = (c: CampaignChange) => {
  const version = c.storedVersion ? ` (stored ${c.storedVersion})` : '';
  switch (c.status) {
    case 'added':
      return `added        ${c.campaignId}`;
    case 'changed':
      return `changed      ${c.campaignId}${version}: ${c.changedPaths.join(', ')}`;
    case 'unchanged':
      return `unchanged    ${c.campaignId}${version}`;
    case 'only-stored':
      return `only-stored  ${c.campaignId}${version}: not in the files; apply leaves it as is (set enabled: false to stop it)`;
  }
};

/** A required table name that may also come from the environment the functions use (`eval "$(npm run -s local -- env)"`). */
const tableOption = (flags: string, description: string, variable: string) =>
  new Option(flags, description).env(variable).makeOptionMandatory();

/** What the command groups in other files share with this one (passed in, so they need not import this module). */
export interface CliHelpers {
  UsageError: typeof UsageError;
  ReportedFailure: typeof ReportedFailure;
  withTable: typeof withTable;
  openDocumentClient: typeof openDocumentClient;
  print: typeof print;
  printJson: typeof printJson;
  tableOption: typeof tableOption;
  /** "Now" (ISO-8601): this machine's clock, or OUTREACH_CLOCK_URL's (cli/clock.ts). */
  currentTime: typeof currentTime;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface PreviewOptions extends JsonOption {
  customer?: string;
  tableCustomers?: string;
  tableTouchpoints?: string;
  customerName: string;
  locale?: string;
  variant?: string;
  out?: string;
  send?: string | boolean;
  from?: string;
}

interface PreviewRecipient {
  label: string;
  name: string;
  email?: string;
  locale?: string;
  customerId?: string;
  variant?: string;
  order: TouchpointContext;
}

const sampleRecipient = (name: string): PreviewRecipient => ({
  label: `a sample customer (${name})`,
  name,
  order: {
    orderId: 'o-preview-1',
    items: [
      { sku: 'MUG-1', name: 'Mug', quantity: 2, unitPrice: 12, category: 'kitchen' },
      { sku: 'TEA-7', name: 'Green tea', quantity: 1, unitPrice: 8.5, category: 'food' },
    ],
    total: 32.5,
    currency: 'EUR',
    purchasedAt: new Date().toISOString(),
  },
});

/** A stored customer, with the order of their latest touchpoint (any campaign) when the touchpoints table is given. */
async function storedRecipient(customerId: string, options: PreviewOptions): Promise<PreviewRecipient> {
  if (!options.tableCustomers?.trim()) throw new UsageError('--customer needs --table-customers (or CUSTOMERS_TABLE), e.g. --table-customers outreach-customers');
  const db = openDocumentClient();
  const customer = await withTable(options.tableCustomers, () => new DynamoDbCustomerRepository(options.tableCustomers!, db).get(customerId));
  if (!customer) throw new UsageError(`no customer ${customerId} in ${options.tableCustomers}`);
  const tableTouchpoints = options.tableTouchpoints?.trim();
  const touchpoints = tableTouchpoints
    ? await withTable(tableTouchpoints, () => new DynamoDbTouchpointRepository(tableTouchpoints, DEFAULT_DISPATCH_SHARDS, db).listByCustomer(customerId))
    : [];
  const latest = touchpoints.filter((t) => t.context.orderId !== undefined).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  const sample = sampleRecipient(customer.name);
  return {
    label: `customer ${customer.customerId}${latest ? ` (order ${latest.context.orderId})` : ' (sample order)'}`,
    name: customer.name,
    email: customer.email,
    locale: customer.locale,
    customerId: customer.customerId,
    order: latest?.context ?? sample.order,
  };
}

/** A survey's question and scale for a preview: links to example.invalid, signed with a throwaway preview key. */
function previewSurvey(campaign: Campaign, locale: string): SurveyTemplateData {
  const settings = campaign.survey!;
  const question = settings.question?.[locale] ?? settings.question?.[locale.split('-')[0] ?? ''];
  const scale = renderSurveyScale({
    baseUrl: 'https://example.invalid/',
    keyring: { current: 'preview', secrets: { preview: 'preview-links-are-not-signed-with-a-real-key' } },
    surveyId: 'preview',
    customerId: 'preview',
    kind: settings.scale,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    locale,
    ...(question ? { wording: { question } } : {}),
  });
  return { question: scale.question, scaleHtml: scale.html, scaleText: scale.text };
}

let ses: SESv2Client | undefined;

/** Sends a rendered preview with SES v2 (AWS_ENDPOINT_URL_SESV2 points it at the local mailbox). */
async function sendPreview(input: { from: string; to: string; email: RenderedEmail }): Promise<{ to: string; messageId: string }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  ses ??= new SESv2Client({});
  const where = process.env.AWS_ENDPOINT_URL_SESV2 ?? process.env.AWS_ENDPOINT_URL ?? `SES in ${process.env.AWS_REGION ?? '(no region set)'}`;
  try {
    const result = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: input.from,
        Destination: { ToAddresses: [input.to] },
        Content: {
          Simple: {
            Subject: { Data: `[Preview] ${input.email.subject}`, Charset: 'UTF-8' },
            Body: { Html: { Data: input.email.html, Charset: 'UTF-8' }, Text: { Data: input.email.text, Charset: 'UTF-8' } },
          },
        },
      }),
    );
    return { to: input.to, messageId: result.MessageId ?? '' };
  } catch (error) {
    const e = error as Error;
    throw new UsageError(`cannot send the preview through ${where}: ${e.name}: ${e.message}`);
  }
}

export function createProgram(): Command {
  const program = new Command()
    .name('outreach')
    .description('Outreach for marketers and operators: campaign rules (validate, diff, apply, preview, forecast), contract imports, survey answers.')
    .exitOverride()
    .showSuggestionAfterError();

  const campaigns = program.command('campaigns').description('campaign rule files and the campaigns table');

  campaigns
    .command('validate')
    .description('check every campaign file; print each problem as `file:line path: message`')
    .argument('[dir]', 'campaign directory', DEFAULT_DIR)
    .option('--json', 'machine-readable output')
    .action((dir: string, options: JsonOption) => {
      const loaded = load(dir);
      if (options.json) {
        printJson({
          valid: true,
          campaigns: loaded.map((c) => ({
            id: c.id,
            kind: c.kind,
            enabled: c.enabled,
            delay: c.delay,
            locales: Object.keys(primaryTemplate(c).locales),
            defaultLocale: primaryTemplate(c).defaultLocale,
            ...(c.variants ? { variants: c.variants.map((v) => ({ id: v.id, weight: v.weight })) } : {}),
          })),
        });
      } else {
        for (const c of loaded) print(summary(c));
      }
    });

  campaigns
    .command('schema')
    .description('write the JSON Schema of campaign files (editors use campaigns/campaign.schema.json)')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--json', 'machine-readable output (with --out: {"path": …})')
    .action((options: JsonOption & { out?: string }) => {
      const text = campaignJsonSchemaText();
      if (!options.out) {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(options.out, text);
      } catch (error) {
        throw new UsageError(`cannot write ${options.out}: ${(error as Error).message}`);
      }
      if (options.json) printJson({ path: options.out });
      else print(options.out);
    });

  campaigns
    .command('diff')
    .description('compare the files with what the campaigns table holds as current')
    .argument('[dir]', 'campaign directory', DEFAULT_DIR)
    .addOption(tableOption('--table <name>', 'campaigns table, e.g. outreach-campaigns', 'CAMPAIGNS_TABLE'))
    .option('--json', 'machine-readable output')
    .action(async (dir: string, options: TableOptions) => {
      const desired = load(dir);
      const store = openStore(options.table);
      const stored = await withTable(options.table, () => store.read(desired.map((c) => c.id)));
      const changes = compareCampaigns(desired, stored);
      if (options.json) printJson({ table: options.table, changes });
      else for (const change of changes) print(changeLine(change));
    });

  campaigns
    .command('apply')
    .description('validate, then store each new or changed campaign as a new version and make it current')
    .argument('[dir]', 'campaign directory', DEFAULT_DIR)
    .addOption(tableOption('--table <name>', 'campaigns table, e.g. outreach-campaigns', 'CAMPAIGNS_TABLE'))
    .option('--actor <name>', 'who applies (recorded in the audit item)', process.env.USER ?? safeUserName())
    .option('--json', 'machine-readable output')
    .action(async (dir: string, options: TableOptions & { actor: string }) => {
      const desired = load(dir); // throws before anything is read or written when a file is invalid
      if (!options.actor?.trim()) throw new UsageError('--actor must name who applies, e.g. --actor sam');
      const store = openStore(options.table);
      const at = await currentTime();
      const result = await withTable(options.table, async () => {
        const plan = planApply(desired, await store.read(desired.map((c) => c.id)), { at, actor: options.actor });
        return { plan, written: await store.apply(plan) };
      });
      const { plan, written } = result;
      if (options.json) {
        printJson({ table: options.table, actor: options.actor, at, changes: plan.changes, ...written });
        return;
      }
      for (const change of plan.changes) {
        const applied = written.applied.find((a) => a.campaignId === change.campaignId);
        print(applied ? `${changeLine(change)} → ${applied.version}${applied.repaired ? ' (finished an interrupted apply)' : ''}` : changeLine(change));
      }
      for (const repair of written.auditsRepaired) print(`audit        ${repair.campaignId} ${repair.version} (written for an interrupted apply)`);
      print(`${written.applied.length} campaign(s) applied to ${options.table} by ${options.actor}`);
    });

  campaigns
    .command('preview')
    .description("render a campaign's email to an HTML file, for a sample or a stored customer; --send also mails it (to the local mailbox or through SES)")
    .argument('<campaignId>', 'the campaign id')
    .argument('[dir]', 'campaign directory', DEFAULT_DIR)
    .option('--customer <id>', 'render for this stored customer (name, locale, variant, latest order); needs --table-customers')
    .addOption(new Option('--table-customers <name>', 'customers table (with --customer)').env('CUSTOMERS_TABLE'))
    .addOption(new Option('--table-touchpoints <name>', "touchpoints table: the customer's latest order fills the email (with --customer)").env('TOUCHPOINTS_TABLE'))
    .option('--customer-name <name>', "the sample customer's name", 'Sam Doe')
    .option('--locale <locale>', "the customer's locale (default: the stored customer's, else the campaign's default locale)")
    .option('--variant <id>', "the A/B variant to render (default: the customer's, else the first)")
    .option('--out <file>', 'the HTML file to write (default: <campaignId>.preview.html)')
    .option('--send [address]', "also send it, subject marked [Preview], to this address (default: the stored customer's)")
    .addOption(new Option('--from <address>', 'sender for --send').env('SENDER_ADDRESS'))
    .option('--json', 'machine-readable output')
    .action(async (campaignId: string, dir: string, options: PreviewOptions) => {
      const loaded = load(dir);
      const campaign = loaded.find((c) => c.id === campaignId);
      if (!campaign) {
        throw new UsageError(`no campaign ${campaignId} in ${dir} (have: ${loaded.map((c) => c.id).join(', ') || 'none'})`);
      }
      if (options.variant !== undefined && !campaign.variants?.some((v) => v.id === options.variant)) {
        throw new UsageError(
          `campaign ${campaignId} has no variant ${options.variant} (have: ${campaign.variants?.map((v) => v.id).join(', ') || 'none'})`,
        );
      }
      const recipient = options.customer !== undefined ? await storedRecipient(options.customer, options) : sampleRecipient(options.customerName);
      const email = renderCampaignEmail(
        campaign,
        {
          name: recipient.name,
          locale: options.locale ?? recipient.locale ?? primaryTemplate(campaign).defaultLocale,
          ...(recipient.customerId !== undefined ? { customerId: recipient.customerId } : {}),
          variant: options.variant ?? recipient.variant ?? (recipient.customerId === undefined ? campaign.variants?.[0]?.id : undefined),
        },
        recipient.order,
        'https://example.invalid/unsubscribe?c=preview&t=preview',
        campaign.survey ? previewSurvey(campaign, options.locale ?? recipient.locale ?? primaryTemplate(campaign).defaultLocale) : undefined,
      );
      const out = options.out ?? `${campaignId}.preview.html`;
      const html = `<!doctype html>
<html lang="${escapeHtml(email.locale)}">
<head><meta charset="utf-8"><title>${escapeHtml(email.subject)}</title></head>
<body>
<p style="font:14px sans-serif;color:#555">Preview of <b>${escapeHtml(campaign.id)}</b> for ${escapeHtml(recipient.label)} (locale ${escapeHtml(email.locale)}${email.variant !== undefined ? `, variant ${escapeHtml(email.variant)}` : ''}) — Subject: <b>${escapeHtml(email.subject)}</b></p>
<hr>
${email.html}
<hr>
<pre>${escapeHtml(email.text)}</pre>
</body>
</html>
`;
      try {
        writeFileSync(out, html);
      } catch (error) {
        throw new UsageError(`cannot write ${out}: ${(error as Error).message}`);
      }
      let sent: { to: string; messageId: string } | undefined;
      if (options.send !== undefined) {
        const to = typeof options.send === 'string' ? options.send : recipient.email;
        if (!to) throw new UsageError('--send needs an address (e.g. --send me@example.com) unless --customer names a stored customer');
        if (!options.from) throw new UsageError('--send needs a sender: --from "Shop <hello@shop.example>" or SENDER_ADDRESS');
        sent = await sendPreview({ from: options.from, to, email });
      }
      if (options.json) {
        printJson({
          path: resolve(out),
          campaignId,
          locale: email.locale,
          subject: email.subject,
          ...(email.variant !== undefined ? { variant: email.variant } : {}),
          ...(recipient.customerId !== undefined ? { customerId: recipient.customerId } : {}),
          ...(sent ? { sent } : {}),
        });
      } else {
        print(resolve(out));
        if (sent) print(`sent to ${sent.to} (message ${sent.messageId})`);
      }
    });

  campaigns
    .command('forecast')
    .description('how many emails each campaign will send in the next N days, per UTC day, from the pending touchpoints')
    .requiredOption('--days <n>', 'length of the window in days (1–366)')
    .addOption(tableOption('--table-touchpoints <name>', 'touchpoints table, e.g. outreach-touchpoints', 'TOUCHPOINTS_TABLE'))
    .addOption(tableOption('--table-customers <name>', 'customers table, e.g. outreach-customers', 'CUSTOMERS_TABLE'))
    .addOption(tableOption('--table-campaigns <name>', 'campaigns table, e.g. outreach-campaigns', 'CAMPAIGNS_TABLE'))
    .addOption(new Option('--table-contracts <name>', 'contracts table: forecast renewal reminders the daily sweep has not planned yet').env('CONTRACTS_TABLE'))
    .option('--at <iso>', 'start of the window (default: now)')
    .addOption(new Option('--shards <n>', 'dispatch shards of the deployment').env('DISPATCH_SHARDS').default(String(DEFAULT_DISPATCH_SHARDS)))
    .option('--json', 'machine-readable output')
    .action(
      async (
        options: JsonOption & { days: string; tableTouchpoints: string; tableCustomers: string; tableCampaigns: string; tableContracts?: string; at?: string; shards: string },
      ) => {
        const days = Number(options.days);
        if (!/^\d+$/.test(options.days) || days < 1 || days > 366) throw new UsageError(`--days must be a whole number from 1 to 366, e.g. --days 7 (got ${options.days})`);
        const shards = Number(options.shards);
        if (!/^\d+$/.test(options.shards) || shards < 1 || shards > 64) throw new UsageError(`--shards must be a whole number from 1 to 64 (got ${options.shards})`);
        const at = options.at ?? (await currentTime());
        if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(Date.parse(at))) {
          throw new UsageError(`--at must be an ISO date-time, e.g. --at 2026-12-01T09:00:00Z (got ${at})`);
        }
        const names = [options.tableTouchpoints, options.tableCustomers, options.tableCampaigns];
        if (names.some((n) => !n.trim())) throw new UsageError('--table-touchpoints, --table-customers and --table-campaigns must name tables');
        const db = openDocumentClient();
        let reported = 0;
        const forecast = await withTable(`${options.tableTouchpoints}, ${options.tableCustomers} or ${options.tableCampaigns}`, () =>
          forecastSends(
            { at, days },
            {
              touchpoints: new DynamoDbTouchpointRepository(options.tableTouchpoints, shards, db),
              customers: new DynamoDbCustomerRepository(options.tableCustomers, db),
              campaigns: new DynamoDbCampaignCatalog(options.tableCampaigns, db),
              ...(options.tableContracts?.trim()
                ? {
                    contracts: {
                      repository: new DynamoDbContractRepository(options.tableContracts, DEFAULT_CONTRACT_END_SHARDS, db),
                      cursors: new DynamoDbSweepCursors(options.tableContracts, db),
                    },
                  }
                : {}),
              shards,
              onProgress: ({ read, shardsDone }) => {
                if (read - reported < 1000) return;
                reported = read;
                process.stderr.write(`read ${read} due touchpoint(s), ${shardsDone}/${shards} shard(s) done…\n`);
              },
            },
          ),
        );
        if (options.json) printJson({ ...forecast, note: forecastSourcesNote(forecast.sources.contracts) });
        else for (const line of formatForecast(forecast)) print(line);
      },
    );

  const helpers: CliHelpers = { UsageError, ReportedFailure, withTable, openDocumentClient, print, printJson, tableOption, currentTime };
  registerContractCommands(program, helpers);
  registerSurveyCommands(program, helpers);
  registerMetricsCommands(program, helpers);
  registerTouchpointCommands(program, helpers);

  return program;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Runs the CLI; resolves with the exit code. Errors are printed as one line (problems one per line), never a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv as string[]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander printed it
    if (error instanceof ProblemsError) {
      if (json) printJson({ valid: false, problems: error.problems.map(parseProblem) });
      else for (const problem of error.problems) print(problem);
      process.stderr.write(`${error.problems.length} problem(s) found\n`);
      return EXIT.failed;
    }
    if (error instanceof ReportedFailure) {
      process.stderr.write(`${error.message}\n`);
      return EXIT.failed;
    }
    if (error instanceof ConcurrentApplyError) {
      process.stderr.write(`error: ${error.message}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`error: ${(error as Error).message?.split('\n')[0] ?? String(error)}\n`);
    return EXIT.usage;
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) process.exitCode = await main(process.argv);
