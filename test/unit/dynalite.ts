/** dynalite for a test file: the embedded DynamoDB on a free port, and a client that does not retry (a failure shows). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamo } from '../../local/dynamodb.ts';

export type TestDynamo = Awaited<ReturnType<typeof startDynamo>>;

export async function startTestDynamo(): Promise<{ dynamo: TestDynamo; client: DynamoDBClient }> {
  const dynamo = await startDynamo({ port: 0 });
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return { dynamo, client };
}
