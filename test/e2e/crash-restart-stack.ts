/**
 * Child process of crash-restart.test.ts: the embedded stack as `npm start -- --no-seed --speed 0 --data-dir <dir>`
 * runs it (local/main.ts), plus a ledger of every SendEmail the local SES accepted, appended synchronously to a file
 * before the stack prints its "✉ SES accepted" line, so it survives a SIGKILL at any point. The SES mailbox does not
 * survive a restart, and the stack's own line names only the message id; the ledger also names the touchpoint and
 * generation the email was tagged with.
 *
 *   node --import tsx test/e2e/crash-restart-stack.ts --data-dir <dir> --start-at <iso> --ledger <file> [--ses-max-send-rate <n>]
 *
 * Prints `Control: <url>` and `DynamoDB: <url>` once it is ready.
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startLocalStack } from '../../local/stack.ts';

/** One accepted send, one JSON line of the ledger. */
export interface LedgerEntry {
  messageId: string;
  touchpointId?: string;
  generation?: string;
  to: string[];
  at: string;
}

const ACCEPTED = '✉ SES accepted';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'start-at': { type: 'string' },
    ledger: { type: 'string' },
    'ses-max-send-rate': { type: 'string' },
  },
});
const dataDir = values['data-dir'];
const ledger = values.ledger;
if (!dataDir || !ledger || !values['start-at']) throw new Error('usage: --data-dir <dir> --start-at <iso> --ledger <file> [--ses-max-send-rate <n>]');

const tag = (tags: Array<{ Name: string; Value: string }> | undefined, name: string) => tags?.find((t) => t.Name === name)?.Value;

const stack = await startLocalStack({
  portBase: 0,
  speed: 0,
  startAt: values['start-at'],
  dataDir,
  // The stack's own accepted line is printed below, after the ledger has the send.
  log: (line) => {
    if (!line.includes(ACCEPTED)) console.log(line);
  },
  ses: {
    ...(values['ses-max-send-rate'] ? { maxSendRate: Number(values['ses-max-send-rate']) } : {}),
    onAccepted: (send) => {
      const entry: LedgerEntry = {
        messageId: send.messageId,
        ...(tag(send.input.EmailTags, 'touchpointId') ? { touchpointId: tag(send.input.EmailTags, 'touchpointId')! } : {}),
        ...(tag(send.input.EmailTags, 'generation') ? { generation: tag(send.input.EmailTags, 'generation')! } : {}),
        to: send.input.Destination?.ToAddresses ?? [],
        at: send.at.toISOString(),
      };
      appendFileSync(ledger, `${JSON.stringify(entry)}\n`);
      console.log(`[${send.at.toISOString().slice(0, 19)}Z] ${ACCEPTED} ${send.messageId}`);
    },
  },
});
console.log(`Control: ${stack.endpoints.control}`);
console.log(`DynamoDB: ${stack.endpoints.dynamodb}`);
