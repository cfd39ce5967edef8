// `npm start` supervises what it starts: each child (PostgreSQL, the Temporal dev server, the worker,
// the API) is killed in turn and must be reported and brought back, after which a task still runs
// end to end; then PostgreSQL is killed with its data folder gone, which cannot be repaired, and the
// launcher must stop everything and exit non-zero naming it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../devstack/free-port';
import { scratchDir } from '../helpers/scratch';
import { waitFor } from '../helpers/wait';
import { aiWorkspaceDefinition } from '../helpers/fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const CHILDREN = [
  { name: 'PostgreSQL', cmdline: /\/postgres\x00-D\x00/ },
  { name: 'Temporal', cmdline: /\x00server\x00start-dev\x00/ },
  { name: 'worker', cmdline: /\x00worker\.ts\x00$/ },
  { name: 'API', cmdline: /\x00api\/server\.ts\x00$/ },
] as const;

let launcher: ChildProcess;
let output = '';
let exited: Promise<number | null>;
let apiUrl = '';
let dataDir = '';

/** Pid of the launcher's child whose command line matches. */
function childPid(cmdline: RegExp): number | null {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === launcher.pid && cmdline.test(fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8'))) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return null;
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));

async function api(method: string, p: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers['Coder-Session-Token'] = token;
  const res = await fetch(`${apiUrl}/api/v2${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * Waits until no child is being restarted and every child runs: a child killed while the supervisor
 * is still starting it again is reported as a failed restart, not as a stop, so the test kills only
 * children that are running.
 */
const noRestartUnderWay = () =>
  until(
    () =>
      CHILDREN.every(({ name }) => count(`taskd: restarting ${name} (`) === count(`taskd: ${name} is running again`)) &&
      CHILDREN.every(({ cmdline }) => childPid(cmdline) !== null),
    'every child running',
  );
const count = (line: string) => output.split(line).length - 1;
/** Waits for `check`; on timeout the error carries the launcher's output as it was then, not when the wait began. */
async function until(check: () => boolean, what: string): Promise<void> {
  try {
    await waitFor(check, { timeoutMs: 180_000, intervalMs: 100, what });
  } catch (err) {
    throw new Error(`${(err as Error).message}; the launcher's output:\n${output}`, { cause: err });
  }
}
const printed = (re: RegExp, what: string) => until(() => re.test(output), what);
const ready = () => waitFor(async () => (await fetch(`${apiUrl}/readyz`).catch(() => null))?.status === 200, { timeoutMs: 120_000, what: 'readyz 200' });

before(async () => {
  const scratch = scratchDir('taskd-start-');
  // the private PostgreSQL runs as the postgres user when the tests run as root
  fs.chmodSync(scratch, 0o711);
  dataDir = path.join(scratch, 'data');
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TASKD_|DATABASE_|TEMPORAL_|WORKER_)/.test(k)) env[k] = v;
  Object.assign(env, { TASKD_DATA_DIR: dataDir, PORT: String(port), TEMPORAL_UI_PORT: String(await freePort()) });
  launcher = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  launcher.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  launcher.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  exited = new Promise((resolve) => launcher.once('exit', (code) => resolve(code)));
  await printed(/taskd is ready/, 'the launcher ready');
});

after(async () => {
  if (launcher?.exitCode === null && launcher.signalCode === null) {
    launcher.kill('SIGTERM');
    await exited;
  }
});

test('the data folder is readable by its owner only: others may pass through it, not list or read it', () => {
  assert.equal(fs.statSync(dataDir).mode & 0o777, 0o711);
  const exposed: string[] = [];
  for (const name of fs.readdirSync(dataDir)) {
    const file = path.join(dataDir, name);
    const mode = fs.lstatSync(file).mode;
    if ((mode & 0o044) !== 0) exposed.push(`${name} ${(mode & 0o777).toString(8)}`);
  }
  assert.deepEqual(exposed, [], 'nothing in the data folder is readable by group or others');
  assert.ok(fs.readdirSync(dataDir).includes('temporal.db'), 'temporal.db is among what was checked');
  assert.equal(fs.statSync(path.join(dataDir, 'logs')).mode & 0o777, 0o700);
});

test('each child killed in turn is reported with how it ended and started again; the stack then runs a task', async () => {
  for (const child of CHILDREN) {
    await noRestartUnderWay();
    const pid = childPid(child.cmdline);
    assert.ok(pid, `${child.name} is a child of the launcher`);
    process.kill(pid, 'SIGKILL');
    await printed(new RegExp(`taskd: ${child.name} stopped \\(killed by SIGKILL; its log ends: .+\\)`), `${child.name} reported`);
    await printed(new RegExp(`taskd: ${child.name} is running again`), `${child.name} restarted`);
    const again = childPid(child.cmdline);
    assert.ok(again && again !== pid, `a new ${child.name} process`);
    await ready();
  }

  const owner = { email: 'o@example.com', username: 'owner', password: 'correct-horse-9' };
  assert.equal((await api('POST', '/users/first', undefined, owner)).status, 201);
  const token = (await api('POST', '/users/login', undefined, { email: owner.email, password: owner.password })).body.session_token;
  const template = await api('POST', '/organizations/default/templates', token, { name: 'echo', workspace: aiWorkspaceDefinition() });
  assert.equal(template.status, 201, JSON.stringify(template.body));
  const task = await api('POST', '/tasks/me', token, { template_version_id: template.body.active_version_id, input: 'still there?' });
  assert.equal(task.status, 201, JSON.stringify(task.body));
  await waitFor(async () => (await api('GET', `/tasks/me/${task.body.id}`, token)).body.status === 'active', { timeoutMs: 120_000, what: 'task active' });
});

test('PostgreSQL killed with its data folder gone: the launcher stops everything and exits non-zero naming it', async () => {
  const pids = CHILDREN.map((c) => childPid(c.cmdline)).filter((pid): pid is number => pid !== null);
  assert.equal(pids.length, CHILDREN.length);
  fs.rmSync(path.join(dataDir, 'postgres'), { recursive: true, force: true });
  process.kill(childPid(CHILDREN[0].cmdline)!, 'SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    exited,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`the launcher did not exit:\n${output}`)), 180_000))),
  ]).finally(() => clearTimeout(timer));
  assert.equal(code, 1);
  assert.match(output, /taskd: PostgreSQL could not be kept running \(.*holds no PostgreSQL cluster any more/);
  assert.match(output, /taskd: PostgreSQL could not be kept running, stopping…/);
  await waitFor(() => pids.every((pid) => !alive(pid)), { timeoutMs: 30_000, what: 'every child gone' });
});
