// Unit tests of the workflow's pure rules (no Temporal, no database):
//   node --import tsx --test test/workflows/task-state.test.ts
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { BuildSnapshot, TaskRecordsState } from '../../workflows/contracts';
import { retryDelayMs, signatureHeaders, webhookSigner, DEFAULT_DELIVERY_POLICY } from '../../worker/notification-delivery';
import { Webhook } from 'standardwebhooks';
import { TaskFailure } from '../../workflows/contracts';
import {
  aboutLatestStart,
  applyAgentState,
  applyAppStatus,
  newMemory,
  rejectOperation,
  setLatestBuild,
  statusOf,
  type TaskMemory,
} from '../../workflows/task-state';
import { ReportOverlay } from '../../workflows/legacy-reports';
import { SETTLING, TRANSITIONS, type Phase } from '../../workflows/task-phase';
import type { JobStatus } from '../../domain/task-status';

function memory(build: Partial<BuildSnapshot> = {}, rest: Partial<TaskRecordsState> = {}): TaskMemory {
  return newMemory({
    created: { taskId: 't', workspaceId: 'w', buildId: 'b1' },
    deleted: false,
    latestBuild: { buildId: 'b1', buildNumber: 1, transition: 'start', jobStatus: 'succeeded', reason: 'initiator', ...build },
    hostId: null,
    settings: { agentReadyS: 300, appHealthyS: 300, idleTimeoutS: null },
    agentId: 'agent-1',
    appId: 'app-1',
    agentLifecycle: 'ready',
    appHealth: 'healthy',
    ...rest,
  });
}

describe('rejectOperation (spec §3.5, §3.9, §10)', () => {
  const inFlight: JobStatus[] = ['pending', 'running'];

  it('refuses every operation while a build job is pending or running', () => {
    for (const jobStatus of inFlight) {
      for (const transition of ['start', 'stop', 'delete'] as const) {
        const m = memory({ transition, jobStatus });
        assert.equal(rejectOperation(m, 'pause')?.type, TaskFailure.buildActive);
        assert.equal(rejectOperation(m, 'delete')?.type, TaskFailure.buildActive);
      }
    }
  });

  it('refuses resume only when the workspace is running (start succeeded)', () => {
    assert.equal(rejectOperation(memory(), 'resume')?.type, TaskFailure.workspaceRunning);
    for (const [transition, jobStatus] of [['stop', 'succeeded'], ['start', 'failed'], ['stop', 'failed'], ['start', 'canceled']] as const) {
      assert.equal(rejectOperation(memory({ transition, jobStatus }), 'resume'), null, `${transition}/${jobStatus}`);
    }
  });

  it('lets pause through on a stopped workspace (pause is not idempotent-checked)', () => {
    assert.equal(rejectOperation(memory({ transition: 'stop', jobStatus: 'succeeded' }), 'pause'), null);
  });

  it('answers TaskDeleted once a delete was accepted, before any other rule', () => {
    const m = memory({ transition: 'delete', jobStatus: 'running' });
    m.deleteAccepted = true;
    for (const op of ['pause', 'resume', 'delete'] as const) assert.equal(rejectOperation(m, op)?.type, TaskFailure.taskDeleted);
  });

  it('after a failed delete build only another delete goes through; once the workspace is gone, nothing', () => {
    const m = memory({ transition: 'delete', jobStatus: 'failed' });
    m.deleteAccepted = true;
    assert.equal(rejectOperation(m, 'delete'), null);
    for (const op of ['pause', 'resume'] as const) assert.equal(rejectOperation(m, op)?.type, TaskFailure.taskDeleted);
    m.records.deleted = true;
    assert.equal(rejectOperation(m, 'delete')?.type, TaskFailure.taskDeleted);
  });
});

