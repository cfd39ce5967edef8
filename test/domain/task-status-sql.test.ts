// TASK_STATUS_SQL must agree with deriveTaskStatus on every input, or list filters and single
// reads would disagree. This needs a real PostgreSQL; without TASKD_TEST_PG_URL (set by test/run.ts) the suite
// is skipped (and says so) rather than pretending to pass.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  AGENT_LIFECYCLES,
  APP_HEALTHS,
  BUILD_TRANSITIONS,
  JOB_STATUSES,
  TASK_STATUS_SQL,
  type TaskStatusInputs,
  deriveTaskStatus,
} from '../../domain/task-status';

interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

const url = process.env.TASKD_TEST_PG_URL;

function allInputs(): TaskStatusInputs[] {
  const out: TaskStatusInputs[] = [];
  for (const hasWorkspace of [true, false]) {
    for (const transition of [null, ...BUILD_TRANSITIONS]) {
      for (const jobStatus of [null, ...JOB_STATUSES]) {
        for (const agentLifecycle of [null, ...AGENT_LIFECYCLES]) {
          for (const appHealth of [null, ...APP_HEALTHS]) {
            out.push({ hasWorkspace, transition, jobStatus, agentLifecycle, appHealth });
          }
        }
      }
    }
  }
  return out;
}

type Casts = { transition: string; job: string; lifecycle: string; health: string };

function literal(value: string | null, type: string): string {
  return value === null ? `NULL::${type}` : `'${value}'::${type}`;
}

function statusQuery(rows: TaskStatusInputs[], casts: Casts): string {
  const values = rows.map(
    (r, i) =>
      `(${i}, ${r.hasWorkspace ? "'00000000-0000-0000-0000-000000000001'::uuid" : 'NULL::uuid'}, ` +
      `${literal(r.transition, casts.transition)}, ${literal(r.jobStatus, casts.job)}, ` +
      `${r.agentLifecycle !== null}, ${literal(r.agentLifecycle, casts.lifecycle)}, ${literal(r.appHealth, casts.health)})`,
  );
  return (
    `SELECT idx, (${TASK_STATUS_SQL}) AS status FROM (VALUES ${values.join(',\n')}) ` +
    `AS v(idx, t_workspace_id, b_transition, b_job_status, a_has_agent, a_lifecycle_state, ap_health) ORDER BY idx`
  );
}

function enumDdl(name: string, values: readonly string[]): string {
  return `CREATE TYPE ${name} AS ENUM (${values.map((v) => `'${v}'`).join(', ')})`;
}

describe('TASK_STATUS_SQL against PostgreSQL', { skip: url ? false : 'TASKD_TEST_PG_URL is not set (run through npm test)' }, () => {
  let client: PgClient;
  const rows = allInputs();

  before(async () => {
    // pg ships with @mikro-orm/postgresql; loaded lazily so a skipped run needs no database driver.
    const { Client } = require('pg') as { Client: new (opts: { connectionString: string }) => PgClient };
    client = new Client({ connectionString: url ?? '' });
    await client.connect();
  });

  after(async () => {
    await client?.end();
  });

  async function assertAgrees(casts: Casts): Promise<void> {
    const result = await client.query(statusQuery(rows, casts));
    assert.equal(result.rows.length, rows.length);
    for (const row of result.rows) {
      const input = rows[Number(row.idx)];
      assert.ok(input);
      assert.equal(row.status, deriveTaskStatus(input), `inputs ${JSON.stringify(input)}`);
    }
  }

  it(`agrees with deriveTaskStatus on all ${rows.length} input combinations (text columns)`, async () => {
    await assertAgrees({ transition: 'text', job: 'text', lifecycle: 'text', health: 'text' });
  });

  it('agrees with deriveTaskStatus when the columns are enum typed', async () => {
    await client.query('BEGIN');
    try {
      await client.query(enumDdl('pg_temp.t_transition', BUILD_TRANSITIONS));
      await client.query(enumDdl('pg_temp.t_job', JOB_STATUSES));
      await client.query(enumDdl('pg_temp.t_lifecycle', AGENT_LIFECYCLES));
      await client.query(enumDdl('pg_temp.t_health', APP_HEALTHS));
      await assertAgrees({
        transition: 'pg_temp.t_transition',
        job: 'pg_temp.t_job',
        lifecycle: 'pg_temp.t_lifecycle',
        health: 'pg_temp.t_health',
      });
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
