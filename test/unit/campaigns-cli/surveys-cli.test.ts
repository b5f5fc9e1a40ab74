/**
 * `outreach surveys responses | summary | rebuild` as an operator runs them, in a subprocess against dynalite. The
 * answers are recorded with the survey use case (signed links, settling into the aggregates) through the DynamoDB
 * adapters, as the survey-answer function records them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSurveyAggregates, DynamoDbSurveyResponses } from '../../../adapters/dynamodb-responses.ts';
import { EXIT } from '../../../cli/outreach.ts';
import { recordSurveyResponse } from '../../../core/surveys/record-response.ts';
import type { SurveyKind } from '../../../core/surveys/scales.ts';
import type { TableNames } from '../../../local/dynamodb.ts';
import { KEYRING, RecordingEvents } from '../surveys/fakes.ts';
import { CAMPAIGN, click } from '../surveys/support.ts';
import { freshTables, startTestDynamo, type TestDynamo } from './support.ts';
import { awsEnvFor, runOutreach } from './support.ts';

const CSAT = 'csat-after-support';

const outreach = (args: string[], env: Record<string, string> = {}, cwd?: string) => runOutreach(args, env, cwd);

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

const awsEnv = () => awsEnvFor(dynamo);
/** The tables as the local stack's `env` gives them: the functions' own variables. */
const tableEnv = (t: TableNames) => ({ ...awsEnv(), RESPONSES_TABLE: t.responses, SURVEY_AGGREGATES_TABLE: t.surveyAggregates });

const adapters = (t: TableNames) => ({
  responses: new DynamoDbSurveyResponses(t.responses, dynamo.db),
  aggregates: new DynamoDbSurveyAggregates(t.surveyAggregates, dynamo.db),
});

interface Answer {
  surveyId: string;
  customerId: string;
  score: number;
  at: string;
  kind?: SurveyKind;
  campaignId?: string;
  comment?: string;
}

/** Records answers with the use case (a customer clicking the signed link), settled into the aggregates. */
async function answer(t: TableNames, answers: readonly Answer[]): Promise<RecordingEvents> {
  const events = new RecordingEvents();
  const deps = { ...adapters(t), events, keyring: async () => KEYRING };
  for (const a of answers) {
    const request = click(a.score, a.at, {
      surveyId: a.surveyId,
      customerId: a.customerId,
      kind: a.kind ?? 'nps',
      ...(a.comment !== undefined ? { comment: a.comment } : {}),
    });
    const result = await recordSurveyResponse({ ...request, campaignId: a.campaignId ?? CAMPAIGN }, deps);
    expect(result.settlement).toBe('settled');
  }
  return events;
}

/** Three NPS answers (one changed later, one with a comment) and three CSAT answers of another campaign. */
async function seed(t: TableNames): Promise<void> {
  await answer(t, [
    { surveyId: 'tp-1', customerId: 'c-1', score: 9, at: '2026-12-01T10:00:00.000Z', comment: 'Fast delivery,\nthanks!' },
    { surveyId: 'tp-2', customerId: 'c-2', score: 3, at: '2026-12-01T12:00:00.000Z' },
    { surveyId: 'tp-3', customerId: 'c-3', score: 9, at: '2026-12-02T09:00:00.000Z' },
    { surveyId: 'tp-1', customerId: 'c-1', score: 10, at: '2026-12-02T11:00:00.000Z' }, // changed: revision 1, still counted on 12-01
    { surveyId: 'tp-10', customerId: 'c-10', score: 4, at: '2026-12-01T09:00:00.000Z', kind: 'csat', campaignId: CSAT },
    { surveyId: 'tp-11', customerId: 'c-11', score: 2, at: '2026-12-01T10:00:00.000Z', kind: 'csat', campaignId: CSAT },
    { surveyId: 'tp-12', customerId: 'c-12', score: 5, at: '2026-12-03T08:00:00.000Z', kind: 'csat', campaignId: CSAT },
  ]);
}

