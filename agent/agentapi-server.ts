import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadState, StateFileWriter, type PersistedConversation } from './agent-state-file';
import {
  applyCors,
  DEFAULT_ALLOWED_HOSTS,
  DEFAULT_ALLOWED_ORIGINS,
  goJson,
  isHostAllowed,
  JSON_BODY_LIMIT,
  readBody,
  rejectHost,
  sendJson,
  sendProblem,
  sendText,
  SSE_HEADERS,
} from './agentapi-http';
import { UploadStore } from './agentapi-upload';
import type { ServerEvent } from './agentapi-wire';
import { checkMessageRequest } from './message-request';
import { ScriptedAgent } from './scripted-agent';
import { DEFAULT_GREETING } from './scripted-reply';

export type BuiltinAgentOptions = {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  stateFile?: string;
  thinkMs?: number;
  settleMs?: number;
  /** Pause between the growing updates of one streamed reply. */
  streamStepMs?: number;
  greeting?: string;
  agentType?: string;
  allowedHosts?: string[] | '*';
  allowedOrigins?: string[] | '*';
  /** Where `/` redirects to, plus `/embed`; Coder sets this when apps are path-routed. */
  chatBasePath?: string;
  emitAgentErrors?: boolean;
  /** Problems that do not fail a request, such as an unreadable state file. */
  onWarning?: (message: string) => void;
};

export type BuiltinAgent = { url: string; port: number; close(): Promise<void> };

