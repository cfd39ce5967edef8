// Talking to one user's tasks through the task API as the end-to-end tests do: read, act, wait for a
// status, and wait for the built-in agent's whole reply to an input (its replies end with a fixed
// question; a reply still streaming is cut short). Deadlines are wide: these tests start real
// workspaces on a machine that may be busy.
import type { TestStack } from './stack';
import { waitFor } from './wait';

export type LogEntry = { id: number; type: 'input' | 'output'; content: string };

export function taskChat(stack: TestStack, token: string, timeoutMs = 60_000) {
  const get = (p: string) => stack.api('GET', `/api/v2/tasks/me/${p}`, { token });
  const post = (p: string, body?: unknown) => stack.api('POST', `/api/v2/tasks/me/${p}`, { token, body });
  return {
    get,
    post,
    until: (id: string, want: string) =>
      waitFor(async () => (await get(id)).body.status === want, { what: `task ${want}`, timeoutMs, intervalMs: 200 }),
    /** the logs once the agent has answered `text` in full and the task reads idle */
    replied: (id: string, text: string) =>
      waitFor(
        async () => {
          if ((await get(id)).body.current_state?.state !== 'idle') return null;
          const l = (await get(`${id}/logs`)).body.logs as LogEntry[] | undefined;
          const at = l?.findIndex((e) => e.type === 'input' && e.content === text) ?? -1;
          return at >= 0 && l![at + 1]?.content.endsWith('What would you like next?') ? l! : null;
        },
        { what: `a reply to "${text}"`, timeoutMs, intervalMs: 200 },
      ),
  };
}
