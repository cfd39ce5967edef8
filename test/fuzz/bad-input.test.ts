// Issue 6, "Bad input": a seeded property-based fuzzer against the real stack. Every endpoint of
// the served OpenAPI document (both prefixes, user and agent side) gets hostile paths, queries,
// credentials and bodies. Properties: no 5xx (bar the spec's 502s for an unreachable task app), the
// Coder envelope on every 4xx, nothing of bob's ever reaches anyone else (his records are 404 to
// alice and to her agents), and the server is healthy and useful afterwards.
//
//   FUZZ_SEED=<n>     reproduce a run (the seed is printed at the start and in every failure)
//   FUZZ_RUNS=<n>     requests per endpoint (default 40)
//   FUZZ_SHRINK=1     let fast-check shrink a failure to a minimal request (slow)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { closeRawAgent, describeRequest, envelopeProblem, rawRequest, type RawRequest, type RawResponse } from './raw-http';
import { EXTRA_ENDPOINTS, endpointsFromOpenApi, plausibleValues, requestArb, type Endpoint, type Generated } from './requests';
import { buildFuzzWorld, type FuzzWorld } from './world';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const NOT_FOUND = 'Resource not found or you do not have access to this resource';
/** Spec §3.7/§3.8: the echo workspace's task app is unreachable, which Coder answers with these 502s. */
const TASK_APP_502 = new Set([
  'Failed to reach task app endpoint.',
  'Failed to get status from task app.',
  'Failed to get messages from task app.',
  'Task app is not ready to accept input.',
  'Task app rejected the message.',
]);

let stack: TestStack;
let world: FuzzWorld;
let endpoints: Endpoint[];
let requests = 0;
let parserRejected = 0;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

const statuses = new Map<string, number>();

async function send(req: RawRequest, endpoint = 'targeted', timeoutMs?: number): Promise<RawResponse> {
  requests++;
  const res = await rawRequest(stack.baseUrl, req, timeoutMs);
  const key = `${endpoint} ${res.status}`;
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
  return res;
}

/** "200:12 400:40 ..." over all endpoints, and per endpoint when FUZZ_VERBOSE=1. */
function statusSummary(): string {
  const total = new Map<number, number>();
  for (const [key, n] of statuses) {
    const status = Number(key.split(' ').pop());
    total.set(status, (total.get(status) ?? 0) + n);
  }
  const fmt = (m: Map<number, number>) => [...m].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
  let out = `fuzz: statuses ${fmt(total)}`;
  if (process.env.FUZZ_VERBOSE === '1') out += '\n' + [...statuses].sort().map(([k, n]) => `  ${k} ×${n}`).join('\n');
  return out;
}

/** A stable per-endpoint seed, so adding a route does not change what the others are sent. */
function seedFor(ep: Endpoint): number {
  let h = SEED >>> 0;
  for (const ch of `${ep.method} ${ep.path}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h | 0;
}

/** A 5xx other than the spec's task-app 502s, or a 4xx outside the envelope; null when neither. */
function statusProblem(req: RawRequest, res: RawResponse): string | null {
  const body = res.json as { message?: unknown } | undefined;
  if (res.status >= 500) {
    const taskApp = res.status === 502 && /\/(send|logs)(\?|\/?$)/.test(req.path) && TASK_APP_502.has(String(body?.message));
    if (!taskApp) return `server error ${res.status}: ${res.text.slice(0, 300)}`;
  }
  if (res.status >= 400 && res.status < 500 && req.method !== 'HEAD') {
    const p = envelopeProblem(res.json);
    if (p) return `${res.status} without the error envelope (${p}): ${res.text.slice(0, 200)}`;
  }
  return null;
}

/** What is wrong with the answer to a generated request, or null. */
function problemWith(g: Generated, res: RawResponse): string | null {
  // Node's HTTP parser answers before the app runs for raw non-ASCII bytes on the request line (400)
  // and a head over 16 KiB (431); answerMalformedRequests (api/http-server.ts) puts those answers in
  // the envelope too
  const head = g.req.path.length + Object.entries(g.req.headers ?? {}).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  const parserStatus = /[\x80-\xff]/.test(g.req.path) ? 400 : head > 16_384 ? 431 : head > 15_000 && res.status === 431 ? 431 : null;
  if (parserStatus !== null) {
    parserRejected++;
    if (res.status !== parserStatus) return `refused by the HTTP parser: ${res.status}, expected ${parserStatus}`;
    return envelopeProblem(res.json);
  }
  const status = statusProblem(g.req, res);
  if (status) return status;
  if (g.auth !== 'bobAgent') {
    const sent = `${decodeSafely(g.req.path)} ${g.req.body?.toString('utf8') ?? ''} ${Object.values(g.req.headers ?? {}).join(' ')}`.toLowerCase();
    const text = res.text.toLowerCase();
    const leaked = world.secrets.find((s) => text.includes(s.toLowerCase()) && !sent.includes(s.toLowerCase()));
    if (leaked) return `${res.status} answer carries bob's ${JSON.stringify(leaked)}: ${res.text.slice(0, 300)}`;
    if (g.bobRef && (g.auth === 'alice' || g.auth === 'aliceAgent') && res.status < 300) {
      return `alice reached bob's record: ${res.status} ${res.text.slice(0, 300)}`;
    }
  }
  return null;
}

