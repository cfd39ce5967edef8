import { Webhook } from 'standardwebhooks';
import { NOTIFICATION_TEMPLATES, type NotificationTemplate } from '../domain/app-status';
import type { ActivityDeps } from '../activities/deps';
import { inTransaction } from '../db/sql';
import {
  lockNextDueNotification,
  markNotificationFailed,
  markNotificationSent,
  rescheduleNotification,
  type OutboxRow,
} from '../db/notifications';
import type { WorkerMetrics } from './metrics';

// Sends outbox rows to the configured webhook (and always to the log). One row per transaction:
// the row is locked (FOR UPDATE SKIP LOCKED, so several workers never send the same row at once),
// sent, and marked sent or rescheduled in that same transaction. A crash between the receiver's
// 2xx and the commit re-sends the row later with the same webhook-id, which is what the receiver
// dedupes on: each message id takes effect at most once.
//
// Calls are signed the Standard Webhooks way (the standardwebhooks package): webhook-id,
// webhook-timestamp and webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>", so a
// receiver can refuse a replayed call by its timestamp. A redirect is not followed — the signed body
// would be posted to wherever the redirect points — and counts as a failed attempt.

/** Also sent, for receivers that dedupe on it: the same value as webhook-id. */
export const MESSAGE_ID_HEADER = 'X-Taskd-Message-Id';

/** The signer for NOTIFY_WEBHOOK_SECRET: a "whsec_" secret is base64 as the standard says, any other its raw bytes. */
export function webhookSigner(secret: string): Webhook {
  return secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(secret, { format: 'raw' });
}

/** The Standard Webhooks headers of one call. */
export function signatureHeaders(signer: Webhook, id: string, body: string, at = new Date()): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signer.sign(id, at, body),
  };
}

export interface DeliveryPolicy {
  maxAttempts: number;
  firstRetryMs: number;
  maxRetryMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxAttempts: 10,
  firstRetryMs: 1_000,
  maxRetryMs: 5 * 60_000,
  requestTimeoutMs: 10_000,
};

/** Delay before attempt `attempts + 1`: doubling from firstRetryMs, capped at maxRetryMs. */
export function retryDelayMs(attempts: number, policy: DeliveryPolicy): number {
  return Math.min(policy.firstRetryMs * 2 ** Math.max(0, attempts - 1), policy.maxRetryMs);
}

const TEMPLATES_BY_ID = new Map<string, NotificationTemplate>(
  Object.values(NOTIFICATION_TEMPLATES).map((t) => [t.id, t]),
);

/** The JSON a webhook receives: the rendered title/body/actions plus the raw labels. */
export function renderNotification(row: OutboxRow, baseUrl: string) {
  const template = TEMPLATES_BY_ID.get(row.template_id);
  const username = row.username ?? '';
  return {
    id: row.id,
    template_id: row.template_id,
    template: template?.name ?? 'Unknown',
    group: template?.group ?? '',
    user_id: row.user_id,
    username,
    title: template?.title(row.labels) ?? '',
    body: template?.body(row.labels) ?? '',
    actions: template?.actions({ baseUrl, username, labels: row.labels }) ?? [],
    labels: row.labels,
    created_at: new Date(row.created_at).toISOString(),
  };
}

type Attempt = { ok: true } | { ok: false; error: string };

async function postWebhook(url: string, secret: string | undefined, id: string, body: string, timeoutMs: number): Promise<Attempt> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'taskd-notifications',
    [MESSAGE_ID_HEADER]: id,
    ...(secret ? signatureHeaders(webhookSigner(secret), id, body) : {}),
  };
  try {
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 300 && res.status < 400) {
      return { ok: false, error: `webhook answered HTTP ${res.status} (a redirect, which is not followed: point NOTIFY_WEBHOOK_URL at the final address)` };
    }
    return res.ok ? { ok: true } : { ok: false, error: `webhook answered HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, error: (err as Error).message || String(err) };
  }
}

/** Delivers one due row; false when nothing is due. `metrics` counts each attempt and its outcome. */
export async function deliverNextNotification(deps: ActivityDeps, policy = DEFAULT_DELIVERY_POLICY, metrics?: WorkerMetrics): Promise<boolean> {
  const { webhookUrl, webhookSecret } = deps.config.notify;
  return inTransaction(deps.orm, async (tx) => {
    const row = await lockNextDueNotification(tx);
    if (!row) return false;
    const payload = renderNotification(row, deps.config.http.accessUrl);
    const attempts = row.attempts + 1;
    const log = deps.log.child({ notificationId: row.id, template: payload.template, userId: row.user_id, attempt: attempts });
    const result: Attempt = webhookUrl
      ? await postWebhook(webhookUrl, webhookSecret, row.id, JSON.stringify(payload), policy.requestTimeoutMs)
      : { ok: true };
    if (result.ok) {
      await markNotificationSent(tx, row.id, attempts);
      metrics?.delivered('sent', row.created_at);
      log.info({ title: payload.title, labels: row.labels, via: webhookUrl ? 'webhook' : 'log' }, 'notification sent');
      return true;
    }
    if (attempts >= policy.maxAttempts) {
      await markNotificationFailed(tx, row.id, attempts, result.error);
      metrics?.delivered('failed', row.created_at);
      log.error({ title: payload.title, err: result.error }, 'notification delivery gave up');
      return true;
    }
    const delayMs = retryDelayMs(attempts, policy);
    await rescheduleNotification(tx, row.id, attempts, result.error, delayMs);
    metrics?.delivered('retry', row.created_at);
    log.warn({ title: payload.title, err: result.error, retryInMs: delayMs }, 'notification delivery failed; will retry');
    return true;
  });
}