describe('outreach surveys responses', () => {
  let tables: TableNames;
  beforeAll(async () => {
    tables = await freshTables(dynamo);
    await seed(tables);
  });

  it('lists the answers newest first, saying whether there is a comment without showing it', async () => {
    const run = await outreach(['surveys', 'responses', '--campaign', CAMPAIGN], tableEnv(tables));
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toBe(
      [
        'answeredAt                kind  score  category   revision  comment  survey',
        '2026-12-02T11:00:00.000Z  nps      10  promoter          1  yes      tp-1',
        '2026-12-02T09:00:00.000Z  nps       9  promoter          0  no       tp-3',
        '2026-12-01T12:00:00.000Z  nps       3  detractor         0  no       tp-2',
        `3 answer(s) of campaign ${CAMPAIGN}, newest first`,
        '',
      ].join('\n'),
    );
    expect(run.stdout).not.toContain('Fast delivery');
  });

  it('--comments shows the comments, --limit cuts the list, --json gives the same', async () => {
    const run = await outreach(['surveys', 'responses', '--campaign', CAMPAIGN, '--comments', '--limit', '2'], tableEnv(tables));
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe(
      [
        'answeredAt                kind  score  category  revision  comment  survey',
        '2026-12-02T11:00:00.000Z  nps      10  promoter         1  yes      tp-1',
        '    Fast delivery,',
        '    thanks!',
        '2026-12-02T09:00:00.000Z  nps       9  promoter         0  no       tp-3',
        `2 of 3 answer(s) of campaign ${CAMPAIGN}, newest first (--limit 3 shows all)`,
        '',
      ].join('\n'),
    );

    const json = await outreach(['surveys', 'responses', '--campaign', CAMPAIGN, '--json', '--limit', '2'], tableEnv(tables));
    expect(json.code).toBe(EXIT.ok);
    expect(JSON.parse(json.stdout)).toEqual({
      campaignId: CAMPAIGN,
      table: tables.responses,
      total: 3,
      shown: 2,
      responses: [
        {
          surveyId: 'tp-1',
          kind: 'nps',
          answeredAt: '2026-12-02T11:00:00.000Z',
          firstAnsweredAt: '2026-12-01T10:00:00.000Z',
          score: 10,
          category: 'promoter',
          revision: 1,
          hasComment: true,
          settled: true,
        },
        {
          surveyId: 'tp-3',
          kind: 'nps',
          answeredAt: '2026-12-02T09:00:00.000Z',
          firstAnsweredAt: '2026-12-02T09:00:00.000Z',
          score: 9,
          category: 'promoter',
          revision: 0,
          hasComment: false,
          settled: true,
        },
      ],
    });
    const withComments = await outreach(['surveys', 'responses', '--campaign', CAMPAIGN, '--json', '--comments', '--limit', '1'], tableEnv(tables));
    expect(JSON.parse(withComments.stdout).responses[0].comment).toBe('Fast delivery,\nthanks!');
  });

  it('a campaign without answers, a bad --limit, a missing option or table: clear output and exit codes', async () => {
    const none = await outreach(['surveys', 'responses', '--campaign', 'nobody-answered'], tableEnv(tables));
    expect(none).toEqual({ code: EXIT.ok, stdout: `no answers for campaign nobody-answered in ${tables.responses}\n`, stderr: '' });
    const limit = await outreach(['surveys', 'responses', '--campaign', CAMPAIGN, '--limit', 'all'], tableEnv(tables));
    expect(limit).toEqual({ code: EXIT.usage, stdout: '', stderr: 'error: --limit must be a whole number of at least 1, e.g. --limit 20 (got all)\n' });
    const noCampaign = await outreach(['surveys', 'responses'], tableEnv(tables));
    expect(noCampaign).toMatchObject({ code: EXIT.usage, stdout: '', stderr: "error: required option '--campaign <id>' not specified\n" });
    const noTable = await outreach(['surveys', 'responses', '--campaign', CAMPAIGN], awsEnv());
    expect(noTable).toMatchObject({ code: EXIT.usage, stderr: "error: required option '--table-responses <name>' not specified\n" });
    const missing = await outreach(['surveys', 'responses', '--campaign', CAMPAIGN, '--table-responses', 'no-such-table'], awsEnv());
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/^error: table no-such-table does not exist at http:\/\/127\.0\.0\.1:\d+\n$/);
  });
});

