// Issue 13 item 5: an outside judge of the OpenAPI document. schemathesis (pinned, scripts/schemathesis.sh)
// runs every check of its own against the served /api/v2/openapi.json of the real stack, seeded and
// with few examples per operation, so a run takes about a minute and reproduces itself. The few Coder
// rules a schema cannot state are in scripts/schemathesis.toml. Any finding fails the test, listed.
//
//   SCHEMATHESIS_SEED=<n>          another seed (the default is fixed)
//   SCHEMATHESIS_MAX_EXAMPLES=<n>  examples per operation and phase (default 3; by hand 30 or more)
//   SCHEMATHESIS_KEEP_DIR=<dir>    keep schemathesis' whole output (output.txt) and its reports there
//
// The venv is installed once per machine into ~/.cache/taskd (from PyPI, every package pinned in
// scripts/schemathesis-requirements.txt); without python3's venv module the test skips, saying so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import type { EntityManager } from '@mikro-orm/postgresql';
import { deriveAgentToken } from '../../lib/agent-token';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/schemathesis.sh');
const SEED = process.env.SCHEMATHESIS_SEED ?? '20261203';
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '3';
const RUN_TIMEOUT_MS = 10 * 60_000;
/** where to keep the run's output and reports (JUnit, NDJSON); by default they go with the test */
const KEEP_DIR = process.env.SCHEMATHESIS_KEEP_DIR ? path.resolve(process.env.SCHEMATHESIS_KEEP_DIR) : undefined;

/** Why schemathesis cannot be installed here, or null. */
function venvMissing(): string | null {
  const probe = spawnSync('python3', ['-c', 'import venv, ensurepip'], { encoding: 'utf8' });
  if (probe.error) return 'python3 is not installed';
  if (probe.status !== 0) return "python3 has no venv/ensurepip module (Debian: apt-get install python3-venv)";
  return null;
}
const missing = venvMissing();

interface Run {
  code: number | null;
  output: string;
}

/** Runs the script in its own process group (killed whole on timeout), output kept together. */
function runScript(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => {
      output += `\n(killed after ${RUN_TIMEOUT_MS / 1000} s)\n`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The text between two of schemathesis' section rules (`=== FAILURES ===`), or ''. */
function section(output: string, name: string): string {
  const start = output.search(new RegExp(`^=+ ${name} =+$`, 'm'));
  if (start < 0) return '';
  const rest = output.slice(start);
  const body = rest.indexOf('\n') + 1;
  const next = rest.slice(body).search(/^=+ [A-Z]+ =+$/m);
  return next < 0 ? rest : rest.slice(0, body + next);
}

let stack: TestStack;
let work: string;
let token: string;
let extraConfig: string;

before(async () => {
  if (missing) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'schemathesis-'));
  const [install] = await Promise.all([
    runScript(['--install'], {}, work),
    (async () => {
      stack = await startTestStack();
      const owner = await setupOwner(stack);
      token = owner.token;
      // records for the operations on one thing to find, so that they answer more than 404
      const { template, version } = await createAiTemplate(stack, token, owner.org.id, { name: 'fuzz-template' });
      const createTask = async (name: string) => {
        const created = await stack.api('POST', '/api/v2/tasks/me', {
          token,
          body: { template_version_id: version.id, input: 'a prompt for the fuzzer', name },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const task = created.body as { id: string; workspace_id: string };
        await waitFor(async () => (await stack.api('GET', `/api/v2/tasks/me/${task.id}`, { token })).body.status === 'active', {
          what: `the fuzzer's task ${name} active`,
          timeoutMs: 30_000,
        });
        return task;
      };
      // the second task takes what ends or stops a task, so that the first stays active, its agent
      // token good, for the whole run
      const [task, spare] = await Promise.all([createTask('fuzz-task'), createTask('fuzz-spare')]);
      const workspace = (await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}`, { token })).body;
      const build = workspace.latest_build;
      const agent = build.resources.flatMap((r: { agents?: { id: string }[] }) => r.agents ?? [])[0];
      const agentToken = await deriveAgentToken(stack.orm.em.fork() as EntityManager, agent.id);
      const values: Record<string, string> = {
        'path.user': owner.user.username,
        'path.organization': owner.org.name,
        'path.template': template.id,
        'path.templatename': template.name,
        'path.templateversion': version.id,
        'path.templateversionname': version.name,
        'path.task': task.id,
        'path.workspace': workspace.id,
        'path.workspacename': workspace.name,
        'path.workspacebuild': build.id,
        'path.workspaceagent': agent.id,
      };
      const q = JSON.stringify;
      const onSpare = ['DELETE /tasks/{user}/{task}', 'POST /tasks/{user}/{task}/pause', 'POST /tasks/{user}/{task}/resume', 'PATCH /tasks/{user}/{task}/input'];
      extraConfig = [
        '[parameters]',
        ...Object.entries(values).map(([k, v]) => `${q(k)} = ${q(v)}`),
        ...onSpare.map((name) => `[[operations]]\ninclude-name = ${q(name)}\nparameters = { "path.task" = ${q(spare.id)} }`),
        `[[operations]]\ninclude-name = "POST /workspaces/{workspace}/builds"\nparameters = { "path.workspace" = ${q(spare.workspace_id)} }`,
        // the agent's own routes take its token instead of the user's
        `[[operations]]\ninclude-path-regex = "^/workspaceagents/me/"\nheaders = { "Coder-Session-Token" = ${q(agentToken)} }`,
      ].join('\n');
    })(),
  ]);
  assert.equal(install.code, 0, `installing schemathesis failed:\n${install.output}`);
});

after(async () => {
  await stack?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('schemathesis finds nothing wrong with the OpenAPI document', { skip: missing ? `skipped: ${missing}` : false }, async (t) => {
  const started = Date.now();
  const run = await runScript(
    [stack.baseUrl],
    {
      TASKD_SESSION_TOKEN: token,
      SCHEMATHESIS_SEED: SEED,
      SCHEMATHESIS_MAX_EXAMPLES: MAX_EXAMPLES,
      SCHEMATHESIS_REPORT_DIR: KEEP_DIR ?? path.join(work, 'report'),
      SCHEMATHESIS_EXTRA_CONFIG: extraConfig,
    },
    work,
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (KEEP_DIR) {
    fs.mkdirSync(KEEP_DIR, { recursive: true });
    fs.writeFileSync(path.join(KEEP_DIR, 'output.txt'), run.output);
  }
  const summary = section(run.output, 'SUMMARY');
  t.diagnostic(`schemathesis seed ${SEED}, ${MAX_EXAMPLES} examples, ${seconds} s: ${/Test cases:\s*\n\s*(.*)/.exec(summary)?.[1] ?? '?'}`);
  if (run.code !== 0) {
    const failures = section(run.output, 'FAILURES');
    assert.fail(
      `schemathesis exited ${run.code} (seed ${SEED}; replay with SCHEMATHESIS_SEED=${SEED} scripts/schemathesis.sh against npm start):\n` +
        (failures ? `${failures}\n${summary}` : run.output.slice(-6000)),
    );
  }
});
