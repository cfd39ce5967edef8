import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';

// Transport details that make the built-in agent look like agentapi's huma-on-chi stack (§1.1, §1.4).

export const DEFAULT_ALLOWED_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
export const DEFAULT_ALLOWED_ORIGINS = ['http://localhost:3284', 'http://localhost:3000', 'http://localhost:3001'];
export const JSON_BODY_LIMIT = 1024 * 1024;

export type ErrorDetail = { message: string; location?: string; value?: unknown };

/** Drops the port (including from bracketed IPv6) because agentapi ignores it when matching. */
export function hostWithoutPort(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export function isHostAllowed(host: string | undefined, allowed: readonly string[] | '*'): boolean {
  if (allowed === '*') return true;
  if (!host) return false;
  const name = hostWithoutPort(host);
  return allowed.some((entry) => hostWithoutPort(entry) === name);
}

export function rejectHost(res: ServerResponse, allowed: readonly string[]): void {
  res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`Invalid host header. Allowed hosts: ${allowed.join(', ')}\n`);
}

/**
 * Answers CORS. Returns true when the request was a preflight and has been fully handled.
 * Disallowed origins simply get no CORS headers, so the browser blocks them.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, origins: readonly string[] | '*'): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  if (origins !== '*' && !origins.includes(origin)) return false;
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Allow-Origin', origins === '*' ? '*' : origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (!preflight) return false;
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Accept, Authorization, Content-Type, X-CSRF-Token');
  res.setHeader('Access-Control-Max-Age', '300');
  res.writeHead(200);
  res.end();
  return true;
}

/** huma advertises plain http only for local Hosts; anything proxied is assumed to be TLS. */
function schemaUrl(req: IncomingMessage, name: string): string {
  const host = req.headers.host ?? 'localhost';
  const local = /^(localhost|127\.0\.0\.1|\[::1\])(:|$)/i.test(host);
  return `${local ? 'http' : 'https'}://${host}/schemas/${name}.json`;
}

/** Success bodies carry `$schema` first and a describedBy Link, like every huma response. */
export function sendJson(req: IncomingMessage, res: ServerResponse, schema: string, body: object): void {
  const payload = JSON.stringify({ $schema: schemaUrl(req, schema), ...body });
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    Link: `</schemas/${schema}.json>; rel="describedBy"`,
  });
  res.end(payload);
}

export function sendProblem(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  detail: string,
  errors?: ErrorDetail[],
): void {
  const body: Record<string, unknown> = {
    $schema: schemaUrl(req, 'ErrorModel'),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
  };
  if (errors) body.errors = errors;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/problem+json',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

export type BodyResult = { kind: 'ok'; body: Buffer } | { kind: 'too-large'; received: number };

/**
 * Reads the body up to `limit` bytes. Past the limit the rest is drained rather than the socket
 * reset, because clients that are still uploading would otherwise see ECONNRESET instead of 413.
 * The server's requestTimeout bounds how long a hostile client can keep us draining.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () =>
      resolve(received > limit ? { kind: 'too-large', received } : { kind: 'ok', body: Buffer.concat(chunks) }),
    );
    req.on('error', reject);
  });
}

/** Go's encoding/json escapes these; matching it keeps SSE payloads byte-compatible. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const SSE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
  Expires: '0',
  'X-Accel-Buffering': 'no',
  'X-Proxy-Buffering': 'no',
  Connection: 'keep-alive',
};
