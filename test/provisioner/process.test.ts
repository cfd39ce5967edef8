import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProcessDriver, type ProcessDriver } from '../../provisioner/process';
import { groupMembers, identify, terminateGroup } from '../../provisioner/process-group';
import type { BuildContext } from '../../provisioner/driver';
import { workspaceDefinitionSchema } from '../../domain/workspace-definition';
import { createLogger } from '../../lib/logger';
import { processesIn, runRecord } from '../helpers/workspace-processes';
import { waitFor } from '../helpers/wait';

// The agent spawned here finds no server (the access URL refuses connections), so it keeps asking
// for its manifest: a live process group standing in for a workspace. Workspaces run in their
// sandbox (the default) unless a test says otherwise.

let dataDir: string;
let driver: ProcessDriver;
const log = createLogger('silent');
let n = 0;

function uuid(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

function ctx(
  workspaceId: string,
  transition: BuildContext['transition'] = 'start',
  buildId = uuid(1000 + ++n),
  sandbox?: 'none',
): BuildContext {
  return {
    workspaceId,
    workspaceName: 'ws',
    ownerName: 'alice',
    taskId: null,
    buildId,
    buildNumber: 1,
    transition,
    definition: workspaceDefinitionSchema.parse({
      provisioner: 'process',
      ...(sandbox ? { sandbox } : {}),
      apps: [
        { slug: 'agent', command: 'sleep 60', healthcheck: { path: '/status' } },
        { slug: 'docs', url: 'http://example.test/docs' },
      ],
    }),
    agent: { id: uuid(2000 + n), name: 'main', token: 'token' },
    accessUrl: 'http://127.0.0.1:1',
  };
}

type Record = NonNullable<ReturnType<typeof runRecord>>;

const record = (workspaceId: string) => runRecord(dataDir, workspaceId);

/** The agents of a workspace just started, once one runs (a sandbox takes a moment to come up). */
async function agents(dir: string): Promise<number[]> {
  await waitFor(() => agentsIn(dir).length > 0, { what: `an agent in ${dir}` });
  return agentsIn(dir);
}

/** Workspace agents running in a workspace folder (in its sandbox, or not). */
function agentsIn(dir: string): number[] {
  return processesIn(dir).filter((pid) => {
    try {
      // bubblewrap's own processes name the agent's entry in their arguments too
      const [program, ...args] = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return program === process.execPath && args.some((a) => /(inside|workspace-agent)-main\.ts$/.test(a));
    } catch {
      return false;
    }
  });
}

before(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-process-'));
  // the workspaces' own users reach their folders through it
  fs.chmodSync(dataDir, 0o711);
  driver = createProcessDriver({ dataDir, hostId: 'test-host', log, stopGraceMs: 3_000 });
});

