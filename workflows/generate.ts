/**
 * Writes workflows/<kind>.asl.json for every send workflow from workflows/source (`npm run workflows`), or, with
 * `--check`, exits 1 naming every committed file that differs from what the source generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEND_WORKFLOWS, definitionText, sendWorkflow } from './source/send-touchpoint.ts';

const WORKFLOWS_DIR = dirname(fileURLToPath(import.meta.url));

/** Each generated file's path and its text as the source makes it. */
export const generatedWorkflows = (dir = WORKFLOWS_DIR): Array<{ path: string; text: string }> =>
  SEND_WORKFLOWS.map((variant) => ({ path: join(dir, `${variant.file}.asl.json`), text: definitionText(sendWorkflow(variant)) }));

const readOrEmpty = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** The generated files whose committed text (or absence) differs from what the source makes. */
export const staleWorkflows = (dir = WORKFLOWS_DIR): Array<{ path: string; text: string }> =>
  generatedWorkflows(dir).filter(({ path, text }) => readOrEmpty(path) !== text);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const stale = staleWorkflows();
  const names = stale.map(({ path }) => relative(process.cwd(), path));
  if (process.argv.includes('--check')) {
    for (const name of names) console.error(`${name} differs from workflows/source; run npm run workflows`);
    process.exitCode = stale.length === 0 ? 0 : 1;
  } else {
    for (const { path, text } of stale) writeFileSync(path, text);
    console.log(stale.length === 0 ? 'workflows are up to date' : `wrote ${names.join(', ')}`);
  }
}
