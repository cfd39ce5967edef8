// The real `coder` CLI (built from Coder's module at the version compat/coder/go.mod pins) against
// taskd: `coder task create/list/status/logs/send/pause/resume/delete`, including send to a paused
// task and --template-version, then the template and workspace commands a Coder user reaches for.
// Every route it calls is recorded by a proxy; each step and each route is a check, and
// known-gaps.ts lists the ones failing today.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { createLogger } from '../../lib/logger';
import { CODER_VERSION, ensureCoderCli } from '../../compat/coder/binaries';
import { COMPAT_STACK_ENV, compatWorld, stopCompatWorkspaces, type CompatWorld } from './compat-world';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy';
import { ratchet, routeChecks } from './ratchet';
import { coderCli, expectRefusal, expectRun, Steps, type CoderCli } from './coder-cli-runner';
import { CLI_GAPS } from './known-gaps';

let stack: TestStack;
let proxy: RecordingProxy;
let world: CompatWorld;
let coder: CoderCli;

before(async () => {
  const [binary, s] = await Promise.all([
    ensureCoderCli({ log: createLogger('warn', 'coder-compat') }).then((b) => b.path),
    startTestStack({ env: COMPAT_STACK_ENV }),
  ]);
  stack = s;
  proxy = await startRecordingProxy(stack.baseUrl);
  world = await compatWorld(stack, proxy.url);
  coder = coderCli(binary, proxy.url, world.owner.token);
});
after(async () => {
  coder?.close();
  await proxy?.close();
  await stopCompatWorkspaces(stack);
  await stack?.close();
});

const WAIT_MS = () => world.wait_seconds * 1000;

async function task(name: string) {
  const res = await stack.api('GET', `/api/v2/tasks/me/${name}`, { token: world.owner.token });
  assert.equal(res.status, 200, `GET task ${name}: ${JSON.stringify(res.body)}`);
  return res.body;
}

function until(name: string, what: string, cond: (t: any) => boolean) {
  return waitFor(async () => cond(await task(name)), { what: `task ${name} ${what}`, timeoutMs: WAIT_MS(), intervalMs: 200 });
}
const activeIdle = (name: string) => until(name, 'active and idle', (t) => t.status === 'active' && t.current_state?.state === 'idle');
const paused = (name: string) => until(name, 'paused', (t) => t.status === 'paused');

/** Pauses through the API (a step that needs a paused task must not depend on `coder task pause`). */
async function pauseByApi(name: string) {
  const t = await task(name);
  if (t.status !== 'paused') {
    const res = await stack.api('POST', `/api/v2/tasks/me/${t.id}/pause`, { token: world.owner.token });
    assert.equal(res.status, 202, JSON.stringify(res.body));
  }
  await paused(name);
}

