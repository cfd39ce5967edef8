// Whole requests for one endpoint: path parameters (alice's, bob's, or hostile), odd path shapes,
// query strings, credentials of every kind and place, content types and bodies up to and beyond
// the body limit. The endpoint list comes from the served OpenAPI document, so a new route is
// fuzzed without anyone remembering to add it here.
import fc from 'fast-check';
import type { RawRequest } from './raw-http';
import type { FuzzWorld } from './world';
import {
  anyJson,
  badUuid,
  fieldValue,
  forgedToken,
  invalidUtf8,
  malformedJson,
  oddQuery,
  oddSegment,
  percentEncodeBytes,
  searchQuery,
  uuidVariants,
} from './values';

export interface Endpoint {
  method: string;
  /** OpenAPI template under the API prefix, e.g. /tasks/{user}/{task}; absolute when root is true */
  path: string;
  params: string[];
  agent: boolean;
  bodyKeys: string[];
  root?: boolean;
}

export type AuthKind = 'none' | 'forged' | 'expired' | 'alice' | 'aliceAgent' | 'bobAgent' | 'forgedAgent';

export interface Generated {
  req: RawRequest;
  auth: AuthKind;
  /** a path parameter names one of bob's records */
  bobRef: boolean;
}

type OpenApiDoc = {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>>;
  components?: { schemas?: Record<string, unknown> };
};

function schemaKeys(doc: OpenApiDoc, schema: unknown): string[] {
  let s = schema as { $ref?: string; properties?: Record<string, unknown> } | undefined;
  if (s?.$ref) s = doc.components?.schemas?.[s.$ref.split('/').pop()!] as typeof s;
  return Object.keys(s?.properties ?? {});
}

export function endpointsFromOpenApi(doc: OpenApiDoc): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      out.push({
        method: method.toUpperCase(),
        path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        agent: path.startsWith('/workspaceagents/me'),
        bodyKeys: schemaKeys(doc, op.requestBody?.content?.['application/json']?.schema),
      });
    }
  }
  return out;
}

/** Routes outside the OpenAPI document. */
export const EXTRA_ENDPOINTS: Endpoint[] = [
  { method: 'GET', path: '/docs', params: [], agent: false, bodyKeys: [] },
  { method: 'GET', path: '/openapi.json', params: [], agent: false, bodyKeys: [] },
  { method: 'GET', path: '/healthz', params: [], agent: false, bodyKeys: [], root: true },
  { method: 'GET', path: '/readyz', params: [], agent: false, bodyKeys: [], root: true },
  // no such route: exercises the not-found handler with every kind of path
  { method: 'GET', path: '/nonexistent/{task}', params: ['task'], agent: false, bodyKeys: [] },
];

/** Known values of each path parameter: what alice may name, and what belongs to bob. */
function paramPools(w: FuzzWorld): Record<string, { alice: string[]; bob: string[] }> {
  const a = w.alice;
  const b = w.bob;
  const ids = (p: typeof a, f: (t: (typeof a.tasks)[number]) => string[]) => p.tasks.flatMap(f);
  return {
    user: { alice: ['me', 'alice', 'ALICE', ...uuidVariants(a.user.id)], bob: [] },
    task: {
      alice: ids(a, (t) => [t.name, t.name.toUpperCase(), ...uuidVariants(t.id)]),
      bob: ids(b, (t) => [t.name, ...uuidVariants(t.id), t.workspaceId]),
    },
    workspace: { alice: ids(a, (t) => [t.workspaceId]), bob: ids(b, (t) => uuidVariants(t.workspaceId)) },
    workspacebuild: { alice: ids(a, (t) => t.buildIds), bob: ids(b, (t) => t.buildIds) },
    agent: { alice: ids(a, (t) => [t.agentId]), bob: ids(b, (t) => [t.agentId]) },
    organization: { alice: [w.orgId, 'default', 'coder'], bob: [] },
    template: { alice: [w.templateId], bob: [] },
    templatename: { alice: [w.templateName], bob: [] },
    templateversion: { alice: [w.versionId], bob: [] },
    templateversionname: { alice: [w.versionName], bob: [] },
  };
}

/**
 * Plausible values per body field, so some requests get past the first validation. The first is
 * valid where a valid value exists; a string field also gets a variant with a NUL character, which
 * PostgreSQL refuses in text and JSON alike.
 */
