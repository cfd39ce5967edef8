import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppEnv } from './context';
import { ApiError, INTERNAL_DETAIL, dependencyDown, fromWorkflowError, withCause } from './errors';
import { replaceNul } from './middleware/unstorable-text';
import { insertAuditEntries, settleAuditStatus, type AuditRow } from '../db/audit';

// The audit log, written three ways (README, "Audit log"):
//
// - A synchronous action (users, sessions, API keys, templates, organizations, members, a task's
//   prompt) runs in `auditedTransaction`: its row is inserted in the action's transaction, so the
//   action commits only with its row. If the row cannot be written the action rolls back and the
//   caller gets a 500.
// - An action a task workflow carries out (create, pause, resume, delete) cannot share a transaction
//   with Temporal. The API's part is to accept the request and start or update the workflow, so
//   `auditWorkflowAction` commits the rows *before* the workflow is started or updated, with status
//   0 (no answer yet): if they cannot be written the request is refused with a 500 and nothing is
//   started. Once the API has its answer, the rows get its status code. A process that dies in
//   between leaves 0 — accepted, never answered; the task's own records say how far it got.
// - A refused request that changed nothing (a bad login, a create refused by validation) is
//   recorded by `auditRefusal`; there is nothing to roll back, so a failed write is only logged.
//
// Rows never hold a prompt or a secret (a prompt's change is recorded as a secret field, as Coder
// records secrets: the field, without its values). Text PostgreSQL cannot store (a lone surrogate,
// NUL) becomes U+FFFD and a target is cut to the column's 255 characters, so a refusal of exactly
// such input can still be recorded.

export type AuditAction = 'create' | 'write' | 'delete' | 'start' | 'stop' | 'login' | 'logout';

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

/** What an audited action returns: its result, and the row(s) that record it. */
export interface Audited<T> {
  result: T;
  audit: AuditEntry | AuditEntry[];
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

const TARGET_MAX = 255; // resource_target is varchar(255), counted in characters

function storable(value: unknown): unknown {
  if (typeof value === 'string') return replaceNul(value);
  if (Array.isArray(value)) return value.map(storable);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [replaceNul(k), storable(v)]));
  }
  return value;
}

function toRow(c: Context<AppEnv>, entry: AuditEntry): AuditRow {
  const actor = c.get('actor') as AppEnv['Variables']['actor'] | undefined;
  return {
    userId: entry.userId !== undefined ? entry.userId : (actor?.userId ?? null),
    organizationId: entry.organizationId ?? null,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId ?? null,
    resourceTarget: Array.from(replaceNul(entry.resourceTarget ?? '')).slice(0, TARGET_MAX).join(''),
    action: entry.action,
    diff: storable(entry.diff ?? {}) as Record<string, unknown>,
    statusCode: entry.statusCode,
    requestId: c.get('requestId') ?? '',
    ip: clientIp(c),
  };
}

/** The 500 of a request whose audit row could not be written (its action did not happen). */
export class AuditWriteFailed extends ApiError {
  constructor(cause: unknown) {
    super(500, 'Internal error writing the audit log.', INTERNAL_DETAIL);
    withCause(this, cause);
  }
}

/** Writes rows an action depends on: a failure is the request's 500, its cause in the server log. */
async function writeOrRefuse(c: Context<AppEnv>, em: EntityManager, entries: AuditEntry[]): Promise<string[]> {
  try {
    return await insertAuditEntries(em, entries.map((e) => toRow(c, e)));
  } catch (err) {
    throw new AuditWriteFailed(err);
  }
}

/** The status code app.ts's error handler answers `err` with. */
export function failureStatus(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  const fromWorkflow = fromWorkflowError(err);
  if (fromWorkflow) return fromWorkflow.status;
  return dependencyDown(err) ? 503 : 500;
}

/**
 * Runs a synchronous action in a transaction of the request's EntityManager and writes its audit
 * row(s) in that transaction: both commit, or neither does.
 */
export function auditedTransaction<T>(c: Context<AppEnv>, action: (tx: EntityManager) => Promise<Audited<T>>): Promise<T> {
  return c.get('em').transactional(async (tx) => {
    const { result, audit } = await action(tx as EntityManager);
    await writeOrRefuse(c, tx as EntityManager, Array.isArray(audit) ? audit : [audit]);
    return result;
  });
}

/** Status of a row whose request was accepted and never answered (not an HTTP status: no answer was given). */
export const NOT_ANSWERED = 0;

export type PendingEntry = Omit<AuditEntry, 'statusCode'>;

/**
 * An action a task workflow carries out. `run` makes the API's checks, then calls `accept` with the
 * action's rows right before it starts or updates the workflow: they are committed (status 0) or
 * the request fails with a 500 there, before anything is started. `run` returns the response and
 * its status, which the rows are then given; a failure gives them its status instead. A request
 * refused before `accept` is recorded as `refusal` (when given); one that returns without calling
 * it (an idempotent replay) is not recorded at all.
 */
export async function auditWorkflowAction<R>(
  c: Context<AppEnv>,
  refusal: PendingEntry | null,
  run: (accept: (entries: PendingEntry[]) => Promise<void>) => Promise<[R, number]>,
): Promise<R> {
  const accepted: { ids: string[] | null } = { ids: null };
  const settle = async (ids: string[], statusCode: number) => {
    try {
      await settleAuditStatus(c.get('em'), ids, statusCode);
    } catch (err) {
      c.get('log').error({ err, auditIds: ids, statusCode }, 'audit status not recorded');
    }
  };
  try {
    const [response, status] = await run(async (entries) => {
      accepted.ids = await writeOrRefuse(c, c.get('em'), entries.map((e) => ({ ...e, statusCode: NOT_ANSWERED })));
    });
    if (accepted.ids) await settle(accepted.ids, status);
    return response;
  } catch (err) {
    if (accepted.ids) await settle(accepted.ids, failureStatus(err));
    else if (refusal && !(err instanceof AuditWriteFailed)) await auditRefusal(c, { ...refusal, statusCode: failureStatus(err) });
    throw err;
  }
}

/** Records a refused request that changed nothing; a failed write is logged, not surfaced. */
export async function auditRefusal(c: Context<AppEnv>, entry: AuditEntry): Promise<void> {
  try {
    await insertAuditEntries(c.get('em'), [toRow(c, entry)]);
  } catch (err) {
    c.get('log').error({ err, audit: { action: entry.action, resourceType: entry.resourceType, statusCode: entry.statusCode } }, 'audit write failed');
  }
}
