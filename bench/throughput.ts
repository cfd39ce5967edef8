// Throughput: whole task lifecycles over HTTP — create → active → pause → paused → resume → active
// → delete → gone (the delete build has finished) — with 20, 100 and 500 in flight. Reports
// lifecycles per second, p50/p99 of each phase (request → the state is visible in the database),
// peak RSS of the API and the worker, and the CPU seconds of every process: where the cores went.
//
//   node --import tsx bench/throughput.ts [--levels 20,100,500] [--min 40] [--floor 1] [--floor-upserts 1] [--cluster 1]
//
// --floor 1 drives the floor baseline instead (bench/baseline/floor-workflow.ts: the same four
// operations as Temporal updates, exactly one activity per build, through the Temporal client, with
// no API in the way): the least Temporal work a lifecycle can cost on this machine. --cluster 1 runs
// on Temporal's own server with its history and visibility on the run's PostgreSQL (as production
// and test/cluster/ do) instead of the dev server and its SQLite file.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cliOptions, markdownTable, runCommand } from './lib/report';
import { api, createMember, ownerAndTemplate, type BenchTemplate, type BenchUser } from './lib/seed';
import { startBenchStack, type BenchStack } from './lib/stack';
import { fmt, summarize, type LatencySummary } from './lib/stats';
import { RowWatch, taskSource, type TaskState } from './lib/task-watch';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { FLOOR_CHANNEL, FLOOR_TABLE_SQL } from './baseline/minimal-activities';
import { latestStepSource, startBaselineWorker } from './baseline/start';
import {
  FLOOR_WORKFLOW_TYPE,
  floorCreateUpdate,
  floorDeleteUpdate,
  floorPauseUpdate,
  floorResumeUpdate,
} from './baseline/floor-workflow';
import { UsageMeter, type Usage } from './lib/usage';
import { readSqlStats, resetSqlStats, type SqlCounts } from './lib/sql-stats';
import { countsPerLifecycle, scrapeTemporalCounts, type TemporalCounts } from './lib/temporal-metrics';

export interface ThroughputOptions {
  /** lifecycles in flight, one level after the other */
  levels: number[];
  /** each level runs max(level, min) lifecycles */
  min: number;
  /** drive the floor baseline (bench/baseline/floor-workflow.ts) through the Temporal client instead of taskd */
  floor?: boolean;
  /** with floor: upsert a status search attribute around each build (bench/baseline/floor-workflow.ts) */
  floorUpserts?: boolean;
  /** Temporal's own server on PostgreSQL instead of the dev server */
  cluster?: boolean;
  stack?: BenchStack;
}

const PHASES = ['create', 'pause', 'resume', 'delete'] as const;
type Phase = (typeof PHASES)[number];

export interface LevelResult {
  inFlight: number;
  lifecycles: number;
  completed: number;
  failed: number;
  failures: string[];
  wallS: number;
  lifecyclesPerS: number;
  /** request → state reached, per phase */
  phases: Record<Phase, LatencySummary>;
  /** the HTTP call alone (201/202), per phase */
  calls: Record<Phase, LatencySummary>;
  /** 409 "build already active" answers that were retried */
  conflicts: number;
  /** 503 answers (update not taken within the API's deadline) that were retried with the same key */
  unavailable: number;
  usage: Usage;
  /** the Temporal server's requests and persistence calls per completed lifecycle (dev server only) */
  temporal?: TemporalCounts;
  /** the statements PostgreSQL ran per completed lifecycle (BENCH_SQL=1) */
  sql?: SqlCounts;
}

export interface ThroughputResult {
  cores: number;
  levels: LevelResult[];
}

const PHASE_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How a lifecycle's four requests are made, and how the state each one asks for is seen. */
interface Driver {
  /** makes the request; resolves with the task's id once it is answered */
  request(phase: Phase, name: string, id: string | null): Promise<string>;
  /** when the task reached the state the phase asks for (performance.now() time) */
  reached(phase: Phase, id: string): Promise<number>;
}

interface Context {
  stack: BenchStack;
  driver: Driver;
  conflicts: number;
  unavailable: number;
}

interface TaskdDriverContext extends Context {
  user: BenchUser;
  template: BenchTemplate;
}