// agentapi closes a stream whose subscriber falls this many events behind (§1.5).
const MAX_SSE_BACKLOG = 1024;
// Bounds both slow uploads and the draining of oversized bodies.
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
// close() lets in-flight requests finish for at most this long before cutting connections.
const CLOSE_GRACE_MS = 5_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export async function startBuiltinAgent(opts: BuiltinAgentOptions): Promise<BuiltinAgent> {
  const warn = opts.onWarning ?? ((message: string) => process.stderr.write(`builtin agent: ${message}\n`));
  const agentType = opts.agentType ?? 'custom';
  const allowedHosts = opts.allowedHosts ?? DEFAULT_ALLOWED_HOSTS;
  const allowedOrigins = opts.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS;
  const chatBase = (opts.chatBasePath ?? '/chat').replace(/\/+$/, '');

  let restored: PersistedConversation | undefined;
  let restoreFailure: string | undefined;
  if (opts.stateFile) {
    const loaded = await loadState(opts.stateFile);
    if (loaded.kind === 'loaded') restored = loaded.state;
    // Like agentapi, a bad state file is a warning and the agent starts fresh rather than refusing to run.
    if (loaded.kind === 'invalid') restoreFailure = `failed to restore state from ${opts.stateFile}: ${loaded.reason}`;
  }

  const agent: ScriptedAgent = new ScriptedAgent(
    {
      agentType,
      greeting: opts.greeting ?? DEFAULT_GREETING,
      thinkMs: opts.thinkMs ?? 300,
      settleMs: opts.settleMs ?? 200,
      streamStepMs: opts.streamStepMs ?? 50,
      emitAgentErrors: opts.emitAgentErrors ?? false,
      onChange: () => writer?.schedule(),
    },
    restored,
  );
  const writer = opts.stateFile
    ? new StateFileWriter(opts.stateFile, () => agent.toState(), (err) => warn(`saving state failed: ${err.message}`))
    : undefined;
  if (restoreFailure) {
    warn(restoreFailure);
    agent.recordError(restoreFailure, 'warning');
  }

  const uploads = new UploadStore();
  const streams = new Set<ServerResponse>();

  function serveEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, SSE_HEADERS);
    let backlog = 0;
    const write = (e: ServerEvent): void => {
      if (res.writableEnded || res.destroyed) return;
      // Go's SSE writer: one event line, one data line of compact JSON, no id and no retry.
      const fits = res.write(`event: ${e.event}\ndata: ${goJson(e.data)}\n\n`);
      if (!fits && ++backlog > MAX_SSE_BACKLOG) res.destroy();
    };
    res.on('drain', () => (backlog = 0));
    const { replay, unsubscribe } = agent.subscribe(write);
    for (const e of replay) write(e);
    streams.add(res);
    res.on('close', () => {
      unsubscribe();
      streams.delete(res);
    });
  }

  async function postMessage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, JSON_BODY_LIMIT);
    if (body.kind === 'too-large') {
      const detail = `request body is too large limit=${JSON_BODY_LIMIT} bytes`;
      return sendProblem(req, res, 413, detail, [{ message: detail, location: 'body' }]);
    }
    const check = checkMessageRequest(body.body);
    if (!check.ok) return sendProblem(req, res, check.status, check.detail, check.errors);
    if (check.value.type === 'raw') {
      agent.sendRaw(check.value.content);
    } else {
      const sent = agent.sendUser(check.value.content);
      if (!sent.ok) return sendProblem(req, res, 500, 'unexpected error occurred', [{ message: sent.error }]);
    }
    sendJson(req, res, 'MessageResponseBody', { ok: true });
  }

  async function postUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const saved = await uploads.save(req);
    if (!saved.ok) return sendProblem(req, res, saved.status, saved.detail, saved.errors);
    sendJson(req, res, 'UploadResponseBody', { ok: true, filePath: saved.filePath });
  }

  const routes: Record<string, Record<string, Handler>> = {
    '/status': {
      GET: (req, res) =>
        sendJson(req, res, 'StatusResponseBody', { agent_type: agentType, status: agent.getStatus(), transport: 'pty' }),
    },
    '/messages': { GET: (req, res) => sendJson(req, res, 'MessagesResponseBody', { messages: agent.getMessages() }) },
    '/message': { POST: postMessage },
    '/events': { GET: serveEvents },
    '/upload': { POST: postUpload },
    '/': { GET: (_req, res) => sendText(res, 307, '', { Location: `${chatBase}/embed` }) },
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The host check guards against DNS rebinding, so it runs before anything else, OPTIONS included.
    if (allowedHosts !== '*' && !isHostAllowed(req.headers.host, allowedHosts)) return rejectHost(res, allowedHosts);
    if (applyCors(req, res, allowedOrigins)) return;
    const path = new URL(req.url ?? '/', 'http://agent.invalid').pathname;
    const methods = routes[path];
    if (!methods) return sendText(res, 404, '404 page not found\n');
    const handler = methods[req.method ?? 'GET'];
    if (!handler) {
      req.resume();
      return sendText(res, 405, '', { Allow: Object.keys(methods).join(', ') });
    }
    await handler(req, res);
  }

  let inFlight = 0;
  let idle: (() => void) | null = null;
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS }, (req, res) => {
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
    route(req, res).catch((err: unknown) => {
      warn(`request ${req.method} ${req.url} failed: ${(err as Error).message}`);
      if (!res.headersSent) sendProblem(req, res, 500, 'unexpected error occurred', [{ message: String(err) }]);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  // A wildcard bind is reachable on loopback, and loopback names pass the default host check.
  const reachable = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  const hostPart = family === 'IPv6' && reachable !== '127.0.0.1' ? `[${reachable}]` : reachable;

  // Write the file up front so a fresh agent's greeting survives even a crash before any message.
  writer?.schedule();
  agent.start();

  let closing: Promise<void> | null = null;
  async function shutdown(): Promise<void> {
    agent.stop();
    server.close();
    for (const res of streams) res.end();
    const drained = new Promise<void>((resolve) => {
      idle = resolve;
      if (inFlight === 0) resolve();
    });
    const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([drained, grace]);
    server.closeAllConnections();
    await writer?.flush();
    await uploads.dispose();
  }

  return {
    url: `http://${hostPart}:${port}`,
    port,
    close: () => (closing ??= shutdown()),
  };
}
