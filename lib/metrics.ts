import http from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from './logger';

// Prometheus metrics of a taskd process. Each process kind (API, worker) fills a registry of its own
// rather than prom-client's global one, so that a process running both (tests) still answers each
// scrape with the families of the part that was asked.

/** A registry with Node's process metrics (CPU, memory, event loop lag, GC), as every exporter has. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** What a scrape answers: the registry's families, then any text appended by `extra` (another exporter's). */
export type MetricsSource = () => Promise<string>;

export function metricsSource(registry: Registry, extra?: () => Promise<string>): MetricsSource {
  return async () => {
    const own = await registry.metrics();
    const more = extra ? await extra() : '';
    return more ? `${own.trimEnd()}\n${more}` : own;
  };
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Answers GET /metrics from `source`; false when the request was for another path. */
export function answerScrape(req: http.IncomingMessage, res: http.ServerResponse, source: MetricsSource, log: Logger): boolean {
  if (new URL(req.url ?? '/', 'http://x').pathname !== '/metrics') return false;
  source().then(
    (text) => {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
      res.end(text);
    },
    (err: unknown) => {
      log.warn({ err }, 'metrics could not be collected');
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Metrics could not be collected.', detail: (err as Error).message }));
    },
  );
  return true;
}

/** A listener of its own that serves only /metrics (the API's TASKD_METRICS_ADDR). */
export async function serveMetrics(address: { host: string; port: number }, source: MetricsSource, log: Logger): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (answerScrape(req, res, source, log)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Route not found.', detail: 'Only /metrics is served here.' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  return server;
}
