import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startBuiltinAgent, type BuiltinAgent, type BuiltinAgentOptions } from '../../agent/agentapi-server';

/** Fast timings so a whole turn takes tens of milliseconds. */
export const FAST = { thinkMs: 20, settleMs: 20, streamStepMs: 5 } as const;

const cleanups = new WeakMap<TestContext, Array<() => Promise<unknown>>>();

/**
 * Runs cleanups last-in-first-out, and all of them even if one fails: an agent must be closed
 * before its state directory is removed, or a late save races the rm and recreates the directory.
 */
export function defer(t: TestContext, cleanup: () => Promise<unknown>): void {
  let stack = cleanups.get(t);
  if (!stack) {
    const fresh: Array<() => Promise<unknown>> = [];
    cleanups.set(t, fresh);
    t.after(async () => {
      const results = [];
      for (const fn of fresh.reverse()) results.push(await fn().then(() => null, (err: unknown) => err));
      const failure = results.find((r) => r !== null);
      if (failure) throw failure;
    });
    stack = fresh;
  }
  stack.push(cleanup);
}

export async function startAgent(t: TestContext, opts: Partial<BuiltinAgentOptions> = {}): Promise<BuiltinAgent> {
  const agent = await startBuiltinAgent({ port: 0, ...FAST, onWarning: () => undefined, ...opts });
  defer(t, () => agent.close());
  return agent;
}

export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'taskd-agent-test-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Polls until `check` returns a truthy value; fails with `what` after the deadline. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

export async function waitForStatus(baseUrl: string, status: 'running' | 'stable'): Promise<void> {
  await waitFor(`status ${status}`, async () => (await getJson(`${baseUrl}/status`)).status === status);
}

export async function postMessage(baseUrl: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${baseUrl}/message`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

export type RawResponse = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** node:http rather than fetch, because fetch will not send an arbitrary Host header. */
export function rawRequest(
  baseUrl: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
