import { noFailureLimiter } from '../ports/failure-limiter.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LABELS_KEY, SAMPLED_KEY, SPAN_KEY, TRACE_KEY } from '../core/log-context.js';
import { memoryLogger } from '../adapters/logging/logger.js';
import { PrometheusMetrics } from '../adapters/prometheus/prometheus.js';
import { parseTrace } from './request-context.js';
import { json, route, type HttpRequest } from '../core/route.js';
import { createRouter, type AccessLog } from './router.js';

/** Structured logs and metrics of the router: a request's id and trace on every line, httpRequest, counts. */
function setup(accessLog: AccessLog = 'all', traceProject?: string) {
  const logger = memoryLogger();
  const metrics = new PrometheusMetrics({ version: 'test', defaultMetrics: false });
  const routes = [
    route({
      method: 'GET',
      path: '/api/items/{id}',
      auth: 'public',
      summary: 's',
      tag: 't',
      response: { status: 200, description: 'd' },
      params: z.object({ id: z.string() }),
      handler: async ({ params }) => {
        // deep inside the handler, after an await: the request's context still applies
        await new Promise((r) => setTimeout(r, 1));
        logger.info('looked up', { item: params.id, authorization: 'Bearer abc.def.ghi' });
        if (params.id === 'boom') throw new Error('kaboom eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl');
        return json(200, { id: params.id });
      },
    }),
    route({
      method: 'GET',
      path: '/metrics',
      auth: 'metrics',
      summary: 's',
      tag: 't',
      response: { status: 200, description: 'd' },
      handler: async () => ({ status: 200, text: (await metrics.render()).text }),
    }),
  ];
  const handle = createRouter(routes, {
    auth: { admin: async () => null, device: async () => null, metrics: (t) => t === 'm'.repeat(32) },
    limiter: noFailureLimiter,
    logger,
    metrics,
    accessLog,
    traceProject,
  });
  const call = (path: string, headers: Record<string, string> = {}) =>
    handle({ method: 'GET', path, query: new URLSearchParams('x=1'), headers, body: undefined, ip: '198.51.100.7' } satisfies HttpRequest);
  return { logger, metrics, call };
}

describe('request logs', () => {
  it('puts the request id, the trace and the labels on every line of a request, and one httpRequest line', async () => {
    const { logger, call } = setup('all', 'demo-mdm');
    const res = await call('/api/items/a1', {
      'x-request-id': 'req-1',
      'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/2;o=1',
      'user-agent': 'agent/1.0',
    });
    expect(res.status).toBe(200);
    expect(logger.lines).toHaveLength(2);
    for (const line of logger.lines) {
      expect(line).toMatchObject({
        requestId: 'req-1',
        [LABELS_KEY]: { requestId: 'req-1' },
        [TRACE_KEY]: 'projects/demo-mdm/traces/105445aa7843bc8bf206b12000100000',
        [SPAN_KEY]: '0000000000000002',
        [SAMPLED_KEY]: true,
      });
    }
    expect(logger.lines[0]).toMatchObject({ message: 'looked up', item: 'a1', authorization: '[redacted]' });
    expect(logger.lines[1]).toMatchObject({
      severity: 'INFO',
      message: 'GET /api/items/a1 200',
      route: '/api/items/{id}',
      httpRequest: {
        requestMethod: 'GET',
        requestUrl: '/api/items/a1?x=1',
        status: 200,
        remoteIp: '198.51.100.7',
        userAgent: 'agent/1.0',
        requestSize: '0',
      },
    });
    expect((logger.lines[1]!.httpRequest as { latency: string }).latency).toMatch(/^\d+\.\d{3}s$/);
  });

  it('keeps concurrent requests apart', async () => {
    const { logger, call } = setup('none');
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => call(`/api/items/${id}`, { 'x-request-id': `req-${id}` })));
    for (const line of logger.lines) expect(line.requestId).toBe(`req-${line.item as string}`);
  });

  it('logs only failures and slow requests by default, an unexpected error as ERROR with the token masked', async () => {
    const { logger, call } = setup('errors');
    await call('/api/items/fine');
    expect(logger.lines.filter((l) => l.httpRequest)).toHaveLength(0);
    const res = await call('/api/items/boom');
    expect(res.status).toBe(500);
    const access = logger.lines.find((l) => l.httpRequest)!;
    expect(access).toMatchObject({ severity: 'ERROR', httpRequest: { status: 500 } });
    const text = JSON.stringify(logger.lines);
    expect(text).not.toContain('c2lnbmF0dXJl');
    expect(text).toContain('[redacted]');
    expect((await call('/nowhere')).status).toBe(404);
    expect(logger.lines.at(-1)).toMatchObject({ severity: 'INFO', httpRequest: { status: 404 } });
  });

  it('takes the trace from traceparent first, then X-Cloud-Trace-Context, and ignores malformed ones', () => {
    const h = (headers: Record<string, string>) => parseTrace({ headers });
    expect(h({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-cloud-trace-context': 'a'.repeat(32) })).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    });
    expect(h({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' })).toBeUndefined();
    expect(h({ 'x-cloud-trace-context': 'B'.repeat(32) })).toEqual({ traceId: 'b'.repeat(32), sampled: false });
    expect(h({ 'x-cloud-trace-context': 'not-a-trace' })).toBeUndefined();
    expect(h({ traceparent: 'garbage', 'x-cloud-trace-context': `${'c'.repeat(32)}/18446744073709551615;o=0` })).toEqual({
      traceId: 'c'.repeat(32),
      spanId: 'ffffffffffffffff',
      sampled: false,
    });
  });

  it('writes the bare trace id without a project (standalone)', async () => {
    const { logger, call } = setup('all');
    await call('/api/items/a', { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' });
    expect(logger.lines[0]).toMatchObject({ [TRACE_KEY]: '4bf92f3577b34da6a3ce929d0e0e4736', [SAMPLED_KEY]: false });
  });
});

describe('request metrics', () => {
  it('counts requests per route template, method and status, with a latency histogram, behind the metrics token', async () => {
    const { call } = setup('none');
    await call('/api/items/a');
    await call('/api/items/b');
    await call('/api/items/boom');
    await call('/not/a/route/12345');
    expect((await call('/metrics')).status).toBe(401);
    expect((await call('/metrics', { authorization: `Bearer ${'x'.repeat(32)}` })).status).toBe(401);
    const res = await call('/metrics', { authorization: `Bearer ${'m'.repeat(32)}` });
    expect(res.status).toBe(200);
    const text = res.body.toString();
    expect(text).toContain('mdm_http_requests_total{method="GET",route="/api/items/{id}",status="200"} 2');
    expect(text).toContain('mdm_http_requests_total{method="GET",route="/api/items/{id}",status="500"} 1');
    expect(text).toContain('mdm_http_requests_total{method="GET",route="(unmatched)",status="404"} 1');
    expect(text).toContain('mdm_http_requests_total{method="GET",route="/metrics",status="401"} 2');
    expect(text).toMatch(/mdm_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/items\/\{id\}"\} \d/);
    expect(text).toContain('mdm_build_info{version="test"} 1');
  });
});
