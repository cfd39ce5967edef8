// A Docker workspace against an AI app that tries to get out, on the real stack: a Temporal dev
// server with its Web UI and its temporal.db in the data folder, the test run's PostgreSQL, and the
// production worker entry in a process of its own (with its health port) that the test SIGKILLs.
// Then the escaping workspace's whole lifecycle: send, a worker SIGKILL with a workspace container
// killed and an orphan left behind meanwhile, the next worker's reconcile, pause keeps its files,
// resume, delete leaves nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { TestStack } from '../helpers/stack';
import { serverPorts, startDataFolderStack } from '../helpers/data-folder-stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { taskChat } from '../helpers/task-chat';
import { startChildWorker, type ChildWorker } from '../helpers/child-worker';
import { dockerForTests, onDocker, removeDeployment, volumeFile, type WorkspaceOnDocker } from '../helpers/docker';
import { TEST_PROGRAMS } from '../helpers/docker-image';
import { createLogger } from '../../lib/logger';
import type { TemporalDevServer } from '../../devstack/temporal-server';
import { LABELS, containerName, networkName, volumeName } from '../../provisioner/docker-spec';
import type { DockerEscapeTargets } from './fixtures/docker-escape-attempts';
import type { EscapeReport } from './fixtures/escape-report';

const REPO = path.resolve(__dirname, '..', '..');
const BUILTIN_AGENT = 'exec node /opt/taskd/builtin-agent.js';
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'docker-escape');

let skip: string | undefined;
let docker: Docker;
let image: string;
let dataDir: string;
let temporal: TemporalDevServer;
let stack: TestStack;
let worker: ChildWorker | undefined;
let control: net.Server;
let token: string;
let chat: ReturnType<typeof taskChat>;
let orgId: string;

before(async () => {
  const found = await dockerForTests(log);
  if ('skip' in found) return void (skip = found.skip);
  ({ docker, image } = found);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-docker-escape-'));
  ({ temporal, stack } = await startDataFolderStack(dataDir, log));
  worker = await startChildWorker(stack);
  const owner = await setupOwner(stack);
  token = owner.token;
  chat = taskChat(stack, token);
  orgId = owner.org.id;
  // a service of the host on all its interfaces: a workspace reaches it, so its network works
  control = net.createServer((socket) => {
    // the attempt hangs up at once: a reset here is expected
    socket.on('error', () => {});
    socket.end('control\n');
  });
  await new Promise<void>((resolve) => control.listen(0, '0.0.0.0', resolve));
});

after(async () => {
  await worker?.kill();
  control?.close();
  if (stack) await removeDeployment(docker, dataDir);
  await stack?.close();
  await temporal?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const nothingLeft = (w: WorkspaceOnDocker) => !w.container && !w.network && !w.volume;

async function createTask(env: Record<string, string>, command: string, input: string): Promise<{ id: string; workspaceId: string }> {
  const workspace = {
    provisioner: 'docker',
    docker: { image, stop_grace_s: 8 },
    env: { TASKD_AGENT_THINK_MS: '20', TASKD_AGENT_SETTLE_MS: '100', TASKD_AGENT_STATE_FILE: '.agent-state.json', TASKD_AGENT_HOST: '0.0.0.0', ...env },
    apps: [{ slug: 'agent', command, healthcheck: { path: '/status', interval_s: 1, threshold: 60 } }],
    ai_task: { app: 'agent' },
  };
  const { version } = await createAiTemplate(stack, token, orgId, { workspace });
  const created = await stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: version.id, input } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: created.body.id, workspaceId: created.body.workspace_id };
}

/** What a crash leaves behind: a container, volume and network of this deployment whose workspace the database never knew. */
async function leaveOrphan(workspaceId: string, like: Docker.ContainerInspectInfo): Promise<void> {
  const labels: Record<string, string> = {
    [LABELS.deployment]: like.Config.Labels[LABELS.deployment]!,
    [LABELS.host]: like.Config.Labels[LABELS.host]!,
    [LABELS.workspace]: workspaceId,
    [LABELS.build]: '00000000-0000-4000-8000-00000000cafe',
  };
  await docker.createVolume({ Name: volumeName(workspaceId), Labels: labels });
  await docker.createNetwork({ Name: networkName(workspaceId), Labels: labels });
  const orphan = await docker.createContainer({
    name: containerName(workspaceId),
    Image: image,
    Cmd: ['sleep', '600'],
    Labels: labels,
    HostConfig: { NetworkMode: networkName(workspaceId), Mounts: [{ Type: 'volume', Source: volumeName(workspaceId), Target: '/workspace' }] },
  });
  await orphan.start();
}

const hostAddresses = () =>
  Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);

