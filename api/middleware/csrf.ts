import { createMiddleware } from 'hono/factory';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { ApiError } from '../errors';
import { SESSION_TOKEN_HEADER, presentedSessionToken } from './auth';

// Cross-site request forgery. A browser attaches the session cookie to requests that other sites
// make it send (a form's POST from another page, including a page on another port of the same host,
// which SameSite=Lax still counts as the same site). Only the cookie is at risk: a header token
// (Coder's CLI and SDK send Coder-Session-Token, curl a Bearer header) is something no other page
// can make a browser add. So a state-changing request authenticated by the cookie must prove it
// comes from taskd's own pages — the browser's Sec-Fetch-Site says same-origin, or its Origin is
// this server's — and must carry a JSON body type, which no HTML form can send and which a
// cross-origin script can send only after a preflight taskd never grants. Header-token clients are
// not asked for either, so they keep working with no Origin and curl's form content type.
//
// Login and first-user setup carry no session, but a forged login swaps the victim's cookie for an
// account the attacker controls: they refuse requests a browser marks as coming from another site,
// and accept ones that carry no browser evidence at all (curl, the CLI).
//
// Hono's csrf middleware checks only form content types and refuses requests without an Origin,
// which would break header-token clients that post with curl -d; the rule here depends on how the
// request authenticates, so it is written out.

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

export type Provenance = 'same-origin' | 'cross-site' | 'unknown';

/** What the browser says about where the request comes from; 'unknown' when nothing says (not a browser). */
export function provenance(c: Context, accessUrl: string): Provenance {
  const site = c.req.header('Sec-Fetch-Site');
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? 'same-origin' : 'cross-site';
  const origin = c.req.header('Origin');
  if (origin === undefined) return 'unknown';
  let host: string;
  try {
    host = new URL(origin).host; // "null" (sandboxed frames, privacy redirects) throws: cross-site
  } catch {
    return 'cross-site';
  }
  // the Host the browser addressed, or the public URL when a proxy in front rewrites Host
  const addressed = c.req.header('Host')?.toLowerCase();
  return host === addressed || origin === new URL(accessUrl).origin ? 'same-origin' : 'cross-site';
}

const crossSite = (detail: string) => new ApiError(403, 'Cross-site request refused.', detail);

/**
 * Refuses cookie-authenticated writes (and WebSocket handshakes) that do not come from this origin,
 * and writes without a JSON body type.
 * Runs before the API relabels other body types as JSON (app.ts), so it sees what was sent.
 */
export function refuseForgedCookieWrites(accessUrl: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    // a WebSocket handshake is a GET no same-origin policy guards: any page the browser shows could
    // open one with the cookie and read what it streams, so it is held to the same origin rule
    const websocket = c.req.header('Upgrade')?.toLowerCase() === 'websocket';
    if ((UNSAFE_METHODS.has(c.req.method) || websocket) && presentedSessionToken(c)?.via === 'cookie') {
      if (provenance(c, accessUrl) !== 'same-origin') {
        throw crossSite(
          "A request signed in with the session cookie must come from this server's own pages (Origin or Sec-Fetch-Site). " +
            `API clients send the token in the "${SESSION_TOKEN_HEADER}" or "Authorization: Bearer" header instead.`,
        );
      }
      if (!websocket && !JSON_TYPE.test(c.req.header('Content-Type') ?? '')) {
        throw new ApiError(415, 'Unsupported Content-Type.', 'A request signed in with the session cookie must send Content-Type: application/json.');
      }
    }
    await next();
  });
}

/** For login and first-user setup: refuses what a browser marks as sent from another site. */
export function refuseCrossSite(accessUrl: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (provenance(c, accessUrl) === 'cross-site') {
      throw crossSite("Signing in and creating the first user are accepted from this server's own pages, or from clients that are not browsers.");
    }
    await next();
  });
}
