import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

// taskd's side of a Docker workspace, mounted read-only at RUNTIME_MOUNT: the workspace agent and
// the built-in agent, each bundled into one JavaScript file, and the worker's own Node binary to
// run them. Mounting them rather than baking them into images keeps the agent in step with the
// server it speaks to and leaves the template's image free of taskd: any image with the C library
// Node needs (glibc: Debian, Ubuntu, Fedora ...) will do. A bundle is written once per content
// hash; an older one stays while a container still mounts it.

export const RUNTIME_MOUNT = '/opt/taskd';
export const NODE_IN_CONTAINER = `${RUNTIME_MOUNT}/bin/node`;
export const AGENT_IN_CONTAINER = `${RUNTIME_MOUNT}/workspace-agent.js`;

const ENTRIES = {
  'workspace-agent.js': path.join(__dirname, 'docker-agent-main.ts'),
  'builtin-agent.js': path.join(__dirname, '..', 'agent', 'builtin-agent-main.ts'),
};

export interface Runtime {
  /** host folder mounted at RUNTIME_MOUNT */
  dir: string;
  /** host file mounted at NODE_IN_CONTAINER */
  node: string;
}

async function bundle(entry: string): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    logLevel: 'error',
    // the TypeScript loader is looked up only where taskd runs from its checkout
    external: ['tsx'],
    // in one bundle every module's "run when I am the main module" check would hold (esbuild turns
    // their `module` into the bundle's): only the entry decides what runs
    define: { 'require.main': 'undefined' },
  });
  return result.outputFiles[0]!.contents;
}

/** Bundles the agents into `<root>/runtime-<hash>` unless that exists; returns what to mount. */
export async function prepareRuntime(root: string): Promise<Runtime> {
  const files = await Promise.all(Object.entries(ENTRIES).map(async ([name, entry]) => [name, await bundle(entry)] as const));
  const hash = createHash('sha256');
  for (const [name, code] of files) hash.update(name).update(code);
  const name = `runtime-${hash.digest('hex').slice(0, 16)}`;
  const dir = path.join(root, name);
  if (!fs.existsSync(dir)) {
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    // the bin folder holds the mount point of the Node binary: a read-only mount cannot make one
    fs.mkdirSync(path.join(tmp, 'bin'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(tmp, 'bin', 'node'), '', { mode: 0o755 });
    for (const [file, code] of files) fs.writeFileSync(path.join(tmp, file), code, { mode: 0o644 });
    fs.chmodSync(tmp, 0o755);
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // another process of this data folder wrote the same bundle first
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(dir)) throw err;
    }
  }
  return { dir, node: process.execPath };
}

/** Removes the bundles of earlier taskd versions that no container mounts any more. */
export function removeUnusedRuntimes(root: string, inUse: ReadonlySet<string>): void {
  for (const entry of fs.readdirSync(root)) {
    const dir = path.join(root, entry);
    if (/^runtime-[0-9a-f]+$/.test(entry) && !inUse.has(dir)) fs.rmSync(dir, { recursive: true, force: true });
  }
}
