import { createHash, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { buildAgentId } from '../../activities/builds';
import type { BenchStack } from './stack';

// What a benchmark starts from. Accounts and the template go through the HTTP API, as a client
// would; bulk tasks are written straight into the real tables (task, workspace, build 1, agent,
// app, task_workspace_apps), in the shape the workflow leaves an active echo task in, so seeding
// 10,000 takes seconds instead of an hour of workflows.

export interface ApiResult<T = any> {
  status: number;
  body: T;
}

export async function api<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['Coder-Session-Token'] = opts.token;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(baseUrl + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = text;
  if (text.length > 0 && (res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: res.status, body: body as T };
}

function expect(res: ApiResult, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
}

export interface BenchUser {
  token: string;
  userId: string;
  username: string;
  orgId: string;
}

export interface BenchTemplate {
  templateId: string;
  versionId: string;
}

/** The echo template of the benchmarks: the agent is ready and the AI app healthy as soon as a build ends. */
export function echoDefinition(echo: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    provisioner: 'echo',
    apps: [{ slug: 'ai', healthcheck: { path: '/status' } }],
    ai_task: { app: 'ai' },
    ...(Object.keys(echo).length > 0 ? { echo } : {}),
  };
}

const owners = new WeakMap<BenchStack, Promise<{ owner: BenchUser; template: BenchTemplate }>>();

async function createOwnerAndTemplate(stack: BenchStack) {
  const email = 'bench-owner@example.com';
  const password = randomBytes(12).toString('hex');
  const first = await api(stack.baseUrl, 'POST', '/api/v2/users/first', {
    body: { email, username: 'bench-owner', password, name: 'Bench Owner' },
  });
  expect(first, 201, 'POST /users/first');
  const login = await api(stack.baseUrl, 'POST', '/api/v2/users/login', { body: { email, password } });
  expect(login, 201, 'POST /users/login');
  const owner: BenchUser = {
    token: login.body.session_token,
    userId: first.body.user_id,
    username: 'bench-owner',
    orgId: first.body.organization_id,
  };
  const created = await api(stack.baseUrl, 'POST', `/api/v2/organizations/${owner.orgId}/templates`, {
    token: owner.token,
    body: { name: 'bench-echo', workspace: echoDefinition() },
  });
  expect(created, 201, 'POST /organizations/{org}/templates');
  return { owner, template: { templateId: created.body.id, versionId: created.body.active_version_id } };
}

/** The site owner (first user) and the echo template of this stack, created once. */
export function ownerAndTemplate(stack: BenchStack): Promise<{ owner: BenchUser; template: BenchTemplate }> {
  let pending = owners.get(stack);
  if (!pending) {
    pending = createOwnerAndTemplate(stack);
    owners.set(stack, pending);
  }
  return pending;
}

/**
 * A member of the default organization with an API token: the everyday caller, whose reads go
 * through the ownership scope (a site owner's would skip it). One per benchmark, so several
 * benchmarks can share a stack without seeing each other's tasks.
 */
export async function createMember(stack: BenchStack, username: string): Promise<BenchUser> {
  const { owner } = await ownerAndTemplate(stack);
  const created = await api(stack.baseUrl, 'POST', '/api/v2/users', {
    token: owner.token,
    body: { email: `${username}@example.com`, username, password: randomBytes(12).toString('hex') },
  });
  expect(created, 201, 'POST /users');
  const key = await api(stack.baseUrl, 'POST', `/api/v2/users/${created.body.id}/keys`, { token: owner.token });
  expect(key, 201, 'POST /users/{user}/keys');
  return { token: key.body.key, userId: created.body.id, username, orgId: owner.orgId };
}

export interface SeedOptions {
  owner: BenchUser;
  template: BenchTemplate;
  count: number;
  /** names are `${prefix}-${i}`; unique per owner */
  prefix: string;
}

const CHUNK = 2_000;

/**
 * Inserts `count` active echo tasks for `owner` in one transaction, newest last. No workflow runs
 * for them: they serve reads (a write to one of them starts its workflow from these records).
 * Returns their ids, oldest first.
 */
export async function bulkInsertTasks(databaseUrl: string, o: SeedOptions): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const ids: string[] = [];
  try {
    await client.query('begin');
    const base = Date.now() - o.count;
    for (let start = 0; start < o.count; start += CHUNK) {
      const n = Math.min(CHUNK, o.count - start);
      const cols = {
        task: [] as string[], ws: [] as string[], build: [] as string[], job: [] as string[], agent: [] as string[],
        app: [] as string[], token: [] as string[], name: [] as string[], at: [] as string[],
      };
      for (let i = 0; i < n; i++) {
        const build = randomUUID();
        cols.task.push(randomUUID());
        cols.ws.push(randomUUID());
        cols.build.push(build);
        cols.job.push(randomUUID());
        cols.agent.push(buildAgentId(build));
        cols.app.push(randomUUID());
        cols.token.push(createHash('sha256').update(randomBytes(32)).digest('hex'));
        cols.name.push(`${o.prefix}-${start + i}`);
        cols.at.push(new Date(base + start + i).toISOString());
      }
      ids.push(...cols.task);
      await insertChunk(client, o, cols);
    }
    await client.query('commit');
    // fresh statistics, as autovacuum would gather soon after organic growth: without them the
    // planner still believes the tables hold the few rows they had before the bulk insert
    await client.query('analyze tasks, workspaces, workspace_builds, workspace_agents, workspace_apps, task_workspace_apps');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
  return ids;
}

async function insertChunk(client: pg.Client, o: SeedOptions, c: Record<string, string[]>): Promise<void> {
  const rows = `unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::timestamptz[])
    as r(task_id, ws_id, build_id, job_id, agent_id, app_id, token_hash, name, at)`;
  const params = [c.task, c.ws, c.build, c.job, c.agent, c.app, c.token, c.name, c.at];
  const q = (sql: string, extra: unknown[] = []) => client.query(sql, [...params, ...extra]);
  const { owner, template } = o;
  await q(
    `insert into workspaces (id, organization_id, owner_id, template_id, name, host_id, deleted, created_at, updated_at)
     select ws_id, $10, $11, $12, name, null, false, at, at from ${rows}`,
    [owner.orgId, owner.userId, template.templateId],
  );
  await q(
    `insert into tasks (id, organization_id, owner_id, name, display_name, workspace_id, template_version_id,
                        template_parameters, prompt, created_at)
     select task_id, $10, $11, name, name, ws_id, $12, '{}'::jsonb, 'Benchmark task: do the thing', at from ${rows}`,
    [owner.orgId, owner.userId, template.versionId],
  );
  await q(
    `insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id, initiator_id,
                                   job_id, job_status, job_started_at, job_completed_at, created_at, updated_at)
     select build_id, ws_id, 1, 'start', 'initiator', $10, $11, job_id, 'succeeded', at, at, at, at from ${rows}`,
    [template.versionId, owner.userId],
  );
  await q(
    `insert into workspace_agents (id, build_id, name, lifecycle_state, lifecycle_changed_at, auth_token_hash, created_at, updated_at)
     select agent_id, build_id, 'main', 'ready', at, token_hash, at, at from ${rows}`,
  );
  await q(
    `insert into workspace_apps (id, agent_id, slug, display_name, command, url, health, healthcheck, created_at, updated_at)
     select app_id, agent_id, 'ai', '', null, 'http://127.0.0.1:0/echo/ai', 'healthy',
            '{"path":"/status","interval_s":3,"threshold":20}'::jsonb, at, at from ${rows}`,
  );
  await q(
    `insert into task_workspace_apps (task_id, workspace_build_number, workspace_agent_id, workspace_app_id)
     select task_id, 1, agent_id, app_id from ${rows}`,
  );
}
