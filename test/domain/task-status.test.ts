import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AGENT_LIFECYCLES,
  APP_HEALTHS,
  APP_STATUS_STATES,
  BUILD_TRANSITIONS,
  JOB_STATUSES,
  TASK_STATUSES,
  WORKSPACE_STATUSES,
  type AgentLifecycle,
  type AppHealth,
  type BuildTransition,
  type JobStatus,
  type TaskStatusInputs,
  agentComponent,
  appComponent,
  buildComponent,
  deriveTaskStatus,
  workspaceStatus,
} from '../../domain/task-status';

// A task whose build, agent and app are all fine; each test perturbs one thing.
const healthy: TaskStatusInputs = {
  hasWorkspace: true,
  transition: 'start',
  jobStatus: 'succeeded',
  agentLifecycle: 'ready',
  appHealth: 'healthy',
};

describe('enum lists', () => {
  it('hold exactly the wire values', () => {
    assert.deepEqual([...TASK_STATUSES], ['pending', 'initializing', 'active', 'paused', 'unknown', 'error']);
    assert.deepEqual([...BUILD_TRANSITIONS], ['start', 'stop', 'delete']);
    assert.deepEqual([...JOB_STATUSES], ['pending', 'running', 'succeeded', 'failed', 'canceling', 'canceled']);
    assert.deepEqual(
      [...AGENT_LIFECYCLES],
      ['created', 'starting', 'start_timeout', 'start_error', 'ready', 'shutting_down', 'shutdown_timeout', 'shutdown_error', 'off'],
    );
    assert.deepEqual([...APP_HEALTHS], ['disabled', 'initializing', 'healthy', 'unhealthy']);
    assert.deepEqual(
      [...WORKSPACE_STATUSES],
      ['pending', 'starting', 'running', 'stopping', 'stopped', 'failed', 'canceling', 'canceled', 'deleting', 'deleted'],
    );
    assert.deepEqual([...APP_STATUS_STATES], ['working', 'idle', 'complete', 'failure']);
  });
});

describe('deriveTaskStatus overall rule (§2.1)', () => {
  it('1. no workspace is pending whatever else is set', () => {
    assert.equal(deriveTaskStatus({ ...healthy, hasWorkspace: false }), 'pending');
    assert.equal(deriveTaskStatus({ ...healthy, hasWorkspace: false, jobStatus: 'failed' }), 'pending');
  });
  it('2. a non-active build component wins over agent and app', () => {
    assert.equal(deriveTaskStatus({ ...healthy, jobStatus: 'failed', agentLifecycle: null, appHealth: null }), 'error');
  });
  it('3. a non-active agent component wins over the app', () => {
    assert.equal(deriveTaskStatus({ ...healthy, agentLifecycle: 'off', appHealth: 'unhealthy' }), 'unknown');
  });
  it('4. otherwise the app component decides', () => {
    assert.equal(deriveTaskStatus(healthy), 'active');
    assert.equal(deriveTaskStatus({ ...healthy, appHealth: 'unhealthy' }), 'error');
  });
});

describe('build component table', () => {
  const rows: [string, BuildTransition | null, JobStatus | null, string][] = [
    ['no row / build not found', null, null, 'pending'],
    ['start build with job status null', 'start', null, 'pending'],
    ...BUILD_TRANSITIONS.flatMap((t) =>
      (['failed', 'canceling', 'canceled'] as const).map(
        (j): [string, BuildTransition, JobStatus, string] => [`${t} + ${j}`, t, j, 'error'],
      ),
    ),
    ['stop + succeeded', 'stop', 'succeeded', 'paused'],
    ['delete + succeeded', 'delete', 'succeeded', 'paused'],
    ['start + pending', 'start', 'pending', 'pending'],
    ['start + running', 'start', 'running', 'active'],
    ['start + succeeded', 'start', 'succeeded', 'active'],
    ['stop + pending', 'stop', 'pending', 'unknown'],
    ['stop + running', 'stop', 'running', 'unknown'],
    ['delete + pending', 'delete', 'pending', 'unknown'],
    ['delete + running', 'delete', 'running', 'unknown'],
    ['job status without a transition', null, 'running', 'unknown'],
  ];
  for (const [label, transition, job, expected] of rows) {
    it(`${label} -> ${expected}`, () => {
      assert.equal(buildComponent(transition, job), expected);
      // 'active' defers, so the full status of an otherwise healthy task is active too.
      assert.equal(deriveTaskStatus({ ...healthy, transition, jobStatus: job }), expected);
    });
  }
});

