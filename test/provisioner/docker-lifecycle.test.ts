// A task whose workspace is a Docker container, through the HTTP task API on the real stack and a
// real Docker daemon: the container as the template asks for it (image, limits, an unprivileged
// user, a read-only root, a network of its own, the app published on the host's loopback only),
// the conversation across pause and resume with the volume's files kept, provisioning calls
// repeated as a retried activity repeats them, and delete leaving nothing behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { taskChat } from '../helpers/task-chat';
import { dockerForTests, onDocker, removeDeployment, volumeFile } from '../helpers/docker';
import { createLogger } from '../../lib/logger';
import { createProvisioners } from '../../provisioner';
import { createProvisionActivities } from '../../activities/provision';
import { LABELS, WORKSPACE_UID, bridgeName, networkName } from '../../provisioner/docker-spec';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'docker-lifecycle');
const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'docker-builtin-agent-template.json'), 'utf8'));

let skip: string | undefined;
let docker: Docker;
let stack: TestStack;
let token: string;
let chat: ReturnType<typeof taskChat>;
let versionId: string;

before(async () => {
  const found = await dockerForTests(log);
  if ('skip' in found) return void (skip = found.skip);
  docker = found.docker;
  stack = await startTestStack({ env: { TASKD_WORKSPACE_STOP_GRACE_MS: '8000' } });
  const owner = await setupOwner(stack);
  token = owner.token;
  chat = taskChat(stack, token);
  const [app] = example.workspace.apps;
  const workspace = {
    ...example.workspace,
    docker: { ...example.workspace.docker, image: found.image, cpus: 0.5, memory_mb: 256, stop_grace_s: 8 },
    env: { ...example.workspace.env, TASKD_AGENT_THINK_MS: '20', TASKD_AGENT_SETTLE_MS: '100' },
    // a file made once, at the workspace's first start: it must be the same one after a resume
    apps: [{ ...app, command: `[ -f born.txt ] || cat /proc/sys/kernel/random/uuid > born.txt; ${app.command}` }],
  };
  const { version } = await createAiTemplate(stack, token, owner.org.id, { name: 'docker-builtin', workspace });
  versionId = version.id;
});

after(async () => {
  if (stack) await removeDeployment(docker, stack.config.dataDir);
  await stack?.close();
});

async function latestBuild(workspaceId: string): Promise<{ id: string; transition: string }> {
  const rows = await stack.orm.em
    .fork()
    .getConnection()
    .execute<{ id: string; transition: string }[]>('select id, transition from workspace_builds where workspace_id = ? order by build_number desc limit 1', [
      workspaceId,
    ]);
  return rows[0]!;
}

