// Requests Node's HTTP parser rejects before the app sees them still get Coder's error envelope
// (api/http-server.ts). Found by the bad-input fuzzer: raw bytes >= 0x80 on the request line made
// Node answer a bare 400 with no body.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { answerMalformedRequests } from '../../api/http-server';
import { envelopeProblem } from './raw-http';

let server: http.Server;
let port: number;

before(async () => {
  server = http.createServer((_req, res) => res.end('ok'));
  answerMalformedRequests(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function rawExchange(bytes: Buffer): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body });
    });
  });
}

test('a request line with raw non-ASCII bytes: 400 in the envelope', async () => {
  const res = await rawExchange(Buffer.concat([Buffer.from('GET /api/v2/tasks/'), Buffer.from([0xe9, 0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
  assert.equal(res.status, 400);
  assert.match(res.headers, /content-type: application\/json/i);
  assert.equal(envelopeProblem(JSON.parse(res.body)), null, res.body);
});

test('headers beyond the parser limit: 431 in the envelope', async () => {
  const res = await rawExchange(Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
  assert.equal(res.status, 431);
  assert.equal(envelopeProblem(JSON.parse(res.body)), null, res.body);
});

test('a normal request on the same server is unaffected', async () => {
  const res = await rawExchange(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  assert.equal(res.status, 200);
  assert.equal(res.body, 'ok');
});
