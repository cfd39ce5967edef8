// What reaches the log of a failed statement: its shape and PostgreSQL's reason, never the values the
// ORM inlined into it (prompts, emails, addresses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, redactSqlValues } from '../../lib/logger';

test("an error's SQL is logged with its string literals replaced, and bound parameters dropped", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-log-'));
  try {
    const file = path.join(dir, 'taskd.log');
    const log = createLogger('info', 'test', file);
    const err = Object.assign(
      new Error(`insert into "tasks" ("id", "prompt") values ('0b1c', 'my secret prompt, it''s private') - value too long for type character varying(255)`),
      { params: ['alice@example.com'] },
    );
    log.error({ err }, 'a statement failed');
    await new Promise((resolve) => log.flush(() => resolve(undefined)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = fs.readFileSync(file, 'utf8');
    assert.ok(!line.includes('secret prompt'), line);
    assert.ok(!line.includes('alice@example.com'), line);
    assert.match(line, /insert into \\"tasks\\" \(\\"id\\", \\"prompt\\"\) values \('…', '…'\) - value too long for type character varying\(255\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('text that is not SQL is left alone', () => {
  assert.equal(redactSqlValues("the workspace 'w1' stopped"), "the workspace 'w1' stopped");
  assert.equal(redactSqlValues("select 1 where name = 'x'"), "select 1 where name = '…'");
});
