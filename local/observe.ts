/** What the local stack shows about itself: the mailbox with local-clock send times, and a summary of what happened. */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { DeadLetter } from './lambda-runtime.ts';
import { readSesStore, type StoredEmail } from './ses.ts';
import type { ExecutionRecord } from './step-functions.ts';

export interface MailboxEmail extends StoredEmail {
  /** When SES accepted the message, on the local clock (the workflow's SendEmail task time). */
  sentAt: string;
  to: string[];
  header(name: string): string | undefined;
}

export interface StackSummary {
  clock: string;
  emailsSent: number;
  touchpointsByStatus: Record<string, number>;
  executionsByStatus: Record<string, number>;
  failedExecutions: Array<Pick<ExecutionRecord, 'name' | 'error' | 'cause'>>;
  deadLetters: DeadLetter[];
}

/** Every email in the local SES store; `sentAtByMessageId` holds local-clock send times recorded by the workflow runner. */
export async function readMailbox(sesEndpoint: string, sentAtByMessageId: ReadonlyMap<string, string>): Promise<MailboxEmail[]> {
  return (await readSesStore(sesEndpoint)).map((email) => ({
    ...email,
    sentAt: sentAtByMessageId.get(email.messageId) ?? new Date(email.at * 1000).toISOString(),
    to: email.destination.to,
    header: (name: string) => email.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value,
  }));
}

export async function countTouchpointsByStatus(dynamodb: DynamoDBClient, table: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let startKey: ScanCommand['input']['ExclusiveStartKey'];
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: table, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': 'status' }, ExclusiveStartKey: startKey }),
    );
    for (const item of page.Items ?? []) {
      const status = item.status?.S ?? 'UNKNOWN';
      counts[status] = (counts[status] ?? 0) + 1;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return counts;
}

export function summarise(parts: {
  clock: string;
  emailsSent: number;
  touchpointsByStatus: Record<string, number>;
  executions: ExecutionRecord[];
  deadLetters: DeadLetter[];
}): StackSummary {
  const executionsByStatus: Record<string, number> = {};
  for (const e of parts.executions) executionsByStatus[e.status] = (executionsByStatus[e.status] ?? 0) + 1;
  return {
    clock: parts.clock,
    emailsSent: parts.emailsSent,
    touchpointsByStatus: parts.touchpointsByStatus,
    executionsByStatus,
    failedExecutions: parts.executions.filter((e) => e.status !== 'SUCCEEDED' && e.status !== 'RUNNING').map(({ name, error, cause }) => ({ name, error, cause })),
    deadLetters: [...parts.deadLetters],
  };
}
