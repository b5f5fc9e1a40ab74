/**
 * SES v2, locally: aws-ses-v2-local on an internal port behind the front of local/ses-front.ts on the SES port. The
 * front answers GetAccount, enforces the maximum send rate, publishes SES's sending events for every accepted
 * SendEmail (whoever sent it: a workflow task, a Lambda's SESv2Client, the AWS CLI) and injects faults; everything
 * else goes to aws-ses-v2-local, whose `GET /` is a mailbox page showing every email sent and `GET /store` lists them
 * as JSON. The store is in memory (and global to the process): emails do not survive a restart.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, LOCAL_HOST } from './http.ts';
import { createSesFront, type SesFrontOptions, type SesFrontStats } from './ses-front.ts';

export type { SesAcceptedSend, SesFaults, SesFrontStats } from './ses-front.ts';

type StartSes = (config?: { host?: string; port?: number }) => Promise<Server>;

export interface StoredEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: Array<{ name: string; value: string }>;
  /** Real epoch seconds when aws-ses-v2-local stored it. */
  at: number;
}

export interface SesOptions extends Omit<SesFrontOptions, 'backend'> {
  /** The SES port, where the front listens (0 = ephemeral). */
  port: number;
  /** aws-ses-v2-local's own port (default 0 = ephemeral). */
  backendPort?: number;
}

export interface LocalSes {
  /** The front's port and endpoint: what SDK clients use. */
  port: number;
  endpoint: string;
  /** aws-ses-v2-local itself (no rate limit, no events, no faults). */
  backendEndpoint: string;
  /** What the front did with the SendEmail calls so far. */
  stats(): SesFrontStats;
  close(): Promise<void>;
}

/**
 * aws-ses-v2-local's message ids are `ses-` and a random 9-digit number: among 20,000 sends two share an id about one
 * time in five, and then the mailbox, the send times and SES's events cannot tell the two apart. Its send handlers
 * read `getMessageId` from the util module's exports at every call, so replacing that export gives every message a
 * unique id (still `ses-…`), as SES does.
 */
function uniqueMessageIds(): void {
  // The CommonJS module itself (the one its handlers require), not an ES namespace copy of its exports.
  const util = createRequire(import.meta.url)('aws-ses-v2-local/dist/util.js') as { getMessageId?: () => string };
  if (typeof util.getMessageId !== 'function') throw new Error('aws-ses-v2-local has no util.getMessageId to replace: check the new version');
  util.getMessageId = () => `ses-${randomUUID()}`;
}

export async function startSes(options: SesOptions): Promise<LocalSes> {
  uniqueMessageIds();
  const module = (await import('aws-ses-v2-local')) as unknown as { default: StartSes | { default: StartSes } };
  const start = typeof module.default === 'function' ? module.default : module.default.default;
  const { port: frontPort, backendPort = 0, ...frontOptions } = options;
  const backendServer = await start({ host: LOCAL_HOST, port: backendPort });
  const backendEndpoint = `http://${LOCAL_HOST}:${(backendServer.address() as AddressInfo).port}`;
  const front = createSesFront({ ...frontOptions, backend: backendEndpoint });
  let port: number;
  try {
    port = await listen(front.server, frontPort);
  } catch (error) {
    front.destroy();
    await closeServer(backendServer);
    throw error;
  }
  const endpoint = `http://${LOCAL_HOST}:${port}`;
  // The store lives in the module, so a stack restarted in the same process would see old mail.
  await fetch(`${backendEndpoint}/clear-store`, { method: 'POST' });
  return {
    port,
    endpoint,
    backendEndpoint,
    stats: () => front.stats(),
    close: async () => {
      await closeServer(front.server);
      front.destroy();
      await closeServer(backendServer);
    },
  };
}

export async function readSesStore(endpoint: string): Promise<StoredEmail[]> {
  const response = await fetch(`${endpoint}/store`);
  if (!response.ok) throw new Error(`SES store answered ${response.status}`);
  const store = (await response.json()) as { emails: StoredEmail[] };
  return store.emails;
}
