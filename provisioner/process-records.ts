import fs from 'node:fs';
import path from 'node:path';
import type { ProvisionedApp } from './driver';
import type { ProcessIdentity } from './process-group';

// What the process driver knows about each workspace it runs, kept in <dataDir>/workspace-state/<id>
// and not in the workspace folder, which the workspace itself writes: the run record (the process
// group to signal, the build, the apps and their ports), the workspace's log, its user. The record
// makes start idempotent across retries and worker restarts and lets a restarted worker reconcile.

export interface RunRecord extends ProcessIdentity {
  workspaceId: string;
  buildId: string;
  apps: ProvisionedApp[];
  startedAt: string;
  /** "bubblewrap": the group leader is the workspace's supervisor; "none" (or absent): its agent */
  sandbox?: 'bubblewrap' | 'none';
}

export interface RecordStore {
  readonly root: string;
  stateDir(workspaceId: string): string;
  logFile(workspaceId: string): string;
  read(workspaceId: string): RunRecord | null;
  write(record: RunRecord): void;
  remove(workspaceId: string): void;
  /** ids of the workspaces with a run record */
  list(): string[];
}

const RECORD = 'run.json';

export function createRecordStore(dataDir: string, workspacesDir: string): RecordStore {
  const root = path.join(dataDir, 'workspace-state');
  const stateDir = (id: string) => path.join(root, id);
  const recordFile = (id: string) => path.join(stateDir(id), RECORD);

  /**
   * Records of workspaces started before the state folder existed sat in <folder>/.taskd/run.json;
   * one is moved over only while the workspace has no state folder, i.e. before taskd ever
   * started it this way, and so before it could have run sandboxed and written that file itself.
   */
  function adoptEarlierRecords(): void {
    let ids: string[];
    try {
      ids = fs.readdirSync(workspacesDir);
    } catch {
      return;
    }
    for (const id of ids) {
      const earlier = path.join(workspacesDir, id, '.taskd', RECORD);
      if (fs.existsSync(stateDir(id)) || !fs.existsSync(earlier)) continue;
      fs.mkdirSync(stateDir(id), { recursive: true, mode: 0o700 });
      fs.renameSync(earlier, recordFile(id));
    }
  }

  return {
    root,
    stateDir,
    logFile: (id) => path.join(stateDir(id), 'workspace.log'),
    read(id) {
      try {
        return JSON.parse(fs.readFileSync(recordFile(id), 'utf8')) as RunRecord;
      } catch {
        return null;
      }
    },
    write(record) {
      fs.mkdirSync(stateDir(record.workspaceId), { recursive: true, mode: 0o700 });
      const file = recordFile(record.workspaceId);
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(record, null, 2));
      fs.renameSync(tmp, file);
    },
    remove(id) {
      fs.rmSync(recordFile(id), { force: true });
    },
    list() {
      adoptEarlierRecords();
      let entries: string[];
      try {
        entries = fs.readdirSync(root);
      } catch {
        return [];
      }
      return entries.filter((id) => fs.existsSync(recordFile(id)));
    },
  };
}