async function logsOf(name: string): Promise<{ type: string; content: string }[]> {
  const res = await stack.api('GET', `/api/v2/tasks/me/${name}/logs`, { token: world.owner.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.logs;
}

async function taskCommands(s: Steps) {
  const tpl = world.running_template;
  await s.step('coder task list without tasks', async () => expectRun(await coder.run(['task', 'list']), /No tasks found\./));
  await s.step('coder task create without --template names the AI templates', async () =>
    expectRefusal(await coder.run(['task', 'create', 'Hello']), /template name not provided, available templates: .*builtin.*no-agent|no-agent.*builtin/),
  );
  await s.step('coder task create --template --name', async () =>
    expectRun(await coder.run(['task', 'create', '--template', tpl.name, '--name', 'cli-a', 'Write a haiku about durable workflows']), /The task cli-a has been created at/),
  );
  await s.step('coder task create --template-version', async () => {
    const res = await coder.run(['task', 'create', '--template', tpl.name, '--template-version', tpl.version_name, '--name', 'cli-v', '-q', 'Versioned']);
    expectRun(res);
    const created = await task('cli-v');
    assert.equal(res.stdout.trim(), created.id);
    assert.equal(created.template_version_id, tpl.version_id);
  });
  await s.step('coder task create --preset -q prints the id', async () => {
    const res = await coder.run(['task', 'create', '--template', tpl.name, '--preset', tpl.preset_name!, '--name', 'cli-p', '-q', 'Preset']);
    expectRun(res);
    assert.equal(res.stdout.trim(), (await task('cli-p')).id);
  });
  await s.step('coder task create on the template whose agent never connects', async () =>
    expectRun(await coder.run(['task', 'create', '--template', world.stuck_template.name, '--name', 'cli-stuck', 'Wait'])),
  );
  await s.step('coder task status --watch ends once the task is idle', async () => {
    const res = await coder.run(['task', 'status', 'cli-a', '--watch'], { timeoutMs: WAIT_MS() });
    expectRun(res, /active/, /idle/);
  });
  await s.step('coder task status -o json', async () => {
    const res = await coder.run(['task', 'status', 'cli-a', '-o', 'json']);
    expectRun(res);
    const t = JSON.parse(res.stdout);
    assert.equal(t.name, 'cli-a');
    assert.equal(t.status, 'active');
  });
  await s.step('coder task list shows the tasks', async () =>
    expectRun(await coder.run(['task', 'list']), /cli-a\s+active\s+idle/, /cli-stuck\s+initializing\s+working/),
  );
  await s.step('coder task list --status initializing -q', async () => {
    // the preset task runs a real workspace too: on a loaded machine it may still be starting
    await waitFor(async () => (await task('cli-p')).status === 'active', { what: 'cli-p active', timeoutMs: WAIT_MS() });
    const res = await coder.run(['task', 'list', '--status', 'initializing', '-q']);
    expectRun(res);
    assert.deepEqual(res.stdout.trim().split('\n'), [(await task('cli-stuck')).id]);
  });
  await s.step('coder task list -a -o json includes a member\'s task', async () => {
    const res = await coder.run(['task', 'list', '-a', '-o', 'json']);
    expectRun(res);
    const names = (JSON.parse(res.stdout) as { name: string; owner_name: string }[]).map((t) => `${t.owner_name}/${t.name}`);
    assert.ok(names.includes('member/member-task') && names.includes(`${world.owner.username}/cli-a`), names.join(', '));
  });
  await s.step('coder task logs', async () => expectRun(await coder.run(['task', 'logs', 'cli-a']), /input\s+Write a haiku about durable workflows/, /output\s+\S/));
  await s.step('coder task send to an active task', async () => {
    expectRun(await coder.run(['task', 'send', 'cli-a', 'Now make it rhyme'], { timeoutMs: WAIT_MS() }));
    await waitFor(async () => (await logsOf('cli-a')).some((e) => e.type === 'input' && e.content === 'Now make it rhyme'), { what: 'the input in the logs' });
  });
  await s.step('coder task logs -o json', async () => {
    const res = await coder.run(['task', 'logs', 'cli-a', '-o', 'json']);
    expectRun(res);
    const logs = JSON.parse(res.stdout) as { type: string; content: string }[];
    assert.ok(logs.some((e) => e.type === 'input' && e.content === 'Now make it rhyme'), res.stdout);
  });
  await s.settle(() => activeIdle('cli-a'));
  await s.step('coder task pause', async () =>
    expectRun(await coder.run(['task', 'pause', 'cli-a', '-y'], { timeoutMs: WAIT_MS() }), /The cli-a task has been paused at/),
  );
  await s.settle(() => paused('cli-a'));
  await s.step('coder task pause of a paused task', async () =>
    expectRefusal(await coder.run(['task', 'pause', 'cli-a', '-y']), /task ".*\/cli-a" is already paused/),
  );
  await s.step('coder task logs of a paused task (snapshot)', async () => expectRun(await coder.run(['task', 'logs', 'cli-a']), /input\s+Now make it rhyme/));
  await s.step('coder task send to a paused task resumes it and sends', async () =>
    expectRun(await coder.run(['task', 'send', 'cli-a', 'Sent while paused'], { timeoutMs: WAIT_MS() * 2 })),
  );
  await s.step('the input sent to a paused task reaches the agent', async () => {
    await s.settle(() => activeIdle('cli-a'));
    const logs = await logsOf('cli-a');
    assert.ok(logs.some((e) => e.type === 'input' && e.content === 'Sent while paused'), JSON.stringify(logs));
  });
  await s.settle(() => activeIdle('cli-a'));
  await s.step('coder task resume of an active task', async () =>
    expectRefusal(await coder.run(['task', 'resume', 'cli-a', '-y']), /task ".*\/cli-a" cannot be resumed \(current status: active\)/),
  );
  await s.settle(() => pauseByApi('cli-a'));
  await s.step('coder task resume', async () =>
    expectRun(await coder.run(['task', 'resume', 'cli-a', '-y'], { timeoutMs: WAIT_MS() }), /The .*\/cli-a task has been resumed\./),
  );
  await s.settle(() => activeIdle('cli-a'));
  await s.settle(() => pauseByApi('cli-a'));
  await s.step('coder task resume --no-wait', async () =>
    expectRun(await coder.run(['task', 'resume', 'cli-a', '--no-wait', '-y']), /Resuming task ".*\/cli-a" in the background\./),
  );
  await s.settle(() => activeIdle('cli-a'));
}

async function templateAndWorkspaceCommands(s: Steps) {
  const tpl = world.running_template;
  await s.step('coder templates list', async () => expectRun(await coder.run(['templates', 'list']), new RegExp(tpl.name)));
  await s.step('the CLI finds no version mismatch with the server', async () => {
    const res = await coder.run(['templates', 'list']);
    expectRun(res);
    assert.doesNotMatch(res.stderr, /version mismatch/i);
  });
  await s.step('coder templates versions list', async () =>
    expectRun(await coder.run(['templates', 'versions', 'list', tpl.name]), new RegExp(tpl.version_name)),
  );
  await s.step('coder list', async () => expectRun(await coder.run(['list']), /cli-a/, /cli-stuck/));
  await s.step('coder list -o json', async () => {
    const res = await coder.run(['list', '-o', 'json']);
    expectRun(res);
    assert.ok((JSON.parse(res.stdout) as { name: string }[]).some((w) => w.name === 'cli-a'), res.stdout);
  });
  await s.step('coder show', async () => expectRun(await coder.run(['show', 'cli-a']), /cli-a/));
  await s.step('coder stop', async () => {
    expectRun(await coder.run(['stop', 'cli-p', '-y'], { timeoutMs: WAIT_MS() }), /has been stopped/);
    await paused('cli-p');
  });
  await s.step('coder start', async () => {
    expectRun(await coder.run(['start', 'cli-p', '-y'], { timeoutMs: WAIT_MS() }), /has been started/);
    await activeIdle('cli-p');
  });
  await s.step('coder delete (a task\'s workspace)', async () => {
    expectRun(await coder.run(['delete', 'cli-p', '-y'], { timeoutMs: WAIT_MS() }), /has been deleted/);
    await waitFor(async () => (await stack.api('GET', '/api/v2/tasks/me/cli-p', { token: world.owner.token })).status === 404, {
      what: 'the task gone with its workspace',
      timeoutMs: WAIT_MS(),
    });
  });
}

test(`Coder ${CODER_VERSION} CLI against taskd`, async (t) => {
  const member = await stack.api('POST', '/api/v2/tasks/me', {
    token: world.member.token,
    body: { template_version_id: world.stuck_template.version_id, input: 'Member work', name: 'member-task' },
  });
  assert.equal(member.status, 201, JSON.stringify(member.body));
  const s = new Steps();
  await taskCommands(s);
  await templateAndWorkspaceCommands(s);
  await s.step('coder task delete of several tasks', async () => {
    // cli-v exists only if `create --template-version` worked
    const names = ['cli-a', 'cli-stuck'];
    if ((await stack.api('GET', '/api/v2/tasks/me/cli-v', { token: world.owner.token })).status === 200) names.push('cli-v');
    const res = await coder.run(['task', 'delete', ...names, '-y']);
    expectRun(res, ...names.map((n) => new RegExp(`Deleted task .*/${n} at`)));
    for (const n of names) assert.equal((await stack.api('GET', `/api/v2/tasks/me/${n}`, { token: world.owner.token })).status, 404, n);
  });
  await ratchet(t, [...s.results, ...routeChecks(proxy.calls)], CLI_GAPS, 'CLI_GAPS');
});