test('a task in a container: limits, user and network as asked; pause keeps the volume; retried calls change nothing; delete removes all', async (t) => {
  if (skip) return t.skip(skip);
  const { get, post, until, replied } = chat;
  // the provisioning activity as a retry runs it: same database, same data folder, another driver instance
  const retried = createProvisionActivities({ config: stack.config, orm: stack.orm, log, provisioners: createProvisioners({ config: stack.config, log }) });
  const created = await stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: versionId, input: 'Write a haiku about containers' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  const workspaceId: string = created.body.workspace_id;
  await until(id, 'active');
  await replied(id, 'Write a haiku about containers');

  const running = await onDocker(docker, workspaceId);
  const c = running.container!;
  assert.equal(c.State.Running, true);
  assert.equal(c.Config.User, `${WORKSPACE_UID}:${WORKSPACE_UID}`, 'an unprivileged user');
  assert.equal(c.HostConfig.ReadonlyRootfs, true);
  assert.deepEqual(c.HostConfig.CapDrop, ['ALL']);
  assert.equal(c.HostConfig.NanoCpus, 0.5e9);
  assert.equal(c.HostConfig.Memory, 256 * 1024 * 1024);
  assert.equal(c.Config.Labels[LABELS.workspace], workspaceId);
  assert.equal(c.Config.Labels[LABELS.host], stack.config.worker.hostId);
  assert.equal(c.HostConfig.NetworkMode, networkName(workspaceId));
  assert.equal(running.network!.Options?.['com.docker.network.bridge.name'], bridgeName(workspaceId));
  assert.deepEqual(Object.keys(running.network!.Containers ?? {}), [c.Id], "the network is the workspace's alone");
  const bindings = Object.values(c.HostConfig.PortBindings ?? {}).flat() as { HostIp: string; HostPort: string }[];
  assert.equal(bindings.length, 1);
  assert.equal(bindings[0]!.HostIp, '127.0.0.1', 'the app is published on the host\'s loopback only');
  // the worker and the API reach the app through that port, as the recorded app URL says
  const apps = await stack.api('GET', `/api/v2/workspaces/${workspaceId}`, { token });
  const appUrl: string = apps.body.latest_build.resources[0].agents[0].apps[0].url;
  assert.equal(new URL(appUrl).port, bindings[0]!.HostPort);
  assert.equal((await fetch(new URL('/status', appUrl))).status, 200);
  const born = await volumeFile(docker, workspaceId, 'born.txt');
  assert.match(born ?? '', /^[0-9a-f-]{36}\n$/);

  // the start activity again, as a retry after a lost answer would run it: the same container is kept
  const start = await latestBuild(workspaceId);
  const again = await retried.provisionWorkspace({ buildId: start.id });
  assert.equal(again.apps[0]!.url, appUrl);
  assert.equal((await onDocker(docker, workspaceId)).container!.Id, c.Id, 'no second container');

  assert.equal((await post(`${id}/send`, { input: 'Now make it rhyme' })).status, 204);
  const conversation = await replied(id, 'Now make it rhyme');

  assert.equal((await post(`${id}/pause`)).status, 202);
  await until(id, 'paused');
  const paused = await onDocker(docker, workspaceId);
  assert.equal(paused.container, null, 'no container while paused');
  assert.equal(paused.network, null, 'no network while paused');
  assert.ok(paused.volume, 'the volume stays');
  const snapshot = (await get(`${id}/logs`)).body;
  assert.equal(snapshot.snapshot, true, 'the agent uploaded its snapshot within the grace period');
  assert.deepEqual(snapshot.logs.map((e: { content: string }) => e.content), conversation.map((e) => e.content));
  const stop = await latestBuild(workspaceId);
  assert.equal(stop.transition, 'stop');
  await retried.provisionWorkspace({ buildId: stop.id });
  assert.ok((await onDocker(docker, workspaceId)).volume, 'a repeated stop keeps the volume');

  assert.equal((await post(`${id}/resume`)).status, 202);
  await until(id, 'active');
  assert.equal(await volumeFile(docker, workspaceId, 'born.txt'), born, 'the workspace folder survived pause and resume');
  assert.equal((await post(`${id}/send`, { input: 'One more verse' })).status, 204);
  const resumed = await replied(id, 'One more verse');
  assert.deepEqual(resumed.slice(0, conversation.length).map((e) => e.content), conversation.map((e) => e.content), 'the conversation continues');

  assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${id}`, { token })).status, 202);
  await waitFor(async () => (await get(id)).status === 404, { what: 'task deleted', timeoutMs: 60_000, intervalMs: 200 });
  const gone = (w: Awaited<ReturnType<typeof onDocker>>) => !w.container && !w.network && !w.volume;
  await waitFor(async () => gone(await onDocker(docker, workspaceId)), { what: 'container, network and volume removed', timeoutMs: 60_000, intervalMs: 200 });
  const deletion = await latestBuild(workspaceId);
  assert.equal(deletion.transition, 'delete');
  await retried.provisionWorkspace({ buildId: deletion.id });
  assert.ok(gone(await onDocker(docker, workspaceId)), 'a repeated delete succeeds and makes nothing');
});
