// The image the docker driver's tests run workspaces from, built offline from this machine's own
// files, since no registry is reachable: Debian's static busybox (a shell and the usual tools), the
// C libraries the worker's Node binary needs (the driver mounts that binary in), and the programs
// the tests' AI apps run there, bundled. It is tagged with the hash of its content, so a test run
// reuses the image an earlier one built, and a change of any file builds a new one.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { build } from 'esbuild';
import tar from 'tar-stream';

const REPO = 'taskd-test-workspace';
/** where the bundled test programs are in the image */
export const TEST_PROGRAMS = '/usr/local/lib/taskd-test';
const PROGRAMS = { 'escape-attempts.js': path.join(__dirname, '..', 'provisioner', 'fixtures', 'docker-escape-attempts.ts') };

type Entry = { name: string; mode: number; body: Buffer } | { name: string; mode: number; dir: true } | { name: string; link: string };

/** Shared libraries of an ELF binary as ldd lists them (none for a static one): path in the image → file here. */
function libraries(binary: string): Map<string, string> {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return new Map(); // "not a dynamic executable"
  }
  const libs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.set(m[1]!, fs.realpathSync(m[1]!));
  }
  return libs;
}

function findBusybox(): string {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) if (fs.existsSync(candidate)) return candidate;
  throw new Error('busybox is not installed (Debian: apt-get install busybox-static)');
}

async function entries(): Promise<Entry[]> {
  const busybox = findBusybox();
  const list: Entry[] = [
    { name: 'bin', mode: 0o755, dir: true },
    { name: 'etc', mode: 0o755, dir: true },
    { name: 'tmp', mode: 0o1777, dir: true },
    { name: 'root', mode: 0o700, dir: true },
    { name: 'bin/busybox', mode: 0o755, body: fs.readFileSync(busybox) },
    { name: 'etc/passwd', mode: 0o644, body: Buffer.from('root:x:0:0:root:/root:/bin/sh\nworkspace:x:1000:1000:workspace:/workspace:/bin/sh\n') },
    { name: 'etc/group', mode: 0o644, body: Buffer.from('root:x:0:\nworkspace:x:1000:\n') },
  ];
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) list.push({ name: `bin/${applet}`, link: 'busybox' });
  const libs = new Map([...libraries(busybox), ...libraries(process.execPath)]);
  const dirs = new Set<string>();
  const withParents = (at: string) => {
    for (let d = at; d !== '/'; d = path.dirname(d)) dirs.add(d.slice(1));
  };
  withParents(TEST_PROGRAMS);
  for (const [at, file] of [...libs].sort()) {
    list.push({ name: at.slice(1), mode: 0o755, body: fs.readFileSync(file) });
    withParents(path.dirname(at));
  }
  for (const d of [...dirs].sort()) if (!list.some((e) => e.name === d)) list.push({ name: d, mode: 0o755, dir: true });
  for (const [name, entry] of Object.entries(PROGRAMS)) {
    const out = await build({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false, logLevel: 'error' });
    list.push({ name: `${TEST_PROGRAMS.slice(1)}/${name}`, mode: 0o644, body: Buffer.from(out.outputFiles[0]!.contents) });
  }
  // parents before children, whatever order they were found in
  return list.sort((a, b) => a.name.split('/').length - b.name.split('/').length);
}

function tarball(list: Entry[]): tar.Pack {
  const pack = tar.pack();
  const common = { uid: 0, gid: 0, mtime: new Date(0) };
  for (const e of list) {
    if ('link' in e) pack.entry({ ...common, name: e.name, type: 'symlink', linkname: e.link });
    else if ('dir' in e) pack.entry({ ...common, name: e.name, type: 'directory', mode: e.mode });
    else pack.entry({ ...common, name: e.name, mode: e.mode }, e.body);
  }
  pack.finalize();
  return pack;
}

/** The test image's reference, imported into the daemon unless a run has done so already. */
export async function testWorkspaceImage(docker: Docker): Promise<string> {
  const list = await entries();
  const hash = createHash('sha256');
  for (const e of list) hash.update(JSON.stringify({ ...e, body: undefined })).update('body' in e ? e.body : '');
  const ref = `${REPO}:${hash.digest('hex').slice(0, 16)}`;
  const known = await docker
    .getImage(ref)
    .inspect()
    .then(() => true, () => false);
  if (known) return ref;
  const [repo, tag] = ref.split(':');
  const progress = await docker.importImage(tarball(list), { repo, tag });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(progress, (err) => (err ? reject(err) : resolve())));
  return ref;
}
