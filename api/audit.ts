import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { AppEnv } from './context';
import { insertAuditEntry } from '../db/audit';

// Audit entries are written with a plain INSERT outside the request's unit of work, so a request
// that fails half-way still records its attempt, and an audit write can never flush half-built
// entities of the handler. A failed audit write is logged, not surfaced: the action already happened.

export type AuditAction = 'create' | 'write' | 'delete' | 'login' | 'logout';

export interface AuditEntry {
  action: AuditAction;
  resourceType: string;
  resourceId?: string | null;
  /** human-readable name of the resource (username, template name, ...) */
  resourceTarget?: string;
  organizationId?: string | null;
  /** who acted; defaults to the authenticated actor */
  userId?: string | null;
  diff?: Record<string, unknown>;
  statusCode: number;
}

/** The TCP peer address. */
export function peerIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? '';
  } catch {
    return ''; // not served by @hono/node-server (e.g. app.request in a unit test)
  }
}

/**
 * The client's address: set per request by app.ts from the peer and, behind the proxies the operator
 * lists in TASKD_TRUSTED_PROXIES only, X-Forwarded-For (which any client can forge).
 */
export function clientIp(c: Context<AppEnv>): string {
  return c.get('clientIp') ?? peerIp(c);
}

export async function recordAudit(c: Context<AppEnv>, entry: AuditEntry): Promise<void> {
  const actor = c.get('actor') as AppEnv['Variables']['actor'] | undefined;
  try {
    await insertAuditEntry(c.get('em'), {
      userId: entry.userId !== undefined ? entry.userId : (actor?.userId ?? null),
      organizationId: entry.organizationId ?? null,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId ?? null,
      resourceTarget: entry.resourceTarget ?? '',
      action: entry.action,
      diff: entry.diff ?? {},
      statusCode: entry.statusCode,
      requestId: c.get('requestId') ?? '',
      ip: clientIp(c),
    });
  } catch (err) {
    c.get('log').error({ err, audit: { ...entry, diff: undefined } }, 'audit write failed');
  }
}
