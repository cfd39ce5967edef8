import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createProvisioners, type Provisioners } from '../provisioner';
import { ProvisionerError, type StartOutcome } from '../provisioner/driver';
import { loadBuildContext } from './build-context';
import { buildLogWriter } from './build-log';
import type { ActivityDeps } from './deps';

// The one activity that touches a workspace: it loads everything a driver needs about the build
// (activities/build-context.ts) and lets the template's driver do the work. Drivers are idempotent,
// so a retry after a worker crash repeats the call safely.

const STAGES = { start: 'Starting workspace', stop: 'Stopping workspace', delete: 'Deleting workspace' } as const;

const NO_APPS: StartOutcome = { apps: [], hostId: null, agentLifecycle: 'created' };

export interface ProvisionDeps extends ActivityDeps {
  /** one set per worker: the process driver keeps per-workspace state */
  provisioners?: Provisioners;
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
      let buildLog: ReturnType<typeof buildLogWriter> | null = null;
      try {
        const ctx = await loadBuildContext(deps, input.buildId);
        const driver = provisioners.driver(ctx.definition.provisioner);
        const log = deps.log.child({ buildId: input.buildId, workspaceId: ctx.workspaceId, transition: ctx.transition });
        buildLog = buildLogWriter(deps, input.buildId, STAGES[ctx.transition]);
        const say = buildLog.line;
        if (input.orphan && ctx.transition === 'delete') {
          // Coder's orphan: the workspace record goes, whatever the provisioner left stays as it is
          log.warn({ provisioner: driver.name }, 'workspace deleted as an orphan: the provisioner was not run');
          say(`Deleting workspace ${ctx.workspaceName} as an orphan: the ${driver.name} provisioner is not run, what it made stays`, 'warn');
          return NO_APPS;
        }
        log.debug({ provisioner: driver.name }, 'provisioning');
        say(`Build #${ctx.buildNumber} of ${ctx.ownerName}/${ctx.workspaceName}: ${ctx.transition} on the ${driver.name} provisioner`);
        ctx.progress = say;
        switch (ctx.transition) {
          case 'start': {
            const outcome = await withHeartbeat(driver.start(ctx));
            for (const app of outcome.apps) say(`App ${app.slug} serves ${app.url || 'no URL'}${app.healthcheck ? `, health checked at ${app.healthcheck.url}` : ''}`);
            say(ctx.agent ? `Workspace started; its agent "${ctx.agent.name}" reports to ${ctx.accessUrl}` : 'Workspace started');
            return outcome;
          }
          case 'stop':
            await withHeartbeat(driver.stop(ctx));
            say('Workspace stopped; its folder is kept');
            return NO_APPS;
          case 'delete':
            await withHeartbeat(driver.delete(ctx));
            say('Workspace deleted with everything it held');
            return NO_APPS;
        }
      } catch (err) {
        buildLog?.line(`Build failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
        throw toFailure(err);
      } finally {
        await buildLog?.flushed();
      }
    },
  };
}

export type ProvisionActivities = ReturnType<typeof createProvisionActivities>;
