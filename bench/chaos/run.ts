// `node --import tsx bench/chaos/run.ts [--tasks 50] [--seed N]`: the full chaos run of issue 6.
// Prints the summary table; exits 1 when any check fails (logs are then kept and named).
import { parseArgs } from 'node:util';
import { formatReport } from './report';
import { runChaos } from './scenario';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '50' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    spread: { type: 'string', default: '40000' },
    window: { type: 'string', default: '60000' },
    down: { type: 'string', default: '3000' },
    settle: { type: 'string', default: '120000' },
  },
});

const log = {
  info: (msg: string) => process.stderr.write(`${msg}\n`),
  warn: (msg: string) => process.stderr.write(`warn: ${msg}\n`),
  error: (msg: string) => process.stderr.write(`error: ${msg}\n`),
};

runChaos({
  tasks: Number(values.tasks),
  seed: Number(values.seed),
  spreadMs: Number(values.spread),
  faultWindowMs: Number(values.window),
  downMs: Number(values.down),
  settleMs: Number(values.settle),
  log,
}).then(
  (report) => {
    process.stdout.write(`${formatReport(report)}\n`);
    process.exit(report.checks.every((c) => c.ok) ? 0 : 1);
  },
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
