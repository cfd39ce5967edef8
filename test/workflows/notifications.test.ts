import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { NOTIFICATION_TEMPLATES } from '../../domain/app-status';
import { enqueueNotification } from '../../db/notifications';
import { deliverNextNotification } from '../../worker/notification-delivery';
import { pauseTaskUpdate, resumeTaskUpdate } from '../../workflows/contracts';
import { createTask, em, notificationsOf, operate, rows, seedOwner, seedVersion, taskInput, waitForStatus } from './support';

const SECRET = 'test-webhook-secret';

interface Received {
  id: string | undefined;
  /** the call verifies with the receiver's copy of the secret (Standard Webhooks) */
  verified: boolean;
  raw: string;
  body: any;
  answered: number;
}

/** A webhook receiver; `answer` decides each response's status. */
async function startReceiver(answer: (r: Received, seen: Received[]) => number) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const r: Received = {
        id: req.headers['webhook-id'] as string | undefined,
        verified: verifies(raw, req.headers),
        raw,
        body: JSON.parse(raw),
        answered: 0,
      };
      r.answered = answer(r, received);
      received.push(r);
      res.writeHead(r.answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function verifies(raw: string, headers: http.IncomingHttpHeaders): boolean {
  try {
    new Webhook(SECRET, { format: 'raw' }).verify(raw, headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

describe('notifications: outbox and signed webhook delivery', () => {
  let stack: TestStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    // every message fails once, then is accepted: delivery has to retry
    receiver = await startReceiver((r, seen) => (seen.some((s) => s.id === r.id) ? 204 : 503));
    stack = await startTestStack({ env: { NOTIFY_WEBHOOK_URL: receiver.url, NOTIFY_WEBHOOK_SECRET: SECRET } });
  });
  after(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('pause and resume each deliver one signed message, retried after a failure', async () => {
    const seed = await seedOwner(stack);
    const version = await seedVersion(stack, seed);
    const input = taskInput(seed, version);
    await createTask(stack, input);
    await waitForStatus(stack, input.taskId, 'active');
    const pause = await operate(stack, input.taskId, pauseTaskUpdate, { initiatorId: seed.userId });
    await waitForStatus(stack, input.taskId, 'paused');
    const resume = await operate(stack, input.taskId, resumeTaskUpdate, { initiatorId: seed.userId });
    await waitForStatus(stack, input.taskId, 'active');

    const sent = await waitFor(async () => {
      const n = await notificationsOf(stack, seed.userId);
      return n.length === 2 && n.every((x) => x.status === 'sent') ? n : null;
    }, { what: 'both notifications sent' });
    assert.deepEqual(sent.map((n) => n.dedupe_key), [`task_paused:${pause.buildId}`, `task_resumed:${resume.buildId}`]);
    assert.deepEqual(sent.map((n) => n.attempts), [2, 2]);

    for (const n of sent) {
      const calls = receiver.received.filter((r) => r.id === n.id);
      assert.deepEqual(calls.map((c) => c.answered), [503, 204], 'one failure, then exactly one accepted delivery');
      for (const c of calls) {
        assert.ok(c.verified, 'a Standard Webhooks signature of the exact body');
        assert.equal(c.body.id, n.id);
      }
    }
    const paused = receiver.received.find((r) => r.id === sent[0]!.id)!.body;
    assert.equal(paused.template_id, NOTIFICATION_TEMPLATES.task_paused.id);
    assert.equal(paused.title, `Task '${input.name}' is paused`);
    assert.equal(paused.body, `The task '${input.name}' was paused (manual).`);
    assert.equal(paused.username, seed.username);
    assert.deepEqual(paused.labels, { task: input.name, task_id: input.taskId, workspace: input.name, pause_reason: 'manual' });
    assert.equal(paused.actions[0].url, `${stack.config.http.accessUrl}/tasks/${seed.username}/${input.taskId}`);
    const resumed = receiver.received.find((r) => r.id === sent[1]!.id)!.body;
    assert.equal(resumed.title, `Task '${input.name}' has resumed`);
  });

  it('enqueueNotification writes one row per dedupe key', async () => {
    const seed = await seedOwner(stack);
    const n = { templateId: NOTIFICATION_TEMPLATES.task_idle.id, userId: seed.userId, labels: { task: 't', workspace: 'w' }, dedupeKey: `idle:${randomUUID()}` };
    const first = await enqueueNotification(em(stack), n);
    const second = await enqueueNotification(em(stack), n);
    assert.ok(first);
    assert.equal(second, null);
    const [row] = await waitFor(async () => {
      const r = await notificationsOf(stack, seed.userId);
      return r[0]?.status === 'sent' ? r : null;
    });
    assert.equal(row!.id, first);
    assert.equal(receiver.received.filter((r) => r.id === first && r.answered === 204).length, 1);
  });
});

/** A task_failed notice for a new owner, due now, and what the delivery step needs to send it. */
async function enqueueFailedNotice(stack: TestStack) {
  const seed = await seedOwner(stack);
  const id = await enqueueNotification(em(stack), {
    templateId: NOTIFICATION_TEMPLATES.task_failed.id,
    userId: seed.userId,
    labels: { task: 't', workspace: 'w' },
    dedupeKey: `failed:${randomUUID()}`,
  });
  return { id, deps: { config: stack.config, orm: stack.orm, log: stack.log } };
}

describe('notifications: delivery gives up after the last attempt', () => {
  let stack: TestStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    receiver = await startReceiver(() => 500);
    // no worker: this test drives the delivery step itself
    stack = await startTestStack({ worker: false, env: { NOTIFY_WEBHOOK_URL: receiver.url, NOTIFY_WEBHOOK_SECRET: SECRET } });
  });
  after(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('reschedules with backoff, then marks the message failed', async () => {
    const { id, deps } = await enqueueFailedNotice(stack);
    const policy = { maxAttempts: 3, firstRetryMs: 200, maxRetryMs: 1_000, requestTimeoutMs: 2_000 };

    assert.equal(await deliverNextNotification(deps, policy), true);
    const [afterOne] = await rows(stack, 'select status, attempts, last_error, next_attempt_at > now() as later from notification_messages where id = ?', [id]);
    assert.deepEqual(afterOne, { status: 'pending', attempts: 1, last_error: 'webhook answered HTTP 500', later: true });
    // not due yet: nothing to deliver
    assert.equal(await deliverNextNotification(deps, policy), false);

    await waitFor(() => deliverNextNotification(deps, policy), { timeoutMs: 30_000, what: 'second attempt' });
    await waitFor(() => deliverNextNotification(deps, policy), { timeoutMs: 30_000, what: 'third attempt' });
    const [final] = await rows(stack, 'select status, attempts from notification_messages where id = ?', [id]);
    assert.deepEqual(final, { status: 'failed', attempts: 3 });
    assert.equal(await deliverNextNotification(deps, policy), false);
    assert.equal(receiver.received.length, 3);
    assert.ok(receiver.received.every((r) => r.id === id && r.verified));
  });
});

describe('notifications: a redirecting receiver', () => {
  let stack: TestStack;
  let elsewhere: Awaited<ReturnType<typeof startReceiver>>;
  let redirecting: http.Server;

  before(async () => {
    elsewhere = await startReceiver(() => 204);
    redirecting = http.createServer((_req, res) => res.writeHead(307, { Location: elsewhere.url }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook`;
    stack = await startTestStack({ worker: false, env: { NOTIFY_WEBHOOK_URL: url, NOTIFY_WEBHOOK_SECRET: SECRET } });
  });
  after(async () => {
    await stack?.close();
    await elsewhere?.close();
    await new Promise<void>((resolve) => redirecting.close(() => resolve()));
  });

  it('is not followed: the signed body goes nowhere else, and the attempt counts as failed', async () => {
    const { id, deps } = await enqueueFailedNotice(stack);
    assert.equal(await deliverNextNotification(deps, { maxAttempts: 3, firstRetryMs: 60_000, maxRetryMs: 60_000, requestTimeoutMs: 2_000 }), true);
    const [row] = await rows(stack, 'select status, attempts, last_error from notification_messages where id = ?', [id]);
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 1);
    assert.match(row.last_error, /HTTP 307 \(a redirect, which is not followed/);
    assert.equal(elsewhere.received.length, 0);
  });
});
