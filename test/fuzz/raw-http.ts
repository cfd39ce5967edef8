// A raw HTTP client for the fuzzer. fetch() normalises what we want to send verbatim (it resolves
// "..", re-encodes paths and refuses invalid UTF-8 in strings), so requests go through node:http
// with the path and body bytes exactly as generated.
import http from 'node:http';

export interface RawRequest {
  method: string;
  /** sent as-is on the request line (must be bytes 0x21-0xff, as node:http requires) */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** parsed JSON, or undefined when the body is not JSON */
  json: unknown;
}

// a fresh connection per request: a hang-up then belongs to the request that caused it, never to
// a reused socket the server had already closed
const agent = new http.Agent({ keepAlive: false });

export function closeRawAgent(): void {
  agent.destroy();
}

export function rawRequest(baseUrl: string, req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = req.body.length;
    const r = http.request(
      { agent, host: url.hostname, port: url.port, method: req.method, path: req.path, headers, timeout: timeoutMs },
      (res) => {
        if (/event-stream/i.test(res.headers['content-type'] ?? '')) {
          // a watch stream stays open by design: its status and headers are the answer
          r.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '', json: undefined });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          if (/json/i.test(res.headers['content-type'] ?? '') && text.length > 0) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms: ${req.method} ${req.path.slice(0, 200)}`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Why `body` is not Coder's error envelope {message, detail?, validations?: [{field, detail}]}, or null. */
export function envelopeProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a JSON object';
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !['message', 'detail', 'validations'].includes(k));
  if (extra.length > 0) return `unexpected keys ${extra.join(', ')}`;
  if (typeof b.message !== 'string' || b.message === '') return 'message is not a non-empty string';
  if ('detail' in b && typeof b.detail !== 'string') return 'detail is not a string';
  if ('validations' in b) {
    if (!Array.isArray(b.validations)) return 'validations is not an array';
    for (const v of b.validations) {
      if (typeof v !== 'object' || v === null) return 'a validation is not an object';
      const { field, detail } = v as Record<string, unknown>;
      if (typeof field !== 'string' || typeof detail !== 'string') return 'a validation lacks string field/detail';
    }
  }
  return null;
}

/** A short, printable description of a request for failure messages. */
export function describeRequest(req: RawRequest): string {
  const body = req.body === undefined ? '' : ` body(${req.body.length}B)=${JSON.stringify(req.body.subarray(0, 160).toString('latin1'))}`;
  const headers = Object.entries(req.headers ?? {})
    .map(([k, v]) => `${k}: ${v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v}`)
    .join('; ');
  const path = req.path.length > 300 ? `${req.path.slice(0, 300)}…(${req.path.length})` : req.path;
  return `${req.method} ${path} [${headers}]${body}`;
}
