// Scale of reads: latency of GET /api/v2/tasks?q=owner:me with 100, 1,000 and 10,000 tasks — the
// first page (limit=50), a page in the middle by cursor (after_id) and by offset, and, for
// reference, the unpaginated Coder list that returns every task. One request at a time on a
// kept-alive connection, so the figure is the cost of one request, not of queueing.
//
//   node --import tsx bench/list-scale.ts [--sizes 100,1000,10000] [--requests 100] [--rounds 3] [--full 5]
import { sequentialLatencies } from './lib/load';
import { cliOptions, markdownTable, runCommand } from './lib/report';
import { api, bulkInsertTasks, createMember, ownerAndTemplate } from './lib/seed';
import { startBenchStack, type BenchStack } from './lib/stack';
import { fmt, median, percentile } from './lib/stats';

export interface ListScaleOptions {
  sizes: number[];
  /** requests per round for the paged lists */
  requests: number;
  rounds: number;
  /** requests per round for the unpaginated list (it grows with the size) */
  full: number;
  stack?: BenchStack;
}

const KINDS = ['first page', 'middle page (after_id)', 'middle page (offset)', 'all tasks (no limit)'] as const;
type Kind = (typeof KINDS)[number];

export interface SizeResult {
  tasks: number;
  /** per kind: median over rounds of the round's p50 and p99, ms */
  latency: Record<Kind, { p50: number; p99: number; rounds: { p50: number; p99: number }[] }>;
}

export interface ListScaleResult {
  sizes: SizeResult[];
  /** first-page p50 at the largest size / at the smallest (target <= 2) */
  firstPageGrowth: number;
  cursorPageGrowth: number;
}

export async function runListScale(o: ListScaleOptions): Promise<ListScaleResult> {
  const stack = o.stack ?? (await startBenchStack({ worker: false }));
  try {
    const { template } = await ownerAndTemplate(stack);
    const user = await createMember(stack, `lister-${Date.now().toString(36)}`);
    const headers = { 'Coder-Session-Token': user.token };
    const ids: string[] = [];
    const sizes: SizeResult[] = [];
    for (const size of [...o.sizes].sort((a, b) => a - b)) {
      ids.push(...(await bulkInsertTasks(stack.databaseUrl, { owner: user, template, count: size - ids.length, prefix: `scale${size}` })));
      // newest first: the middle of the list, as a cursor and as an offset
      const middle = Math.floor(size / 2);
      const cursor = [...ids].reverse()[middle - 1]!;
      const base = '/api/v2/tasks?q=owner%3Ame';
      const paths: Record<Kind, string> = {
        'first page': `${base}&limit=50`,
        'middle page (after_id)': `${base}&limit=50&after_id=${cursor}`,
        'middle page (offset)': `${base}&limit=50&offset=${middle}`,
        'all tasks (no limit)': base,
      };
      const check = await api(stack.baseUrl, 'GET', paths['middle page (after_id)'], { token: user.token });
      if (check.status !== 200 || check.body.tasks.length !== Math.min(50, size - middle) || check.body.count !== size) {
        throw new Error(`cursor page at ${size}: ${check.status}, ${check.body.tasks?.length} tasks, count ${check.body.count}`);
      }
      // one unmeasured pass warms the plan cache and the pool
      for (const kind of KINDS) await sequentialLatencies(stack.baseUrl, [paths[kind]], 2, headers);
      const latency = {} as SizeResult['latency'];
      for (const kind of KINDS) latency[kind] = { p50: NaN, p99: NaN, rounds: [] };
      for (let r = 0; r < o.rounds; r++) {
        for (const kind of KINDS) {
          const n = kind === 'all tasks (no limit)' ? o.full : o.requests;
          const samples = await sequentialLatencies(stack.baseUrl, [paths[kind]], n, headers);
          latency[kind].rounds.push({ p50: percentile(samples, 50), p99: percentile(samples, 99) });
        }
      }
      for (const kind of KINDS) {
        latency[kind].p50 = median(latency[kind].rounds.map((x) => x.p50));
        latency[kind].p99 = median(latency[kind].rounds.map((x) => x.p99));
      }
      sizes.push({ tasks: size, latency });
    }
    const growth = (kind: Kind) => sizes[sizes.length - 1]!.latency[kind].p50 / sizes[0]!.latency[kind].p50;
    return { sizes, firstPageGrowth: growth('first page'), cursorPageGrowth: growth('middle page (after_id)') };
  } finally {
    if (!o.stack) await stack.stop();
  }
}

export function listScaleSummary(r: ListScaleResult): string {
  return [
    'Latency of one request (ms, p50 / p99, median of rounds):',
    '',
    markdownTable(
      ['tasks', ...KINDS],
      r.sizes.map((s) => [s.tasks, ...KINDS.map((k) => `${fmt(s.latency[k].p50)} / ${fmt(s.latency[k].p99)}`)]),
    ),
    '',
    `first page p50 growth ${r.sizes[0]?.tasks} → ${r.sizes[r.sizes.length - 1]?.tasks} tasks: ${fmt(r.firstPageGrowth, 2)}× ` +
      `(target ≤ 2×); cursor page: ${fmt(r.cursorPageGrowth, 2)}×`,
  ].join('\n');
}

if (require.main === module) {
  runCommand('list-scale', async () => {
    const a = cliOptions({ sizes: '100,1000,10000', requests: 100, rounds: 3, full: 5 });
    const sizes = a.sizes.split(',').map(Number);
    if (sizes.some((s) => !Number.isInteger(s) || s < 2)) throw new Error('--sizes takes integers >= 2, e.g. 100,1000,10000');
    const r = await runListScale({ sizes, requests: a.requests, rounds: a.rounds, full: a.full });
    return { figures: r, summary: listScaleSummary(r) };
  });
}
