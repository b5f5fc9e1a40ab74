import { Logger } from '@aws-lambda-powertools/logger';
import { InvalidEventError } from '../core/errors.ts';

/** One structured logger per function. Log ids and counts only: never addresses, names or message content. */
export function createLogger(functionName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'outreach', persistentKeys: { fn: functionName } });
}

/**
 * Parses an incoming event; an invalid one is logged with the fields at fault (never their values) and thrown again,
 * so Lambda retries it and then sends it to the dead-letter queue with the error.
 */
export function parseEventOrLog<T>(parse: (raw: unknown) => T, raw: unknown, logger: Logger, message: string): T {
  try {
    return parse(raw);
  } catch (error) {
    if (error instanceof InvalidEventError) logger.error(message, { issues: error.issues });
    throw error;
  }
}
