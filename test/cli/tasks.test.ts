import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSecondApi, startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { cliEnv, cliOk, exitWithin, loginFirstUser, reportAppState, runCli, startCli, storedToken } from './cli-helpers';

// `taskd task create | list | status [--watch]` and bad input, with echo-provisioned templates.

let stack: TestStack;
let env: Record<string, string>;
let token: string;
let orgId: string;

before(async () => {
  stack = await startTestStack();
  env = cliEnv(stack.baseUrl);
  await loginFirstUser(env, 'owner');
  token = storedToken(env);
  orgId = (await stack.api('GET', '/api/v2/users/me', { token })).body.organization_ids[0];
});
after(async () => {
  await stack?.close();
});

const apiTask = async (ref: string) => (await stack.api('GET', `/api/v2/tasks/me/${ref}`, { token })).body;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('taskd task create', () => {
  test('with no AI task template it says so', async () => {
    const res = await runCli(['task', 'create', 'do something'], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /no task templates configured/);
  });

  test('with exactly one AI template it is used; the output names the task; -q prints the id', async () => {
    await createAiTemplate(stack, token, orgId, { name: 'instant', workspace: { apps: [{ slug: 'ai' }], ai_task: { app: 'ai' } } });
    const res = await cliOk(['task', 'create', '--name', 'first', 'Write the README'], env);
    assert.match(res.stdout, /^The task first has been created at [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d!\n$/);
    const task = await apiTask('first');
    assert.equal(task.initial_prompt, 'Write the README');

    const id = (await cliOk(['task', 'create', '-q', 'Fix the build'], env)).stdout.trim();
    assert.match(id, UUID);
    assert.equal((await apiTask(id)).initial_prompt, 'Fix the build');
  });

  test('--stdin reads the input; an empty input is refused before anything is created', async () => {
    const id = (await cliOk(['task', 'create', '--stdin', '--name', 'from-stdin', '-q'], env, { input: 'Input from a pipe\n' })).stdout.trim();
    assert.equal((await apiTask(id)).initial_prompt, 'Input from a pipe\n');

    const empty = await runCli(['task', 'create', ''], env);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /a task cannot be started with an empty input/);
    const emptyStdin = await runCli(['task', 'create', '--stdin'], env, { input: '' });
    assert.match(emptyStdin.stderr, /a task cannot be started with an empty input/);
    const noInput = await runCli(['task', 'create'], env);
    assert.equal(noInput.code, 2);
    assert.match(noInput.stderr, /expected an input for the task/);
  });

  test('with several AI templates --template is required; unknown templates and server errors are reported', async () => {
    await createAiTemplate(stack, token, orgId, {
      name: 'slow',
      workspace: { apps: [{ slug: 'ai' }], ai_task: { app: 'ai' }, echo: { delay_ms: 3000 } },
    });
    const res = await runCli(['task', 'create', 'anything'], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /template name not provided, available templates: instant, slow/);

    const unknown = await runCli(['task', 'create', '--template', 'nope', 'anything'], env);
    assert.match(unknown.stderr, /template "nope": Resource not found or you do not have access to this resource/);

    const badName = await runCli(['task', 'create', '--template', 'instant', '--name', 'Not_Valid', 'anything'], env);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /create task: Unable to create a Task with the provided name\.\n {2}\S/);

    const dup = await runCli(['task', 'create', '--template', 'instant', '--name', 'first', 'again'], env);
    assert.match(dup.stderr, /Workspace "first" already exists\./);
    assert.match(dup.stderr, /- name: This value is already in use and should be unique\./);
  });

  test('--wait follows the task until it is active, with its phases on stderr', async () => {
    const res = await cliOk(['task', 'create', '--template', 'slow', '--name', 'waited', '--wait', 'Slow start'], env);
    assert.match(res.stdout, /The task waited has been created/);
    assert.match(res.stderr, /Workspace is (pending|starting)/);
    assert.equal((await apiTask('waited')).status, 'active');
  });
});

