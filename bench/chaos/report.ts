// The summary table a chaos run prints: the checks, what the API answered while each dependency
// was down, and the timeline of faults.
import type { ChaosReport } from './scenario';

export function formatReport(r: ChaosReport): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  const table = (header: string[], rows: (string | number)[][]) => [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
  const byStatus: Record<string, number> = {};
  for (const a of r.answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
  const lifecycle = r.runs.filter((x) => x.done && x.finishedAt).map((x) => x.finishedAt! - x.startedAt).sort((a, b) => a - b);
  const pct = (p: number) => (lifecycle.length ? `${(lifecycle[Math.min(lifecycle.length - 1, Math.floor(p * lifecycle.length))]! / 1000).toFixed(1)} s` : 'n/a');
  return [
    `chaos run: ${r.options.tasks} tasks, seed ${r.options.seed}, ${(r.durationMs / 1000).toFixed(1)} s`,
    '',
    table(['check', 'result', 'detail'], r.checks.map((c) => [c.name, c.ok ? 'PASS' : 'FAIL', c.detail.replace(/\|/g, '/').replace(/\n/g, ' ')])),
    '',
    table(['dependency down', 'for', 'answers while down (status × count)'], r.outages.map((o) => [o.dependency, `${o.up - o.down} ms`, Object.entries(o.statuses).map(([s, n]) => `${s}×${n}`).join(' ')])),
    '',
    `all answers: ${Object.entries(byStatus).map(([s, n]) => `${s}×${n}`).join(' ')}; lifecycle p50 ${pct(0.5)}, p99 ${pct(0.99)}`,
    '',
    'timeline:',
    ...r.events.map((e) => `  ${(e.at / 1000).toFixed(1).padStart(6)} s  ${e.what}`),
  ].join('\n');
}
