// docker-compose.yml's Temporal schema job (deploy/temporal-schema.sh, run there by
// temporalio/admin-tools) against a real PostgreSQL with the same temporal-sql-tool version: it
// must leave Temporal's two databases exactly where the tests' own setup (setupTemporalSchema) does,
// and running it again on every `docker compose up` must change nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../lib/logger';
import { ensureTemporalServer, postgresTarget, setupTemporalSchema } from '../../devstack/temporal-cluster';

const ROOT = path.resolve(__dirname, '..', '..');
const PG_URL = new URL(process.env.TASKD_TEST_PG_URL!);
const target = postgresTarget(PG_URL.toString());

async function query<T extends pg.QueryResultRow>(database: string, sql: string): Promise<T[]> {
  const url = new URL(PG_URL.toString());
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** What a schema looks like: its recorded version and its tables with their columns. */
async function shape(database: string): Promise<{ version: string; columns: string[] }> {
  const [v] = await query<{ curr_version: string }>(database, 'select curr_version from schema_version');
  const columns = await query<{ c: string }>(
    database,
    `select table_name || '.' || column_name || ':' || data_type as c from information_schema.columns
      where table_schema = 'public' order by 1`,
  );
  return { version: v!.curr_version, columns: columns.map((r) => r.c) };
}

test("compose's schema job sets up what the tests' setup does, and a second run changes nothing", async () => {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'compose-schema');
  const { sqlTool } = await ensureTemporalServer({ log });
  const suffix = randomBytes(4).toString('hex');
  const dbs = { compose: `compose_temporal_${suffix}`, composeVis: `compose_vis_${suffix}`, own: `own_temporal_${suffix}`, ownVis: `own_vis_${suffix}` };
  try {
    const run = () =>
      spawnSync('bash', [path.join(ROOT, 'deploy', 'temporal-schema.sh')], {
        encoding: 'utf8',
        timeout: 5 * 60_000,
        env: {
          // the admin-tools image has the tool on its PATH under this name
          PATH: `${path.dirname(sqlTool)}:${process.env.PATH}`,
          DB: 'postgres12',
          DB_PORT: String(target.port),
          POSTGRES_SEEDS: target.host,
          POSTGRES_USER: target.user,
          SQL_PASSWORD: target.password,
          DBNAME: dbs.compose,
          VISIBILITY_DBNAME: dbs.composeVis,
        },
      });
    const first = run();
    assert.equal(first.status, 0, first.stderr + first.stdout);
    assert.match(first.stdout, new RegExp(`database ${dbs.compose} is at the current postgresql/v12/temporal schema`));

    await setupTemporalSchema({
      sqlTool,
      postgres: target,
      database: dbs.own,
      visibilityDatabase: dbs.ownVis,
      log,
    });
    const composed = { temporal: await shape(dbs.compose), visibility: await shape(dbs.composeVis) };
    assert.deepEqual(composed, { temporal: await shape(dbs.own), visibility: await shape(dbs.ownVis) });
    assert.ok(composed.temporal.columns.some((c) => c.startsWith('executions.')), 'the history schema has its tables');

    const second = run();
    assert.equal(second.status, 0, second.stderr + second.stdout);
    assert.deepEqual({ temporal: await shape(dbs.compose), visibility: await shape(dbs.composeVis) }, composed);
  } finally {
    for (const db of Object.values(dbs)) await query('postgres', `drop database if exists "${db}"`).catch(() => undefined);
  }
});
