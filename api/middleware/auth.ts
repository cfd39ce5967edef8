import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { ApiError } from '../errors';
import { verifyApiKey } from '../auth/api-keys';

// User authentication, Coder-compatible: the session token may arrive in the Coder-Session-Token
// header (CLI/SDK), an Authorization: Bearer header (generic HTTP clients), or the
// coder_session_token cookie (browsers). Query-string tokens are deliberately not accepted: URLs end
// up in logs and browser history.

export const SESSION_TOKEN_HEADER = 'Coder-Session-Token';
export const SESSION_TOKEN_COOKIE = 'coder_session_token';
/** Coder's wording, which its CLI shows verbatim when a token stops working */
export const SIGNED_OUT_MESSAGE = 'You are signed out or your session has expired. Please sign in again to continue.';

export const signedOut = (detail: string) => new ApiError(401, SIGNED_OUT_MESSAGE, detail);

/** The presented session token and what carried it; the headers take precedence over the cookie. */
export function presentedSessionToken(c: Context): { token: string; via: 'header' | 'bearer' | 'cookie' } | undefined {
  const header = c.req.header(SESSION_TOKEN_HEADER)?.trim();
  if (header) return { token: header, via: 'header' };
  const authorization = c.req.header('Authorization');
  const bearer = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return { token: bearer[1]!, via: 'bearer' };
  const cookie = getCookie(c, SESSION_TOKEN_COOKIE);
  return cookie ? { token: cookie, via: 'cookie' } : undefined;
}

export function sessionTokenFrom(c: Context): string | undefined {
  return presentedSessionToken(c)?.token;
}

const REASONS = {
  malformed: 'The session token is not in the expected format.',
  unknown: 'The session token is invalid.',
  expired: 'The session token has expired.',
  suspended: 'The account is suspended. Contact an administrator to reactivate it.',
} as const;

/** Requires a valid user session; sets c.get('actor'). Every failure is 401 in the Coder envelope. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const token = sessionTokenFrom(c);
  if (!token) {
    throw signedOut(
      `Provide a session token in the "${SESSION_TOKEN_HEADER}" header, an "Authorization: Bearer" header or the "${SESSION_TOKEN_COOKIE}" cookie.`,
    );
  }
  const verified = await verifyApiKey(c.get('em'), token, { cache: c.get('sessions') });
  if (!verified.ok) throw signedOut(REASONS[verified.reason]);
  c.set('actor', {
    userId: verified.user.id,
    username: verified.user.username,
    isSiteOwner: verified.user.isSiteOwner,
    apiKeyId: verified.key.id,
    storedUser: verified.user.row,
  });
  // every later log line of this request names the caller
  c.set('log', c.get('log').child({ userId: verified.user.id }));
  await next();
});
