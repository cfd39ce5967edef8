// One task's whole life over HTTP, as a careful client drives it through outages: create (with an
// Idempotency-Key, so a retry cannot make a second task) → active → pause → paused → resume →
// active → delete → 404. Pause and resume are not idempotent in Coder's API (a second pause is a
// second stop build), so before repeating one the client reads the task back and only asks again
// if the build number shows the first request never landed. Every answer is recorded with its time.

export interface Answer {
  at: number;
  op: string;
  /** HTTP status, or 0 when no answer came within 60 s (connection refused, reset, timeout) */
  status: number;
  ms: number;
  message?: string;
}

export interface TaskRun {
  index: number;
  name: string;
  id: string | null;
  phase: string;
  done: boolean;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

export interface LifecycleContext {
  baseUrl: string;
  token: string;
  versionId: string;
  runId: string;
  answers: Answer[];
  /** the run's deadline: a lifecycle still going then is stuck */
  deadline: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function call(ctx: LifecycleContext, op: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const at = Date.now();
  try {
    const res = await fetch(ctx.baseUrl + path, {
      method,
      headers: { 'Coder-Session-Token': ctx.token, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    ctx.answers.push({ at, op, status: res.status, ms: Date.now() - at, ...(res.status >= 400 ? { message: json?.message ?? text.slice(0, 120) } : {}) });
    return { status: res.status, json };
  } catch (err) {
    ctx.answers.push({ at, op, status: 0, ms: Date.now() - at, message: (err as Error).message });
    return { status: 0, json: null };
  }
}

function checkDeadline(ctx: LifecycleContext, run: TaskRun): void {
  if (Date.now() > ctx.deadline) throw new Error(`stuck in phase "${run.phase}"`);
}

/** Retries `attempt` (with a short pause) until it returns a value; 5xx and no-answer are expected in an outage. */
async function until<T>(ctx: LifecycleContext, run: TaskRun, attempt: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    checkDeadline(ctx, run);
    const value = await attempt();
    if (value !== undefined) return value;
    await sleep(250);
  }
}

async function readTask(ctx: LifecycleContext, id: string) {
  return call(ctx, 'get', 'GET', `/api/v2/tasks/me/${id}`);
}

async function waitForStatus(ctx: LifecycleContext, run: TaskRun, status: string, buildNumber: number): Promise<void> {
  run.phase = `wait ${status}`;
  await until(ctx, run, async () => {
    const res = await readTask(ctx, run.id!);
    if (res.status !== 200) return undefined;
    if (res.json.status === 'error') throw new Error(`task reached "error" at build ${res.json.workspace_build_number}`);
    return res.json.status === status && res.json.workspace_build_number === buildNumber ? true : undefined;
  });
}

/** POST pause/resume once: re-sent only while a read shows the build it asks for does not exist. */
async function transition(ctx: LifecycleContext, run: TaskRun, op: 'pause' | 'resume', buildNumber: number): Promise<void> {
  run.phase = op;
  await until(ctx, run, async () => {
    const now = await readTask(ctx, run.id!);
    if (now.status !== 200) return undefined;
    if (now.json.workspace_build_number >= buildNumber) return true;
    const res = await call(ctx, op, 'POST', `/api/v2/tasks/me/${run.id}/${op}`);
    return res.status === 202 ? true : undefined;
  });
}

export async function driveLifecycle(ctx: LifecycleContext, run: TaskRun): Promise<void> {
  try {
    run.phase = 'create';
    const created = await until(ctx, run, async () => {
      const res = await call(ctx, 'create', 'POST', '/api/v2/tasks/me', { template_version_id: ctx.versionId, input: `chaos task ${run.index}`, name: run.name }, {
        'Idempotency-Key': `${ctx.runId}-${run.index}`,
      });
      return res.status === 201 ? (res.json as { id: string }) : undefined;
    });
    run.id = created.id;
    await waitForStatus(ctx, run, 'active', 1);
    await transition(ctx, run, 'pause', 2);
    await waitForStatus(ctx, run, 'paused', 2);
    await transition(ctx, run, 'resume', 3);
    await waitForStatus(ctx, run, 'active', 3);
    run.phase = 'delete';
    await until(ctx, run, async () => {
      const res = await call(ctx, 'delete', 'DELETE', `/api/v2/tasks/me/${run.id}`);
      // 404: an earlier DELETE landed although its answer was lost
      return res.status === 202 || res.status === 404 ? true : undefined;
    });
    run.phase = 'wait gone';
    await until(ctx, run, async () => ((await readTask(ctx, run.id!)).status === 404 ? true : undefined));
    run.phase = 'done';
    run.done = true;
  } catch (err) {
    run.error = (err as Error).message;
  } finally {
    run.finishedAt = Date.now();
  }
}
