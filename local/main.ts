/**
 * `npm start`: the whole system on 127.0.0.1 — see docs/local-stack.md.
 *
 * By default the sample scenario runs first on a virtual clock started in the past (now minus the scenario's span),
 * jumping from one due touchpoint to the next, so the mailbox holds the sample emails a few seconds after start and the
 * clock then runs on in real time from about now.
 */
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_COMMERCE_EVENT_SOURCE } from '../core/topology.ts';
import { DEFAULT_PORT_BASE, LOCAL_EVENT_BUS_NAME } from './constants.ts';
import { runSampleScenario, sampleScenarioTiming, scenarioSpanMs, type ScenarioOutcome } from './scenario.ts';
import { PROJECT_ROOT, startLocalStack, type LocalStack, type StackSummary } from './stack.ts';

class UsageError extends Error {}

interface MainOptions {
  portBase: number;
  speed?: number;
  dataDir?: string;
  scenario: boolean;
  seed: boolean;
  startAt?: string;
  sesMaxSendRate?: number;
}

const program = new Command()
  .name('npm start --')
  .description('Run the outreach system locally: DynamoDB, SES, EventBridge, Step Functions, Scheduler and the HTTP API on 127.0.0.1.')
  .addOption(new Option('--port-base <port>', 'first port: web +0, AWS gateway +1, DynamoDB +2, SES +3').default(DEFAULT_PORT_BASE).argParser(parsePort))
  .addOption(new Option('--speed <n>', 'clock speed: 1 real time, N accelerated, 0 manual (moves only with `npm run local -- advance`)').argParser(parseSpeed))
  .option('--data-dir <dir>', 'keep DynamoDB data and the link-signing secret on disk (default: in memory)')
  .option('--start-at <iso>', 'virtual time to start at (default: now, or now minus the sample scenario when seeding)')
  .option('--scenario', 'run the sample scenario to the end, print a summary and exit (0 when everything went as expected)', false)
  .option('--no-seed', 'start empty: no sample customers and orders')
  .addOption(
    new Option('--ses-max-send-rate <n>', 'the local SES account\'s maximum send rate, emails per second in real time (default 14, as a new AWS account)').argParser(
      parseSendRate,
    ),
  );

async function main(): Promise<void> {
  const options = program.parse().opts<MainOptions>();
  const seeding = options.scenario || options.seed;
  // The sample scenario plans by the campaigns' delays, quiet hours and send windows (and fails early on invalid rules).
  const timing = seeding ? sampleScenarioTiming(join(PROJECT_ROOT, 'campaigns')) : undefined;
  const startAt =
    options.startAt ?? (timing && !options.scenario ? new Date(Date.now() - scenarioSpanMs(timing) - 60_000).toISOString() : undefined);
  const stack = await startLocalStack({
    portBase: options.portBase,
    speed: options.speed ?? (options.scenario ? 0 : 1),
    ...(startAt ? { startAt } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.sesMaxSendRate === undefined ? {} : { ses: { maxSendRate: options.sesMaxSendRate } }),
  });
  printEndpoints(stack);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  let outcome: ScenarioOutcome | undefined;
  if (timing && options.dataDir && (await hasCustomers(stack))) {
    if (options.scenario) throw new UsageError(`--scenario needs an empty store, and ${options.dataDir} already holds data`);
    console.log('\n--data-dir already holds data: not seeding the sample scenario again.');
  } else if (timing) {
    console.log('\nRunning the sample scenario on the virtual clock…');
    const started = Date.now();
    outcome = await runSampleScenario(stack, timing, { log: (line) => console.log(`  ${line}`) });
    console.log(`Sample scenario done in ${((Date.now() - started) / 1000).toFixed(1)} s of real time (virtual ${outcome.startedAt} → ${outcome.endedAt}).`);
  }
  // A clock started in the past catches up with the real time (running whatever falls due), then runs on.
  const behind = Date.now() - stack.clock.nowMs();
  if (!options.scenario && !options.startAt && stack.clock.speed > 0 && behind > 0) await stack.advance(behind);

  printSummary(await stack.summary());
  if (options.scenario) {
    const ok = outcome?.ok === true;
    console.log(ok ? '\nScenario passed.' : '\nScenario FAILED: see the ✗ lines above.');
    await stack.stop();
    process.exit(ok ? 0 : 1);
  }
  console.log(`\nReady. Mailbox: ${stack.endpoints.mailbox}   Index: ${stack.endpoints.web}/   Ctrl-C to stop.`);
  console.log(`Dashboard: ${stack.dashboardUrl}`);
  console.log(
    `Clock: ${stack.clock.mode}${stack.clock.mode === 'accelerated' ? ` ×${stack.clock.speed}` : ''}, now ${stack.clock.nowIso()}. Jump ahead with: npm run local -- advance P3D`,
  );
}

