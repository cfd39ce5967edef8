// The audit log is written with the action or the action does not happen (issue 14). A test-only
// trigger on audit_logs raises for rows whose request id carries a marker (the X-Request-Id header
// sets it), so each audited action is attacked on real PostgreSQL with its audit write failing: it
// must answer 500 in Coder's envelope and leave no trace — no user, key, template, membership, role
// change, prompt change, task or workflow. Refused creates are audited, never with their prompt.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { startTestStack, type ApiRequestOptions, type ApiResponse, type TestStack } from '../helpers/stack';
import { USER_PASSWORD, aiWorkspaceDefinition, createAiTemplate, createUserWithToken } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { activeTaskOf, seedTaskOf, taskStatusOf, taskWorld, type TaskWorld } from '../helpers/task-world';
import { addBuild, sql } from '../helpers/task-rows';
import { createApp } from '../../api/app';
import { createLogger } from '../../lib/logger';
import { stableUuid } from '../../lib/named-uuid';
import { taskWorkflowId } from '../../workflows/contracts';
import { INTERNAL_DETAIL } from '../../api/errors';

const MARKER = 'refuse-audit-';
const SETTLE_MARKER = 'refuse-settle-';
const AUDIT_FAILED = { message: 'Internal error writing the audit log.', detail: INTERNAL_DETAIL };

let stack: TestStack;
let world: TaskWorld;

/** Triggers that make audit_logs refuse rows (inserts, status updates) of marked request ids. */
async function refuseMarkedAuditWrites(on: TestStack): Promise<void> {
  for (const [name, timing, marker] of [['test_refuse_audit', 'insert', MARKER], ['test_refuse_settle', 'update', SETTLE_MARKER]] as const) {
    await sql(
      on,
      `create function ${name}() returns trigger language plpgsql as $$
       begin
         if new.request_id like '${marker}%' then raise exception 'audit ${timing} refused by the test'; end if;
         return new;
       end $$`,
    );
    await sql(on, `create trigger ${name} before ${timing} on audit_logs for each row execute function ${name}()`);
  }
}

async function dropRefusals(on: TestStack): Promise<void> {
  for (const name of ['test_refuse_audit', 'test_refuse_settle']) {
    await sql(on, `drop trigger if exists ${name} on audit_logs`);
    await sql(on, `drop function if exists ${name}()`);
  }
}

before(async () => {
  stack = await startTestStack();
  world = await taskWorld(stack);
  await refuseMarkedAuditWrites(stack);
});
after(async () => {
  if (stack) await dropRefusals(stack);
  await stack?.close();
});

const requestId = (refuse: boolean) => `${refuse ? MARKER : 'audit-ok-'}${randomBytes(6).toString('hex')}`;

/** A request whose audit rows the trigger refuses; it must be the audit failure's 500. */
async function refused(method: string, url: string, opts: ApiRequestOptions = {}): Promise<ApiResponse> {
  const res = await stack.api(method, url, { ...opts, headers: { ...opts.headers, 'X-Request-Id': requestId(true) } });
  assert.equal(res.status, 500, `${method} ${url}: ${JSON.stringify(res.body)}`);
  assert.deepEqual(res.body, AUDIT_FAILED, 'Coder\'s envelope, nothing of the database in it');
  return res;
}

/** The same request with auditing working, and the rows it wrote. */
async function audited(method: string, url: string, opts: ApiRequestOptions = {}) {
  const id = requestId(false);
  const res = await stack.api(method, url, { ...opts, headers: { ...opts.headers, 'X-Request-Id': id } });
  const rows = await sql<{ action: string; resource_type: string; resource_target: string; status_code: number; diff: Record<string, unknown> }>(
    stack,
    'select action, resource_type, resource_target, status_code, diff from audit_logs where request_id = ? order by resource_type',
    [id],
  );
  return { res, rows };
}

async function count(query: string, params: unknown[]): Promise<number> {
  const [row] = await sql<{ n: string }>(stack, `select count(*) as n from (${query}) q`, params);
  return Number(row!.n);
}

