/**
 * SES v2, locally: aws-ses-v2-local on 127.0.0.1. Its `GET /` is a mailbox page showing every email sent and
 * `GET /store` lists them as JSON. The store is in memory (and global to the process): emails do not survive a restart.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, LOCAL_HOST } from './http.ts';

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

export async function startSes(options: { port: number }): Promise<{ port: number; endpoint: string; close(): Promise<void> }> {
  const module = (await import('aws-ses-v2-local')) as unknown as { default: StartSes | { default: StartSes } };
  const start = typeof module.default === 'function' ? module.default : module.default.default;
  const server = await start({ host: LOCAL_HOST, port: options.port });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://${LOCAL_HOST}:${port}`;
  // The store lives in the module, so a stack restarted in the same process would see old mail.
  await fetch(`${endpoint}/clear-store`, { method: 'POST' });
  return { port, endpoint, close: () => closeServer(server) };
}

export async function readSesStore(endpoint: string): Promise<StoredEmail[]> {
  const response = await fetch(`${endpoint}/store`);
  if (!response.ok) throw new Error(`SES store answered ${response.status}`);
  const store = (await response.json()) as { emails: StoredEmail[] };
  return store.emails;
}
