// Finds a Go toolchain for the programs taskd builds from source (Coder's CLI for the compatibility
// tier, Temporal's server for the cluster tier), and the machine-level cache they are built into.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeFailure, runCommand, type DevstackLogger } from './processes';

/** ~/.cache/taskd (or $TASKD_CACHE_DIR): builds kept per machine, keyed by version. */
export function taskdCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TASKD_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'taskd');
}

async function runs(file: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    return (await runCommand(file, ['version'], { env, timeoutMs: 60_000 })).code === 0;
  } catch {
    return false;
  }
}

export interface FindGoOptions {
  /** the Go release the module to build asks for (its go.mod's `go` line) */
  goVersion: string;
  log: DevstackLogger;
  env?: NodeJS.ProcessEnv;
}

/**
 * Go: $GO, `go` on PATH, the usual install folder, or else the toolchain `goVersion` names, fetched
 * once into the cache from the Go module proxy (Go publishes its releases there as the module
 * golang.org/toolchain). A Go older than a module asks for fetches the right one by itself.
 */
export async function findGo(opts: FindGoOptions): Promise<string> {
  const env = opts.env ?? process.env;
  for (const candidate of [env.GO, 'go', '/usr/local/go/bin/go']) {
    if (candidate && (await runs(candidate, env))) return candidate;
  }
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
  if (!arch || (process.platform !== 'linux' && process.platform !== 'darwin')) {
    throw new Error(`no Go found and no Go toolchain for ${process.platform}/${process.arch}: install Go or set GO=/path/to/go`);
  }
  const release = `v0.0.1-go${opts.goVersion}.${process.platform}-${arch}`;
  const root = path.join(taskdCacheDir(env), `go-${opts.goVersion}`);
  const goBin = path.join(root, `golang.org/toolchain@${release}`, 'bin', 'go');
  if (await runs(goBin, env)) return goBin;
  const proxy = (env.GOPROXY ?? '').split(/[,|]/)[0]!;
  const url = `${proxy.startsWith('http') ? proxy : 'https://proxy.golang.org'}/golang.org/toolchain/@v/${release}.zip`;
  opts.log.info(`No Go found: fetching Go ${opts.goVersion} from ${url}…`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fetching Go ${opts.goVersion} from ${url}: HTTP ${res.status}; install Go or set GO=/path/to/go`);
  fs.mkdirSync(root, { recursive: true });
  const zip = path.join(root, `${release}.zip`);
  fs.writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
  // module zips keep no file modes: the tools are made executable after unpacking
  const unzip = await runCommand('python3', ['-m', 'zipfile', '-e', zip, root], { timeoutMs: 10 * 60_000 });
  fs.rmSync(zip, { force: true });
  if (unzip.code !== 0) throw new Error(describeFailure('unpacking the Go toolchain', unzip));
  const goroot = path.dirname(path.dirname(goBin));
  const tools = path.join(goroot, 'pkg', 'tool');
  for (const dir of [path.join(goroot, 'bin'), ...fs.readdirSync(tools).map((d) => path.join(tools, d))]) {
    for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o755);
  }
  return goBin;
}
