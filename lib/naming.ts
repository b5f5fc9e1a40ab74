/** `check-eligibility` → `CheckEligibility`: construct ids from the kebab-case names of core/topology.ts. */
export const pascalCase = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
