// Workspaces of the process driver run in bubblewrap sandboxes. The launcher installs Debian's
// package when it is missing and this process may (root, with apt-get); otherwise it says what
// that means, and the worker refuses to start sandboxed workspaces until bubblewrap is there.
import { runCommand, type DevstackLogger } from './processes';

export type BubblewrapState = 'present' | 'installed' | 'missing';

const INSTALL_TIMEOUT_MS = 300_000;

async function present(): Promise<boolean> {
  try {
    return (await runCommand('bwrap', ['--version'], { timeoutMs: 10_000 })).code === 0;
  } catch {
    return false;
  }
}

async function aptInstall(log: DevstackLogger): Promise<boolean> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => runCommand('apt-get', ['install', '-y', '-qq', 'bubblewrap'], { env, timeoutMs: INSTALL_TIMEOUT_MS });
  try {
    let result = await install();
    // a fresh machine may not have package lists yet
    if (result.code !== 0 && (await runCommand('apt-get', ['update', '-qq'], { env, timeoutMs: INSTALL_TIMEOUT_MS })).code === 0) {
      result = await install();
    }
    if (result.code !== 0) log.warn('apt-get install bubblewrap failed', { stderr: result.stderr.slice(-2000) });
    return result.code === 0 && (await present());
  } catch (err) {
    log.warn('apt-get is not available', { err: (err as Error).message });
    return false;
  }
}

export async function ensureBubblewrap(opts: { log: DevstackLogger }): Promise<BubblewrapState> {
  if (await present()) return 'present';
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'missing';
  return (await aptInstall(opts.log)) ? 'installed' : 'missing';
}
