import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per function. Log ids and counts only: never addresses, names or message content. */
export function createLogger(functionName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'outreach', persistentKeys: { fn: functionName } });
}
