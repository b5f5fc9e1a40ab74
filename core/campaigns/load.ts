/**
 * Reads campaign rule files and reports every problem with file, line and field path, e.g.
 * `campaigns/check-in.yaml:12 delay: "3 days" is not an ISO-8601 duration (try P3D)`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { knownFieldsAt } from './json-schema.ts';
import { campaignSchema, type Campaign } from './schema.ts';
import { InvalidCampaignError } from '../errors.ts';
import { closestName, pathText } from '../rule-file-messages.ts';

function lineOf(doc: Document, counter: LineCounter, path: ReadonlyArray<PropertyKey>): number {
  // Walk up the path until a node exists (a missing key is reported at its parent).
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return 1;
}

/** `is not a known field (did you mean minimumTotal?)`, or the fields allowed there. */
function unknownFieldMessage(parent: ReadonlyArray<PropertyKey>, key: string): string {
  const known = knownFieldsAt(parent);
  const close = closestName(key, known, { prefixes: true });
  if (close) return `is not a known field (did you mean ${close}?)`;
  return known.length > 0 ? `is not a known field (expected one of: ${known.join(', ')})` : 'is not a known field';
}

/** Parses and validates one campaign file's text. `displayName` is used in messages. */
export function parseCampaignText(text: string, displayName: string): { campaign?: Campaign; problems: string[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map(
        (e) => `${displayName}:${e.linePos?.[0]?.line ?? 1} ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
      ),
    };
  }
  const parsed = campaignSchema.safeParse(doc.toJS());
  if (parsed.success) return { campaign: parsed.data, problems: [] };
  const located = parsed.error.issues.flatMap((issue) => {
    const entries: Array<{ path: ReadonlyArray<PropertyKey>; message: string }> =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: [...issue.path, key], message: unknownFieldMessage(issue.path, key) }))
        : [
            {
              path: issue.path,
              message:
                issue.code === 'invalid_type' && issue.message.endsWith('received undefined') ? `is missing (expected ${issue.expected})` : issue.message,
            },
          ];
    return entries.map(({ path, message }) => {
      const line = lineOf(doc, counter, path);
      return { line, text: `${displayName}:${line} ${pathText(path)}: ${message}` };
    });
  });
  // In file order, as a reader fixes them.
  return { problems: located.sort((a, b) => a.line - b.line).map((p) => p.text) };
}

/** Loads every `*.yaml`, `*.yml` and `*.json` file (except `*.schema.json`) in `dir`; throws one error listing all problems of all files. */
export function loadCampaignDirectory(dir: string, cwd = process.cwd()): Campaign[] {
  const files = readdirSync(dir)
    // `*.schema.json` is the editors' JSON Schema for these files (campaign.schema.json), not a campaign.
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
    .sort();
  const campaigns: Campaign[] = [];
  const problems: string[] = [];
  const origin = new Map<string, string>();
  for (const file of files) {
    const path = join(dir, file);
    const displayName = relative(cwd, path) || path;
    const result = parseCampaignText(readFileSync(path, 'utf8'), displayName);
    problems.push(...result.problems);
    if (!result.campaign) continue;
    const earlier = origin.get(result.campaign.id);
    if (earlier) problems.push(`${displayName}:1 id: "${result.campaign.id}" is already defined in ${earlier}`);
    origin.set(result.campaign.id, displayName);
    campaigns.push(result.campaign);
  }
  if (problems.length > 0) throw new InvalidCampaignError(problems);
  return campaigns;
}
