// Orchestration overhead: create → `active` with the echo provisioner (agent ready and app healthy
// as soon as the build ends), one task at a time, against a minimal Temporal workflow of the same
// shape (bench/baseline/minimal-workflow.ts: update-with-start, 4 activities, 0 signals) on the
// same Temporal server, in the same run. Both sides are timed from the request to the moment the
// database says the task is active (the baseline: its last write), seen through LISTEN/NOTIFY.
//
//   node --import tsx bench/orchestration.ts [--tasks 200] [--block 25] [--warmup 5]
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { BASELINE_CHANNEL, BASELINE_TABLE_SQL } from './baseline/minimal-activities';
import { latestStepSource, startBaselineWorker } from './baseline/start';
import { MINIMAL_WORKFLOW_TYPE, STEPS_AFTER_CREATE, minimalCreatedUpdate } from './baseline/minimal-workflow';
import { cliOptions, markdownTable, runCommand } from './lib/report';
import { api, createMember, ownerAndTemplate } from './lib/seed';
import { startBenchStack, type BenchStack } from './lib/stack';
import { fmt, summarize, type LatencySummary } from './lib/stats';
import { RowWatch, taskSource } from './lib/task-watch';
import { UsageMeter, type Usage } from './lib/usage';

export interface OrchestrationOptions {
  /** tasks per side */
  tasks: number;
  /** taskd and the baseline take turns in blocks of this many, so a busy moment hits both */
  block: number;
  /** unmeasured tasks per side first (JIT, caches, connection pools) */
  warmup: number;
  stack?: BenchStack;
}

export interface OrchestrationResult {
  tasks: number;
  /** request → active, ms */
  taskd: LatencySummary;
  /** request → the create call returned (taskd: the 201), ms */
  taskdCreateCall: LatencySummary;
  baseline: LatencySummary;
  baselineCreateCall: LatencySummary;
  /** taskd / baseline create-to-active (target <= 1.5) */
  ratioP50: number;
  ratioP99: number;
  usage: { taskd: Usage; baseline: Usage };
}

const baselineSource = latestStepSource(BASELINE_CHANNEL, 'bench_baseline_steps');

const ACTIVE_TIMEOUT_MS = 60_000;

