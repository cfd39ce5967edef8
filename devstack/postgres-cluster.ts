import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describeFailure, runCommand, type DevstackLogger } from './processes';

/** Superuser and database of the private cluster. */
export const PG_USER = 'taskd';
export const PG_DATABASE = 'taskd';
/** Written next to the cluster files at init; PostgreSQL ignores unknown files in its data directory. */
const PASSWORD_FILE = 'taskd-devstack.password';

export interface RunAs {
  uid?: number;
  gid?: number;
}

/** PG_BIN, else `pg_config --bindir`, else the highest /usr/lib/postgresql/<n>/bin. */
export async function findPgBinDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const hasServer = (dir: string) => fs.existsSync(path.join(dir, 'postgres')) && fs.existsSync(path.join(dir, 'initdb'));
  if (env.PG_BIN) {
    if (!hasServer(env.PG_BIN)) throw new Error(`PG_BIN=${env.PG_BIN} does not contain postgres and initdb`);
    return env.PG_BIN;
  }
  try {
    const result = await runCommand('pg_config', ['--bindir'], { env, timeoutMs: 10_000 });
    const dir = result.stdout.trim();
    if (result.code === 0 && hasServer(dir)) return dir;
  } catch {
    // No pg_config on PATH: fall through to the Debian layout.
  }
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && hasServer(path.join(root, v, 'bin')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('PostgreSQL server binaries not found: set PG_BIN to the folder holding postgres and initdb');
  }
  return path.join(root, versions[0], 'bin');
}

/**
 * PostgreSQL refuses to run as root, so root runs it as the `postgres` account;
 * anyone else runs it as themselves.
 */
export async function resolveRunAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const id = async (flag: string) => {
    const result = await runCommand('id', [flag, 'postgres'], { timeoutMs: 10_000 });
    if (result.code !== 0) {
      throw new Error('Running as root, and PostgreSQL refuses root: create a `postgres` user or run as non-root');
    }
    return Number(result.stdout.trim());
  };
  return { uid: await id('-u'), gid: await id('-g') };
}

/** Hands a folder we just created to the server account, and proves that account can reach it. */
async function handOver(dir: string, runAs: RunAs): Promise<void> {
  if (runAs.uid === undefined || runAs.gid === undefined) return;
  await fs.promises.chown(dir, runAs.uid, runAs.gid);
  // The kernel is the authority on whether every parent folder is traversable for that account.
  const probe = await runCommand('test', ['-w', dir], { ...runAs, cwd: '/', timeoutMs: 10_000 });
  if (probe.code !== 0) {
    throw new Error(
      `The postgres user (uid ${runAs.uid}) cannot reach ${dir}: every parent folder must be traversable ` +
        `(e.g. chmod o+x on each), or choose a dataDir elsewhere`,
    );
  }
}

export function readPassword(dataDir: string): string {
  const file = path.join(dataDir, PASSWORD_FILE);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(
      `${dataDir} holds a PostgreSQL cluster without ${PASSWORD_FILE}; it was not created by taskd's dev stack. ` +
        'Delete the folder to start over, or point dataDir elsewhere',
    );
  }
}

/**
 * initdb's own sync fsyncs ~1,000 files one by one (3-7 s here); one syncfs of
 * the filesystem gives the same durability in ~0.2 s. `sync -f` is Linux
 * coreutils; elsewhere initdb --sync-only does it the slow way.
 */
async function flushToDisk(dir: string, binDir: string, runAs: RunAs): Promise<void> {
  const viaSyncfs = await runCommand('sync', ['-f', dir], { timeoutMs: 120_000 }).catch(() => undefined);
  if (viaSyncfs?.code === 0) return;
  const result = await runCommand(path.join(binDir, 'initdb'), ['--sync-only', '-D', dir], {
    ...runAs,
    cwd: '/',
    timeoutMs: 300_000,
  });
  if (result.code !== 0) throw new Error(describeFailure('initdb --sync-only', result));
}

/**
 * Creates the cluster in a sibling temp folder and renames it into place, so
 * a crash mid-initdb never leaves a half-made cluster at dataDir, and two
 * racing starts end with exactly one cluster.
 */
export async function initCluster(options: {
  dataDir: string;
  binDir: string;
  runAs: RunAs;
  fsync: boolean;
  log: DevstackLogger;
}): Promise<void> {
  const { dataDir, binDir, runAs, log } = options;
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not empty and is not a PostgreSQL data directory`);
  }
  const parent = path.dirname(dataDir);
  await fs.promises.mkdir(parent, { recursive: true });
  const work = await fs.promises.mkdtemp(path.join(parent, `.${path.basename(dataDir)}.init-`));
  try {
    await handOver(work, runAs);
    const password = crypto.randomBytes(24).toString('hex');
    const pwfile = path.join(work, 'pwfile');
    await fs.promises.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs.uid !== undefined && runAs.gid !== undefined) await fs.promises.chown(pwfile, runAs.uid, runAs.gid);

    const staged = path.join(work, 'data');
    const args = ['-D', staged, '-U', PG_USER, '--pwfile', pwfile, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'];
    args.push('--no-instructions', '--no-sync');
    log.info(`Creating PostgreSQL cluster in ${dataDir}`);
    const result = await runCommand(path.join(binDir, 'initdb'), args, { ...runAs, cwd: '/', timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(describeFailure('initdb', result));
    await fs.promises.writeFile(path.join(staged, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
    if (options.fsync) await flushToDisk(staged, binDir, runAs);

    try {
      // Replaces a missing or empty dataDir; fails if someone else got there first.
      await fs.promises.rename(staged, dataDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
        log.info(`Another process created the cluster in ${dataDir} first; using it`);
        return;
      }
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new Error(`${dataDir} is not empty and is not a PostgreSQL data directory`, { cause: err });
      }
      throw err;
    }
    // The rename itself must reach the disk too, or a power cut could bring back an empty dataDir.
    if (options.fsync) await flushToDisk(dataDir, binDir, runAs);
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

function processCwd(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function processName(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * PIDs of postgres processes serving dataDir. Every postgres process keeps its
 * data directory as working directory, which survives a SIGKILLed postmaster
 * (orphaned backends) where postmaster.pid would not tell. Linux only
 * (reads /proc); elsewhere returns [].
 */
export function findPostgresProcesses(dataDir: string): number[] {
  let real: string;
  let entries: string[];
  try {
    real = fs.realpathSync(dataDir);
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => processCwd(pid) === real && processName(pid)?.startsWith('postgres'));
}

/**
 * Refuses to start over live processes; removes a postmaster.pid left by a
 * crash when its PID is gone or now belongs to something else (PostgreSQL
 * itself treats a reused PID it cannot signal as a live postmaster).
 */
export function clearStaleLock(dataDir: string, log: DevstackLogger): void {
  const live = findPostgresProcesses(dataDir);
  if (live.length > 0) {
    throw new Error(`PostgreSQL is already running on ${dataDir} (pids ${live.join(', ')}); stop it first`);
  }
  const lockFile = path.join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(lockFile, 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  let alive = true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    alive = (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const provablyOther = alive && fs.existsSync('/proc') && processCwd(pid) !== undefined;
  if (Number.isInteger(pid) && pid > 0 && alive && !provablyOther) return;
  log.warn(`Removing stale ${lockFile} (pid ${pid} is ${alive ? 'another program' : 'gone'}); last shutdown was unclean`);
  fs.rmSync(lockFile, { force: true });
}
