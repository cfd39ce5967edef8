// The chaos run: N tasks go through whole lifecycles over HTTP while the worker is SIGKILLed three
// times and Temporal and PostgreSQL are each restarted once, at seeded random moments. Then the
// run settles (bounded), is checked against the records, torn down, and searched for leftovers.
import { ChaosCluster } from './cluster';
import { driveLifecycle, type Answer, type LifecycleContext, type TaskRun } from './lifecycle';
import { OutageProber } from './probe';
import { verifyRecords, verifyWorkflows, type Check } from './verify';
import type { DevstackLogger } from '../../devstack/processes';

export interface ChaosOptions {
  tasks: number;
  seed: number;
  /** task starts are spread over this long */
  spreadMs: number;
  /** the faults happen within this long after the first task starts */
  faultWindowMs: number;
  /** how long a fault keeps its dependency down */
  downMs: number;
  /** bound on the wait for the last lifecycle and the outbox after the faults */
  settleMs: number;
  log: DevstackLogger;
}

export interface Outage {
  dependency: string;
  down: number;
  up: number;
  statuses: Record<string, number>;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log'>;
  runs: TaskRun[];
  answers: Answer[];
  outages: Outage[];
  events: { at: number; what: string }[];
  checks: Check[];
  durationMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** mulberry32: a tiny seeded generator, so a seed replays the same fault schedule */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function setUp(baseUrl: string): Promise<{ token: string; versionId: string }> {
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(baseUrl + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { 'Coder-Session-Token': token } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const first = await post('/api/v2/users/first', { email: 'chaos@example.com', username: 'chaos', password: 'chaos-password-1', name: 'Chaos' });
  const { session_token: token } = await post('/api/v2/users/login', { email: 'chaos@example.com', password: 'chaos-password-1' });
  const template = await post(`/api/v2/organizations/${first.organization_id}/templates`, {
    name: 'chaos',
    // builds take a moment, so faults land in the middle of them too
    workspace: { provisioner: 'echo', echo: { delay_ms: 300 }, apps: [{ slug: 'ai-agent' }], ai_task: { app: 'ai-agent' } },
  }, token);
  return { token, versionId: template.active_version_id };
}

/** The faults in a seeded order at seeded moments, at least `gap` apart so each outage is its own. */
function faultSchedule(o: ChaosOptions): { at: number; kind: 'worker' | 'temporal' | 'postgres' }[] {
  const random = rng(o.seed);
  const kinds: ('worker' | 'temporal' | 'postgres')[] = ['worker', 'worker', 'worker', 'temporal', 'postgres'];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const slot = o.faultWindowMs / kinds.length;
  return kinds.map((kind, i) => ({ kind, at: Math.round(i * slot + random() * slot * 0.6) }));
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const cluster = new ChaosCluster(o.log);
  const answers: Answer[] = [];
  const outages: Outage[] = [];
  const runs: TaskRun[] = [];
  const checks: Check[] = [];
  let ctx: LifecycleContext | undefined;
  try {
    await cluster.start();
    cluster.note('stack up');
    const { token, versionId } = await setUp(cluster.baseUrl);
    const t0 = Date.now();
    ctx = {
      baseUrl: cluster.baseUrl,
      token,
      versionId,
      runId: cluster.runId,
      answers,
      // set once the faults are over: until then nothing counts as stuck
      deadline: Number.POSITIVE_INFINITY,
    };
    for (let i = 0; i < o.tasks; i++) {
      runs.push({ index: i, name: `chaos-${i}`, id: null, phase: 'queued', done: false, error: null, startedAt: 0, finishedAt: null });
    }
    const drivers = runs.map(async (run) => {
      await sleep(Math.round((run.index * o.spreadMs) / o.tasks));
      run.startedAt = Date.now();
      await driveLifecycle(ctx!, run);
    });

    // while a dependency is down, a prober keeps asking (a read and a create), so every outage is
    // seen by requests whatever the lifecycles happen to be doing
    const prober = new OutageProber(cluster.baseUrl, token, versionId, answers);
    const faults = (async () => {
      // a worker comes back in the background (bundling takes seconds); the next kill waits for it
      let worker: Promise<void> = Promise.resolve();
      let workerFailure: unknown = null;
      try {
        for (const f of faultSchedule(o)) {
          await sleep(Math.max(0, t0 + f.at - Date.now()));
          if (f.kind === 'worker') {
            worker = worker.then(() => cluster.killWorker()).catch((err: unknown) => void (workerFailure = err));
            continue;
          }
          prober.start();
          const window = f.kind === 'temporal' ? await cluster.restartTemporal(o.downMs) : await cluster.restartPostgres(o.downMs);
          prober.stop();
          outages.push({ dependency: f.kind === 'temporal' ? 'Temporal' : 'PostgreSQL', ...window, statuses: {} });
        }
        await worker;
        if (workerFailure) throw workerFailure;
      } finally {
        // from here on the run only has to settle, within a bound
        ctx!.deadline = Date.now() + o.settleMs;
        cluster.note('faults over; settling');
      }
    })();

    await Promise.all([faults, ...drivers]);
    await prober.drain();
    cluster.note(`lifecycles over: ${runs.filter((r) => r.done).length} of ${runs.length} done`);

    for (const outage of outages) {
      for (const a of answers.filter((a) => a.at >= outage.down && a.at <= outage.up)) {
        outage.statuses[a.status] = (outage.statuses[a.status] ?? 0) + 1;
      }
    }
    const taskIds = runs.flatMap((r) => (r.id ? [r.id] : []));
    checks.push({
      name: 'every lifecycle finished (no task stuck)',
      ok: runs.every((r) => r.done),
      detail: runs.filter((r) => !r.done).map((r) => `${r.name}: ${r.error ?? r.phase}`).join('; ') || `${runs.length} of ${runs.length}`,
    });
    const bad = answers.filter((a) => a.status >= 500 && a.status !== 503);
    checks.push({
      name: 'no 5xx other than 503, ever',
      ok: bad.length === 0,
      detail: bad.length === 0 ? `${answers.length} answers` : bad.slice(0, 5).map((a) => `${a.op} ${a.status} ${a.message ?? ''}`).join('; '),
    });
    const silent = answers.filter((a) => a.status === 0);
    checks.push({
      name: 'every request answered within 60 s',
      ok: silent.length === 0,
      detail: silent.length === 0 ? `slowest ${Math.max(0, ...answers.map((a) => a.ms))} ms` : silent.slice(0, 5).map((a) => `${a.op}: ${a.message}`).join('; '),
    });
    checks.push({
      name: 'while a dependency was down: answered, and never a 5xx but 503',
      ok: outages.length === 2 && outages.every((x) => Object.keys(x.statuses).length > 0 && Object.keys(x.statuses).every((st) => Number(st) < 500 || st === '503')),
      detail: outages.map((x) => `${x.dependency}: ${Object.entries(x.statuses).map(([st, n]) => `${st}×${n}`).join(' ') || 'no answers'}`).join('; '),
    });
    const unplanned = cluster.events.filter((e) => e.what.startsWith('UNPLANNED'));
    checks.push({ name: 'no process died unplanned', ok: unplanned.length === 0, detail: unplanned.map((e) => e.what).join('; ') || 'none' });
    // what is left of the settle bound is the bound on the records settling too
    const remaining = () => Math.max(5_000, ctx!.deadline - Date.now());
    checks.push(...(await verifyRecords(cluster.databaseUrl, taskIds, cluster.deliveries, remaining())));
    checks.push(await verifyWorkflows(cluster.temporalAddress, taskIds, remaining()));
  } catch (err) {
    checks.push({ name: 'the run completed', ok: false, detail: (err as Error).stack ?? String(err) });
  } finally {
    // lifecycles still going (after a failure) end now rather than poll a stack being torn down
    if (ctx) ctx.deadline = 0;
    await cluster.stop();
    const leftovers = cluster.leftovers();
    checks.push({ name: 'nothing left running after teardown (process groups, run marker)', ok: leftovers.length === 0, detail: leftovers.join('; ') || 'none' });
    if (checks.every((c) => c.ok) && process.env.CHAOS_KEEP !== '1') cluster.removeWorkDir();
    else checks.push({ name: 'logs', ok: true, detail: cluster.workDir });
  }
  const { log: _log, ...options } = o;
  return { options, runs, answers, outages, events: cluster.events, checks, durationMs: Date.now() - started };
}
