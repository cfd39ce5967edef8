import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

// WebSocket routes (ws, the maintained Node implementation) that still go through the Hono app: an
// upgrade request is handed to the app like any request, so authentication, visibility and
// validation answer it in Coder's envelope; a route that accepts it registers a handler in
// `c.env.upgrade` and the socket is opened for that handler. Anything else the app answers is written
// back as a plain HTTP response and the connection closed.

export interface UpgradeSlot {
  /** set by a route that takes the connection over */
  accept?: (ws: WebSocket) => void;
}

/** The app's env as the upgrade path passes it: what @hono/node-server passes, plus the slot. */
export interface UpgradeEnv {
  incoming: IncomingMessage;
  upgrade: UpgradeSlot;
}

type Fetch = (request: Request, env: UpgradeEnv) => Response | Promise<Response>;

export function acceptWebSockets(server: Server, fetch: Fetch): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void answer(req, socket, head);
  });

  async function answer(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    const slot: UpgradeSlot = {};
    let res: Response;
    try {
      res = await fetch(new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: req.method, headers }), {
        incoming: req,
        upgrade: slot,
      });
    } catch {
      socket.destroy();
      return;
    }
    const accept = slot.accept;
    if (accept && res.ok) {
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
      return;
    }
    const body = Buffer.from(await res.arrayBuffer());
    let head1 = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}\r\n`;
    res.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'connection') head1 += `${name}: ${value}\r\n`;
    });
    socket.write(`${head1}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    socket.end(body);
  }

  return {
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
