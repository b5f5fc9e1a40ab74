import { fileURLToPath } from 'node:url';

/**
 * The project root, found from this module rather than the working directory, so the constructs find their
 * handlers and workflows when used from another CDK app or run from another folder.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_FUNCTIONS_DIR = fileURLToPath(new URL('../functions', import.meta.url));
export const DEFAULT_WORKFLOWS_DIR = fileURLToPath(new URL('../workflows', import.meta.url));
/** The metric targets (core/metrics/targets.ts), validated at synth and passed to the metrics API. */
export const DEFAULT_TARGETS_FILE = fileURLToPath(new URL('../metrics/targets.yaml', import.meta.url));