async function hasCustomers(stack: LocalStack): Promise<boolean> {
  const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
  const page = await stack.clients.dynamodb.send(new ScanCommand({ TableName: stack.tables.customers, Limit: 1 }));
  return (page.Count ?? 0) > 0;
}

function printEndpoints(stack: LocalStack): void {
  const e = stack.endpoints;
  const rows: Array<[string, string]> = [
    ['Web (PUBLIC_BASE_URL, API Gateway routes, index)', `${e.web}/`],
    ['SES v2 API', e.ses],
    ['  mailbox: every email sent', e.mailbox],
    ['DynamoDB API (dynalite)', e.dynamodb],
    ['EventBridge / Step Functions / Secrets Manager', e.gateway],
    ['Control API', `${e.control}/`],
    ['Metrics dashboard (the token is in the link)', stack.dashboardUrl],
  ];
  console.log(`\nOutreach local stack (clock: ${stack.clock.mode}, ${stack.clock.nowIso()})`);
  for (const [label, url] of rows) console.log(`  ${label.padEnd(50)} ${url}`);
  console.log(`  Tables: ${Object.values(stack.tables).join(', ')}`);
  console.log('\nSend an event with the AWS CLI:');
  console.log(
    `  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws events put-events --region us-east-1 --endpoint-url ${e.gateway} \\\n` +
      `    --entries '[{"EventBusName":"${LOCAL_EVENT_BUS_NAME}","Source":"${DEFAULT_COMMERCE_EVENT_SOURCE}","DetailType":"Purchase Completed","Detail":"{\\"orderId\\":\\"ord-42\\",\\"customerId\\":\\"cust-42\\",\\"email\\":\\"you@example.com\\",\\"name\\":\\"You\\",\\"timeZone\\":\\"Europe/Berlin\\",\\"locale\\":\\"en\\",\\"marketingConsent\\":true,\\"items\\":[{\\"sku\\":\\"MUG-1\\",\\"name\\":\\"Mug\\",\\"quantity\\":1,\\"unitPrice\\":12}],\\"total\\":12,\\"currency\\":\\"EUR\\",\\"purchasedAt\\":\\"${new Date().toISOString()}\\"}"}]'`,
  );
}

function printSummary(summary: StackSummary): void {
  console.log(`\nSummary at ${summary.clock}:`);
  console.log(`  emails sent:          ${summary.emailsSent}`);
  console.log(`  touchpoints:          ${formatCounts(summary.touchpointsByStatus)}`);
  console.log(`  executions:           ${formatCounts(summary.executionsByStatus)}`);
  console.log(`  failed executions:    ${summary.failedExecutions.length}`);
  for (const f of summary.failedExecutions) console.log(`    ${f.name}: ${f.error}${f.cause ? ` — ${f.cause.slice(0, 200)}` : ''}`);
  console.log(`  dead letters:         ${summary.deadLetters.length}`);
  for (const d of summary.deadLetters) console.log(`    ${d.functionName}: ${d.errorName}: ${d.errorMessage}`);
}

const formatCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_532) throw new InvalidArgumentError('expected a port number (0 = ephemeral ports).');
  return port;
}

function parseSpeed(value: string): number {
  const speed = Number(value);
  if (!Number.isFinite(speed) || speed < 0) throw new InvalidArgumentError('expected a number >= 0.');
  return speed;
}

function parseSendRate(value: string): number {
  const rate = Number(value);
  if (!Number.isFinite(rate) || rate <= 0) throw new InvalidArgumentError('expected a number of emails per second > 0.');
  return rate;
}

main().catch((error: unknown) => {
  // Rule and configuration errors are for people, not stack traces.
  const known = error instanceof UsageError || (error instanceof Error && error.name === 'InvalidCampaignError');
  console.error(`\nThe local stack failed: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  process.exit(1);
});
