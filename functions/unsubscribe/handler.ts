import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient } from '../../adapters/dynamodb-client.ts';
import { DynamoDbCustomerRepository } from '../../adapters/dynamodb-customers.ts';
import { DynamoDbTouchpointRepository } from '../../adapters/dynamodb-touchpoints.ts';
import { envShardCount, envString, parseEnv } from '../../adapters/env.ts';
import { createLogger } from '../../adapters/logger.ts';
import { secretsManagerSigningKey } from '../../adapters/secrets-signing-key.ts';
import { InvalidLinkTokenError } from '../../core/errors.ts';
import { unsubscribeCustomer, verifyUnsubscribeLink } from '../../core/use-cases/unsubscribe-customer.ts';
import { confirmPage, donePage, invalidLinkPage } from './pages.ts';

const env = parseEnv({
  CUSTOMERS_TABLE: envString,
  TOUCHPOINTS_TABLE: envString,
  LINK_SECRET_ARN: envString,
  DISPATCH_SHARDS: envShardCount,
});
const db = createDocumentClient();
const deps = {
  customers: new DynamoDbCustomerRepository(env.CUSTOMERS_TABLE, db),
  touchpoints: new DynamoDbTouchpointRepository(env.TOUCHPOINTS_TABLE, env.DISPATCH_SHARDS, db),
  signingKey: secretsManagerSigningKey(env.LINK_SECRET_ARN),
};
const logger = createLogger('unsubscribe');

const linkQuery = z.object({ c: z.string().min(1).max(128), t: z.string().min(1).max(200) });

const html = (statusCode: number, body: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
  body,
});

/**
 * GET shows a confirmation page and changes nothing (mail scanners and link previews fetch GETs). POST is the RFC 8058
 * one-click unsubscribe that mail clients send with `List-Unsubscribe=One-Click`, and the confirmation form's submit.
 */
export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const query = linkQuery.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return html(400, invalidLinkPage());
  const { c: customerId, t: token } = query.data;
  try {
    if (event.requestContext.http.method !== 'POST') {
      await verifyUnsubscribeLink(customerId, token, deps);
      return html(200, confirmPage(`?${new URLSearchParams({ c: customerId, t: token })}`));
    }
    const now = new Date(event.requestContext.timeEpoch).toISOString();
    const result = await unsubscribeCustomer({ customerId, token, now }, deps);
    logger.info('unsubscribed', { customerId, ...result });
    return html(200, donePage());
  } catch (error) {
    if (error instanceof InvalidLinkTokenError) {
      logger.warn('unsubscribe link rejected', { reason: error.message });
      return html(400, invalidLinkPage());
    }
    throw error;
  }
};
