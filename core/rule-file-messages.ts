/**
 * What the rule-file loaders (campaigns, metric targets) share in their messages: the field path as a reader writes
 * it, and the "did you mean" hint for an unknown name.
 */

/** `trigger.skus[1]`, or `(root)`. */
export const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';

/** Levenshtein distance, for spelling hints on short names. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known name `key` was most likely meant as (case-insensitive, within a third of its length, at least 2 edits;
 * with `prefixes`, also a name the key starts), or undefined.
 */
export function closestName(key: string, known: readonly string[], options: { prefixes?: boolean } = {}): string | undefined {
  return known
    .map((name) => ({ name, distance: editDistance(key.toLowerCase(), name.toLowerCase()) }))
    .filter(({ name, distance }) => distance <= Math.max(2, Math.floor(name.length / 3)) || (options.prefixes === true && name.toLowerCase().startsWith(key.toLowerCase())))
    .sort((a, b) => a.distance - b.distance)[0]?.name;
}
