import { randomUUID } from 'node:crypto';
import { LABELS_KEY, SAMPLED_KEY, SPAN_KEY, TRACE_KEY } from '../core/log-context.js';
import { type LogFields } from '../ports/logger.js';
import type { HttpRequest } from '../core/route.js';

/** What ties the log lines of one request together: its id and, behind Google's front ends, its trace. */
export interface RequestContext {
  requestId: string;
  trace?: { traceId: string; spanId?: string; sampled: boolean } | undefined;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
// W3C trace context: version-traceid-parentid-flags; an all-zero id is invalid.
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;
// Google's own header: TRACE_ID/SPAN_ID;o=OPTIONS, the span id in decimal.
const CLOUD_TRACE = /^([\da-f]{32})(?:\/(\d{1,20}))?(?:;o=([01]))?$/i;

export function header(req: Pick<HttpRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The caller's X-Request-Id when it is a safe token, else a new one; the trace from traceparent or X-Cloud-Trace-Context. */
export function requestContext(req: Pick<HttpRequest, 'headers'>): RequestContext {
  const given = header(req, 'x-request-id');
  const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
  return { requestId, trace: parseTrace(req) };
}

export function parseTrace(req: Pick<HttpRequest, 'headers'>): RequestContext['trace'] {
  const w3c = TRACEPARENT.exec(header(req, 'traceparent')?.trim().toLowerCase() ?? '');
  if (w3c && !/^0+$/.test(w3c[1]!) && !/^0+$/.test(w3c[2]!)) {
    return { traceId: w3c[1]!, spanId: w3c[2]!, sampled: (parseInt(w3c[3]!, 16) & 1) === 1 };
  }
  const google = CLOUD_TRACE.exec(header(req, 'x-cloud-trace-context')?.trim() ?? '');
  if (google && !/^0+$/.test(google[1]!)) {
    const span = google[2] ? BigInt(google[2]) : 0n;
    return {
      traceId: google[1]!.toLowerCase(),
      ...(span > 0n && span < 2n ** 64n ? { spanId: span.toString(16).padStart(16, '0') } : {}),
      sampled: google[3] === '1',
    };
  }
  return undefined;
}

/**
 * The fields every log line of the request carries. With a Google Cloud project the trace is the
 * resource name Cloud Logging links to Cloud Trace (`projects/P/traces/T`); without one, the bare id.
 */
export function requestLogFields(ctx: RequestContext, traceProject?: string): LogFields {
  const fields: LogFields = { requestId: ctx.requestId, [LABELS_KEY]: { requestId: ctx.requestId } };
  if (ctx.trace) {
    fields[TRACE_KEY] = traceProject ? `projects/${traceProject}/traces/${ctx.trace.traceId}` : ctx.trace.traceId;
    if (ctx.trace.spanId) fields[SPAN_KEY] = ctx.trace.spanId;
    fields[SAMPLED_KEY] = ctx.trace.sampled;
  }
  return fields;
}
