import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  type AgentApiMessage,
  InvalidMessageRoleError,
  fitSnapshotMessages,
  messagesToLogs,
} from '../../domain/log-snapshot';

const MARKER = '[...content truncated, showing last 56KB...]\n\n';
const TIME = '2026-02-01T10:00:00.123456789Z';

function msg(id: number, content: string, role = id % 2 === 0 ? 'agent' : 'user'): AgentApiMessage {
  return { id, content, role, time: TIME };
}

function bodyBytes(messages: AgentApiMessage[]): number {
  return Buffer.byteLength(JSON.stringify({ messages }), 'utf8');
}

describe('fitSnapshotMessages (§4.1 shutdown-script rules)', () => {
  it('returns [] for no messages (the caller skips the upload)', () => {
    assert.deepEqual(fitSnapshotMessages([]), []);
  });

  it('keeps only the last 10 messages', () => {
    const input = Array.from({ length: 15 }, (_, i) => msg(i, `m${i}`));
    assert.deepEqual(
      fitSnapshotMessages(input).map((m) => m.id),
      [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    );
    assert.deepEqual(fitSnapshotMessages(input, { maxMessages: 3 }).map((m) => m.id), [12, 13, 14]);
  });

  it('leaves a payload that already fits untouched, even at exactly the limit', () => {
    const input = [msg(0, 'hello'), msg(1, 'world')];
    const exact = bodyBytes(input);
    assert.deepEqual(fitSnapshotMessages(input, { maxBytes: exact }), input);
    assert.deepEqual(fitSnapshotMessages(input, { maxBytes: exact - 1 }), [input[1]]);
  });

  it('drops the oldest messages until the JSON body fits in 64 KiB', () => {
    const input = Array.from({ length: 10 }, (_, i) => msg(i, 'x'.repeat(20_000)));
    const got = fitSnapshotMessages(input);
    assert.deepEqual(got.map((m) => m.id), [7, 8, 9]);
    assert.ok(bodyBytes(got) <= 65_536);
  });

  it('keeps the last 56 KiB of a single over-sized message behind the marker', () => {
    const content = `${'a'.repeat(50_000)}${'b'.repeat(57_344)}`;
    const got = fitSnapshotMessages([msg(0, 'old'), msg(1, content)]);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0], { ...msg(1, ''), content: MARKER + 'b'.repeat(57_344) });
    assert.ok(bodyBytes(got) <= 65_536);
  });

  it('cuts by bytes without splitting multi-byte characters', () => {
    const got = fitSnapshotMessages([msg(0, '€'.repeat(40_000))])[0];
    assert.ok(got);
    const tail = got.content.slice(MARKER.length);
    assert.equal(tail, '€'.repeat(Math.floor(57_344 / 3)));
    const emoji = fitSnapshotMessages([msg(0, `x${'😀'.repeat(20_000)}`)])[0]?.content ?? '';
    assert.equal(Buffer.from(emoji, 'utf8').toString('utf8'), emoji, 'no lone surrogates');
    assert.ok(emoji.endsWith('😀'));
  });

  it('shrinks further when JSON escaping still overflows, keeping as much as fits', () => {
    const got = fitSnapshotMessages([msg(0, '"'.repeat(70_000))]);
    assert.equal(got.length, 1);
    const content = got[0]?.content ?? '';
    assert.ok(content.startsWith(MARKER));
    assert.ok(bodyBytes(got) <= 65_536);
    const oneMore = [{ ...msg(0, ''), content: `${content}"` }];
    assert.ok(bodyBytes(oneMore) > 65_536, 'the kept tail is the longest that fits');
  });

  it('labels the marker from tailBytes and gives up with [] when nothing fits', () => {
    const got = fitSnapshotMessages([msg(0, 'y'.repeat(5000))], { maxBytes: 3000, tailBytes: 2048 });
    assert.ok(got[0]?.content.startsWith('[...content truncated, showing last 2KB...]\n\n'));
    assert.deepEqual(fitSnapshotMessages([msg(0, 'y'.repeat(500))], { maxBytes: 60 }), []);
  });

  it('does not modify its input', () => {
    const input = [msg(0, 'z'.repeat(70_000))];
    const copy = structuredClone(input);
    fitSnapshotMessages(input);
    assert.deepEqual(input, copy);
  });

  it('always fits and always keeps a suffix of the conversation (property)', () => {
    const message = fc.record({
      id: fc.nat(),
      content: fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '"', '\\', '\n', '\u0001'), maxLength: 400 }),
      role: fc.constantFrom('user', 'agent'),
      time: fc.constant(TIME),
    });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 14 }), fc.integer({ min: 120, max: 3000 }), (messages, maxBytes) => {
        const tailBytes = Math.floor(maxBytes * 0.8);
        const got = fitSnapshotMessages(messages, { maxBytes, tailBytes });
        const last = messages.at(-1);
        if (last && got.length === 0) {
          // Only allowed when not even the marker alone fits beside the last message's fields.
          const marker = `[...content truncated, showing last ${Math.round(tailBytes / 1024)}KB...]\n\n`;
          assert.ok(bodyBytes([{ ...last, content: marker }]) > maxBytes);
          return;
        }
        assert.ok(got.length <= 10);
        if (got.length > 0) assert.ok(bodyBytes(got) <= maxBytes);
        const suffix = messages.slice(messages.length - got.length);
        got.forEach((m, i) => {
          const original = suffix[i];
          assert.ok(original);
          assert.equal(m.id, original.id);
          if (m.content !== original.content) {
            assert.equal(got.length, 1, 'only a lone message is ever cut');
            assert.ok(original.content.endsWith(m.content.replace(/^\[\.\.\.content truncated[^\]]*\]\n\n/, '')));
          }
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('messagesToLogs', () => {
  it('maps user to input and agent to output, keeping id, content, time and order', () => {
    assert.deepEqual(messagesToLogs([msg(0, 'Welcome', 'agent'), msg(1, 'Hi', 'user'), msg(2, 'Hello!', 'agent')]), [
      { id: 0, content: 'Welcome', type: 'output', time: TIME },
      { id: 1, content: 'Hi', type: 'input', time: TIME },
      { id: 2, content: 'Hello!', type: 'output', time: TIME },
    ]);
    assert.deepEqual(messagesToLogs([]), []);
  });

  it('throws InvalidMessageRoleError for any other role', () => {
    for (const role of ['assistant', 'system', '', 'User']) {
      assert.throws(
        () => messagesToLogs([msg(0, 'ok', 'agent'), msg(7, 'bad', role)]),
        (err: unknown) => err instanceof InvalidMessageRoleError && err.role === role && err.messageId === 7,
      );
    }
  });
});
