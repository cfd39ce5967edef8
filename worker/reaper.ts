import type { ActivityDeps } from '../activities/deps';
import { loadBuildContext } from '../activities/build-context';
import type { Provisioners } from '../provisioner';
import { hostWorkspace } from '../db/builds';
import { fork } from '../db/sql';

// Before a worker takes builds, it makes this host's workspaces match the database: what a reboot,
// a crash or the dev launcher's Ctrl-C left behind is stopped, started again or removed.

/**
 * Worker start-up on this host: a workspace's processes or container are stopped if the workspace
 * should not run (its latest build is not a live start, it belongs to another host), removed with
 * what is kept across stops if it is gone (deleted, or unknown to this database), and started
 * again if it should run but does not (after a reboot or the dev launcher's Ctrl-C) and its latest
 * build is the one it last ran. A start build still in flight is left to its workflow. Returns the
 * workspaces that were stopped or removed.
 */
export async function reapOrphanWorkspaces(deps: ActivityDeps & { provisioners: Provisioners }): Promise<string[]> {
  const { provisioners } = deps;
  const hostId = provisioners.hostId;
  return provisioners.reconcile(async ({ workspaceId, buildId, running }) => {
    // a folder name that is not a uuid cannot be a workspace of this database
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(workspaceId)) return { action: 'stop', gone: true };
    const row = await hostWorkspace(fork(deps.orm), workspaceId, hostId);
    if (!row || row.deleted) return { action: 'stop', gone: true };
    if (!row.should_run) return { action: 'stop' };
    if (running || row.latest_build_id !== buildId || row.latest_job_status !== 'succeeded') return { action: 'keep' };
    return { action: 'restart', ctx: await loadBuildContext(deps, buildId) };
  });
}