describe('taskd task list', () => {
  test('table with the default columns, -q ids, -o json, -c columns and --status', async () => {
    await waitFor(async () => (await apiTask('first')).status === 'active', { what: 'task first active' });
    const table = await cliOk(['task', 'list'], env);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+STATUS\s+STATE\s+STATE CHANGED\s+MESSAGE$/);
    assert.ok(lines.some((l) => /^first\s+active$/.test(l)), table.stdout);

    const ids = (await cliOk(['task', 'ls', '-q'], env)).stdout.trim().split('\n');
    assert.ok(ids.length >= 4 && ids.every((l) => UUID.test(l)), ids.join(','));

    const json = JSON.parse((await cliOk(['task', 'list', '-o', 'json'], env)).stdout);
    assert.ok(Array.isArray(json));
    assert.deepEqual(json.map((t: { id: string }) => t.id).sort(), [...ids].sort());
    assert.equal(json.find((t: { name: string }) => t.name === 'first').owner_name, 'owner');

    const [cols, activeOut, all, byUser] = await Promise.all([
      cliOk(['task', 'list', '-c', 'id,name', '-c', 'status'], env),
      cliOk(['task', 'list', '--status', 'active', '-o', 'json'], env),
      cliOk(['task', 'list', '--all', '-q'], env),
      cliOk(['task', 'list', '--user', 'owner', '-q'], env),
    ]);
    assert.match(cols.stdout.split('\n')[0]!, /^ID\s+NAME\s+STATUS$/);
    const active = JSON.parse(activeOut.stdout);
    assert.ok(active.length > 0 && active.every((t: { status: string }) => t.status === 'active'));
    assert.equal(all.stdout.trim().split('\n').length, ids.length);
    assert.equal(byUser.stdout.trim().split('\n').length, ids.length);
  });

  test('an empty list says "No tasks found." on stderr; bad flags are usage errors', async () => {
    const [res, badStatus, badColumn, unknownUser] = await Promise.all([
      cliOk(['task', 'list', '--status', 'error'], env),
      runCli(['task', 'list', '--status', 'running'], env),
      runCli(['task', 'list', '-c', 'name,colour'], env),
      runCli(['task', 'list', '--user', 'nobody'], env),
    ]);
    assert.equal(res.stdout, '');
    assert.equal(res.stderr, 'No tasks found.\n');
    assert.equal(badStatus.code, 2);
    assert.match(badStatus.stderr, /must be one of pending, initializing, active, paused, error, unknown/);
    assert.match(badColumn.stderr, /unknown column "colour"/);
    assert.equal(unknownUser.code, 1);
    assert.match(unknownUser.stderr, /list tasks: Invalid task search query\.\n {2}- owner: .*does not exist/);
  });
});

