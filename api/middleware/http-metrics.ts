import { createMiddleware } from 'hono/factory';
import { Histogram, type Registry } from 'prom-client';
import { routePattern } from './route-pattern';

// The API's request latency by method, route pattern and status, for its /metrics (TASKD_METRICS_ADDR).
// Installed only when metrics are served, so an API without them does no work per request.

/** From 5 ms (a cached read) to 30 s (an update that waits for its workflow). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function measureRequests(registry: Registry) {
  const duration = new Histogram({
    name: 'taskd_http_request_duration_seconds',
    help: 'Time from a request reaching the API to its response being ready (a stream: until it starts), by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  return createMiddleware(async (c, next) => {
    const end = duration.startTimer();
    try {
      await next();
    } finally {
      // Node's parser accepts only the methods it knows, so the method label stays a short list
      end({ method: c.req.method, route: routePattern(c), status: String(c.res.status) });
    }
  });
}
