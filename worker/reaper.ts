import type { ActivityDeps } from '../activities/deps';
import { loadBuildContext } from '../activities/build-context';
import type { Provisioners } from '../provisioner';
import { hostWorkspace } from '../db/builds';
import { fork } from '../db/sql';

// Before a worker takes builds, it makes this host's workspace processes match the database: what
// a reboot, a crash or the dev launcher's Ctrl-C left behind is stopped or started again.

/**
 * Worker start-up on this host: a workspace's process group is stopped if the workspace should
 * not run (deleted, its latest build is not a live start, it belongs to another host), and started
 * again if it should run but does not (after a reboot or the dev launcher's Ctrl-C) and its latest
 * build is the one it last ran. A start build still in flight is left to its workflow. Returns the
 * workspaces whose processes were stopped.
 */
export async function reapOrphanWorkspaces(deps: ActivityDeps & { provisioners: Provisioners }): Promise<string[]> {
  const { provisioners } = deps;
  const hostId = provisioners.hostId;
  const { stopped } = await provisioners.process.reconcile(async ({ workspaceId, buildId, running }) => {
    // a folder name that is not a uuid cannot be a workspace of this database
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(workspaceId)) return { action: 'stop' };
    const row = await hostWorkspace(fork(deps.orm), workspaceId, hostId);
    if (!row?.should_run) return { action: 'stop' };
    if (running || row.latest_build_id !== buildId || row.latest_job_status !== 'succeeded') return { action: 'keep' };
    return { action: 'restart', ctx: await loadBuildContext(deps, buildId) };
  });
  return stopped;
}
