import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEchoDriver } from '../../provisioner/echo';
import { ProvisionerError, type BuildContext } from '../../provisioner/driver';
import { workspaceDefinitionSchema } from '../../domain/workspace-definition';

function ctx(definition: unknown, transition: BuildContext['transition'] = 'start'): BuildContext {
  return {
    workspaceId: '00000000-0000-4000-8000-000000000001',
    workspaceName: 'ws',
    ownerName: 'alice',
    taskId: null,
    buildId: '00000000-0000-4000-8000-000000000002',
    buildNumber: 1,
    transition,
    definition: workspaceDefinitionSchema.parse(definition),
    agent: { id: '00000000-0000-4000-8000-000000000003', name: 'main', token: 't' },
    accessUrl: 'http://127.0.0.1:1',
  };
}

const apps = [
  { slug: 'agent', healthcheck: { path: '/status' } },
  { slug: 'web', command: 'true' },
];

test('a start plays the agent: ready, apps healthy or disabled, echo URLs', async () => {
  const out = await createEchoDriver().start(ctx({ provisioner: 'echo', apps, ai_task: { app: 'agent' } }));
  assert.equal(out.agentLifecycle, 'ready');
  assert.equal(out.hostId, null);
  assert.deepEqual(
    out.apps.map((a) => [a.slug, a.url, a.health]),
    [
      ['agent', 'http://127.0.0.1:0/echo/agent', 'healthy'],
      ['web', 'http://127.0.0.1:0/echo/web', 'disabled'],
    ],
  );
  assert.equal(out.apps[0]!.healthcheck?.url, 'http://127.0.0.1:0/status');
});

test('agent_lifecycle "none" leaves the agent to report (created, health initializing)', async () => {
  const out = await createEchoDriver().start(
    ctx({ provisioner: 'echo', apps, ai_task: { app: 'agent' }, echo: { agent_lifecycle: 'none' } }),
  );
  assert.equal(out.agentLifecycle, 'created');
  assert.equal(out.apps[0]!.health, 'initializing');
  assert.equal(out.apps[1]!.health, 'disabled');
});

test('agent_lifecycle and app_health options reach the outcome', async () => {
  for (const lifecycle of ['start_error', 'start_timeout'] as const) {
    const out = await createEchoDriver().start(ctx({ provisioner: 'echo', apps, echo: { agent_lifecycle: lifecycle } }));
    assert.equal(out.agentLifecycle, lifecycle);
  }
  for (const health of ['unhealthy', 'initializing', 'healthy'] as const) {
    // the task app gets the health even without a healthcheck: it is what the status derives from
    const out = await createEchoDriver().start(
      ctx({ provisioner: 'echo', apps: [{ slug: 'agent' }], ai_task: { app: 'agent' }, echo: { app_health: health } }),
    );
    assert.equal(out.apps[0]!.health, health);
  }
});

test('fail makes the named transitions throw a non-retryable ProvisionerError, others succeed', async () => {
  const driver = createEchoDriver();
  const definition = { provisioner: 'echo', apps, echo: { fail: ['stop'] } };
  await driver.start(ctx(definition, 'start'));
  await driver.delete(ctx(definition, 'delete'));
  await assert.rejects(driver.stop(ctx(definition, 'stop')), (err: unknown) => {
    assert.ok(err instanceof ProvisionerError);
    assert.equal(err.retryable, false);
    return true;
  });
});

test('delay_ms holds every transition back', async () => {
  const driver = createEchoDriver();
  const definition = { provisioner: 'echo', apps, echo: { delay_ms: 150 } };
  for (const t of ['start', 'stop', 'delete'] as const) {
    const started = Date.now();
    if (t === 'start') await driver.start(ctx(definition, t));
    else await driver[t](ctx(definition, t));
    assert.ok(Date.now() - started >= 140, `${t} took ${Date.now() - started} ms`);
  }
});

test('a fixed app URL is kept', async () => {
  const out = await createEchoDriver().start(
    ctx({ provisioner: 'echo', apps: [{ slug: 'docs', url: 'http://example.test/docs' }] }),
  );
  assert.equal(out.apps[0]!.url, 'http://example.test/docs');
});
