import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseEventTooLargeError, SseParser, type SseFrame } from '../../agent/sse-parser';

function parseAll(chunks: string[], max = 1_000_000): SseFrame[] {
  const frames: SseFrame[] = [];
  const parser = new SseParser((f) => frames.push(f), max);
  for (const c of chunks) parser.push(c);
  return frames;
}

test('fields, defaults, comments and multi-line data follow the WHATWG rules', () => {
  const frames = parseAll([
    ': keepalive\n\n',
    'data: no name\n\n',
    'event: a\ndata:one\ndata:  two\n\n',
    'event: ignored-without-data\n\n',
    'event: b\ndata\nid: 3\nretry: 5\nunknown: x\n\n',
    'event: unterminated\ndata: pending',
  ]);
  assert.deepEqual(frames, [
    { event: 'message', data: 'no name' },
    { event: 'a', data: 'one\n two' },
    { event: 'b', data: '' },
  ]);
});

test('CR, LF and CRLF all end lines, including a CRLF split across chunks', () => {
  assert.deepEqual(parseAll(['event: x\rdata: 1\r', '\n\r\n', 'event: y\r\ndata: 2\n\r']), [
    { event: 'x', data: '1' },
    { event: 'y', data: '2' },
  ]);
});

test('any chunking of a stream yields the same frames as one push', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'é', '✓', ':', ' ', 'z') });
  const frame = fc.record({ event: fc.stringMatching(/^[a-z_]{1,12}$/), data: text });
  const eol = fc.constantFrom('\n', '\r\n', '\r');
  fc.assert(
    fc.property(fc.array(frame, { maxLength: 6 }), eol, fc.array(fc.nat(), { maxLength: 12 }), (frames, nl, cuts) => {
      const stream = frames.map((f) => `event: ${f.event}${nl}data: ${f.data}${nl}${nl}`).join('');
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const chunks: string[] = [];
      let prev = 0;
      for (const p of [...points, stream.length]) {
        chunks.push(stream.slice(prev, p));
        prev = p;
      }
      assert.deepEqual(parseAll(chunks), parseAll([stream]));
      assert.deepEqual(parseAll([stream]), frames.map((f) => ({ event: f.event, data: f.data })));
    }),
  );
});

test('an event over the cap throws even before its line is complete', () => {
  assert.throws(() => parseAll(['data: ' + 'x'.repeat(200)], 100), SseEventTooLargeError);
  assert.throws(() => parseAll(['data: ' + 'x'.repeat(60) + '\n', 'data: ' + 'y'.repeat(60) + '\n'], 100), SseEventTooLargeError);
  // The budget is per event, so many small events pass.
  const many = Array.from({ length: 50 }, (_, i) => `data: ${'x'.repeat(50)}${i}\n\n`);
  assert.equal(parseAll(many, 100).length, 50);
});
