// The workflow's guarantees seen the way a client sees them, over HTTP: start timeouts end in
// error, auto-pause pauses, pause/resume notify exactly once (signed webhook), and a task that
// exists without a workflow (written by a benchmark) is taken over on its first operation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate } from '../helpers/fixtures';
import { taskWorld, seedTaskOf, type Person, type TaskWorld } from '../helpers/task-world';
import { addBuild } from '../helpers/task-rows';
import { waitFor } from '../helpers/wait';
import { NOTIFICATION_TEMPLATES } from '../../domain/app-status';
import { buildsOf, handleOf, notificationsOf, rows } from './support';

const SECRET = 'http-test-secret';

describe('task workflow over HTTP', () => {
  let stack: TestStack;
  let world: TaskWorld;
  let hook: http.Server;
  const delivered: { id: string; valid: boolean; body: any }[] = [];

  before(async () => {
    hook = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        let valid = true;
        try {
          new Webhook(SECRET, { format: 'raw' }).verify(raw, req.headers as Record<string, string>);
        } catch {
          valid = false;
        }
        delivered.push({ id: String(req.headers['webhook-id']), valid, body: JSON.parse(raw) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
    stack = await startTestStack({ env: { NOTIFY_WEBHOOK_URL: url, NOTIFY_WEBHOOK_SECRET: SECRET } });
    world = await taskWorld(stack);
  });
  after(async () => {
    await stack?.close();
    await new Promise<void>((r) => hook.close(() => r()));
  });

  const create = async (who: Person, versionId: string) => {
    const res = await stack.api('POST', '/api/v2/tasks/me', { token: who.token, body: { template_version_id: versionId, input: 'go' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; name: string; workspace_id: string };
  };
  const read = (who: Person, id: string) => stack.api('GET', `/api/v2/tasks/me/${id}`, { token: who.token });
  const until = (who: Person, id: string, status: string, timeoutMs = 15_000) =>
    waitFor(async () => {
      const t = await read(who, id);
      return t.body.status === status ? t.body : null;
    }, { timeoutMs, what: `task ${status}` });

  it('an agent that never becomes ready: initializing, then error with the timeout in current_state', async () => {
    const { version } = await createAiTemplate(stack, world.owner.token, world.org.id, {
      workspace: { echo: { agent_lifecycle: 'none' }, timeouts: { agent_ready_s: 1 } },
    });
    const task = await create(world.alice, version.id);
    const first = await until(world.alice, task.id, 'initializing');
    assert.equal(first.current_state?.state, 'working');
    const failed = await until(world.alice, task.id, 'error');
    assert.equal(failed.workspace_agent_lifecycle, 'start_timeout');
    assert.equal(failed.current_state.state, 'failure');
    assert.match(failed.current_state.message, /did not become ready within 1 s/);
  });

  it('auto-pause: an idle task is paused with reason task_auto_pause and one "idle timeout" notification', async () => {
    const { version } = await createAiTemplate(stack, world.owner.token, world.org.id, { workspace: { auto_pause: { idle_timeout_s: 1 } } });
    const task = await create(world.bob, version.id);
    await until(world.bob, task.id, 'active');
    await until(world.bob, task.id, 'paused');
    const builds = await buildsOf(stack, task.workspace_id);
    assert.deepEqual(builds.map((b) => [b.transition, b.reason]), [['start', 'initiator'], ['stop', 'task_auto_pause']]);
    const sent = await waitFor(async () => {
      const n = (await notificationsOf(stack, world.bob.user.id)).filter((x) => x.labels.task_id === task.id);
      return n.length === 1 && n[0]!.status === 'sent' ? n : null;
    }, { what: 'auto-pause notification sent' });
    assert.equal(sent[0]!.labels.pause_reason, 'idle timeout');
    const calls = delivered.filter((d) => d.id === sent[0]!.id);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.valid, true);
    assert.equal(calls[0]!.body.body, `The task '${task.name}' was paused (idle timeout).`);
  });

  it('pause and resume over HTTP notify exactly once each', async () => {
    const task = await create(world.alice, world.version.id);
    await until(world.alice, task.id, 'active');
    const pause = await stack.api('POST', `/api/v2/tasks/me/${task.id}/pause`, { token: world.alice.token });
    assert.equal(pause.status, 202);
    await until(world.alice, task.id, 'paused');
    const resume = await stack.api('POST', `/api/v2/tasks/me/${task.id}/resume`, { token: world.alice.token });
    assert.equal(resume.status, 202);
    await until(world.alice, task.id, 'active');
    const notes = await waitFor(async () => {
      const n = (await notificationsOf(stack, world.alice.user.id)).filter((x) => x.labels.task_id === task.id);
      return n.length === 2 && n.every((x) => x.status === 'sent') ? n : null;
    }, { what: 'two notifications sent' });
    assert.deepEqual(notes.map((n) => n.template_id), [NOTIFICATION_TEMPLATES.task_paused.id, NOTIFICATION_TEMPLATES.task_resumed.id]);
    assert.deepEqual(notes.map((n) => n.dedupe_key), [
      `task_paused:${pause.body.workspace_build.id}`,
      `task_resumed:${resume.body.workspace_build.id}`,
    ]);
    for (const n of notes) assert.deepEqual(delivered.filter((d) => d.id === n.id).map((d) => d.valid), [true]);
  });

  it('a task written without a workflow is taken over by its first operation', async () => {
    const seeded = await seedTaskOf(stack, world, world.alice);
    await addBuild(stack, seeded, { transition: 'start', jobStatus: 'succeeded', agent: 'ready', app: { health: 'healthy' } });
    assert.equal((await read(world.alice, seeded.taskId)).body.status, 'active');
    const pause = await stack.api('POST', `/api/v2/tasks/me/${seeded.taskId}/pause`, { token: world.alice.token });
    assert.equal(pause.status, 202, JSON.stringify(pause.body));
    assert.equal(pause.body.workspace_build.build_number, 2);
    await until(world.alice, seeded.taskId, 'paused');
    const resume = await stack.api('POST', `/api/v2/tasks/me/${seeded.taskId}/resume`, { token: world.alice.token });
    assert.equal(resume.status, 202, JSON.stringify(resume.body));
    await until(world.alice, seeded.taskId, 'active');
    assert.equal((await buildsOf(stack, seeded.workspaceId)).length, 3);
    const del = await stack.api('DELETE', `/api/v2/tasks/me/${seeded.taskId}`, { token: world.alice.token });
    assert.equal(del.status, 202);
    assert.equal((await read(world.alice, seeded.taskId)).status, 404);
    await handleOf(stack, seeded.taskId).result();
    const [w] = await rows(stack, 'select deleted from workspaces where id = ?', [seeded.workspaceId]);
    assert.equal(w.deleted, true);
  });
});
