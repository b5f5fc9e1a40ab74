/**
 * One HTTP server speaking the AWS JSON protocol (awsJson1_0 / awsJson1_1): the operation is named by the
 * `X-Amz-Target` header (`AWSEvents.PutEvents`, `AWSStepFunctions.StartExecution`, `secretsmanager.GetSecretValue`),
 * the request and response are JSON, errors are `{"__type","message"}` with HTTP 400. The real SDK clients and the AWS
 * CLI talk to it unchanged through `--endpoint-url` / `AWS_ENDPOINT_URL_<SERVICE>`. The same server also carries the
 * local control API under `/_local/`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AwsServiceError } from './aws-error.ts';
import type { LocalEventBus } from './event-bus.ts';
import { readBody, sendJson } from './http.ts';
import type { LocalSecretsManager } from './secrets.ts';
import type { ExecutionRecord, LocalStepFunctions } from './step-functions.ts';

export type Operation = (request: Record<string, unknown>) => unknown;

/** Epoch seconds, the AWS JSON protocol's timestamp form. */
const epochSeconds = (date: Date | undefined) => (date ? date.getTime() / 1000 : undefined);

export function describeExecutionResponse(record: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: epochSeconds(record.startDate),
    stopDate: epochSeconds(record.stopDate),
    input: record.input,
    inputDetails: { included: true },
    output: record.output,
    outputDetails: record.output === undefined ? undefined : { included: true },
    error: record.error,
    cause: record.cause,
  };
}

export function gatewayOperations(parts: {
  bus: LocalEventBus;
  stepFunctions: LocalStepFunctions;
  secrets: LocalSecretsManager;
}): Record<string, Operation> {
  const { bus, stepFunctions, secrets } = parts;
  return {
    'AWSEvents.PutEvents': (request) => bus.putEvents(request.Entries),
    'AWSStepFunctions.StartExecution': (request) => {
      const started = stepFunctions.startExecution(request);
      return { executionArn: started.executionArn, startDate: epochSeconds(started.startDate) };
    },
    'AWSStepFunctions.DescribeExecution': (request) => describeExecutionResponse(stepFunctions.describeExecution(request.executionArn)),
    'AWSStepFunctions.ListExecutions': (request) => {
      const page = stepFunctions.listExecutions(request);
      return {
        executions: page.executions.map((r) => ({
          executionArn: r.executionArn,
          stateMachineArn: r.stateMachineArn,
          name: r.name,
          status: r.status,
          startDate: epochSeconds(r.startDate),
          stopDate: epochSeconds(r.stopDate),
        })),
        nextToken: page.nextToken,
      };
    },
    'AWSStepFunctions.ListStateMachines': () => ({
      stateMachines: stepFunctions.stateMachines().map((m) => ({ ...m, creationDate: epochSeconds(m.creationDate) })),
    }),
    'secretsmanager.GetSecretValue': (request) => secrets.getSecretValue(request),
  };
}

export type ControlRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export function createAwsGateway(operations: Record<string, Operation>, control?: ControlRoute, log?: (line: string) => void): Server {
  return createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      log?.(`gateway error: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { __type: 'InternalFailure', message: String((error as Error).message ?? error) });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const target = req.headers['x-amz-target'];
    if (typeof target !== 'string') {
      if (control && (await control(req, res, url))) return;
      sendJson(res, 404, { message: 'Not Found: send AWS JSON-protocol requests (X-Amz-Target) or use /_local/' });
      return;
    }
    const contentType = typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : 'application/x-amz-json-1.1';
    const requestId = randomUUID();
    const headers = { 'content-type': contentType, 'x-amzn-requestid': requestId };
    const operation = operations[target];
    if (!operation || req.method !== 'POST') {
      answerError(res, headers, new AwsServiceError('UnknownOperationException', `The local stack does not implement ${target}`));
      return;
    }
    let request: Record<string, unknown>;
    try {
      const text = (await readBody(req)).toString('utf8');
      request = text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      answerError(res, headers, new AwsServiceError('SerializationException', 'Request body is not valid JSON'));
      return;
    }
    try {
      const result = await operation(request);
      res.writeHead(200, headers);
      res.end(JSON.stringify(result ?? {}));
    } catch (error) {
      if (error instanceof AwsServiceError) answerError(res, headers, error);
      else throw error;
    }
  }
}

function answerError(res: ServerResponse, headers: Record<string, string>, error: AwsServiceError): void {
  res.writeHead(error.statusCode, { ...headers, 'x-amzn-errortype': error.code });
  res.end(JSON.stringify({ __type: error.code, message: error.message }));
}
