import http from 'node:http';
import type { State } from '@temporalio/worker';
import { answerScrape, type MetricsSource } from '../lib/metrics';
import type { Logger } from '../lib/logger';

// The worker's one HTTP port (WORKER_HEALTH_PORT): /metrics for Prometheus, and on every other path
// the worker's state, which lets an orchestrator tell a wedged worker from a live one.

export async function serveWorkerHealth(opts: {
  host: string;
  port: number;
  state: () => State;
  metrics: MetricsSource;
  log: Logger;
}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (answerScrape(req, res, opts.metrics, opts.log)) return;
    const state = opts.state();
    res.writeHead(state === 'RUNNING' ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: state }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return server;
}
