import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

// Metrics and traces name a request by the route it was for ("/api/v2/tasks/:user/:task"), never by
// its path: a path carries ids, which would make a label (or a span name) per task.

/** The pattern of the route the request was for, or "unmatched" when no route was. Read after `next()`. */
export function routePattern(c: Context): string {
  // the last matched handler, not middleware ("ALL"): a 401 from the authentication middleware
  // still counts for the route it guarded
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i -= 1) {
    if (routes[i].method !== 'ALL') return routes[i].path;
  }
  return 'unmatched';
}
