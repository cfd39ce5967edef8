import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  NOTIFICATION_TEMPLATES,
  type StateNotificationInputs,
  sanitizeStatusMessage,
  shouldBumpActivity,
  stateNotification,
  validateAppStatusReport,
} from '../../domain/app-status';
import { APP_STATUS_STATES } from '../../domain/task-status';

const report = { app_slug: 'claude', state: 'working', message: 'Reading the codebase', uri: '' };

describe('validateAppStatusReport (§4.2)', () => {
  it('accepts every state with a message up to 160 bytes', () => {
    for (const state of APP_STATUS_STATES) assert.equal(validateAppStatusReport({ ...report, state }), null);
    assert.equal(validateAppStatusReport({ ...report, message: 'x'.repeat(160) }), null);
    assert.equal(validateAppStatusReport({ ...report, message: '' }), null);
  });

  it('rejects a message over 160 bytes, counting bytes not characters', () => {
    const tooLong = {
      message: 'Message is too long.',
      validations: [{ field: 'message', detail: 'Message must be less than 160 characters.' }],
    };
    assert.deepEqual(validateAppStatusReport({ ...report, message: 'x'.repeat(161) }), tooLong);
    assert.deepEqual(validateAppStatusReport({ ...report, message: 'é'.repeat(81) }), tooLong);
    assert.equal(validateAppStatusReport({ ...report, message: 'é'.repeat(80) }), null);
  });

  it('rejects an unknown state, including the TaskState spelling "failed"', () => {
    for (const state of ['failed', 'completed', 'WORKING', '', 'stable']) {
      assert.deepEqual(validateAppStatusReport({ ...report, state }), {
        message: 'Invalid state provided.',
        validations: [{ field: 'state', detail: 'State must be one of: complete, failure, working, idle.' }],
      });
    }
  });

  it('checks the message length before the state', () => {
    assert.equal(validateAppStatusReport({ ...report, state: 'bogus', message: 'x'.repeat(200) })?.message, 'Message is too long.');
  });
});

describe('sanitizeStatusMessage', () => {
  const rows: [string, string, string][] = [
    ['plain text', 'Running tests', 'Running tests'],
    ['HTML tags', '<b>Done</b> with <a href="x">PR</a>', 'Done with PR'],
    ['script and style bodies', 'ok<script>alert(1)</script><style>p{}</style>!', 'ok!'],
    ['comments and doctype', '<!DOCTYPE html><!-- hidden -->shown', 'shown'],
    ['a lone angle bracket is text', 'a < b and c > d', 'a < b and c > d'],
    ['ANSI colours', '\x1b[1;32mPASS\x1b[0m 12 tests', 'PASS 12 tests'],
    ['OSC hyperlink', '\x1b]8;;https://x.test\x07link\x1b]8;;\x07 here', 'link here'],
    ['8-bit CSI and charset switch', '\x9b31mred\x1b(B plain', 'red plain'],
    ['control characters', 'a\x00b\x07c\x7fd', 'abcd'],
    ['zero-width and bidi format characters', 'a\u200bb\u202ec', 'abc'],
    ['whitespace runs of any kind', '  one\t\ttwo\n\nthree\u00a0\u3000four  ', 'one two three four'],
    ['spaces around a dropped character', 'a \x00 b', 'a b'],
    ['unicode letters and emoji survive', 'Déjà vu ✅ 🚀', 'Déjà vu ✅ 🚀'],
    ['only markup', '<br/><hr>', ''],
  ];
  for (const [label, input, expected] of rows) {
    it(label, () => assert.equal(sanitizeStatusMessage(input), expected));
  }
});

