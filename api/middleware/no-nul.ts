import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context';
import { ApiError, type Validation } from '../errors';

// PostgreSQL cannot hold a NUL character in text or jsonb: a value carrying one fails its query
// (a protocol error for a text parameter, 22P05 for jsonb), which surfaced as a 500 on every lookup
// by name and, for a task prompt, as a create activity retried forever. No identifier or text of
// this API has a use for NUL, so it is refused at the edge: in the URL by this middleware, and in
// every validated request value by the router's validation hook (nulValidations).

/** 400 for a path or query carrying %00 (a raw NUL byte never gets past the HTTP parser). */
export const rejectNulInUrl = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.url.includes('%00')) {
    throw new ApiError(400, 'Invalid request URL.', 'The path and query must not contain NUL characters (%00).');
  }
  await next();
});

const DETAIL = 'must not contain NUL characters';

/**
 * For text the caller does not author (an AI app's output relayed by the agent), where dropping a
 * whole upload for one byte would lose more than it protects: NUL becomes U+FFFD, as an invalid
 * UTF-8 byte does when a body is decoded.
 */
export const replaceNul = (s: string) => s.replaceAll('\u0000', '\uFFFD');

/** One validation per string (or key) holding a NUL in validated request data; [] when clean. */
export function nulValidations(data: unknown, field = ''): Validation[] {
  if (typeof data === 'string') return data.includes('\u0000') ? [{ field: field || 'body', detail: DETAIL }] : [];
  if (Array.isArray(data)) return data.flatMap((v, i) => nulValidations(v, `${field}[${i}]`));
  if (typeof data === 'object' && data !== null) {
    return Object.entries(data).flatMap(([k, v]) => {
      const path = field ? `${field}.${k}` : k;
      return k.includes('\u0000') ? [{ field: path, detail: DETAIL }] : nulValidations(v, path);
    });
  }
  return [];
}
