// The workspace sandbox against an AI app that tries to get out, on the real stack: a Temporal dev
// server with its Web UI and its temporal.db in a data folder inside the taskd checkout (as under
// `npm start`), the test run's PostgreSQL, and the production worker entry in a process of its
// own (with its health port) that the test SIGKILLs. Then the whole task lifecycle of the escaping
// workspace: send, a worker SIGKILL and a fresh worker's reconcile, pause keeps its files, resume,
// delete leaves nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestStack } from '../helpers/stack';
import { serverPorts, startDataFolderStack } from '../helpers/data-folder-stack';
import { taskChat } from '../helpers/task-chat';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { processesIn, runRecord, stillRunning, workspaceProcesses } from '../helpers/workspace-processes';
import { startChildWorker, type ChildWorker } from '../helpers/child-worker';
import { createLogger } from '../../lib/logger';
import type { TemporalDevServer } from '../../devstack/temporal-server';
import { stopAllWorkspaces } from '../../provisioner/process';
import { UID_BASE, runsAsRoot } from '../../provisioner/sandbox/workspace-users';
import type { EscapeTargets } from './fixtures/escape-attempts';
import type { EscapeReport } from './fixtures/escape-report';

const REPO = path.resolve(__dirname, '..', '..');
const TSX_NODE = 'node --import "$TASKD_TSX"';
const BUILTIN_AGENT = `exec ${TSX_NODE} "$TASKD_ROOT/agent/builtin-agent-main.ts"`;
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'sandbox-escape');

let dataDir: string;
let temporal: TemporalDevServer;
let stack: TestStack;
let worker: ChildWorker | undefined;
let token: string;
let chat: ReturnType<typeof taskChat>;
let orgId: string;

const agentApp = (command: string) => ({
  slug: 'agent',
  command,
  healthcheck: { path: '/status', interval_s: 1, threshold: 60 },
});
const fastAgentEnv = { TASKD_AGENT_THINK_MS: '20', TASKD_AGENT_SETTLE_MS: '100', TASKD_AGENT_STATE_FILE: '.agent-state.json' };

before(async () => {
  // a data folder in the checkout, as `npm start` makes it: the checkout is visible in the sandbox
  fs.mkdirSync(path.join(REPO, '.data'), { recursive: true });
  dataDir = fs.mkdtempSync(path.join(REPO, '.data', 'escape-test-'));
  fs.chmodSync(dataDir, 0o711);
  ({ temporal, stack } = await startDataFolderStack(dataDir, log));
  // a descriptor of the data folder that whatever started the worker left open, as a launcher might
  worker = await startChildWorker(stack, {}, fs.openSync(dataDir, 'r'));
  const owner = await setupOwner(stack);
  token = owner.token;
  chat = taskChat(stack, token);
  orgId = owner.org.id;
});

