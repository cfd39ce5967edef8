// The compatibility tier's ratchet and route naming, without a stack: a listed gap that passes and
// an unlisted check that fails both fail the run, a stale list entry is a fault, and routes are
// named as Coder's router names them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge, routeChecks } from './ratchet';
import { routeOf, type RecordedCall } from './recording-proxy';

test('judge: pass, regression, known gap, closed gap, stale entry, duplicate name', () => {
  const { verdicts, problems } = judge(
    [
      { name: 'a', ok: true },
      { name: 'b', ok: false, detail: 'broke' },
      { name: 'c', ok: false, detail: 'still missing' },
      { name: 'd', ok: true },
      { name: 'a', ok: true },
    ],
    { c: 'no route', d: 'no field', gone: 'was renamed' },
    'GAPS',
  );
  assert.deepEqual(
    verdicts.map((v) => [v.name, v.kind]),
    [['a', 'pass'], ['b', 'fail'], ['c', 'known'], ['d', 'closed'], ['a', 'pass']],
  );
  assert.equal(verdicts[1]!.message, 'broke');
  assert.match(verdicts[3]!.message, /passes now: remove "d" from GAPS/);
  assert.deepEqual(problems, ['two checks are named "a"', 'GAPS in test/compat/known-gaps.ts lists "gone", which no check is named any more']);
});

const call = (method: string, path: string, over: Partial<RecordedCall> = {}): RecordedCall => ({
  method, path, query: [], status: 200, websocket: false, unknownRoute: false, ...over,
});

test('routes are named by their parameters, whatever the ids and names', () => {
  const id = '0b6a0b8e-4b7b-4c1e-9a55-54a1b8f0f1c2';
  assert.equal(routeOf(call('GET', `/api/v2/tasks/me/${id}/logs`)), 'GET /api/v2/tasks/{user}/{task}/logs');
  assert.equal(routeOf(call('GET', '/api/v2/tasks/watch', { query: ['q'] })), 'GET /api/v2/tasks/watch?q');
  assert.equal(routeOf(call('GET', '/api/v2/users/alice/workspace/w-1', { query: ['include_deleted'] })), 'GET /api/v2/users/{user}/workspace/{workspacename}?include_deleted');
  assert.equal(routeOf(call('POST', '/api/v2/users/login')), 'POST /api/v2/users/login');
  assert.equal(routeOf(call('GET', `/api/v2/organizations/${id}/templates/t/versions/v1`)), 'GET /api/v2/organizations/{organization}/templates/{template}/versions/{templateversionname}');
  assert.equal(routeOf(call('GET', `/api/v2/workspacebuilds/${id}/logs`, { query: ['follow'], websocket: true, status: 101 })), 'GET /api/v2/workspacebuilds/{workspacebuild}/logs?follow (websocket)');
  assert.equal(routeOf(call('PATCH', '/api/v2/workspaceagents/me/app-status')), 'PATCH /api/v2/workspaceagents/me/app-status');
});

test('a route fails its check if the API ever said it has no such route', () => {
  const checks = routeChecks([
    call('GET', '/api/v2/workspaces', { query: ['q'], status: 404, unknownRoute: true }),
    call('GET', '/api/v2/tasks/me/a'),
    call('GET', '/api/v2/tasks/me/b', { status: 404 }),
  ]);
  assert.deepEqual(
    checks.map((c) => [c.name, c.ok, c.detail]),
    [
      ['route GET /api/v2/tasks/{user}/{task}', true, 'answered 200, 404'],
      ['route GET /api/v2/workspaces?q', false, 'taskd has no such route; answered 404'],
    ],
  );
});