describe('outreach surveys summary', () => {
  let tables: TableNames;
  beforeAll(async () => {
    tables = await freshTables(dynamo);
    await seed(tables);
  });

  it('prints responses and the NPS per day of the first answer and in total', async () => {
    const run = await outreach(['surveys', 'summary', '--campaign', CAMPAIGN], tableEnv(tables));
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toBe(
      [
        `${CAMPAIGN}: NPS (% promoters − % detractors), per UTC day of the first answer`,
        'day         responses    NPS  promoter  passive  detractor',
        '2026-12-01          2    0.0         1        0          1',
        '2026-12-02          1  100.0         1        0          0',
        'total               3   33.3         2        0          1',
        '',
      ].join('\n'),
    );
  });

  it('CSAT as % satisfied; --from/--to pick days; --json has the numbers', async () => {
    const run = await outreach(['surveys', 'summary', '--campaign', CSAT], tableEnv(tables));
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe(
      [
        `${CSAT}: CSAT (% satisfied), per UTC day of the first answer`,
        'day         responses    CSAT  satisfied  not-satisfied',
        '2026-12-01          2   50.0%          1              1',
        '2026-12-03          1  100.0%          1              0',
        'total               3   66.7%          2              1',
        '',
      ].join('\n'),
    );

    const range = await outreach(['surveys', 'summary', '--campaign', CAMPAIGN, '--from', '2026-12-02', '--to', '2026-12-31', '--json'], tableEnv(tables));
    expect(range.code).toBe(EXIT.ok);
    expect(JSON.parse(range.stdout)).toEqual({
      campaignId: CAMPAIGN,
      table: tables.surveyAggregates,
      from: '2026-12-02',
      to: '2026-12-31',
      kinds: [
        {
          kind: 'nps',
          metric: 'NPS (% promoters − % detractors)',
          days: [{ day: '2026-12-02', responses: 1, value: 100, categories: { promoter: 1, passive: 0, detractor: 0 } }],
          total: { responses: 1, value: 100, categories: { promoter: 1, passive: 0, detractor: 0 } },
        },
      ],
    });

    const empty = await outreach(['surveys', 'summary', '--campaign', CAMPAIGN, '--to', '2026-11-30'], tableEnv(tables));
    expect(empty).toEqual({ code: EXIT.ok, stdout: `no survey answers for campaign ${CAMPAIGN} from the first day to 2026-11-30\n`, stderr: '' });
  });

  it('rejects bad dates with one line and exit 2', async () => {
    const bad = await outreach(['surveys', 'summary', '--campaign', CAMPAIGN, '--from', '2026-02-30'], tableEnv(tables));
    expect(bad).toEqual({ code: EXIT.usage, stdout: '', stderr: 'error: --from must be a calendar date YYYY-MM-DD, e.g. --from 2026-11-01 (got 2026-02-30)\n' });
    const order = await outreach(['surveys', 'summary', '--campaign', CAMPAIGN, '--from', '2026-12-05', '--to', '2026-12-01'], tableEnv(tables));
    expect(order).toEqual({ code: EXIT.usage, stdout: '', stderr: 'error: --from 2026-12-05 is after --to 2026-12-01\n' });
  });
});

/** A stand-in for EventBridge PutEvents (AWS_ENDPOINT_URL_EVENTBRIDGE), recording what is published; `reject` fails every entry. */
async function startEventBridge(reject = false): Promise<{ endpoint: string; entries: Array<Record<string, unknown>>; close(): Promise<void> }> {
  const entries: Array<Record<string, unknown>> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const sent = (JSON.parse(body) as { Entries: Array<Record<string, unknown>> }).Entries;
      entries.push(...sent);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          reject
            ? { FailedEntryCount: sent.length, Entries: sent.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' })) }
            : { FailedEntryCount: 0, Entries: sent.map((_, i) => ({ EventId: `event-${entries.length + i}` })) },
        ),
      );
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    entries,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