describe('taskd task status', () => {
  test('by name, owner/name and id; -o json is the task object', async () => {
    const first = await apiTask('first');
    const refs = ['first', 'owner/first', first.id];
    for (const res of await Promise.all(refs.map((ref) => cliOk(['task', 'status', ref], env)))) {
      const [header, row] = res.stdout.trim().split('\n');
      assert.match(header!, /^STATE CHANGED\s+STATUS\s+HEALTHY\s+STATE\s+MESSAGE$/);
      assert.match(row!, /^\d+[hms0-9]* ago\s+active\s+(true|false)/);
    }
    const json = JSON.parse((await cliOk(['task', 'stat', 'first', '-o', 'json'], env)).stdout);
    assert.equal(json.id, first.id);
    assert.equal(json.status, 'active');
  });

  test('unknown tasks, invalid identifiers and missing arguments fail with a message', async () => {
    const [unknown, invalid, empty, missing, unknownOwner] = await Promise.all([
      runCli(['task', 'status', 'no-such-task'], env),
      runCli(['task', 'status', 'a/b/c'], env),
      runCli(['task', 'status', ''], env),
      runCli(['task', 'status'], env),
      runCli(['task', 'status', 'ghost/first'], env),
    ]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'taskd: resolve task "no-such-task": Resource not found or you do not have access to this resource\n');
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /invalid task identifier: "a\/b\/c"/);
    assert.match(empty.stderr, /invalid task identifier: ""/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing argument: expected <task>/);
    assert.match(unknownOwner.stderr, /Resource not found/);
  });

  test('--watch prints changes only, sees pending/initializing turn active, and ends once the task is idle', async () => {
    await cliOk(['task', 'create', '--template', 'slow', '--name', 'watched', 'Take your time'], env);
    // an hour between polls: every change below can only arrive through the task's watch stream
    const watch = startCli(['task', 'status', 'watched', '--watch', '--watch-interval', '60m'], env);
    await watch.waitForStdout(/\bactive\b/);
    const task = await apiTask('watched');
    await reportAppState(stack, task.workspace_agent_id, { app_slug: 'ai', state: 'idle', message: 'Waiting for input' });
    const result = await exitWithin(watch, 15_000, 'watch');
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0]!, /^STATE CHANGED\s+STATUS/);
    const statuses = lines.slice(1).map((l) => /\b(pending|initializing|active)\b/.exec(l)?.[1]);
    assert.match(statuses[0] ?? '', /^(pending|initializing)$/, result.stdout);
    assert.ok(statuses.includes('active'), result.stdout);
    assert.match(lines.at(-1)!, /active\s+true\s+idle\s+Waiting for input$/);
    // only changes are printed: no two consecutive rows agree on status, health, state and message
    const keys = lines.slice(1).map((l) => l.replace(/^\S+ ago\s+/, ''));
    for (let i = 1; i < keys.length; i++) assert.notEqual(keys[i], keys[i - 1], result.stdout);
  });

  test('--watch says so and ends when the task is deleted under it', async () => {
    await cliOk(['task', 'create', '--template', 'instant', '--name', 'vanishing', 'Going soon'], env);
    const watch = startCli(['task', 'status', 'vanishing', '--watch', '--watch-interval', '60m'], env);
    await watch.waitForStdout(/vanishing|\b(pending|initializing|active)\b/);
    const del = await stack.api('DELETE', '/api/v2/tasks/me/vanishing', { token });
    assert.equal(del.status, 202, JSON.stringify(del.body));
    const result = await exitWithin(watch, 15_000, 'watch');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Task \S+\/vanishing was deleted\./);
  });

  test('--watch falls back to polling against an API process that cannot stream', async () => {
    // a second API process on the same database, started without the change listener: its watch
    // endpoints answer 503, so the CLI must poll it instead
    const noStream = await startSecondApi(stack);
    try {
      const { url } = noStream;
      const refused = await fetch(`${url}/api/v2/tasks/watch`, { headers: { 'Coder-Session-Token': token } });
      assert.equal(refused.status, 503);
      await cliOk(['task', 'create', '--template', 'slow', '--name', 'polled', 'Poll me'], env);
      const watch = startCli(['task', 'status', 'polled', '--watch', '--watch-interval', '200ms'], { ...env, TASKD_URL: url, TASKD_SESSION_TOKEN: token });
      await watch.waitForStdout(/\bactive\b/);
      const task = await apiTask('polled');
      await reportAppState(stack, task.workspace_agent_id, { app_slug: 'ai', state: 'idle', message: 'Polled to the end' });
      const result = await exitWithin(watch, 15_000, 'watch');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout.trim().split('\n').at(-1)!, /active\s+true\s+idle\s+Polled to the end$/);
    } finally {
      await noStream.close();
    }
  });

  test('--help for the task group and every subcommand', async () => {
    // also through `node --import tsx cli/main.ts`, the way npm scripts run it
    const group = await cliOk(['tasks', '--help'], env, { viaTsxImport: true });
    assert.match(group.stdout, /create[\s\S]*list, ls[\s\S]*status, stat[\s\S]*logs[\s\S]*send[\s\S]*pause[\s\S]*resume[\s\S]*delete, rm/);
    const subs = ['create', 'list', 'status', 'logs', 'send', 'pause', 'resume', 'delete'];
    const pages = await Promise.all(subs.map((sub) => cliOk(['task', sub, '--help'], env)));
    subs.forEach((sub, i) => assert.match(pages[i]!.stdout, new RegExp(`^Usage: taskd task ${sub}`)));
  });
});
