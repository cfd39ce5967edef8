import pg from 'pg';

// The statements taskd sent PostgreSQL during one level of a benchmark, from pg_stat_statements
// (BENCH_SQL=1 loads it in the run's private cluster): how many of each, per lifecycle. The CPU
// table says how much PostgreSQL and the processes talking to it worked; this says which
// statements that was, and how many round trips a lifecycle takes.

export interface SqlStatement {
  /** calls per lifecycle */
  calls: number;
  /** PostgreSQL's execution time per lifecycle, ms */
  ms: number;
  query: string;
}

export interface SqlCounts {
  /** statements per lifecycle, all kinds */
  calls: number;
  /** transactions committed per lifecycle (pg_stat_database) */
  commits: number;
  top: SqlStatement[];
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function enableSqlStats(url: string): Promise<void> {
  await withClient(url, (c) => c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));
}

/** Forgets what was counted so far; returns the commit counter to subtract later. */
export async function resetSqlStats(url: string): Promise<number> {
  return withClient(url, async (c) => {
    await c.query('SELECT pg_stat_statements_reset()');
    const r = await c.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
    return Number(r.rows[0].n);
  });
}

export async function readSqlStats(url: string, commitsBefore: number, lifecycles: number, top = 200): Promise<SqlCounts> {
  return withClient(url, async (c) => {
    const per = (n: number) => Math.round((n / Math.max(lifecycles, 1)) * 100) / 100;
    const rows = await c.query<{ calls: string; ms: number; query: string }>(
      'SELECT calls, total_exec_time AS ms, query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC',
    );
    const commits = await c.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
    const all = rows.rows.reduce((a, r) => a + Number(r.calls), 0);
    return {
      calls: per(all),
      commits: per(Number(commits.rows[0].n) - commitsBefore),
      top: rows.rows.slice(0, top).map((r) => ({ calls: per(Number(r.calls)), ms: per(r.ms), query: r.query.replace(/\s+/g, ' ').slice(0, 160) })),
    };
  });
}
