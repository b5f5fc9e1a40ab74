/**
 * The send lifecycle's conditional writes against a real DynamoDB API (dynalite): the send claim (only one attempt
 * wins), UNCONFIRMED with its deadline in the due index, a re-dispatch that moves to the next generation, SENT from
 * SENDING or UNCONFIRMED, and a cancellation of an UNCONFIRMED one.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { DynamoDbTouchpointRepository } from '../../../adapters/dynamodb-touchpoints.ts';
import { pendingTouchpoint } from '../fakes.ts';
import { freshTable, startTestDynamo, type TestDynamo } from '../dynalite.ts';

const AT = '2026-11-23T10:00:00.000Z';
let dynamo: TestDynamo;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;
let table: string;
let repository: DynamoDbTouchpointRepository;

beforeAll(async () => {
  ({ dynamo, client } = await startTestDynamo());
  db = createDocumentClient(client);
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});
beforeEach(async () => {
  table = await freshTable(client, 'touchpoints', 'send');
  repository = new DynamoDbTouchpointRepository(table, 4, db);
});

const stored = async (id: string) => (await db.send(new GetCommand({ TableName: table, Key: { touchpointId: id } }))).Item;
const transition = (generation = 0) => ({ touchpointId: 'tp-a', generation, at: AT });
const claimSending = (attemptId: string, generation = 0) =>
  repository.claimForSending({ ...transition(generation), attemptId, leaseUntil: '2026-11-23T10:10:00.000Z', sendPlan: { survey: { surveyId: 'tp-a', reminder: false, scale: 'nps' } } });

describe('the send lifecycle in DynamoDB', () => {
  it('lets exactly one attempt claim a dispatched touchpoint for sending, and keeps its send plan', async () => {
    // Prepare
    await repository.create(pendingTouchpoint('tp-a'));
    await repository.claimForDispatch({ ...transition(), from: 'PENDING', leaseUntil: '2026-11-23T10:15:00.000Z' });

    // Act
    const claims = await Promise.all([claimSending('exec-1#a'), claimSending('exec-1#b')]);

    // Assess
    expect(claims.filter(Boolean)).toHaveLength(1);
    const item = await stored('tp-a');
    expect(item).toMatchObject({ status: 'SENDING', dueKey: '2026-11-23T10:10:00.000Z#tp-a', sendPlan: { survey: { surveyId: 'tp-a', scale: 'nps' } } });
    expect(['exec-1#a', 'exec-1#b']).toContain(item?.attemptId);
  });

  it('moves SENDING to UNCONFIRMED with its deadline as the due key, and sends again with the next generation', async () => {
    // Prepare
    await repository.create(pendingTouchpoint('tp-a'));
    await repository.claimForDispatch({ ...transition(), from: 'PENDING', leaseUntil: '2026-11-23T10:15:00.000Z' });
    await claimSending('exec-1#a');

    // Act
    const marked = await repository.markUnconfirmed({ ...transition(), until: '2026-11-23T10:30:00.000Z', reason: 'unconfirmed: ECONNRESET' });
    const due = await repository.listDue(Number((await stored('tp-a'))?.dueShard), '2026-11-23T10:30:00.000Z', 10);
    const resent = await repository.claimForDispatch({ ...transition(), from: 'UNCONFIRMED', leaseUntil: '2026-11-23T10:45:00.000Z', redispatch: 'unconfirmedResends' });
    const oldAttemptSent = await repository.complete({ ...transition(0), status: 'SENT', messageId: 'late' });

    // Assess
    expect(marked).toBe(true);
    expect(due).toEqual([expect.objectContaining({ touchpointId: 'tp-a', status: 'UNCONFIRMED', generation: 0 })]);
    expect(resent).toBe(true);
    expect(oldAttemptSent).toBe(false);
    expect(await stored('tp-a')).toMatchObject({ status: 'DISPATCHED', generation: 1, unconfirmedResends: 1 });
  });

  it('records SENT from SENDING and from UNCONFIRMED, and only for the generation that sent', async () => {
    // Prepare
    await repository.create(pendingTouchpoint('tp-a'));
    await repository.claimForDispatch({ ...transition(), from: 'PENDING', leaseUntil: '2026-11-23T10:15:00.000Z' });
    await claimSending('exec-1#a');
    await repository.markUnconfirmed({ ...transition(), until: '2026-11-23T10:30:00.000Z', reason: 'unconfirmed: ECONNRESET' });

    // Act
    const wrongGeneration = await repository.complete({ ...transition(1), status: 'SENT', messageId: 'm-1' });
    const sent = await repository.complete({ ...transition(0), status: 'SENT', messageId: 'm-1' });

    // Assess
    expect(wrongGeneration).toBe(false);
    expect(sent).toBe(true);
    const item = await stored('tp-a');
    expect(item).toMatchObject({ status: 'SENT', messageId: 'm-1' });
    expect(item?.dueKey).toBeUndefined();
  });

  it('cancels an UNCONFIRMED touchpoint (a refund meanwhile), but never one that is SENDING', async () => {
    // Prepare
    await repository.create(pendingTouchpoint('tp-a'));
    await repository.claimForDispatch({ ...transition(), from: 'PENDING', leaseUntil: '2026-11-23T10:15:00.000Z' });
    await claimSending('exec-1#a');

    // Act
    const whileSending = await repository.cancel('tp-a', 'order refunded', AT);
    await repository.markUnconfirmed({ ...transition(), until: '2026-11-23T10:30:00.000Z', reason: 'unconfirmed: ECONNRESET' });
    const whileUnconfirmed = await repository.cancel('tp-a', 'order refunded', AT);

    // Assess
    expect(whileSending).toBe(false);
    expect(whileUnconfirmed).toBe(true);
    expect((await stored('tp-a'))?.status).toBe('CANCELLED');
  });

  it('defers a send that did not reach SES: SENDING → PENDING, generation + 1, with the deferral count', async () => {
    // Prepare
    await repository.create(pendingTouchpoint('tp-a'));
    await repository.claimForDispatch({ ...transition(), from: 'PENDING', leaseUntil: '2026-11-23T10:15:00.000Z' });
    await claimSending('exec-1#a');

    // Act
    const deferred = await repository.reschedule({ ...transition(), dueAt: '2026-11-23T10:01:00.000Z', reason: 'deferred: TooManyRequestsException', sendDeferrals: 1 });

    // Assess
    expect(deferred).toBe(true);
    expect(await stored('tp-a')).toMatchObject({ status: 'PENDING', generation: 1, sendDeferrals: 1, dueKey: '2026-11-23T10:01:00.000Z#tp-a' });
  });
});
