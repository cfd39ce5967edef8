// How much Temporal work one whole task lifecycle costs: create → active → pause → resume →
// delete of a task running taskd's built-in agent (process driver, real agent reports through the
// API), counted from the workflow's real history. Every event is written, replicated and replayed
// by Temporal, and every workflow task is a round trip between the server and a worker, so these
// counts are what bounds lifecycles per second (bench/RESULTS.md).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { stopAllWorkspaces } from '../../provisioner/process';
import { taskWorkflowId } from '../../workflows/contracts';

let stack: TestStack;
let token: string;
let versionId: string;

const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'builtin-agent-template.json'), 'utf8'));

before(async () => {
  stack = await startTestStack();
  const owner = await setupOwner(stack);
  token = owner.token;
  const workspace = { ...example.workspace, env: { ...example.workspace.env, TASKD_AGENT_THINK_MS: '20' } };
  versionId = (await createAiTemplate(stack, token, owner.org.id, { name: 'builtin', workspace })).version.id;
});
after(async () => {
  if (stack) await stopAllWorkspaces({ dataDir: stack.config.dataDir, log: stack.log, stopGraceMs: 2_000 });
  await stack?.close();
});

export interface HistoryCounts {
  /** every event, less the attempts of workflow tasks that timed out or failed (a loaded machine's retries, not the design) */
  events: number;
  /** workflow task attempts that timed out or failed, each 3 events (scheduled, started, timed out / failed) */
  retriedWorkflowTasks: number;
  workflowTasks: number;
  activities: number;
  localActivities: number;
  signals: number;
  timers: number;
  upserts: number;
}

/** Counts of a workflow's history, by what costs a round trip or a write. */
export async function historyCounts(s: TestStack, workflowId: string): Promise<HistoryCounts> {
  const history = await s.temporal.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (key: string) => events.filter((e) => (e as Record<string, unknown>)[key] != null).length;
  return {
    events: events.length - 3 * (count('workflowTaskTimedOutEventAttributes') + count('workflowTaskFailedEventAttributes')),
    retriedWorkflowTasks: count('workflowTaskTimedOutEventAttributes') + count('workflowTaskFailedEventAttributes'),
    workflowTasks: count('workflowTaskCompletedEventAttributes'),
    activities: count('activityTaskScheduledEventAttributes'),
    localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    signals: count('workflowExecutionSignaledEventAttributes'),
    timers: count('timerStartedEventAttributes'),
    upserts: count('upsertWorkflowSearchAttributesEventAttributes'),
  };
}

/** One line per event: its type and, for activities and markers, what ran (for TASKD_PRINT_HISTORY=1). */
async function historyShape(s: TestStack, workflowId: string): Promise<string> {
  const history = await s.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => {
      const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k] != null) ?? '?';
      const payloads = e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      const data = Object.values(payloads ?? {}).map((p) => Buffer.from(p.data ?? []).toString());
      const detail = [e.activityTaskScheduledEventAttributes?.activityType?.name ?? e.markerRecordedEventAttributes?.markerName ?? '', ...data].join(' ');
      return `${e.eventId} ${key.replace(/EventAttributes$/, '')} ${detail}`;
    })
    .join('\n');
}

test('one lifecycle of a built-in agent task stays within its Temporal budget', async () => {
  const call = (method: string, p: string, body?: unknown) => stack.api(method, `/api/v2/tasks/me${p}`, { token, body });
  const until = (id: string, want: string) =>
    waitFor(async () => (await call('GET', `/${id}`)).body.status === want, { what: `task ${want}`, timeoutMs: 30_000 });

  const created = await call('POST', '', { template_version_id: versionId, input: 'count the events' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  await until(id, 'active');
  assert.equal((await call('POST', `/${id}/pause`)).status, 202);
  await until(id, 'paused');
  assert.equal((await call('POST', `/${id}/resume`)).status, 202);
  await until(id, 'active');
  assert.equal((await call('DELETE', `/${id}`)).status, 202);
  const handle = stack.temporal.workflow.getHandle(taskWorkflowId(id));
  await handle.result();

  const counts = await historyCounts(stack, taskWorkflowId(id));
  console.log(`lifecycle history: ${JSON.stringify(counts)}`);
  if (process.env.TASKD_PRINT_HISTORY === '1') console.log(await historyShape(stack, taskWorkflowId(id)));
  // measured before the lean workflow (commit 627536f): 235 events, 39 workflow tasks, 25 activities,
  // 10 signals, 6 timers, 10 search-attribute upserts; the lean workflow: 76 events, 10 workflow
  // tasks, 4 activities (the provisioner) and 10 local ones, 2 signals, 2 timers, 8 upserts
  assert.ok(counts.events <= 80, `${counts.events} history events, more than 80`);
  assert.ok(counts.workflowTasks <= 16, `${counts.workflowTasks} workflow tasks, more than 16`);
  assert.equal(counts.activities, 4, 'one activity task per build: the provisioner call');
});
