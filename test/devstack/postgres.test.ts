import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { findPostgresProcesses, startPostgres } from '../../devstack/postgres';
import { findPgBinDir } from '../../devstack/postgres-cluster';
import { describeFailure, groupAlive, runCommand } from '../../devstack/processes';

const quiet = { info() {}, warn() {}, error() {} };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-pg-test-'));
// mkdtemp makes 0700 folders; as root the cluster runs as `postgres`, which must be able to traverse it.
fs.chmodSync(scratch, 0o711);
const dataDir = path.join(scratch, 'data');
let psqlPath = '';

before(async () => {
  psqlPath = path.join(await findPgBinDir(), 'psql');
});
after(() => {
  assert.deepEqual(findPostgresProcesses(dataDir), [], 'no postgres process may outlive the tests');
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function sql(url: string, query: string): Promise<string> {
  const result = await runCommand(psqlPath, ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', query], {
    timeoutMs: 20_000,
  });
  if (result.code !== 0) throw new Error(describeFailure(`psql ${query}`, result));
  return result.stdout.trim();
}

test('a fresh cluster serves the taskd database over password-protected TCP', async () => {
  const pg = await startPostgres({ dataDir, port: 0, fsync: false, logFile: path.join(scratch, 'pg.log'), log: quiet });
  try {
    assert.match(pg.url, new RegExp(`^postgres://taskd:[0-9a-f]{48}@127\\.0\\.0\\.1:${pg.port}/taskd$`));
    assert.equal(await sql(pg.url, 'SELECT current_database() || current_setting(\'fsync\')'), 'taskdoff');
    await sql(pg.url, 'CREATE TABLE kept (id int PRIMARY KEY, note text); INSERT INTO kept VALUES (1, \'still here\')');
    const wrongPassword = pg.url.replace(/:[0-9a-f]{48}@/, ':wrong@');
    await assert.rejects(sql(wrongPassword, 'SELECT 1'), /password authentication failed/);
    await assert.rejects(
      startPostgres({ dataDir, fsync: false, log: quiet }),
      /PostgreSQL is already running on .* \(pids \d+/,
      'a second server on the same files must be refused',
    );
  } finally {
    await pg.stop();
  }
  assert.equal(groupAlive(pg.pid), false);
  assert.deepEqual(findPostgresProcesses(dataDir), []);
});

test('a restart reuses the data, on a new port', async () => {
  const pg = await startPostgres({ dataDir, fsync: false, log: quiet });
  try {
    assert.equal(await sql(pg.url, 'SELECT note FROM kept WHERE id = 1'), 'still here');
  } finally {
    await pg.stop();
  }
  assert.deepEqual(findPostgresProcesses(dataDir), []);
});

test('a crash leaves a postmaster.pid that the next start clears', async () => {
  const pg = await startPostgres({ dataDir, fsync: false, log: quiet });
  await sql(pg.url, 'INSERT INTO kept VALUES (2, \'before crash\')');
  process.kill(-pg.pid, 'SIGKILL');
  for (let i = 0; i < 100 && findPostgresProcesses(dataDir).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  await pg.stop();
  const lockFile = path.join(dataDir, 'postmaster.pid');
  assert.ok(fs.existsSync(lockFile), 'SIGKILL leaves the lock file behind');
  // The recorded PID now belongs to a live process that is not postgres, as after a reboot: postgres alone would refuse.
  const lines = fs.readFileSync(lockFile, 'utf8').split('\n');
  lines[0] = String(process.pid);
  fs.writeFileSync(lockFile, lines.join('\n'));

  const warnings: string[] = [];
  const again = await startPostgres({ dataDir, fsync: false, log: { ...quiet, warn: (m: string) => warnings.push(m) } });
  try {
    assert.equal(await sql(again.url, 'SELECT count(*) FROM kept'), '2', 'committed rows survive crash recovery');
    assert.ok(warnings.some((w) => w.includes('Removing stale')));
  } finally {
    await again.stop();
  }
});

test('the postgres account must be able to reach the data folder', { skip: process.getuid?.() !== 0 }, async () => {
  const locked = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-pg-locked-'));
  try {
    await assert.rejects(
      startPostgres({ dataDir: path.join(locked, 'data'), fsync: false, log: quiet }),
      /cannot reach .* every parent folder must be traversable/,
    );
    assert.deepEqual(fs.readdirSync(locked), [], 'nothing half-made is left');
  } finally {
    fs.rmSync(locked, { recursive: true, force: true });
  }
});

test('defaults: fsync on, and a non-cluster folder is never initdb\'d over', async () => {
  const durable = path.join(scratch, 'durable');
  const pg = await startPostgres({ dataDir: durable, log: quiet });
  try {
    assert.equal(await sql(pg.url, 'SHOW fsync'), 'on');
  } finally {
    await pg.stop();
  }
  assert.deepEqual(findPostgresProcesses(durable), []);

  const occupied = path.join(scratch, 'occupied');
  fs.mkdirSync(occupied);
  fs.writeFileSync(path.join(occupied, 'notes.txt'), 'mine');
  await assert.rejects(startPostgres({ dataDir: occupied, log: quiet }), /is not empty and is not a PostgreSQL data directory/);
  assert.deepEqual(fs.readdirSync(occupied), ['notes.txt']);
});

test('a port taken between being picked and bound: the start is tried again, three times in all, then fails with what PostgreSQL said', async () => {
  // What the race leaves behind, made certain: the server is told to listen on a port something holds.
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const taken = (blocker.address() as net.AddressInfo).port;
  const warnings: string[] = [];
  try {
    await assert.rejects(
      startPostgres({ dataDir, fsync: false, settings: { port: String(taken) }, log: { ...quiet, warn: (msg) => warnings.push(msg) } }),
      /PostgreSQL exited during startup[\s\S]*Address already in use/,
    );
  } finally {
    blocker.close();
  }
  assert.deepEqual(warnings, [
    'PostgreSQL could not listen on a port taken since it was picked; starting it again (attempt 2 of 3)',
    'PostgreSQL could not listen on a port taken since it was picked; starting it again (attempt 3 of 3)',
  ]);
  assert.deepEqual(findPostgresProcesses(dataDir), [], 'no attempt is left running');
  const pg = await startPostgres({ dataDir, fsync: false, log: quiet });
  try {
    assert.equal(await sql(pg.url, 'SELECT note FROM kept WHERE id = 1'), 'still here', 'the failed attempts left the cluster intact');
  } finally {
    await pg.stop();
  }
});
