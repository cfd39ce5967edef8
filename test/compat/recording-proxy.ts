// A pass-through HTTP proxy in front of the test stack that writes down every request a Coder
// client makes — method, path, query keys, status, and whether the API knew the route — websocket
// upgrades included, so the compatibility tier can name every route Coder's code calls.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface RecordedCall {
  method: string;
  path: string;
  query: string[];
  status: number;
  websocket: boolean;
  /** the API answered that it has no such route (404 "Route not found.") or no such method (405) */
  unknownRoute: boolean;
}

export interface RecordingProxy {
  url: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

function record(calls: RecordedCall[], req: http.IncomingMessage, status: number, body: string, websocket: boolean) {
  const u = new URL(req.url ?? '/', 'http://proxy');
  calls.push({
    method: req.method ?? 'GET',
    path: u.pathname,
    query: [...new Set(u.searchParams.keys())].sort(),
    status,
    websocket,
    unknownRoute: status === 405 || (status === 404 && body.includes('"Route not found.')),
  });
}

/** Collects a small answer body (for telling "no such route" from "no such task"). */
function collect(res: http.IncomingMessage, into: (body: string) => void) {
  let body = '';
  res.on('data', (d: Buffer) => {
    if (body.length < 4096) body += d.toString('utf8');
  });
  res.on('end', () => into(body));
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const calls: RecordedCall[] = [];
  const forward = (req: http.IncomingMessage) =>
    http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } });

  const server = http.createServer((req, res) => {
    const up = forward(req);
    up.on('response', (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      collect(ur, (body) => record(calls, req, ur.statusCode ?? 502, body, false));
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const up = forward(req);
    up.on('upgrade', (ur, upSocket, upHead) => {
      record(calls, req, 101, '', true);
      const lines = [`HTTP/1.1 101 ${ur.statusMessage ?? 'Switching Protocols'}`];
      for (let i = 0; i < ur.rawHeaders.length; i += 2) lines.push(`${ur.rawHeaders[i]}: ${ur.rawHeaders[i + 1]}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      upSocket.pipe(socket).pipe(upSocket);
      upSocket.on('error', () => socket.destroy());
      socket.on('error', () => upSocket.destroy());
    });
    up.on('response', (ur) => {
      // the API refused the upgrade: relay its plain answer and close
      collect(ur, (body) => {
        record(calls, req, ur.statusCode ?? 502, body, true);
        const lines = [`HTTP/1.1 ${ur.statusCode} ${ur.statusMessage ?? ''}`];
        for (const [k, v] of Object.entries(ur.headers)) if (k !== 'transfer-encoding' && k !== 'connection') lines.push(`${k}: ${v}`);
        lines.push(`content-length: ${Buffer.byteLength(body)}`, 'connection: close');
        socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
      });
    });
    up.on('error', () => socket.destroy());
    up.end();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Coder's path parameters, by the segment they follow; literal segments that can stand there instead. */
const PARAM_AFTER: Record<string, string> = {
  tasks: '{user}',
  users: '{user}',
  members: '{user}',
  organizations: '{organization}',
  templates: '{template}',
  versions: '{templateversionname}',
  templateversions: '{templateversion}',
  workspaces: '{workspace}',
  workspace: '{workspacename}',
  workspacebuilds: '{workspacebuild}',
  builds: '{buildnumber}',
  workspaceagents: '{workspaceagent}',
  keys: '{keyid}',
};
const LITERAL_AFTER: Record<string, string[]> = {
  tasks: ['watch'],
  users: ['first', 'login', 'logout', 'authmethods', 'roles'],
  workspaceagents: ['me'],
};

/** A route as Coder's router names it: `GET /api/v2/tasks/{user}/{task}/logs?follow`, query reduced to its keys. */
export function routeOf(call: RecordedCall): string {
  const segs = call.path.split('/');
  const out = segs.map((seg, i) => {
    const prev = segs[i - 1] ?? '';
    if (i >= 2 && segs[i - 2] === 'tasks' && !LITERAL_AFTER.tasks!.includes(prev)) return '{task}';
    const param = PARAM_AFTER[prev];
    if (!param || seg === '' || LITERAL_AFTER[prev]?.includes(seg)) return seg;
    return param;
  });
  const q = call.query.length > 0 ? `?${call.query.join('&')}` : '';
  return `${call.method} ${out.join('/')}${q}${call.websocket ? ' (websocket)' : ''}`;
}
