// Builds the two programs of the Coder compatibility tier from Coder's own code, at the version
// compat/coder/go.mod pins: the SDK driver (sdkcheck/, this folder's Go) and the real `coder` CLI.
// Both land in a machine-level cache keyed by that version, so only the first build on a machine
// pays for it; Go's own module and build caches (GOMODCACHE, GOCACHE) are the machine's.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { findGo, taskdCacheDir } from '../../devstack/go-toolchain';
import { describeFailure, runCommand, type DevstackLogger } from '../../devstack/processes';

const MODULE_DIR = __dirname;
const CODER_MODULE = 'github.com/coder/coder/v2';
const GO_MOD = fs.readFileSync(path.join(MODULE_DIR, 'go.mod'), 'utf8');

/** The Coder version the tier checks against, read from go.mod so there is one place to change it. */
export const CODER_VERSION = (() => {
  const m = new RegExp(`^require ${CODER_MODULE.replace(/[./]/g, '\\$&')} (v\\S+)$`, 'm').exec(GO_MOD);
  if (!m) throw new Error(`compat/coder/go.mod does not require ${CODER_MODULE}`);
  return m[1]!;
})();

/**
 * The build tags and link flags of Coder's release script for its client-only ("slim") CLI: the
 * same `task`, `templates`, `list` … commands as the full binary, without `coder server`, in half
 * the build time. The version is stamped so the CLI's version check compares what it really is.
 */
const CLI_TAGS = 'slim,ts_omit_aws,ts_omit_bird,ts_omit_tap,ts_omit_kube';
const CLI_LDFLAGS = [
  '-s', '-w',
  `-X '${CODER_MODULE}/buildinfo.tag=${CODER_VERSION.slice(1)}'`,
  `-X '${CODER_MODULE}/buildinfo.agpl=true'`,
].join(' ');

export function compatCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(taskdCacheDir(env), `coder-${CODER_VERSION}`);
}

/** The driver's cache name carries a hash of its sources, so an edited driver is rebuilt. */
function sdkCheckName(): string {
  const hash = createHash('sha256');
  const files = ['go.mod', 'go.sum', ...fs.readdirSync(path.join(MODULE_DIR, 'sdkcheck')).sort().map((f) => `sdkcheck/${f}`)];
  for (const f of files) hash.update(f).update('\0').update(fs.readFileSync(path.join(MODULE_DIR, f)));
  return `sdkcheck-${hash.digest('hex').slice(0, 16)}`;
}

export interface BuildOptions {
  log: DevstackLogger;
  env?: NodeJS.ProcessEnv;
}

export interface Built {
  path: string;
  /** wall time of the build in ms; 0 when the cached binary was used */
  buildMs: number;
}

/** The Go release go.mod asks for (Coder's own minimum). */
const GO_VERSION = /^go (\S+)$/m.exec(GO_MOD)![1]!;

async function goBuild(target: string, args: string[], what: string, opts: BuildOptions): Promise<Built> {
  if (fs.existsSync(target)) return { path: target, buildMs: 0 };
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // a private name until complete: concurrent builders never see half a binary
  const partial = `${target}.${process.pid}.partial`;
  const started = Date.now();
  opts.log.info(`Building ${what} (Coder ${CODER_VERSION}) into ${target}…`);
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false -mod=readonly' };
  const result = await runCommand(await findGo({ ...opts, goVersion: GO_VERSION }), ['build', '-o', partial, ...args], { cwd: MODULE_DIR, env, timeoutMs: 40 * 60_000 });
  if (result.code !== 0) {
    fs.rmSync(partial, { force: true });
    throw new Error(describeFailure(`go build of ${what}`, result));
  }
  fs.renameSync(partial, target);
  return { path: target, buildMs: Date.now() - started };
}

/** The real `coder` CLI, built once per machine and version. */
export function ensureCoderCli(opts: BuildOptions): Promise<Built> {
  return goBuild(
    path.join(compatCacheDir(opts.env), 'coder'),
    ['-tags', CLI_TAGS, '-ldflags', CLI_LDFLAGS, `${CODER_MODULE}/cmd/coder`],
    'the coder CLI',
    opts,
  );
}

/** The SDK driver, built once per machine, version and revision of its sources. */
export function ensureSdkCheck(opts: BuildOptions): Promise<Built> {
  return goBuild(path.join(compatCacheDir(opts.env), sdkCheckName()), ['./sdkcheck'], 'the codersdk driver', opts);
}
