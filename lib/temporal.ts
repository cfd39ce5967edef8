import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import type { Logger } from './logger';

/** Connects to Temporal, retrying while the server is still coming up (start-up order is not guaranteed). */
export async function connectTemporal(opts: {
  address: string;
  namespace: string;
  log: Logger;
  timeoutMs?: number;
  /** e.g. OpenTelemetry's, which carries the caller's span into the workflows it starts and updates */
  interceptors?: WorkflowClientInterceptor[];
}): Promise<{ connection: Connection; client: Client }> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError: unknown;
  let attempt = 0;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address: opts.address, connectTimeout: 5_000 });
      return { connection, client: new Client({ connection, namespace: opts.namespace, interceptors: { workflow: opts.interceptors ?? [] } }) };
    } catch (err) {
      lastError = err;
      attempt += 1;
      if (attempt === 1 || attempt % 10 === 0) {
        opts.log.warn({ address: opts.address, err: (err as Error).message }, 'waiting for Temporal');
      }
      await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2_000)));
    }
  }
  throw new Error(`Temporal at ${opts.address} did not answer: ${(lastError as Error)?.message ?? 'timeout'}`);
}