export function plausibleValues(w: FuzzWorld, key: string): unknown[] {
  const iso = new Date().toISOString();
  const table: Record<string, unknown[]> = {
    template_version_id: [w.versionId, '00000000-0000-0000-0000-000000000000'],
    template_version_preset_id: ['00000000-0000-0000-0000-000000000000'],
    input: ['hello there', 'fix the bug'],
    name: ['fuzz-task', 'a', 'new', 'x'.repeat(33)],
    display_name: ['Fuzz task', 'x'.repeat(65)],
    messages: [
      [{ id: 0, role: 'user', content: 'hi', time: iso }],
      [],
      [{ id: 1, role: 'robot', content: 'x', time: 'yesterday' }],
      [{ id: 2, role: 'agent', content: 'nul\u0000inside', time: iso }],
    ],
    state: ['ready', 'working', 'idle', 'complete', 'failure', 'starting', 'off'],
    changed_at: [iso, 'not a date'],
    healths: [{}, Object.fromEntries(w.alice.tasks.map((t) => [t.agentId, 'healthy']))],
    app_slug: ['ai-agent', 'missing'],
    message: ['ok', 'm'.repeat(161)],
    uri: ['', 'https://example.com'],
    transition: ['start', 'stop', 'delete', 'explode'],
    email: ['x@example.com', 'not-an-email'],
    username: ['fuzzer', 'bob', ''],
    password: ['password-123', ''],
    roles: [[], ['organization-admin'], ['owner']],
    lifetime: [0, -1, 1e12],
  };
  const values = Object.hasOwn(table, key) ? table[key]! : ['x'];
  return typeof values[0] === 'string' ? [...values, `${values[0]}\u0000`] : values;
}

function plausible(w: FuzzWorld, key: string): fc.Arbitrary<unknown> {
  return fc.constantFrom(...plausibleValues(w, key));
}

/** Every schema key with a plausible value: what a well-behaved client would send. */
function saneBody(w: FuzzWorld, ep: Endpoint): fc.Arbitrary<Buffer> {
  return fc
    .tuple(...ep.bodyKeys.map((k) => plausible(w, k).map((v) => [k, v] as const)))
    .map((pairs) => Buffer.from(JSON.stringify(Object.fromEntries(pairs))));
}

function bodyArb(w: FuzzWorld, ep: Endpoint): fc.Arbitrary<Buffer | undefined> {
  const keys = [...new Set([...ep.bodyKeys, 'input', 'name', 'messages', '__proto__', 'constructor'])];
  const pair = fc
    .constantFrom(...keys)
    .chain((k) => fc.oneof({ weight: 3, arbitrary: plausible(w, k) }, { weight: 4, arbitrary: fieldValue }).map((v) => [k, v] as const));
  const shaped = fc
    .array(pair, { maxLength: 6 })
    .chain((pairs) =>
      // start from plausible values for the schema's own keys, then overwrite a few
      fc.tuple(...ep.bodyKeys.map((k) => fc.option(plausible(w, k).map((v) => [k, v] as const), { freq: 3 }))).map((base) => {
        const obj: Record<string, unknown> = {};
        for (const kv of base) if (kv) obj[kv[0]] = kv[1];
        for (const [k, v] of pairs) Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
        return Buffer.from(JSON.stringify(obj));
      }),
    );
  const limit = 1024 * 1024;
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 8, arbitrary: shaped },
    { weight: 3, arbitrary: anyJson.map((v) => Buffer.from(JSON.stringify(v))) },
    { weight: 3, arbitrary: malformedJson.map((s) => Buffer.from(s)) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...keys), invalidUtf8).map(([k, bad]) =>
        Buffer.concat([Buffer.from(`{"${k}":"`), Buffer.from(bad), Buffer.from('"}')])),
    },
    {
      // around the 64 KiB snapshot cap and the 1 MiB request cap, on both sides
      weight: 1,
      arbitrary: fc
        .constantFrom(65_536 - 32, 65_536 + 1, limit - 64, limit + 1, limit + 200_000)
        .map((n) => Buffer.from(`{"messages":[],"input":"${'y'.repeat(Math.max(0, n - 30))}"}`)),
    },
  );
}

