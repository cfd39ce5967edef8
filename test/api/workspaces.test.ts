// Workspaces and builds in Coder's shapes (issue 3), builds requested through POST
// /workspaces/{id}/builds going through the task workflow (issue 4: deleting a task's workspace
// deletes the task), and external agent credentials.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate } from '../helpers/fixtures';
import { activeTaskOf, taskStatusOf, taskWorld, type Person, type TaskWorld } from '../helpers/task-world';
import { sql } from '../helpers/task-rows';
import { waitFor } from '../helpers/wait';
import { NOTIFICATION_TEMPLATES } from '../../domain/app-status';

let stack: TestStack;
let world: TaskWorld;

before(async () => {
  stack = await startTestStack();
  world = await taskWorld(stack);
});
after(async () => {
  await stack?.close();
});

const activeTask = (who: Person, versionId = world.version.id) => activeTaskOf(stack, who, versionId);
const taskStatus = (who: Person, taskId: string) => taskStatusOf(stack, who, taskId);

const getWs = (who: Person, id: string, query = '') => stack.api('GET', `/api/v2/workspaces/${id}${query}`, { token: who.token });
const build = (who: Person, id: string, body: unknown) =>
  stack.api('POST', `/api/v2/workspaces/${id}/builds`, { token: who.token, body });

