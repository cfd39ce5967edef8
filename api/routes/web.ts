import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'hono';
import type { ApiApp, AppDeps } from '../context';
import { sessionTokenFrom } from '../middleware/auth';
import { countUsers } from '../../db/users';
import { verifyApiKey } from '../auth/api-keys';
import { PAGE_SECURITY_POLICY } from '../middleware/security-headers';

// The dashboard (web/): plain ES modules and CSS committed as source, so nothing has to be built.
// `/` is the page; `/web/<name>.<ext>` its assets, from one flat folder whose names are checked
// against a pattern, so no request can reach a file outside it. Every response carries a strict
// Content-Security-Policy: scripts, styles and connections only from this origin, no inline code,
// no framing. `/web/session` tells the page whether its cookie is signed in and whether the first
// user exists, always with 200: probing /users/me or /users/first would answer 401/404, which browsers
// log as console errors on every visit of a signed-out page.

const WEB_DIR = path.resolve(__dirname, '..', '..', 'web');

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(js|css|svg)$/;

/** The page's own policy; the headers every response carries come from api/middleware/security-headers.ts. */
function pagePolicy(c: Context): void {
  c.header('Content-Security-Policy', PAGE_SECURITY_POLICY);
}

async function sendFile(c: Context, name: string): Promise<Response> {
  let body: Buffer;
  try {
    body = await fs.readFile(path.join(WEB_DIR, name));
  } catch {
    return c.json({ message: 'Route not found.', detail: `${c.req.method} ${c.req.path}` }, 404);
  }
  pagePolicy(c);
  // revalidated on every load, so a new checkout is picked up without stale module graphs
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  c.header('ETag', etag);
  c.header('Cache-Control', 'no-cache');
  if (c.req.header('If-None-Match') === etag) return c.body(null, 304);
  c.header('Content-Type', CONTENT_TYPES[path.extname(name).slice(1)] ?? 'application/octet-stream');
  return c.body(new Uint8Array(body), 200);
}

export function registerWebRoutes(app: ApiApp, _deps: AppDeps): void {
  app.get('/', (c) => sendFile(c, 'index.html'));
  app.get('/web/session', async (c) => {
    const em = c.get('em');
    const token = sessionTokenFrom(c);
    const signedIn = token ? (await verifyApiKey(em, token, { cache: c.get('sessions') })).ok : false;
    const firstUserCreated = signedIn || (await countUsers(em)) > 0;
    pagePolicy(c);
    c.header('Cache-Control', 'no-store');
    return c.json({ signed_in: signedIn, first_user_created: firstUserCreated }, 200);
  });
  app.get('/web/:name', (c) => {
    const name = c.req.param('name');
    if (!ASSET_NAME.test(name)) return c.json({ message: 'Route not found.', detail: `${c.req.method} ${c.req.path}` }, 404);
    return sendFile(c, name);
  });
}
