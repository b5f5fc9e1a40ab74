import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionName, HTTP_ROUTES } from '../../core/topology.ts';
import { acknowledgeNag } from '../nag.ts';
import { pascalCase } from '../naming.ts';

export interface OutreachHttpApiProps {
  readonly functions: Readonly<Record<FunctionName, IFunction>>;
  /** @default 50 requests per second, bursts of 100 */
  readonly throttle?: ThrottleSettings;
}

// No source IP, path or query string (the query carries the customer id and the link token), and no headers (the
// metrics API's bearer token).
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationError: '$context.integrationErrorMessage',
});

const LINK_ROUTE_REASON =
  'Public link endpoint opened from emails by recipients without an account: each request is authorized by an HMAC token signed with the link secret and verified by the function.';
const METRICS_ROUTE_REASON =
  'Read-only metrics routes: GET /metrics requires a bearer token (the generated MetricsApiToken secret) that the function compares in constant time and answers 401 without; GET /dashboard is a static page with no data, which sends that token itself.';

/** Why a route has no API Gateway authorizer: the function authorizes each request itself. */
const UNAUTHORIZED_ROUTE_REASONS: Readonly<Partial<Record<FunctionName, string>>> = { 'metrics-api': METRICS_ROUTE_REASON };

/**
 * The HTTP endpoints (HTTP_ROUTES), with access logs and throttling: the links in emails, and the metrics API and
 * dashboard.
 */
export class OutreachHttpApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  /** `https://<id>.execute-api.<region>.amazonaws.com`, without a trailing slash. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: OutreachHttpApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'Api', { description: 'Outreach: links in emails (unsubscribe, survey), the metrics API and dashboard', createDefaultStage: false });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: AccessLogFormat.custom(ACCESS_LOG_FORMAT) },
    });
    this.url = this.httpApi.apiEndpoint;

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of HTTP_ROUTES) {
      const integration = integrations.get(route.target) ?? new HttpLambdaIntegration(`${pascalCase(route.target)}Integration`, props.functions[route.target]);
      integrations.set(route.target, integration);
      for (const created of this.httpApi.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration })) {
        acknowledgeNag(created, 'AwsSolutions-APIG4', UNAUTHORIZED_ROUTE_REASONS[route.target] ?? LINK_ROUTE_REASON);
      }
    }
  }
}
