/** The CLI's "now": this machine's clock, or the one at OUTREACH_CLOCK_URL (the local stack's), with clear errors. */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTime } from '../../../cli/clock.ts';

let server: Server;
let base: string;
const answers: Record<string, { status: number; body: string }> = {
  '/clock': { status: 200, body: JSON.stringify({ now: '2031-03-05T10:00:00.000Z', mode: 'manual', speed: 0 }) },
  '/offset': { status: 200, body: JSON.stringify({ now: '2031-03-05T12:00:00+02:00' }) },
  '/no-now': { status: 200, body: JSON.stringify({ time: 'soon' }) },
  '/broken': { status: 500, body: 'oops' },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = answers[req.url ?? ''] ?? { status: 404, body: '' };
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('currentTime', () => {
  it("is this machine's clock without OUTREACH_CLOCK_URL", async () => {
    const before = Date.now();
    const now = Date.parse(await currentTime({}));
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it("is the stack's clock with it, as UTC", async () => {
    expect(await currentTime({ OUTREACH_CLOCK_URL: `${base}/clock` })).toBe('2031-03-05T10:00:00.000Z');
    expect(await currentTime({ OUTREACH_CLOCK_URL: `${base}/offset` })).toBe('2031-03-05T10:00:00.000Z');
  });

  it('names the variable when the clock does not answer, or answers without a time', async () => {
    await expect(currentTime({ OUTREACH_CLOCK_URL: `${base}/broken` })).rejects.toThrow(`OUTREACH_CLOCK_URL=${base}/broken did not answer (HTTP 500)`);
    await expect(currentTime({ OUTREACH_CLOCK_URL: `${base}/no-now` })).rejects.toThrow(/answered without an ISO-8601 "now"/);
    await expect(currentTime({ OUTREACH_CLOCK_URL: 'http://127.0.0.1:1/clock' })).rejects.toThrow(/unset it to use this machine's clock/);
  });
});
