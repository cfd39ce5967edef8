// The tasks_with_status view is the one place task status is computed for every read (single and list),
// so list filters and single reads agree by construction. Here it must also agree with the pure rules of
// domain/task-status.ts (used by workflows and tests) on every combination of build, agent and app state,
// written as real rows in the real tables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  AGENT_LIFECYCLES,
  APP_HEALTHS,
  BUILD_TRANSITIONS,
  JOB_STATUSES,
  deriveTaskStatus,
  type TaskStatusInputs,
} from '../../domain/task-status';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let db: pg.Client;

before(async () => {
  stack = await startTestStack({ worker: false });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
});
after(async () => {
  await db?.end();
  await stack?.close();
});

/** Every distinguishable input: without a build there is nothing for agent or app to vary. */
function combinations(): TaskStatusInputs[] {
  const out: TaskStatusInputs[] = [{ hasWorkspace: false, transition: null, jobStatus: null, agentLifecycle: null, appHealth: null }];
  out.push({ hasWorkspace: true, transition: null, jobStatus: null, agentLifecycle: null, appHealth: null });
  for (const transition of BUILD_TRANSITIONS)
    for (const jobStatus of JOB_STATUSES)
      for (const agentLifecycle of [null, ...AGENT_LIFECYCLES])
        for (const appHealth of [null, ...APP_HEALTHS])
          out.push({ hasWorkspace: true, transition, jobStatus, agentLifecycle, appHealth });
  return out;
}

const q = (v: string | null) => (v === null ? 'null' : `'${v}'`);

test('the view computes exactly the status of spec §2.1 for every combination', async () => {
  const now = new Date().toISOString();
  const user = randomUUID(), org = randomUUID(), tpl = randomUUID(), ver = randomUUID();
  await db.query('begin');
  await db.query(
    `insert into users (id, email, username, created_at, updated_at) values ($1, 'v@example.com', 'viewer', $2, $2)`,
    [user, now],
  );
  await db.query(`insert into organizations (id, name, created_at, updated_at) values ($1, 'view-org', $2, $2)`, [org, now]);
  await db.query(
    `insert into templates (id, organization_id, name, created_by_id, created_at, updated_at) values ($1, $2, 't', $3, $4, $4)`,
    [tpl, org, user, now],
  );
  await db.query(
    `insert into template_versions (id, template_id, organization_id, name, definition, has_ai_task, created_by_id, created_at, updated_at)
     values ($1, $2, $3, 'v1', '{}', true, $4, $5, $5)`,
    [ver, tpl, org, user, now],
  );
  // apps and agents that the latest row points at need a build to hang off; a side workspace holds it
  const sideWs = randomUUID(), sideBuild = randomUUID();
  await db.query(
    `insert into workspaces (id, organization_id, owner_id, template_id, name, created_at, updated_at) values ($1, $2, $3, $4, 'side', $5, $5)`,
    [sideWs, org, user, tpl, now],
  );
  await db.query(
    `insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id, initiator_id, job_id, job_status, created_at, updated_at)
     values ($1, $2, 1, 'start', 'initiator', $3, $4, $5, 'succeeded', $6, $6)`,
    [sideBuild, sideWs, ver, user, randomUUID(), now],
  );

  const cases = combinations();
  const expected = new Map<string, string>();
  const stmts: string[] = [];
  cases.forEach((c, i) => {
    const task = randomUUID(), ws = randomUUID();
    expected.set(task, deriveTaskStatus(c));
    if (c.hasWorkspace) {
      stmts.push(`insert into workspaces (id, organization_id, owner_id, template_id, name, created_at, updated_at)
        values ('${ws}', '${org}', '${user}', '${tpl}', 'ws-${i}', '${now}', '${now}')`);
    }
    stmts.push(`insert into tasks (id, organization_id, owner_id, name, workspace_id, template_version_id, template_parameters, prompt, created_at)
      values ('${task}', '${org}', '${user}', 'task-${i}', ${c.hasWorkspace ? `'${ws}'` : 'null'}, '${ver}', '{}', 'p', '${now}')`);
    if (c.transition === null) return;
    stmts.push(`insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id, initiator_id, job_id, job_status, created_at, updated_at)
      values ('${randomUUID()}', '${ws}', 1, ${q(c.transition)}, 'initiator', '${ver}', '${user}', '${randomUUID()}', ${q(c.jobStatus)}, '${now}', '${now}')`);
    const agent = c.agentLifecycle === null ? null : randomUUID();
    const appAgent = randomUUID();
    const app = c.appHealth === null ? null : randomUUID();
    if (agent) {
      stmts.push(`insert into workspace_agents (id, build_id, name, lifecycle_state, auth_token_hash, created_at, updated_at)
        values ('${agent}', '${sideBuild}', 'main', ${q(c.agentLifecycle)}, '${randomUUID()}', '${now}', '${now}')`);
    }
    if (app) {
      stmts.push(`insert into workspace_agents (id, build_id, name, auth_token_hash, created_at, updated_at)
        values ('${appAgent}', '${sideBuild}', 'apps', '${randomUUID()}', '${now}', '${now}')`);
      stmts.push(`insert into workspace_apps (id, agent_id, slug, health, created_at, updated_at)
        values ('${app}', '${appAgent}', 'ai', ${q(c.appHealth)}, '${now}', '${now}')`);
    }
    stmts.push(`insert into task_workspace_apps (task_id, workspace_build_number, workspace_agent_id, workspace_app_id)
      values ('${task}', 1, ${agent ? `'${agent}'` : 'null'}, ${app ? `'${app}'` : 'null'})`);
  });
  await db.query(stmts.join(';\n'));
  await db.query('commit');

  const { rows } = await db.query<{ id: string; status: string }>(`select id, status from tasks_with_status where organization_id = $1`, [org]);
  assert.equal(rows.length, cases.length);
  let mismatches = 0;
  for (const row of rows) {
    const want = expected.get(row.id);
    if (row.status !== want) mismatches += 1;
    assert.equal(row.status, want, `task ${row.id}: ${JSON.stringify(cases[[...expected.keys()].indexOf(row.id)])}`);
  }
  assert.equal(mismatches, 0);

  // a status filter over the view and single reads give the same answer, whatever the status
  for (const status of new Set(expected.values())) {
    const { rows: filtered } = await db.query<{ id: string }>(
      `select id from tasks_with_status where organization_id = $1 and status = $2`,
      [org, status],
    );
    const want = [...expected.entries()].filter(([, s]) => s === status).map(([id]) => id).sort();
    assert.deepEqual(filtered.map((r) => r.id).sort(), want, `filter status:${status}`);
  }
});

test('soft-deleted tasks are not in the view', async () => {
  const { rows } = await db.query<{ n: string }>(`select count(*) as n from tasks_with_status where deleted_at is not null`);
  assert.equal(Number(rows[0]!.n), 0);
});
