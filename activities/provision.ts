import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { deriveAgentToken } from '../lib/agent-token';
import { workspaceDefinitionSchema } from '../domain/workspace-definition';
import type { BuildTransition } from '../domain/task-status';
import { createProvisioners, type Provisioners } from '../provisioner';
import { ProvisionerError, type BuildContext, type StartOutcome } from '../provisioner/driver';
import { forkEm, sqlOne } from './db';
import type { ActivityDeps } from './deps';

// The one activity that touches a workspace: it loads everything a driver needs from the database
// (so its input stays a single build id in the workflow history), derives the agent token (never
// stored), and lets the template's driver do the work. Drivers are idempotent, so a retry after a
// worker crash repeats the call safely.

export interface ProvisionDeps extends ActivityDeps {
  /** one set per worker: the process driver keeps per-workspace state */
  provisioners?: Provisioners;
}

interface BuildRow {
  workspace_id: string;
  workspace_name: string;
  owner_name: string;
  build_number: number;
  transition: BuildTransition;
  definition: unknown;
  task_id: string | null;
  agent_id: string | null;
  agent_name: string | null;
}

const NO_APPS: StartOutcome = { apps: [], hostId: null, agentLifecycle: 'created' };

async function loadBuildContext(deps: ActivityDeps, buildId: string): Promise<BuildContext> {
  const em = forkEm(deps);
  const row = await sqlOne<BuildRow>(
    em,
    `select b.workspace_id, w.name as workspace_name, u.username as owner_name, b.build_number, b.transition,
            tv.definition, t.id as task_id, a.id as agent_id, a.name as agent_name
       from workspace_builds b
       join workspaces w on w.id = b.workspace_id
       join users u on u.id = w.owner_id
       join template_versions tv on tv.id = b.template_version_id
       left join lateral (select id from tasks where workspace_id = w.id
                           order by deleted_at desc nulls first, created_at desc limit 1) t on true
       left join lateral (select id, name from workspace_agents where build_id = b.id
                           order by created_at limit 1) a on true
      where b.id = ?`,
    [buildId],
  );
  if (!row) throw new ProvisionerError(`build ${buildId} does not exist`, false);
  const parsed = workspaceDefinitionSchema.safeParse(row.definition);
  if (!parsed.success) throw new ProvisionerError(`the template version's workspace definition is invalid: ${parsed.error.message}`, false);
  if (row.transition === 'start' && !row.agent_id) {
    throw new ProvisionerError(`start build ${buildId} has no agent row (beginBuild must run first)`, false);
  }
  return {
    workspaceId: row.workspace_id,
    workspaceName: row.workspace_name,
    ownerName: row.owner_name,
    taskId: row.task_id,
    buildId,
    buildNumber: row.build_number,
    transition: row.transition,
    definition: parsed.data,
    agent:
      row.transition === 'start' && row.agent_id
        ? { id: row.agent_id, name: row.agent_name ?? 'main', token: await deriveAgentToken(em, row.agent_id) }
        : null,
    accessUrl: deps.config.http.accessUrl,
  };
}

/** Heartbeats while `work` runs, when called as an activity, so a stuck driver is noticed and cancellable. */
async function withHeartbeat<T>(work: Promise<T>): Promise<T> {
  let ctx: Context | null = null;
  try {
    ctx = Context.current();
  } catch {
    // called outside an activity (tests, tools): nothing to heartbeat to
  }
  if (!ctx) return work;
  const activity = ctx;
  const timer = setInterval(() => activity.heartbeat(), 2_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

function toFailure(err: unknown): unknown {
  if (err instanceof ProvisionerError) {
    return ApplicationFailure.create({ type: 'ProvisionerError', message: err.message, nonRetryable: !err.retryable });
  }
  return err;
}

export function createProvisionActivities(deps: ProvisionDeps) {
  const provisioners = deps.provisioners ?? createProvisioners({ config: deps.config, log: deps.log });
  return {
    /** Runs build `buildId` through its template's driver; for a start build, returns the apps to record. */
    async provisionWorkspace(input: { buildId: string; orphan?: boolean }): Promise<StartOutcome> {
      try {
        const ctx = await loadBuildContext(deps, input.buildId);
        const driver = provisioners.driver(ctx.definition.provisioner);
        const log = deps.log.child({ buildId: input.buildId, workspaceId: ctx.workspaceId, transition: ctx.transition });
        if (input.orphan && ctx.transition === 'delete') {
          // Coder's orphan: the workspace record goes, whatever the provisioner left stays as it is
          log.warn({ provisioner: driver.name }, 'workspace deleted as an orphan: the provisioner was not run');
          return NO_APPS;
        }
        log.debug({ provisioner: driver.name }, 'provisioning');
        switch (ctx.transition) {
          case 'start':
            return await withHeartbeat(driver.start(ctx));
          case 'stop':
            await withHeartbeat(driver.stop(ctx));
            return NO_APPS;
          case 'delete':
            await withHeartbeat(driver.delete(ctx));
            return NO_APPS;
        }
      } catch (err) {
        throw toFailure(err);
      }
    },
  };
}

interface HostWorkspaceRow {
  should_run: boolean;
  latest_build_id: string;
  latest_job_status: string;
}

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
    const row = await sqlOne<HostWorkspaceRow>(
      forkEm(deps),
      `select (not w.deleted and coalesce(w.host_id, ?) = ? and b.transition = 'start'
               and b.job_status in ('pending', 'running', 'succeeded')) as should_run,
              b.id as latest_build_id, b.job_status as latest_job_status
         from workspaces w
         join lateral (select id, transition, job_status from workspace_builds where workspace_id = w.id
                        order by build_number desc limit 1) b on true
        where w.id = ?`,
      [hostId, hostId, workspaceId],
    );
    if (!row?.should_run) return { action: 'stop' };
    if (running || row.latest_build_id !== buildId || row.latest_job_status !== 'succeeded') return { action: 'keep' };
    return { action: 'restart', ctx: await loadBuildContext(deps, buildId) };
  });
  return stopped;
}

export type ProvisionActivities = ReturnType<typeof createProvisionActivities>;
