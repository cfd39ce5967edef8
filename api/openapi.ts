import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './context';

// The served OpenAPI document: generated from the routes' validating schemas, plus a rule every
// request value obeys beyond its own schema. PostgreSQL cannot store a NUL character, so a request
// whose parameters, body text or map keys hold one is refused with 400 (middleware/unstorable-text.ts). Each
// string of a request without a pattern, format, enum or const of its own, and each map's keys, say so here.
// (Answers are left alone: an error may quote what it refused. Unknown body properties are dropped
// unread, whatever their names.)

const NO_NUL = '^[^\\u0000]*$';

type Schema = Record<string, unknown>;

// A string's own pattern must exclude NUL itself (a schema beside it says so where the validating
// regex, with `.` or `\S`, does not): an allOf of two patterns makes a fuzzer generate and filter
// several times as long.
// A string marked `x-taskd-nul: replaced` (an AI app's relayed output) takes NUL and has it replaced.
function noNulString(schema: Schema): void {
  if (!['pattern', 'format', 'enum', 'const', 'x-taskd-nul'].some((k) => k in schema)) schema.pattern = NO_NUL;
}

/** `seen`: the schema objects done (the generator shares some between operations), by identity. */
function declareNoNul(node: unknown, components: Record<string, unknown>, seen: WeakSet<object>): void {
  if (typeof node !== 'object' || node === null || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const item of node) declareNoNul(item, components, seen);
    return;
  }
  const schema = node as Schema;
  if (typeof schema.$ref === 'string') declareNoNul(components[schema.$ref.replace('#/components/schemas/', '')], components, seen);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('string')) noNulString(schema);
  if (types.includes('object') && typeof schema.additionalProperties === 'object') {
    const keys = (schema.propertyNames ??= {}) as Schema;
    if (!seen.has(keys)) {
      seen.add(keys);
      noNulString(keys);
    }
  }
  for (const [key, value] of Object.entries(schema)) if (key !== 'propertyNames') declareNoNul(value, components, seen);
}

type Document = ReturnType<OpenAPIHono<AppEnv>['getOpenAPI31Document']>;

function requestSide(document: Document): void {
  const components = (document.components?.schemas ?? {}) as Record<string, unknown>;
  const seen = new WeakSet<object>();
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item as Record<string, { parameters?: { schema?: unknown }[]; requestBody?: { content?: Record<string, { schema?: unknown }> } }>)) {
      for (const parameter of operation.parameters ?? []) declareNoNul(parameter.schema, components, seen);
      for (const media of Object.values(operation.requestBody?.content ?? {})) declareNoNul(media.schema, components, seen);
    }
  }
}

/** Serves the document at `path` of `api`, built once on first request (all routes are registered by then). */
export function serveOpenApiDocument(api: OpenAPIHono<AppEnv>, path: string): void {
  let document: Document | undefined;
  api.get(path, (c) => {
    if (!document) {
      document = api.getOpenAPI31Document({
        openapi: '3.1.0',
        info: { title: 'taskd API', version: '0.1.0', description: 'Coder-compatible Tasks API served by taskd' },
      });
      requestSide(document);
    }
    return c.json(document);
  });
}
