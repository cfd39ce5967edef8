import fs from 'node:fs';
import path from 'node:path';
import { WORKSPACE_MOUNT, type SandboxSpec } from './bridge';

// The bubblewrap command line of a workspace sandbox. Every namespace is new: its own users (one
// unprivileged user, no way to make more), processes (it sees only its own), network (only its own
// loopback), IPC and hostname. Its file system is built from nothing: the system folders and the
// taskd checkout read-only, fresh /proc, /dev and /tmp, and the workspace folder as the one
// writable place that lasts. What is not listed here (the data folder, other workspaces, /root,
// /home) does not exist inside.

/** the sandbox's one user, also named in the passwd file it sees */
export const INNER_UID = 1000;

// top-level names that merged-/usr systems make symlinks into /usr and older ones keep as folders
const SYSTEM_TOP = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

export function namespaceArgs(): string[] {
  return [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    // the sandbox ends with its supervisor, whatever way the supervisor ends
    '--die-with-parent',
    '--uid', String(INNER_UID),
    '--gid', String(INNER_UID),
    '--hostname', 'workspace',
  ];
}

export function systemArgs(): string[] {
  const args = ['--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc'];
  for (const name of SYSTEM_TOP) {
    const at = `/${name}`;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(at);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(at), at);
    else if (stat.isDirectory()) args.push('--ro-bind', at, at);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  return args;
}

export function sandboxArgs(spec: SandboxSpec, command: readonly string[]): string[] {
  const args = [...namespaceArgs(), ...systemArgs()];
  args.push('--ro-bind', path.join(spec.identityDir, 'passwd'), '/etc/passwd');
  args.push('--ro-bind', path.join(spec.identityDir, 'group'), '/etc/group');
  for (const dir of spec.readOnly) args.push('--ro-bind', dir, dir);
  for (const dir of spec.hidden) args.push('--tmpfs', dir, '--remount-ro', dir);
  args.push('--bind', spec.workspaceDir, WORKSPACE_MOUNT);
  // the root itself is a tmpfs bubblewrap made: read-only too, so /workspace and /tmp are the only places to write
  args.push('--remount-ro', '/', '--chdir', WORKSPACE_MOUNT, '--', ...command);
  return args;
}

/** The passwd and group files of the sandbox: its user, and none of the host's. */
export function identityFiles(): { passwd: string; group: string } {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nworkspace:x:${INNER_UID}:${INNER_UID}:workspace:${WORKSPACE_MOUNT}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nworkspace:x:${INNER_UID}:\nnogroup:x:65534:\n`,
  };
}
