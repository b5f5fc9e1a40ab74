/** The embedded stack as the end-to-end tests drive it: manual clock, free ports, real SDK clients. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack.ts';

export interface E2eStack {
  stack: LocalStack;
  /** A real EventBridge client pointed at the local gateway, as a commerce system would use it. */
  events: EventBridgeClient;
  db: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

export async function startE2eStack(options: { startAt: string; loadCampaigns?: LocalStackOptions['loadCampaigns'] }): Promise<E2eStack> {
  // Handlers log through Powertools; some tests make them log errors on purpose.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const stack = await startLocalStack({ portBase: 0, speed: 0, log: false, ...options });
  const events = new EventBridgeClient({
    endpoint: stack.endpoints.gateway,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
  return {
    stack,
    events,
    db,
    stop: async () => {
      events.destroy();
      await stack.stop();
    },
  };
}
