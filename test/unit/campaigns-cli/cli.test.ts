/** The CLI as a marketer runs it: `node --import tsx cli/outreach.ts …` in a subprocess. */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/outreach.ts';
import { campaignJsonSchemaText } from '../../../core/campaigns/json-schema.ts';
import { loadCampaignDirectory } from '../../../core/campaigns/load.ts';
import { allItems, freshCampaignsTable, freshTables, startTestDynamo, type TestDynamo } from './support.ts';
import { awsEnvFor, runOutreach } from './support.ts';
import { DynamoDbCustomerRepository } from '../../../adapters/dynamodb-customers.ts';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SHIPPED = join(ROOT, 'campaigns/check-in.yaml');

const outreach = (args: string[], env: Record<string, string> = {}, cwd?: string) => runOutreach(args, env, cwd);

const tempDir = () => mkdtempSync(join(tmpdir(), 'outreach-cli-'));
const shippedText = readFileSync(SHIPPED, 'utf8');

/** A campaign directory with the shipped campaign, optionally changed. */
function campaignDir(transform: (text: string) => string = (t) => t, extra: Record<string, string> = {}): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'check-in.yaml'), transform(shippedText));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('outreach campaigns validate', () => {
  it('exits 0 with one summary line per campaign, and --json gives only JSON', async () => {
    const text = await outreach(['campaigns', 'validate']);
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout.split('\n')).toEqual([
      'post-purchase-check-in: check-in, enabled; Purchase Completed + P3D; quiet 21:00–08:00; cap 3 per P7D; locales en, de (default en)',
      'nps-after-purchase: survey, enabled; Purchase Completed + P14D; NPS survey, reminder P3D, at most one per P90D; quiet 21:00–08:00; locales en, de (default en)',
      'promoter-review-ask: follow-up, enabled; Survey Answered + P1D; answers promoter; to nps-after-purchase; quiet 21:00–08:00; cap 3 per P7D; locales en (default en)',
      'contract-renewal: renewal-reminder, enabled; Contract Ending; 60, 30, 7 day(s) before the end at 09:00; window mon tue wed thu fri sat 08:00–20:00; locales en, de (default en)',
      '',
    ]);

    const json = await outreach(['campaigns', 'validate', 'campaigns', '--json']);
    expect(json.code).toBe(EXIT.ok);
    expect(JSON.parse(json.stdout)).toEqual({
      valid: true,
      campaigns: [
        { id: 'post-purchase-check-in', kind: 'check-in', enabled: true, delay: 'P3D', locales: ['en', 'de'], defaultLocale: 'en' },
        { id: 'nps-after-purchase', kind: 'survey', enabled: true, delay: 'P14D', locales: ['en', 'de'], defaultLocale: 'en' },
        { id: 'promoter-review-ask', kind: 'follow-up', enabled: true, delay: 'P1D', locales: ['en'], defaultLocale: 'en' },
        { id: 'contract-renewal', kind: 'renewal-reminder', enabled: true, locales: ['en', 'de'], defaultLocale: 'en' },
      ],
    });
  });

  it('prints every problem as file:line path: message and exits 1; --json lists them with their parts', async () => {
    const dir = campaignDir((t) => t.replace('delay: P3D', 'delay: 3 days').replace('kind: check-in', 'kind: check-in\ncolour: blue'));
    const text = await outreach(['campaigns', 'validate', dir], {}, dir);
    expect(text.code).toBe(EXIT.failed);
    expect(text.stdout).toBe(
      'check-in.yaml:6 colour: is not a known field (expected one of: id, kind, description, enabled, trigger, delay, survey, quietHours, sendWindow, frequencyCap, holdout, activeFrom, activeUntil, requireMarketingConsent, stopOn, template, variants)\n' +
        'check-in.yaml:12 delay: "3 days" is not an ISO-8601 duration (try P3D)\n',
    );
    expect(text.stderr).toBe('2 problem(s) found\n');

    const json = await outreach(['campaigns', 'validate', dir, '--json'], {}, dir);
    expect(json.code).toBe(EXIT.failed);
    expect(JSON.parse(json.stdout)).toEqual({
      valid: false,
      problems: [
        {
          file: 'check-in.yaml',
          line: 6,
          path: 'colour',
          message: 'is not a known field (expected one of: id, kind, description, enabled, trigger, delay, survey, quietHours, sendWindow, frequencyCap, holdout, activeFrom, activeUntil, requireMarketingConsent, stopOn, template, variants)',
          text: 'check-in.yaml:6 colour: is not a known field (expected one of: id, kind, description, enabled, trigger, delay, survey, quietHours, sendWindow, frequencyCap, holdout, activeFrom, activeUntil, requireMarketingConsent, stopOn, template, variants)',
        },
        {
          file: 'check-in.yaml',
          line: 12,
          path: 'delay',
          message: '"3 days" is not an ISO-8601 duration (try P3D)',
          text: 'check-in.yaml:12 delay: "3 days" is not an ISO-8601 duration (try P3D)',
        },
      ],
    });
  });

  it('a bad option or a missing directory: one line on stderr, exit 2, no stack trace', async () => {
    const option = await outreach(['campaigns', 'validate', '--colour']);
    expect(option.code).toBe(EXIT.usage);
    expect(option.stdout).toBe('');
    expect(option.stderr.trim()).toBe("error: unknown option '--colour'");

    const missing = await outreach(['campaigns', 'validate', 'no-such-dir', '--json']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('error: campaign directory no-such-dir does not exist (run from the project folder or pass the directory)\n');
  });
});

