import type { Logger } from './logger';

/**
 * Retries `fn` with capped backoff until it succeeds or `timeoutMs` passes: processes start in any
 * order, so a dependency that is still coming up (or briefly down) is waited for, not fatal.
 */
export async function retryUntilReady<T>(
  what: string,
  fn: () => Promise<T>,
  opts: { log: Logger; timeoutMs?: number },
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      if (attempt === 1 || attempt % 10 === 0) opts.log.warn({ err: (err as Error).message, attempt }, `waiting for ${what}`);
      await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 3_000)));
    }
  }
}
