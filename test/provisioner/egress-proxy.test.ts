import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createEgressProxy, isPublicAddress, type EgressProxyOptions } from '../../provisioner/sandbox/egress-proxy';

// The egress proxy a sandboxed workspace reaches the internet through, in front of a server of the
// test's own on loopback: refused by default (loopback is where the server's services live), and
// served through when a test widens the address check, to see the forwarding work.

let target: http.Server;
let targetPort: number;
const servers: net.Server[] = [];

before(async () => {
  target = http.createServer((req, res) => res.end(`target saw ${req.method} ${req.url} for ${req.headers.host}`));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetPort = (target.address() as AddressInfo).port;
});
after(() => {
  target.close();
  for (const s of servers) s.close();
});

async function proxyOn(opts: Partial<EgressProxyOptions>): Promise<{ port: number; refusals: string[] }> {
  const refusals: string[] = [];
  const proxy = createEgressProxy({ policy: { mode: 'public' }, log: (_f, m) => refusals.push(m), ...opts });
  const server = net.createServer((socket) => proxy.accept(socket));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, refusals };
}

function connectThrough(proxyPort: number, authority: string): Promise<{ status: number; body: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority });
    req.once('connect', (res, socket, head) => {
      let body = head.toString();
      if (res.statusCode === 200) return resolve({ status: 200, body, socket });
      socket.on('data', (d) => (body += d));
      socket.on('end', () => resolve({ status: res.statusCode!, body, socket }));
    });
    req.once('error', reject);
    req.end();
  });
}

function getThrough(proxyPort: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: proxyPort, path: url }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .once('error', reject);
  });
}

test('only global unicast addresses count as public, whatever their spelling', () => {
  for (const a of ['8.8.8.8', '2606:4700::1111']) assert.equal(isPublicAddress(a), true, a);
  for (const a of ['127.0.0.1', '::1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', 'fe80::1', 'fd00::1',
    '100.64.0.1', '0.0.0.0', '::', '224.0.0.1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '2002:7f00:1::1', 'not an address']) {
    assert.equal(isPublicAddress(a), false, a);
  }
});

test('by default the proxy refuses the server\'s own loopback, by address or by name, with CONNECT or plain HTTP', async () => {
  const { port, refusals } = await proxyOn({});
  for (const authority of [`127.0.0.1:${targetPort}`, `localhost:${targetPort}`, `[::1]:${targetPort}`, `[::ffff:127.0.0.1]:${targetPort}`, '10.0.0.1:80']) {
    const res = await connectThrough(port, authority);
    assert.equal(res.status, 403, authority);
    assert.match(res.body, /taskd egress: .* is not a public internet address/);
  }
  const plain = await getThrough(port, `http://127.0.0.1:${targetPort}/secret`);
  assert.equal(plain.status, 403);
  assert.equal(refusals.length, 6);
  assert.equal((await connectThrough(port, 'no-port')).status, 400);
  assert.equal((await getThrough(port, '/not-absolute')).status, 400);
});

test('an allow-list refuses the hosts it does not name, and what passes is forwarded both ways', async () => {
  const { port } = await proxyOn({ policy: { mode: 'allow', hosts: ['localhost'] }, addressAllowed: () => true });
  const refused = await connectThrough(port, `127.0.0.1:${targetPort}`);
  assert.equal(refused.status, 403);
  assert.match(refused.body, /not on this server's egress allow-list/);

  const tunnel = await connectThrough(port, `localhost:${targetPort}`);
  assert.equal(tunnel.status, 200);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    tunnel.socket.on('data', (d) => (text += d));
    tunnel.socket.on('end', () => resolve(text));
    tunnel.socket.write(`GET /through-the-tunnel HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  });
  assert.match(answer, /target saw GET \/through-the-tunnel for localhost/);

  const plain = await getThrough(port, `http://localhost:${targetPort}/plain?q=1`);
  assert.equal(plain.status, 200);
  assert.equal(plain.body, `target saw GET /plain?q=1 for localhost:${targetPort}`);
});

test('with egress off (policy none) nothing passes', async () => {
  const { port } = await proxyOn({ policy: { mode: 'none' }, addressAllowed: () => true });
  assert.equal((await connectThrough(port, `localhost:${targetPort}`)).status, 403);
});