describe('a synchronous action is undone when its audit row cannot be written', () => {
  test('creating the first user (on a database of its own)', async () => {
    const fresh = await startTestStack({ worker: false });
    try {
      await refuseMarkedAuditWrites(fresh);
      const body = { email: 'first@example.com', username: 'first', password: USER_PASSWORD };
      const res = await fresh.api('POST', '/api/v2/users/first', { body, headers: { 'X-Request-Id': requestId(true) } });
      assert.equal(res.status, 500, JSON.stringify(res.body));
      assert.deepEqual(res.body, AUDIT_FAILED);
      assert.equal((await fresh.api('GET', '/api/v2/users/first')).status, 404, 'still no first user');
      assert.deepEqual(await sql(fresh, 'select id from organizations'), [], 'nor the default organization');
      assert.equal((await fresh.api('POST', '/api/v2/users/first', { body })).status, 201);
      assert.equal((await sql(fresh, "select 1 from audit_logs where resource_type = 'user' and status_code = 201")).length, 1);
      await dropRefusals(fresh);
    } finally {
      await fresh.close();
    }
  });

  test('creating a user', async () => {
    const body = { email: 'ghost@example.com', username: 'ghost', password: USER_PASSWORD };
    await refused('POST', '/api/v2/users', { token: world.owner.token, body });
    assert.equal(await count('select 1 from users where username = ?', ['ghost']), 0, 'no user');
    assert.equal(await count('select 1 from organization_members m join users u on u.id = m.user_id where u.username = ?', ['ghost']), 0);
    const ok = await audited('POST', '/api/v2/users', { token: world.owner.token, body });
    assert.equal(ok.res.status, 201, JSON.stringify(ok.res.body));
    assert.deepEqual(ok.rows.map((r) => [r.action, r.resource_type, r.resource_target, r.status_code]), [['create', 'user', 'ghost', 201]]);
  });

  test('logging in, and logging out', async () => {
    const user = await createUserWithToken(stack, world.owner.token, { username: 'lena' });
    const keys = () => count('select 1 from api_keys where user_id = ?', [user.user.id]);
    const before = await keys();
    const res = await refused('POST', '/api/v2/users/login', { body: { email: 'lena@example.com', password: USER_PASSWORD } });
    assert.equal(res.headers.get('set-cookie'), null, 'no session cookie');
    assert.equal(await keys(), before, 'no session key');
    const login = await audited('POST', '/api/v2/users/login', { body: { email: 'lena@example.com', password: USER_PASSWORD } });
    assert.equal(login.res.status, 201);
    assert.deepEqual(login.rows.map((r) => [r.action, r.status_code]), [['login', 201]]);
    const token: string = login.res.body.session_token;

    await refused('POST', '/api/v2/users/logout', { token });
    assert.equal((await stack.api('GET', '/api/v2/users/me', { token })).status, 200, 'the session still works');
    const logout = await audited('POST', '/api/v2/users/logout', { token });
    assert.equal(logout.res.status, 200);
    assert.deepEqual(logout.rows.map((r) => [r.action, r.status_code]), [['logout', 200]]);
    assert.equal((await stack.api('GET', '/api/v2/users/me', { token })).status, 401);
  });

  test('creating API keys and named tokens', async () => {
    const keys = () => count('select 1 from api_keys where user_id = ?', [world.bob.user.id]);
    const before = await keys();
    await refused('POST', '/api/v2/users/me/keys', { token: world.bob.token });
    await refused('POST', '/api/v2/users/me/keys/tokens', { token: world.bob.token, body: { token_name: 'ghost-token' } });
    assert.equal(await keys(), before, 'no key');
    const named = await audited('POST', '/api/v2/users/me/keys/tokens', { token: world.bob.token, body: { token_name: 'ghost-token' } });
    assert.equal(named.res.status, 201);
    assert.deepEqual(named.rows.map((r) => [r.action, r.resource_type, r.resource_target, r.status_code]), [['create', 'api_key', 'ghost-token', 201]]);
  });

  test('creating a template, adding a version, switching the active version', async () => {
    const url = `/api/v2/organizations/${world.org.id}/templates`;
    const body = { name: 'ghost-template', workspace: aiWorkspaceDefinition() };
    await refused('POST', url, { token: world.owner.token, body });
    assert.equal(await count('select 1 from templates where name = ?', ['ghost-template']), 0, 'no template');
    assert.equal(await count('select 1 from template_versions v join templates t on t.id = v.template_id where t.name = ?', ['ghost-template']), 0);

    const { template, version } = await createAiTemplate(stack, world.owner.token, world.org.id, { name: 'audited-template' });
    const versions = () => count('select 1 from template_versions where template_id = ?', [template.id]);
    await refused('POST', `/api/v2/templates/${template.id}/versions`, { token: world.owner.token, body: { name: 'ghost', workspace: aiWorkspaceDefinition() } });
    assert.equal(await versions(), 1, 'no version');
    const added = await audited('POST', `/api/v2/templates/${template.id}/versions`, {
      token: world.owner.token,
      body: { name: 'second', workspace: aiWorkspaceDefinition(), activate: false },
    });
    assert.equal(added.res.status, 201, JSON.stringify(added.res.body));
    assert.deepEqual(added.rows.map((r) => [r.resource_type, r.resource_target, r.status_code]), [['template_version', 'audited-template/second', 201]]);

    await refused('PATCH', `/api/v2/templates/${template.id}/versions`, { token: world.owner.token, body: { id: added.res.body.id } });
    const [row] = await sql<{ active_version_id: string }>(stack, 'select active_version_id from templates where id = ?', [template.id]);
    assert.equal(row!.active_version_id, version.id, 'the active version did not change');
  });

  test('creating an organization, adding a member, changing roles', async () => {
    await refused('POST', '/api/v2/organizations', { token: world.owner.token, body: { name: 'ghost-org' } });
    assert.equal(await count('select 1 from organizations where name = ?', ['ghost-org']), 0, 'no organization');
    const org = await audited('POST', '/api/v2/organizations', { token: world.owner.token, body: { name: 'audited-org' } });
    assert.equal(org.res.status, 201);
    assert.deepEqual(org.rows.map((r) => [r.resource_type, r.resource_target, r.status_code]), [['organization', 'audited-org', 201]]);
    const orgId: string = org.res.body.id;

    const members = () => count('select 1 from organization_members where organization_id = ? and user_id = ?', [orgId, world.bob.user.id]);
    await refused('POST', `/api/v2/organizations/${orgId}/members/${world.bob.user.id}`, { token: world.owner.token });
    assert.equal(await members(), 0, 'not a member');
    const added = await audited('POST', `/api/v2/organizations/${orgId}/members/${world.bob.user.id}`, { token: world.owner.token });
    assert.equal(added.res.status, 200);
    assert.equal(added.rows.length, 1);

    await refused('PUT', `/api/v2/organizations/${orgId}/members/${world.bob.user.id}/roles`, {
      token: world.owner.token,
      body: { roles: ['organization-admin'] },
    });
    const [member] = await sql<{ roles: string[] }>(stack, 'select roles from organization_members where organization_id = ? and user_id = ?', [orgId, world.bob.user.id]);
    assert.deepEqual(member!.roles, [], 'the roles did not change');
  });

  test("editing a paused task's prompt", async () => {
    const task = await seedTaskOf(stack, world, world.alice, { prompt: 'the original prompt' });
    await addBuild(stack, task, { transition: 'start', jobStatus: 'succeeded' });
    await addBuild(stack, task, { transition: 'stop', jobStatus: 'succeeded' });
    const url = `/api/v2/tasks/me/${task.taskId}/input`;
    await refused('PATCH', url, { token: world.alice.token, body: { input: 'a secret new prompt' } });
    const prompt = async () => (await sql<{ prompt: string }>(stack, 'select prompt from tasks where id = ?', [task.taskId]))[0]!.prompt;
    assert.equal(await prompt(), 'the original prompt');
    const ok = await audited('PATCH', url, { token: world.alice.token, body: { input: 'a secret new prompt' } });
    assert.equal(ok.res.status, 204, JSON.stringify(ok.res.body));
    assert.equal(await prompt(), 'a secret new prompt');
    assert.deepEqual(ok.rows.map((r) => [r.action, r.status_code, r.diff]), [['write', 204, { prompt: { old: '', new: '', secret: true } }]]);
  });
  test('deleting a task record that has no workspace (no workflow runs for it)', async () => {
    const task = await seedTaskOf(stack, world, world.alice, { withWorkspace: false });
    const deletedAt = async () => (await sql<{ deleted_at: Date | null }>(stack, 'select deleted_at from tasks where id = ?', [task.taskId]))[0]!.deleted_at;
    await refused('DELETE', `/api/v2/tasks/me/${task.taskId}`, { token: world.alice.token });
    assert.equal(await deletedAt(), null, 'not deleted');
    const ok = await audited('DELETE', `/api/v2/tasks/me/${task.taskId}`, { token: world.alice.token });
    assert.equal(ok.res.status, 202);
    assert.notEqual(await deletedAt(), null);
    assert.deepEqual(ok.rows.map((r) => [r.action, r.resource_type, r.status_code]), [['delete', 'task', 202]]);
  });
});

