/**
 * The SES v2 endpoint of the local stack: an HTTP server in front of aws-ses-v2-local that makes it behave like SES
 * where a rate-limited, fault-tolerant send path can tell the difference. Everything else is forwarded unchanged
 * (the mailbox page `GET /`, `GET /store`, `POST /clear-store`, templates, …).
 *
 * - `GET /v2/email/account` (GetAccount) is answered here: the send quota (`MaxSendRate`, `Max24HourSend`,
 *   `SentLast24Hours` = sends accepted in the last 24 h of the local clock), sending enabled, production access.
 * - `POST /v2/email/outbound-emails` (SendEmail) is rate limited in real time by a token bucket: it holds
 *   `maxSendRate` tokens, starts full and refills continuously at `maxSendRate` tokens per second; each message takes
 *   one (SES counts recipients; here one per message). Without a token the answer is SES's: HTTP 429,
 *   `x-amzn-ErrorType: TooManyRequestsException`, `{"message":"Maximum sending rate exceeded."}`, nothing forwarded.
 * - Every SendEmail the backend accepted produces the events SES's EventBridge destination would publish
 *   (local/ses-feedback.ts) through `onEvents`, stamped with `now()` (the local clock), before the answer is written —
 *   so work they start is in flight before the sender sees its answer.
 * - Faults, as fractions of SendEmail calls, drawn from a seeded PRNG (three draws per call, so a seed gives the
 *   same sequence whatever happens): `resetBeforeForward` resets the connection without forwarding; `throttle`
 *   answers 429 without forwarding; `dropAfterAccept` forwards (the email is stored, counted and its events
 *   published) and then resets the connection instead of answering. `reject` (400 MessageRejected without forwarding)
 *   and `dropSendEvents` (accepted, but none of its sending events published) draw from a second stream of the same
 *   seed, two draws per call, so adding them left the calls the first three pick unchanged. The fractions are read at
 *   every call: a test may change them on the object it passed while the front runs (one local stack per process).
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { readBody } from './http.ts';
import { sendingEvents, type SendEmailInput } from './ses-feedback.ts';

/** A new production SES account: 14 emails per second, 50,000 per 24 hours. */
export const DEFAULT_MAX_SEND_RATE = 14;
export const DEFAULT_MAX_24_HOUR_SEND = 50_000;

export interface SesFaults {
  /** Fraction of SendEmail calls answered 429 TooManyRequestsException without forwarding. */
  throttle?: number;
  /** Fraction of SendEmail calls whose connection is reset before anything is forwarded (ECONNRESET / socket hang up). */
  resetBeforeForward?: number;
  /** Fraction of SendEmail calls forwarded and accepted (stored, events published) whose answer is lost: the connection is reset instead. */
  dropAfterAccept?: number;
  /** Fraction of SendEmail calls answered 400 MessageRejected without forwarding: SES refused this message for good. */
  reject?: number;
  /** Fraction of accepted SendEmail calls whose sending events (Send, Delivery, …) are never published: SES's event publishing is best effort. */
  dropSendEvents?: number;
  /** Seed of the PRNG that picks the calls (default 1). */
  seed?: number;
}

export interface SesAcceptedSend {
  messageId: string;
  /** On the `now()` clock. */
  at: Date;
  input: SendEmailInput;
  /** The answer is lost (dropAfterAccept). */
  dropped: boolean;
  /** Its sending events are never published (dropSendEvents). */
  eventsDropped: boolean;
}

export interface SesFrontOptions {
  /** aws-ses-v2-local, e.g. http://127.0.0.1:40123. */
  backend: string;
  /** Emails per second (a positive number, default 14). */
  maxSendRate?: number;
  /** Reported by GetAccount (default 50,000); not enforced. */
  max24HourSend?: number;
  faults?: SesFaults;
  /** The clock events and SentLast24Hours use (the local, possibly accelerated, clock; default the real time). */
  now?: () => Date;
  /** Real-time milliseconds for the rate limit (default performance.now); tests may pass a hand-moved clock. */
  rateClockMs?: () => number;
  /** Called for every SendEmail the backend accepted, before its events. */
  onAccepted?: (send: SesAcceptedSend) => void;
  /** The events SES would publish for an accepted SendEmail (none without a configuration set), at most 10 per call. */
  onEvents?: (entries: PutEventsRequestEntry[]) => void;
}

