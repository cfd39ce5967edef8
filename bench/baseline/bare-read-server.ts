// The read-path baseline: a bare Hono + `pg` server that answers the same two reads as taskd —
// one task by primary key, and an owner's tasks newest first (optionally a page) — with the same
// rows from the same database: the status view joined with the workspace, template, latest build,
// latest app status and task agent, which is what a Coder Task object is made of. No
// authentication, no ORM, no validation, no DTO mapping: the difference to taskd is what those cost.
//
// Run by bench/read-path.ts as a child process: DATABASE_URL, PORT, POOL_MAX.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';
import { TASK_FROM } from '../../db/task-from';

const SELECT = `
select t.*,
  w.name as workspace_name, w.template_id, w.updated_at as workspace_updated_at,
  tpl.name as template_name, tpl.display_name as template_display_name, tpl.icon as template_icon,
  lb.id as build_id, lb.transition as build_transition_latest, lb.job_status as build_job_status_latest,
  lb.created_at as build_created_at,
  las.state as app_state, las.message as app_message, las.uri as app_uri, las.created_at as app_state_at,
  ag.lifecycle_state as agent_lifecycle, ag.first_connected_at as agent_first_connected_at
  ${TASK_FROM}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function main(): void {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/tasks/:id', async (c) => {
    const id = c.req.param('id');
    if (!UUID.test(id)) return c.json({ message: 'bad id' }, 400);
    const { rows } = await pool.query(`${SELECT} where t.id = $1`, [id]);
    return rows[0] ? c.json(rows[0]) : c.json({ message: 'not found' }, 404);
  });

  app.get('/tasks', async (c) => {
    const owner = c.req.query('owner') ?? '';
    if (!UUID.test(owner)) return c.json({ message: 'bad owner' }, 400);
    const limit = c.req.query('limit');
    const params: unknown[] = [owner];
    let sql = `${SELECT} where t.owner_id = $1 order by t.created_at desc, t.id desc`;
    if (limit !== undefined) {
      params.push(Number(limit));
      sql += ` limit $${params.length}`;
    }
    const { rows } = await pool.query(sql, params);
    return c.json({ tasks: rows, count: rows.length });
  });

  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT) });
  const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
