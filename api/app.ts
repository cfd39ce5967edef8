import { clientAddress } from '../domain/trusted-proxies';
import { peerIp } from './audit';
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Context } from 'hono';
import { ZodError } from 'zod';
import type { AppDeps, AppEnv } from './context';
import { ApiError, dependencyDown, fromWorkflowError, unavailable } from './errors';
import { toValidations } from '../domain/workspace-definition';
import { rejectNulInUrl, textValidations } from './middleware/unstorable-text';
import { noStore, securityHeaders } from './middleware/security-headers';
import { refuseForgedCookieWrites } from './middleware/csrf';
import { registerHealthRoutes } from './routes/health';
import { registerApiRoutes } from './routes';
import { registerWebRoutes } from './routes/web';
import { measureRequests } from './middleware/http-metrics';
import { traceRequests } from './middleware/http-tracing';
import { serveOpenApiDocument } from './openapi';

/** Builds the HTTP application; all I/O goes through deps so tests can boot it against real services. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();

  // first, so that the latency covers every later middleware too
  if (deps.metrics) app.use('*', measureRequests(deps.metrics));
  if (deps.traced) app.use('*', traceRequests());

  app.use('*', securityHeaders);
  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.set('log', deps.log.child({ requestId }));
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    const ms = Math.round(performance.now() - started);
    c.get('log').debug({ method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request');
  });

  const limitBody = bodyLimit({
    maxSize: deps.config.http.maxBodyBytes,
    onError: (c) =>
      c.json({ message: 'Request body is too large.', detail: `The limit is ${deps.config.http.maxBodyBytes} bytes.` }, 413),
  });
  // Reading a GET's body would make the Node adapter build a full Request (and AbortController)
  // for every read; no GET or HEAD route reads a body.
  app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));

  app.use('*', async (c, next) => {
    c.set('clientIp', clientAddress(peerIp(c), c.req.header('x-forwarded-for'), deps.config.http.trustedProxies));
    c.set('em', deps.orm.em.fork());
    c.set('sessions', deps.sessions);
    await next();
  });

  app.use('/api/*', refuseForgedCookieWrites(deps.config.http.accessUrl));

  // Coder decodes every request body as JSON whatever its Content-Type (curl -d sends a form type);
  // the route validators only read JSON bodies, so label the body for them instead of answering 415.
  app.use('/api/*', async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(c.req.method) && !/json|multipart\/form-data/i.test(type)) {
      c.req.raw.headers.set('content-type', 'application/json');
    }
    await next();
  });

  app.use('/api/*', rejectNulInUrl);
  app.use('/api/*', noStore);

  registerHealthRoutes(app, deps);
  registerWebRoutes(app, deps);

  const api = createApiRouter(deps);
  app.route('/api/v2', api);
  app.route('/api/experimental', api);

  // A known path asked with a method it does not have is 405 with the methods it has (as Coder's
  // router answers), not "Route not found."
  const routes = app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({
      method: r.method,
      pattern: new RegExp(`^${r.path.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}/?$`),
      // a literal segment wins over a parameter, as in the router: /tasks/watch is not /tasks/{user}
      literals: r.path.split('/').filter((seg) => seg !== '' && !seg.startsWith(':') && seg !== '*').length,
    }));
  app.notFound((c) => {
    const matching = routes.filter((r) => r.pattern.test(c.req.path));
    const best = Math.max(0, ...matching.map((r) => r.literals));
    const allowed = [...new Set(matching.filter((r) => r.literals === best).map((r) => r.method))];
    if (allowed.length > 0) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      c.header('Allow', allowed.join(', '));
      return c.json({ message: 'Method not allowed.', detail: `${c.req.method} ${c.req.path}: use ${allowed.join(', ')}` }, 405);
    }
    return c.json({ message: 'Route not found.', detail: `${c.req.method} ${c.req.path}` }, 404);
  });
  app.onError((err, c) => handleError(err, c));
  return app;
}

function createApiRouter(deps: AppDeps) {
  const api = new OpenAPIHono<AppEnv>({
    // zod validation failures of declared routes become Coder's envelope with one validation per field
    defaultHook: (result, c) => {
      if (!result.success) {
        const validations = toValidations(result.error as unknown as ZodError);
        return c.json({ message: 'Validation failed.', validations }, 400);
      }
      const unstorable = textValidations(result.data);
      if (unstorable.length > 0) return c.json({ message: 'Validation failed.', validations: unstorable }, 400);
    },
  });
  registerApiRoutes(api, deps);
  serveOpenApiDocument(api, '/openapi.json');
  api.onError((err, c) => handleError(err, c));
  return api;
}

function handleError(err: unknown, c: Context<AppEnv>) {
  if (err instanceof ApiError) {
    if (err.status >= 500) c.get('log')?.error({ err: err.cause ?? err }, err.message);
    return c.json(err.body(), err.status);
  }
  const fromWorkflow = fromWorkflowError(err);
  if (fromWorkflow) return c.json(fromWorkflow.body(), fromWorkflow.status);
  if (err instanceof HTTPException) {
    if (err.status === 400 && /json/i.test(err.message)) {
      return c.json({ message: 'Request body must be valid JSON.', detail: err.message }, 400);
    }
    return c.json({ message: err.message || 'Request failed.' }, err.status);
  }
  if (err instanceof ZodError) {
    return c.json({ message: 'Validation failed.', validations: toValidations(err) }, 400);
  }
  const down = dependencyDown(err);
  const log = c.get('log');
  if (down) {
    log?.warn({ err }, `${down} unavailable`);
    const e = unavailable(down === 'database' ? 'The database' : 'The workflow service', String((err as Error).message ?? ''));
    return c.json(e.body(), e.status);
  }
  log?.error({ err }, 'unhandled error');
  return c.json({ message: 'An internal server error occurred.', detail: 'See the server log for the request id.' }, 500);
}
