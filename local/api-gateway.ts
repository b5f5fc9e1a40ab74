/**
 * The local web server, playing API Gateway (HTTP API, payload format 2.0): each request matching HTTP_ROUTES becomes
 * the event API Gateway would send (requestContext.timeEpoch from the local clock), and the handler's result becomes
 * the HTTP response. `/` serves a small index of the local stack.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HttpRouteSpec } from '../core/topology.ts';
import { escapeHtml, readBody, sendHtml, sendJson } from './http.ts';
import { LOCAL_ACCOUNT_ID } from './lambda-runtime.ts';
import type { LocalMeter } from './meter.ts';

export interface ApiGatewayEventV2 {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  pathParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

export interface HttpRequestLike {
  method: string;
  /** Path and query as received, e.g. `/unsubscribe?c=1&t=abc`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp?: string;
  httpVersion?: string;
}

export interface HttpResponseLike {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** Content types API Gateway passes as text; any other body arrives base64-encoded with isBase64Encoded: true. */
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|[a-z0-9.+-]+\+(json|xml))\b)/i;

/** Matches `route.path` against `path`; `{name}` segments become path parameters, `{name+}` is greedy. */
export function matchRoute(routes: readonly HttpRouteSpec[], method: string, path: string): { route: HttpRouteSpec; pathParameters?: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = route.path.replace(/[.*+?^()|[\]\\]/g, '\\$&').replace(/\\?\{([A-Za-z0-9_]+)(\\\+)?\}/g, (_m, name: string, greedy?: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (!match) continue;
    if (names.length === 0) return { route };
    return { route, pathParameters: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1]!)])) };
  }
  return undefined;
}

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's requestContext.time. */
export function apiGatewayTime(ms: number): string {
  const d = new Date(ms);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

export function toApiGatewayEvent(request: HttpRequestLike, route: HttpRouteSpec, nowMs: number, pathParameters?: Record<string, string>): ApiGatewayEventV2 {
  const queryIndex = request.url.indexOf('?');
  const rawPath = queryIndex >= 0 ? request.url.slice(0, queryIndex) : request.url;
  const rawQueryString = queryIndex >= 0 ? request.url.slice(queryIndex + 1) : '';

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(',') : value;
    if (key === 'cookie') {
      cookies = [...(cookies ?? []), ...joined.split(/;\s*/).filter(Boolean)];
      continue;
    }
    headers[key] = headers[key] === undefined ? joined : `${headers[key]},${joined}`;
  }

  let queryStringParameters: Record<string, string> | undefined;
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters ??= {};
    queryStringParameters[key] = queryStringParameters[key] === undefined ? value : `${queryStringParameters[key]},${value}`;
  }

  const routeKey = `${route.method} ${route.path}`;
  const event: ApiGatewayEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: (headers.host ?? '127').split('.')[0] ?? 'local',
      http: {
        method: request.method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion ?? '1.1'}`,
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: apiGatewayTime(nowMs),
      timeEpoch: nowMs,
    },
    isBase64Encoded: false,
  };
  if (cookies) event.cookies = cookies;
  if (queryStringParameters) event.queryStringParameters = queryStringParameters;
  if (pathParameters) event.pathParameters = pathParameters;
  if (request.body.length > 0) {
    const text = TEXT_TYPES.test(headers['content-type'] ?? '');
    event.body = text ? request.body.toString('utf8') : request.body.toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

/**
 * The handler's result as API Gateway maps it (format 2.0): an object with `statusCode` is a response; anything else
 * is JSON returned with status 200.
 */
export function fromHandlerResult(result: unknown): HttpResponseLike {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const r = result as { statusCode: number; headers?: Record<string, unknown>; cookies?: string[]; body?: unknown; isBase64Encoded?: boolean };
    const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const text = r.body === undefined || r.body === null ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    return {
      statusCode: r.statusCode,
      headers,
      cookies: r.cookies ?? [],
      body: r.isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
    };
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(result === undefined ? '' : JSON.stringify(result), 'utf8'),
  };
}

export interface ApiGatewayServerOptions {
  routes: readonly HttpRouteSpec[];
  invoke: (target: string, event: ApiGatewayEventV2) => Promise<unknown>;
  nowMs: () => number;
  /** Links shown on the index page at `/`. */
  links?: () => Array<{ label: string; href: string; note?: string }>;
  log?: (line: string) => void;
  /** Counts each routed request and its access-log line (bench/cost.ts); absent: nothing is metered. */
  meter?: LocalMeter;
}

export function createApiGatewayServer(options: ApiGatewayServerOptions): Server {
  return createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      options.log?.(`web error: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const matched = matchRoute(options.routes, method, path);
    if (!matched) {
      if (method === 'GET' && path === '/' && options.links) return sendHtml(res, 200, indexPage(options.links()));
      return sendJson(res, 404, { message: 'Not Found' });
    }
    const body = await readBody(req);
    const startedMs = Date.now();
    const event = toApiGatewayEvent(
      { method, url, headers: req.headers, body, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', httpVersion: req.httpVersion },
      matched.route,
      options.nowMs(),
      matched.pathParameters,
    );
    let result: unknown;
    try {
      result = await options.invoke(matched.route.target, event);
    } catch (error) {
      options.log?.(`✗ ${matched.route.target} (${method} ${path}) threw ${(error as Error).name}: ${(error as Error).message}`);
      return sendJson(res, 500, { message: 'Internal Server Error' });
    }
    const response = fromHandlerResult(result);
    const headers: Record<string, string | string[]> = { ...response.headers };
    if (response.cookies.length > 0) headers['set-cookie'] = response.cookies;
    res.writeHead(response.statusCode, headers);
    res.end(response.body);
    options.meter?.httpRequest({
      routeKey: event.routeKey,
      requestBytes: body.length + Buffer.byteLength(url),
      responseBytes: response.body.length,
      values: {
        requestId: event.requestContext.requestId,
        requestTimeEpoch: event.requestContext.timeEpoch,
        routeKey: event.routeKey,
        status: response.statusCode,
        responseLength: response.body.length,
        responseLatency: Date.now() - startedMs,
        integrationErrorMessage: undefined,
      },
    });
    options.log?.(`← ${method} ${path} → ${matched.route.target} ${response.statusCode}`);
  }
}

function indexPage(links: Array<{ label: string; href: string; note?: string }>): string {
  const items = links
    .map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>${l.note ? ` — ${escapeHtml(l.note)}` : ''}</li>`)
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Outreach — local stack</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .25rem}</style>
</head><body><h1>Outreach — local stack</h1><ul>${items}</ul>
<p>Advance the clock: <code>npm run local -- advance P3D</code></p></body></html>`;
}
