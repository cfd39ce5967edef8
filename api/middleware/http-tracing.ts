import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter } from '@opentelemetry/api';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { routePattern } from './route-pattern';

// Each request is a server span named by its method and route pattern ("POST /api/v2/tasks/:user"),
// never its path, with OpenTelemetry's HTTP attributes. It is the active span while the request is
// handled, so the Temporal client's spans (and through them the workflow's and activities') are its
// children. A caller's W3C traceparent makes it part of the caller's trace. Installed only when
// traces are exported (lib/tracing.ts); a stream's span ends when its response starts.

const headers: TextMapGetter<Context> = {
  get: (c, key) => c.req.header(key),
  keys: () => [],
};

export function traceRequests() {
  const tracer = trace.getTracer('taskd-api');
  return createMiddleware(async (c, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, c, headers);
    const url = new URL(c.req.url);
    const span = tracer.startSpan(
      c.req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': c.req.method, 'url.scheme': url.protocol.replace(/:$/, ''), 'user_agent.original': c.req.header('user-agent') },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = routePattern(c);
      const status = c.res.status;
      span.updateName(route === 'unmatched' ? c.req.method : `${c.req.method} ${route}`);
      if (route !== 'unmatched') span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  });
}