describe('outreach surveys rebuild', () => {
  it('reports the drift of corrupted aggregates and repairs it; a second run finds nothing to repair', async () => {
    const tables = await freshTables(dynamo);
    await seed(tables);
    const { aggregates } = adapters(tables);
    // Corrupt 2026-12-01 (it counts tp-1 at 10 and tp-2 at 3) and add a day nobody answered on.
    const day1 = await aggregates.get({ campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps' });
    expect(day1).toMatchObject({ responses: 2, scoreSum: 13 });
    const corrupted = { campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps' as const, responses: 5, scoreSum: 40, scores: { '10': 4, '0': 1 }, categories: { promoter: 4, detractor: 1 } };
    expect(await aggregates.replace(corrupted, day1!.version)).toBe(true);
    const phantom = { campaignId: CAMPAIGN, day: '2026-11-30', kind: 'nps' as const, responses: 1, scoreSum: 9, scores: { '9': 1 }, categories: { promoter: 1 } };
    expect(await aggregates.replace(phantom, undefined)).toBe(true);

    const wrong = await outreach(['surveys', 'summary', '--campaign', CAMPAIGN], tableEnv(tables));
    expect(wrong.stdout).toContain('total               7   71.4         6        0          1');

    const rebuild = await outreach(['surveys', 'rebuild', '--campaign', CAMPAIGN], tableEnv(tables));
    expect(rebuild).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(rebuild.stdout).toBe(
      [
        'repaired   2026-11-30 nps: responses 1 → 0, scoreSum 9 → 0, score 9 1 → 0, category promoter 1 → 0',
        'repaired   2026-12-01 nps: responses 5 → 2, scoreSum 40 → 13, score 0 1 → 0, score 3 0 → 1, score 10 4 → 1, category promoter 4 → 1',
        'unchanged  2026-12-02 nps',
        `${CAMPAIGN}: 3 aggregate(s) from 3 answer(s): 2 repaired (drift), 1 unchanged, 0 skipped; 0 answer(s) settled first`,
        '',
      ].join('\n'),
    );
    expect(await aggregates.get({ campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps' })).toMatchObject({
      responses: 2,
      scoreSum: 13,
      scores: { '3': 1, '10': 1 },
      categories: { promoter: 1, detractor: 1 },
    });
    const right = await outreach(['surveys', 'summary', '--campaign', CAMPAIGN], tableEnv(tables));
    expect(right.stdout).toContain('2026-11-30          0      –         0        0          0');
    expect(right.stdout).toContain('total               3   33.3         2        0          1');

    const again = await outreach(['surveys', 'rebuild', '--campaign', CAMPAIGN, '--json'], tableEnv(tables));
    expect(again.code).toBe(EXIT.ok);
    expect(JSON.parse(again.stdout)).toEqual({
      campaignId: CAMPAIGN,
      tables: { responses: tables.responses, aggregates: tables.surveyAggregates },
      responses: 3,
      settled: 0,
      unsettled: 0,
      repaired: 0,
      unchanged: 3,
      skipped: 0,
      aggregates: [
        { day: '2026-11-30', kind: 'nps', status: 'unchanged', changes: [] },
        { day: '2026-12-01', kind: 'nps', status: 'unchanged', changes: [] },
        { day: '2026-12-02', kind: 'nps', status: 'unchanged', changes: [] },
      ],
    });
  });

  it('a bus that rejects the event: one line naming the bus, exit 2', async () => {
    const tables = await freshTables(dynamo);
    await seed(tables);
    const { responses } = adapters(tables);
    const answeredAt = '2026-12-02T15:00:00.000Z';
    const unsettled = { surveyId: 'tp-5', kind: 'nps' as const, campaignId: CAMPAIGN, customerId: 'c-5', score: 8, category: 'passive' as const };
    expect(await responses.put({ ...unsettled, firstAnsweredAt: answeredAt, answeredAt, day: '2026-12-02', revision: 0, scoreHistory: [8] }, undefined)).toBe(true);
    const bus = await startEventBridge(true);
    try {
      const run = await outreach(['surveys', 'rebuild', '--campaign', CAMPAIGN, '--event-bus', 'outreach'], {
        ...tableEnv(tables),
        AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
      });
      expect(run).toEqual({
        code: EXIT.usage,
        stdout: '',
        stderr: `error: cannot publish Survey Answered on the event bus outreach at ${bus.endpoint}: Error: PutEvents rejected the Survey Answered event: InternalFailure try again\n`,
      });
    } finally {
      await bus.close();
    }
  });

  it('skips the day of an answer not settled yet (exit 1) unless --event-bus lets it settle and publish the answer first', async () => {
    const tables = await freshTables(dynamo);
    await seed(tables);
    const { responses, aggregates } = adapters(tables);
    // An answer whose request stopped after writing it: not counted, no event yet.
    const unsettled = {
      surveyId: 'tp-4',
      kind: 'nps' as const,
      campaignId: CAMPAIGN,
      customerId: 'c-4',
      score: 0,
      category: 'detractor' as const,
      firstAnsweredAt: '2026-12-02T15:00:00.000Z',
      answeredAt: '2026-12-02T15:00:00.000Z',
      day: '2026-12-02',
      revision: 0,
      scoreHistory: [0],
    };
    expect(await responses.put(unsettled, undefined)).toBe(true);
    const day1 = await aggregates.get({ campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps' });
    expect(await aggregates.replace({ ...day1!, responses: 3 }, day1!.version)).toBe(true);

    const withoutBus = await outreach(['surveys', 'rebuild', '--campaign', CAMPAIGN], tableEnv(tables));
    expect(withoutBus.code).toBe(EXIT.failed);
    expect(withoutBus.stdout).toBe(
      [
        'repaired   2026-12-01 nps: responses 3 → 2',
        'skipped    2026-12-02 nps: an answer of this day is not settled yet (see below)',
        `${CAMPAIGN}: 2 aggregate(s) from 4 answer(s): 1 repaired (drift), 0 unchanged, 1 skipped; 0 answer(s) settled first`,
        '',
      ].join('\n'),
    );
    expect(withoutBus.stderr).toBe(
      '1 aggregate(s) skipped: 1 answer(s) are not settled yet: the settle-responses schedule settles them within minutes, ' +
        'or pass --event-bus (or EVENT_BUS_NAME) to settle them here; then run the rebuild again\n',
    );
    expect(await aggregates.get({ campaignId: CAMPAIGN, day: '2026-12-02', kind: 'nps' })).toMatchObject({ responses: 1 });
    expect(await responses.get('tp-4')).not.toHaveProperty('aggregatedRevision');

    const bus = await startEventBridge();
    try {
      const withBus = await outreach(['surveys', 'rebuild', '--campaign', CAMPAIGN, '--json'], {
        ...tableEnv(tables),
        EVENT_BUS_NAME: 'outreach',
        AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
      });
      expect(withBus).toMatchObject({ code: EXIT.ok, stderr: '' });
      expect(JSON.parse(withBus.stdout)).toMatchObject({
        responses: 4,
        settled: 1,
        unsettled: 0,
        repaired: 0,
        unchanged: 2,
        skipped: 0,
        aggregates: [
          { day: '2026-12-01', status: 'unchanged' },
          { day: '2026-12-02', status: 'unchanged' }, // counting the settled answer is no drift
        ],
      });
      expect(bus.entries).toHaveLength(1);
      expect(bus.entries[0]).toMatchObject({ EventBusName: 'outreach', DetailType: 'Survey Answered' });
      expect(JSON.parse(String(bus.entries[0]!.Detail))).toMatchObject({ surveyId: 'tp-4', campaignId: CAMPAIGN, score: 0 });
    } finally {
      await bus.close();
    }
    expect(await aggregates.get({ campaignId: CAMPAIGN, day: '2026-12-02', kind: 'nps' })).toMatchObject({
      responses: 2,
      categories: { promoter: 1, detractor: 1 },
    });
    expect(await responses.get('tp-4')).toMatchObject({ aggregatedRevision: 0, publishedRevision: 0 });
  });
});