function decodeSafely(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

async function expectHealthy(): Promise<void> {
  assert.equal((await send({ method: 'GET', path: '/healthz' })).status, 200, '/healthz');
  await waitFor(async () => (await send({ method: 'GET', path: '/readyz' })).status === 200, { what: '/readyz 200', timeoutMs: 10_000 });
}

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  stack = await startTestStack();
  world = await buildFuzzWorld(stack);
  const doc = await stack.api('GET', '/api/v2/openapi.json');
  assert.equal(doc.status, 200);
  // destructive routes last, so the others still find alice's tasks alive
  const destructive = (ep: Endpoint) => ep.method === 'DELETE' || (ep.method === 'POST' && ep.path.endsWith('/builds'));
  endpoints = [...endpointsFromOpenApi(doc.body), ...EXTRA_ENDPOINTS].sort((a, b) => Number(destructive(a)) - Number(destructive(b)));
  console.log(`fuzz: seed ${SEED}, ${RUNS} runs per endpoint, ${endpoints.length} endpoints`);
});

after(async () => {
  console.log(`fuzz: ${requests} requests (${parserRejected} refused by the HTTP parser)`);
  console.log(statusSummary());
  closeRawAgent();
  process.off('unhandledRejection', onUnhandled);
  await stack?.close();
});

