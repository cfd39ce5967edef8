import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ProvisionerError } from '../driver';

// Which host user a sandboxed workspace runs as. A worker running as root gives every workspace a
// user of its own, so that even outside the sandbox's namespaces it owns nothing but its folder:
// a uid from a block no account uses, claimed by an exclusive create of <claims>/<uid> that holds
// the workspace id, recorded with the workspace's state and kept from the first start to the delete so the folder's files stay its
// own across pause and resume. A worker that is not root cannot switch users: its workspaces run
// as its own user, kept apart by the sandbox's namespaces alone.

export const UID_BASE = 1_900_000_000;
const UID_SLOTS = 1 << 20;
const MAX_PROBES = 4096;

export const runsAsRoot = (): boolean => process.getuid?.() === 0;

function* candidates(workspaceId: string): Generator<number> {
  const start = createHash('sha256').update(workspaceId).digest().readUInt32BE(0) % UID_SLOTS;
  for (let i = 0; i < MAX_PROBES; i++) yield UID_BASE + ((start + i) % UID_SLOTS);
}

function holder(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The workspace's uid: the one recorded in `uidFile` (its state folder, out of the workspace's
 * reach), else a newly claimed one, recorded there.
 */
export function workspaceUid(uidFile: string, claimsDir: string, workspaceId: string): number {
  const recorded = Number(holder(uidFile));
  if (Number.isInteger(recorded) && recorded >= UID_BASE && recorded < UID_BASE + UID_SLOTS) return recorded;
  fs.mkdirSync(claimsDir, { recursive: true, mode: 0o700 });
  for (const uid of candidates(workspaceId)) {
    const file = path.join(claimsDir, String(uid));
    try {
      fs.writeFileSync(file, workspaceId, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // claimed by another workspace, or by this one before a crash kept it from being recorded
      if (holder(file) !== workspaceId) continue;
    }
    fs.writeFileSync(uidFile, String(uid));
    return uid;
  }
  throw new ProvisionerError('no free workspace user id left', false);
}

/** Gives the workspace's uid back once it is deleted. */
export function releaseUid(uidFile: string, claimsDir: string): void {
  const uid = holder(uidFile);
  if (uid !== null) fs.rmSync(path.join(claimsDir, path.basename(uid.trim())), { force: true });
}

/**
 * Makes `dir` the workspace user's own (mode 0700). Files left by an unsandboxed run of the same
 * workspace change owner too, without following links the workspace may have planted.
 */
export function ownFolder(dir: string, uid: number): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (fs.lstatSync(dir).uid !== uid) chownTree(dir, uid);
  fs.chmodSync(dir, 0o700);
}

function chownTree(dir: string, uid: number): void {
  fs.lchownSync(dir, uid, uid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(at, uid);
    else fs.lchownSync(at, uid, uid);
  }
}
