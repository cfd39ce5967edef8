import type { ApiApp, AppDeps } from '../context';
import { pendingMigrations } from '../../db/orm';
import { fork, sql } from '../../db/sql';

// Liveness and readiness for orchestrators, served outside /api so no authentication applies.

type Check = { ok: true } | { ok: false; error: string };

async function check(fn: () => Promise<void>, timeoutMs = 2000): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const work = fn();
  // a check that loses the race may still fail later; that late failure is expected, not unhandled
  work.catch(() => {});
  try {
    await Promise.race([
      work,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: ApiApp, deps: AppDeps): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  // Ready means every part a request needs answers: the database, its schema, and Temporal.
  app.get('/readyz', async (c) => {
    const database = await check(async () => {
      await sql(fork(deps.orm), 'select 1');
    });
    const migrations: Check = database.ok
      ? await check(async () => {
          const pending = await pendingMigrations(deps.orm);
          if (pending.length > 0) throw new Error(`pending: ${pending.join(', ')}`);
        })
      : { ok: false, error: 'database unreachable' };
    // a gRPC deadline shorter than the check's own timeout, so no call outlives the request
    const temporal = await check(async () => {
      await deps.temporal.connection.withDeadline(Date.now() + 1500, () =>
        deps.temporal.workflowService.getSystemInfo({}),
      );
    });
    const checks = { database, migrations, temporal };
    const failing = Object.entries(checks).filter(([, v]) => !v.ok);
    if (failing.length === 0) return c.json({ status: 'ready', checks });
    const detail = failing.map(([k, v]) => `${k}: ${(v as { error: string }).error}`).join('; ');
    return c.json({ message: `Not ready: ${failing.map(([k]) => k).join(', ')}`, detail, checks }, 503);
  });
}
