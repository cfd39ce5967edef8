import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { goQuote, isGoPrint, isGoSpace, trimSpace } from '../../domain/go-text';
import { utf8ByteLength, utf8Head, utf8Tail } from '../../domain/utf8';

describe('goQuote matches Go strconv.Quote', () => {
  const rows: [string, string][] = [
    ['abc', '"abc"'],
    ['', '""'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
    ['\u00a0\u200b', '"\\u00a0\\u200b"'],
    ['\u{e0001}', '"\\U000e0001"'],
    ['\ud800', '"\\ufffd"'],
    ['héllo 世界 😀', '"héllo 世界 😀"'],
  ];
  for (const [input, expected] of rows) {
    it(JSON.stringify(input), () => assert.equal(goQuote(input), expected));
  }
});

describe('Go whitespace and printability', () => {
  it('isGoSpace follows unicode.IsSpace, not JS \\s', () => {
    for (const ch of [' ', '\t', '\n', '\v', '\f', '\r', '\u0085', '\u00a0', '\u2003', '\u2028', '\u3000']) {
      assert.equal(isGoSpace(ch), true, JSON.stringify(ch));
    }
    for (const ch of ['\ufeff', '\u200b', 'a', '']) assert.equal(isGoSpace(ch), false, JSON.stringify(ch));
  });
  it('isGoPrint accepts letters, marks, numbers, punctuation, symbols and ASCII space only', () => {
    for (const ch of ['a', 'é', '\u0301', '7', '!', '€', '😀', ' ']) assert.equal(isGoPrint(ch), true, ch);
    for (const ch of ['\u00a0', '\t', '\x00', '\u200d', '\ue000']) assert.equal(isGoPrint(ch), false, JSON.stringify(ch));
  });
  it('trimSpace trims Go whitespace only', () => {
    assert.equal(trimSpace('\u0085 x y \u3000'), 'x y');
    assert.equal(trimSpace('\ufeffx'), '\ufeffx');
  });
});

describe('utf8 helpers', () => {
  it('count bytes per code point', () => {
    assert.equal(utf8ByteLength(''), 0);
    assert.equal(utf8ByteLength('a'), 1);
    assert.equal(utf8ByteLength('é'), 2);
    assert.equal(utf8ByteLength('€'), 3);
    assert.equal(utf8ByteLength('😀'), 4);
    assert.equal(utf8ByteLength('\ud800'), 3);
  });
  it('head and tail never split a code point', () => {
    assert.equal(utf8Head('a😀b', 4), 'a');
    assert.equal(utf8Head('a😀b', 5), 'a😀');
    assert.equal(utf8Tail('a😀b', 4), 'b');
    assert.equal(utf8Tail('a😀b', 5), '😀b');
    assert.equal(utf8Tail('abc', 0), '');
  });
  it('agree with Buffer on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.nat(80), (s, n) => {
        assert.equal(utf8ByteLength(s), Buffer.byteLength(s, 'utf8'));
        const head = utf8Head(s, n);
        const tail = utf8Tail(s, n);
        assert.ok(s.startsWith(head) && s.endsWith(tail));
        assert.ok(utf8ByteLength(head) <= n && utf8ByteLength(tail) <= n);
        // Maximal: one more code point would not fit (or there is none).
        const nextHead = Array.from(s.slice(head.length))[0];
        if (nextHead) assert.ok(utf8ByteLength(head + nextHead) > n);
        const prevTail = Array.from(s.slice(0, s.length - tail.length)).at(-1);
        if (prevTail) assert.ok(utf8ByteLength(prevTail + tail) > n);
      }),
      { numRuns: 1000 },
    );
  });
});
