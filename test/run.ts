// The test command (npm test): checks the machine (test/preflight.ts), starts one real PostgreSQL
// and one real Temporal dev server for the whole run, bundles the workflow code once, then runs
// node's test runner over the test files. Each file gets its own database and task queue from
// test/helpers/stack.ts. Everything the run starts sees a private TMPDIR, so what the suite leaves
// behind is found and fails the run, whatever else writes to /tmp meanwhile.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { preflight } from './preflight';
import { leftovers, privateTmpDir } from './private-tmp';

const ROOT = path.resolve(__dirname, '..');

function findTestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'helpers' || e.name === 'fixtures' ? [] : findTestFiles(full);
      return e.name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

function countTap(file: string): { passed: number; failed: number; skipped: number } {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const read = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { passed: read('pass'), failed: read('fail') + read('cancelled'), skipped: read('skipped') + read('todo') };
}

async function main() {
  const args = process.argv.slice(2);
  const files = args.length > 0 ? args.map((a) => path.resolve(a)) : findTestFiles(path.join(ROOT, 'test'));
  const missing = await preflight(files, ROOT, (line) => process.stdout.write(`${line}\n`));
  if (missing.length > 0) {
    process.stdout.write(`${missing.join('\n')}\n\n0 passed, 1 failed, 0 skipped\n`);
    process.exit(1);
  }
  // loaded only now, so that a machine missing something hears it within a second
  const [{ bundleWorkflows }, { createLogger }, { startPostgres }, { ensureTemporalCli }, { startTemporalDevServer }, { SEARCH_ATTRIBUTES }] =
    await Promise.all([
      import('../worker/taskd-worker'),
      import('../lib/logger'),
      import('../devstack/postgres'),
      import('../devstack/temporal-cli'),
      import('../devstack/temporal-server'),
      import('../workflows/contracts'),
    ]);
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test-run');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-test-'));
  // the private PostgreSQL runs as the postgres user when we are root: it must be able to traverse
  fs.chmodSync(work, 0o711);
  // set before anything starts, so this process and all it spawns use it
  process.env.TMPDIR = privateTmpDir(work);
  const stops: (() => Promise<void>)[] = [];
  let exitCode = 1;
  let summary = '0 passed, 1 failed';
  try {
    process.stdout.write('Starting PostgreSQL and Temporal for the test run...\n');
    const [pg, temporal, bundle] = await Promise.all([
      startPostgres({ dataDir: path.join(work, 'pg'), fsync: false, logFile: path.join(work, 'postgres.log'), log }),
      ensureTemporalCli({ toolsDir: path.join(ROOT, '.tools'), log, say: (line) => process.stdout.write(`${line}\n`) }).then((cliPath) =>
        startTemporalDevServer({
          cliPath,
          uiPort: null,
          searchAttributes: SEARCH_ATTRIBUTES,
          logFile: path.join(work, 'temporal.log'),
          log,
        }),
      ),
      bundleWorkflows(),
    ]);
    stops.push(() => pg.stop(), () => temporal.stop());
    const bundlePath = path.join(work, 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, bundle.code);
    const tapFile = path.join(work, 'results.tap');
    const child = spawn(
      process.execPath,
      [
        '--import', 'tsx',
        '--test',
        `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
        // a hung test fails after 10 minutes instead of holding the run (and CI) forever
        '--test-timeout=600000',
        '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
        ...files,
      ],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env: {
          // users are created by the hundred: hash their passwords at 2^15, not the product's 2^17
          TASKD_TEST_SCRYPT_LOG2N: '15',
          ...process.env,
          TASKD_TEST_PG_URL: pg.url,
          TASKD_TEST_TEMPORAL_ADDRESS: temporal.address,
          TASKD_TEST_WORKFLOW_BUNDLE: bundlePath,
          TASKD_TEST_WORK_DIR: work,
        },
      },
    );
    const stopChild = () => child.kill('SIGINT');
    process.once('SIGINT', stopChild);
    process.once('SIGTERM', stopChild);
    exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    const counts = countTap(tapFile);
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
    // a file whose tests all passed can still leave a mess behind: that counts as one failure more
    const left = leftovers(process.env.TMPDIR);
    if (left.length > 0) {
      process.stdout.write(`\n✖ the suite left ${left.length} item(s) in its TMPDIR (each test must remove what it creates):\n`);
      for (const item of left) process.stdout.write(`  ${item}\n`);
      counts.failed += 1;
    }
    summary = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
    if (exitCode === 0 && counts.failed > 0) exitCode = 1;
  } catch (err) {
    process.stderr.write(`test run could not start: ${(err as Error).stack ?? err}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    if (process.env.TASKD_TEST_KEEP !== '1') fs.rmSync(work, { recursive: true, force: true });
    else process.stdout.write(`kept the run's folder: ${work}\n`);
  }
  // the last line is what CI reads
  process.stdout.write(`\n${summary}\n`);
  process.exit(exitCode);
}

main();