describe('status and agent reports', () => {
  it('a new build clears the previous agent/app: a queued stop reads unknown, a queued start pending', () => {
    const m = memory();
    setLatestBuild(m, { buildId: 'b2', buildNumber: 2, transition: 'stop', jobStatus: 'pending', reason: 'task_manual_pause' });
    assert.equal(statusOf(m), 'unknown');
    setLatestBuild(m, { buildId: 'b3', buildNumber: 3, transition: 'start', jobStatus: 'pending', reason: 'task_resume' });
    assert.equal(statusOf(m), 'pending');
    m.records.latestBuild.jobStatus = 'running';
    assert.equal(statusOf(m), 'initializing');
  });

  it('only reports about the latest build, a start build, count', () => {
    const m = memory({ buildNumber: 3 });
    const lifecycle = (buildNumber: number) => ({ kind: 'lifecycle' as const, agentId: 'agent-1', buildNumber, state: 'ready' });
    assert.equal(aboutLatestStart(m, lifecycle(2)), false);
    assert.equal(aboutLatestStart(m, lifecycle(3)), true);
    setLatestBuild(m, { buildId: 'b4', buildNumber: 4, transition: 'stop', jobStatus: 'running', reason: 'task_manual_pause' });
    assert.equal(aboutLatestStart(m, lifecycle(4)), false);
  });

  it('a read of the reported state replaces what memory held about the agent and app', () => {
    const m = memory({ jobStatus: 'succeeded' }, { agentLifecycle: 'starting', appHealth: 'initializing' });
    assert.equal(statusOf(m), 'initializing');
    applyAgentState(m, { agentId: 'agent-1', appId: 'app-1', agentLifecycle: 'ready', appHealth: 'healthy' });
    assert.equal(statusOf(m), 'active');
    applyAgentState(m, { agentId: 'agent-1', appId: 'app-1', agentLifecycle: 'start_timeout', appHealth: 'unhealthy' });
    assert.equal(statusOf(m), 'error');
  });

  it('runs that fold reports in: a database read taken before a folded report does not undo it', () => {
    const m = memory({ jobStatus: 'running' }, { agentId: null, appId: null, agentLifecycle: null, appHealth: null });
    const overlay = new ReportOverlay(1);
    overlay.fold(m, { kind: 'lifecycle', agentId: 'agent-1', buildNumber: 1, state: 'ready' });
    overlay.fold(m, { kind: 'app_health', agentId: 'agent-1', buildNumber: 1, healths: { 'app-1': 'healthy' } });
    m.records.latestBuild.jobStatus = 'succeeded';
    overlay.applyRead(m, { agentId: 'agent-1', appId: 'app-1', agentLifecycle: 'created', appHealth: 'initializing' }, true);
    assert.equal(statusOf(m), 'active');
    // without overlay (a timeout's authoritative write) the read wins
    overlay.applyRead(m, { agentId: 'agent-1', appId: 'app-1', agentLifecycle: 'start_timeout', appHealth: 'unhealthy' }, false);
    assert.equal(statusOf(m), 'error');
    // reports about an earlier build are not overlaid on a new one
    overlay.newBuild(2);
    overlay.applyRead(m, { agentId: 'agent-1', appId: 'app-1', agentLifecycle: 'created', appHealth: 'initializing' }, true);
    assert.equal(m.records.agentLifecycle, 'created');
  });

  it('working, and leaving working, count as activity; idle after idle does not (§4.2)', () => {
    const m = memory();
    const status = (state: string) => applyAppStatus(m, state).bumped;
    assert.equal(status('idle'), false);
    assert.equal(status('working'), true);
    assert.equal(status('working'), true);
    assert.equal(status('complete'), true);
    assert.equal(status('idle'), false);
    assert.equal(status('bogus'), false);
  });
});

describe('the run\'s phases', () => {
  const phases = Object.keys(TRANSITIONS) as Phase[];

  it('every phase is reached from loading, and only failed and deleted have no way out', () => {
    const reached = new Set<Phase>(['loading']);
    const todo: Phase[] = ['loading'];
    for (let p = todo.pop(); p; p = todo.pop()) {
      for (const q of TRANSITIONS[p]) if (!reached.has(q)) todo.push(reached.add(q) && q);
    }
    assert.deepEqual([...reached].sort(), [...phases].sort());
    assert.deepEqual(phases.filter((p) => TRANSITIONS[p].length === 0).sort(), ['deleted', 'failed']);
  });

  it('an update may take over from every phase in which it is not refused or made to wait', () => {
    for (const p of ['idle', 'deleteFailed', ...SETTLING] as Phase[]) assert.ok(TRANSITIONS[p].includes('reserving'), p);
    for (const p of ['loading', 'building', 'finishing', 'reserving'] as Phase[]) assert.ok(!TRANSITIONS[p].includes('reserving'), p);
  });
});

describe('webhook delivery helpers', () => {
  it('signs id.timestamp.body the Standard Webhooks way: a receiver verifies it, and refuses a changed body or an old call', () => {
    const body = '{"id":"1","title":"Task \'x\' is paused"}';
    const headers = signatureHeaders(webhookSigner('k'), 'msg-1', body);
    assert.equal(headers['webhook-id'], 'msg-1');
    assert.match(headers['webhook-signature']!, /^v1,[A-Za-z0-9+/]+=*$/);
    // the v1 signature is base64 HMAC-SHA256 over "id.timestamp.body" with the secret's bytes
    const expected = createHmac('sha256', 'k').update(`msg-1.${headers['webhook-timestamp']}.${body}`).digest('base64');
    assert.equal(headers['webhook-signature'], `v1,${expected}`);
    const receiver = new Webhook('k', { format: 'raw' });
    assert.doesNotThrow(() => receiver.verify(body, headers));
    assert.throws(() => receiver.verify(`${body} `, headers));
    const old = signatureHeaders(webhookSigner('k'), 'msg-1', body, new Date(Date.now() - 10 * 60_000));
    assert.throws(() => receiver.verify(body, old), /too old/i);
    // a "whsec_" secret is the standard's base64 form
    const standard = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    assert.doesNotThrow(() => new Webhook(standard).verify(body, signatureHeaders(webhookSigner(standard), 'm', body)));
  });

  it('backs off by doubling up to the cap', () => {
    const p = { ...DEFAULT_DELIVERY_POLICY, firstRetryMs: 1_000, maxRetryMs: 5_000 };
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, p)), [1_000, 2_000, 4_000, 5_000, 5_000]);
  });
});
