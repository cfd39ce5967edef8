import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createProcessDriver, type ProcessDriver } from '../../provisioner/process';
import { ProvisionerError, type BuildContext } from '../../provisioner/driver';
import { groupMembers } from '../../provisioner/process-group';
import { UID_BASE, runsAsRoot } from '../../provisioner/sandbox/workspace-users';
import { workspaceDefinitionSchema } from '../../domain/workspace-definition';
import { processesIn, runRecord } from '../helpers/workspace-processes';
import { waitFor } from '../helpers/wait';

// What the process driver does around a workspace's sandbox: the user each workspace runs as, the
// unsandboxed opt-out, and a host where bubblewrap cannot run. The agents here find no server
// (the access URL refuses connections) and keep asking for their manifest.

let dataDir: string;
let driver: ProcessDriver;
const warnings: string[] = [];
const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (warnings.push(JSON.parse(String(chunk)).msg), done()) }));
let n = 0;

const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function ctx(workspaceId: string, transition: BuildContext['transition'] = 'start', sandbox?: 'none'): BuildContext {
  n++;
  return {
    workspaceId,
    workspaceName: 'ws',
    ownerName: 'alice',
    taskId: null,
    buildId: uuid(1000 + n),
    buildNumber: n,
    transition,
    definition: workspaceDefinitionSchema.parse({ provisioner: 'process', ...(sandbox ? { sandbox } : {}), apps: [] }),
    agent: { id: uuid(2000 + n), name: 'main', token: 'token' },
    accessUrl: 'http://127.0.0.1:1',
  };
}

const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const claims = () => fs.readdirSync(path.join(dataDir, 'workspace-state', 'uids'));

/** The uid the workspace's code runs as, seen from the host, once its agent is up. */
async function workspaceUid(workspaceId: string): Promise<number> {
  const pids = await waitFor(() => {
    const found = processesIn(driver.workspaceDir(workspaceId));
    return found.length > 0 ? found : null;
  }, { what: 'the workspace agent' });
  return uidOf(pids[0]!);
}

before(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-sandbox-'));
  fs.chmodSync(dataDir, 0o711);
  driver = createProcessDriver({ dataDir, hostId: 'test-host', log, stopGraceMs: 3_000 });
});
after(async () => {
  await driver.stopAllWorkspaces();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('each sandboxed workspace runs as a user of its own, kept across stop and start, given back on delete', async () => {
  const [a, b] = [uuid(1), uuid(2)];
  await driver.start(ctx(a));
  await driver.start(ctx(b));
  const uidA = await workspaceUid(a);
  const uidB = await workspaceUid(b);
  if (!runsAsRoot()) {
    // a worker that is not root cannot switch users: namespaces alone keep its workspaces apart
    assert.equal(uidA, process.getuid!());
    return;
  }
  assert.ok(uidA >= UID_BASE && uidB >= UID_BASE, `${uidA}, ${uidB}`);
  assert.notEqual(uidA, uidB);
  assert.equal(fs.statSync(driver.workspaceDir(a)).uid, uidA);
  assert.equal(fs.statSync(driver.workspaceDir(a)).mode & 0o777, 0o700, 'no other user may enter the folder');
  // the supervisor outside the sandbox is the workspace's user too, not root
  assert.equal(uidOf(runRecord(dataDir, a)!.pid), uidA);

  await driver.stop(ctx(a, 'stop'));
  await driver.start(ctx(a));
  assert.equal(await workspaceUid(a), uidA, 'the folder stays the same user\'s');

  assert.deepEqual(claims().sort(), [String(uidA), String(uidB)].sort());
  await driver.delete(ctx(a, 'delete'));
  assert.deepEqual(claims(), [String(uidB)]);
  assert.equal(fs.existsSync(path.join(dataDir, 'workspace-state', a)), false);
  assert.equal(fs.existsSync(path.join(dataDir, 'workspace-state', 'tmp', a)), false, 'its supervisor\'s temporary files are gone');
});

test('a folder an unsandboxed run left behind becomes the workspace user\'s when it runs sandboxed', async () => {
  const ws = uuid(3);
  await driver.start(ctx(ws, 'start', 'none'));
  const dir = driver.workspaceDir(ws);
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src', 'main.py'), 'print(1)');
  fs.symlinkSync('/etc/passwd', path.join(dir, 'src', 'link'));
  await driver.stop(ctx(ws, 'stop'));
  await driver.start(ctx(ws));
  const uid = await workspaceUid(ws);
  assert.equal(fs.statSync(path.join(dir, 'src', 'main.py')).uid, uid);
  assert.equal(fs.lstatSync(path.join(dir, 'src', 'link')).uid, uid);
  assert.equal(fs.statSync('/etc/passwd').uid, 0, 'a link is not followed');
});

test('"sandbox": "none" runs the agent itself as the group leader, as the worker\'s user, and says so', async () => {
  const ws = uuid(4);
  warnings.length = 0;
  await driver.start(ctx(ws, 'start', 'none'));
  const record = runRecord(dataDir, ws)!;
  assert.equal(record.sandbox, 'none');
  assert.match(fs.readFileSync(`/proc/${record.pid}/cmdline`, 'utf8'), /workspace-agent-main\.ts/);
  assert.equal(uidOf(record.pid), process.getuid!());
  assert.ok(warnings.some((w) => w.includes('unsandboxed')), warnings.join('\n'));
  await driver.stop(ctx(ws, 'stop'));
  assert.deepEqual(groupMembers(record), []);
});

test('where bubblewrap cannot run, a sandboxed start fails for good saying what to do, and a worker start warns', async () => {
  const path0 = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const bare = createProcessDriver({ dataDir, hostId: 'test-host', log });
    warnings.length = 0;
    await bare.reconcile(async () => ({ action: 'keep' }));
    assert.ok(warnings.some((w) => w.includes('bubblewrap (bwrap) is not installed')), warnings.join('\n'));
    await assert.rejects(bare.start(ctx(uuid(5))), (err: unknown) => {
      assert.ok(err instanceof ProvisionerError);
      assert.equal(err.retryable, false);
      assert.match(err.message, /apt-get install bubblewrap/);
      assert.match(err.message, /"sandbox": "none"/);
      return true;
    });
    assert.equal(runRecord(dataDir, uuid(5)), null, 'nothing was started');
  } finally {
    process.env.PATH = path0;
  }
});