function tokenHeaders(w: FuzzWorld, auth: AuthKind): fc.Arbitrary<Record<string, string>> {
  const value: fc.Arbitrary<string | null> = {
    none: fc.constant(null),
    forged: fc.oneof(forgedToken, fc.constant(`${w.alice.token.split('-')[0]}-${'A'.repeat(22)}`)),
    expired: fc.constant(w.expiredToken),
    alice: fc.constant(w.alice.token),
    aliceAgent: fc.constantFrom(...w.alice.tasks.map((t) => t.agentToken)),
    bobAgent: fc.constantFrom(...w.bob.tasks.map((t) => t.agentToken)),
    forgedAgent: fc.oneof(forgedToken, fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
  }[auth];
  return fc.tuple(value, fc.constantFrom('header', 'header', 'bearer', 'cookie', 'both')).map(([v, where]): Record<string, string> => {
    if (v === null) return {};
    if (where === 'bearer') return { Authorization: `Bearer ${v}` };
    if (where === 'cookie') return { Cookie: `coder_session_token=${v}` };
    if (where === 'both') return { 'Coder-Session-Token': v, Cookie: 'coder_session_token=other-value' };
    return { 'Coder-Session-Token': v };
  });
}

const DIMENSIONS = ['auth', 'segs', 'prefix', 'shape', 'query', 'method', 'contentType', 'body'] as const;
type Dimension = (typeof DIMENSIONS)[number];

/**
 * A request that is sane except in up to three dimensions (credentials, path parameters, prefix,
 * path shape, query, method, content type, body), so hostile values get past the layers in front
 * of the code that handles them instead of all dying at routing or authentication.
 */
export function requestArb(w: FuzzWorld, ep: Endpoint): fc.Arbitrary<Generated> {
  const pools = paramPools(w);
  const all = Object.values(pools).flatMap((p) => p.alice);
  const poolOf = (name: string) => pools[name] ?? { alice: all, bob: [] };
  const saneSegment = (name: string) => fc.constantFrom(...poolOf(name).alice).map((value) => ({ value, bob: false }));
  const hostileSegment = (name: string): fc.Arbitrary<{ value: string; bob: boolean }> => {
    const pool = poolOf(name);
    const options: fc.WeightedArbitrary<{ value: string; bob: boolean }>[] = [
      { weight: 2, arbitrary: saneSegment(name) },
      { weight: 4, arbitrary: oddSegment.map((value) => ({ value, bob: false })) },
      { weight: 1, arbitrary: badUuid.map((value) => ({ value, bob: false })) },
    ];
    if (pool.bob.length > 0) options.push({ weight: 3, arbitrary: fc.constantFrom(...pool.bob).map((value) => ({ value, bob: true })) });
    return fc.oneof(...options);
  };
  // logging out with a real token would end alice's session for the rest of the run
  const logout = ep.path.endsWith('/logout');
  const saneAuth: AuthKind = logout ? 'none' : ep.agent ? 'aliceAgent' : 'alice';
  const hostileAuths: AuthKind[] = logout
    ? ['none', 'forged', 'expired', 'aliceAgent']
    : ['none', 'forged', 'expired', 'forgedAgent', ep.agent ? 'alice' : 'aliceAgent', 'bobAgent'];
  const isList = ep.path === '/tasks' && ep.method === 'GET';
  const known = ['alice', 'bob', w.alice.user.id, w.bob.user.id, w.orgId, 'default'];
  const saneQuery = ep.path.endsWith('/log-snapshot') ? '?format=agentapi' : '';
  const hostile: { [D in Dimension]: fc.Arbitrary<unknown> } = {
    auth: fc.constantFrom(...hostileAuths),
    segs: fc.tuple(...ep.params.map(hostileSegment)),
    prefix: fc.constantFrom('/api/v2/', '//api/v2', '/API/v2', '/api/v1', '/api/v2/.', '/api/v2/%2e', '/api/./v2', '/api/v2/..', ''),
    shape: fc.constantFrom('/', '//', '/..', '/%2e%2e', '/./', '/%2e%2e/%2e%2e/healthz', '/extra', '%00', ';', '%2f'),
    query: isList ? fc.oneof({ weight: 4, arbitrary: searchQuery(known) }, { weight: 1, arbitrary: oddQuery }) : oddQuery,
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS').filter((m) => m !== ep.method),
    contentType: fc.constantFrom<string | null>(null, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz',
      'multipart/form-data', 'application/json; charset=utf-16', 'application/problem+json', 'application/json, text/html', ''),
    body: bodyArb(w, ep),
  };
  const sane: { [D in Dimension]: fc.Arbitrary<unknown> } = {
    auth: fc.constant(saneAuth),
    segs: fc.tuple(...ep.params.map(saneSegment)),
    prefix: fc.constantFrom('/api/v2', '/api/experimental'),
    shape: fc.constant(''),
    query: isList ? fc.oneof(fc.constant(''), searchQuery(known)) : fc.constant(saneQuery),
    method: fc.constant(ep.method),
    contentType: fc.constant('application/json'),
    body: ep.bodyKeys.length === 0 ? fc.constant(undefined) : saneBody(w, ep),
  };
  return fc
    .subarray([...DIMENSIONS], { minLength: 1, maxLength: 3 })
    .chain((mutated) => fc.record(Object.fromEntries(DIMENSIONS.map((d) => [d, mutated.includes(d) ? hostile[d] : sane[d]]))))
    .map((r) => r as { auth: AuthKind; segs: { value: string; bob: boolean }[]; prefix: string; shape: string; query: string; method: string; contentType: string | null; body: Buffer | undefined })
    .chain((g) => tokenHeaders(w, g.auth).map((headers) => ({ ...g, headers })))
    .map((g) => {
      let i = 0;
      const filled = ep.path.replace(/\{\w+\}/g, () => g.segs[i++]!.value);
      const base = ep.root ? filled : `${g.prefix}${filled}`;
      const headers = { ...g.headers };
      if (g.contentType !== null && g.body !== undefined) headers['Content-Type'] = g.contentType;
      // node:http refuses other characters on the request line; they go percent-encoded
      const path = `${base}${g.shape}${g.query}`.replace(/[^\x21-\xff]/g, (c) => percentEncodeBytes(Buffer.from(c, 'utf8')));
      const req: RawRequest = { method: g.method, path: path.startsWith('/') ? path : `/${path}`, headers, body: g.body };
      return { req, auth: g.auth, bobRef: g.segs.some((s) => s.bob) };
    });
}
