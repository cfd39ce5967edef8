// The agent-token key lives outside the database: TASKD_SECRET_KEY, else a 0600 file of the data
// folder; a key an earlier taskd kept in site_config is moved there, so running agents keep their
// tokens, and afterwards nothing in the database can mint a token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { sql } from '../helpers/task-rows';
import { fork } from '../../db/sql';
import { agentTokenKeyFile, deriveAgentToken, useAgentTokenKey } from '../../lib/agent-token';

let stack: TestStack;
let dataDir: string;
before(async () => {
  stack = await startTestStack({ worker: false });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-key-'));
});
after(async () => {
  await stack?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test("an earlier deployment's key moves from the database to a 0600 file, and tokens stay the same", async () => {
  const agentId = randomUUID();
  // before: the key is created in site_config (what taskd did until now)
  const before = await deriveAgentToken(fork(stack.orm), agentId);
  assert.equal((await sql(stack, "select 1 from site_config where key = 'agent_token_key'")).length, 1);

  useAgentTokenKey({ dataDir });
  assert.equal(await deriveAgentToken(fork(stack.orm), agentId), before, 'running agents keep their tokens');
  const file = agentTokenKeyFile(dataDir);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.equal((await sql(stack, "select 1 from site_config where key = 'agent_token_key'")).length, 0, 'nothing left in the database to mint tokens with');
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
  assert.equal(createHmac('sha256', key).update(agentId).digest('base64url'), before);

  // another process of the same deployment reads the same file
  useAgentTokenKey({ dataDir });
  assert.equal(await deriveAgentToken(fork(stack.orm), agentId), before);
});

test('TASKD_SECRET_KEY, shared by several hosts, is the key when set', async () => {
  const secret = 'ab'.repeat(32);
  const agentId = randomUUID();
  useAgentTokenKey({ secret, dataDir });
  assert.equal(await deriveAgentToken(fork(stack.orm), agentId), createHmac('sha256', Buffer.from(secret, 'hex')).update(agentId).digest('base64url'));
  useAgentTokenKey({ secret: 'not-hex', dataDir });
  await assert.rejects(deriveAgentToken(fork(stack.orm), agentId), /TASKD_SECRET_KEY must be 64 hexadecimal characters/);
});
