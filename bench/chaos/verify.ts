// What must hold once the chaos has settled, read from the system of record and from Temporal:
// each task soft-deleted with its workspace, builds 1..4 = start, stop, start, delete (all
// succeeded, no duplicates), one Task Paused and one Task Resumed row per task (sent, and seen by the
// webhook), and every task workflow closed.
import pg from 'pg';
import { Connection, WorkflowClient } from '@temporalio/client';
import { NOTIFICATION_TEMPLATES } from '../../domain/app-status';
import { taskWorkflowId } from '../../workflows/contracts';
import type { Delivery } from './cluster';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const EXPECTED_BUILDS = 'start:succeeded,stop:succeeded,start:succeeded,delete:succeeded';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function check(name: string, problems: string[], okDetail: string): Check {
  return { name, ok: problems.length === 0, detail: problems.length === 0 ? okDetail : problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; … ${problems.length} in all` : '') };
}

export async function verifyRecords(databaseUrl: string, taskIds: string[], deliveries: Delivery[], settleMs: number): Promise<Check[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const checks: Check[] = [];
    const deadline = Date.now() + settleMs;
    // a client sees a task gone (404) as soon as the DELETE lands; its delete build finishes after:
    // wait, within the bound, until every workspace is deleted and no build is pending or running
    for (; Date.now() < deadline; await sleep(500)) {
      const open = await db.query(
        `select 1 from tasks t join workspaces w on w.id = t.workspace_id
          where t.id = any($1) and (not w.deleted or exists (select 1 from workspace_builds b
                 where b.workspace_id = w.id and b.job_status in ('pending', 'running'))) limit 1`,
        [taskIds],
      );
      if (open.rowCount === 0) break;
    }
    const tasks = await db.query<{ id: string; deleted: boolean; ws_deleted: boolean | null }>(
      `select t.id, t.deleted_at is not null as deleted, w.deleted as ws_deleted
         from tasks t left join workspaces w on w.id = t.workspace_id where t.id = any($1)`,
      [taskIds],
    );
    const byId = new Map(tasks.rows.map((r) => [r.id, r]));
    checks.push(check('task rows soft-deleted with their workspace', taskIds.flatMap((id) => {
      const r = byId.get(id);
      if (!r) return [`${id}: no row`];
      return r.deleted && r.ws_deleted ? [] : [`${id}: deleted_at ${r.deleted ? 'set' : 'NULL'}, workspace.deleted ${r.ws_deleted}`];
    }), `${taskIds.length} of ${taskIds.length}`));

    const builds = await db.query<{ task_id: string; builds: string; numbers: string }>(
      `select t.id as task_id,
              string_agg(b.transition || ':' || b.job_status, ',' order by b.build_number) as builds,
              string_agg(b.build_number::text, ',' order by b.build_number) as numbers
         from tasks t join workspace_builds b on b.workspace_id = t.workspace_id
        where t.id = any($1) group by t.id`,
      [taskIds],
    );
    const buildsOf = new Map(builds.rows.map((r) => [r.task_id, r]));
    checks.push(check('one build per transition: 1..4 = start, stop, start, delete, all succeeded', taskIds.flatMap((id) => {
      const r = buildsOf.get(id);
      return r && r.builds === EXPECTED_BUILDS && r.numbers === '1,2,3,4' ? [] : [`${id}: ${r ? `${r.numbers} → ${r.builds}` : 'no builds'}`];
    }), `${taskIds.length * 4} builds`));

    // the outbox delivers in the background: give it a bounded while to drain
    const paused = NOTIFICATION_TEMPLATES.task_paused.id;
    const resumed = NOTIFICATION_TEMPLATES.task_resumed.id;
    type Row = { task_id: string; template_id: string; status: string; dedupe_key: string };
    let rows: Row[] = [];
    for (; ; await sleep(500)) {
      rows = (await db.query<Row>(
        `select labels->>'task_id' as task_id, template_id, status, dedupe_key from notification_messages where labels->>'task_id' = any($1)`,
        [taskIds],
      )).rows;
      if (rows.every((r) => r.status === 'sent') || Date.now() > deadline) break;
    }
    const dupKeys = await db.query<{ dedupe_key: string; n: string }>(
      'select dedupe_key, count(*) as n from notification_messages group by dedupe_key having count(*) > 1',
    );
    checks.push(check('one notification row per event (by dedupe key)', dupKeys.rows.map((r) => `${r.dedupe_key} ×${r.n}`), `${rows.length} rows, no dedupe key twice`));
    checks.push(check('per task exactly one Task Paused and one Task Resumed', taskIds.flatMap((id) => {
      const mine = rows.filter((r) => r.task_id === id);
      const p = mine.filter((r) => r.template_id === paused).length;
      const r = mine.filter((r) => r.template_id === resumed).length;
      return p === 1 && r === 1 && mine.length === 2 ? [] : [`${id}: paused ×${p}, resumed ×${r}, ${mine.length} in all`];
    }), `${taskIds.length} × 2`));
    checks.push(check('every notification delivered (outbox status sent)', rows.filter((r) => r.status !== 'sent').map((r) => `${r.dedupe_key}: ${r.status}`), `${rows.length} sent`));

    const ids = new Set(taskIds);
    const distinct = new Map<string, Set<string>>();
    for (const d of deliveries.filter((d) => ids.has(d.taskId))) {
      const key = `${d.taskId} ${d.template}`;
      distinct.set(key, (distinct.get(key) ?? new Set()).add(d.messageId));
    }
    checks.push(check('webhook saw one message per event (redeliveries share its id)', taskIds.flatMap((id) =>
      ['Task Paused', 'Task Resumed'].flatMap((t) => {
        const n = distinct.get(`${id} ${t}`)?.size ?? 0;
        return n === 1 ? [] : [`${id} ${t}: ${n} message ids`];
      })), `${deliveries.length} deliveries, ${deliveries.length - [...distinct.values()].reduce((n, s) => n + s.size, 0)} redelivered`));
    return checks;
  } finally {
    await db.end();
  }
}

export async function verifyWorkflows(address: string, taskIds: string[], settleMs: number): Promise<Check> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    const client = new WorkflowClient({ connection });
    let problems: string[] = [];
    for (const deadline = Date.now() + settleMs; ; await sleep(500)) {
      problems = [];
      for (const id of taskIds) {
        const d = await client.getHandle(taskWorkflowId(id)).describe().catch((err: Error) => ({ status: { name: `describe failed: ${err.message}` } }));
        if (d.status.name !== 'COMPLETED') problems.push(`${taskWorkflowId(id)}: ${d.status.name}`);
      }
      if (problems.length === 0 || Date.now() > deadline) break;
    }
    return check('every task workflow completed (none left running)', problems, `${taskIds.length} completed`);
  } finally {
    await connection.close();
  }
}
