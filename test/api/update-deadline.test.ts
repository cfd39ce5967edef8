// With no worker to run the update handler, an update call would wait forever. The API gives up after
// TEMPORAL_UPDATE_TIMEOUT_MS and answers 503 in the envelope; a retry with the same Idempotency-Key
// once a worker is back gets exactly one build.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { setupOwner, createAiTemplate } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { sql } from '../helpers/task-rows';

let stack: TestStack;
before(async () => {
  stack = await startTestStack({ env: { TEMPORAL_UPDATE_TIMEOUT_MS: '1500' } });
});
after(async () => {
  await stack?.close();
});

test('an update nobody can run answers 503 in time, and the keyed retry builds once', async () => {
  const owner = await setupOwner(stack);
  const { version } = await createAiTemplate(stack, owner.token, owner.org.id);
  const created = await stack.api('POST', '/api/v2/tasks/me', {
    token: owner.token,
    body: { template_version_id: version.id, input: 'hold on' },
  });
  assert.equal(created.status, 201);
  const id = created.body.id as string;
  await waitFor(async () => (await stack.api('GET', `/api/v2/tasks/me/${id}`, { token: owner.token })).body.status === 'active');

  const restartWorker = await stack.stopWorker();
  const pause = () =>
    stack.api('POST', `/api/v2/tasks/me/${id}/pause`, { token: owner.token, headers: { 'Idempotency-Key': 'k1' } });
  const stuck = await pause();
  assert.equal(stuck.status, 503, JSON.stringify(stuck.body));
  assert.equal(typeof stuck.body.message, 'string');

  await restartWorker();
  const retried = await waitFor(async () => {
    const res = await pause();
    return res.status === 202 ? res : null;
  }, { timeoutMs: 30_000, what: 'the retried pause' });
  assert.equal(retried.body.workspace_build.build_number, 2);
  await waitFor(async () => (await stack.api('GET', `/api/v2/tasks/me/${id}`, { token: owner.token })).body.status === 'paused');
  const builds = await sql<{ n: string }>(stack, 'select count(*) as n from workspace_builds where workspace_id = ?', [created.body.workspace_id]);
  assert.equal(Number(builds[0]!.n), 2);
});
