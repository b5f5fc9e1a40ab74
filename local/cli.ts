/**
 * `npm run local -- <command>`: a thin client of the running local stack's control API.
 *
 *   npm run local -- advance P3D        move the clock 3 days forward, running whatever falls due
 *   npm run local -- clock              show the clock
 *   npm run local -- summary            emails sent, touchpoints by status, dead letters, failed executions
 *   npm run local -- executions --status FAILED
 *   npm run local -- dead-letters
 *   npm run local -- mailbox
 *   npm run local -- put-event "Purchase Completed" examples/events/purchase-mug.json
 *   eval "$(npm run -s local -- env)"   point the outreach CLI (and the AWS CLI) at the local stack
 *
 * OUTREACH_LOCAL_CONTROL (or --control) names the control API when the stack runs elsewhere than --port-base.
 */
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Command, Option } from 'commander';
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../core/topology.ts';
import { DEFAULT_PORT_BASE, LOCAL_EVENT_BUS_NAME } from './constants.ts';

const program = new Command()
  .name('npm run local --')
  .description('Control the running local stack (start it with `npm start`).')
  .addOption(new Option('--port-base <port>', 'the --port-base the stack was started with').default(DEFAULT_PORT_BASE).argParser(Number))
  .addOption(new Option('--control <url>', 'control API URL (overrides --port-base)').env('OUTREACH_LOCAL_CONTROL'));

const controlUrl = () => {
  const options = program.opts<{ portBase: number; control?: string }>();
  return options.control ?? `http://127.0.0.1:${options.portBase + 1}/_local`;
};

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${controlUrl()}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new Error(`no local stack answers at ${controlUrl()} — start one with \`npm start\` (or pass --port-base)`);
  }
  const payload = (await response.json()) as unknown;
  if (!response.ok) throw new Error((payload as { message?: string }).message ?? `HTTP ${response.status}`);
  return payload;
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

program
  .command('advance')
  .description('advance the clock by an ISO-8601 duration (P3D, PT2H, PT90M), firing schedules on the way')
  .argument('<duration>')
  .action(async (duration: string) => {
    const report = (await call('POST', '/clock/advance', { by: duration })) as {
      from: string;
      to: string;
      stops: unknown[];
      executionsStarted: number;
      executionsFailed: number;
      emailsSent: number;
      deadLetters: number;
    };
    console.log(`clock ${report.from} → ${report.to}`);
    console.log(
      `${report.stops.length} stop(s); ${report.executionsStarted} execution(s) started, ${report.executionsFailed} failed; ` +
        `${report.emailsSent} email(s) sent; ${report.deadLetters} new dead letter(s)`,
    );
  });

program.command('clock').description('show the clock').action(async () => print(await call('GET', '/clock')));
program.command('summary').description('what happened so far').action(async () => print(await call('GET', '/summary')));
program
  .command('executions')
  .description('workflow executions, newest first')
  .option('--status <status>', 'RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED')
  .action(async (options: { status?: string }) => print(await call('GET', `/executions${options.status ? `?status=${options.status}` : ''}`)));
program.command('dead-letters').description('events no handler could process').action(async () => print(await call('GET', '/dead-letters')));
program.command('mailbox').description('every email sent').action(async () => print(await call('GET', '/mailbox')));
program
  .command('env')
  .description('print `export` lines that point the outreach CLI and AWS SDKs at this stack: eval "$(npm run -s local -- env)"')
  .action(async () => {
    const env = (await call('GET', '/env')) as Record<string, string>;
    for (const [key, value] of Object.entries(env)) console.log(`export ${key}='${value.replace(/'/g, "'\\''")}'`);
  });
program
  .command('put-event')
  .description('publish one event to the local bus as your commerce system would; "$NOW" in the file becomes the stack\'s clock time')
  .argument('<detailType>', 'e.g. "Purchase Completed", "Order Cancelled"')
  .argument('<file>', 'JSON file with the event detail (- for stdin)')
  .option('--source <source>', 'the event source', DEFAULT_COMMERCE_EVENT_SOURCE)
  .action(async (detailType: string, file: string, options: { source: string }) => {
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as Error).message}`);
    }
    const { now } = (await call('GET', '/clock')) as { now: string };
    const detail = text.replaceAll('$NOW', now);
    try {
      JSON.parse(detail);
    } catch (error) {
      throw new Error(`${file} is not JSON: ${(error as Error).message}`);
    }
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const events = new EventBridgeClient({
      endpoint: controlUrl().replace(/\/_local\/?$/, ''),
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const result = await events.send(
      new PutEventsCommand({ Entries: [{ EventBusName: LOCAL_EVENT_BUS_NAME, Source: options.source, DetailType: detailType, Detail: detail }] }),
    );
    const entry = result.Entries?.[0];
    if (!entry?.EventId) throw new Error(`the bus rejected the event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    console.log(`event ${entry.EventId} (${detailType}) put at ${now}; an invalid detail shows up in \`npm run local -- dead-letters\``);
  });
program.command('events').description('every event the bus accepted, newest first').action(async () => print(await call('GET', '/events')));

program.parseAsync().catch((error: unknown) => {
  console.error(`error: ${(error as Error).message}`);
  process.exitCode = 1;
});