describe('a task create whose audit rows cannot be written starts nothing', () => {
  test('500, no task, no workflow; the same key then creates it', async () => {
    const key = `audit-${randomUUID()}`;
    const taskId = stableUuid('task', world.alice.user.id, key);
    const body = { template_version_id: world.version.id, input: 'a prompt nobody may read', name: 'never-started' };
    await refused('POST', '/api/v2/tasks/me', { token: world.alice.token, body, headers: { 'Idempotency-Key': key } });
    assert.equal(await count('select 1 from tasks where id = ?', [taskId]), 0, 'no task row');
    assert.equal(await count('select 1 from audit_logs where resource_id = ?', [taskId]), 0);
    await assert.rejects(stack.temporal.workflow.getHandle(taskWorkflowId(taskId)).describe(), WorkflowNotFoundError, 'no workflow');

    const ok = await audited('POST', '/api/v2/tasks/me', { token: world.alice.token, body, headers: { 'Idempotency-Key': key } });
    assert.equal(ok.res.status, 201, JSON.stringify(ok.res.body));
    assert.equal(ok.res.body.id, taskId);
    // the rows were committed (status 0) before the workflow started, then given the answer
    assert.deepEqual(ok.rows.map((r) => [r.action, r.resource_type, r.resource_target, r.status_code]), [
      ['create', 'task', 'never-started', 201],
      ['create', 'workspace', 'never-started', 201],
    ]);
    assert.ok(!JSON.stringify(ok.rows).includes('nobody may read'), 'the prompt is not audited');
  });

  test('a create refused by the workflow (name taken) leaves its rows with that answer', async () => {
    const body = { template_version_id: world.version.id, input: 'first', name: 'taken-name' };
    assert.equal((await stack.api('POST', '/api/v2/tasks/me', { token: world.bob.token, body })).status, 201);
    const again = await audited('POST', '/api/v2/tasks/me', { token: world.bob.token, body: { ...body, input: 'second' } });
    assert.equal(again.res.status, 409);
    assert.deepEqual(again.rows.map((r) => [r.resource_type, r.status_code]), [['task', 409], ['workspace', 409]]);
  });
});

