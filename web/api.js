// The dashboard's only door to the server: same-origin JSON requests authenticated by the HttpOnly
// session cookie the login route sets, and Coder's error envelope turned into readable words. Every
// write says Content-Type: application/json, body or not: the server accepts cookie-signed writes
// only with it (what an HTML form on another site cannot send).

export const API = '/api/v2';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.detail = body?.detail || '';
    this.validations = Array.isArray(body?.validations) ? body.validations : [];
  }
}

export function api(method, path, body) {
  return request(method, API + path, body);
}

/** Any same-origin JSON URL (the dashboard's own /web/session as well as the API). */
export async function request(method, url, body) {
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: method === 'GET' ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, { message: 'The server could not be reached.', detail: 'Check your connection and try again.' });
  }
  const text = await res.text();
  let parsed = null;
  if (text && (res.headers.get('content-type') || '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, parsed ?? { message: `The server answered ${res.status} ${res.statusText}.` });
  return parsed;
}

/** One sentence (plus detail and field problems) for an error, whatever threw it. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return { message: err?.message || String(err), detail: '', validations: [] };
  return { message: err.message, detail: err.detail, validations: err.validations };
}

/** A path segment, escaped. */
export const seg = (s) => encodeURIComponent(s);
