import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { cliEnv, cliOk, loginFirstUser, runCli, storedToken } from './cli-helpers';

// `taskd templates create | list | versions create` with template files in JSON and YAML.

let stack: TestStack;
let env: Record<string, string>;
let dir: string;

before(async () => {
  stack = await startTestStack({ worker: false });
  env = cliEnv(stack.baseUrl);
  await loginFirstUser(env);
  dir = fs.mkdtempSync(path.join(env.HOME!, 'templates-'));
});
after(async () => {
  await stack?.close();
});

const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};

const YAML_TEMPLATE = `
name: yaml-agent
display_name: YAML Agent
workspace:
  provisioner: echo
  apps:
    - slug: ai
      display_name: AI
  ai_task:
    app: ai
presets:
  - name: fast
    parameters:
      speed: fast
`;

describe('taskd templates', () => {
  test('create from YAML, then list shows it as an AI task template', async () => {
    const file = write('agent.yaml', YAML_TEMPLATE);
    const res = await cliOk(['templates', 'create', file], env);
    assert.match(res.stdout, /The template yaml-agent has been created at /);

    const table = await cliOk(['templates', 'list'], env);
    const [header, row] = table.stdout.trim().split('\n');
    assert.match(header!, /^NAME\s+DISPLAY NAME\s+PROVISIONER\s+AI TASK\s+ACTIVE VERSION ID$/);
    assert.match(row!, /^yaml-agent\s+YAML Agent\s+echo\s+yes\s+[0-9a-f-]{36}$/);

    const listed = JSON.parse((await cliOk(['templates', 'list', '-o', 'json'], env)).stdout);
    const t = listed.find((x: { name: string }) => x.name === 'yaml-agent');
    const version = await stack.api('GET', `/api/v2/templateversions/${t.active_version_id}`, { token: storedToken(env) });
    assert.equal(version.body.has_ai_task, true);
    assert.deepEqual(version.body.presets.map((p: { Name: string }) => p.Name), ['fast']);
  });

  test('create from a JSON workspace definition takes the name from --name (or the file name)', async () => {
    const def = { provisioner: 'echo', apps: [{ slug: 'web' }] };
    const id = (await cliOk(['templates', 'create', write('plain.json', JSON.stringify(def)), '--name', 'plain-web', '-q'], env)).stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    await cliOk(['templates', 'create', write('from-file-name.json', JSON.stringify(def))], env);
    const names = JSON.parse((await cliOk(['templates', 'ls', '-o', 'json'], env)).stdout).map((t: { name: string }) => t.name);
    assert.ok(names.includes('plain-web') && names.includes('from-file-name'), names.join(','));
    const table = await cliOk(['templates', 'list', '-c', 'name,ai task'], env);
    assert.match(table.stdout, /^plain-web\s+no$/m);
  });

  test('an invalid definition prints the server message and each validation', async () => {
    const bad = write('bad.yaml', 'name: broken\nworkspace:\n  provisioner: teleport\n  apps: []\n');
    const res = await runCli(['templates', 'create', bad], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^taskd: create template: \S/);
    assert.match(res.stderr, /\n {2}- workspace\.provisioner: /);
  });

  test('a duplicate name is a conflict with the server message', async () => {
    const res = await runCli(['templates', 'create', write('dup.yaml', YAML_TEMPLATE)], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /create template: .*already/i);
  });

  test('unreadable or malformed files are reported without calling the server', async () => {
    const [missing, malformed, neither] = await Promise.all([
      runCli(['templates', 'create', path.join(dir, 'nope.yaml')], env),
      runCli(['templates', 'create', write('x.json', '{"name": ')], env),
      runCli(['templates', 'create', write('y.yaml', 'name: y\n')], env),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.yaml: ENOENT/);
    assert.match(malformed.stderr, /x\.json is not valid JSON/);
    assert.match(neither.stderr, /neither "workspace" .* nor "provisioner"/);
  });

  test('versions create adds an active version; --no-activate keeps the old one', async () => {
    const before = JSON.parse((await cliOk(['templates', 'list', '-o', 'json'], env)).stdout).find(
      (t: { name: string }) => t.name === 'yaml-agent',
    );
    const v2 = write('v2.yaml', YAML_TEMPLATE.replace('display_name: AI', 'display_name: AI v2'));
    const res = await cliOk(['templates', 'versions', 'create', 'yaml-agent', v2, '--name', 'v2'], env);
    assert.match(res.stdout, /Version v2 of template yaml-agent has been created and is now active\./);
    const after1 = JSON.parse((await cliOk(['templates', 'list', '-o', 'json'], env)).stdout).find(
      (t: { name: string }) => t.name === 'yaml-agent',
    );
    assert.notEqual(after1.active_version_id, before.active_version_id);

    const v3 = JSON.parse((await cliOk(['templates', 'versions', 'create', before.id, v2, '--name', 'v3', '--no-activate', '-o', 'json'], env)).stdout);
    assert.equal(v3.name, 'v3');
    const after2 = JSON.parse((await cliOk(['templates', 'list', '-o', 'json'], env)).stdout).find(
      (t: { name: string }) => t.name === 'yaml-agent',
    );
    assert.equal(after2.active_version_id, after1.active_version_id);

    const unknown = await runCli(['templates', 'versions', 'create', 'no-such-template', v2], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /template "no-such-template": Resource not found or you do not have access to this resource/);
  });

  test('--help for every templates command', async () => {
    const pages = [['templates'], ['templates', 'create', '--help'], ['templates', 'list', '--help'], ['templates', 'versions', 'create', '--help']];
    for (const res of await Promise.all(pages.map((args) => cliOk(args, env)))) assert.match(res.stdout, /^Usage: taskd templates/);
  });
});
