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

// The agent spawned here finds no server (the access URL refuses connections), so it keeps asking
// for its manifest: a live process group standing in for a workspace.

let dataDir: string;
let driver: ProcessDriver;
const log = createLogger('silent');
let n = 0;

function uuid(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

function ctx(workspaceId: string, transition: BuildContext['transition'] = 'start', buildId = uuid(1000 + ++n)): BuildContext {
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
      apps: [
        { slug: 'agent', command: 'sleep 60', healthcheck: { path: '/status' } },
        { slug: 'docs', url: 'http://example.test/docs' },
      ],
    }),
    agent: { id: uuid(2000 + n), name: 'main', token: 'token' },
    accessUrl: 'http://127.0.0.1:1',
  };
}

interface Record {
  pid: number;
  startTime: string;
  bootId: string;
}

function record(workspaceId: string): Record | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(driver.workspaceDir(workspaceId), '.taskd', 'run.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** Agent processes running for a workspace folder, found the way an operator would: by cwd. */
function agentsIn(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('workspace-agent-main.ts') && fs.readlinkSync(`/proc/${entry}/cwd`) === dir) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

before(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-process-'));
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
  assert.deepEqual(agentsIn(driver.workspaceDir(ws)), [first.pid]);
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
  assert.equal(agentsIn(dir).length, 1);
  assert.notEqual(record(ws)!.pid, running.pid);
});

test('a start for a newer build replaces the older build agent', async () => {
  const ws = uuid(3);
  await driver.start(ctx(ws));
  const old = record(ws)!;
  await driver.start(ctx(ws));
  assert.deepEqual(groupMembers(old), []);
  assert.deepEqual(agentsIn(driver.workspaceDir(ws)), [record(ws)!.pid]);
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
    assert.equal(agentsIn(driver.workspaceDir(id)).length, 1);
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
  assert.deepEqual(agentsIn(driver.workspaceDir(ws)), [record(ws)!.pid]);
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
