import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, machineMarkdown, type MachineInfo } from './machine';
import { loadAverage } from './procfs';
import { ROOT } from './stack';

// The end of every benchmark command: the raw figures as JSON in bench/results/<name>.json (the
// latest run; bench/RESULTS.md quotes them), and a Markdown summary on stdout.

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Where a run's raw figures go: bench/results/<name>[-variant].json, or BENCH_RESULTS_FILE when set —
 * a script comparing commits names each run's file instead of copying the committed one out of a
 * checkout (and restoring it) between runs.
 */
export function resultsFile(name: string, suffix = '', env: NodeJS.ProcessEnv = process.env): string {
  if (env.BENCH_RESULTS_FILE) return path.resolve(env.BENCH_RESULTS_FILE);
  // a run on the in-memory Temporal store is another experiment: it must not replace the default's figures
  const variant = env.BENCH_TEMPORAL_DB === 'memory' ? '-temporal-memory' : '';
  return path.join(ROOT, 'bench', 'results', `${name}${variant}${suffix}.json`);
}

export function writeResults(name: string, machine: MachineInfo, command: string, figures: unknown, summary: string, suffix = ''): void {
  const file = resultsFile(name, suffix);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const loadAtEnd = loadAverage();
  const env = ['BENCH_TEMPORAL_DB', 'BENCH_CPU_PROF'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]} `).join('');
  const fullCommand = `${env}${command}`;
  fs.writeFileSync(file, `${JSON.stringify({ name, command: fullCommand, machine, loadAtEnd, figures }, null, 2)}\n`);
  process.stdout.write(
    `\n## ${name}\n\n${machineMarkdown(machine)}\n- load average at end: ${loadAtEnd.map((l) => l.toFixed(2)).join(' / ')}\n` +
      `- command: \`${fullCommand}\`\n\n${summary}\n\nraw figures: ${file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file}\n`,
  );
}

/** Options of a benchmark command, `--name value`: integers where the default is a number. */
export function cliOptions<T extends Record<string, number | string>>(defaults: T): T {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' as const }])),
    strict: true,
  });
  const out: Record<string, number | string> = { ...defaults };
  for (const k of Object.keys(defaults)) {
    const raw = values[k];
    if (raw === undefined) continue;
    if (typeof defaults[k] === 'string') {
      out[k] = raw as string;
      continue;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} must be a non-negative integer, got ${String(raw)}`);
    out[k] = n;
  }
  return out as T;
}

/** Runs a benchmark command: machine info first (the load average before we add to it), then the run. */
/** `suffix`: a variant of the run whose figures must not replace the default's (`-cluster`: bench/results/<name>-cluster.json). */
export function runCommand(name: string, run: (machine: MachineInfo) => Promise<{ figures: unknown; summary: string; suffix?: string }>): void {
  const machine = machineInfo();
  const command = `node --import tsx bench/${name}.ts ${process.argv.slice(2).join(' ')}`.trim();
  run(machine)
    .then(({ figures, summary, suffix }) => {
      writeResults(name, machine, command, figures, summary, suffix);
      process.exit(0);
    })
    .catch((err) => {
      process.stderr.write(`${name} failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    });
}
