import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { type CurrentStateInputs, type LatestAppStatus, type LatestBuild, deriveCurrentState } from '../../domain/task-status';
import { isStrictlyAfter } from '../../domain/timestamp';

const BUILD_AT = '2026-02-01T10:00:00.000000Z';
const startBuild: LatestBuild = { transition: 'start', status: 'running', createdAt: BUILD_AT };

function appStatus(createdAt: string, overrides: Partial<LatestAppStatus> = {}): LatestAppStatus {
  return { createdAt, state: 'idle', message: 'Waiting for input', uri: 'https://example.test/pr/1', ...overrides };
}

function inputs(overrides: Partial<CurrentStateInputs>): CurrentStateInputs {
  return {
    latestAppStatus: null,
    latestBuild: startBuild,
    taskStatus: 'active',
    agentLifecycle: 'ready',
    appHealth: 'healthy',
    ...overrides,
  };
}

describe('deriveCurrentState rule 1: reported app status', () => {
  it('shows a status created after the latest start build', () => {
    const status = appStatus('2026-02-01T10:05:00Z');
    assert.deepEqual(deriveCurrentState(inputs({ latestAppStatus: status })), {
      timestamp: status.createdAt,
      state: 'idle',
      message: 'Waiting for input',
      uri: 'https://example.test/pr/1',
    });
  });

  it('hides a status from before the latest start build (stale run)', () => {
    assert.equal(deriveCurrentState(inputs({ latestAppStatus: appStatus('2026-02-01T09:59:59Z') })), null);
  });

  it('hides a status created at exactly the build time ("strictly after")', () => {
    assert.equal(deriveCurrentState(inputs({ latestAppStatus: appStatus(BUILD_AT) })), null);
    assert.equal(deriveCurrentState(inputs({ latestAppStatus: appStatus('2026-02-01T10:00:00Z') })), null);
  });

  it('compares below a millisecond and across offsets', () => {
    assert.notEqual(deriveCurrentState(inputs({ latestAppStatus: appStatus('2026-02-01T10:00:00.000001Z') })), null);
    assert.notEqual(deriveCurrentState(inputs({ latestAppStatus: appStatus('2026-02-01 11:00:01+01') })), null);
    assert.equal(deriveCurrentState(inputs({ latestAppStatus: appStatus('2026-02-01T11:00:00+01:00') })), null);
  });

  it('keeps the last status visible after a stop or delete build, however old', () => {
    for (const transition of ['stop', 'delete'] as const) {
      const latestBuild: LatestBuild = { transition, status: 'stopped', createdAt: BUILD_AT };
      const got = deriveCurrentState(inputs({ latestBuild, taskStatus: 'paused', latestAppStatus: appStatus('2026-01-01T00:00:00Z') }));
      assert.equal(got?.state, 'idle');
    }
  });

  it('passes "failure" through unchanged and maps a NULL uri to ""', () => {
    const got = deriveCurrentState(
      inputs({ latestAppStatus: appStatus('2026-02-01T10:00:01Z', { state: 'failure', uri: null, message: 'Tests fail' }) }),
    );
    assert.deepEqual(got, { timestamp: '2026-02-01T10:00:01Z', state: 'failure', message: 'Tests fail', uri: '' });
  });

  it('prefers a fresh app status over the initializing synthesis', () => {
    const got = deriveCurrentState(
      inputs({ taskStatus: 'initializing', agentLifecycle: 'starting', latestAppStatus: appStatus('2026-02-01T10:00:01Z') }),
    );
    assert.equal(got?.message, 'Waiting for input');
  });

  it('shows the status when there is no latest build to compare with', () => {
    assert.equal(deriveCurrentState(inputs({ latestBuild: null, latestAppStatus: appStatus(BUILD_AT) }))?.state, 'idle');
  });
});

describe('deriveCurrentState rule 2: synthesised while initializing', () => {
  const rows: [string, Partial<CurrentStateInputs>, string][] = [
    ['build pending', { latestBuild: { ...startBuild, status: 'pending' }, agentLifecycle: null }, 'Workspace is pending'],
    ['build starting', { latestBuild: { ...startBuild, status: 'starting' }, agentLifecycle: 'ready' }, 'Workspace is starting'],
    ['agent created', { agentLifecycle: 'created' }, 'Agent is connecting'],
    ['agent starting', { agentLifecycle: 'starting' }, 'Agent is starting'],
    ['agent ready, app initializing', { agentLifecycle: 'ready', appHealth: 'initializing' }, 'App is initializing'],
    ['agent ready, app healthy', { agentLifecycle: 'ready', appHealth: 'healthy' }, 'Initializing workspace applications'],
    ['agent ready, no app', { agentLifecycle: 'ready', appHealth: null }, 'Initializing workspace applications'],
    ['agent start_timeout', { agentLifecycle: 'start_timeout' }, 'Initializing workspace agent'],
    ['agent shutting_down', { agentLifecycle: 'shutting_down' }, 'Initializing workspace agent'],
    ['agent unknown (null)', { agentLifecycle: null }, 'Initializing workspace'],
  ];
  for (const [label, overrides, message] of rows) {
    it(`${label} -> "${message}"`, () => {
      const got = deriveCurrentState(inputs({ taskStatus: 'initializing', ...overrides }));
      assert.deepEqual(got, { timestamp: BUILD_AT, state: 'working', message, uri: '' });
    });
  }

  it('synthesises when the only app status is stale', () => {
    const got = deriveCurrentState(
      inputs({ taskStatus: 'initializing', agentLifecycle: 'created', latestAppStatus: appStatus('2026-01-31T00:00:00Z') }),
    );
    assert.equal(got?.message, 'Agent is connecting');
  });

  it('yields null without a build to date the entry', () => {
    assert.equal(deriveCurrentState(inputs({ taskStatus: 'initializing', latestBuild: null })), null);
  });
});

describe('deriveCurrentState rule 3: otherwise null', () => {
  for (const taskStatus of ['pending', 'active', 'paused', 'unknown', 'error'] as const) {
    it(`${taskStatus} without a usable app status -> null`, () => {
      assert.equal(deriveCurrentState(inputs({ taskStatus })), null);
      assert.equal(deriveCurrentState(inputs({ taskStatus, latestAppStatus: appStatus('2026-01-01T00:00:00Z') })), null);
    });
  }
});

describe('isStrictlyAfter', () => {
  it('orders nanosecond-precision RFC 3339 strings', () => {
    assert.equal(isStrictlyAfter('2026-02-01T10:00:00.123456789Z', '2026-02-01T10:00:00.123456788Z'), true);
    assert.equal(isStrictlyAfter('2026-02-01T10:00:00.1Z', '2026-02-01T10:00:00.100Z'), false);
    assert.equal(isStrictlyAfter('2026-02-01T10:00:00-00:30', '2026-02-01T10:29:59Z'), true);
  });
  it('falls back to Date.parse, and treats garbage as not after', () => {
    assert.equal(isStrictlyAfter('Sun, 01 Feb 2026 10:00:01 GMT', '2026-02-01T10:00:00Z'), true);
    assert.equal(isStrictlyAfter('not a time', '2026-02-01T10:00:00Z'), false);
    assert.equal(isStrictlyAfter('2026-02-01T10:00:00Z', 'not a time'), false);
  });
});