describe('agent component table', () => {
  const rows: [AgentLifecycle | null, string][] = [
    [null, 'initializing'],
    ['created', 'initializing'],
    ['starting', 'initializing'],
    ['ready', 'active'],
    ['start_timeout', 'active'],
    ['start_error', 'active'],
    ['shutting_down', 'unknown'],
    ['shutdown_timeout', 'unknown'],
    ['shutdown_error', 'unknown'],
    ['off', 'unknown'],
  ];
  for (const [lifecycle, expected] of rows) {
    it(`${lifecycle ?? 'no agent id'} -> ${expected}`, () => {
      assert.equal(agentComponent(lifecycle), expected);
      assert.equal(deriveTaskStatus({ ...healthy, agentLifecycle: lifecycle }), expected);
    });
  }
});

describe('app component table', () => {
  const rows: [AppHealth | null, string][] = [
    ['initializing', 'initializing'],
    ['unhealthy', 'error'],
    ['healthy', 'active'],
    ['disabled', 'active'],
    [null, 'unknown'],
  ];
  for (const [health, expected] of rows) {
    it(`${health ?? 'NULL'} -> ${expected}`, () => {
      assert.equal(appComponent(health), expected);
      assert.equal(deriveTaskStatus({ ...healthy, appHealth: health }), expected);
    });
  }
  it('an unexpected value is unknown', () => {
    assert.equal(appComponent('bogus' as AppHealth), 'unknown');
  });
});

describe('consequences listed in §2.1', () => {
  it('fresh task with the provisioner down is pending', () => {
    assert.equal(
      deriveTaskStatus({ hasWorkspace: true, transition: 'start', jobStatus: 'pending', agentLifecycle: null, appHealth: null }),
      'pending',
    );
  });
  it('running start job with the new row agent still NULL is initializing', () => {
    assert.equal(
      deriveTaskStatus({ hasWorkspace: true, transition: 'start', jobStatus: 'running', agentLifecycle: null, appHealth: null }),
      'initializing',
    );
  });
  it('pausing is unknown until the stop job succeeds, then paused', () => {
    for (const job of ['pending', 'running'] as const) {
      assert.equal(deriveTaskStatus({ ...healthy, transition: 'stop', jobStatus: job }), 'unknown');
    }
    assert.equal(deriveTaskStatus({ ...healthy, transition: 'stop', jobStatus: 'succeeded' }), 'paused');
  });
  it('canceled start build and unhealthy task app are errors', () => {
    assert.equal(deriveTaskStatus({ ...healthy, jobStatus: 'canceled' }), 'error');
    assert.equal(deriveTaskStatus({ ...healthy, appHealth: 'unhealthy' }), 'error');
  });
  it('deleted workspace reads as paused', () => {
    assert.equal(deriveTaskStatus({ ...healthy, transition: 'delete', jobStatus: 'succeeded' }), 'paused');
  });
  it('agent ready but app still initializing is initializing', () => {
    assert.equal(deriveTaskStatus({ ...healthy, appHealth: 'initializing' }), 'initializing');
  });
});

describe('workspaceStatus (§3.9 step 3)', () => {
  const expected: Record<JobStatus, Record<BuildTransition, string>> = {
    pending: { start: 'pending', stop: 'pending', delete: 'pending' },
    running: { start: 'starting', stop: 'stopping', delete: 'deleting' },
    succeeded: { start: 'running', stop: 'stopped', delete: 'deleted' },
    canceling: { start: 'canceling', stop: 'canceling', delete: 'canceling' },
    canceled: { start: 'canceled', stop: 'canceled', delete: 'canceled' },
    failed: { start: 'failed', stop: 'failed', delete: 'failed' },
  };
  for (const job of JOB_STATUSES) {
    for (const transition of BUILD_TRANSITIONS) {
      it(`${transition} + ${job} -> ${expected[job][transition]}`, () => {
        assert.equal(workspaceStatus(transition, job), expected[job][transition]);
      });
    }
  }
});
