import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditLog } from './entities';

// The audit log: append-only, one row per audited request.

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

/** A plain INSERT outside the unit of work: it never flushes half-built entities of the request. */
export async function insertAuditEntry(em: EntityManager, row: AuditRow): Promise<void> {
  await em.insert(AuditLog, { id: randomUUID(), time: new Date(), ...row });
}
