import type pg from 'pg';

// The baseline's only activity: one row per step, one round trip. The last step also notifies
// (in the same statement, so at its commit) the channel bench/orchestration.ts listens on, as
// taskd's triggers notify taskd_task_events.

export const BASELINE_CHANNEL = 'bench_baseline';

export const BASELINE_TABLE_SQL =
  'create table if not exists bench_baseline_steps (workflow_id text not null, step int not null, at timestamptz not null default now())';

/** The throughput floor's builds: the state each one leaves its task in (bench/baseline/floor-workflow.ts). */
export const FLOOR_CHANNEL = 'bench_floor';
export const FLOOR_TABLE_SQL =
  'create table if not exists bench_floor_builds (workflow_id text not null, step int not null, transition text not null, at timestamptz not null default now())';

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
    /** The floor's provisioner call: the build's outcome written and notified, in one statement. */
    async provisionFloor(input: { id: string; step: number; transition: string }): Promise<void> {
      await pool.query(
        `with i as (insert into bench_floor_builds (workflow_id, step, transition) values ($1, $2, $3) returning workflow_id)
         select pg_notify('${FLOOR_CHANNEL}', workflow_id) from i`,
        [input.id, input.step, input.transition],
      );
    },
  };
}

export type MinimalActivities = ReturnType<typeof createMinimalActivities>;