/**
 * Sends a lifecycle request as a careful client does: a 409 (a build of this task still finishing)
 * is retried after a pause, and a 503 (Temporal did not take the update within the API's deadline,
 * TEMPORAL_UPDATE_TIMEOUT_MS) is retried with the same Idempotency-Key, so it takes effect once.
 */
async function send(ctx: TaskdDriverContext, method: string, path: string, expected: number, key: string, body?: unknown) {
  for (let attempt = 0; ; attempt++) {
    const res = await api(ctx.stack.baseUrl, method, path, { token: ctx.user.token, body, headers: { 'Idempotency-Key': key } });
    if (res.status === expected) return res;
    // the delete that timed out took effect after all: the task is gone
    if (res.status === 404 && method === 'DELETE' && attempt > 0) return res;
    if (res.status === 409 && attempt < 50) {
      ctx.conflicts++;
      await sleep(100);
      continue;
    }
    if (res.status === 503 && attempt < 20) {
      ctx.unavailable++;
      await sleep(1_000);
      continue;
    }
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

function taskdDriver(ctx: TaskdDriverContext, watch: RowWatch<TaskState>): Driver {
  const reached: Record<Phase, (s: TaskState) => boolean> = {
    create: (s) => s.status === 'active',
    pause: (s) => s.status === 'paused',
    resume: (s) => s.status === 'active',
    delete: (s) => s.workspaceDeleted,
  };
  return {
    async request(phase, name, id) {
      if (phase === 'create') {
        const res = await send(ctx, 'POST', '/api/v2/tasks/me', 201, `${name}-create`, {
          template_version_id: ctx.template.versionId,
          input: 'Benchmark: a whole lifecycle',
          name,
        });
        return res.body.id as string;
      }
      const path = `/api/v2/tasks/me/${id}`;
      if (phase === 'delete') await send(ctx, 'DELETE', path, 202, `${name}-delete`);
      else await send(ctx, 'POST', `${path}/${phase}`, 202, `${name}-${phase}`);
      return id!;
    },
    reached: async (phase, id) => (await watch.until(id, reached[phase], PHASE_TIMEOUT_MS)).at,
  };
}

const floorSource = latestStepSource(FLOOR_CHANNEL, 'bench_floor_builds');

/** The floor: the same four requests as Temporal updates, each build's end seen as its one write. */
function floorDriver(client: Client, taskQueue: string, watch: RowWatch<{ step: number }>, upserts: boolean): Driver {
  const updates = { pause: floorPauseUpdate, resume: floorResumeUpdate, delete: floorDeleteUpdate } as const;
  const step: Record<Phase, number> = { create: 1, pause: 2, resume: 3, delete: 4 };
  return {
    async request(phase, name, id) {
      if (phase === 'create') {
        await client.workflow.executeUpdateWithStart(floorCreateUpdate, {
          args: [],
          startWorkflowOperation: new WithStartWorkflowOperation(FLOOR_WORKFLOW_TYPE, {
            workflowId: name,
            taskQueue,
            args: [upserts ? { id: name, upserts } : { id: name }],
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        });
        return name;
      }
      await client.workflow.getHandle(id!).executeUpdate(updates[phase], { args: [] });
      return id!;
    },
    reached: async (phase, id) => (await watch.until(id, (s) => s.step >= step[phase], PHASE_TIMEOUT_MS)).at,
  };
}

async function lifecycle(ctx: Context, name: string, record: (phase: Phase, call: number, total: number) => void) {
  let id: string | null = null;
  for (const phase of PHASES) {
    const started = performance.now();
    id = await ctx.driver.request(phase, name, id);
    const called = performance.now();
    const at = await ctx.driver.reached(phase, id);
    record(phase, called - started, at - started);
  }
}

async function runLevel(ctx: Context, inFlight: number, total: number): Promise<LevelResult> {
  const samples = Object.fromEntries(PHASES.map((p) => [p, { call: [] as number[], total: [] as number[] }])) as Record<
    Phase,
    { call: number[]; total: number[] }
  >;
  const failures: string[] = [];
  let started = 0;
  let completed = 0;
  ctx.conflicts = 0;
  ctx.unavailable = 0;
  const metricsUrl = ctx.stack.temporalMetricsUrl;
  const countsBefore = metricsUrl ? await scrapeTemporalCounts(metricsUrl) : null;
  const commitsBefore = ctx.stack.sqlStats ? await resetSqlStats(ctx.stack.databaseUrl) : null;
  const meter = new UsageMeter(ctx.stack.processes);
  // names (and so idempotency keys) must be new in every run of a level, warm-up included: a key
  // whose task was deleted is refused
  const run = Math.random().toString(36).slice(2, 7);
  const t0 = performance.now();
  const slot = async () => {
    while (started < total) {
      const n = started++;
      try {
        await lifecycle(ctx, `tp${inFlight}-${run}-${n}`, (phase, call, all) => {
          samples[phase].call.push(call);
          samples[phase].total.push(all);
        });
        completed++;
      } catch (err) {
        failures.push((err as Error).message.slice(0, 300));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, slot));
  const wallS = (performance.now() - t0) / 1000;
  const usage = meter.stop();
  const temporal = countsBefore && metricsUrl ? countsPerLifecycle(countsBefore, await scrapeTemporalCounts(metricsUrl), completed) : undefined;
  return {
    inFlight,
    lifecycles: total,
    completed,
    failed: failures.length,
    failures: [...new Set(failures)].slice(0, 5),
    wallS,
    lifecyclesPerS: completed / wallS,
    phases: Object.fromEntries(PHASES.map((p) => [p, summarize(samples[p].total)])) as Record<Phase, LatencySummary>,
    calls: Object.fromEntries(PHASES.map((p) => [p, summarize(samples[p].call)])) as Record<Phase, LatencySummary>,
    conflicts: ctx.conflicts,
    unavailable: ctx.unavailable,
    usage,
    ...(temporal ? { temporal } : {}),
    ...(commitsBefore !== null ? { sql: await readSqlStats(ctx.stack.databaseUrl, commitsBefore, completed) } : {}),
  };
}

export async function runThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const stack = o.stack ?? (await startBenchStack({ temporal: o.cluster ? 'cluster' : 'dev' }));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let driver: Driver;
    if (o.floor) {
      const taskQueue = await startBaselineWorker(stack, 'floor', FLOOR_TABLE_SQL);
      const connection = await Connection.connect({ address: stack.temporalAddress });
      cleanups.push(() => connection.close());
      const watch = await RowWatch.start(stack.databaseUrl, floorSource);
      cleanups.push(() => watch.close());
      driver = floorDriver(new Client({ connection }), taskQueue, watch, o.floorUpserts === true);
    } else {
      const watch = await RowWatch.start(stack.databaseUrl, taskSource);
      cleanups.push(() => watch.close());
      const { template } = await ownerAndTemplate(stack);
      const user = await createMember(stack, `cycler-${Date.now().toString(36)}`);
      const taskdCtx: TaskdDriverContext = { stack, user, template, conflicts: 0, unavailable: 0, driver: null as never };
      driver = taskdDriver(taskdCtx, watch);
      taskdCtx.driver = driver;
      return await runLevels(taskdCtx, o);
    }
    return await runLevels({ stack, driver, conflicts: 0, unavailable: 0 }, o);
  } finally {
    for (const c of cleanups.reverse()) await c();
    if (!o.stack) await stack.stop();
  }
}

async function runLevels(ctx: Context, o: ThroughputOptions): Promise<ThroughputResult> {
  // a few lifecycles first, so the first level does not pay for cold caches alone
  await runLevel(ctx, 2, 2);
  const levels: LevelResult[] = [];
  for (const level of o.levels) levels.push(await runLevel(ctx, level, Math.max(level, o.min)));
  return { cores: os.cpus().length, levels };
}

const mb = (b: number | null | undefined) => (b === null || b === undefined ? 'n/a' : `${Math.round(b / 2 ** 20)} MB`);

export function throughputSummary(r: ThroughputResult): string {
  const out: string[] = [];
  out.push(
    markdownTable(
      ['in flight', 'lifecycles', 'failed', 'wall s', 'lifecycles/s', '409 / 503 retried', 'peak RSS api', 'peak RSS worker'],
      r.levels.map((l) => [
        l.inFlight, l.lifecycles, l.failed, fmt(l.wallS), fmt(l.lifecyclesPerS, 2), `${l.conflicts} / ${l.unavailable}`,
        mb(l.usage.peakRss.api), mb(l.usage.peakRss.worker),
      ]),
    ),
  );
  out.push('', 'Phase latency, request → state visible (ms, p50 / p99); the HTTP call alone in brackets:', '');
  out.push(
    markdownTable(
      ['in flight', ...PHASES],
      r.levels.map((l) => [
        l.inFlight,
        ...PHASES.map((p) => `${fmt(l.phases[p].p50, 0)} / ${fmt(l.phases[p].p99, 0)} (${fmt(l.calls[p].p50, 0)} / ${fmt(l.calls[p].p99, 0)})`),
      ]),
    ),
  );
  out.push(
    '',
    `CPU seconds per process (share of the ${r.cores} cores over the level's wall time; "stolen": CPU the host's hypervisor gave other guests meanwhile):`,
    '',
  );
  const names = [...new Set(r.levels.flatMap((l) => Object.keys(l.usage.cpuS)))];
  out.push(
    markdownTable(
      ['in flight', ...names, 'total', 'stolen'],
      r.levels.map((l) => {
        const total = Object.values(l.usage.cpuS).reduce<number>((a, x) => a + (x ?? 0), 0);
        /** CPU seconds and their share of the machine over the level */
        const cell = (seconds: number | null | undefined) =>
          seconds == null ? 'n/a' : `${fmt(seconds)} (${fmt((seconds / (l.usage.wallS * r.cores)) * 100, 0)} %)`;
        return [l.inFlight, ...names.map((n) => cell(l.usage.cpuS[n])), cell(total), cell(l.usage.stolenS)];
      }),
    ),
  );
  const counted = r.levels.filter((l) => l.temporal);
  if (counted.length > 0) {
    out.push('', "Temporal's work per lifecycle: frontend requests and persistence calls (top 12 by count):", '');
    for (const kind of ['frontend', 'persistence', 'bytes'] as const) {
      const ops = [...new Set(counted.flatMap((l) => Object.keys(l.temporal![kind])))];
      ops.sort((a, b) => (counted[0].temporal![kind][b] ?? 0) - (counted[0].temporal![kind][a] ?? 0));
      const total = (l: LevelResult) => fmt(Object.values(l.temporal![kind]).reduce((a, x) => a + x, 0), 1);
      out.push(
        markdownTable(
          [kind, ...counted.map((l) => `${l.inFlight} in flight`)],
          [
            ...ops.slice(0, 12).map((op) => [op, ...counted.map((l) => fmt(l.temporal![kind][op] ?? 0, 2))]),
            ['all', ...counted.map(total)],
          ],
        ),
        '',
      );
    }
  }
  for (const l of r.levels.filter((x) => x.sql)) {
    out.push(`Statements per lifecycle at ${l.inFlight} in flight: ${fmt(l.sql!.calls, 1)} (${fmt(l.sql!.commits, 1)} commits); the most frequent:`, '');
    out.push(markdownTable(['calls', 'ms', 'statement'], l.sql!.top.slice(0, 30).map((q) => [fmt(q.calls, 2), fmt(q.ms, 2), `\`${q.query.replace(/\|/g, '\\|')}\``])), '');
  }
  const failures = r.levels.flatMap((l) => l.failures.map((f) => `- ${l.inFlight} in flight: ${f}`));
  if (failures.length > 0) out.push('', 'Failures (first of each kind):', ...failures);
  return out.join('\n');
}

if (require.main === module) {
  runCommand('throughput', async () => {
    const a = cliOptions({ levels: '20,100,500', min: 40, floor: 0, cluster: 0, 'floor-upserts': 0 });
    const levels = a.levels.split(',').map(Number);
    if (levels.some((l) => !Number.isInteger(l) || l < 1)) throw new Error('--levels takes positive integers, e.g. 20,100,500');
    const upserts = a['floor-upserts'] === 1;
    const r = await runThroughput({ levels, min: a.min, floor: a.floor === 1 || upserts, floorUpserts: upserts, cluster: a.cluster === 1 });
    return { figures: r, summary: throughputSummary(r), suffix: `${upserts ? '-floor-upserts' : a.floor === 1 ? '-floor' : ''}${a.cluster === 1 ? '-cluster' : ''}` };
  });
}
