/**
 * Chromium for the browser tests: Debian's package at /usr/bin/chromium (`npx playwright install` cannot download
 * browsers here; OUTREACH_CHROMIUM points at another binary). Without one, a suite is skipped with a warning — unless
 * CI is set, where a missing browser is a failure (.ci/run installs it before npm test).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = process.env.OUTREACH_CHROMIUM || '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const INSTALL = "Debian's chromium (apt-get install -y --no-install-recommends chromium)";

/** Whether the browser suites run (with `describe.skipIf(!RUN_BROWSER_TESTS)`). */
export const RUN_BROWSER_TESTS = HAVE_CHROMIUM || IN_CI;

if (!RUN_BROWSER_TESTS) {
  console.warn(`test/browser skipped: no Chromium at ${CHROMIUM}. Install ${INSTALL} to run the browser tests; .ci/run installs it before npm test.`);
}

/** The suite's name, saying why it is skipped when it is. */
export const browserSuite = (name: string): string => `${name} in Chromium${RUN_BROWSER_TESTS ? '' : ` (skipped: no Chromium at ${CHROMIUM})`}`;

/** Chromium as root on this closed network: no sandbox, no GPU, and none of its own calls home (they are refused). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!HAVE_CHROMIUM) {
    throw new Error(`No Chromium at ${CHROMIUM}, and CI is set, so the browser tests are not skipped. .ci/run installs ${INSTALL} before npm test: run the tests through it.`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