after(async () => {
  await worker?.kill();
  if (dataDir) await stopAllWorkspaces({ dataDir, log, stopGraceMs: 2_000 });
  await stack?.close();
  await temporal?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function createTask(workspace: Record<string, unknown>, input: string): Promise<{ id: string; workspaceId: string; dir: string }> {
  const { version } = await createAiTemplate(stack, token, orgId, { workspace: { provisioner: 'process', ...workspace } });
  const created = await stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: version.id, input } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const workspaceId: string = created.body.workspace_id;
  return { id: created.body.id, workspaceId, dir: path.join(dataDir, 'workspaces', workspaceId) };
}

const appPort = (workspaceId: string) => Number(new URL(runRecord(dataDir, workspaceId)!.apps[0]!.url).port);
const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

test('an AI app cannot get out of its sandbox, and its task lives through a worker SIGKILL', async () => {
  const victim = await createTask(
    { env: fastAgentEnv, apps: [agentApp(`echo "the other task's secret" > secret.txt && ${BUILTIN_AGENT}`)], ai_task: { app: 'agent' } },
    'Guard this secret',
  );
  await chat.until(victim.id, 'active');

  const targets: EscapeTargets = {
    dataDir,
    temporalDb: path.join(dataDir, 'temporal.db'),
    pgPasswordFile: path.join(process.env.TASKD_TEST_WORK_DIR!, 'pg', 'taskd-devstack.password'),
    otherWorkspaceDir: victim.dir,
    repoRoot: REPO,
    workerPid: worker!.pid,
    ports: {
      ...serverPorts(temporal, stack, worker!),
      otherWorkspaceApp: appPort(victim.workspaceId),
    },
  };
  // the targets are real: each is reachable from the host
  for (const file of [targets.temporalDb, targets.pgPasswordFile, path.join(victim.dir, 'secret.txt')]) assert.ok(fs.existsSync(file), file);
  assert.equal((await fetch(`http://127.0.0.1:${targets.ports.workerHealth}/`)).status, 200);
  assert.equal((await fetch(temporal.uiUrl!)).status, 200);

  const escaper = await createTask(
    {
      env: { ...fastAgentEnv, ESCAPE_TARGETS: JSON.stringify(targets) },
      apps: [agentApp(`${TSX_NODE} "$TASKD_ROOT/test/provisioner/fixtures/escape-attempts.ts" && ${BUILTIN_AGENT}`)],
      ai_task: { app: 'agent' },
    },
    'Try to get out',
  );
  await chat.until(escaper.id, 'active');
  const report = JSON.parse(fs.readFileSync(path.join(escaper.dir, 'escape-report.json'), 'utf8')) as EscapeReport;
  for (const [name, result] of Object.entries(report.controls)) assert.equal(result.ok, true, `control "${name}" must work: ${result.detail}`);
  assert.equal(Object.keys(report.escapes).length, 27);
  for (const [name, result] of Object.entries(report.escapes)) assert.equal(result.ok, false, `"${name}" must fail, got: ${result.detail}`);
  assert.equal(report.uid, 1000, 'an unprivileged user inside');
  assert.ok(report.visibleProcesses.some((cmd) => cmd.includes('escape-attempts.ts')), 'its own processes are in sight');
  // (the other task's app is the built-in agent, which this workspace starts only after the attempts)
  const server = report.visibleProcesses.filter((cmd) => /temporal|postgres|worker\.ts/.test(cmd) || /^node .*builtin-agent-main/.test(cmd));
  assert.deepEqual(server, [], 'no process of the server or of another workspace is in sight');
  assert.ok(stillRunning([worker!.pid]).length === 1, 'the worker was not signalled');
  assert.ok(!fs.existsSync(path.join(victim.dir, 'escaped')) && !fs.existsSync(path.join(REPO, 'escaped')));
  // outside, each workspace is a user of its own, and not the worker's
  const escaperUid = uidOf(processesIn(escaper.dir)[0]!);
  if (runsAsRoot()) {
    assert.ok(escaperUid >= UID_BASE, `workspace uid ${escaperUid}`);
    assert.notEqual(escaperUid, uidOf(processesIn(victim.dir)[0]!));
    assert.equal(fs.statSync(escaper.dir).uid, escaperUid);
  }

  // the lifecycle: send; the worker is SIGKILLed and another one reconciles; pause; resume; delete
  await chat.replied(escaper.id, 'Try to get out');
  assert.equal((await chat.post(`${escaper.id}/send`, { input: 'Before the crash' })).status, 204);
  await chat.replied(escaper.id, 'Before the crash');
  const supervisor = runRecord(dataDir, escaper.workspaceId)!;
  await worker!.kill();
  worker = await startChildWorker(stack);
  assert.equal(runRecord(dataDir, escaper.workspaceId)!.pid, supervisor.pid, 'the workspace outlived its worker and was kept');
  assert.equal((await chat.post(`${escaper.id}/send`, { input: 'After the crash' })).status, 204);
  await chat.replied(escaper.id, 'After the crash');

  assert.equal((await chat.post(`${escaper.id}/pause`)).status, 202);
  await chat.until(escaper.id, 'paused');
  assert.deepEqual(workspaceProcesses(dataDir, escaper.workspaceId), [], 'nothing runs while paused');
  assert.equal(fs.readFileSync(path.join(escaper.dir, 'escape-control.txt'), 'utf8'), 'written inside the sandbox');
  const snapshot = (await chat.get(`${escaper.id}/logs`)).body;
  assert.equal(snapshot.snapshot, true);
  assert.ok(snapshot.logs.some((e: { content: string }) => e.content === 'After the crash'), 'the snapshot was uploaded on stop');

  assert.equal((await chat.post(`${escaper.id}/resume`)).status, 202);
  await chat.until(escaper.id, 'active');
  assert.equal(fs.readFileSync(path.join(escaper.dir, 'escape-control.txt'), 'utf8'), 'written inside the sandbox');
  if (runsAsRoot()) assert.equal(uidOf(processesIn(escaper.dir)[0]!), escaperUid, 'the same user after resume');

  for (const task of [escaper, victim]) {
    const running = workspaceProcesses(dataDir, task.workspaceId);
    assert.ok(running.length > 0);
    assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${task.id}`, { token })).status, 202);
    await waitFor(() => !fs.existsSync(task.dir) && !fs.existsSync(path.join(dataDir, 'workspace-state', task.workspaceId)), {
      what: 'workspace folder and state removed',
      timeoutMs: 30_000,
    });
    assert.deepEqual(stillRunning(running), [], 'no process of the workspace is left');
  }
  const claims = path.join(dataDir, 'workspace-state', 'uids');
  if (runsAsRoot()) assert.deepEqual(fs.readdirSync(claims), [], 'the workspace users were given back');
});
