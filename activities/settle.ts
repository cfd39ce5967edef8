import { inTransaction, sql, sqlOne } from './db';
import type { ActivityDeps } from './deps';
import { namedUuid } from './builds';
import { loadTaskAppState } from './task-state';
import type { MarkStartTimeoutInput, TaskAppState } from './types';

// The bounded end of "initializing": when the agent or the task app misses its deadline the
// workflow records that here, so the status rules of §2.1 move the task on (start_timeout →
// defer to the app; an unhealthy app → error) instead of it waiting forever.

export function startTimeoutMessage(stage: MarkStartTimeoutInput['stage'], timeoutS: number): string {
  return stage === 'agent'
    ? `The workspace agent did not become ready within ${timeoutS} s.`
    : `The task app did not become healthy within ${timeoutS} s.`;
}

export function createSettleActivities(deps: ActivityDeps) {
  return {
    /**
     * Marks the build's agent `start_timeout` (and its still-initializing app `unhealthy`, since no
     * agent will ever check it), or only the app `unhealthy`. Guarded updates: a report that won the
     * race is kept. When something was marked, a `failure` app status carries the message into
     * `current_state`; its id is derived from the build so a retry writes it once.
     */
    async markStartTimeout(input: MarkStartTimeoutInput): Promise<TaskAppState> {
      const message = startTimeoutMessage(input.stage, input.timeoutS);
      return inTransaction(deps, async (tx) => {
        const row = await sqlOne<{ workspace_id: string; agent_id: string | null; app_id: string | null }>(
          tx,
          `select b.workspace_id, twa.workspace_agent_id as agent_id, twa.workspace_app_id as app_id
             from workspace_builds b
             join task_workspace_apps twa on twa.task_id = ? and twa.workspace_build_number = b.build_number
            where b.id = ?`,
          [input.taskId, input.buildId],
        );
        let marked = 0;
        if (row?.agent_id && input.stage === 'agent') {
          marked += (
            await sql(
              tx,
              `update workspace_agents set lifecycle_state = 'start_timeout', start_error = ?, lifecycle_changed_at = now(),
                      updated_at = now()
                where id = ? and lifecycle_state in ('created', 'starting') returning id`,
              [message, row.agent_id],
            )
          ).length;
        }
        if (row?.app_id) {
          marked += (
            await sql(
              tx,
              `update workspace_apps set health = 'unhealthy', updated_at = now()
                where id = ? and health = 'initializing' returning id`,
              [row.app_id],
            )
          ).length;
        }
        if (marked > 0 && row?.agent_id && row.app_id) {
          await sql(
            tx,
            `insert into workspace_app_statuses (id, workspace_id, agent_id, app_id, state, message, uri, created_at)
             values (?, ?, ?, ?, 'failure', ?, null, now()) on conflict (id) do nothing`,
            [namedUuid(`taskd:start-timeout:${input.buildId}:${input.stage}`), row.workspace_id, row.agent_id, row.app_id, message],
          );
        }
        if (marked > 0) deps.log.warn({ taskId: input.taskId, buildId: input.buildId, stage: input.stage }, message);
        return loadTaskAppState(tx, input.taskId);
      });
    },
  };
}
