import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context';
import { ApiError, type Validation } from '../errors';

// PostgreSQL cannot hold a NUL character in text or jsonb: a value carrying one fails its query
// (a protocol error for a text parameter, 22P05 for jsonb), which surfaced as a 500 on every lookup
// by name and, for a task prompt, as a create activity retried forever. Nor can it hold a lone UTF-16
// surrogate (JSON's "\ud800" escape): text quietly turns it into U+FFFD while jsonb refuses it, so a
// task created with one was stored as something else and its audit row failed. No identifier or
// text of this API has a use for either, so both are refused at the edge, before anything is
// written: NUL in the URL by this middleware, and both in every validated request value by the
// router's validation hook (textValidations).

/** 400 for a path or query carrying %00 (a raw NUL byte never gets past the HTTP parser). */
export const rejectNulInUrl = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.url.includes('%00')) {
    throw new ApiError(400, 'Invalid request URL.', 'The path and query must not contain NUL characters (%00).');
  }
  await next();
});

const NUL_DETAIL = 'must not contain NUL characters';
const SURROGATE_DETAIL = 'must be well-formed Unicode (it holds a lone surrogate, e.g. an unpaired \\ud800 escape)';

// a high surrogate not followed by a low one, or a low one not preceded by a high one
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function problem(s: string): string | null {
  if (s.includes('\u0000')) return NUL_DETAIL;
  if (s.search(LONE_SURROGATE) !== -1) return SURROGATE_DETAIL;
  return null;
}

/**
 * For text the caller does not author (an AI app's output relayed by the agent), where dropping a
 * whole upload for one character would lose more than it protects: NUL and lone surrogates become
 * U+FFFD, as an invalid UTF-8 byte does when a body is decoded.
 */
export const replaceNul = (s: string) => s.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');

/** One validation per string (or key) PostgreSQL could not store as sent; [] when clean. */
export function textValidations(data: unknown, field = ''): Validation[] {
  if (typeof data === 'string') {
    const detail = problem(data);
    return detail ? [{ field: field || 'body', detail }] : [];
  }
  if (Array.isArray(data)) return data.flatMap((v, i) => textValidations(v, `${field}[${i}]`));
  if (typeof data === 'object' && data !== null) {
    return Object.entries(data).flatMap(([k, v]) => {
      const path = field ? `${field}.${k}` : k;
      const detail = problem(k);
      return detail ? [{ field: path, detail }] : textValidations(v, path);
    });
  }
  return [];
}
