/** Helpers for adapter tests against aws-sdk-client-mock stubs. */
import { createRequire } from 'node:module';
import { marshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';

const require = createRequire(import.meta.url);

// dynalite parses expressions with DynamoDB's grammar and reserved-word list; its validator is plain CommonJS.
const { validateExpressions } = require('dynalite/validations/index.js') as {
  validateExpressions(request: Record<string, unknown>): string | undefined;
};

/**
 * What DynamoDB would answer about a request's expressions (a reserved word used bare, a `#name` or `:value`
 * that is undefined or unused, a syntax error), or undefined when it would accept them.
 */
export function expressionProblem(input: object): string | undefined {
  const request: Record<string, unknown> = { ...input };
  const values = request.ExpressionAttributeValues as Record<string, NativeAttributeValue> | undefined;
  if (values) request.ExpressionAttributeValues = marshall(values, { removeUndefinedValues: true });
  return validateExpressions(request) ?? undefined;
}

/** Every request a stubbed client received, as `{ command, input }`, in order. */
export function sentRequests(stub: { calls(): ReadonlyArray<{ args: readonly unknown[] }> }): Array<{ command: string; input: object }> {
  return stub.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: object };
    return { command: command.constructor.name, input: command.input };
  });
}
