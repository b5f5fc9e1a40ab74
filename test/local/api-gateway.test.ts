import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGatewayTime, createApiGatewayServer, fromHandlerResult, matchRoute, toApiGatewayEvent, type ApiGatewayEventV2 } from '../../local/api-gateway.ts';
import { closeServer, listen } from '../../local/http.ts';

const NOW = Date.parse('2031-03-04T05:06:07.089Z');
const route = { method: 'POST' as const, path: '/unsubscribe', target: 'unsubscribe' as const };

describe('HTTP request → API Gateway HTTP API (payload 2.0) event', () => {
  it('splits path and query, lowercases headers, joins repeated values with commas, and stamps the local clock', () => {
    const event = toApiGatewayEvent(
      {
        method: 'POST',
        url: '/unsubscribe?c=cust%201&t=abc&t=def',
        headers: { host: '127.0.0.1:4010', 'user-agent': 'mail-client', 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] },
        body: Buffer.alloc(0),
      },
      route,
      NOW,
    );

    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /unsubscribe',
      rawPath: '/unsubscribe',
      rawQueryString: 'c=cust%201&t=abc&t=def',
      queryStringParameters: { c: 'cust 1', t: 'abc,def' },
      headers: { host: '127.0.0.1:4010', 'user-agent': 'mail-client', 'x-forwarded-for': '1.1.1.1,2.2.2.2' },
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST', path: '/unsubscribe', userAgent: 'mail-client' },
        routeKey: 'POST /unsubscribe',
        stage: '$default',
        time: '04/Mar/2031:05:06:07 +0000',
        timeEpoch: NOW,
      },
    });
    expect(event.body).toBeUndefined();
  });

  it('passes JSON and text bodies as text and everything else (e.g. a one-click form post) base64-encoded', () => {
    const json = toApiGatewayEvent({ method: 'POST', url: '/x', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"a":1}') }, route, NOW);
    const form = toApiGatewayEvent(
      { method: 'POST', url: '/x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('List-Unsubscribe=One-Click') },
      route,
      NOW,
    );

    expect(json).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });
    expect(form).toMatchObject({ body: Buffer.from('List-Unsubscribe=One-Click').toString('base64'), isBase64Encoded: true });
  });

  it('moves cookies out of the headers into `cookies`', () => {
    const event = toApiGatewayEvent({ method: 'GET', url: '/x', headers: { cookie: 'a=1; b=2' }, body: Buffer.alloc(0) }, route, NOW);
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.queryStringParameters).toBeUndefined();
  });

  it('matches routes by method and path, with path parameters', () => {
    const routes = [
      { method: 'GET' as const, path: '/surveys/{surveyId}', target: 'unsubscribe' as const },
      { method: 'POST' as const, path: '/unsubscribe', target: 'unsubscribe' as const },
    ];
    expect(matchRoute(routes, 'GET', '/surveys/s%201')).toEqual({ route: routes[0], pathParameters: { surveyId: 's 1' } });
    expect(matchRoute(routes, 'GET', '/unsubscribe')).toBeUndefined();
    expect(apiGatewayTime(Date.parse('2031-12-25T00:00:00Z'))).toBe('25/Dec/2031:00:00:00 +0000');
  });
});

describe('handler result → HTTP response', () => {
  it('maps statusCode, headers, cookies and base64 bodies', () => {
    const response = fromHandlerResult({
      statusCode: 302,
      headers: { Location: '/done' },
      cookies: ['seen=1; Path=/'],
      body: Buffer.from('bye').toString('base64'),
      isBase64Encoded: true,
    });
    expect(response).toEqual({ statusCode: 302, headers: { location: '/done' }, cookies: ['seen=1; Path=/'], body: Buffer.from('bye') });
  });

  it('treats a result without statusCode as JSON with status 200, like API Gateway', () => {
    expect(fromHandlerResult({ ok: true })).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from('{"ok":true}') });
  });
});

describe('the local web server', () => {
  let server: Server;
  let base: string;
  const seen: ApiGatewayEventV2[] = [];

  beforeAll(async () => {
    server = createApiGatewayServer({
      routes: [route, { method: 'GET', path: '/boom', target: 'unsubscribe' }],
      nowMs: () => NOW,
      invoke: async (_target, event) => {
        seen.push(event);
        if (event.rawPath === '/boom') throw new Error('handler failed');
        return { statusCode: 200, headers: { 'Content-Type': 'text/html' }, cookies: ['a=1'], body: '<p>done</p>' };
      },
      links: () => [{ label: 'Mailbox', href: 'http://127.0.0.1:1/' }],
    });
    base = `http://127.0.0.1:${await listen(server, 0)}`;
  });
  afterAll(() => closeServer(server));

  it('serves routes through the handler and answers with its response', async () => {
    const response = await fetch(`${base}/unsubscribe?c=c1&t=tok`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(response.headers.get('set-cookie')).toBe('a=1');
    expect(await response.text()).toBe('<p>done</p>');
    const event = seen.at(-1)!;
    expect(Buffer.from(event.body!, 'base64').toString()).toBe('List-Unsubscribe=One-Click');
    expect(event.queryStringParameters).toEqual({ c: 'c1', t: 'tok' });
  });

  it('answers 404 for unknown routes, 500 when the handler throws, and an index page at /', async () => {
    expect((await fetch(`${base}/unsubscribe`)).status).toBe(404);
    expect((await fetch(`${base}/boom`)).status).toBe(500);
    const index = await fetch(`${base}/`);
    expect(await index.text()).toContain('href="http://127.0.0.1:1/"');
  });
});
