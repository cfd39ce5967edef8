import dns from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { hostAllowed, type EgressPolicy } from '../../domain/egress-policy';
import { splice } from '../workspace-edge';

// A sandboxed workspace's only way to the internet: an HTTP proxy (CONNECT for TLS, absolute URLs
// for plain HTTP) run by its supervisor on the host's network and reached through the sandbox
// bridge. Each destination is resolved here once and connected to by address, and only a global
// unicast address passes: loopback, private, link-local, CGNAT, multicast and the other special
// ranges (IPv4-mapped and 6to4 forms included) are where the server's own services live. Written
// here rather than taken from a proxy package because the check has to sit between resolving and
// connecting, which none of them expose.

const CONNECT_TIMEOUT_MS = 30_000;

/** Whether `address` is a global unicast address, the only kind a workspace may reach. */
export function isPublicAddress(address: string): boolean {
  try {
    return ipaddr.process(address).range() === 'unicast';
  } catch {
    return false;
  }
}

type Destination = { address: string } | { status: number; reason: string };

async function resolveDestination(policy: EgressPolicy, host: string, addressAllowed: (address: string) => boolean): Promise<Destination> {
  if (!hostAllowed(policy, host)) return { status: 403, reason: `${host} is not on this server's egress allow-list` };
  let addresses: string[];
  if (net.isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await dns.lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return { status: 502, reason: `cannot resolve ${host}` };
    }
  }
  const address = addresses.find(addressAllowed);
  if (address === undefined) return { status: 403, reason: `${host} is not a public internet address` };
  return { address };
}

function refusal(status: number, reason: string): string {
  const body = `taskd egress: ${reason}\n`;
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** host:port of a CONNECT request ("[v6]:port" allowed); null when it is not one. */
function parseAuthority(target: string | undefined): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^\s:/[\]]+)):(\d{1,5})$/i.exec(target ?? '');
  if (!m) return null;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 ? { host: (m[1] ?? m[2])!, port } : null;
}

function connectTo(address: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export interface EgressProxy {
  /** serves one connection the workspace opened to its proxy port */
  accept(socket: net.Socket): void;
}

export interface EgressProxyOptions {
  policy: EgressPolicy;
  log: (fields: object, message: string) => void;
  /** which resolved addresses may be connected to; only tests widen it (their servers are on loopback) */
  addressAllowed?: (address: string) => boolean;
}

export function createEgressProxy(opts: EgressProxyOptions): EgressProxy {
  const server = http.createServer();
  const destination = (host: string) => resolveDestination(opts.policy, host, opts.addressAllowed ?? isPublicAddress);

  server.on('connect', async (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on('error', () => client.destroy());
    const target = parseAuthority(req.url);
    if (!target) return void client.end(refusal(400, 'CONNECT needs host:port'));
    const dest = await destination(target.host);
    if ('reason' in dest) {
      opts.log({ host: target.host, port: target.port }, `egress refused: ${dest.reason}`);
      return void client.end(refusal(dest.status, dest.reason));
    }
    let upstream: net.Socket;
    try {
      upstream = await connectTo(dest.address, target.port);
    } catch (err) {
      return void client.end(refusal(502, `${target.host}:${target.port}: ${(err as Error).message}`));
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    splice(client, upstream);
  });

  server.on('request', async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const fail = (status: number, reason: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(`taskd egress: ${reason}\n`);
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return fail(400, 'this is a proxy: send absolute http:// URLs, or CONNECT for https');
    }
    if (url.protocol !== 'http:') return fail(400, `${url.protocol} URLs go through CONNECT`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const dest = await destination(host);
    if ('reason' in dest) {
      opts.log({ host }, `egress refused: ${dest.reason}`);
      return fail(dest.status, dest.reason);
    }
    // the absolute URL names the host; a Host header the client sent alongside does not count (RFC 9112 3.2.2)
    const headers = { ...Object.fromEntries(Object.entries(req.headers).filter(([k]) => !k.startsWith('proxy-'))), host: url.host };
    const upstream = http.request({
      host: dest.address,
      port: url.port === '' ? 80 : Number(url.port),
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers,
      setHost: false,
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.on('error', (err) => (res.headersSent ? res.destroy() : fail(502, `${host}: ${err.message}`)));
    req.pipe(upstream);
  });

  return { accept: (socket) => server.emit('connection', socket) };
}
