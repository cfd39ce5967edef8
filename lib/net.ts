// TCP port helpers for processes taskd starts: the process driver picks ports for workspace apps, the
// workspace agent for the apps it runs, and the dev stack for its servers.
import net from 'node:net';

/**
 * Asks the kernel for an unused TCP port on `host`. The port is released
 * before returning, so another process can still grab it before the caller
 * binds; callers that spawn servers report bind failures with the server's
 * own output rather than retrying blindly.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected listen address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

function tryConnect(host: string, port: number, attemptTimeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(attemptTimeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export interface WaitForPortOptions {
  /** Aborting stops the wait early, e.g. when the server process has already died. */
  signal?: AbortSignal;
}

/** Resolves once `host:port` accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  options: WaitForPortOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 25;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryConnect(host, port, Math.min(1000, Math.max(50, deadline - Date.now())))) return;
    if (Date.now() + delay > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${host}:${port} to accept connections`);
    }
    await new Promise((r) => setTimeout(r, delay));
    // Servers usually come up within a few hundred ms; back off only to keep a slow start cheap.
    delay = Math.min(delay * 2, 250);
  }
}

/**
 * Fails when something already listens on `host:port`. Readiness checks only
 * see that *a* server answers, so without this a fixed port held by an older
 * instance would pass for ours while ours dies on bind.
 */
export function assertPortFree(host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const busy = err.code === 'EADDRINUSE';
      reject(busy ? new Error(`${what}: ${host}:${port} is already in use by another process`) : err);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