after(async () => {
  await driver.stopAllWorkspaces();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('start runs one agent group; a repeated start (also by a restarted worker) starts no second copy', async () => {
  const ws = uuid(1);
  const build = ctx(ws);
  const out = await driver.start(build);
  assert.equal(out.hostId, 'test-host');
  assert.equal(out.agentLifecycle, 'created');
  const [agentApp, docs] = out.apps;
  assert.match(agentApp!.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(agentApp!.healthcheck?.url, `${agentApp!.url}/status`);
  assert.equal(agentApp!.health, 'initializing');
  assert.equal(docs!.url, 'http://example.test/docs');
  assert.equal(docs!.health, 'disabled');

  const first = record(ws)!;
  assert.ok(groupMembers(first).length > 0, 'the group is running');
  const again = await driver.start(build);
  assert.deepEqual(again, out, 'same apps, same ports');
  const restarted = createProcessDriver({ dataDir, hostId: 'test-host', log });
  await restarted.start(build);
  assert.equal(record(ws)!.pid, first.pid);
  assert.equal((await agents(driver.workspaceDir(ws))).length, 1, 'one agent');
});

test('stop ends the whole group and keeps the folder; start again uses the same folder', async () => {
  const ws = uuid(2);
  await driver.start(ctx(ws));
  const dir = driver.workspaceDir(ws);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'kept across pause/resume');
  const running = record(ws)!;
  await driver.stop(ctx(ws, 'stop'));
  assert.deepEqual(groupMembers(running), []);
  assert.deepEqual(agentsIn(dir), []);
  assert.equal(record(ws), null);
  await driver.stop(ctx(ws, 'stop')); // stopping a stopped workspace is a no-op

  await driver.start(ctx(ws));
  assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'kept across pause/resume');
  assert.equal((await agents(dir)).length, 1);
  assert.notEqual(record(ws)!.pid, running.pid);
});

test('a start for a newer build replaces the older build agent', async () => {
  const ws = uuid(3);
  await driver.start(ctx(ws));
  const old = record(ws)!;
  await driver.start(ctx(ws));
  assert.deepEqual(groupMembers(old), []);
  assert.equal((await agents(driver.workspaceDir(ws))).length, 1);
});

test('delete stops the processes and removes the folder; deleting again is a no-op', async () => {
  const ws = uuid(4);
  await driver.start(ctx(ws));
  const running = record(ws)!;
  await driver.delete(ctx(ws, 'delete'));
  assert.deepEqual(groupMembers(running), []);
  assert.equal(fs.existsSync(driver.workspaceDir(ws)), false);
  await driver.delete(ctx(ws, 'delete'));
});

test('reconcile on worker start stops what should not run and keeps the rest', async () => {
  const keep = uuid(5);
  const orphan = uuid(6);
  await driver.start(ctx(keep));
  await driver.start(ctx(orphan));
  const orphanGroup = record(orphan)!;
  const restarted = createProcessDriver({ dataDir, hostId: 'test-host', log, stopGraceMs: 3_000 });
  const result = await restarted.reconcile(async (w) => ({ action: w.workspaceId === orphan ? 'stop' : 'keep' }));
  assert.deepEqual(result, { stopped: [orphan], restarted: [] });
  assert.deepEqual(groupMembers(orphanGroup), []);
  assert.equal(record(orphan), null);
  assert.ok(groupMembers(record(keep)!).length > 0);
});

test('stopAllWorkspaces stops every group but keeps the records, so a restart brings them back on the same ports', async () => {
  const ws = [uuid(7), uuid(8)];
  const builds = ws.map((id) => ctx(id));
  const outcomes = [await driver.start(builds[0]!), await driver.start(builds[1]!)];
  await driver.stopAllWorkspaces();
  for (const id of ws) {
    assert.deepEqual(agentsIn(driver.workspaceDir(id)), []);
    assert.notEqual(record(id), null);
  }
  const seen: { workspaceId: string; running: boolean }[] = [];
  const result = await createProcessDriver({ dataDir, hostId: 'test-host', log }).reconcile(async (w) => {
    const i = ws.indexOf(w.workspaceId);
    if (i < 0) return { action: 'keep' };
    seen.push({ workspaceId: w.workspaceId, running: w.running });
    assert.equal(w.buildId, builds[i]!.buildId);
    return { action: 'restart', ctx: builds[i]! };
  });
  assert.deepEqual(seen.sort((a, b) => a.workspaceId.localeCompare(b.workspaceId)), ws.map((id) => ({ workspaceId: id, running: false })));
  assert.deepEqual(result.restarted.sort(), ws);
  for (const [i, id] of ws.entries()) {
    assert.equal((await agents(driver.workspaceDir(id))).length, 1);
    assert.deepEqual(await driver.start(builds[i]!), outcomes[i], 'same apps and ports as before');
  }
});

test('an agent that died is restarted by reconcile, not kept', async () => {
  const ws = uuid(9);
  const build = ctx(ws);
  await driver.start(build);
  const dead = record(ws)!;
  process.kill(dead.pid, 'SIGKILL');
  await waitGone(dead);
  let seen: boolean | undefined;
  const result = await driver.reconcile(async (w) => {
    if (w.workspaceId !== ws) return { action: 'keep' };
    seen = w.running;
    return { action: 'restart', ctx: build };
  });
  assert.equal(seen, false);
  assert.deepEqual(result.restarted, [ws]);
  assert.equal((await agents(driver.workspaceDir(ws))).length, 1);
  assert.notEqual(record(ws)!.pid, dead.pid);
});

async function waitGone(id: Record): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (groupMembers(id).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

test('a group that ignores SIGTERM is killed after the grace period', async () => {
  const child = spawn('/bin/sh', ['-c', 'trap "" TERM; sleep 30 & wait'], { detached: true, stdio: 'ignore' });
  child.unref();
  const id = identify(child.pid!);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(groupMembers(id).length >= 1);
  assert.equal(await terminateGroup(id, 200), true);
  assert.deepEqual(groupMembers(id), []);
});

test('a workspace started before the state folder existed is still found: its record moves over, and reconcile acts on it', async () => {
  const ws = uuid(10);
  const child = spawn('/bin/sh', ['-c', 'sleep 30'], { detached: true, stdio: 'ignore' });
  child.unref();
  const legacy = path.join(driver.workspaceDir(ws), '.taskd', 'run.json');
  fs.mkdirSync(path.dirname(legacy), { recursive: true });
  fs.writeFileSync(legacy, JSON.stringify({ ...identify(child.pid!), workspaceId: ws, buildId: uuid(3000), apps: [], startedAt: new Date().toISOString() }));
  const seen: string[] = [];
  const result = await createProcessDriver({ dataDir, hostId: 'test-host', log, stopGraceMs: 3_000 }).reconcile(async (w) => {
    seen.push(w.workspaceId);
    return { action: w.workspaceId === ws ? 'stop' : 'keep' };
  });
  assert.ok(seen.includes(ws));
  assert.deepEqual(result.stopped, [ws]);
  assert.deepEqual(groupMembers(identify(child.pid!)), []);
  assert.equal(fs.existsSync(legacy), false, 'the record left the workspace folder');
});
