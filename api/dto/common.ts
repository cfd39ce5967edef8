import { z } from '@hono/zod-openapi';
import type { ApiApp } from '../context';

// Shared OpenAPI pieces: Coder's error envelope and the session-token security scheme.

export const ErrorSchema = z
  .object({
    message: z.string(),
    detail: z.string().optional(),
    validations: z.array(z.object({ field: z.string(), detail: z.string() })).optional(),
  })
  .openapi('Response');

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (see validations)',
  401: 'Missing, invalid or expired session token',
  403: 'Visible but not permitted',
  404: 'Not found, or not visible to the caller',
  409: 'Conflicts with existing state',
  413: 'Request body too large',
  429: 'Too many attempts',
};

/** OpenAPI response entries for the given error statuses, all in the Coder envelope. */
export function errorResponses<const C extends number>(...codes: C[]) {
  return Object.fromEntries(
    codes.map((code) => [code, { description: DESCRIPTIONS[code] ?? 'Error', content: { 'application/json': { schema: ErrorSchema } } }]),
  ) as Record<C, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }>;
}

export const SESSION_SECURITY = [{ CoderSessionToken: [] as string[] }];

/** Body schema declaration that always validates (a missing/mistyped Content-Type must not skip it). */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } } as const;
}

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** Declares the session-token scheme that SESSION_SECURITY refers to in the OpenAPI document. */
export function registerSessionSecurityScheme(api: ApiApp): void {
  api.openAPIRegistry.registerComponent('securitySchemes', 'CoderSessionToken', {
    type: 'apiKey',
    in: 'header',
    name: 'Coder-Session-Token',
    description: 'Also accepted as "Authorization: Bearer <token>" or the coder_session_token cookie.',
  });
}

/**
 * A path parameter that is a UUID. Declared as one in the document, but checked by the route, which
 * answers a malformed id in Coder's words (`Invalid UUID "…".`).
 */
export const uuidPathParam = (name: string, description: string) =>
  z.string().openapi({ param: { name, in: 'path' }, description, format: 'uuid' });
