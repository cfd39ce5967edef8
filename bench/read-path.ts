// Read path: taskd's GET /api/v2/tasks/me/{id} and GET /api/v2/tasks?q=owner:me against a bare
// Hono + pg server running the same query on the same database, in the same run, under autocannon
// at 32 connections. The owner:me list returns every task (Coder's behaviour), so the baseline
// returns the same rows; the paginated page (limit=50) is measured as well.
//
//   node --import tsx bench/read-path.ts [--tasks 1000] [--duration 5] [--rounds 3] [--warmup 2] [--only get,page,all]
import { freePort } from '../devstack/free-port';
import { runLoad, type LoadFigures } from './lib/load';
import { cliOptions, markdownTable, runCommand } from './lib/report';
import { bulkInsertTasks, createMember, ownerAndTemplate, api } from './lib/seed';
import { startBenchStack, waitForHttpOk, type BenchStack } from './lib/stack';
import { fmt, medianOfRounds } from './lib/stats';
import { UsageMeter } from './lib/usage';

export interface ReadPathOptions {
  tasks: number;
  durationS: number;
  rounds: number;
  warmupS: number;
  connections?: number;
  /** a subset of the scenarios (default all) */
  only?: Scenario[];
  /** an already running stack (the smoke test); otherwise a private one is started and stopped */
  stack?: BenchStack;
}