describe('GET /workspaces/{id}, /workspacebuilds/{id}, /workspaces/{id}/builds', () => {
  test('the workspace with its latest build, agents and apps', async () => {
    const task = await activeTask(world.alice);
    const res = await getWs(world.alice, task.workspace_id);
    assert.equal(res.status, 200);
    const ws = res.body;
    assert.equal(ws.id, task.workspace_id);
    assert.equal(ws.name, task.name);
    assert.equal(ws.owner_id, world.alice.user.id);
    assert.equal(ws.owner_name, 'alice');
    assert.equal(ws.organization_id, world.org.id);
    assert.equal(ws.organization_name, world.org.name);
    assert.equal(ws.template_id, world.template.id);
    assert.equal(ws.template_name, world.template.name);
    assert.equal(ws.task_id, task.id);
    assert.equal(ws.latest_app_status, null);
    assert.deepEqual(ws.health, { healthy: true, failing_agents: [] });
    const lb = ws.latest_build;
    assert.equal(lb.build_number, 1);
    assert.equal(lb.transition, 'start');
    assert.equal(lb.reason, 'initiator');
    assert.equal(lb.status, 'running');
    assert.equal(lb.job.status, 'succeeded');
    assert.equal(lb.resources.length, 1);
    const agent = lb.resources[0].agents[0];
    assert.equal(agent.name, 'main');
    assert.equal(agent.lifecycle_state, 'ready');
    assert.deepEqual(agent.health, { healthy: true });
    assert.equal(agent.resource_id, lb.resources[0].id);
    const app = agent.apps.find((a: { slug: string }) => a.slug === 'ai-agent');
    assert.ok(app, JSON.stringify(agent.apps));
    assert.equal(app.health, 'healthy');
    assert.equal(typeof app.url, 'string');
    assert.equal(typeof app.id, 'string');
    // the same build through its own route
    const byId = await stack.api('GET', `/api/v2/workspacebuilds/${lb.id}`, { token: world.alice.token });
    assert.deepEqual(byId.body, lb);
  });

  test('latest_app_status is the newest status of any app', async () => {
    const task = await activeTask(world.alice);
    const [row] = await sql<{ agent_id: string; app_id: string }>(
      stack,
      `select a.id as agent_id, p.id as app_id from workspace_builds b join workspace_agents a on a.build_id = b.id
       join workspace_apps p on p.agent_id = a.id where b.workspace_id = ? limit 1`,
      [task.workspace_id],
    );
    const id = randomUUID();
    await sql(
      stack,
      `insert into workspace_app_statuses (id, workspace_id, agent_id, app_id, state, message, uri, created_at)
       values (?, ?, ?, ?, 'idle', 'Waiting for input', null, now())`,
      [id, task.workspace_id, row!.agent_id, row!.app_id],
    );
    const status = (await getWs(world.alice, task.workspace_id)).body.latest_app_status;
    assert.equal(status.id, id);
    assert.equal(status.state, 'idle');
    assert.equal(status.message, 'Waiting for input');
    assert.equal(status.uri, '');
    assert.equal(status.workspace_id, task.workspace_id);
    assert.equal(status.agent_id, row!.agent_id);
    assert.equal(status.app_id, row!.app_id);
  });

  test('visibility: 404 for another member, 200 for the org admin; malformed ids are 400', async () => {
    const task = await activeTask(world.alice);
    assert.deepEqual((await getWs(world.bob, task.workspace_id)).body, {
      message: 'Resource not found or you do not have access to this resource',
    });
    assert.equal((await getWs(world.admin, task.workspace_id)).status, 200);
    assert.equal((await getWs(world.alice, randomUUID())).status, 404);
    assert.equal((await getWs(world.alice, 'nope')).status, 400);
    const lb = (await getWs(world.alice, task.workspace_id)).body.latest_build;
    assert.equal((await stack.api('GET', `/api/v2/workspacebuilds/${lb.id}`, { token: world.bob.token })).status, 404);
    assert.equal((await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}/builds`, { token: world.bob.token })).status, 404);
  });

  test("a build's parameters are empty (taskd templates have none), for whoever may see the build", async () => {
    const task = await activeTask(world.alice);
    const ws = (await getWs(world.alice, task.workspace_id)).body;
    assert.equal(ws.template_use_classic_parameter_flow, true);
    const params = (who: Person) => stack.api('GET', `/api/v2/workspacebuilds/${ws.latest_build.id}/parameters`, { token: who.token });
    assert.deepEqual((await params(world.alice)).body, []);
    assert.equal((await params(world.bob)).status, 404);
  });
});

describe('POST /workspaces/{id}/builds', () => {
  test('stop and start go through the task: it pauses and resumes; builds list newest first', async () => {
    const task = await activeTask(world.alice);
    const stopped = await build(world.alice, task.workspace_id, { transition: 'stop' });
    assert.equal(stopped.status, 201, JSON.stringify(stopped.body));
    assert.equal(stopped.body.transition, 'stop');
    assert.equal(stopped.body.build_number, 2);
    await waitFor(async () => (await taskStatus(world.alice, task.id)) === 'paused', { what: 'paused' });
    const started = await build(world.alice, task.workspace_id, { transition: 'start' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.transition, 'start');
    await waitFor(async () => (await taskStatus(world.alice, task.id)) === 'active', { what: 'active' });
    const again = await build(world.alice, task.workspace_id, { transition: 'start' });
    assert.equal(again.status, 409);
    const builds = await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}/builds`, { token: world.alice.token });
    assert.deepEqual(builds.body.map((b: { build_number: number }) => b.build_number), [3, 2, 1]);
    // a workspace build is not a task pause or resume: Coder's reason and no Task Paused/Resumed notice
    assert.deepEqual(builds.body.map((b: { reason: string }) => b.reason), ['initiator', 'initiator', 'initiator']);
    const notices = await sql(stack, `select 1 from notification_messages where labels->>'task_id' = ? and template_id in (?, ?)`, [
      task.id,
      NOTIFICATION_TEMPLATES.task_paused.id,
      NOTIFICATION_TEMPLATES.task_resumed.id,
    ]);
    assert.equal(notices.length, 0);
    const page = await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}/builds?limit=1&offset=1`, { token: world.alice.token });
    assert.deepEqual(page.body.map((b: { build_number: number }) => b.build_number), [2]);
  });

  test('deleting the workspace deletes its task', async () => {
    const task = await activeTask(world.alice);
    const res = await build(world.alice, task.workspace_id, { transition: 'delete' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.transition, 'delete');
    assert.equal((await stack.api('GET', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token })).status, 404);
    await waitFor(async () => (await getWs(world.alice, task.workspace_id)).status === 410, { what: 'workspace gone' });
    const kept = await getWs(world.alice, task.workspace_id, '?include_deleted=true');
    assert.equal(kept.status, 200);
    assert.equal(kept.body.latest_build.status, 'deleted');
    assert.equal(kept.body.task_id, null);
  });

  test('an unknown transition is 400; another member is 404', async () => {
    const task = await activeTask(world.alice);
    assert.equal((await build(world.alice, task.workspace_id, { transition: 'restart' })).status, 400);
    assert.equal((await build(world.bob, task.workspace_id, { transition: 'stop' })).status, 404);
  });
});

describe('GET /workspaces/{workspace}/external-agent/{agent}/credentials', () => {
  test('the owner gets a working agent token for an external workspace', async () => {
    const external = await createAiTemplate(stack, world.owner.token, world.org.id, {
      workspace: { provisioner: 'external', apps: [{ slug: 'ai-agent', url: 'http://127.0.0.1:3284' }], ai_task: { app: 'ai-agent' } },
    });
    const created = await stack.api('POST', '/api/v2/tasks/me', {
      token: world.alice.token,
      body: { template_version_id: external.version.id, input: 'run elsewhere' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const wsId = created.body.workspace_id;
    await waitFor(
      async () => {
        const lb = (await getWs(world.alice, wsId)).body.latest_build;
        return lb?.job.status === 'succeeded' && lb.resources[0]?.agents?.length === 1;
      },
      { what: 'external agent recorded' },
    );
    const path = `/api/v2/workspaces/${wsId}/external-agent/main/credentials`;
    const res = await stack.api('GET', path, { token: world.alice.token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(typeof res.body.agent_token, 'string');
    assert.ok(res.body.command.includes(res.body.agent_token));
    const manifest = await stack.api('GET', '/api/v2/workspaceagents/me/manifest', { headers: { 'Coder-Session-Token': res.body.agent_token } });
    assert.equal(manifest.status, 200, JSON.stringify(manifest.body));
    assert.equal((await stack.api('GET', path, { token: world.bob.token })).status, 404);
    assert.equal((await stack.api('GET', `/api/v2/workspaces/${wsId}/external-agent/other/credentials`, { token: world.alice.token })).status, 404);
  });

  test('a workspace that does not run an external agent is 400', async () => {
    const task = await activeTask(world.alice);
    const res = await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}/external-agent/main/credentials`, { token: world.alice.token });
    assert.equal(res.status, 400);
    assert.equal(res.body.message, 'Workspace does not have an external agent.');
  });
});

