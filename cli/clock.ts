/**
 * "Now" for the CLI: the system clock, or — when OUTREACH_CLOCK_URL is set — the clock of the system the CLI talks
 * to, read from that URL (GET → JSON `{ "now": "<ISO-8601>" }`). The embedded stack runs on a clock of its own (the
 * sample scenario moves it weeks ahead), and `npm run local -- env` exports OUTREACH_CLOCK_URL pointing at it, so that
 * `outreach metrics` shows the same days as the dashboard and a forecast starts when the stack's clock does. Like the
 * `AWS_ENDPOINT_URL_*` variables, it is configuration, not a branch in the commands.
 */
import { z } from 'zod';

const clockResponse = z.object({ now: z.iso.datetime({ offset: true }) });

export async function currentTime(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = env.OUTREACH_CLOCK_URL?.trim();
  if (!url) return new Date().toISOString();
  let body: unknown;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.json();
  } catch (error) {
    throw new Error(`OUTREACH_CLOCK_URL=${url} did not answer (${error instanceof Error ? error.message : String(error)}); unset it to use this machine's clock`);
  }
  const parsed = clockResponse.safeParse(body);
  if (!parsed.success) throw new Error(`OUTREACH_CLOCK_URL=${url} answered without an ISO-8601 "now"`);
  return new Date(parsed.data.now).toISOString();
}