export interface SesFrontStats {
  /** SendEmail requests received. */
  sendRequests: number;
  /** SendEmail calls the backend accepted (stored), including the dropped ones. */
  accepted: number;
  /** 429 answers: rate limit and injected throttles. */
  throttled: number;
  /** Of `throttled`, the injected ones. */
  injectedThrottles: number;
  /** Connections reset before forwarding. */
  reset: number;
  /** Accepted, answer lost. */
  dropped: number;
  /** SendEmail calls refused: by the backend (validation errors) or by an injected rejection. */
  rejected: number;
  /** Of `rejected`, the injected ones (400 MessageRejected). */
  injectedRejects: number;
  /** Accepted sends whose sending events were not published. */
  eventsDropped: number;
}

export interface SesFront {
  server: Server;
  stats(): SesFrontStats;
  /** What GetAccount answers now. */
  account(): Record<string, unknown>;
  /** Stops forwarding keep-alive connections to the backend. */
  destroy(): void;
}

const SEND_EMAIL_PATH = '/v2/email/outbound-emails';
const ACCOUNT_PATH = '/v2/email/account';
const DAY_MS = 24 * 60 * 60 * 1000;
const EVENTS_PER_PUT = 10;

/** A token bucket of `rate` tokens (at least 1) refilling continuously at `rate` per second. */
export class TokenBucket {
  private readonly capacity: number;
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly nowMs: () => number,
  ) {
    this.capacity = Math.max(1, rate);
    this.tokens = this.capacity;
    this.last = nowMs();
  }

  take(): boolean {
    const now = this.nowMs();
    this.tokens = Math.min(this.capacity, this.tokens + (Math.max(0, now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** mulberry32: a small, fast, seeded PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function checkFraction(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`SES fault ${name} must be a fraction between 0 and 1, got ${value}`);
  return value;
}

export function createSesFront(options: SesFrontOptions): SesFront {
  const maxSendRate = options.maxSendRate ?? DEFAULT_MAX_SEND_RATE;
  if (!Number.isFinite(maxSendRate) || maxSendRate <= 0) throw new RangeError(`SES maxSendRate must be a positive number of emails per second, got ${maxSendRate}`);
  const max24HourSend = options.max24HourSend ?? DEFAULT_MAX_24_HOUR_SEND;
  const currentFaults = () => ({
    throttle: checkFraction('throttle', options.faults?.throttle),
    resetBeforeForward: checkFraction('resetBeforeForward', options.faults?.resetBeforeForward),
    dropAfterAccept: checkFraction('dropAfterAccept', options.faults?.dropAfterAccept),
    reject: checkFraction('reject', options.faults?.reject),
    dropSendEvents: checkFraction('dropSendEvents', options.faults?.dropSendEvents),
  });
  currentFaults();
  const seed = options.faults?.seed ?? 1;
  const random = seededRandom(seed);
  /** The second stream, for the faults added after the first three. */
  const laterRandom = seededRandom((seed ^ 0x5bd1e995) >>> 0);
  const now = options.now ?? (() => new Date());
  const bucket = new TokenBucket(maxSendRate, options.rateClockMs ?? (() => performance.now()));
  const backend = new URL(options.backend);
  const agent = new Agent({ keepAlive: true });
  const stats: SesFrontStats = { sendRequests: 0, accepted: 0, throttled: 0, injectedThrottles: 0, reset: 0, dropped: 0, rejected: 0, injectedRejects: 0, eventsDropped: 0 };
  /** Local-clock times of accepted sends, oldest first (SentLast24Hours). */
  const sentTimes: number[] = [];

  const sentLast24Hours = (): number => {
    const since = now().getTime() - DAY_MS;
    let drop = 0;
    while (drop < sentTimes.length && sentTimes[drop]! <= since) drop++;
    if (drop > 0) sentTimes.splice(0, drop);
    return sentTimes.length;
  };

  const account = () => ({
    DedicatedIpAutoWarmupEnabled: false,
    EnforcementStatus: 'HEALTHY',
    ProductionAccessEnabled: true,
    SendQuota: { Max24HourSend: max24HourSend, MaxSendRate: maxSendRate, SentLast24Hours: sentLast24Hours() },
    SendingEnabled: true,
    SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
  });

  const forward = (req: IncomingMessage, body: Buffer | undefined): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: backend.host };
      if (body) headers['content-length'] = String(body.length);
      const upstream = httpRequest({ host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers, agent }, (response) => {
        readBody(response, Number.POSITIVE_INFINITY).then((buffer) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: buffer }), reject);
      });
      upstream.on('error', reject);
      upstream.end(body);
    });

  const reply = (res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer) => {
    res.writeHead(status, { 'x-amzn-RequestId': randomUUID(), ...headers });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    reply(res, status, { 'content-type': 'application/json', ...headers }, JSON.stringify(body));
  const tooManyRequests = (res: ServerResponse) =>
    json(res, 429, { message: 'Maximum sending rate exceeded.' }, { 'x-amzn-ErrorType': 'TooManyRequestsException' });
  /** Resets the connection (RST where the platform can), so the client sees ECONNRESET. */
  const resetConnection = (req: IncomingMessage) => {
    const socket = req.socket as typeof req.socket & { resetAndDestroy?: () => void };
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  };

  const publish = (messageId: string, input: SendEmailInput, dropped: boolean, eventsDropped: boolean) => {
    const at = now();
    sentTimes.push(at.getTime());
    options.onAccepted?.({ messageId, at, input, dropped, eventsDropped });
    if (eventsDropped) return;
    const entries = sendingEvents(input, messageId, at);
    for (let i = 0; i < entries.length; i += EVENTS_PER_PUT) options.onEvents?.(entries.slice(i, i + EVENTS_PER_PUT));
  };

  const sendEmail = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req, 40 * 1024 * 1024);
    stats.sendRequests++;
    // Three draws per call (and two from the second stream), whatever happens, so a seed always picks the same calls.
    const [resetDraw, throttleDraw, dropDraw] = [random(), random(), random()];
    const [rejectDraw, eventsDraw] = [laterRandom(), laterRandom()];
    const faults = currentFaults();
    if (resetDraw < faults.resetBeforeForward) {
      stats.reset++;
      resetConnection(req);
      return;
    }
    if (throttleDraw < faults.throttle) {
      stats.throttled++;
      stats.injectedThrottles++;
      tooManyRequests(res);
      return;
    }
    if (rejectDraw < faults.reject) {
      stats.rejected++;
      stats.injectedRejects++;
      json(res, 400, { message: 'Email address is not verified (injected fault).' }, { 'x-amzn-ErrorType': 'MessageRejected' });
      return;
    }
    if (!bucket.take()) {
      stats.throttled++;
      tooManyRequests(res);
      return;
    }
    const answer = await forward(req, body);
    const messageId = answer.status === 200 ? parseMessageId(answer.body) : undefined;
    if (!messageId) {
      stats.rejected++;
      reply(res, answer.status, passHeaders(answer.headers), answer.body);
      return;
    }
    let input: SendEmailInput = {};
    try {
      input = JSON.parse(body.toString('utf8')) as SendEmailInput;
    } catch {
      // The backend accepted it, so it was JSON; keep the events minimal otherwise.
    }
    stats.accepted++;
    const dropped = dropDraw < faults.dropAfterAccept;
    if (dropped) stats.dropped++;
    const eventsDropped = eventsDraw < faults.dropSendEvents;
    if (eventsDropped) stats.eventsDropped++;
    publish(messageId, input, dropped, eventsDropped);
    if (dropped) resetConnection(req);
    else reply(res, answer.status, passHeaders(answer.headers), answer.body);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      if (req.method === 'GET' && path === ACCOUNT_PATH) {
        await readBody(req);
        json(res, 200, account());
      } else if (req.method === 'POST' && path === SEND_EMAIL_PATH) {
        await sendEmail(req, res);
      } else {
        const body = await readBody(req, 40 * 1024 * 1024);
        const answer = await forward(req, body.length > 0 ? body : undefined);
        reply(res, answer.status, passHeaders(answer.headers), answer.body);
      }
    };
    handle().catch((error: unknown) => {
      if (res.headersSent || req.socket.destroyed) return;
      json(res, 500, { message: `local SES front: ${(error as Error).message}` }, { 'x-amzn-ErrorType': 'InternalFailure' });
    });
  });

  return { server, stats: () => ({ ...stats }), account, destroy: () => agent.destroy() };
}

function parseMessageId(body: Buffer): string | undefined {
  try {
    const id = (JSON.parse(body.toString('utf8')) as { MessageId?: unknown }).MessageId;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The backend's headers minus the hop-by-hop ones (the body is re-sent whole). */
function passHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || ['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date'].includes(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
