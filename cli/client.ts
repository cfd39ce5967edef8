// The CLI's HTTP client for the taskd (Coder-compatible) API: session token in the Coder header,
// JSON both ways, and every failure turned into an ApiRequestError that carries the server's
// {message, detail, validations} envelope so commands can print exactly what the server said.

export interface Validation {
  field: string;
  detail: string;
}

export class ApiRequestError extends Error {
  /** what the CLI was doing, e.g. `resolve task "x"`; prefixed to the message when printed */
  context: string[] = [];

  constructor(
    readonly status: number,
    readonly serverMessage: string,
    readonly detail?: string,
    readonly validations: Validation[] = [],
  ) {
    super(ApiRequestError.describe(serverMessage, detail, validations));
    this.name = 'ApiRequestError';
  }

  static describe(message: string, detail?: string, validations: Validation[] = []): string {
    const lines = [message];
    if (detail) lines.push(...detail.split('\n').map((l) => `  ${l}`));
    for (const v of validations) lines.push(`  - ${v.field}: ${v.detail}`);
    return lines.join('\n');
  }
}

/** The server could not be reached at all (refused, DNS, TLS, timeout). */
export class ConnectionError extends Error {
  constructor(url: string, cause: unknown) {
    const reason = (cause as { cause?: { message?: string; code?: string } })?.cause;
    super(`could not reach ${url}: ${reason?.code ?? reason?.message ?? (cause as Error).message}`);
    this.name = 'ConnectionError';
  }
}

/** Adds what the CLI was doing to an API error (so "not found" says what was not found). */
export async function during<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiRequestError) err.context.unshift(context);
    throw err;
  }
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  /** send the session token (default true) */
  auth?: boolean;
  signal?: AbortSignal;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

const REQUEST_TIMEOUT_MS = 60_000;

export class TaskdClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    readonly token?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  withToken(token: string): TaskdClient {
    return new TaskdClient(this.baseUrl, token);
  }

  url(path: string, query?: Record<string, string | undefined>): string {
    const u = new URL(`${this.baseUrl}/api/v2${path}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, v);
    return u.toString();
  }

  /** Any status comes back; only transport failures throw. */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'taskd-cli' };
    if (opts.auth !== false && this.token) headers['Coder-Session-Token'] = this.token;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
    const url = this.url(path, opts.query);
    const signal = opts.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal });
    } catch (err) {
      throw new ConnectionError(this.baseUrl, err);
    }
    const text = await res.text();
    let parsed: unknown = text;
    if (text.length > 0 && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    } else if (text.length === 0) {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  /** 2xx → the parsed body; anything else → ApiRequestError with the server's envelope. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    if (res.status >= 200 && res.status < 300) return res.body as T;
    throw toApiError(res);
  }

  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}

export function toApiError(res: RawResponse): ApiRequestError {
  const b = res.body as { message?: unknown; detail?: unknown; validations?: unknown } | string | undefined;
  if (b && typeof b === 'object' && typeof b.message === 'string') {
    const validations = Array.isArray(b.validations)
      ? b.validations.filter((v): v is Validation => typeof v?.field === 'string' && typeof v?.detail === 'string')
      : [];
    return new ApiRequestError(res.status, b.message, typeof b.detail === 'string' ? b.detail : undefined, validations);
  }
  const text = typeof b === 'string' ? b.trim().slice(0, 500) : '';
  return new ApiRequestError(res.status, `unexpected response status ${res.status}`, text || undefined);
}
