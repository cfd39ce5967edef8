import type { EntityManager } from '@mikro-orm/postgresql';
import { goTime, placeholders, rfc3339, sql, sqlOne } from './sql';

// A build's log (workspace_build_logs), Coder's provisioner job logs: lines are appended by the
// build's activities as the provisioner works (db/ is the one writer, through appendBuildLogs) and
// read in id order, which is the order they were written in.

export type BuildLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface BuildLogLine {
  level: BuildLogLevel;
  stage: string;
  output: string;
}

export interface BuildLogRecord extends BuildLogLine {
  id: number;
  createdAt: string;
}

export async function appendBuildLogs(em: EntityManager, buildId: string, lines: readonly BuildLogLine[]): Promise<void> {
  if (lines.length === 0) return;
  await sql(
    em,
    `insert into workspace_build_logs (build_id, level, stage, output) values ${lines.map(() => `(${placeholders(4)})`).join(', ')}`,
    lines.flatMap((l) => [buildId, l.level, l.stage, l.output]),
  );
}

/** Lines of a build with ids above `after` (and below `before`, when given), oldest first. */
export async function buildLogs(em: EntityManager, buildId: string, range: { after?: number; before?: number } = {}): Promise<BuildLogRecord[]> {
  const params: unknown[] = [buildId, range.after ?? 0];
  let text = `select id, level, stage, output, ${rfc3339('created_at')} as created_at from workspace_build_logs where build_id = ? and id > ?`;
  if (range.before !== undefined && range.before > 0) {
    text += ' and id < ?';
    params.push(range.before);
  }
  const rows = await sql<{ id: string; level: BuildLogLevel; stage: string; output: string; created_at: string }>(em, `${text} order by id`, params);
  return rows.map((r) => ({ id: Number(r.id), level: r.level, stage: r.stage, output: r.output, createdAt: goTime(r.created_at) }));
}

/** Whether the build's job has ended (succeeded, failed or canceled): its log is complete. */
export async function buildLogComplete(em: EntityManager, buildId: string): Promise<boolean> {
  const row = await sqlOne<{ job_status: string }>(em, 'select job_status from workspace_builds where id = ?', [buildId]);
  return row === null || ['succeeded', 'failed', 'canceled'].includes(row.job_status);
}
