import type pg from 'pg';

// The baseline's only activity: one row per step, one round trip. The last step also notifies
// (in the same statement, so at its commit) the channel bench/orchestration.ts listens on, as
// taskd's triggers notify taskd_task_events.

export const BASELINE_CHANNEL = 'bench_baseline';

export const BASELINE_TABLE_SQL =
  'create table if not exists bench_baseline_steps (workflow_id text not null, step int not null, at timestamptz not null default now())';

export function createMinimalActivities(pool: pg.Pool) {
  return {
    async writeStep(input: { id: string; step: number; last: boolean }): Promise<void> {
      if (input.last) {
        await pool.query(
          `with i as (insert into bench_baseline_steps (workflow_id, step) values ($1, $2) returning workflow_id)
           select pg_notify('${BASELINE_CHANNEL}', workflow_id) from i`,
          [input.id, input.step],
        );
      } else {
        await pool.query('insert into bench_baseline_steps (workflow_id, step) values ($1, $2)', [input.id, input.step]);
      }
    },
  };
}

export type MinimalActivities = ReturnType<typeof createMinimalActivities>;
