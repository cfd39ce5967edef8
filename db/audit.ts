import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { placeholders, sql } from './sql';

// The audit log: append-only, one row per audited request. A row joins the transaction of the
// EntityManager it is written with, so an action and its row commit together or not at all.

export interface AuditRow {
  userId: string | null;
  organizationId: string | null;
  resourceType: string;
  resourceId: string | null;
  resourceTarget: string;
  action: string;
  diff: Record<string, unknown>;
  statusCode: number;
  requestId: string;
  ip: string;
}

const COLUMNS = 'id, time, user_id, organization_id, resource_type, resource_id, resource_target, action, diff, status_code, request_id, ip';

/** Inserts the rows in one statement (in `em`'s transaction when it has one); returns their ids. */
export async function insertAuditEntries(em: EntityManager, rows: readonly AuditRow[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const ids = rows.map(() => randomUUID());
  const time = new Date();
  const values = rows.map(() => `(${placeholders(8)}, ?::jsonb, ?, ?, ?)`).join(', ');
  const params = rows.flatMap((r, i) => [
    ids[i],
    time,
    r.userId,
    r.organizationId,
    r.resourceType,
    r.resourceId,
    r.resourceTarget,
    r.action,
    JSON.stringify(r.diff),
    r.statusCode,
    r.requestId,
    r.ip,
  ]);
  // placeholders(8) covers id … action; diff, status_code, request_id and ip follow
  await sql(em, `insert into audit_logs (${COLUMNS}) values ${values}`, params);
  return ids;
}

/**
 * The one change an audit row ever sees: the status code of a request the API accepted before it
 * knew its answer (a task workflow's action, api/audit.ts), set from 0 once the answer is known.
 */
export async function settleAuditStatus(em: EntityManager, ids: readonly string[], statusCode: number): Promise<void> {
  if (ids.length === 0) return;
  await sql(em, `update audit_logs set status_code = ? where status_code = 0 and id in (${placeholders(ids.length)})`, [statusCode, ...ids]);
}