// A delete whose build fails: the task is gone at once (spec §3.5), but its workspace still stands
// and keeps its name, so it must stay deletable — again through POST /workspaces/{id}/builds, or as
// an orphan (Coder's escape hatch: the record goes, the provisioner is not run) when the provisioner
// keeps failing.
describe('a failed delete', () => {
  test('a failed delete leaves the workspace deletable: retried, then orphaned, after which the name is free', async () => {
    const { token } = world.alice;
    const { version } = await createAiTemplate(stack, world.owner.token, world.org.id, { workspace: { echo: { fail: ['delete'] } } });
    const create = () =>
      stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: version.id, input: 'work', name: 'doomed' } });
    const created = await create();
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, workspace_id: workspaceId } = created.body as { id: string; workspace_id: string };
    await waitFor(async () => (await stack.api('GET', `/api/v2/tasks/me/${id}`, { token })).body.status === 'active', { what: 'task active' });

    const workspace = () => stack.api('GET', `/api/v2/workspaces/${workspaceId}`, { token });
    const deleteFailed = (buildNumber: number) =>
      waitFor(async () => {
        const b = (await workspace()).body.latest_build;
        return b?.build_number === buildNumber && b.transition === 'delete' && b.status === 'failed';
      }, { what: `delete build #${buildNumber} failed`, intervalMs: 1 });
    // The retries below follow the failed build at once (a tight poll, no pause): the database shows
    // it failed while the workflow is still taking in that outcome, which is when a user retries.
    const build = (body: unknown) => stack.api('POST', `/api/v2/workspaces/${workspaceId}/builds`, { token, body });

    assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${id}`, { token })).status, 202);
    await deleteFailed(2);
    assert.equal((await stack.api('GET', `/api/v2/tasks/me/${id}`, { token })).status, 404, 'the task is deleted');
    const taken = await create();
    assert.equal(taken.status, 409, 'the standing workspace keeps its name');
    assert.equal(taken.body.message, 'Workspace "doomed" already exists.');
    assert.equal((await stack.api('POST', `/api/v2/tasks/me/${id}/resume`, { token })).status, 404, 'nothing but a delete is taken');

    const retried = await build({ transition: 'delete' });
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.equal(retried.body.build_number, 3);
    await deleteFailed(3);

    const wrong = await build({ transition: 'stop', orphan: true });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.message, 'Orphan is only permitted when deleting a workspace.');

    const orphaned = await build({ transition: 'delete', orphan: true });
    assert.equal(orphaned.status, 201, JSON.stringify(orphaned.body));
    assert.equal(orphaned.body.build_number, 4);
    await waitFor(async () => (await workspace()).status === 410, { what: 'workspace deleted' });
    const gone = await stack.api('GET', `/api/v2/workspaces/${workspaceId}?include_deleted=true`, { token });
    assert.equal(gone.body.latest_build.status, 'deleted');
    assert.equal((await build({ transition: 'delete' })).status, 404, 'a deleted workspace takes no more builds');

    const again = await create();
    assert.equal(again.status, 201, `the name is free again: ${JSON.stringify(again.body)}`);
  });
});
