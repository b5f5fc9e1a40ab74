/**
 * The README's marketer walkthrough, run as written: its YAML block becomes campaigns/mug-care.yaml in a scratch
 * project, and each of its `npm run …` commands runs as a subprocess (node + tsx, what `npm run` starts) against an
 * embedded stack in this process. The test fails when the README and the product drift apart.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eStack, type E2eStack } from './support.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = import.meta.resolve('tsx');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SCRIPTS: Record<string, string> = { outreach: join(ROOT, 'cli/outreach.ts'), local: join(ROOT, 'local/cli.ts') };

/** The walkthrough section of the README. */
const walkthrough = (() => {
  const start = README.indexOf('### Walkthrough');
  const end = README.indexOf('\n### ', start + 1);
  if (start < 0 || end < 0) throw new Error('README.md has no "### Walkthrough" section');
  return README.slice(start, end);
})();

/** The fenced blocks of one language in the walkthrough, de-indented (they sit inside a numbered list). */
function blocks(language: string): string[] {
  return [...walkthrough.matchAll(new RegExp(`^( *)\`\`\`${language}\\n([^]*?)^\\1\`\`\``, 'gm'))].map(([, indent = '', body = '']) =>
    body
      .split('\n')
      .map((line) => line.slice(indent.length))
      .join('\n'),
  );
}

/** `npm run outreach -- campaigns preview mug-care --send you@example.com` → the script and its arguments. */
function parseCommand(line: string): { script: string; args: string[] } {
  const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map(([, quoted, bare]) => quoted ?? bare ?? '');
  const match = /^npm run (?:-s )?(\w+) --$/.exec(words.slice(0, words.indexOf('--') + 1).join(' '));
  if (!match?.[1] || !SCRIPTS[match[1]]) throw new Error(`not an npm run command of this project: ${line}`);
  return { script: SCRIPTS[match[1]]!, args: words.slice(words.indexOf('--') + 1) };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let e2e: E2eStack;
let project: string;
let env: Record<string, string>;

function run(line: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  const { script, args } = parseCommand(line);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.endsWith('_TABLE'))) as Record<string, string>;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', TSX, script, ...args],
      { cwd: project, env: { ...base, NODE_NO_WARNINGS: '1', ...env, ...extraEnv }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: unknown }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** Runs a command the README shows, after checking that the README shows it. */
async function step(line: string): Promise<Run> {
  expect(walkthrough, `the README walkthrough shows \`${line}\``).toContain(line);
  const result = await run(line);
  expect(result.stderr, `${line}\n${result.stdout}`).not.toMatch(/^error:/m);
  expect(result.code, `${line}: ${result.stderr}`).toBe(0);
  return result;
}

beforeAll(async () => {
  // A Wednesday, 11:00 in Berlin: two days later is Friday 11:00, inside the walkthrough's 09:00–12:00 window.
  e2e = await startE2eStack({ startAt: '2031-03-05T10:00:00.000Z' });
  project = mkdtempSync(join(tmpdir(), 'outreach-walkthrough-'));
  mkdirSync(join(project, 'campaigns'));
  copyFileSync(join(ROOT, 'campaigns/check-in.yaml'), join(project, 'campaigns/check-in.yaml'));
  cpSync(join(ROOT, 'examples'), join(project, 'examples'), { recursive: true });
  env = { OUTREACH_LOCAL_CONTROL: e2e.stack.endpoints.control };
});
afterAll(async () => {
  await e2e?.stop();
});

describe('the README walkthrough', () => {
  it('shows the example campaign file as it is in examples/', () => {
    const [yaml] = blocks('yaml');
    const example = readFileSync(join(ROOT, 'examples/mug-care.yaml'), 'utf8');
    expect(yaml).toBe(example.split('\n').filter((line) => !line.startsWith('#')).join('\n'));
  });

  it('write → validate (with the mistake it shows) → preview → diff → apply → purchase → advance → the email is in the mailbox', async () => {
    const [yaml = ''] = blocks('yaml');
    const file = join(project, 'campaigns/mug-care.yaml');

    // 2. The mistake the README shows, then the file as written.
    writeFileSync(file, yaml.replace('delay: P2D', 'delay: 2 days'));
    const [expectedProblem] = blocks('text');
    const bad = await run('npm run outreach -- campaigns validate');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe(expectedProblem);
    writeFileSync(file, yaml);
    const validate = await step('npm run outreach -- campaigns validate');
    expect(validate.stdout).toContain('mug-care: check-in, enabled; Purchase Completed + P2D; SKUs MUG-*; window mon tue wed thu fri 09:00–12:00');

    // 3. `eval "$(npm run -s local -- env)"`: the exports it prints become the environment of the next commands.
    expect(walkthrough).toContain('eval "$(npm run -s local -- env)"');
    const exported = await step('npm run -s local -- env');
    const variables = Object.fromEntries([...exported.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map(([, key = '', value = '']) => [key, value]));
    expect(variables).toMatchObject({ CAMPAIGNS_TABLE: e2e.stack.tables.campaigns, AWS_ENDPOINT_URL_DYNAMODB: e2e.stack.endpoints.dynamodb });
    env = { ...env, ...variables };

    await step('npm run outreach -- campaigns preview mug-care --send you@example.com');
    expect(readFileSync(join(project, 'mug-care.preview.html'), 'utf8')).toContain('Rinse it before the first use');
    const previews = (await e2e.stack.mailbox()).filter((m) => m.subject.startsWith('[Preview]'));
    expect(previews.map((m) => [m.to, m.subject])).toEqual([[['you@example.com'], '[Preview] Sam, three tips for your new Mug']]);

    // 4.
    const diff = await step('npm run outreach -- campaigns diff');
    expect(diff.stdout).toMatch(/^added +mug-care$/m);
    const apply = await step('npm run outreach -- campaigns apply --actor you');
    expect(apply.stdout).toMatch(/^added +mug-care → v000001$/m);

    // 5.
    await step('npm run local -- put-event "Purchase Completed" examples/events/purchase-mug.json');
    await e2e.stack.settle();
    // The README's forecast starts at the real now, which is where `npm start`'s clock runs; this stack runs in 2031.
    expect(walkthrough).toContain('npm run outreach -- campaigns forecast --days 7');
    const forecast = await run(`npm run outreach -- campaigns forecast --days 7 --at ${e2e.stack.clock.nowIso()}`);
    expect(forecast.code, forecast.stderr).toBe(0);
    expect(forecast.stdout).toMatch(/^mug-care +1 /m);
    await step('npm run local -- advance P3D');
    const mailbox = JSON.parse((await step('npm run local -- mailbox')).stdout) as Array<{ to: string[]; subject: string; sentAt: string }>;
    const tips = mailbox.filter((m) => m.subject === 'Sam, three tips for your new Blue mug');
    expect(tips).toHaveLength(1);
    expect(tips[0]!.to).toEqual(['you@example.com']);
    // Friday 2031-03-07 11:00 in Berlin: purchase time + P2D, inside the window.
    expect(tips[0]!.sentAt.slice(0, 16)).toBe('2031-03-07T10:00');
    expect(existsSync(join(project, 'mug-care.preview.html'))).toBe(true);
  });
});
