// What the test command needs from the machine beyond `npm ci`, checked before anything starts: as
// root a missing piece is installed from Debian's archive; otherwise the run stops in its first
// second with one sentence saying what to install, instead of failing test by test later. A new
// requirement is one more entry in REQUIREMENTS.
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '../devstack/processes';
import { findDockerd } from '../devstack/docker-daemon';
import { findPgBinDir } from '../devstack/postgres-cluster';

/** Debian's Chromium, which the dashboard tests drive (never a browser download). */
export const CHROMIUM_PATH = process.env.TASKD_CHROMIUM ?? '/usr/bin/chromium';

export interface Requirement {
  name: string;
  /** Test files (paths relative to the checkout) that need it; absent: every run. */
  neededBy?: RegExp;
  present(): Promise<boolean>;
  /** Debian packages that provide it, installed with apt-get when the run is root. */
  apt: string[];
  /** The one sentence printed when it is missing and cannot be installed here. */
  missing: string;
  /** When it cannot be had here, the run goes on and the tests that need it skip, saying why. */
  optional?: boolean;
}

export const REQUIREMENTS: Requirement[] = [
  {
    name: 'PostgreSQL server binaries',
    present: () => findPgBinDir().then(() => true, () => false),
    apt: ['postgresql'],
    missing: "The tests run a private PostgreSQL: install Debian's postgresql package (apt-get install postgresql) or set PG_BIN to a folder holding postgres and initdb.",
  },
  {
    name: 'Chromium',
    neededBy: /^test\/web\//,
    present: async () => fs.existsSync(CHROMIUM_PATH),
    apt: ['chromium'],
    missing: `The dashboard tests drive Chromium at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install chromium) or set TASKD_CHROMIUM to a Chromium binary.`,
  },
  {
    name: 'bubblewrap',
    // process-driver workspaces run sandboxed by default, and several folders' tests start them
    present: () => runCommand('bwrap', ['--version'], { timeoutMs: 10_000 }).then((r) => r.code === 0, () => false),
    apt: ['bubblewrap'],
    missing: "Process-driver workspaces run in bubblewrap sandboxes: install Debian's bubblewrap package (apt-get install bubblewrap).",
  },
  {
    name: 'Docker',
    neededBy: /^test\/provisioner\/docker-/,
    // the tests start dockerd themselves; busybox is what their image is made of
    present: async () => findDockerd() !== null && ['/bin/busybox', '/usr/bin/busybox'].some((f) => fs.existsSync(f)),
    apt: ['docker.io', 'busybox-static'],
    missing: "The docker driver's tests skip: they need Docker and busybox (apt-get install docker.io busybox-static) and root to start dockerd.",
    optional: true,
  },
];

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// another apt-get on the machine holds the lock for a while; waiting beats failing the run
const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];

async function aptInstall(packages: string[]): Promise<string | null> {
  const install = () => runCommand('apt-get', ['install', '-y', '-qq', ...APT_LOCK_WAIT, ...packages], { env: APT_ENV, timeoutMs: 900_000 });
  let result = await install();
  if (result.code !== 0) {
    // a fresh machine has no package lists yet
    await runCommand('apt-get', ['update', '-qq', ...APT_LOCK_WAIT], { env: APT_ENV, timeoutMs: 600_000 });
    result = await install();
  }
  return result.code === 0 ? null : `${result.stderr || result.stdout}`.trim().split('\n').slice(-3).join(' ');
}

/**
 * Makes every requirement of `files` present. Returns the sentences of those still missing that stop
 * the run (empty when it can go ahead); progress of installs, and optional ones missing, go to `say`.
 */
export async function preflight(files: string[], root: string, say: (line: string) => void): Promise<string[]> {
  const relative = files.map((f) => path.relative(root, f));
  const wanted = REQUIREMENTS.filter((r) => !r.neededBy || relative.some((f) => r.neededBy!.test(f)));
  const absent: Requirement[] = [];
  for (const r of wanted) if (!(await r.present())) absent.push(r);
  const stopping = (missing: Requirement[]) => {
    for (const r of missing.filter((m) => m.optional)) say(`preflight: ${r.missing}`);
    return missing.filter((r) => !r.optional).map((r) => r.missing);
  };
  if (absent.length === 0 || process.getuid?.() !== 0) return stopping(absent);
  const packages = absent.flatMap((r) => r.apt);
  say(`preflight: installing ${packages.join(', ')} from Debian's archive (once per machine)…`);
  const failure = await aptInstall(packages);
  if (failure) say(`preflight: apt-get failed: ${failure}`);
  const still: Requirement[] = [];
  for (const r of absent) if (!(await r.present())) still.push(r);
  return stopping(still);
}