describe("bob's records are 404 to alice, whatever spelling she uses (spec §10)", () => {
  test('every user-side route with one of his ids or names answers the standard 404', async () => {
    const bodies: Record<string, unknown> = { send: { input: 'hi' }, input: { input: 'new prompt' }, builds: { transition: 'stop' } };
    const paths = world.bob.tasks.flatMap((t) => {
      const refs = [t.id, t.id.toUpperCase(), t.id.replace(/-/g, ''), `{${t.id}}`, `urn:uuid:${t.id}`];
      return [
        ...refs.flatMap((r) => ['GET', 'DELETE'].map((m) => [m, `/tasks/me/${r}`] as const)),
        ['GET', `/tasks/bob/${t.name}`],
        ['GET', `/tasks/${world.bob.user.id}/${t.name}`],
        ...['pause', 'resume', 'send', 'logs', 'input'].flatMap((op) =>
          refs.slice(0, 2).map((r) => [op === 'logs' ? 'GET' : op === 'input' ? 'PATCH' : 'POST', `/tasks/me/${r}/${op}`] as const)),
        ['GET', `/workspaces/${t.workspaceId}`],
        ['GET', `/workspaces/${t.workspaceId}/builds`],
        ['POST', `/workspaces/${t.workspaceId}/builds`],
        ['GET', `/workspaces/${t.workspaceId}/external-agent/${t.agentId}/credentials`],
        ...t.buildIds.map((b) => ['GET', `/workspacebuilds/${b}`] as const),
      ] as (readonly [string, string])[];
    });
    for (const prefix of ['/api/v2', '/api/experimental']) {
      for (const [method, path] of paths) {
        const op = path.split('/').pop()!;
        const body = bodies[op] ?? (method === 'POST' ? {} : undefined);
        const req: RawRequest = {
          method,
          path: prefix + path,
          headers: { 'Coder-Session-Token': world.alice.token, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
        };
        const res = await send(req);
        assert.equal(res.status, 404, `${describeRequest(req)} → ${res.status} ${res.text.slice(0, 300)}`);
        assert.deepEqual(res.json, { message: NOT_FOUND }, describeRequest(req));
      }
    }
    // and his tasks do not show up in any list she can ask for
    for (const q of ['', 'owner:bob', `owner:${world.bob.user.id}`, 'bob', 'status:active', `organization:${world.orgId}`]) {
      const res = await send({ method: 'GET', path: `/api/v2/tasks?q=${encodeURIComponent(q)}`, headers: { 'Coder-Session-Token': world.alice.token } });
      assert.ok(res.status === 200 || res.status === 400, `q=${q}: ${res.status}`);
      for (const s of world.secrets) assert.ok(!res.text.includes(s), `q=${q} lists bob's ${s}`);
    }
  });

  test("agent tokens reach only their own workspace's tasks", async () => {
    const snapshot = Buffer.from(JSON.stringify({ messages: [{ id: 0, role: 'agent', content: 'x', time: new Date().toISOString() }] }));
    const cases: { token: string; task: string; status: number }[] = [];
    for (const a of world.alice.tasks) {
      for (const b of world.bob.tasks) {
        cases.push({ token: a.agentToken, task: b.id, status: 404 }, { token: b.agentToken, task: a.id, status: 404 });
      }
      cases.push({ token: `${a.agentToken.slice(0, -2)}xx`, task: a.id, status: 401 });
      cases.push({ token: world.alice.token, task: a.id, status: 401 });
    }
    for (const c of cases) {
      for (const [path, body] of [
        [`/api/v2/workspaceagents/me/tasks/${c.task}/log-snapshot?format=agentapi`, snapshot],
        [`/api/v2/workspaceagents/me/tasks/${c.task}/messages`, snapshot],
      ] as const) {
        const req: RawRequest = { method: 'POST', path, headers: { 'Coder-Session-Token': c.token, 'Content-Type': 'application/json' }, body };
        const res = await send(req);
        assert.equal(res.status, c.status, `${describeRequest(req)} → ${res.status} ${res.text.slice(0, 200)}`);
        assert.equal(envelopeProblem(res.json), null, res.text);
      }
    }
    // an agent token is not a user session, and a user session is not an agent token
    for (const t of world.alice.tasks) {
      for (const path of ['/api/v2/tasks', '/api/v2/users/me', `/api/v2/tasks/me/${t.id}`]) {
        const res = await send({ method: 'GET', path, headers: { 'Coder-Session-Token': t.agentToken } });
        assert.equal(res.status, 401, `${path} with an agent token`);
      }
    }
    const manifest = await send({ method: 'GET', path: '/api/v2/workspaceagents/me/manifest', headers: { 'Coder-Session-Token': world.expiredToken } });
    assert.equal(manifest.status, 401);
  });
});

describe('NUL characters, which PostgreSQL refuses in text and JSON', () => {
  test('in every path parameter and every string field of every body: never a 5xx', async () => {
    const probes: RawRequest[] = [];
    for (const ep of endpoints.filter((e) => !e.root && !e.path.endsWith('/logout'))) {
      const token = ep.agent ? world.alice.tasks[0]!.agentToken : world.alice.token;
      const headers = { 'Coder-Session-Token': token, 'Content-Type': 'application/json' };
      const saneBody = Object.fromEntries(ep.bodyKeys.map((k) => [k, plausibleValues(world, k)[0]]));
      const encode = (body: object) => (ep.bodyKeys.length > 0 ? Buffer.from(JSON.stringify(body)) : undefined);
      const sanePath = (nulAt: string | null) =>
        ep.path.replace(/\{(\w+)\}/g, (_, name: string) => {
          const value = name === 'user' ? 'me' : name === 'task' ? world.alice.tasks[0]!.name : name === 'organization' ? world.orgId : name === 'template' ? world.templateId : name === 'templateversion' ? world.versionId : 'x';
          return name === nulAt ? `${value}%00` : value;
        }) + (ep.path.endsWith('/log-snapshot') ? '?format=agentapi' : '');
      for (const name of ep.params) probes.push({ method: ep.method, path: `/api/v2${sanePath(name)}`, headers, body: encode(saneBody) });
      for (const key of ep.bodyKeys.filter((k) => typeof saneBody[k] === 'string')) {
        probes.push({ method: ep.method, path: `/api/v2${sanePath(null)}`, headers, body: encode({ ...saneBody, [key]: `${saneBody[key]}\u0000` }) });
      }
    }
    const agentHeaders = { 'Coder-Session-Token': world.alice.tasks[0]!.agentToken, 'Content-Type': 'application/json' };
    const nulMessages = Buffer.from(JSON.stringify({ messages: [{ id: 0, role: 'agent', content: 'a\u0000b', time: new Date().toISOString() }] }));
    probes.push(
      { method: 'POST', path: `/api/v2/workspaceagents/me/tasks/${world.alice.tasks[0]!.id}/log-snapshot?format=agentapi`, headers: agentHeaders, body: nulMessages },
      { method: 'GET', path: `/api/v2/tasks?q=${encodeURIComponent('owner:a\u0000b')}`, headers: { 'Coder-Session-Token': world.alice.token } },
      { method: 'GET', path: `/api/v2/tasks?q=${encodeURIComponent('organization:\u0000')}`, headers: { 'Coder-Session-Token': world.alice.token } },
    );
    const failures: string[] = [];
    for (const req of probes) {
      const res = await send(req, 'nul', 5_000).catch((err: Error) => ({ status: 0, text: err.message, json: undefined, headers: {} }));
      const problem = res.status === 0 ? res.text : statusProblem(req, res);
      if (problem) failures.push(`${problem} ← ${describeRequest(req)}`);
    }
    assert.deepEqual(failures, []);
  });
});

describe('every endpoint, hostile input', () => {
  test('no 5xx, the envelope on every 4xx, no leak of another user\'s records', async (t) => {
    for (const ep of endpoints) {
      await t.test(`${ep.method} ${ep.path}`, async () => {
        const seed = seedFor(ep);
        const run = await fc.check(
          fc.asyncProperty(requestArb(world, ep), async (g) => {
            const res = await send(g.req, `${ep.method} ${ep.path}`).catch((err: Error) => {
              throw new Error(`no answer (${err.message})\n  request: ${describeRequest(g.req)}`);
            });
            const problem = problemWith(g, res);
            if (problem) throw new Error(`${problem}\n  request: ${describeRequest(g.req)}\n  auth: ${g.auth}`);
          }),
          { seed, numRuns: RUNS, endOnFailure: process.env.FUZZ_SHRINK !== '1' },
        );
        // our own report: fast-check's would print the whole counterexample, megabyte bodies included
        if (run.failed) {
          const err = run.errorInstance as Error | undefined;
          assert.fail(`${err?.message ?? 'failed'}\n  FUZZ_SEED=${SEED} (endpoint seed ${run.seed}, path ${run.counterexamplePath})`);
        }
      });
    }
  });

  test('afterwards: healthy, ready, and a normal request still works; nothing went unhandled', async () => {
    await expectHealthy();
    const me = await send({ method: 'GET', path: '/api/v2/users/me', headers: { 'Coder-Session-Token': world.alice.token } });
    assert.equal(me.status, 200, me.text);
    const created = await stack.api('POST', '/api/v2/tasks/me', {
      token: world.alice.token,
      body: { template_version_id: world.versionId, input: 'after the storm' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await waitFor(async () => (await stack.api('GET', `/api/v2/tasks/me/${created.body.id}`, { token: world.alice.token })).body.status === 'active', {
      what: 'a task created after the fuzz becomes active',
      timeoutMs: 30_000,
    });
    assert.deepEqual(unhandled, [], 'no unhandled promise rejections');
  });
});