test('an AI app cannot get out of its container, and its task lives through a worker SIGKILL and the reconcile after it', async (t) => {
  if (skip) return t.skip(skip);
  const { get, post, until, replied } = chat;
  const victim = await createTask({}, `echo "the other task's secret" > secret.txt && ${BUILTIN_AGENT}`, 'Guard this secret');
  await until(victim.id, 'active');
  const victimContainer = (await onDocker(docker, victim.workspaceId)).container!;
  const [binding] = Object.values(victimContainer.HostConfig.PortBindings as Record<string, { HostPort: string }[]>);
  const victimApp = Number(binding![0]!.HostPort);

  const targets: DockerEscapeTargets = {
    hostPaths: {
      dataDir,
      temporalDb: path.join(dataDir, 'temporal.db'),
      pgPasswordFile: path.join(process.env.TASKD_TEST_WORK_DIR!, 'pg', 'taskd-devstack.password'),
      otherWorkspaceVolume: (await onDocker(docker, victim.workspaceId)).volume!.Mountpoint,
      repoRoot: REPO,
      dockerSocket: '/var/run/docker.sock',
    },
    workerPid: worker!.pid,
    hostAddresses: hostAddresses(),
    ports: {
      ...serverPorts(temporal, stack, worker!),
      otherWorkspaceApp: victimApp,
    },
    otherWorkspaceAddress: victimContainer.NetworkSettings.Networks[networkName(victim.workspaceId)]!.IPAddress,
    controlPort: (control.address() as net.AddressInfo).port,
  };
  // the targets are real: each is there, or answers, on the host
  for (const file of [targets.hostPaths.temporalDb, targets.hostPaths.pgPasswordFile, path.join(targets.hostPaths.otherWorkspaceVolume, 'secret.txt')]) {
    assert.ok(fs.existsSync(file), file);
  }
  assert.equal((await fetch(`http://127.0.0.1:${targets.ports.workerHealth}/`)).status, 200);
  assert.equal((await fetch(temporal.uiUrl!)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${victimApp}/status`)).status, 200);

  const escaper = await createTask(
    { ESCAPE_TARGETS: JSON.stringify(targets) },
    `node ${TEST_PROGRAMS}/escape-attempts.js && ${BUILTIN_AGENT}`,
    'Try to get out',
  );
  await until(escaper.id, 'active');
  const report = JSON.parse((await volumeFile(docker, escaper.workspaceId, 'escape-report.json'))!) as EscapeReport;
  for (const [name, result] of Object.entries(report.controls)) assert.equal(result.ok, true, `control "${name}" must work: ${result.detail}`);
  assert.equal(Object.keys(report.escapes).length, 16 + 6 * (2 + targets.hostAddresses.length));
  for (const [name, result] of Object.entries(report.escapes)) assert.equal(result.ok, false, `"${name}" must fail, got: ${result.detail}`);
  assert.equal(report.uid, 1000, 'an unprivileged user inside');
  assert.ok(report.visibleProcesses.some((cmd) => cmd.includes('escape-attempts.js')), 'its own processes are in sight');
  // (the other task's app is the built-in agent, which this workspace starts only after the attempts)
  const foreign = report.visibleProcesses.filter((cmd) => /temporal|postgres|worker\.ts/.test(cmd) || /^node .*builtin-agent/.test(cmd));
  assert.deepEqual(foreign, [], 'no process of the server or of another workspace is in sight');
  assert.equal(process.kill(worker!.pid, 0), true, 'the worker was not signalled');
  assert.equal(await volumeFile(docker, victim.workspaceId, 'secret.txt'), "the other task's secret\n");
  assert.equal(await volumeFile(docker, victim.workspaceId, 'escaped'), null);
  assert.ok(!fs.existsSync(path.join(dataDir, 'escaped')));

  // the lifecycle: send; the worker is SIGKILLed; meanwhile the victim's container dies and an
  // orphan is left behind; the next worker keeps the escaper, starts the victim again, reaps the orphan
  await replied(escaper.id, 'Try to get out');
  assert.equal((await post(`${escaper.id}/send`, { input: 'Before the crash' })).status, 204);
  await replied(escaper.id, 'Before the crash');
  const escaperContainer = (await onDocker(docker, escaper.workspaceId)).container!;
  await worker!.kill();
  await docker.getContainer(victimContainer.Id).kill();
  const orphan = '00000000-0000-4000-8000-00000000beef';
  await leaveOrphan(orphan, escaperContainer);
  worker = await startChildWorker(stack);
  await waitFor(async () => nothingLeft(await onDocker(docker, orphan)), { what: 'the orphan reaped', timeoutMs: 60_000, intervalMs: 200 });
  assert.equal((await onDocker(docker, escaper.workspaceId)).container!.Id, escaperContainer.Id, 'the escaper outlived its worker and was kept');
  const restarted = await waitFor(
    async () => {
      const { container } = await onDocker(docker, victim.workspaceId);
      return container?.State.Running ? container : null;
    },
    { what: 'the victim started again', timeoutMs: 60_000, intervalMs: 200 },
  );
  assert.notEqual(restarted.Id, victimContainer.Id, 'a new container for the victim');
  assert.equal((await post(`${escaper.id}/send`, { input: 'After the crash' })).status, 204);
  await replied(escaper.id, 'After the crash');

  assert.equal((await post(`${escaper.id}/pause`)).status, 202);
  await until(escaper.id, 'paused');
  const paused = await onDocker(docker, escaper.workspaceId);
  assert.ok(!paused.container && !paused.network && paused.volume, 'only the volume while paused');
  assert.equal(await volumeFile(docker, escaper.workspaceId, 'escape-control.txt'), 'written inside the container');
  const snapshot = (await get(`${escaper.id}/logs`)).body;
  assert.equal(snapshot.snapshot, true);
  assert.ok(snapshot.logs.some((e: { content: string }) => e.content === 'After the crash'), 'the snapshot was uploaded on stop');

  assert.equal((await post(`${escaper.id}/resume`)).status, 202);
  await until(escaper.id, 'active');
  assert.equal(await volumeFile(docker, escaper.workspaceId, 'escape-control.txt'), 'written inside the container');

  for (const task of [escaper, victim]) {
    assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${task.id}`, { token })).status, 202);
    await waitFor(async () => nothingLeft(await onDocker(docker, task.workspaceId)), { what: 'container, network and volume removed', timeoutMs: 60_000, intervalMs: 200 });
  }
});
