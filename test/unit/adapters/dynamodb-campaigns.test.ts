import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbCampaignCatalog } from '../../../adapters/dynamodb-campaigns.ts';
import { createDocumentClient } from '../../../adapters/dynamodb-client.ts';
import { loadCampaignDirectory } from '../../../core/campaigns/load.ts';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import { expressionProblem, sentRequests } from './support.ts';

const TABLE = 'outreach-campaigns';
const CACHE_MS = 60_000;

const ddb = mockClient(DynamoDBDocumentClient);

const [shipped] = loadCampaignDirectory('campaigns');
if (!shipped) throw new Error('campaigns/ holds no campaign');
const active: Campaign = shipped;
const paused: Campaign = { ...shipped, id: 'winter-check-in', enabled: false };

const stored = (campaign: Campaign) => ({
  campaignId: campaign.id,
  version: 'current',
  definition: JSON.stringify(campaign),
  updatedAt: '2025-06-01T00:00:00.000Z',
});

const currentVersionScan = {
  TableName: TABLE,
  FilterExpression: 'version = :current',
  ExpressionAttributeValues: { ':current': 'current' },
};

/** A catalog on a clock the test moves. */
function catalogAt(startMs: number) {
  const clock = { nowMs: startMs };
  const catalog = new DynamoDbCampaignCatalog(
    TABLE,
    createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })),
    CACHE_MS,
    () => clock.nowMs,
  );
  return { catalog, clock };
}

beforeEach(() => {
  ddb.reset();
});

afterAll(() => {
  ddb.restore();
});

describe('DynamoDbCampaignCatalog.listActive', () => {
  it('scans for the current version of every campaign and returns the enabled ones, validated', async () => {
    // Prepare
    ddb.on(ScanCommand).resolves({ Items: [stored(active), stored(paused)] });
    const { catalog } = catalogAt(0);

    // Act
    const campaigns = await catalog.listActive();

    // Assess
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(ScanCommand, currentVersionScan);
    expect(ddb.commandCalls(ScanCommand)[0]?.args[0].input.ExclusiveStartKey).toBeUndefined();
    expect(campaigns).toStrictEqual([active]);
  });

  it('reads every page of the scan', async () => {
    // Prepare
    const pageKey = { campaignId: active.id, version: 'current' };
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Items: [stored(active)], LastEvaluatedKey: pageKey })
      .resolvesOnce({ Items: [stored({ ...active, id: 'second-check-in' })] });
    const { catalog } = catalogAt(0);

    // Act
    const campaigns = await catalog.listActive();

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(ScanCommand, 2, { ...currentVersionScan, ExclusiveStartKey: pageKey });
    expect(campaigns.map((c) => c.id)).toEqual([active.id, 'second-check-in']);
  });

  it('rejects a stored definition that fails validation, naming the campaign and the field', async () => {
    // Prepare
    const broken = { ...stored(active), campaignId: 'broken-campaign', definition: JSON.stringify({ ...active, id: 'broken-campaign', delay: '3 days' }) };
    ddb.on(ScanCommand).resolves({ Items: [stored(active), broken] });
    const { catalog } = catalogAt(0);

    // Act
    const attempt = catalog.listActive();

    // Assess
    await expect(attempt).rejects.toThrow(/stored campaign broken-campaign is invalid: delay: "3 days" is not an ISO-8601 duration/);
  });

  it('rejects a stored definition that is not JSON at all, naming the campaign', async () => {
    // Prepare
    // A hand edit in the console that cut the JSON short.
    ddb.on(ScanCommand).resolves({ Items: [{ ...stored(active), campaignId: 'hand-edited', definition: '{"id": "hand-' }] });
    const { catalog } = catalogAt(0);

    // Act
    const attempt = catalog.listActive();

    // Assess
    await expect(attempt).rejects.toThrow(/stored campaign hand-edited is invalid/);
  });
});

describe('DynamoDbCampaignCatalog.get', () => {
  it('finds a campaign by id, disabled ones included, and undefined for an unknown id', async () => {
    // Prepare
    ddb.on(ScanCommand).resolves({ Items: [stored(active), stored(paused)] });
    const { catalog } = catalogAt(0);

    // Act
    const found = await catalog.get('winter-check-in');
    const missing = await catalog.get('no-such-campaign');

    // Assess
    expect(found).toStrictEqual(paused);
    expect(missing).toBeUndefined();
  });
});

describe('DynamoDbCampaignCatalog cache', () => {
  it('reads the table once for calls within the cache window', async () => {
    // Prepare
    ddb.on(ScanCommand).resolves({ Items: [stored(active)] });
    const { catalog, clock } = catalogAt(1_000_000);

    // Act
    await catalog.listActive();
    clock.nowMs += CACHE_MS;
    const cached = await catalog.get(active.id);

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(ScanCommand, 1);
    expect(cached).toStrictEqual(active);
  });

  it('reads the table again once the window has passed, so an applied change takes effect', async () => {
    // Prepare
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Items: [stored(active)] })
      .resolvesOnce({ Items: [stored({ ...active, enabled: false })] });
    const { catalog, clock } = catalogAt(1_000_000);

    // Act
    const before = await catalog.listActive();
    clock.nowMs += CACHE_MS + 1;
    const after = await catalog.listActive();

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(ScanCommand, 2, currentVersionScan);
    expect(before).toStrictEqual([active]);
    expect(after).toEqual([]);
  });

  it('shares one read between concurrent calls', async () => {
    // Prepare
    ddb.on(ScanCommand).resolves({ Items: [stored(active)] });
    const { catalog } = catalogAt(0);

    // Act
    await Promise.all([catalog.listActive(), catalog.get(active.id), catalog.listActive()]);

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(ScanCommand, 1);
  });

  it('does not cache a failed read', async () => {
    // Prepare
    const error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    ddb.on(ScanCommand).rejectsOnce(error).resolves({ Items: [stored(active)] });
    const { catalog } = catalogAt(0);

    // Act
    const first = catalog.listActive();
    await expect(first).rejects.toBe(error);
    const second = await catalog.listActive();

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(second).toStrictEqual([active]);
  });
});

describe('DynamoDbCampaignCatalog expressions', () => {
  it('sends only expressions DynamoDB accepts', async () => {
    // Prepare
    ddb.on(ScanCommand).resolves({ Items: [] });
    const { catalog } = catalogAt(0);

    // Act
    await catalog.listActive();

    // Assess
    expect(sentRequests(ddb).map(({ input }) => expressionProblem(input))).toEqual([undefined]);
  });
});