test('a create whose answer cannot be recorded still happened, and its rows say it was never answered (status 0)', async () => {
  const id = `${SETTLE_MARKER}${randomBytes(6).toString('hex')}`;
  const res = await stack.api('POST', '/api/v2/tasks/me', {
    token: world.bob.token,
    body: { template_version_id: world.version.id, input: 'x', name: 'unsettled' },
    headers: { 'X-Request-Id': id },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const rows = await sql<{ resource_type: string; status_code: number }>(
    stack,
    'select resource_type, status_code from audit_logs where request_id = ? order by resource_type',
    [id],
  );
  assert.deepEqual(rows, [{ resource_type: 'task', status_code: 0 }, { resource_type: 'workspace', status_code: 0 }]);
});

describe('pause, resume and delete whose audit row cannot be written ask nothing of the workflow', () => {
  test('500 and no new build; with auditing working, one row each with the answer', async () => {
    const task = await activeTaskOf(stack, world.alice, world.version.id);
    const builds = () => count('select 1 from workspace_builds where workspace_id = ?', [task.workspace_id]);
    const before = await builds();
    const at = (op: string) => `/api/v2/tasks/me/${task.id}${op}`;

    await refused('POST', at('/pause'), { token: world.alice.token });
    await refused('POST', `/api/v2/workspaces/${task.workspace_id}/builds`, { token: world.alice.token, body: { transition: 'stop' } });
    assert.equal(await builds(), before, 'no stop build');
    assert.equal(await taskStatusOf(stack, world.alice, task.id), 'active');
    const pause = await audited('POST', at('/pause'), { token: world.alice.token });
    assert.equal(pause.res.status, 202, JSON.stringify(pause.res.body));
    assert.deepEqual(pause.rows.map((r) => [r.action, r.resource_type, r.resource_target, r.status_code]), [['stop', 'workspace', task.name, 202]]);
    await waitFor(async () => (await taskStatusOf(stack, world.alice, task.id)) === 'paused', { what: 'task paused' });

    const paused = await builds();
    await refused('POST', at('/resume'), { token: world.alice.token });
    assert.equal(await builds(), paused, 'no start build');
    const again = await audited('POST', at('/resume'), { token: world.alice.token });
    assert.equal(again.res.status, 202);
    assert.deepEqual(again.rows.map((r) => [r.action, r.status_code]), [['start', 202]]);
    await waitFor(async () => (await taskStatusOf(stack, world.alice, task.id)) === 'active', { what: 'task active again' });
    // a refusal before the workflow is asked is recorded with its answer
    const running = await audited('POST', at('/resume'), { token: world.alice.token });
    assert.equal(running.res.status, 409);
    assert.deepEqual(running.rows.map((r) => [r.action, r.status_code]), [['start', 409]]);

    await refused('DELETE', at(''), { token: world.alice.token });
    assert.equal((await stack.api('GET', at(''), { token: world.alice.token })).status, 200, 'not deleted');
    const deleted = await audited('DELETE', at(''), { token: world.alice.token });
    assert.equal(deleted.res.status, 202);
    assert.deepEqual(deleted.rows.map((r) => [r.action, r.resource_type, r.status_code]), [['delete', 'task', 202]]);
    assert.equal((await stack.api('GET', at(''), { token: world.alice.token })).status, 404);
  });
});

describe('refused creates are audited once, with the attempted name and never the prompt', () => {
  const prompt = 'my confidential prompt 5e1f';
  for (const [what, name, target] of [
    ['a name over 255 characters', 'n'.repeat(300), 'n'.repeat(255)],
    ['a name with a lone surrogate', 'bad \ud800 name', 'bad \ufffd name'],
    ['a name with NUL', 'nul\u0000name', 'nul\ufffdname'],
  ] as const) {
    test(what, async () => {
      const res = await audited('POST', '/api/v2/tasks/me', {
        token: world.alice.token,
        body: { template_version_id: world.version.id, input: prompt, name },
      });
      assert.equal(res.res.status, 400, JSON.stringify(res.res.body));
      assert.equal(res.rows.length, 1, JSON.stringify(res.rows));
      const [row] = res.rows;
      assert.equal(row!.action, 'create');
      assert.equal(row!.resource_type, 'task');
      assert.equal(row!.status_code, 400);
      assert.equal(row!.resource_target, target);
      assert.ok(!JSON.stringify(row).includes(prompt), 'no prompt in the row');
    });
  }

  test('a prompt with a lone surrogate: 400, one row, without the prompt', async () => {
    const res = await audited('POST', '/api/v2/tasks/me', {
      token: world.alice.token,
      body: { template_version_id: world.version.id, input: `${prompt} \udc00`, name: 'surrogate-prompt' },
    });
    assert.equal(res.res.status, 400);
    assert.deepEqual(res.rows.map((r) => [r.resource_target, r.status_code]), [['surrogate-prompt', 400]]);
    assert.ok(!JSON.stringify(res.rows).includes('confidential'), 'no prompt in the row');
  });
});

test('a failed audit write is logged without the prompt or the statement\'s values', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-audit-log-')), 'api.log');
  const log = createLogger('info', 'audit-test', file);
  const app = createApp({ config: stack.config, orm: stack.orm, temporal: stack.temporal, log });
  const res = await app.request('/api/v2/tasks/me', {
    method: 'POST',
    headers: { 'Coder-Session-Token': world.alice.token, 'Content-Type': 'application/json', 'X-Request-Id': requestId(true) },
    body: JSON.stringify({ template_version_id: world.version.id, input: 'secret prompt 0b7e', name: 'logged-task' }),
  });
  assert.equal(res.status, 500);
  const text = await waitFor(() => {
    const written = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    return written.includes('Internal error writing the audit log.') ? written : null;
  }, { what: 'the error logged' });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  assert.match(text, /audit insert refused by the test/, 'the cause is logged');
  assert.ok(!text.includes('secret prompt 0b7e'), 'no prompt in the log');
  assert.ok(!text.includes('logged-task'), 'no bound values (the task name) in the log');
});

test('an ordinary action writes exactly one row', async () => {
  const res = await audited('POST', '/api/v2/users/me/keys', { token: world.alice.token });
  assert.equal(res.res.status, 201);
  assert.equal(res.rows.length, 1);
  assert.deepEqual([res.rows[0]!.action, res.rows[0]!.resource_type, res.rows[0]!.status_code], ['create', 'api_key', 201]);
});
