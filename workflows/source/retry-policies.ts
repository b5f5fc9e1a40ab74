/**
 * The retry policies of every Task in the generated workflows, each named once. A Task lists the policies by name;
 * nothing else in workflows/source writes a Retry block.
 */

/** Lambda's own service errors: the invocation did not run or its result was lost before the function returned. */
export const LAMBDA_SERVICE_ERRORS = {
  ErrorEquals: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'Lambda.Unknown',
  ],
  IntervalSeconds: 1,
  BackoffRate: 2,
  MaxAttempts: 4,
  JitterStrategy: 'FULL',
} as const;

/**
 * Throttling and transient errors that our functions let through from DynamoDB and the other services they call.
 * Every function is idempotent per (touchpoint, generation), so running it again is safe.
 */
export const DEPENDENCY_TRANSIENT_ERRORS = {
  ErrorEquals: [
    'ProvisionedThroughputExceededException',
    'ThrottlingException',
    'RequestLimitExceeded',
    'InternalServerError',
    'ServiceUnavailable',
    'TimeoutError',
    'States.Timeout',
  ],
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: 3,
  JitterStrategy: 'FULL',
} as const;

/** The retry list of a Task that invokes one of our functions. */
export const FUNCTION_RETRY = [LAMBDA_SERVICE_ERRORS, DEPENDENCY_TRANSIENT_ERRORS] as const;