describe('outreach campaigns schema', () => {
  it('the committed campaigns/campaign.schema.json is what the zod schema generates (regenerate with `campaigns schema --out`)', async () => {
    const committed = readFileSync(join(ROOT, 'campaigns/campaign.schema.json'), 'utf8');
    expect(committed).toBe(campaignJsonSchemaText());
    const printed = await outreach(['campaigns', 'schema']);
    expect(printed.code).toBe(EXIT.ok);
    expect(printed.stdout).toBe(committed);

    const out = join(tempDir(), 'schema.json');
    const written = await outreach(['campaigns', 'schema', '--out', out, '--json']);
    expect(JSON.parse(written.stdout)).toEqual({ path: out });
    expect(readFileSync(out, 'utf8')).toBe(committed);
  });

  it('describes the input side: required fields, defaults optional, unknown top-level keys rejected', () => {
    const schema = JSON.parse(campaignJsonSchemaText()) as Record<string, unknown> & { required: string[]; properties: Record<string, { default?: unknown }> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toBe('Outreach campaign');
    expect(schema.required.sort()).toEqual(['id', 'kind', 'trigger']);
    // Exactly one of template and variants.
    expect(schema.oneOf).toEqual([{ required: ['template'] }, { required: ['variants'] }]);
    expect(schema.properties.enabled?.default).toBe(true);
    expect(schema.additionalProperties).toBe(false);
  });

  it('the loader ignores *.schema.json next to the campaigns', () => {
    const dir = campaignDir();
    copyFileSync(join(ROOT, 'campaigns/campaign.schema.json'), join(dir, 'campaign.schema.json'));
    expect(loadCampaignDirectory(dir, dir).map((c) => c.id)).toEqual(['post-purchase-check-in']);
    expect(shippedText.split('\n')[0]).toBe('# yaml-language-server: $schema=./campaign.schema.json');
  });
});

describe('outreach campaigns preview', () => {
  it('renders subject, HTML and plain text for a sample customer to an HTML file', async () => {
    const out = join(tempDir(), 'preview.html');
    const run = await outreach(['campaigns', 'preview', 'post-purchase-check-in', '--customer-name', 'Jana Novak', '--locale', 'de-AT', '--out', out]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe(`${out}\n`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<title>Jana, wie gefällt Ihnen Mug?</title>');
    expect(html).toContain('<p>Hallo Jana,</p>');
    expect(html).toMatch(/<pre>Hallo Jana,\n\nIhre Bestellung o-preview-1 [^]*Abmelden: https:\/\/example\.invalid\/unsubscribe[^]*<\/pre>/);

    const unknown = await outreach(['campaigns', 'preview', 'nope', '--out', out]);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toBe('error: no campaign nope in campaigns (have: post-purchase-check-in, nps-after-purchase, promoter-review-ask, contract-renewal)\n');
  });

  it('summarises and previews a campaign with A/B variants, holdout and active dates', async () => {
    const variants = `id: ab-test
kind: check-in
trigger: { event: Purchase Completed }
delay: P3D
holdout: { percent: 10 }
activeFrom: 2026-12-01
frequencyCap: { perCampaign: { maxEmails: 1, per: P30D } }
variants:
  - id: a
    weight: 60
    template: { defaultLocale: en, locales: { en: { subject: "A for {{customer.firstName}}", html: "<p>A</p>", text: A } } }
  - id: b
    weight: 40
    template: { defaultLocale: en, locales: { en: { subject: "B for {{customer.firstName}}", html: "<p>B</p>", text: B } } }
`;
    const dir = tempDir();
    writeFileSync(join(dir, 'ab.yaml'), variants);
    const validate = await outreach(['campaigns', 'validate', dir]);
    expect(validate.stdout).toBe(
      'ab-test: check-in, enabled; Purchase Completed + P3D; campaign cap 1 per P30D; holdout 10%; active 2026-12-01–…; variants a (60), b (40); locales en (default en)\n',
    );
    const out = join(tempDir(), 'preview.html');
    const preview = await outreach(['campaigns', 'preview', 'ab-test', dir, '--variant', 'b', '--out', out]);
    expect(preview.code).toBe(EXIT.ok);
    expect(readFileSync(out, 'utf8')).toContain('(locale en, variant b) — Subject: <b>B for Sam</b>');
    const unknown = await outreach(['campaigns', 'preview', 'ab-test', dir, '--variant', 'c', '--out', out]);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toBe('error: campaign ab-test has no variant c (have: a, b)\n');
  });
});

/** One dynalite for the commands that read or write tables (each test makes its own fresh tables). */
let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});
const awsEnv = () => awsEnvFor(dynamo);

describe('outreach campaigns preview for a stored customer', () => {
  it("renders with the customer's name, locale and latest order; tables come from the functions' variables", async () => {
    const tables = await freshTables(dynamo);
    const customers = new DynamoDbCustomerRepository(tables.customers, dynamo.db);
    await customers.recordPurchase(
      { customerId: 'c-77', email: 'jana@example.com', name: 'Jana Novak', timeZone: 'Europe/Vienna', locale: 'de-AT', marketingConsent: true },
      'o-77',
      '2026-11-20T10:00:00.000Z',
    );
    const touchpoints = new DynamoDbTouchpointRepository(tables.touchpoints, 8, dynamo.db);
    await touchpoints.create({
      touchpointId: 'tp-77',
      campaignId: 'post-purchase-check-in',
      kind: 'check-in',
      customerId: 'c-77',
      orderId: 'o-77',
      dueAt: '2026-11-23T10:00:00.000Z',
      status: 'PENDING',
      generation: 0,
      context: { orderId: 'o-77', items: [{ sku: 'LAMP-2', name: 'Leselampe', quantity: 1, unitPrice: 80 }], total: 80, currency: 'EUR' },
      createdAt: '2026-11-20T10:00:00.000Z',
      updatedAt: '2026-11-20T10:00:00.000Z',
    });
    const out = join(tempDir(), 'jana.html');
    const run = await outreach(['campaigns', 'preview', 'post-purchase-check-in', '--customer', 'c-77', '--out', out, '--json'], {
      ...awsEnv(),
      CUSTOMERS_TABLE: tables.customers,
      TOUCHPOINTS_TABLE: tables.touchpoints,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ customerId: 'c-77', locale: 'de', subject: 'Jana, wie gefällt Ihnen Leselampe?' });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('for customer c-77 (order o-77)');
    expect(html).toContain('Ihre Bestellung o-77');

    const unknown = await outreach(['campaigns', 'preview', 'post-purchase-check-in', '--customer', 'c-404', '--out', out], {
      ...awsEnv(),
      CUSTOMERS_TABLE: tables.customers,
    });
    expect(unknown).toEqual({ code: EXIT.usage, stdout: '', stderr: `error: no customer c-404 in ${tables.customers}\n` });
    const noTable = await outreach(['campaigns', 'preview', 'post-purchase-check-in', '--customer', 'c-77', '--out', out], awsEnv());
    expect(noTable.code).toBe(EXIT.usage);
    expect(noTable.stderr).toBe('error: --customer needs --table-customers (or CUSTOMERS_TABLE), e.g. --table-customers outreach-customers\n');
  });

  it('--send without an address or a sender says what is missing, and writes the file first', async () => {
    const out = join(tempDir(), 'sample.html');
    const noAddress = await outreach(['campaigns', 'preview', 'post-purchase-check-in', '--send', '--from', 'a@b.example', '--out', out]);
    expect(noAddress.stderr).toBe('error: --send needs an address (e.g. --send me@example.com) unless --customer names a stored customer\n');
    const noSender = await outreach(['campaigns', 'preview', 'post-purchase-check-in', '--send', 'me@example.com', '--out', out]);
    expect(noSender.stderr).toBe('error: --send needs a sender: --from "Shop <hello@shop.example>" or SENDER_ADDRESS\n');
    expect(readFileSync(out, 'utf8')).toContain('for a sample customer (Sam Doe)');
  });
});

describe('outreach campaigns diff / apply against DynamoDB', () => {
  it('diff, apply, apply again, change, diff: the table follows the files, with versions and audit', async () => {
    const table = await freshCampaignsTable(dynamo);
    const dir = campaignDir();
    const diff = await outreach(['campaigns', 'diff', dir, '--table', table], awsEnv());
    expect(diff).toMatchObject({ code: EXIT.ok, stdout: 'added        post-purchase-check-in\n' });

    const applied = await outreach(['campaigns', 'apply', dir, '--table', table, '--actor', 'sam'], awsEnv());
    expect(applied.code).toBe(EXIT.ok);
    expect(applied.stdout).toBe(`added        post-purchase-check-in → v000001\n1 campaign(s) applied to ${table} by sam\n`);

    const again = await outreach(['campaigns', 'apply', dir, '--table', table, '--json'], { ...awsEnv(), USER: 'kim' });
    expect(JSON.parse(again.stdout)).toMatchObject({
      actor: 'kim',
      changes: [{ campaignId: 'post-purchase-check-in', status: 'unchanged', storedVersion: 'v000001' }],
      applied: [],
    });

    writeFileSync(join(dir, 'check-in.yaml'), shippedText.replace('delay: P3D', 'delay: P4D'));
    const changedDiff = await outreach(['campaigns', 'diff', dir, '--table', table, '--json'], awsEnv());
    expect(JSON.parse(changedDiff.stdout)).toEqual({
      table,
      changes: [{ campaignId: 'post-purchase-check-in', status: 'changed', changedPaths: ['delay'], storedVersion: 'v000001' }],
    });
    const second = await outreach(['campaigns', 'apply', dir, '--table', table, '--actor', 'kim'], awsEnv());
    expect(second.stdout).toContain('changed      post-purchase-check-in (stored v000001): delay → v000002\n');
    expect((await allItems(dynamo.db, table)).map((i) => i.version)).toEqual([
      expect.stringMatching(/^audit#.+#v000001$/),
      expect.stringMatching(/^audit#.+#v000002$/),
      'current',
      'v000001',
      'v000002',
    ]);
  });

  it('apply stores nothing when any file is invalid', async () => {
    const table = await freshCampaignsTable(dynamo);
    const dir = campaignDir((t) => t, { 'spring.yaml': shippedText.replace('post-purchase-check-in', 'spring-check-in').replace('delay: P3D', 'delay: soon') });
    const run = await outreach(['campaigns', 'apply', dir, '--table', table], awsEnv(), dir);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toBe('spring.yaml:11 delay: "soon" is not an ISO-8601 duration (try P3D)\n');
    expect(await allItems(dynamo.db, table)).toEqual([]);
  });

  it('a missing table, an unreachable endpoint or a missing --table: one clear line, exit 2', async () => {
    const missing = await outreach(['campaigns', 'diff', '--table', 'no-such-table'], awsEnv());
    expect(missing).toEqual({ code: EXIT.usage, stdout: '', stderr: `error: table no-such-table does not exist at ${dynamo.endpoint}\n` });

    const unreachable = await outreach(['campaigns', 'apply', '--table', 'outreach-campaigns', '--json'], {
      ...awsEnv(),
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
    });
    expect(unreachable.code).toBe(EXIT.usage);
    expect(unreachable.stdout).toBe('');
    expect(unreachable.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:9 \(table outreach-campaigns\): .*ECONNREFUSED.*\n$/);
    noStackTrace(unreachable.stderr);

    const noTable = await outreach(['campaigns', 'apply'], awsEnv());
    expect(noTable).toMatchObject({ code: EXIT.usage, stdout: '', stderr: "error: required option '--table <name>' not specified\n" });
  });
});