describe('stateNotification (§7.1 rules 1-5)', () => {
  const base: StateNotificationInputs = {
    isTaskWorkspace: true,
    agentLifecycle: 'ready',
    taskAppId: 'app-1',
    appId: 'app-1',
    previousState: 'working',
    newState: 'idle',
  };

  it('maps each new state to its template', () => {
    assert.equal(stateNotification({ ...base, previousState: 'idle', newState: 'working' }), 'task_working');
    assert.equal(stateNotification({ ...base, newState: 'idle' }), 'task_idle');
    assert.equal(stateNotification({ ...base, newState: 'complete' }), 'task_completed');
    assert.equal(stateNotification({ ...base, newState: 'failure' }), 'task_failed');
  });
  it('1. only for task workspaces', () => assert.equal(stateNotification({ ...base, isTaskWorkspace: false }), null));
  it('2. only while the reporting agent is ready', () => {
    for (const agentLifecycle of ['starting', 'start_error', 'shutting_down', null] as const) {
      assert.equal(stateNotification({ ...base, agentLifecycle }), null);
    }
  });
  it('3. only for the task app', () => {
    assert.equal(stateNotification({ ...base, appId: 'app-2' }), null);
    assert.equal(stateNotification({ ...base, taskAppId: null }), null);
  });
  it('4. not for a repeat of the previous state', () => {
    for (const state of APP_STATUS_STATES) {
      assert.equal(stateNotification({ ...base, previousState: state, newState: state }), null);
    }
  });
  it('5. not for a first status of working, but yes for any other first status', () => {
    assert.equal(stateNotification({ ...base, previousState: null, newState: 'working' }), null);
    assert.equal(stateNotification({ ...base, previousState: null, newState: 'idle' }), 'task_idle');
    assert.equal(stateNotification({ ...base, previousState: null, newState: 'complete' }), 'task_completed');
    assert.equal(stateNotification({ ...base, previousState: null, newState: 'failure' }), 'task_failed');
  });
});

describe('shouldBumpActivity', () => {
  it('bumps while working and on the way out of working only', () => {
    assert.equal(shouldBumpActivity(null, 'working'), true);
    assert.equal(shouldBumpActivity('idle', 'working'), true);
    assert.equal(shouldBumpActivity('working', 'idle'), true);
    assert.equal(shouldBumpActivity('working', 'complete'), true);
    assert.equal(shouldBumpActivity(null, 'idle'), false);
    assert.equal(shouldBumpActivity('idle', 'complete'), false);
  });
});

describe('NOTIFICATION_TEMPLATES (§7.1)', () => {
  const labels = { task: 'fix-login-1a2b', workspace: 'fix-login-1a2b-ws', task_id: 'tid', pause_reason: 'idle timeout' };
  const expected: [keyof typeof NOTIFICATION_TEMPLATES, string, string, boolean, string, string][] = [
    ['task_working', 'bd4b7168-d05e-4e19-ad0f-3593b77aa90f', 'Task Working', false,
      "Task 'fix-login-1a2b-ws' is working", "The task 'fix-login-1a2b' transitioned to a working state."],
    ['task_idle', 'd4a6271c-cced-4ed0-84ad-afd02a9c7799', 'Task Idle', false,
      "Task 'fix-login-1a2b-ws' is idle", "The task 'fix-login-1a2b' is idle and ready for input."],
    ['task_completed', '8c5a4d12-9f7e-4b3a-a1c8-6e4f2d9b5a7c', 'Task Completed', false,
      "Task 'fix-login-1a2b-ws' completed", "The task 'fix-login-1a2b' has completed successfully."],
    ['task_failed', '3b7e8f1a-4c2d-49a6-b5e9-7f3a1c8d6b4e', 'Task Failed', false,
      "Task 'fix-login-1a2b-ws' failed", "The task 'fix-login-1a2b' has failed. Check the logs for more details."],
    ['task_paused', '2a74f3d3-ab09-4123-a4a5-ca238f4f65a1', 'Task Paused', true,
      "Task 'fix-login-1a2b' is paused", "The task 'fix-login-1a2b' was paused (idle timeout)."],
    ['task_resumed', '843ee9c3-a8fb-4846-afa9-977bec578649', 'Task Resumed', true,
      "Task 'fix-login-1a2b' has resumed", "The task 'fix-login-1a2b' has resumed."],
  ];
  for (const [key, id, name, enabled, title, body] of expected) {
    it(`${name}`, () => {
      const t = NOTIFICATION_TEMPLATES[key];
      assert.equal(t.id, id);
      assert.equal(t.name, name);
      assert.equal(t.group, 'Task Events');
      assert.equal(t.enabledByDefault, enabled);
      assert.equal(t.title(labels), title);
      assert.equal(t.body(labels), body);
    });
  }
  it('has exactly the six templates', () => assert.equal(Object.keys(NOTIFICATION_TEMPLATES).length, 6));
  it('links state notifications by workspace name and pause/resume by task id', () => {
    const ctx = { baseUrl: 'https://coder.test', username: 'alice', labels };
    assert.deepEqual(NOTIFICATION_TEMPLATES.task_idle.actions(ctx), [
      { label: 'View task', url: 'https://coder.test/tasks/alice/fix-login-1a2b-ws' },
      { label: 'View workspace', url: 'https://coder.test/@alice/fix-login-1a2b-ws' },
    ]);
    assert.equal(NOTIFICATION_TEMPLATES.task_paused.actions(ctx)[0]?.url, 'https://coder.test/tasks/alice/tid');
  });
});
