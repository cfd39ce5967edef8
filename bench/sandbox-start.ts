// What the workspace sandbox costs: the time from the process driver's start to the workspace's app
// answering on the host (the built-in agent's /status, reached through the host port exactly as the
// worker's health check and the API's proxy reach it), and the time a stop takes, with the
// bubblewrap sandbox and with "sandbox": "none". The agent gets its manifest from a stub of the
// agent API, so the figure is the workspace's own start, not the workflow's. Runs alternate
// between the two modes so load on the machine falls on both alike.
//
//   node --import tsx bench/sandbox-start.ts [--rounds 10]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createProcessDriver } from '../provisioner/process';
import type { BuildContext } from '../provisioner/driver';
import { workspaceDefinitionSchema } from '../domain/workspace-definition';
import { createLogger } from '../lib/logger';
import { cliOptions, markdownTable, runCommand } from './lib/report';
import { fmt, summarize, type LatencySummary } from './lib/stats';

const MODES = ['bubblewrap', 'none'] as const;
type Mode = (typeof MODES)[number];

const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'examples', 'builtin-agent-template.json'), 'utf8'));

/** Answers the workspace agent: its manifest, and 204 to every report. */
async function stubAgentApi(manifestOf: (token: string) => unknown): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url?.endsWith('/manifest')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(manifestOf(String(req.headers['coder-session-token']))));
    } else {
      res.writeHead(204).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the workspace app did not answer in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface SandboxStartResult {
  rounds: number;
  /** ms from start() to the app answering on the host */
  start: Record<Mode, LatencySummary & { samples: number[] }>;
  /** ms a stop takes (the agent stops its app and reports within its grace period) */
  stop: Record<Mode, LatencySummary & { samples: number[] }>;
}

export async function runSandboxStart(rounds: number): Promise<SandboxStartResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-bench-sandbox-'));
  fs.chmodSync(dataDir, 0o711);
  const driver = createProcessDriver({ dataDir, hostId: 'bench', log: createLogger('silent'), stopGraceMs: 10_000 });
  const ports = new Map<string, string>();
  const api = await stubAgentApi((token) => ({
    agent_id: token,
    agent_name: 'main',
    workspace_id: token,
    workspace_name: 'bench',
    owner_name: 'bench',
    build_number: 1,
    apps: [{ id: token, slug: 'agent', display_name: 'agent', url: ports.get(token), command: example.workspace.apps[0].command, port: Number(new URL(ports.get(token)!).port), healthcheck: null }],
    env: example.workspace.env,
    ai_app_slug: null,
    task: null,
    server_time: new Date().toISOString(),
  }));
  const samples = { start: { bubblewrap: [] as number[], none: [] as number[] }, stop: { bubblewrap: [] as number[], none: [] as number[] } };
  try {
    for (let i = 0; i < rounds * MODES.length; i++) {
      const mode = MODES[i % MODES.length]!;
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const ctx = (transition: BuildContext['transition']): BuildContext => ({
        workspaceId: id,
        workspaceName: 'bench',
        ownerName: 'bench',
        taskId: null,
        buildId: id,
        buildNumber: 1,
        transition,
        definition: workspaceDefinitionSchema.parse({ provisioner: 'process', sandbox: mode, apps: [{ slug: 'agent', command: 'unused' }] }),
        agent: { id, name: 'main', token: id },
        accessUrl: api.url,
      });
      const t0 = performance.now();
      const { apps } = await driver.start(ctx('start'));
      ports.set(id, apps[0]!.url);
      await until(async () => (await fetch(`${apps[0]!.url}/status`).catch(() => null))?.ok === true, 60_000);
      samples.start[mode].push(performance.now() - t0);
      const t1 = performance.now();
      await driver.delete(ctx('delete'));
      samples.stop[mode].push(performance.now() - t1);
    }
  } finally {
    await driver.stopAllWorkspaces();
    api.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const summary = (kind: 'start' | 'stop') =>
    Object.fromEntries(MODES.map((m) => [m, { ...summarize(samples[kind][m]), samples: samples[kind][m].map((x) => Math.round(x)) }])) as SandboxStartResult['start'];
  return { rounds, start: summary('start'), stop: summary('stop') };
}

export function sandboxStartSummary(r: SandboxStartResult): string {
  const row = (mode: Mode) => [
    mode,
    `${fmt(r.start[mode].p50, 0)} / ${fmt(r.start[mode].max, 0)}`,
    `${fmt(r.stop[mode].p50, 0)} / ${fmt(r.stop[mode].max, 0)}`,
  ];
  return [
    `Workspace start (driver start → app answers on the host) and stop, ms, p50 / max of ${r.rounds} runs each:`,
    '',
    markdownTable(['sandbox', 'start', 'stop (delete)'], MODES.map(row)),
    '',
    `sandbox cost at the median: +${fmt(r.start.bubblewrap.p50 - r.start.none.p50, 0)} ms to start, ` +
      `${fmt(r.stop.bubblewrap.p50 - r.stop.none.p50, 0)} ms to stop`,
  ].join('\n');
}

if (require.main === module) {
  runCommand('sandbox-start', async () => {
    const { rounds } = cliOptions({ rounds: 10 });
    const r = await runSandboxStart(rounds);
    return { figures: r, summary: sandboxStartSummary(r) };
  });
}