type Side = 'taskd' | 'baseline';
const SCENARIOS = ['get by id', 'list page (limit=50)', 'list all (owner:me)'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** short names for --only (profiling one scenario) */
const SHORT: Record<string, Scenario> = { get: 'get by id', page: 'list page (limit=50)', all: 'list all (owner:me)' };

interface RunFigures extends LoadFigures {
  /** CPU seconds of the server process during the run */
  serverCpuS: number | null;
  /** the server's CPU per answered request, ms: less sensitive to a busy machine than req/s */
  cpuMsPerRequest: number | null;
  /** cores PostgreSQL and this process (autocannon) used meanwhile: with the server, where the two cores went */
  postgresCores: number | null;
  loadGeneratorCores: number | null;
}

export interface ReadPathResult {
  tasks: number;
  connections: number;
  durationS: number;
  rounds: Record<Scenario, Record<Side, RunFigures[]>>;
  median: Record<Scenario, Record<Side, { [K in keyof RunFigures]: number }>>;
  /** taskd req/s as a fraction of the baseline's (target >= 0.5) */
  throughputRatio: Record<Scenario, number>;
}

export async function runReadPath(o: ReadPathOptions): Promise<ReadPathResult> {
  const stack = o.stack ?? (await startBenchStack({ worker: false }));
  try {
    const { template } = await ownerAndTemplate(stack);
    const user = await createMember(stack, `reader-${Date.now().toString(36)}`);
    const ids = await bulkInsertTasks(stack.databaseUrl, { owner: user, template, count: o.tasks, prefix: 'read' });

    const port = await freePort();
    const baselineUrl = `http://127.0.0.1:${port}`;
    await stack.spawnNode(
      'baseline-read',
      'bench/baseline/bare-read-server.ts',
      { DATABASE_URL: stack.databaseUrl, PORT: String(port), POOL_MAX: '10' },
      (signal) => waitForHttpOk(`${baselineUrl}/healthz`, signal),
    );
    await checkSameRows(stack, baselineUrl, user, ids);

    const targets: Record<Scenario, Record<Side, { baseUrl: string; paths: string[]; headers?: Record<string, string> }>> = {
      'get by id': {
        taskd: { baseUrl: stack.baseUrl, paths: ids.map((id) => `/api/v2/tasks/me/${id}`), headers: { 'Coder-Session-Token': user.token } },
        baseline: { baseUrl: baselineUrl, paths: ids.map((id) => `/tasks/${id}`) },
      },
      'list page (limit=50)': {
        taskd: { baseUrl: stack.baseUrl, paths: ['/api/v2/tasks?q=owner%3Ame&limit=50'], headers: { 'Coder-Session-Token': user.token } },
        baseline: { baseUrl: baselineUrl, paths: [`/tasks?owner=${user.userId}&limit=50`] },
      },
      'list all (owner:me)': {
        taskd: { baseUrl: stack.baseUrl, paths: ['/api/v2/tasks?q=owner%3Ame'], headers: { 'Coder-Session-Token': user.token } },
        baseline: { baseUrl: baselineUrl, paths: [`/tasks?owner=${user.userId}`] },
      },
    };
    const serverOf = (side: Side) => stack.processes.find((p) => p.name === (side === 'taskd' ? 'api' : 'baseline-read'))!;
    const connections = o.connections ?? 32;

    const measure = async (scenario: Scenario, side: Side, durationS: number): Promise<RunFigures> => {
      const meter = new UsageMeter(stack.processes.filter((p) => p === serverOf(side) || p.name === 'postgres'));
      const figures = await runLoad({ ...targets[scenario][side], connections, durationS });
      const usage = meter.stop();
      if (figures.failures > 0) throw new Error(`${side} ${scenario}: ${figures.failures} failed requests`);
      const cpu = usage.cpuS[serverOf(side).name] ?? null;
      const cores = (name: string) => (usage.cpuS[name] === null || usage.cpuS[name] === undefined ? null : usage.cpuS[name]! / usage.wallS);
      return {
        ...figures,
        serverCpuS: cpu,
        cpuMsPerRequest: cpu === null ? null : (cpu * 1000) / figures.requests,
        postgresCores: cores('postgres'),
        loadGeneratorCores: cores('bench'),
      };
    };

    const scenarios = o.only ?? [...SCENARIOS];
    const rounds = Object.fromEntries(scenarios.map((s) => [s, { taskd: [], baseline: [] }])) as unknown as ReadPathResult['rounds'];
    for (const scenario of scenarios) for (const side of ['taskd', 'baseline'] as Side[]) if (o.warmupS > 0) await measure(scenario, side, o.warmupS);
    for (let r = 0; r < o.rounds; r++) {
      // alternating who goes first spreads a slow moment of the machine over both sides
      const order: Side[] = r % 2 === 0 ? ['taskd', 'baseline'] : ['baseline', 'taskd'];
      for (const scenario of scenarios) for (const side of order) rounds[scenario][side].push(await measure(scenario, side, o.durationS));
    }

    const median = {} as ReadPathResult['median'];
    const throughputRatio = {} as ReadPathResult['throughputRatio'];
    for (const scenario of scenarios) {
      const m = (side: Side) =>
        medianOfRounds(
          rounds[scenario][side].map((f) => ({
            ...f,
            serverCpuS: f.serverCpuS ?? NaN,
            cpuMsPerRequest: f.cpuMsPerRequest ?? NaN,
            postgresCores: f.postgresCores ?? NaN,
            loadGeneratorCores: f.loadGeneratorCores ?? NaN,
          })),
        );
      median[scenario] = { taskd: m('taskd'), baseline: m('baseline') };
      throughputRatio[scenario] = median[scenario].taskd.reqPerSec / median[scenario].baseline.reqPerSec;
    }
    return { tasks: o.tasks, connections, durationS: o.durationS, rounds, median, throughputRatio };
  } finally {
    if (!o.stack) await stack.stop();
  }
}

/** Both servers must answer with the same tasks, or the comparison means nothing. */
async function checkSameRows(stack: BenchStack, baselineUrl: string, user: { token: string; userId: string }, ids: string[]) {
  const one = await api(stack.baseUrl, 'GET', `/api/v2/tasks/me/${ids[0]}`, { token: user.token });
  if (one.status !== 200 || one.body.status !== 'active') throw new Error(`taskd GET task: ${one.status} ${JSON.stringify(one.body)}`);
  const all = await api(stack.baseUrl, 'GET', '/api/v2/tasks?q=owner%3Ame', { token: user.token });
  const bare = await api(baselineUrl, 'GET', `/tasks?owner=${user.userId}`);
  const taskdIds = (all.body.tasks as { id: string }[]).map((t) => t.id).join();
  const bareIds = (bare.body.tasks as { id: string }[]).map((t) => t.id).join();
  if (all.body.count !== ids.length || taskdIds !== bareIds) {
    throw new Error(`the lists differ: taskd ${all.body.count} tasks, baseline ${bare.body.count}`);
  }
}

export function readPathSummary(r: ReadPathResult): string {
  const rows = (Object.keys(r.median) as Scenario[]).flatMap((s) =>
    (['taskd', 'baseline'] as Side[]).map((side) => {
      const f = r.median[s][side];
      const ratio = side === 'taskd' ? `${fmt(r.throughputRatio[s] * 100, 0)} %` : '';
      const cores = `${fmt(f.serverCpuS / r.durationS, 2)} / ${fmt(f.postgresCores, 2)} / ${fmt(f.loadGeneratorCores, 2)}`;
      return [s, side, fmt(f.reqPerSec, 0), fmt(f.p50, 0), fmt(f.p99, 0), cores, fmt(f.cpuMsPerRequest, 2), ratio];
    }),
  );
  return [
    `${r.tasks} tasks, ${r.connections} connections, median of ${Object.values(r.rounds)[0]!.taskd.length} rounds of ${r.durationS} s`,
    '',
    markdownTable(
      ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'cores: server / PostgreSQL / autocannon', 'server CPU ms / request', 'taskd / baseline req/s'],
      rows,
    ),
  ].join('\n');
}

if (require.main === module) {
  runCommand('read-path', async () => {
    const a = cliOptions({ tasks: 1000, duration: 5, rounds: 3, warmup: 2, only: '' });
    const only = a.only === '' ? undefined : a.only.split(',').map((k) => SHORT[k] ?? SCENARIOS.find((s) => s === k)!);
    if (only?.some((s) => s === undefined)) throw new Error(`--only takes ${Object.keys(SHORT).join(', ')}`);
    const r = await runReadPath({ tasks: a.tasks, durationS: a.duration, rounds: a.rounds, warmupS: a.warmup, only });
    return { figures: r, summary: readPathSummary(r) };
  });
}
