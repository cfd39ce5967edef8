import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

// Two ways of asking a server: autocannon for throughput under concurrent load (32 connections by
// default), and one keep-alive connection asking in sequence for the latency of a single request
// with sub-millisecond resolution (autocannon's histogram counts whole milliseconds).

export interface LoadFigures {
  reqPerSec: number;
  /** latency percentiles of 2xx responses, ms */
  p50: number;
  p99: number;
  requests: number;
  /** responses that were not 2xx, plus connection errors and timeouts: must be 0 for the figure to count */
  failures: number;
}

export interface LoadOptions {
  baseUrl: string;
  /** cycled through, one per request (e.g. different task ids) */
  paths: string[];
  headers?: Record<string, string>;
  connections?: number;
  durationS: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadFigures> {
  let next = 0;
  const result = await autocannon({
    url: o.baseUrl,
    connections: o.connections ?? 32,
    duration: o.durationS,
    headers: o.headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => ({ ...req, path: o.paths[next++ % o.paths.length]! }),
      },
    ],
  });
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result['2xx'],
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET on a kept-alive connection; resolves with the time to the last byte (ms) and the status. */
export function timedGet(url: string, headers: Record<string, string> = {}): Promise<{ ms: number; status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** `count` sequential GETs of each path in turn; throws on any non-200 (a figure over errors means nothing). */
export async function sequentialLatencies(baseUrl: string, paths: string[], count: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const path = paths[i % paths.length]!;
    const r = await timedGet(baseUrl + path, headers);
    if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
    out.push(r.ms);
  }
  return out;
}

export function closeAgent(): void {
  agent.destroy();
}