export async function runOrchestration(o: OrchestrationOptions): Promise<OrchestrationResult> {
  const stack = o.stack ?? (await startBenchStack());
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const { template } = await ownerAndTemplate(stack);
    const user = await createMember(stack, `orchestrator-${Date.now().toString(36)}`);

    const baselineQueue = await startBaselineWorker(stack, 'baseline', BASELINE_TABLE_SQL);

    const connection = await Connection.connect({ address: stack.temporalAddress });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    const taskWatch = await RowWatch.start(stack.databaseUrl, taskSource);
    cleanups.push(() => taskWatch.close());
    const baselineWatch = await RowWatch.start(stack.databaseUrl, baselineSource);
    cleanups.push(() => baselineWatch.close());

    let seq = 0;
    const taskd = async () => {
      const started = performance.now();
      const res = await api(stack.baseUrl, 'POST', '/api/v2/tasks/me', {
        token: user.token,
        body: { template_version_id: template.versionId, input: 'Benchmark: reach active', name: `orch-${seq++}` },
      });
      const created = performance.now();
      if (res.status !== 201) throw new Error(`POST /tasks/me: ${res.status} ${JSON.stringify(res.body)}`);
      const { at } = await taskWatch.until(res.body.id, (s) => s.status === 'active', ACTIVE_TIMEOUT_MS);
      return { call: created - started, total: at - started };
    };
    const baseline = async () => {
      const id = `baseline-${randomUUID()}`;
      const started = performance.now();
      await client.workflow.executeUpdateWithStart(minimalCreatedUpdate, {
        args: [],
        startWorkflowOperation: new WithStartWorkflowOperation(MINIMAL_WORKFLOW_TYPE, {
          workflowId: id,
          taskQueue: baselineQueue,
          args: [{ id }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
      const created = performance.now();
      const { at } = await baselineWatch.until(id, (s) => s.step >= 1 + STEPS_AFTER_CREATE, ACTIVE_TIMEOUT_MS);
      return { call: created - started, total: at - started };
    };

    for (let i = 0; i < o.warmup; i++) {
      await taskd();
      await baseline();
    }
    const samples = { taskd: { call: [] as number[], total: [] as number[] }, baseline: { call: [] as number[], total: [] as number[] } };
    const usage = { taskd: [] as Usage[], baseline: [] as Usage[] };
    while (samples.taskd.total.length < o.tasks || samples.baseline.total.length < o.tasks) {
      for (const [side, once] of [['taskd', taskd], ['baseline', baseline]] as const) {
        const n = Math.min(o.block, o.tasks - samples[side].total.length);
        if (n <= 0) continue;
        const meter = new UsageMeter(stack.processes);
        for (let i = 0; i < n; i++) {
          const r = await once();
          samples[side].call.push(r.call);
          samples[side].total.push(r.total);
        }
        usage[side].push(meter.stop());
      }
    }
    const t = summarize(samples.taskd.total);
    const b = summarize(samples.baseline.total);
    return {
      tasks: o.tasks,
      taskd: t,
      taskdCreateCall: summarize(samples.taskd.call),
      baseline: b,
      baselineCreateCall: summarize(samples.baseline.call),
      ratioP50: t.p50 / b.p50,
      ratioP99: t.p99 / b.p99,
      usage: { taskd: addUsage(usage.taskd), baseline: addUsage(usage.baseline) },
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    if (!o.stack) await stack.stop();
  }
}

/** The blocks of one side added up. */
function addUsage(parts: Usage[]): Usage {
  const sum = (pick: (u: Usage) => Record<string, number | null>) => {
    const out: Record<string, number | null> = {};
    for (const u of parts) for (const [k, v] of Object.entries(pick(u))) out[k] = v === null || out[k] === null ? null : (out[k] ?? 0) + v;
    return out;
  };
  const peak: Record<string, number | null> = {};
  for (const u of parts) for (const [k, v] of Object.entries(u.peakRss)) peak[k] = Math.max(peak[k] ?? 0, v ?? 0);
  return { wallS: parts.reduce((a, u) => a + u.wallS, 0), cpuS: sum((u) => u.cpuS), peakRss: peak };
}

export function orchestrationSummary(r: OrchestrationResult): string {
  const row = (name: string, s: LatencySummary) => [name, s.n, fmt(s.p50), fmt(s.p99), fmt(s.max)];
  const cpu = (u: Usage) =>
    Object.entries(u.cpuS)
      .filter(([, v]) => v !== null && v > 0.05)
      .map(([k, v]) => `${k} ${fmt((v! / r.tasks) * 1000, 1)}`)
      .join(', ');
  return [
    `${r.tasks} tasks per side, one at a time`,
    '',
    markdownTable(
      ['measure', 'n', 'p50 ms', 'p99 ms', 'max ms'],
      [
        row('taskd create → active', r.taskd),
        row('baseline create → active', r.baseline),
        row('taskd POST /tasks → 201', r.taskdCreateCall),
        row('baseline update-with-start returned', r.baselineCreateCall),
      ],
    ),
    '',
    `ratio taskd / baseline: p50 ${fmt(r.ratioP50, 2)}×, p99 ${fmt(r.ratioP99, 2)}× (target ≤ 1.5×)`,
    '',
    `CPU ms per task — taskd: ${cpu(r.usage.taskd)}; baseline: ${cpu(r.usage.baseline)}`,
  ].join('\n');
}

if (require.main === module) {
  runCommand('orchestration', async () => {
    const a = cliOptions({ tasks: 200, block: 25, warmup: 5 });
    const r = await runOrchestration({ tasks: a.tasks, block: a.block, warmup: a.warmup });
    return { figures: r, summary: orchestrationSummary(r) };
  });
}
