import type { MarkStartTimeoutInput, TaskAppState } from '../workflows/contracts';
import { appendAppStatus, reportAppHealth, reportLifecycle } from '../db/agents';
import { taskAppOfBuild } from '../db/builds';
import { fork, inTransaction } from '../db/sql';
import { namedUuid } from '../lib/named-uuid';
import type { ActivityDeps } from './deps';
import { loadTaskAppState } from './task-state';

// The bounded end of "initializing", and the workflow's one way of learning what the agent has
// reported. When the agent or the task app misses its deadline the workflow records that here, on
// the silent agent's behalf, so the status rules of §2.1 move the task on (start_timeout → defer to
// the app; an unhealthy app → error) instead of it waiting forever.

export function startTimeoutMessage(stage: MarkStartTimeoutInput['stage'], timeoutS: number): string {
  return stage === 'agent'
    ? `The workspace agent did not become ready within ${timeoutS} s.`
    : `The task app did not become healthy within ${timeoutS} s.`;
}

export function createSettleActivities(deps: ActivityDeps) {
  return {
    /** What the agent of the task's latest build has reported so far (read after a report's signal). */
    async readAgentState(input: { taskId: string }): Promise<TaskAppState> {
      return loadTaskAppState(fork(deps.orm), input.taskId);
    },

    /**
     * Marks the build's agent `start_timeout` (and its still-initializing app `unhealthy`, since no
     * agent will ever check it), or only the app `unhealthy`. Reports on the agent's behalf replace
     * only a starting agent or an initializing app: a report that won the race is kept. When
     * something was marked, a `failure` app status carries the message into `current_state`; its
     * id is derived from the build so a retry writes it once.
     */
    async markStartTimeout(input: MarkStartTimeoutInput): Promise<TaskAppState> {
      const message = startTimeoutMessage(input.stage, input.timeoutS);
      return inTransaction(deps.orm, async (tx) => {
        const row = await taskAppOfBuild(tx, input.taskId, input.buildId);
        let marked = false;
        if (row?.agent_id && input.stage === 'agent') {
          marked = await reportLifecycle(tx, row.agent_id, {
            state: 'start_timeout',
            by: { agent: false, replaces: ['created', 'starting'] },
            startError: message,
          });
        }
        if (row?.agent_id && row.app_id) {
          const apps = await reportAppHealth(tx, row.agent_id, { [row.app_id]: 'unhealthy' }, ['initializing']);
          marked = marked || apps.length > 0;
        }
        if (marked && row?.agent_id && row.app_id) {
          await appendAppStatus(tx, {
            id: namedUuid(`taskd:start-timeout:${input.buildId}:${input.stage}`),
            workspaceId: row.workspace_id,
            agentId: row.agent_id,
            appId: row.app_id,
            state: 'failure',
            message,
            uri: null,
          });
        }
        if (marked) deps.log.warn({ taskId: input.taskId, buildId: input.buildId, stage: input.stage }, message);
        return loadTaskAppState(tx, input.taskId);
      });
    },
  };
}
