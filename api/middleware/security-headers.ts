import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../context';

// Headers every response carries, so no route can forget them: Hono's secureHeaders (nosniff, so a
// browser never runs an API answer as a script or page; no framing; no referrer; a same-origin
// opener and resource policy). HSTS is left to whoever terminates TLS in front of taskd: sent over
// plain HTTP on a loopback port it would mean nothing, and the operator's proxy owns that policy.
// A header a route set itself (the pages' Content-Security-Policy) is kept.

export const securityHeaders = secureHeaders({ strictTransportSecurity: false, xFrameOptions: 'DENY', overwrite: false });

/** What the dashboard and the API reference page may load: this origin only, no inline code, no framing. */
export const PAGE_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * API answers hold session tokens, API keys, agent credentials, prompts and conversations: no
 * browser or intermediary may keep a copy. A route that chose its own caching keeps it.
 */
export const noStore = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
});
