// The send queue across a Temporal restart: inputs queued before Temporal stops, and one queued
// while it is down (the API stores it and answers 202; its wake-up signal is lost), are all
// delivered once, in order, after Temporal (its SQLite file, as `npm start` keeps it) and the
// worker are back. Its own Temporal dev server, so that stopping it disturbs no other test file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { stopAllWorkspaces } from '../../provisioner/process';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { startTemporalDevServer, type TemporalDevServer } from '../../devstack/temporal-server';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';

const ROOT = path.resolve(__dirname, '..', '..');
const example = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'builtin-agent-template.json'), 'utf8'));
const REPLY_END = 'What would you like next?';

let dir: string;
let temporal: TemporalDevServer;
let stack: TestStack;
let token: string;
let versionId: string;

async function startTemporal(port?: number): Promise<TemporalDevServer> {
  return startTemporalDevServer({
    cliPath: await ensureTemporalCli({ toolsDir: path.join(ROOT, '.tools'), log: stack?.log ?? quiet }),
    dbFile: path.join(dir, 'temporal.db'),
    port,
    uiPort: null,
    searchAttributes: SEARCH_ATTRIBUTES,
    logFile: path.join(dir, 'temporal.log'),
    log: stack?.log ?? quiet,
  });
}
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-queue-restart-'));
  temporal = await startTemporal();
  stack = await startTestStack({ env: { TEMPORAL_ADDRESS: temporal.address, TASKD_WORKSPACE_STOP_GRACE_MS: '4000' } });
  const owner = await setupOwner(stack);
  token = owner.token;
  const workspace = { ...example.workspace, env: { ...example.workspace.env, TASKD_AGENT_THINK_MS: '300', TASKD_AGENT_SETTLE_MS: '100' } };
  versionId = (await createAiTemplate(stack, token, owner.org.id, { name: 'builtin', workspace })).version.id;
});
after(async () => {
  if (stack) await stopAllWorkspaces({ dataDir: stack.config.dataDir, log: stack.log, stopGraceMs: 2_000 });
  await stack?.close();
  await temporal?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (p: string) => stack.api('GET', `/api/v2/tasks/me/${p}`, { token });
const queue = (id: string, input: string) => stack.api('POST', `/api/v2/tasks/me/${id}/send?queue=true`, { token, body: { input } });
type Log = { type: string; content: string };

test('inputs queued before and during a Temporal restart are each delivered once, in order, afterwards', async () => {
  const created = await stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: versionId, input: 'Begin' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  await waitFor(async () => (await get(id)).body.status === 'active', { what: 'task active', timeoutMs: 30_000 });

  const restartWorker = await stack.stopWorker();
  assert.equal((await queue(id, 'Before the restart')).status, 202);
  const port = Number(temporal.address.split(':').at(-1));
  await temporal.stop();
  // Temporal is down: the input is stored and answered; only its wake-up is lost
  const during = await queue(id, 'While Temporal is down');
  assert.equal(during.status, 202, JSON.stringify(during.body));
  temporal = await startTemporal(port);
  await restartWorker();

  const logs = await waitFor(
    async () => {
      const l = (await get(`${id}/logs`)).body.logs as Log[] | undefined;
      const at = l?.findIndex((e) => e.type === 'input' && e.content === 'While Temporal is down') ?? -1;
      return l && at >= 0 && l[at + 1]?.content.endsWith(REPLY_END) ? l : null;
    },
    { what: 'both inputs delivered and answered', timeoutMs: 90_000 },
  );
  const inputs = logs.filter((e) => e.type === 'input').map((e) => e.content);
  assert.deepEqual(inputs, ['Begin', 'Before the restart', 'While Temporal is down']);
  assert.deepEqual((await get(id)).body.queued_inputs, []);
});
