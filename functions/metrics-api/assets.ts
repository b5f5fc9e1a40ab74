/**
 * The files the dashboard page inlines, read once per container. In Lambda they lie next to the bundle (index.mjs):
 * FUNCTION_WIRING's `bundledFiles` copies them there when CDK bundles the function, since esbuild bundles only
 * modules. Run from source (the local stack, tests) they are read where the repository keeps them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** File name next to the bundle → path from the project root. */
export const DASHBOARD_ASSETS = {
  'chart.umd.min.js': 'node_modules/chart.js/dist/chart.umd.min.js',
  'dashboard.js': 'functions/metrics-api/dashboard.js',
  'dashboard.css': 'functions/metrics-api/dashboard.css',
} as const satisfies Readonly<Record<string, string>>;

export type DashboardAsset = keyof typeof DASHBOARD_ASSETS;

/** The project root as seen from this module when it runs from source (functions/metrics-api/). */
const PROJECT_ROOT = new URL('../../', import.meta.url);

export function readDashboardAsset(name: DashboardAsset): string {
  const beside = new URL(`./${name}`, import.meta.url);
  const path = existsSync(beside) ? beside : new URL(DASHBOARD_ASSETS[name], PROJECT_ROOT);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`dashboard asset ${name} is missing (looked for ${fileURLToPath(beside)} and ${fileURLToPath(path)}): ${(error as Error).message}`);
  }
}
